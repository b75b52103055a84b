"""sdk/tools/mkdisk.py makes the images docs/storage.md says it makes:
GPT partitions with the asked names and sizes (read back with sgdisk),
an LVM2 volume group with the asked logical volumes (read back with lvs
through a loop device), and clear errors for bad specs.  Run by `make
test-tools`; --lvm needs root and loop devices (CI runs as root).
"""
import hashlib
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MKDISK = ROOT / "sdk" / "tools" / "mkdisk.py"
ENV = dict(os.environ, LVM_SUPPRESS_FD_WARNINGS="1")


def mkdisk(*args):
    return subprocess.run([sys.executable, str(MKDISK), *map(str, args)],
                          capture_output=True, text=True)


def test_gpt_partitions(tmp_path):
    img = tmp_path / "d.img"
    r = mkdisk(img, "--size", "256M", "--gpt", "data:64M,logs:32M,rest")
    assert r.returncode == 0, r.stderr
    assert "block = gpt:data" in r.stdout and "block = gpt:rest" in r.stdout
    assert img.stat().st_size == 256 << 20
    assert img.stat().st_blocks * 512 < 1 << 20          # sparse
    table = subprocess.run(["sgdisk", "-p", str(img)], capture_output=True,
                           text=True, check=True).stdout
    rows = re.findall(r"^\s+(\d+)\s+(\d+)\s+(\d+)\s+.*\s(\S+)$", table, re.M)
    got = {name: (int(last) - int(first) + 1) * 512 for _n, first, last, name in rows}
    assert got["data"] == 64 << 20 and got["logs"] == 32 << 20
    assert got["rest"] > 150 << 20


@pytest.mark.parametrize("gpt", [None, "boot:8M"])
def test_lvm_volumes(tmp_path, gpt):
    """On the whole image, or in a last GPT partition after boot."""
    if os.geteuid() != 0:
        pytest.fail("mkdisk --lvm needs root for losetup; CI runs as root")
    img = tmp_path / "v.img"
    r = mkdisk(img, "--size", "128M", "--lvm", "tvgmk:web=16M,db=8M",
               *(["--gpt", gpt] if gpt else []))
    assert r.returncode == 0, r.stderr
    assert "block = lvm:tvgmk/web" in r.stdout and "block = lvm:tvgmk/db" in r.stdout
    span = []
    if gpt:
        assert "block = gpt:boot" in r.stdout
        info = subprocess.run(["sgdisk", "-i", "2", str(img)], capture_output=True,
                              text=True, check=True).stdout
        assert "Linux LVM" in info and "Partition name: 'tvgmk'" in info
        first = int(re.search(r"First sector: (\d+)", info).group(1))
        last = int(re.search(r"Last sector: (\d+)", info).group(1))
        span = ["-o", str(first * 512), "--sizelimit", str((last - first + 1) * 512)]
    loop = subprocess.run(["losetup", "-f", "--show", *span, str(img)], capture_output=True,
                          text=True, check=True).stdout.strip()
    try:
        cfg = 'devices { use_devicesfile=0 filter=["a|^%s$|","r|.*|"] }' % loop
        out = subprocess.run(["lvs", "--driverloaded", "n", "--config", cfg, "--noheadings",
                              "--units", "b", "--nosuffix", "--separator", "|",
                              "-o", "lv_name,lv_size,segtype", "tvgmk"],
                             capture_output=True, text=True, env=ENV, check=True).stdout
    finally:
        subprocess.run(["losetup", "-d", loop])
    lvs = {l.split("|")[0].strip(): l.split("|")[1:] for l in out.strip().splitlines()}
    assert lvs["web"] == [str(16 << 20), "linear"]
    assert lvs["db"] == [str(8 << 20), "linear"]


@pytest.mark.parametrize("args, msg", [
    (["--size", "10M"], "give --gpt, --lvm or both"),
    (["--size", "10M", "--gpt", "a", "--lvm", "v:a=1M"], "every --gpt partition needs a size"),
    (["--size", "10X", "--gpt", "a:1M"], "bad size '10X'"),
    (["--size", "10M", "--gpt", "a b:1M"], "bad partition name 'a b'"),
    (["--size", "10M", "--gpt", "a,b:1M"], "only the last partition may omit its size"),
    (["--size", "10M", "--gpt", "a:1M,a:1M"], "partition names repeat"),
    (["--size", "10M", "--lvm", "vg0"], "bad --lvm 'vg0'"),
    (["--size", "10M", "--lvm", "vg0:web"], "bad logical volume 'web'"),
    (["--size", "1M", "--gpt", "a:2M"], "sgdisk"),
])
def test_errors(tmp_path, args, msg):
    img = tmp_path / "e.img"
    r = mkdisk(img, *args)
    assert r.returncode == 1
    assert msg in r.stderr
    assert not img.exists()                               # nothing half-made


def test_no_overwrite(tmp_path):
    img = tmp_path / "x.img"
    img.write_bytes(b"keep")
    r = mkdisk(img, "--size", "4M", "--gpt", "a")
    assert r.returncode == 1 and "exists (use --force" in r.stderr
    assert img.read_bytes() == b"keep"
    assert mkdisk(img, "--size", "4M", "--gpt", "a", "--force").returncode == 0


# ---- --fs and mkvol.py: ext4 volumes made from a directory ---------------

MKVOL = ROOT / "sdk" / "tools" / "mkvol.py"


def mkvol(*args):
    return subprocess.run([sys.executable, str(MKVOL), *map(str, args)],
                          capture_output=True, text=True)


def make_tree(root):
    """Files of several sizes (one empty), a deep path, a long name, a symlink."""
    rnd = random.Random(7)
    root.mkdir()
    files = {"empty": b"", "one": b"x", "f4097": rnd.randbytes(4097),
             "big": rnd.randbytes(700 * 1024), "n" * 200: rnd.randbytes(999)}
    deep = "/".join("d%d" % i for i in range(10)) + "/leaf"
    files[deep] = b"deep\n" * 50
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    os.symlink("big", root / "link")
    return files


def gpt_place(img, num):
    info = subprocess.run(["sgdisk", "-i", str(num), str(img)], capture_output=True,
                          text=True, check=True).stdout
    first = int(re.search(r"First sector: (\d+)", info).group(1))
    last = int(re.search(r"Last sector: (\d+)", info).group(1))
    return first * 512, (last - first + 1) * 512


def lv_places(img, vg, lv, pv_at):
    """The LV's extents in the image, [(offset, bytes)], as lvs and pvs
    report them for the PV at byte pv_at."""
    loop = subprocess.run(["losetup", "-f", "--show", "-r", "-o", str(pv_at), str(img)],
                          capture_output=True, text=True, check=True).stdout.strip()
    try:
        cfg = 'devices { use_devicesfile=0 filter=["a|^%s$|","r|.*|"] }' % loop
        rep = lambda *a: subprocess.run(
            [a[0], "--driverloaded", "n", "--config", cfg, "--noheadings", "--units", "b",
             "--nosuffix", "--separator", "|", *a[1:]],
            capture_output=True, text=True, env=ENV, check=True).stdout
        pe_start = int(rep("pvs", "-o", "pe_start").strip())
        rows = [l.split("|") for l in rep("lvs", "-o", "lv_name,seg_start_pe,seg_pe_ranges,"
                                          "vg_extent_size", vg).strip().splitlines()]
    finally:
        subprocess.run(["losetup", "-d", loop])
    out = []
    for _name, _s, ranges, ext in sorted((r for r in rows if r[0].strip() == lv),
                                         key=lambda r: int(r[1])):
        a, b = map(int, ranges.split(":")[1].split("-"))
        out.append((pv_at + pe_start + a * int(ext), (b - a + 1) * int(ext)))
    return out


def extract(img, places, out):
    with open(img, "rb") as f, open(out, "wb") as o:
        for off, n in places:
            f.seek(off)
            o.write(f.read(n))
    return out


def check_volume(vol, files, label=None):
    """e2fsck -fn clean; every file's bytes read back with debugfs; root 0:0."""
    r = subprocess.run(["e2fsck", "-fn", str(vol)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    for rel, data in files.items():
        got = subprocess.run(["debugfs", "-R", "cat /%s" % rel, str(vol)],
                             capture_output=True).stdout
        assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest(), rel
    st = subprocess.run(["debugfs", "-R", "stat /link", str(vol)], capture_output=True,
                        text=True).stdout
    assert 'Fast link dest: "big"' in st
    st = subprocess.run(["debugfs", "-R", "stat /", str(vol)], capture_output=True,
                        text=True).stdout
    assert re.search(r"User:\s+0\s+Group:\s+0", st), st
    if label:
        sb = subprocess.run(["dumpe2fs", "-h", str(vol)], capture_output=True, text=True).stdout
        assert re.search(r"Filesystem volume name:\s+%s$" % label, sb, re.M)


def test_fs_in_partition_and_lv(tmp_path):
    """mkdisk --fs: a GPT partition and an LV in a last LVM partition each
    hold an ext4 of the tree, at exactly the place sgdisk and lvs say."""
    if os.geteuid() != 0:
        pytest.fail("mkdisk --lvm needs root for losetup; CI runs as root")
    files = make_tree(tmp_path / "tree")
    img = tmp_path / "fs.img"
    r = mkdisk(img, "--size", "96M", "--gpt", "data:16M", "--lvm", "tvgfs:web=12M,db=8M",
               "--fs", "gpt:data=%s" % (tmp_path / "tree"),
               "--fs", "lvm:tvgfs/db=%s" % (tmp_path / "tree"))
    assert r.returncode == 0, r.stderr
    assert "lvm:tvgfs/db: ext4 from" in r.stdout
    assert img.stat().st_blocks * 512 < 8 << 20                    # sparse
    check_volume(extract(img, [gpt_place(img, 1)], tmp_path / "p.vol"), files)
    lv_at = gpt_place(img, 2)[0]
    db = lv_places(img, "tvgfs", "db", lv_at)
    check_volume(extract(img, db, tmp_path / "db.vol"), files)
    web = lv_places(img, "tvgfs", "web", lv_at)[0]               # untouched
    with open(img, "rb") as f:
        f.seek(web[0])
        assert f.read(web[1]) == bytes(web[1])


def test_mkvol_ext2_on_multisegment_lv(tmp_path):
    """mkvol.py on an existing image: ext2 with 1 KiB blocks and a label on
    an LV of two segments (lvextend after another LV), whole-image PV."""
    if os.geteuid() != 0:
        pytest.fail("mkvol lvm: needs root for losetup; CI runs as root")
    files = make_tree(tmp_path / "tree")
    img = tmp_path / "ms.img"
    assert mkdisk(img, "--size", "64M", "--lvm", "tvgms:a=8M,b=4M").returncode == 0
    loop = subprocess.run(["losetup", "-f", "--show", str(img)], capture_output=True,
                          text=True, check=True).stdout.strip()
    try:
        cfg = 'devices { use_devicesfile=0 filter=["a|^%s$|","r|.*|"] } ' \
              'backup { backup=0 archive=0 }' % loop
        subprocess.run(["lvextend", "--driverloaded", "n", "--config", cfg, "-q", "-L", "+8M",
                        "tvgms/a"], capture_output=True, env=ENV, check=True)
    finally:
        subprocess.run(["losetup", "-d", loop])
    a = lv_places(img, "tvgms", "a", 0)
    assert len(a) == 2 and sum(n for _, n in a) == 16 << 20
    r = mkvol(img, "lvm:tvgms/a", tmp_path / "tree", "--type", "ext2", "--block-size", "1024",
              "--label", "webroot")
    assert r.returncode == 0, r.stderr
    vol = extract(img, a, tmp_path / "a.vol")
    check_volume(vol, files, label="webroot")
    sb = subprocess.run(["dumpe2fs", "-h", str(vol)], capture_output=True, text=True).stdout
    assert "extent" not in sb and re.search(r"Block size:\s+1024$", sb, re.M)


@pytest.mark.parametrize("spec, msg", [
    ("gpt:nope", "gpt:nope: no such partition"),
    ("lvm:tvger/nope", "no such logical volume in volume group tvger"),
    ("lvm:novg/x", "no volume group novg"),
    ("gpt:small", "gpt:small: 1 MiB is too small for"),
    ("nfs:x", "bad volume 'nfs:x'"),
])
def test_mkvol_errors(tmp_path, spec, msg):
    """Unknown volumes and a volume too small for the tree say so; the image
    is unchanged."""
    if os.geteuid() != 0:
        pytest.fail("mkvol lvm: needs root for losetup; CI runs as root")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "big").write_bytes(bytes(range(256)) * 12000)          # 3 MiB
    img = tmp_path / "e.img"
    assert mkdisk(img, "--size", "32M", "--gpt", "small:1M",
                  "--lvm", "tvger:x=4M").returncode == 0
    before = hashlib.sha256(img.read_bytes()).digest()
    r = mkvol(img, spec, tree)
    assert r.returncode == 1 and msg in r.stderr, r.stderr
    assert hashlib.sha256(img.read_bytes()).digest() == before


def test_mkdisk_fs_errors(tmp_path):
    r = mkdisk(tmp_path / "x.img", "--size", "8M", "--gpt", "a", "--fs", "gpt:a")
    assert r.returncode == 1 and "bad --fs 'gpt:a'" in r.stderr
    r = mkdisk(tmp_path / "x.img", "--size", "8M", "--gpt", "a", "--fs", "gpt:a=/nonexistent")
    assert r.returncode == 1 and "/nonexistent: not a directory" in r.stderr
    assert not (tmp_path / "x.img").exists()
