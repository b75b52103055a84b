#!/usr/bin/python3
"""The file-system part of `make bench` (issue 11): small-file operations
per second and sequential file MB/s in a Paravane guest (newlib's calls
through the libOS's POSIX layer, libext2fs, the PV block device) next to
a Linux VM (ext4 in Debian's cloud kernel) on the same kind of disk in the
same QEMU, measured in this run.

Called from bench.py's main(); runs on its own too:
    PARAVANE_BUILD=$PWD/build/bench /usr/bin/python3 tests/bench/file_bench.py

Both sides run tests/guests/fsbench/main.c, the same lines: in the guest
as the fsbench app, in the Linux VM built here with `gcc -static`.  Each
starts from the same fresh ext4 made on the host by mkfs.ext4 (defaults:
4 KiB blocks, journal, metadata_csum) on a DISK_MIB MiB raw image, attached
as virtio-blk exactly as block_bench.py attaches its disk.  Linux mounts
it with its defaults (data=ordered, a journal); the guest's libOS mounts it
without one (docs/files.md).  Each program times itself; Linux drops its
page cache before each read phase (the libOS's cache is 2 MiB).
"""
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sdk" / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import block_bench  # noqa: E402
import linux_vm  # noqa: E402
import pvrun  # noqa: E402
import qemu  # noqa: E402

DISK_MIB = 256
ARGS = "files=1000 size=4096 mib=64"
BASE = block_bench.MODULES              # virtio_blk and what it needs
FS_ROOTS = ["ext4"]                     # plus their dependencies, found by modinfo

INIT = """#!/bin/busybox sh
B=/bin/busybox
$B mkdir -p /proc /sys /dev /mnt
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
for m in %s; do $B insmod /lib/modules/$m.ko; done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do $B sleep 0.1; i=$((i+1)); done
$B mount -t ext4 /dev/vda /mnt || echo "fsbench: FAIL mount"
/fsbench /mnt %s
echo "linuxvm: bench exit $?"
$B umount /mnt
$B poweroff -f
"""

MANIFEST = """
[hypervisor]
poweroff_when_idle = yes
[guest fsb]
image = fsbench.elf
memory = 32M
cmdline = "fsbench /data %s"
block = disk:0, name=data
mount = /data:data
"""


def parse(log, prefix):
    """{phase: (ops, bytes, ns)} from '<prefix>fsbench: ...' lines, or a
    string saying what failed."""
    got = {}
    for m in re.finditer(r"^%sfsbench: (\S+)(.*)$" % re.escape(prefix), log, re.M):
        if m.group(1) == "FAIL":
            return m.group(0)[:100]
        kv = dict(w.split("=", 1) for w in m.group(2).split())
        if m.group(1) != "done":
            got[m.group(1)] = (int(kv["ops"]), int(kv["bytes"]), int(kv["ns"]))
    if not re.search(r"^%sfsbench: done$" % re.escape(prefix), log, re.M):
        return "no result (%d phases)" % len(got)
    return got


def make_disk(tmp):
    p = Path(tmp) / "fs.img"
    with open(p, "wb") as f:
        f.truncate(DISK_MIB << 20)
    mkfs = shutil.which("mkfs.ext4") or "/usr/sbin/mkfs.ext4"
    subprocess.run([mkfs, "-q", "-F", str(p)], check=True, capture_output=True)
    return p


def measure_paravane(build):
    with tempfile.TemporaryDirectory() as tmp:
        img = pvrun.make_image(tmp, build, MANIFEST % ARGS, [pvrun.guest_image(build, "fsbench")])
        r = qemu.run(str(img), timeout=block_bench.TIMEOUT_S, drives=[(make_disk(tmp), "virtio")])
    got = parse(r.log, "fsb| ")
    if isinstance(got, str):
        print("file_bench: Paravane run: %s\n%s" % (got, r.log[-3000:]), file=sys.stderr)
    return got


# ---- the Linux VM ---------------------------------------------------------------

def depends(x, name):
    """name's module dependencies (modinfo), deepest first, then name;
    nothing when it is built into the kernel (Debian's cloud kernel has
    ext4 built in)."""
    ko = next(x.glob("lib/modules/*/kernel/**/%s.ko" % name), None)
    if ko is None:
        return []
    deps = subprocess.run(["/sbin/modinfo", "-F", "depends", str(ko)], capture_output=True,
                          text=True, check=True).stdout.strip()
    out = []
    for d in filter(None, deps.split(",")):
        out += [m for m in depends(x, d) if m not in out]
    return out + [name]


def linux_parts(build):
    """Debian's kernel, busybox, virtio_blk and ext4 with its modules."""
    d = Path(build) / "linuxvm-fs"
    if (d / "modules.txt").exists():
        return d, (d / "modules.txt").read_text().split()
    x = linux_vm.fetch_debian(d)
    mods = list(BASE)
    for root in FS_ROOTS:
        mods += [m for m in depends(x, root) if m not in mods]
    shutil.copyfile(next(x.glob("boot/vmlinuz-*")), d / "vmlinuz")
    shutil.copyfile(x / "bin/busybox", d / "busybox")
    for m in mods:
        (d / ("%s.ko" % m)).write_bytes(linux_vm.module(x, m))
    shutil.rmtree(x)
    (d / "modules.txt").write_text(" ".join(mods))
    return d, mods


def linux_initrd(d, mods, out):
    tool = d / "fsbench"
    subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o", str(tool),
                    str(ROOT / "tests/guests/fsbench/main.c")], check=True, capture_output=True)
    entries = [("bin", 0o40755, b""), ("lib", 0o40755, b""), ("lib/modules", 0o40755, b""),
               ("bin/busybox", 0o100755, (d / "busybox").read_bytes()),
               ("fsbench", 0o100755, tool.read_bytes()),
               ("init", 0o100755, (INIT % (" ".join(mods), ARGS)).encode())]
    for m in mods:
        entries.append(("lib/modules/%s.ko" % m, 0o100644, (d / ("%s.ko" % m)).read_bytes()))
    out.write_bytes(gzip.compress(linux_vm.cpio_newc(entries)))
    return out


def measure_linux(build):
    try:
        d, mods = linux_parts(build)
    except Exception as e:          # no packages (offline): say so, measure the rest
        return "unavailable (%s)" % (str(e).splitlines() or [type(e).__name__])[0][:60]
    with tempfile.TemporaryDirectory() as tmp:
        initrd = linux_initrd(d, mods, Path(tmp) / "initrd.gz")
        cmd = linux_vm.base_command(d / "vmlinuz", initrd) + qemu.drive_args([(make_disk(tmp), "virtio")])
        lines, _ = block_bench.run_timed(cmd, "linuxvm: bench exit")
    got = parse("\n".join(lines), "")
    if isinstance(got, str):
        print("file_bench: Linux run: %s\n%s" % (got, "\n".join(lines)[-3000:]), file=sys.stderr)
    return got


def measure(build):
    return {"paravane": measure_paravane(build), "linux": measure_linux(build)}


# ---- the table --------------------------------------------------------------------

def rate(r, phase, per_bytes):
    if isinstance(r, str) or phase not in r:
        return None
    ops, nbytes, ns = r[phase]
    return (nbytes / 1e6 if per_bytes else ops) / (ns / 1e9)


def print_files(r):
    print("Files (QEMU TCG, q35, -m 512M, -smp 1; a fresh %d MiB ext4 by mkfs.ext4 on a raw virtio-blk"
          % DISK_MIB)
    print("disk).  The same program, tests/guests/fsbench (%s): Paravane through newlib, the" % ARGS)
    print("libOS's POSIX layer and libext2fs; Linux VM: ext4, data=ordered.  ratio = Paravane / Linux.")
    block_bench.row("figure", "Paravane", "Linux VM", "ratio", "unit", "notes")
    block_bench.row("-" * 36, "-" * 10, "-" * 10, "-" * 7, "-" * 6, "")
    for phase, label, per_bytes, unit, note in (
            ("create", "create 4 KiB files (+ sync)", False, "files/s", ""),
            ("read", "read 4 KiB files", False, "files/s", "Linux: cache dropped"),
            ("delete", "delete files (+ sync)", False, "files/s", ""),
            ("durable", "write+fsync+rename 4 KiB files", False, "files/s", "a commit each"),
            ("write", "sequential write 64 MiB (+ fsync)", True, "MB/s", "goal >= 0.7x"),
            ("seqread", "sequential read 64 MiB", True, "MB/s", "goal >= 0.7x")):
        pv, lin = rate(r["paravane"], phase, per_bytes), rate(r["linux"], phase, per_bytes)
        fmt = "%.1f" if per_bytes else "%.0f"
        block_bench.row(label, fmt % pv if pv else "-", fmt % lin if lin else "-",
                        "%.2fx" % (pv / lin) if pv and lin else "-", unit, note)
    for side in ("paravane", "linux"):
        if isinstance(r[side], str):
            print("  %s: %s" % (side, r[side]))
    print()


def main():
    build = Path(os.environ.get("PARAVANE_BUILD", ROOT / "build" / "bench"))
    print_files(measure(build))


if __name__ == "__main__":
    with qemu.stop_signals():
        try:
            main()
        except qemu.Stopped as s:
            print("file_bench: stopped by %s" % s, file=sys.stderr)
            sys.exit(s.exit_code)
