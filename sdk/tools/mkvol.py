#!/usr/bin/env python3
"""Fill a volume of a disk image with an ext4 (or ext2) file system made
from a host directory.

    mkvol.py disk.img gpt:data  www/
    mkvol.py disk.img lvm:vg0/web www/ --type ext2 --block-size 1024

SPEC is the manifest's block spec (docs/manifest.md): gpt:NAME,
gpt:GUID, lvm:VG/LV (a linear LV on a PV that is the whole image or a
Linux LVM partition of it) or disk:0 (the whole image).  The file system
is made by the real mke2fs (`mkfs.ext4 -d DIR`) in a temporary file of
exactly the volume's size, then copied into the image at the volume's
place: the partition's sectors as sgdisk reports them, or the LV's
segments as lvm2's lvs and pvs report them (through loop devices, with
device-mapper left out, as mkdisk.py does: needs root).  Whatever the
volume held before is gone; the image stays sparse.  The root directory
is owned by 0:0 (mke2fs -E root_owner=0:0); other files keep the owner
they have on the host.  sdk/tools/mkdisk.py --fs calls this too.
See docs/storage.md.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

from disktools import Error, lvm_config, need, run

GUID_RE = re.compile(r"^[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}$")
LVM_CODE = "E6D6D379-F507-44C2-A23C-238F2A3DF928"
CHUNK = 1 << 20


def gpt_partitions(img):
    """[{num, first, sectors, name, guid, type}] as sgdisk reports them."""
    need("sgdisk", "gdisk")
    out = []
    for num in re.findall(r"^\s+(\d+)\s+\d+\s+\d+\s", run("sgdisk", "-p", img), re.M):
        info = run("sgdisk", "-i", num, img)
        first = int(re.search(r"First sector: (\d+)", info).group(1))
        last = int(re.search(r"Last sector: (\d+)", info).group(1))
        out.append({"num": int(num), "first": first, "sectors": last - first + 1,
                    "name": re.search(r"Partition name: '(.*)'", info).group(1),
                    "guid": re.search(r"unique GUID: (\S+)", info).group(1).upper(),
                    "type": re.search(r"GUID code: (\S+)", info).group(1).upper()})
    return out


def has_gpt(img):
    with open(img, "rb") as f:
        f.seek(512)
        return f.read(8) == b"EFI PART"


def gpt_extent(img, key):
    """gpt:NAME or gpt:GUID -> [(byte offset, bytes)]"""
    if not has_gpt(img):
        raise Error("gpt:%s: %s has no GPT" % (key, img))
    by_guid = GUID_RE.match(key)
    hits = [p for p in gpt_partitions(img)
            if (p["guid"] == key.upper() if by_guid else p["name"] == key)]
    if not hits:
        raise Error("gpt:%s: no such partition in %s" % (key, img))
    if len(hits) > 1:
        raise Error("gpt:%s: more than one partition matches (name it by its GUID)" % key)
    return [(hits[0]["first"] * 512, hits[0]["sectors"] * 512)]


def pv_places(img):
    """Where an LVM2 PV may start: the whole image, or its Linux LVM
    partitions.  [(byte offset, bytes or None)]"""
    if not has_gpt(img):
        return [(0, None)]
    return [(p["first"] * 512, p["sectors"] * 512) for p in gpt_partitions(img)
            if p["type"] == LVM_CODE]


def lvm_report(loops, *args):
    """An lvm2 report command's rows, in bytes, on our loop devices only."""
    out = run(args[0], "--driverloaded", "n", "--config", lvm_config(*loops), "--noheadings",
              "--units", "b", "--nosuffix", "--separator", "|", *args[1:])
    return [[c.strip() for c in l.split("|")] for l in out.strip().splitlines() if l.strip()]


def lv_segments(loops, vg, lv):
    """[(loop, first PE, PE count)] in the LV's order, and the extent size."""
    rows = lvm_report(loops, "lvs", "-o", "lv_name,seg_start_pe,segtype,seg_pe_ranges,"
                      "vg_extent_size", vg)
    rows = sorted((r for r in rows if r[0] == lv), key=lambda r: int(r[1]))
    if not rows:
        raise Error("lvm:%s/%s: no such logical volume in volume group %s" % (vg, lv, vg))
    segs = []
    for name, _start, segtype, ranges, _ext in rows:
        m = re.fullmatch(r"(\S+):(\d+)-(\d+)", ranges)
        if segtype != "linear" or not m:
            raise Error("lvm:%s/%s: is %s: only linear logical volumes are supported"
                        % (vg, lv, segtype))
        segs.append((m.group(1), int(m.group(2)), int(m.group(3)) - int(m.group(2)) + 1))
    return segs, int(rows[0][4])


def lvm_extent(img, key):
    """lvm:VG/LV -> [(byte offset, bytes)], from lvs and pvs."""
    vg, _, lv = key.partition("/")
    need("losetup", "util-linux")
    need("lvs", "lvm2")
    if os.geteuid() != 0:
        raise Error("lvm:%s: needs root (losetup attaches the image for lvm2's tools)" % key)
    loops = {}
    try:
        for off, size in pv_places(img):
            span = ["-o", str(off)] + (["--sizelimit", str(size)] if size else [])
            loops[run("losetup", "-f", "--show", "-r", *span, img).strip()] = off
        if not loops:
            raise Error("lvm:%s: %s has no Linux LVM partition" % (key, img))
        names = sorted(loops)
        pvs = {r[0]: (r[1], int(r[2])) for r in
               lvm_report(names, "pvs", "-o", "pv_name,vg_name,pe_start") if r[0] in loops}
        if vg not in {v for v, _ in pvs.values()}:
            raise Error("lvm:%s: no volume group %s in %s" % (key, vg, img))
        segs, ext = lv_segments(names, vg, lv)
        return [(loops[d] + pvs[d][1] + pe * ext, n * ext) for d, pe, n in segs]
    finally:
        for l in loops:
            subprocess.run(["losetup", "-d", l], check=False)


def extents_of(img, spec):
    kind, sep, key = spec.partition(":")
    if kind == "gpt" and key:
        return gpt_extent(img, key)
    if kind == "lvm" and re.fullmatch(r"[^/]+/[^/]+", key):
        return lvm_extent(img, key)
    if spec == "disk:0":
        return [(0, os.path.getsize(img))]
    raise Error("bad volume %r (use gpt:NAME, gpt:GUID, lvm:VG/LV or disk:0)" % spec)


def mkfs(tmp, size, tree, fstype, block_size, label):
    need("mke2fs", "e2fsprogs")
    with open(tmp, "wb") as f:
        f.truncate(size)
    args = ["mke2fs", "-q", "-F", "-t", fstype, "-E", "root_owner=0:0", "-d", tree]
    args += ["-b", str(block_size)] if block_size else []
    args += ["-L", label] if label else []
    r = subprocess.run(args + [tmp], capture_output=True, text=True)
    if r.returncode:
        msg = (r.stderr or r.stdout).strip()
        if re.search(r"Could not allocate (block|inode)|No space left|not enough space", msg):
            raise Error("%d MiB is too small for %s (%s)"
                        % (size >> 20, tree, msg.splitlines()[-1]))
        raise Error("mke2fs failed: %s" % msg)


def data_ranges(f, size):
    """(offset, length) of the file's data, holes skipped (SEEK_DATA)."""
    pos = 0
    while pos < size:
        try:
            start = os.lseek(f.fileno(), pos, os.SEEK_DATA)
        except OSError:
            return
        end = os.lseek(f.fileno(), start, os.SEEK_HOLE)
        yield start, end - start
        pos = end


def punch(img, extents):
    """Zero the volume's place, leaving holes (fallocate -p)."""
    for off, n in extents:
        r = subprocess.run(["fallocate", "-p", "-o", str(off), "-l", str(n), img],
                           capture_output=True, text=True)
        if r.returncode:
            with open(img, "r+b") as f:
                for at in range(0, n, CHUNK):
                    f.seek(off + at)
                    f.write(bytes(min(CHUNK, n - at)))


def place(img, extents, tmp):
    """Volume byte v -> the image, extent by extent; all-zero chunks skipped."""
    size = sum(n for _, n in extents)
    punch(img, extents)
    with open(tmp, "rb") as src, open(img, "r+b") as dst:
        for start, length in data_ranges(src, size):
            for at in range(start, start + length, CHUNK):
                src.seek(at)
                buf = src.read(min(CHUNK, start + length - at))
                if buf.count(0) != len(buf):
                    write_at(dst, extents, at, buf)


def write_at(dst, extents, v, buf):
    base = 0
    for off, n in extents:
        while buf and base <= v < base + n:
            k = min(len(buf), base + n - v)
            dst.seek(off + v - base)
            dst.write(buf[:k])
            v, buf = v + k, buf[k:]
        base += n


def fill(img, spec, tree, fstype="ext4", block_size=None, label=None):
    """Make the file system from tree on spec's volume of img; its size."""
    if not os.path.isdir(tree):
        raise Error("%s: not a directory" % tree)
    if fstype not in ("ext4", "ext2"):
        raise Error("bad file system type %r (ext4 or ext2)" % fstype)
    extents = extents_of(img, spec)
    size = sum(n for _, n in extents)
    with tempfile.TemporaryDirectory(prefix="mkvol.") as d:
        tmp = os.path.join(d, "vol")
        try:
            mkfs(tmp, size, tree, fstype, block_size, label)
        except Error as e:
            raise Error("%s: %s" % (spec, e))
        place(img, extents, tmp)
    return size


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("image")
    ap.add_argument("spec", help="gpt:NAME, gpt:GUID, lvm:VG/LV or disk:0")
    ap.add_argument("dir", help="the directory tree to copy in")
    ap.add_argument("--type", default="ext4", help="ext4 (default) or ext2")
    ap.add_argument("--block-size", type=int, choices=(1024, 2048, 4096),
                    help="file system block size (mke2fs picks by default)")
    ap.add_argument("--label", help="volume label (default: none)")
    a = ap.parse_args(argv)
    try:
        if not os.path.isfile(a.image):
            raise Error("%s: no such image" % a.image)
        size = fill(a.image, a.spec, a.dir, a.type, a.block_size, a.label)
    except Error as e:
        print("mkvol: %s" % e, file=sys.stderr)
        return 1
    print("%s: %s %s, %d MiB, from %s" % (a.image, a.spec, a.type, size >> 20, a.dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
