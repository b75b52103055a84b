#!/usr/bin/python3
"""The block storage part of `make bench` (issue 10): a Paravane guest's
PV block device next to a Linux VM, on the same kind of disk in the same
QEMU, measured in this run.

Called from bench.py's main(); runs on its own too:
    PARAVANE_BUILD=$PWD/build/bench /usr/bin/python3 tests/bench/block_bench.py

Both sides run the same program, line for line, with the same options:
  Paravane  tests/guests/blkbench: libos's pv_blk (the async API), the
            hypervisor's block backend, its virtio-blk driver.
  Linux     tests/bench/linux_blkbench.c, built here with `gcc -static`,
            in Debian's cloud kernel with busybox (linux_vm.py) as init:
            /dev/vda opened O_DIRECT (no page cache), Linux native AIO
            (io_submit / io_getevents) for the requests in flight,
            fdatasync() for a flush.
Each times itself (pv_monotonic_ns / clock_gettime), so boot time is not
in any figure.  The machine: QEMU TCG, q35, -cpu max, -m 512M, -smp 1;
one DISK_MIB MiB raw image, fresh and sparse, in a temporary directory,
as `-drive file=IMG,if=none,id=xd0,format=raw -device
virtio-blk-pci,drive=xd0,disable-legacy=on` (qemu.drive_args, as
test_block.py attaches disks; QEMU's default cache=writeback, aio=threads).

The phases, in order (blkbench's options in MAIN): sequential write of
the first SEQ_MIB MiB in 56 KiB requests (the ABI's 14 segments of
4 KiB), 8 in flight; sequential read of it; 4 KiB random reads inside it
for RAND_MS at queue depth 1, then 32; FLUSHES times a 4 KiB write then a
flush.  Then LIMITS, which vary one parameter each to show what limits
the figures (docs/benchmarks.md, "Block storage").
"""
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sdk" / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import linux_vm  # noqa: E402
import pvrun  # noqa: E402
import qemu  # noqa: E402

DISK_MIB = 128
SEQ_MIB = 64
RAND_MS = 3000
FLUSHES = 200
# blkbench's defaults are req=56 depth=8 qd=1,32 phases=wrRf (the command
# line holds 255 bytes: only what differs is written)
MAIN = "mib=%d rand_ms=%d flushes=%d" % (SEQ_MIB, RAND_MS, FLUSHES)
# (label, options): one parameter changed from MAIN each
LIMITS = [
    ("seq read, 4 KiB requests x 32", "phases=r mib=32 req=4 depth=32"),
    ("seq read, 56 KiB x 1 in flight", "phases=r mib=32 depth=1"),
    ("seq read, 56 KiB x 2 in flight", "phases=r mib=32 depth=2"),
    ("seq read, 56 KiB x 32 in flight", "phases=r mib=32 depth=32"),
    ("4 KiB random read, QD 8 / 64", "phases=R qd=8,64"),
    ("seq write, 4 KiB requests x 32", "phases=w mib=32 req=4 depth=32"),
    ("memcpy in the VM, 4 KiB pieces", "phases=c req=4"),
]
TIMEOUT_S = 900

MODULES = ["virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev",
           "virtio_pci", "virtio_blk"]

INIT = """#!/bin/busybox sh
B=/bin/busybox
$B mkdir -p /proc /sys /dev
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
for m in %s; do $B insmod /lib/modules/$m.ko; done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do $B sleep 0.1; i=$((i+1)); done
Q=/sys/block/vda/queue
echo "linuxvm: scheduler $($B cat $Q/scheduler) max_sectors_kb=$($B cat $Q/max_sectors_kb) max_segments=$($B cat $Q/max_segments)"
/linux_blkbench /dev/vda %s
echo "linuxvm: bench exit $?"
$B poweroff -f
"""


def args():
    """blkbench's options after the device: MAIN, then each of LIMITS."""
    return " -- ".join([MAIN] + [opts for _, opts in LIMITS])


def parse(log, prefix):
    """Groups of figures from lines '<prefix>blkbench: ...': a list (one per
    option group) of {("seq", op, req, depth): ..., ("rand", qd): ...,
    "flush": {...}}, or a string saying what failed."""
    groups = []
    for m in re.finditer(r"^%sblkbench: (.*)$" % re.escape(prefix), log, re.M):
        words = m.group(1).split()
        if words[0] == "FAIL":
            return m.group(1)[:80]
        if words[0] == "group":
            groups.append({})
            continue
        if not groups or words[0] == "done":
            continue
        kv = {k: int(v) if v.isdigit() else v for k, v in (w.split("=", 1) for w in words[1:])}
        if words[0] == "seq":
            groups[-1][("seq", kv["op"], kv["req"], kv["depth"])] = kv["bytes"] * 1e3 / kv["ns"]
        elif words[0] == "rand":
            groups[-1][("rand", kv["qd"])] = kv["ops"] * 1e9 / kv["ns"]
        elif words[0] == "memcpy":
            groups[-1][("memcpy", kv["req"])] = kv["bytes"] * 1e3 / kv["ns"]
        elif words[0] == "flush":
            groups[-1]["flush"] = {k: kv[k] / 1e3 for k in ("p50_ns", "p90_ns", "write_p50_ns")}
    if not re.search(r"^%sblkbench: done$" % re.escape(prefix), log, re.M):
        return "no result (%d groups)" % len(groups)
    return groups


def clock_check(lines, times, prefix):
    """The program's own ns figures added up, over the host's wall time
    from its first to its last line: near 1.0 when its clock is true
    (what it does between phases is not timed, so a little under 1)."""
    own = sum(int(m) for line in lines for m in re.findall(r" ns=(\d+)", line)
              if line.startswith(prefix + "blkbench: "))
    at = [t for line, t in zip(lines, times) if line.startswith(prefix + "blkbench: ")]
    return own / 1e9 / (at[-1] - at[0]) if len(at) > 1 and at[-1] > at[0] else None


def make_disk(tmp):
    p = Path(tmp) / "disk.img"
    with open(p, "wb") as f:
        f.truncate(DISK_MIB << 20)
    return p


# ---- Paravane ----------------------------------------------------------------

MANIFEST = """
[hypervisor]
poweroff_when_idle = yes
[guest blk]
image = blkbench.elf
memory = 16M
cmdline = "blkbench data %s"
block = disk:0, name=data
"""


def measure_paravane(build):
    with tempfile.TemporaryDirectory() as tmp:
        img = pvrun.make_image(tmp, build, MANIFEST % args(), [pvrun.guest_image(build, "blkbench")])
        r = qemu.run(str(img), timeout=TIMEOUT_S, drives=[(make_disk(tmp), "virtio")])
    got = parse(r.log, "blk| ")
    if isinstance(got, str) or r.hv_status != 0:
        print("block_bench: Paravane run: %s\n%s" % (r, r.log[-3000:]), file=sys.stderr)
        return got if isinstance(got, str) else "hypervisor status %s" % r.hv_status
    got[0]["clock"] = clock_check(r.lines, r.times, "blk| ")
    return got


# ---- the Linux VM -------------------------------------------------------------

def linux_parts(build):
    """Debian's kernel, busybox and the modules, cached in the build."""
    d = Path(build) / "linuxvm-blk"
    want = [d / "vmlinuz", d / "busybox"] + [d / ("%s.ko" % m) for m in MODULES]
    if all(p.exists() for p in want):
        return d
    x = linux_vm.fetch_debian(d)
    shutil.copyfile(next(x.glob("boot/vmlinuz-*")), d / "vmlinuz")
    shutil.copyfile(x / "bin/busybox", d / "busybox")
    for m in MODULES:
        (d / ("%s.ko" % m)).write_bytes(linux_vm.module(x, m))
    shutil.rmtree(x)
    return d


def linux_initrd(d, out):
    """The initramfs: busybox, the modules, linux_blkbench (compiled now,
    from this tree) and an init that runs it once."""
    tool = d / "linux_blkbench"
    subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o", str(tool),
                    str(ROOT / "tests/bench/linux_blkbench.c")], check=True, capture_output=True)
    entries = [("bin", 0o40755, b""), ("lib", 0o40755, b""), ("lib/modules", 0o40755, b""),
               ("bin/busybox", 0o100755, (d / "busybox").read_bytes()),
               ("linux_blkbench", 0o100755, tool.read_bytes()),
               ("init", 0o100755, (INIT % (" ".join(MODULES), args())).encode())]
    for m in MODULES:
        entries.append(("lib/modules/%s.ko" % m, 0o100644, (d / ("%s.ko" % m)).read_bytes()))
    out.write_bytes(gzip.compress(linux_vm.cpio_newc(entries)))
    return out


def measure_linux(build):
    try:
        d = linux_parts(build)
    except Exception as e:          # no packages (offline): say so, measure the rest
        return "unavailable (%s)" % str(e).splitlines()[0][:60]
    with tempfile.TemporaryDirectory() as tmp:
        initrd = linux_initrd(d, Path(tmp) / "initrd.gz")
        cmd = linux_vm.base_command(d / "vmlinuz", initrd) + qemu.drive_args([(make_disk(tmp), "virtio")])
        lines, times = run_timed(cmd, "linuxvm: bench exit")
    log = "\n".join(lines)
    got = parse(log, "")
    if isinstance(got, str):
        print("block_bench: Linux run: %s\n%s" % (got, log[-3000:]), file=sys.stderr)
        return got
    got[0]["clock"] = clock_check(lines, times, "")
    return got


def run_timed(cmd, until):
    """Run QEMU (cmd) until a line starts with until, or TIMEOUT_S: its
    serial lines and the host time each arrived.  Only this QEMU is stopped."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    lines, times, t0 = [], [], time.monotonic()
    killer = threading.Timer(TIMEOUT_S, proc.kill)
    killer.start()
    try:
        for raw in proc.stdout:
            lines.append(qemu.clean(raw.decode(errors="replace")).rstrip("\n"))
            times.append(time.monotonic() - t0)
            if lines[-1].startswith(until):
                break
    finally:
        killer.cancel()
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    return lines, times


def measure(build):
    return {"paravane": measure_paravane(build), "linux": measure_linux(build)}


# ---- the table ----------------------------------------------------------------

def row(name, pv, lin, ratio, unit, notes=""):
    print("| %-36s | %10s | %10s | %7s | %-6s | %s" % (name, pv, lin, ratio, unit, notes))


def pick(r, group, key, sub=None):
    """A figure, or the failure string of its run."""
    if isinstance(r, str):
        return r
    v = r[group].get(key) if group < len(r) else None
    if v is None:
        return "missing"
    return v[sub] if sub else v


def show(v, fmt):
    return v if isinstance(v, str) else fmt % v


def ratio(pv, lin, higher_better=True):
    if isinstance(pv, str) or isinstance(lin, str) or not pv or not lin:
        return "-"
    return "%.2fx" % (pv / lin if higher_better else lin / pv)


def figure(r, name, group, key, fmt, unit, notes="", sub=None, higher_better=True):
    pv, lin = pick(r["paravane"], group, key, sub), pick(r["linux"], group, key, sub)
    row(name, show(pv, fmt), show(lin, fmt), ratio(pv, lin, higher_better), unit, notes)


def print_main(r):
    seq = lambda op: ("seq", op, 56 * 1024, 8)   # noqa: E731
    figure(r, "sequential write, 56 KiB x 8", 0, seq("write"), "%.1f", "MB/s", "goal >= 0.8x")
    figure(r, "sequential read, 56 KiB x 8", 0, seq("read"), "%.1f", "MB/s", "goal >= 0.8x")
    figure(r, "4 KiB random read, QD 1", 0, ("rand", 1), "%.0f", "IOPS", "goal >= 0.8x")
    figure(r, "4 KiB random read, QD 32", 0, ("rand", 32), "%.0f", "IOPS", "goal >= 0.8x")
    for sub, name in (("p50_ns", "write 4 KiB + flush, p50"), ("p90_ns", "write 4 KiB + flush, p90"),
                      ("write_p50_ns", "  the write alone, p50")):
        figure(r, name, 0, "flush", "%.0f", "us", "ratio: Linux / Paravane time", sub, False)


def print_limits(r):
    keys = [("seq", "read", 4096, 32), ("seq", "read", 57344, 1), ("seq", "read", 57344, 2),
            ("seq", "read", 57344, 32)]
    for g, ((label, _), key) in enumerate(zip(LIMITS, keys), 1):
        figure(r, label, g, key, "%.1f", "MB/s", "32 MiB")
    g = 5                           # LIMITS[4]: the random reads
    figure(r, "4 KiB random read, QD 8", g, ("rand", 8), "%.0f", "IOPS")
    figure(r, "4 KiB random read, QD 64", g, ("rand", 64), "%.0f", "IOPS", "Paravane: 32 disk I/Os/device")
    figure(r, LIMITS[-2][0], g + 1, ("seq", "write", 4096, 32), "%.1f", "MB/s", "32 MiB")
    figure(r, LIMITS[-1][0], g + 2, ("memcpy", 4096), "%.0f", "MB/s", copy_share(r, g + 2))
    pv, lin = (show(pick(r[k], 0, "clock"), "%.2f") for k in ("paravane", "linux"))
    row("clock check: own ns / host wall", pv, lin, "-", "", "timed phases over the run (< 1: untimed gaps)")


def copy_share(r, g):
    """How much of Paravane's sequential read time one copy of the data
    takes, at the guest's own memcpy rate (the backend copies each byte
    once, from its bounce frame into the guest)."""
    rd, cp = pick(r["paravane"], 0, ("seq", "read", 56 * 1024, 8)), pick(r["paravane"], g, ("memcpy", 4096))
    if isinstance(rd, str) or isinstance(cp, str) or not cp:
        return ""
    return "one copy = %.0f%% of Paravane's seq read time" % (100 * rd / cp)


def print_block(r):
    print("Block storage (QEMU TCG, q35, -m 512M, -smp 1; one %d MiB raw virtio-blk disk, cache=writeback):"
          % DISK_MIB)
    print("Paravane: blkbench on pv_blk (async API).  Linux VM: Debian cloud kernel, linux_blkbench,")
    print("O_DIRECT + native AIO.  Both time themselves; ratio = Paravane / Linux (goal >= 0.8x).")
    row("figure", "Paravane", "Linux VM", "ratio", "unit", "notes")
    row("-" * 36, "-" * 10, "-" * 10, "-" * 7, "-" * 6, "")
    print_main(r)
    print("What limits it (one parameter varied; same runs):")
    print_limits(r)
    print()


def main():
    build = Path(os.environ.get("PARAVANE_BUILD", ROOT / "build" / "bench"))
    print_block(measure(build))


if __name__ == "__main__":
    with qemu.stop_signals():
        try:
            main()
        except qemu.Stopped as s:
            print("block_bench: stopped by %s" % s, file=sys.stderr)
            sys.exit(s.exit_code)
