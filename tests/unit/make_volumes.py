#!/usr/bin/python3
"""Disk images for test_lvm2 and test_gpt, made by the real tools.

    make_volumes.py OUTDIR [lvm] [gpt]

writes (for lvm) OUTDIR/pv0.img, pv1.img (one LVM2 volume group "tvg" over two PVs),
wrap.img (a VG whose current metadata wraps around its metadata area),
part.img (a VG on a PV in a GPT partition of type Linux LVM),
(for gpt) gpt.img (named GPT partitions), gpt4k.img (a GPT in 4096-byte
LBAs, for a disk with 4 KiB logical blocks), and OUTDIR/expect.txt, the extents the
tools themselves report (lvs, pvs, sgdisk -i), one case a line:

    lvm VG LV DISK START SECTORS [START SECTORS ...]   extents on disk DISK
    lvmro VG LV DISK START SECTORS ...                 as lvm, opened read-only
    lvmerr VG LV WORDS...                              must be refused so
    wrap VG LV DISK START SECTORS                      as lvm, after a wrap
    part VG LV DISK START SECTORS                      as lvm, a PV in a partition
    gpt NAME GUID START SECTORS                        a partition
    gpt4k NAME GUID START SECTORS                      one on a 4096-byte-block disk

LVM2 runs without device-mapper (--driverloaded n, LVs never activated)
and sees only the loop devices made here (a devices filter).  Every loop
device is detached and the images removed by the caller.  Needs root and
losetup; says so and exits 2 without them.
"""
import os
import re
import shutil
import subprocess
import sys

ENV = dict(os.environ, LVM_SUPPRESS_FD_WARNINGS="1")


def die(msg):
    print("make_volumes: " + msg, file=sys.stderr)
    sys.exit(2)


def run(*args):
    r = subprocess.run(args, env=ENV, capture_output=True, text=True)
    if r.returncode != 0:
        die("%s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r.stdout


class Lvm:
    """lvm2 commands confined to our loop devices, never touching the kernel."""

    def __init__(self, loops):
        accept = ",".join('"a|^%s$|"' % l for l in loops)
        self.cfg = 'devices { use_devicesfile=0 filter=[%s,"r|.*|"] } ' \
                   'global { use_lvmlockd=0 } backup { backup=0 archive=0 }' % accept

    def __call__(self, cmd, *args):
        return run(cmd, "--driverloaded", "n", "--config", self.cfg, *args)


def lv_extents(lvm, vg, loops, base=0):
    """{lv: [(disk, first_sector, sectors, segtype, stripes), ...]} from lvs;
    base: where the PVs start on their disks (a partition's first sector)."""
    pe_start = {}
    for line in lvm("pvs", "--noheadings", "--units", "s", "--nosuffix",
                    "--separator", "|", "-o", "pv_name,pe_start").splitlines():
        name, start = line.strip().split("|")
        pe_start[name] = int(start)
    out = {}
    for line in lvm("lvs", "--noheadings", "--units", "s", "--nosuffix", "--separator", "|",
                    "-o", "lv_name,seg_start_pe,seg_size_pe,seg_pe_ranges,vg_extent_size,"
                    "segtype,stripes", vg).splitlines():
        lv, _start, size, ranges, es, segtype, stripes = line.strip().split("|")
        es, size = int(es), int(size)
        for rng in ranges.split():
            dev, pes = rng.rsplit(":", 1)
            first = int(pes.split("-")[0])
            out.setdefault(lv, []).append(
                (loops.index(dev), base + pe_start[dev] + first * es, size * es, segtype,
                 int(stripes)))
    return out


def merged(extents):
    """Adjacent extents on the disk become one, as the hypervisor merges them."""
    res = []
    for _d, start, n, _t, _s in extents:
        if res and res[-1][0] + res[-1][1] == start:
            res[-1][1] += n
        else:
            res.append([start, n])
    return res


def make_lvm(out, loops, expect):
    lvm = Lvm(loops)
    lvm("pvcreate", "-q", loops[0], loops[1])
    lvm("vgcreate", "-q", "-s", "1m", "tvg", loops[0], loops[1])
    def lvc(*a):
        lvm("lvcreate", "-q", "-an", "-Zn", "-y", *a)
    lvc("-L", "4m", "-n", "a", "tvg", loops[0])
    lvc("-L", "3m", "-n", "b", "tvg", loops[0])
    lvm("lvextend", "-q", "-L", "+2m", "tvg/a", loops[0])     # a: two segments
    lvc("-L", "2m", "-n", "c", "tvg", loops[0])
    lvm("lvextend", "-q", "-L", "+1m", "tvg/a", loops[0])     # a: three
    lvm("lvextend", "-q", "-L", "+1m", "tvg/c", loops[0])     # c: contiguous, merged
    lvc("-i", "2", "-I", "64k", "-L", "2m", "-n", "striped", "tvg")
    lvc("-L", "2m", "-n", "span", "tvg", loops[0])
    lvm("lvextend", "-q", "-L", "+1m", "tvg/span", loops[1])
    lvc("-L", "1m", "-n", "other", "tvg", loops[1])            # wholly on disk 1
    lvc("-L", "1m", "-n", "rdonly", "tvg", loops[0])
    lvm("lvchange", "-q", "-pr", "tvg/rdonly")                 # LVM2's read-only flag
    ext = lv_extents(lvm, "tvg", loops)
    for lv in ("a", "b", "c", "other", "rdonly"):
        disk = ext[lv][0][0]
        flat = " ".join("%d %d" % (s, n) for s, n in merged(ext[lv]))
        expect.append("%s tvg %s %d %s" % ("lvmro" if lv == "rdonly" else "lvm", lv, disk, flat))
    assert len(ext["a"]) == 3 and ext["striped"][0][4] == 2, ext
    expect.append("lvmerr tvg striped is striped")
    expect.append("lvmerr tvg span several disks")
    expect.append("lvmerr tvg nosuch no such logical volume")
    expect.append("lvmerr novg a no volume group novg")
    expect.append("lvmerr tvg rdonly is read-only in LVM2 (use ro)")


def mda_wraps(img):
    """Does the current metadata (mda0: header at 4096) wrap past the area's end?"""
    with open(img, "rb") as f:
        f.seek(4096)
        h = f.read(512)
    size = int.from_bytes(h[32:40], "little")
    off = int.from_bytes(h[40:48], "little")
    length = int.from_bytes(h[48:56], "little")
    return off + length > size


def make_wrap(out, loop, img, expect):
    """Small metadata area, then metadata changes until the text wraps."""
    lvm = Lvm([loop])
    lvm("pvcreate", "-q", "--metadatasize", "32k", loop)
    lvm("vgcreate", "-q", "-s", "1m", "wvg", loop)
    lvm("lvcreate", "-q", "-an", "-Zn", "-y", "-L", "2m", "-n", "w", "wvg")
    for i in range(200):
        if mda_wraps(img):
            break
        lvm("lvchange", "-q", "--addtag", "t%d_%s" % (i, "x" * 40), "wvg/w")
    else:
        die("the metadata never wrapped")
    (d, s, n, _t, _s), = lv_extents(lvm, "wvg", [loop])["w"]
    expect.append("wrap wvg w %d %d %d" % (d, s, n))


def make_part_pv(out, img, expect):
    """A PV inside a GPT partition of type Linux LVM (8E00), after another one."""
    run("sgdisk", "-o", "-n", "1:2048:+1M", "-c", "1:boot",
        "-n", "2:0:0", "-t", "2:8E00", "-c", "2:lvm", img)
    info = run("sgdisk", "-i", "2", img)
    first = int(re.search(r"First sector: (\d+)", info).group(1))
    last = int(re.search(r"Last sector: (\d+)", info).group(1))
    r = subprocess.run(["losetup", "-f", "--show", "-o", str(first * 512), "--sizelimit",
                        str((last - first + 1) * 512), img], capture_output=True, text=True)
    if r.returncode != 0:
        die("losetup cannot attach a loop device (%s)" % r.stderr.strip())
    loop = r.stdout.strip()
    try:
        lvm = Lvm([loop])
        lvm("pvcreate", "-q", loop)
        lvm("vgcreate", "-q", "-s", "1m", "pvg", loop)
        lvm("lvcreate", "-q", "-an", "-Zn", "-y", "-L", "2m", "-n", "x", "pvg")
        lvm("lvcreate", "-q", "-an", "-Zn", "-y", "-L", "3m", "-n", "y", "pvg")
        ext = lv_extents(lvm, "pvg", [loop], base=first)
    finally:
        subprocess.run(["losetup", "-d", loop])
    for lv in ("x", "y"):
        flat = " ".join("%d %d" % (s, n) for s, n in merged(ext[lv]))
        expect.append("part pvg %s 0 %s" % (lv, flat))


def make_gpt(img, expect):
    run("sgdisk", "-o",
        "-n", "1:2048:+8M", "-c", "1:data",
        "-n", "2:0:+4M", "-c", "2:logs",
        "-n", "3:0:+1M", "-c", "3:a-much-longer-partition-name.x",
        img)
    for n in (1, 2, 3):
        info = run("sgdisk", "-i", str(n), img)
        guid = re.search(r"Partition unique GUID: (\S+)", info).group(1)
        first = int(re.search(r"First sector: (\d+)", info).group(1))
        last = int(re.search(r"Last sector: (\d+)", info).group(1))
        name = re.search(r"Partition name: '(.*)'", info).group(1)
        expect.append("gpt %s %s %d %d" % (name, guid, first, last - first + 1))


def make_lvm_images(out, imgs, expect):
    loops = []
    try:
        for img in imgs:
            r = subprocess.run(["losetup", "-f", "--show", img], capture_output=True, text=True)
            if r.returncode != 0:
                die("losetup cannot attach a loop device (%s): the LVM2 tests need "
                    "loop devices" % r.stderr.strip())
            loops.append(r.stdout.strip())
        make_lvm(out, loops[:2], expect)
        make_wrap(out, loops[2], imgs[2], expect)
    finally:
        for l in loops:
            subprocess.run(["losetup", "-d", l])


def make_gpt_4k(img, expect):
    """A GPT on a disk with 4096-byte logical blocks: sgdisk on a loop device
    with that sector size, so its LBAs count 4 KiB (expect: 512-byte sectors)."""
    r = subprocess.run(["losetup", "-f", "--show", "-b", "4096", img],
                       capture_output=True, text=True)
    if r.returncode != 0:
        die("losetup cannot attach a 4096-byte-sector loop device (%s)" % r.stderr.strip())
    loop = r.stdout.strip()
    try:
        run("sgdisk", "-o", "-n", "1:0:+4M", "-c", "1:four", "-n", "2:0:+2M", "-c", "2:k", loop)
        for n in (1, 2):
            info = run("sgdisk", "-i", str(n), loop)
            guid = re.search(r"Partition unique GUID: (\S+)", info).group(1)
            first = int(re.search(r"First sector: (\d+)", info).group(1))
            last = int(re.search(r"Last sector: (\d+)", info).group(1))
            name = re.search(r"Partition name: '(.*)'", info).group(1)
            expect.append("gpt4k %s %s %d %d" % (name, guid, first * 8, (last - first + 1) * 8))
    finally:
        subprocess.run(["losetup", "-d", loop])


def main():
    parts = set(sys.argv[2:]) or {"lvm", "gpt"}
    if len(sys.argv) < 2 or not parts <= {"lvm", "gpt"}:
        die("usage: make_volumes.py OUTDIR [lvm] [gpt]")
    out = sys.argv[1]
    needed = ["losetup", "sgdisk"] + (["pvcreate"] if "lvm" in parts else [])
    for tool in needed:
        if not shutil.which(tool):
            die("%s is not installed (Debian packages util-linux, lvm2, gdisk; "
                "sdk/tools/ensure-deps.sh installs them)" % tool)
    if os.geteuid() != 0:
        die("needs root for losetup (loop devices for pvcreate and 4K-sector sgdisk)")
    os.makedirs(out, exist_ok=True)
    imgs = [os.path.join(out, n) for n in ("pv0.img", "pv1.img", "wrap.img", "gpt.img",
                                          "part.img", "gpt4k.img")]
    for img in imgs:
        with open(img, "wb") as f:
            f.truncate(32 << 20)
    expect = []
    if "lvm" in parts:
        make_lvm_images(out, imgs[:3], expect)
        make_part_pv(out, imgs[4], expect)
    if "gpt" in parts:
        make_gpt(imgs[3], expect)
        make_gpt_4k(imgs[5], expect)
    with open(os.path.join(out, "expect.txt"), "w") as f:
        f.write("\n".join(expect) + "\n")


if __name__ == "__main__":
    main()
