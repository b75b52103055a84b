"""Files on ext2/3/4 volumes, first step (docs/files.md): a volume made on
the host by the real mkfs.ext4 -d from a directory tree is read in a guest
(tests/guests/fsread) with libext2fs through the libOS's I/O manager over
the PV block device; every file's size and CRC-32 must match the host's.
Broken or unsupported volumes are refused with a message, never a crash."""
import os
import random
import re
import shutil
import subprocess
import sys
import zlib

import pytest

from conftest import ROOT, guest

HV = """
[hypervisor]
poweroff_when_idle = yes
"""
SB = 1024                        # the primary superblock's byte offset
INCOMPAT = SB + 0x60             # s_feature_incompat
FIRST_DATA_BLOCK = SB + 0x14     # s_first_data_block
RECOVER, UNKNOWN = 0x4, 0x80000000


def tool(name):
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not path:
        pytest.skip("%s not installed (Debian package e2fsprogs)" % name)
    return path


def make_tree(root):
    """Sizes from 0 to a few MiB, a deep path, a 255-byte name, a sparse
    file, a directory of many entries, fast and slow symlinks."""
    rnd = random.Random(11)
    root.mkdir()
    (root / "empty").write_bytes(b"")
    for n in (1, 511, 512, 4095, 4096, 4097, 65537, (1 << 20) + 3, 3 * (1 << 20) + 12345):
        (root / ("f%d" % n)).write_bytes(rnd.randbytes(n))
    deep = root.joinpath(*("level%02d" % i for i in range(24)))
    deep.mkdir(parents=True)
    (deep / "leaf.txt").write_bytes(b"at the bottom\n" * 100)
    (root / ("n" * 250 + ".long")).write_bytes(rnd.randbytes(3000))
    with open(root / "sparse", "wb") as f:
        f.seek(2 << 20)
        f.write(b"after the hole")
    many = root / "many"
    many.mkdir()
    for i in range(300):
        (many / ("entry-with-a-longish-name-%04d" % i)).write_bytes(rnd.randbytes(i))
    os.symlink("f4096", root / "fast-link")
    os.symlink("level00/" * 12 + "target-of-a-slow-symlink", root / "slow-link")
    return root


def host_records(root):
    """{path: ("file", size, crc) | ("link", len, crc) | ("dir",)}, paths
    from the volume's root as the guest prints them."""
    out = {"/": ("dir",)}
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(d, name)
            rel = "/" + os.path.relpath(p, root)
            if os.path.islink(p):
                t = os.readlink(p).encode()
                out[rel] = ("link", len(t), zlib.crc32(t))
            elif os.path.isdir(p):
                out[rel] = ("dir",)
            else:
                data = open(p, "rb").read()
                out[rel] = ("file", len(data), zlib.crc32(data))
    return out


def guest_records(log, name):
    """The same from the guest's lines (a path comes in "+piece" lines)."""
    out, parts = {}, []
    pre = "%s| fsread: " % name
    for line in log.splitlines():
        if not line.startswith(pre):
            continue
        rest = line[len(pre):]
        if rest.startswith("+"):
            parts.append(rest[1:])
            continue
        m = re.match(r"(file|link) size=(\d+) crc=([0-9a-f]{8})$", rest)
        if m:
            out["".join(parts)] = (m.group(1), int(m.group(2)), int(m.group(3), 16))
        elif rest == "dir":
            out["".join(parts)] = ("dir",)
        parts = []
    return out


def mkfs(tmp_path, name, tree, *opts, mib=48):
    img = tmp_path / name
    with open(img, "wb") as f:
        f.truncate(mib << 20)
    r = subprocess.run([tool("mkfs.ext4"), "-q", "-F", *opts, "-d", str(tree), str(img)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return img


def patch_u32(img, off, set_bits):
    with open(img, "r+b") as f:
        f.seek(off)
        v = int.from_bytes(f.read(4), "little") | set_bits
        f.seek(off)
        f.write(v.to_bytes(4, "little"))


def section(name, mode, disk, memory="16M", args="", ro=True):
    return ("[guest %s]\nimage = fsread.elf\nmemory = %s\ncmdline = \"fsread %s vol%s\"\n"
            "block = disk:%d%s, name=vol\n"
            % (name, memory, mode, args and " " + args, disk, ", ro" if ro else ""))


def pattern(first, n):
    """fsread.h fsread_pattern for bytes first..first+n-1."""
    return bytes(((i * 131 + (i >> 12)) & 0xFF) for i in range(first, first + n))


def exits(b):
    return {e["name"]: e.get("code") for e in b.events("domain-exited")}


# Four CPUs only: the file layer is the same on one (make test's time).
@pytest.mark.parametrize("smp", [4], indirect=True)
def test_host_made_volumes_read_in_guests(boot, tmp_path):
    """The default ext4 of this host's mkfs.ext4 (64bit, extents, flex_bg,
    metadata_csum, ...), one with 1 KiB blocks, and ext2 (block maps, no
    extents), each read whole by its own guest; the host checks every file."""
    tree = make_tree(tmp_path / "tree")
    want = host_records(tree)
    vols = [("ext4", mkfs(tmp_path, "ext4.img", tree, "-b", "4096")),
            ("ext4k", mkfs(tmp_path, "ext4k.img", tree, "-b", "1024")),
            ("ext2", mkfs(tmp_path, "ext2.img", tree, "-t", "ext2"))]
    m = HV + "".join(section(n, "walk", i) for i, (n, _) in enumerate(vols))
    b = boot(m, [guest("fsread")], timeout=400, drives=[(p, "virtio") for _, p in vols])
    for name, img in vols:
        assert re.search(r"^%s\| fsread: walk ok files=" % name, b.log, re.M), b.log[-4000:]
        got = guest_records(b.log, name)
        got.pop("/lost+found", None)
        assert got == want, (name, set(got.items()) ^ set(want.items()))
        assert re.search(r"^%s\| fsread: io .* writes=0$" % name, b.log, re.M)
        # read-only: the volume is as mkfs left it, and clean
        r = subprocess.run([tool("e2fsck"), "-fn", str(img)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
    assert "64bit=1 csum=1" in b.lines("ext4| fsread: opened vol")[0]
    assert set(exits(b).values()) == {"0"}, b.events("domain-exited")
    assert not b.events("domain-crashed")
    assert b.status == 0


def test_broken_and_unsupported_volumes_are_refused(boot, tmp_path):
    """A zeroed superblock, an incompatible feature libext2fs does not know,
    a journal left needing recovery: each guest says which and exits 1; a
    read-only device refuses a write open; one open at a time per device."""
    tree = tmp_path / "t"
    tree.mkdir()
    (tree / "a").write_bytes(b"x" * 5000)
    zero = mkfs(tmp_path, "zero.img", tree, mib=8)
    with open(zero, "r+b") as f:
        f.seek(SB)
        f.write(bytes(1024))
    unknown = mkfs(tmp_path, "unknown.img", tree, "-O", "^metadata_csum", mib=8)
    patch_u32(unknown, INCOMPAT, UNKNOWN)
    journal = mkfs(tmp_path, "journal.img", tree, "-O", "^metadata_csum", mib=8)
    patch_u32(journal, INCOMPAT, RECOVER)
    good = mkfs(tmp_path, "good.img", tree, mib=8)
    disks = [zero, unknown, journal, good]
    m = HV + section("zero", "walk", 0) + section("unknown", "walk", 1)
    m += section("journal", "walk", 2) + section("rules", "rules", 3)
    b = boot(m, [guest("fsread")], timeout=300, drives=[(p, "virtio") for p in disks])
    assert "zero| fsread: cannot open vol: bad magic number in super-block" in b, b.log[-4000:]
    assert re.search(r"^unknown\| fsread: cannot open vol: .*unsupported feature", b.log, re.M)
    assert "journal| fsread: cannot open vol: journal needs recovery" in b
    assert "rules| fsread: write open -> 30 (" in b                      # EROFS
    assert "rules| fsread: second open -> 16 (" in b                     # EBUSY
    assert "rules| fsread: rules ok" in b
    assert exits(b) == {"zero": "1", "unknown": "1", "journal": "1", "rules": "0"}
    assert not b.events("domain-crashed")
    assert "all guests have ended (1 ok, 3 failed, 0 crashed)" in b
    assert b.event("poweroff")["reason"] == "guest-failed" and b.status == 1


def corrupt(img, seed, flips, span=1 << 20):
    """flips random bytes in the first span bytes (group descriptors,
    bitmaps, inode tables, directories, small files), superblock spared."""
    rnd = random.Random(seed)
    with open(img, "r+b") as f:
        for _ in range(flips):
            off = rnd.randrange(span)
            if not SB <= off < 2 * SB:
                f.seek(off)
                f.write(bytes([rnd.randrange(256)]))


def test_corrupted_volumes_never_crash_the_guest(boot, tmp_path):
    """Random damage to the metadata of volumes without checksums (ext2,
    ext4 -O ^metadata_csum) and with them: each guest either walks what is
    left or stops with a reason; none crashes or hangs."""
    tree = tmp_path / "t"
    tree.mkdir()
    for i in range(40):
        (tree / ("f%d" % i)).write_bytes(bytes([i]) * (i * 997))
    (tree / "d").mkdir()
    for i in range(60):
        (tree / "d" / ("x" * 40 + str(i))).write_bytes(b"y" * i)
    kinds = [("-t", "ext2"), ("-O", "^metadata_csum"), ("-t", "ext2"), ()]
    disks = []
    for i, opts in enumerate(kinds):
        img = mkfs(tmp_path, "c%d.img" % i, tree, *opts, mib=8)
        corrupt(img, 51 + i, (100, 600, 1100, 300)[i])
        disks.append(img)
    m = HV + "".join(section("c%d" % i, "walk", i) for i in range(len(disks)))
    b = boot(m, [guest("fsread")], timeout=300, drives=[(p, "virtio") for p in disks])
    ended = exits(b)
    assert sorted(ended) == ["c0", "c1", "c2", "c3"], b.log[-4000:]
    assert set(ended.values()) <= {"0", "1"}
    for name, code in ended.items():
        if code == "1":
            assert re.search(r"^%s\| fsread: (FAIL|cannot open)" % name, b.log, re.M), name
    assert not b.events("domain-crashed")
    assert b.status in (0, 1)


def test_guest_writes_through_the_io_manager(boot, tmp_path):
    """libext2fs in a guest makes a directory and a 300 KiB file on an ext4
    and an ext2 volume and closes them cleanly: e2fsck -fn finds nothing,
    debugfs reads the file back.  The channel alone on a scratch disk:
    whole blocks, a byte range with partial sectors at both ends, ranges
    past the end refused."""
    tree = tmp_path / "t"
    tree.mkdir()
    (tree / "old").write_bytes(b"kept" * 1000)
    size = 300 * 1024 + 77
    vols = [mkfs(tmp_path, "w4.img", tree, mib=16), mkfs(tmp_path, "w2.img", tree, "-t", "ext2", mib=16)]
    scratch = tmp_path / "scratch.img"
    with open(scratch, "wb") as f:
        f.truncate(4 << 20)
    m = HV + section("w4", "write", 0, args=str(size), ro=False)
    m += section("w2", "write", 1, args=str(size), ro=False)
    m += section("io", "io", 2, args="4", ro=False)
    b = boot(m, [guest("fsread")], timeout=300, drives=[(p, "virtio") for p in vols + [scratch]])
    for name, img in zip(("w4", "w2"), vols):
        assert "%s| fsread: write ok size=%d" % (name, size) in b, b.log[-4000:]
        r = subprocess.run([tool("e2fsck"), "-fn", str(img)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        out = tmp_path / ("%s.out" % name)
        r = subprocess.run([tool("debugfs"), "-R", "dump /made-by-guest/pattern.bin %s" % out, str(img)],
                           capture_output=True, text=True)
        assert out.read_bytes() == pattern(0, size), r.stderr
        r = subprocess.run([tool("debugfs"), "-R", "cat /old", str(img)], capture_output=True)
        assert r.stdout == b"kept" * 1000
    assert "io| fsread: io ok" in b, b.log[-3000:]
    data = scratch.read_bytes()
    want = bytearray(pattern(8192, 3 * 4096))
    want[100:1100] = pattern(8192 + 100 + 7, 1000)
    assert data[8192:8192 + 3 * 4096] == bytes(want)
    assert data[:8192] == bytes(8192) and data[8192 + 3 * 4096:] == bytes(len(data) - 20480)
    ev = {e["name"]: e for e in b.events("blk-stats")}
    assert int(ev["w4"]["flushes"]) >= 1 and int(ev["io"]["flushes"]) == 1
    assert set(exits(b).values()) == {"0"} and b.status == 0


def test_volumes_made_by_mkdisk_read_in_guests(boot, tmp_path):
    """sdk/tools/mkdisk.py --fs puts an ext4 in a GPT partition and in an
    LVM2 LV: the hypervisor finds each volume by its manifest spec exactly
    where the tool wrote it, and a guest reads every file of the tree.
    In the same boot, a volume whose first data block e2fsck would refuse
    is refused for writing (libext2fs's bitmap read overflowed its heap
    buffer on it: found by make fuzz-ext2)."""
    if os.geteuid() != 0:
        pytest.fail("mkdisk --lvm needs root for losetup (CI runs as root)")
    tree = tmp_path / "tree"
    tree.mkdir()
    rnd = random.Random(12)
    for n in (0, 700, 4096, 300 * 1024):
        (tree / ("f%d" % n)).write_bytes(rnd.randbytes(n))
    deep = tree.joinpath(*("d%d" % i for i in range(8)))
    deep.mkdir(parents=True)
    (deep / "leaf").write_bytes(b"leaf\n" * 30)
    os.symlink("f700", tree / "link")
    want = host_records(tree)
    img = tmp_path / "vols.img"
    r = subprocess.run([sys.executable, str(ROOT / "sdk/tools/mkdisk.py"), str(img),
                        "--size", "40M", "--gpt", "fsdata:8M", "--lvm", "tvgfiles:pad=4M,web=8M",
                        "--fs", "gpt:fsdata=%s" % tree, "--fs", "lvm:tvgfiles/web=%s" % tree],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    m = HV
    for name, spec in (("part", "gpt:fsdata"), ("lv", "lvm:tvgfiles/web")):
        m += ("[guest %s]\nimage = fsread.elf\nmemory = 16M\ncmdline = \"fsread walk vol\"\n"
              "block = %s, ro, name=vol\n" % (name, spec))
    first = mkfs(tmp_path, "first.img", tree, "-O", "^metadata_csum", "-b", "1024", mib=8)
    patch_u32(first, FIRST_DATA_BLOCK, 0xEC)                       # 1 | 0xEC = 237
    m += section("first", "write", 1, args="1000", ro=False)
    b = boot(m, [guest("fsread")], timeout=300, drives=[(img, "virtio"), (first, "virtio")])
    assert ("first| fsread: cannot open vol: bad geometry: first data block is 237, "
            "should be 1") in b, b.log[-4000:]
    for name in ("part", "lv"):
        assert re.search(r"^%s\| fsread: walk ok files=" % name, b.log, re.M), b.log[-4000:]
        got = guest_records(b.log, name)
        got.pop("/lost+found", None)
        assert got == want, (name, set(got.items()) ^ set(want.items()))
    assert exits(b) == {"part": "0", "lv": "0", "first": "1"}
    assert not b.events("domain-crashed")
