"""The libOS's journal (docs/files.md, "The journal"): crash consistency
and replay.

- Crash runs: the fsposix guest in `crash` mode (files written to a
  temporary name, fsynced, renamed over one of 64 names, fsynced; a log
  appended and fsynced) is killed at a random point.  Then, on one copy of
  the volume, the host's `e2fsck -fp` replays the journal and repairs
  nothing it has to ask about, `e2fsck -fn` finds it clean and every
  acknowledged file and log record is there; on the other copy a guest's
  own read-write mount replays the journal, lists every file, unmounts,
  and `e2fsck -fn` finds the volume clean without any fsck having run.
- Replay of logs this code did not write: the journal test images of
  e2fsprogs (from Debian's source package: logs Linux and debugfs wrote,
  checksum v2 and v3, 32- and 64-bit, damaged commit, descriptor, data and
  revoke blocks) are replayed by a guest's mount, and the files it then
  sees are those e2fsck sees after its own replay; a log that cannot be
  replayed (damaged journal superblock, fast commits) is refused with a
  message and the volume left untouched."""
import bz2
import glob
import gzip
import hashlib
import os
import random
import re
import subprocess
import tarfile
import time
import zlib

import pytest

from conftest import BUILD, ROOT, guest
from test_files import HV, tool
from test_posix_files import exits, section

import pvrun  # noqa: E402  (conftest puts sdk/tools on the path)
import qemu  # noqa: E402

NAMES = 64                      # crash.c: file0 .. file63
LATER = NAMES * 400             # rounds acknowledged after the last one logged
RECORD = 64                     # crash.c: LOG_RECORD


def content(i):
    """What round i of crash.c writes."""
    n = (i * 7919) % 40000
    return bytes(((i * 31 + k * 7) & 0xFF) for k in range(n))


def record(i):
    return (b"record %010u %-45s\n" % (i, b"appended, then fsync"))


def crash_once(tmp_path, n, delay, smp):
    img = tmp_path / ("crash%d.img" % n)
    with open(img, "wb") as f:
        f.truncate(16 << 20)
    subprocess.run([tool("mkfs.ext4"), "-q", "-F", str(img)], check=True)
    m = HV + section("crash", "crash", 0)
    (tmp_path / ("b%d" % n)).mkdir()
    boot = pvrun.make_image(tmp_path / ("b%d" % n), BUILD, m, [guest("fsposix")])
    vm = qemu.Background(str(boot), drives=[(str(img), "virtio")], smp=smp)
    try:
        vm.wait_for(r"crash\| fsposix: ack", 120)
        time.sleep(delay)
    finally:
        vm.stop()
    assert "FAIL" not in vm.log, vm.log[-3000:]
    files = dict(re.findall(r"crash\| fsposix: ack (\S+) i=(\d+)", vm.log))
    logged = [int(x) for x in re.findall(r"crash\| fsposix: log (\d+)", vm.log)]
    return img, {k: int(v) for k, v in files.items()}, max(logged, default=0)


def acceptable(name, i, got):
    """The acknowledged version or a later one: the console runs behind
    the guest, so acknowledgements still in the hypervisor's buffer when
    QEMU is killed never reach the log (file0 is also unlinked now and
    then)."""
    return name == "file0" or any(got == content(j) for j in range(i, i + LATER, NAMES))


def check_log(data, acked):
    assert len(data) % RECORD == 0 and len(data) // RECORD >= acked, (len(data), acked)
    for k in range(len(data) // RECORD):
        assert data[k * RECORD:(k + 1) * RECORD] == record(k), k


def debugfs_cat(img, name):
    return subprocess.run([tool("debugfs"), "-R", "cat /" + name, str(img)],
                          capture_output=True).stdout


def logged_blocks(img):
    """How much of a log debugfs's logdump finds (for the report)."""
    out = subprocess.run([tool("debugfs"), "-R", "logdump", str(img)],
                         capture_output=True, text=True).stdout
    return len(re.findall(r"Found expected sequence", out))


def host_replay_checks(img, files, acked):
    copy = img.with_suffix(".host")
    copy.write_bytes(img.read_bytes())
    preen = subprocess.run([tool("e2fsck"), "-fp", str(copy)], capture_output=True, text=True)
    assert preen.returncode in (0, 1), preen.stdout + preen.stderr
    after = subprocess.run([tool("e2fsck"), "-fn", str(copy)], capture_output=True, text=True)
    assert after.returncode == 0, after.stdout
    for name, i in files.items():
        assert acceptable(name, i, debugfs_cat(copy, name)), name
    check_log(debugfs_cat(copy, "log"), acked)


def listing(log, name):
    return {p: (int(s), int(c, 16)) for p, s, c in
            re.findall(r"^%s\| fsposix: file (\S+) (\d+) ([0-9a-f]{8})$" % name, log, re.M)}


# Four CPUs only (make test's time; the kill lands anywhere either way).
@pytest.mark.parametrize("smp", [4], indirect=True)
def test_crash_runs_keep_every_acknowledged_file(boot, tmp_path, smp):
    rnd = random.Random(int(os.environ.get("PARAVANE_CRASH_SEED", time.time())))
    count = int(os.environ.get("PARAVANE_CRASH_RUNS", "2"))
    runs = [crash_once(tmp_path, n, rnd.uniform(0.3, 4.0), smp) for n in range(count)]
    for n, (img, _, _) in enumerate(runs):
        print("run %d: logdump finds %d descriptor/commit blocks at the kill" % (n, logged_blocks(img)))
        host_replay_checks(img, runs[n][1], runs[n][2])
    log, codes = "", {}
    for k in range(0, count, 4):                   # 4 disks a machine
        m = HV + "".join(section("list%d" % n, "list", n - k) for n in range(k, min(k + 4, count)))
        b = boot(m, [guest("fsposix")], timeout=300,
                 drives=[(str(r[0]), "virtio") for r in runs[k:k + 4]])
        log += b.log
        codes.update(exits(b))
    for n, (img, files, acked) in enumerate(runs):
        assert codes.get("list%d" % n) == "0", said(log, "list%d" % n)
        seen = listing(log, "list%d" % n)
        # Killed while mounted: "needs recovery" is set, empty log or not;
        # the file crash.c holds open after unlinking it is on the orphan list.
        assert re.search(r"^list%d\| fs: vol: journal replayed" % n, log, re.M), \
            said(log, "list%d" % n)
        assert re.search(r"^list%d\| fs: vol at /data: 1 unlinked files freed" % n, log, re.M), \
            said(log, "list%d" % n)
        for name, i in files.items():
            size, crc = seen.get(name, (-1, 0))
            assert name == "file0" or any(
                (size, crc) == (len(c), zlib.crc32(c)) for c in
                (content(j) for j in range(i, i + LATER, NAMES))), name
        assert seen["log"][0] >= acked * RECORD
        r = subprocess.run([tool("e2fsck"), "-fn", str(img)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout


# ---- logs others wrote: e2fsprogs' journal test images --------------------------

# Replayed, then mounted: the guest lists what e2fsck's replay leaves.
REPLAYED = ["j_recover_csum3_64bit", "j_corrupt_commit_csum", "j_corrupt_commit_tid",
            "j_corrupt_descr_csum", "j_corrupt_descr_tid", "j_corrupt_journal_block",
            "j_corrupt_revoke_block", "j_corrupt_revoke_csum"]
# Replayed, then refused: the replayed file system is damaged (e2fsck
# fixes its bitmaps after its replay too).
DAMAGED = {"j_recover_csum2_32bit": "Block bitmap checksum does not match",
           "j_recover_csum2_64bit": "Block bitmap checksum does not match"}
# Not replayed: the journal itself cannot be read.
REFUSED = {"j_corrupt_sb_magic": "journal has no superblock",
           "j_corrupt_sb_csum": "superblock checksum does not match",
           "j_recover_fast_commit": "fast commits"}


def e2fsprogs_tarball():
    found = glob.glob(str(ROOT / "build/deps/src/e2fsprogs/e2fsprogs_*.orig.tar.gz"))
    if not found:
        subprocess.run(["sh", str(ROOT / "sdk/deps/e2fsprogs.sh"), "--fetch"], check=True)
        found = glob.glob(str(ROOT / "build/deps/src/e2fsprogs/e2fsprogs_*.orig.tar.gz"))
    assert found, "e2fsprogs' source package was not fetched"
    return found[0]


def extract_images(tmp_path, names):
    """name -> image file (written sparse: some are 128 MiB, mostly zeros)."""
    out = {}
    with tarfile.open(e2fsprogs_tarball()) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if len(parts) == 4 and parts[1] == "tests" and parts[2] in names and \
                    parts[3].startswith("image.") and not parts[3].endswith(".tar.bz2"):
                raw = tar.extractfile(member).read()
                data = gzip.decompress(raw) if parts[3].endswith(".gz") else bz2.decompress(raw)
                out[parts[2]] = write_sparse(tmp_path / (parts[2] + ".img"), data)
    assert sorted(out) == sorted(names), sorted(out)
    return out


def write_sparse(path, data, chunk=1 << 16):
    with open(path, "wb") as f:
        for off in range(0, len(data), chunk):
            piece = data[off:off + chunk]
            if piece.count(0) == len(piece):
                f.seek(len(piece), 1)
            else:
                f.write(piece)
        f.truncate(len(data))
    return path


def host_files(img, tmp_path):
    """{path: (size, crc)} of img's regular files after e2fsck's replay
    (`e2fsck -E journal_only`, on a copy), via debugfs's rdump."""
    copy = tmp_path / (img.name + ".ref")
    write_sparse(copy, img.read_bytes())
    subprocess.run([tool("e2fsck"), "-y", "-E", "journal_only", str(copy)], capture_output=True)
    out = tmp_path / (img.name + ".tree")
    out.mkdir()
    subprocess.run([tool("debugfs"), "-R", "rdump / %s" % out, str(copy)], capture_output=True)
    files = {}
    for root, _, names in os.walk(out):
        for n in names:
            p = os.path.join(root, n)
            if os.path.isfile(p) and not os.path.islink(p):
                data = open(p, "rb").read()
                files[os.path.relpath(p, out)] = (len(data), zlib.crc32(data))
    return files, copy


def said(log, name):
    return "\n".join(l for l in log.splitlines() if l.startswith(name + "|"))


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.mark.parametrize("smp", [1], indirect=True)
def test_replay_of_logs_linux_and_debugfs_wrote(boot, tmp_path):
    names = REPLAYED + sorted(DAMAGED) + sorted(REFUSED)
    imgs = extract_images(tmp_path, names)
    refs = {n: host_files(imgs[n], tmp_path) for n in REPLAYED + sorted(DAMAGED)}
    before = {n: sha(imgs[n]) for n in REFUSED}
    log, codes = "", {}
    for group in (names[k:k + 4] for k in range(0, len(names), 4)):   # 4 disks a machine
        m = HV + "".join(section(n, "list", i, memory="16M") for i, n in enumerate(group))
        b = boot(m, [guest("fsposix")], timeout=400,
                 drives=[(str(imgs[n]), "virtio") for n in group])
        log += b.log
        codes.update(exits(b))
    (tmp_path / "serial-all.log").write_text(log)
    for n in REPLAYED + sorted(DAMAGED):
        want, ref = refs[n]
        assert re.search(r"^%s\| fs: vol: journal replayed" % n, log, re.M), said(log, n)
        if n in REPLAYED:
            assert codes.get(n) == "0", n
            assert listing(log, n) == {k: v for k, v in want.items()
                                       if not k.startswith("lost+found")}, n
        else:
            assert re.search(r"^%s\| fs: vol at /data: cannot mount: %s" % (n, DAMAGED[n]),
                             log, re.M), n
        # What is left is what e2fsck finds after its replay alone.
        ours = subprocess.run([tool("e2fsck"), "-fn", str(imgs[n])], capture_output=True).returncode
        theirs = subprocess.run([tool("e2fsck"), "-fn", str(ref)], capture_output=True).returncode
        assert ours == theirs, n
    for n, why in REFUSED.items():
        assert re.search(r"^%s\| fs: vol at /data: cannot mount: .*%s" % (n, why), log, re.M), n
        assert sha(imgs[n]) == before[n], n


@pytest.mark.parametrize("smp", [1], indirect=True)
def test_a_crash_right_after_a_commit_is_replayed(boot, tmp_path):
    """The domain crashes the instant a transaction commits (a test hook,
    pv_ext2_test_crash_after_commit): its blocks are only in the log.
    The host's e2fsck and a guest's mount must both bring them back, and
    the revoke record in it must keep a block that was logged before and
    then overwritten around the journal."""
    img = tmp_path / "v.img"
    with open(img, "wb") as f:
        f.truncate(16 << 20)
    subprocess.run([tool("mkfs.ext4"), "-q", "-F", str(img)], check=True)
    b = boot(HV + section("cc", "commit-crash", 0), [guest("fsposix")], timeout=120,
             drives=[(str(img), "virtio")])
    assert "cc| fsposix: commit-crash armed" in b.log and "still running" not in b.log
    assert b.events("domain-crashed"), b.log[-3000:]
    assert logged_blocks(img) >= 2                  # a descriptor and its commit
    assert b"not found" in subprocess.run([tool("debugfs"), "-R", "stat /d/last", str(img)],
                                          capture_output=True).stderr.lower()
    want = {"before": content(7)[:3000], "d/last": content(7)[:5000], "tail": content(7)[:4096]}
    copy = tmp_path / "host.img"
    copy.write_bytes(img.read_bytes())
    assert subprocess.run([tool("e2fsck"), "-fp", str(copy)], capture_output=True).returncode in (0, 1)
    assert subprocess.run([tool("e2fsck"), "-fn", str(copy)], capture_output=True).returncode == 0
    for name, data in want.items():
        assert debugfs_cat(copy, name) == data, name
    b = boot(HV + section("list", "list", 0), [guest("fsposix")], timeout=120,
             drives=[(str(img), "virtio")])
    assert re.search(r"^list\| fs: vol: journal replayed \([1-9]\d* blocks\)", b.log, re.M), \
        said(b.log, "list")
    seen = listing(b.log, "list")
    for name, data in want.items():
        assert seen.get(name) == (len(data), zlib.crc32(data)), name
    assert subprocess.run([tool("e2fsck"), "-fn", str(img)], capture_output=True).returncode == 0


@pytest.mark.parametrize("smp", [1], indirect=True)
def test_damaged_logs_are_replayed_or_refused_never_a_crash(boot, tmp_path):
    """A log debugfs wrote (no checksums, so damaged copies cannot be told
    from good ones), with bytes flipped at random in its superblock,
    descriptor, data, revoke and commit blocks: every guest's mount either
    replays what still reads as a log or refuses with a reason; no guest
    crashes, and the hypervisor goes on."""
    base = tmp_path / "base.img"
    with open(base, "wb") as f:
        f.truncate(16 << 20)
    subprocess.run([tool("mkfs.ext4"), "-q", "-F", str(base)], check=True)
    cmds = tmp_path / "cmds"
    cmds.write_text("jo\njw -b 300,301,302 %s\njc\njo\njw -r 301\njc\n" % (ROOT / "README.md"))
    subprocess.run([tool("debugfs"), "-w", "-f", str(cmds), str(base)], capture_output=True,
                   check=True)
    assert logged_blocks(base) >= 3
    out = subprocess.run([tool("debugfs"), "-R", "bmap <8> 0", str(base)],
                         capture_output=True, text=True).stdout
    log_at = int(out.split()[-1]) * 1024           # mkfs.ext4's 16 MiB: 1 KiB blocks
    rnd = random.Random(int(os.environ.get("PARAVANE_CRASH_SEED", "12")))
    imgs = []
    for n in range(8):
        data = bytearray(base.read_bytes())
        for _ in range(rnd.randint(1, 6)):
            data[log_at + rnd.randrange(9 * 1024)] ^= 1 << rnd.randrange(8)
        imgs.append(tmp_path / ("d%d.img" % n))
        imgs[-1].write_bytes(bytes(data))
    for k in (0, 4):
        m = HV + "".join(section("d%d" % n, "list", n - k) for n in range(k, k + 4))
        b = boot(m, [guest("fsposix")], timeout=300, drives=[(str(p), "virtio") for p in imgs[k:k + 4]])
        assert not b.events("domain-crashed"), b.log[-3000:]
        assert "all guests have ended" in b.log
        for n in range(k, k + 4):
            code = exits(b).get("d%d" % n)
            assert code == "0" or (code == "1" and "cannot mount" in said(b.log, "d%d" % n)), \
                said(b.log, "d%d" % n)
