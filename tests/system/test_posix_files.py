"""newlib's file calls on mounted ext4 volumes (docs/files.md): the
fsposix guest runs every call with its error cases on a volume that the
manifest mounts (`mount = /data:vol`); the host then checks the volume
with e2fsck -fn (clean after a clean exit) and reads the guest's files
back with debugfs."""
import re
import subprocess

import pytest

from conftest import guest
from test_files import HV, mkfs, tool


def section(name, mode, disk, path="/data", args="", ro=False, memory="24M"):
    return ("[guest %s]\nimage = fsposix.elf\nmemory = %s\ncmdline = \"fsposix %s %s%s\"\n"
            "block = disk:%d%s, name=vol\nmount = %s:vol\n"
            % (name, memory, mode, path, args and " " + args, disk, ", ro" if ro else "", path))


def exits(b):
    return {e["name"]: e.get("code") for e in b.events("domain-exited")}


def fsck_clean(img):
    r = subprocess.run([tool("e2fsck"), "-fn", str(img)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def debugfs(img, cmd):
    return subprocess.run([tool("debugfs"), "-R", cmd, str(img)], capture_output=True).stdout


def test_every_call_and_its_errors(boot, tmp_path):
    """calls, stdio and host-checked files on read-write ext4 volumes, a
    read-only mount; each guest reports its checks, exits 0, and every
    volume is clean afterwards."""
    tree = tmp_path / "t"
    tree.mkdir()
    (tree / "hello.txt").write_bytes(b"hello from the host\n")
    vols = [mkfs(tmp_path, "%s.img" % n, tree, mib=24) for n in ("calls", "stdio", "host", "ro")]
    m = HV + section("calls", "calls", 0) + section("stdio", "stdio", 1)
    m += section("host", "host", 2, path="/srv/files") + section("ro", "ro", 3, ro=True)
    b = boot(m, [guest("fsposix")], timeout=400, drives=[(p, "virtio") for p in vols])
    fails = [l for l in b.log.splitlines() if "FAIL" in l]
    assert not fails, "\n".join(fails)
    for name in ("calls", "stdio", "host", "ro"):
        assert re.search(r"^%s\| fsposix: %s ok checks=\d+" % (name, name), b.log, re.M), b.log[-3000:]
    assert exits(b) == {"calls": "0", "stdio": "0", "host": "0", "ro": "0"}
    for img in vols:
        fsck_clean(img)
    host = vols[2]
    for i in range(20):
        n = i * 7919 % 65536
        want = bytes(((j * 31 + i) & 0xFF) for j in range(n))
        name = "renamed19" if i == 19 else "file%02d" % i
        got = debugfs(host, "cat /made/%s" % name)
        if i == 18:
            assert b"File not found" in subprocess.run(
                [tool("debugfs"), "-R", "stat /made/file18", str(host)],
                capture_output=True, text=True).stderr.encode() or got == b""
        else:
            assert got == want, name
    assert b"made/file03" in debugfs(host, "stat /link03")
    st = debugfs(host, "stat /made/file01")
    assert re.search(rb"User:\s+1000\s+Group:\s+1000", st) and re.search(rb"Mode:\s+0600", st), st


# Four CPUs only (the three guests then run at once on several CPUs; the
# one-CPU run added 40 s to make test and nothing this test looks at).
@pytest.mark.parametrize("smp", [4], indirect=True)
def test_big_directory_and_full_volume_on_two_volumes(boot, tmp_path):
    """10,000 files in one directory, listed and removed while listing; a
    volume written until ENOSPC, then freed and written again; many open
    files until EMFILE.  Three guests at a time on their own volumes."""
    tree = tmp_path / "t"
    tree.mkdir()
    big = mkfs(tmp_path, "big.img", tree, mib=64)
    full = mkfs(tmp_path, "full.img", tree, mib=8)
    many = mkfs(tmp_path, "many.img", tree, mib=16)
    m = HV + section("bigdir", "bigdir", 0, args="10000", memory="32M")
    m += section("fill", "fill", 1) + section("many", "many", 2)
    b = boot(m, [guest("fsposix")], timeout=900, drives=[(p, "virtio") for p in (big, full, many)])
    fails = [l for l in b.log.splitlines() if "FAIL" in l]
    assert not fails, "\n".join(fails)
    assert "bigdir| fsposix: bigdir entries=10000" in b, b.log[-3000:]
    for name in ("bigdir", "fill", "many"):
        assert re.search(r"^%s\| fsposix: %s ok" % (name, name), b.log, re.M), b.log[-3000:]
    for img in (big, full, many):
        fsck_clean(img)


@pytest.mark.parametrize("smp", [4], indirect=True)
def test_inline_data_volumes(boot, tmp_path):
    """A volume made with `mkfs.ext4 -O inline_data` keeps small
    directories and files inside their inodes: a guest lists the host's
    tree exactly (names, sizes, CRCs), then runs every call on another
    such volume (directories it makes are inline too); both stay clean."""
    import zlib
    tree = tmp_path / "t"
    for d in ("a/b/c", "small", "empty"):
        (tree / d).mkdir(parents=True)
    files = {"a/b/c/deep": b"x" * 40, "small/one": b"1", "small/two": b"22" * 20,
             "a/inline-file": b"fits in the inode", "a/bigger": bytes(range(256)) * 30,
             "top": b"at the top\n"}
    for name, data in files.items():
        (tree / name).write_bytes(data)
    listed = mkfs(tmp_path, "listed.img", tree, "-O", "inline_data", mib=16)
    plain = tmp_path / "p"
    plain.mkdir()
    (plain / "hello.txt").write_bytes(b"hello from the host\n")
    calls = mkfs(tmp_path, "calls.img", plain, "-O", "inline_data", mib=24)
    m = HV + section("listed", "list", 0) + section("calls", "calls", 1)
    b = boot(m, [guest("fsposix")], timeout=400, drives=[(listed, "virtio"), (calls, "virtio")])
    fails = [l for l in b.log.splitlines() if "FAIL" in l]
    assert not fails, "\n".join(fails)
    seen = {p: (int(s), int(c, 16)) for p, s, c in
            re.findall(r"^listed\| fsposix: file (\S+) (\d+) ([0-9a-f]{8})$", b.log, re.M)}
    assert seen == {n: (len(d), zlib.crc32(d)) for n, d in files.items()}
    assert exits(b) == {"listed": "0", "calls": "0"}, b.log[-3000:]
    fsck_clean(listed)
    fsck_clean(calls)
