#!/usr/bin/env python3
"""Make a raw disk image for Paravane guests' block devices.

    mkdisk.py OUT.img --size 256M --gpt data:64M,logs:32M
    mkdisk.py OUT.img --size 256M --lvm vg0:web=64M,db=32M
    mkdisk.py OUT.img --size 256M --gpt boot:16M --lvm vg0:web=64M
    mkdisk.py OUT.img --size 256M --gpt data:64M --lvm vg0:web=64M \
        --fs gpt:data=DIR --fs lvm:vg0/web=DIR2 [--fs-type ext2] [--block-size 1024]

--gpt writes a GPT with named partitions (sgdisk); a last partition given
without a size (logs) takes the rest.  --lvm makes the image an LVM2
physical volume with a volume group and linear logical volumes (lvm2's
own tools, through a loop device, with device-mapper left out: the
volumes are never activated on this host).  With both, the PV is a last
GPT partition (type Linux LVM, named after the VG) after the --gpt ones.
One image holds one VG; use several images (disks) for several VGs.
--fs SPEC=DIR fills the volume SPEC (as the manifest names it) with an
ext4 file system made from DIR by the real mke2fs (sdk/tools/mkvol.py).

The image is sparse.  It prints the manifest specs that name the volumes
(block = gpt:data, block = lvm:vg0/web).  --lvm needs root (losetup) and
the lvm2 package; --gpt the gdisk package (sdk/tools/ensure-deps.sh).
See docs/storage.md.
"""
import argparse
import os
import re
import subprocess
import sys

from disktools import Error, lvm_config, need, run

NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,36}$")       # gpt:NAME in a manifest
LVM_RE = re.compile(r"^[A-Za-z0-9_.+][A-Za-z0-9_.+-]{0,126}$")
UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def size_of(text):
    m = re.fullmatch(r"(\d+)\s*([KMGT]?)(?:i?B)?", text.strip(), re.IGNORECASE)
    if not m or int(m.group(1)) == 0:
        raise Error("bad size %r (use a number with K, M, G or T)" % text)
    n = int(m.group(1)) * UNITS[m.group(2).upper()]
    if n % 512:
        raise Error("size %r is not a whole number of 512-byte sectors" % text)
    return n


def parse_gpt(spec):
    """'data:64M,logs' -> [('data', 67108864), ('logs', None)]"""
    parts = []
    for i, item in enumerate(spec.split(",")):
        name, _, size = item.strip().partition(":")
        if not NAME_RE.match(name):
            raise Error("bad partition name %r (1-36 of A-Z a-z 0-9 _ . -)" % name)
        if not size and i != len(spec.split(",")) - 1:
            raise Error("only the last partition may omit its size (%s)" % name)
        parts.append((name, size_of(size) if size else None))
    if len({n for n, _ in parts}) != len(parts):
        raise Error("partition names repeat in %r" % spec)
    return parts


def parse_lvm(spec):
    """'vg0:web=64M,db=32M' -> ('vg0', [('web', 67108864), ('db', 33554432)])"""
    vg, sep, lvs = spec.partition(":")
    if not sep or not LVM_RE.match(vg):
        raise Error("bad --lvm %r (use VG:LV=SIZE,LV=SIZE)" % spec)
    out = []
    for item in lvs.split(","):
        lv, eq, size = item.strip().partition("=")
        if not eq or not LVM_RE.match(lv):
            raise Error("bad logical volume %r in %r (use LV=SIZE)" % (item, spec))
        out.append((lv, size_of(size)))
    if len({n for n, _ in out}) != len(out):
        raise Error("logical volume names repeat in %r" % spec)
    return vg, out


def make_gpt(img, parts, lvm_part=None):
    """GPT partitions; lvm_part: a last one (type 8E00) with this name, the
    rest of the disk.  Returns the manifest lines and (first, sectors) of
    that last partition, or None."""
    need("sgdisk", "gdisk")
    args = ["sgdisk", "-o"]
    for i, (name, size) in enumerate(parts, 1):
        end = "+%dK" % (size // 1024) if size and size % 1024 == 0 else \
            ("+%d" % (size // 512) if size else "0")
        args += ["-n", "%d:0:%s" % (i, end), "-t", "%d:8300" % i, "-c", "%d:%s" % (i, name)]
    n = len(parts) + 1
    if lvm_part:
        args += ["-n", "%d:0:0" % n, "-t", "%d:8E00" % n, "-c", "%d:%s" % (n, lvm_part)]
    run(*args, img)
    where = None
    if lvm_part:
        info = run("sgdisk", "-i", str(n), img)
        first = int(re.search(r"First sector: (\d+)", info).group(1))
        last = int(re.search(r"Last sector: (\d+)", info).group(1))
        where = (first, last - first + 1)
    return ["block = gpt:%s" % name for name, _ in parts], where


def make_lvm(img, vg, lvs, where=None):
    """The PV is the whole image, or the partition where = (first, sectors)."""
    need("losetup", "util-linux")
    need("pvcreate", "lvm2")
    if os.geteuid() != 0:
        raise Error("--lvm needs root (losetup attaches the image for pvcreate)")
    span = ["-o", str(where[0] * 512), "--sizelimit", str(where[1] * 512)] if where else []
    loop = run("losetup", "-f", "--show", *span, img).strip()
    try:
        def lvm(*a):
            return run(a[0], "--driverloaded", "n", "--config", lvm_config(loop), *a[1:])
        lvm("pvcreate", "-q", loop)
        lvm("vgcreate", "-q", vg, loop)
        for lv, size in lvs:
            # -an: never activated here; -Zn: nothing to zero without activation.
            lvm("lvcreate", "-q", "-an", "-Zn", "-y", "-L", "%db" % size, "-n", lv, vg)
        report = lvm("lvs", "--noheadings", "-o", "lv_name,lv_size", vg)
    finally:
        subprocess.run(["losetup", "-d", loop], check=False)
    return ["block = lvm:%s/%s" % (vg, lv) for lv, _ in lvs], report


def parse_fs(items):
    """['gpt:data=www'] -> [('gpt:data', 'www')]"""
    out = []
    for item in items:
        spec, eq, tree = item.partition("=")
        if not eq or not spec or not tree:
            raise Error("bad --fs %r (use SPEC=DIR, e.g. gpt:data=www)" % item)
        out.append((spec, tree))
    return out


def fill_volumes(a):
    """--fs: each volume made from its directory by sdk/tools/mkvol.py."""
    import mkvol
    for spec, tree in parse_fs(a.fs):
        size = mkvol.fill(a.image, spec, tree, a.fs_type, a.block_size)
        print("%s: %s from %s (%d MiB)" % (spec, a.fs_type, tree, size >> 20))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("image")
    ap.add_argument("--size", required=True, help="image size: 256M, 1G, ...")
    ap.add_argument("--gpt", help="NAME:SIZE,... GPT partitions (the last may omit SIZE)")
    ap.add_argument("--lvm", help="VG:LV=SIZE,... an LVM2 PV, VG and linear LVs "
                    "(with --gpt: in a last partition)")
    ap.add_argument("--fs", action="append", default=[], metavar="SPEC=DIR",
                    help="fill volume SPEC (gpt:NAME, lvm:VG/LV) with a file system "
                    "made from DIR (repeatable)")
    ap.add_argument("--fs-type", default="ext4", help="for --fs: ext4 (default) or ext2")
    ap.add_argument("--block-size", type=int, choices=(1024, 2048, 4096),
                    help="for --fs: the file system's block size")
    ap.add_argument("--force", action="store_true", help="overwrite an existing image")
    a = ap.parse_args(argv)
    try:
        if not a.gpt and not a.lvm:
            raise Error("give --gpt, --lvm or both")
        size = size_of(a.size)
        parts = parse_gpt(a.gpt) if a.gpt else None
        vg_lvs = parse_lvm(a.lvm) if a.lvm else None
        parse_fs(a.fs)
        if parts and vg_lvs and parts[-1][1] is None:
            raise Error("with --lvm every --gpt partition needs a size "
                        "(the LVM partition takes the rest)")
        if os.path.exists(a.image) and not a.force:
            raise Error("%s exists (use --force to overwrite it)" % a.image)
        with open(a.image, "wb") as f:
            f.truncate(size)
        try:
            specs, where = make_gpt(a.image, parts, vg_lvs and vg_lvs[0]) if parts else ([], None)
            if vg_lvs:
                more, report = make_lvm(a.image, *vg_lvs, where=where)
                specs += more
                print(report.rstrip())
            fill_volumes(a)
        except Error:
            os.unlink(a.image)          # no half-made image left behind
            raise
    except Error as e:
        print("mkdisk: %s" % e, file=sys.stderr)
        return 1
    print("%s: %d MiB; manifest lines:" % (a.image, size >> 20))
    for s in specs:
        print("  " + s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
