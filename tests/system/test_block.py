"""PV block devices (public/io/blk.h) end to end: a guest (tests/guests/
blktest) reads and writes volumes on extra QEMU disks made in the test's
tmp dir, and the host checks the image files afterwards (and the other way
round).  Disks are virtio-blk, or NVMe where the test says so."""
import random
import re
import subprocess
import sys
import time

import pytest

from conftest import BUILD, ROOT, guest

sys.path.insert(0, str(ROOT / "sdk" / "tools"))
import pvrun  # noqa: E402
import qemu  # noqa: E402

HV = """
[hypervisor]
poweroff_when_idle = yes
"""
SECTOR = 512
M64 = (1 << 64) - 1


def pattern(seed, s):
    """Sector s of blktest's pattern (blktest.h blktest_pattern)."""
    return bytes(((((s * 512 + i) * 0x9E3779B97F4A7C15 + seed) & M64) >> 56)
                 for i in range(512))


def block_line(spec, name, readonly=False):
    return "block = %s%s, name=%s" % (spec, ", ro" if readonly else "", name)


def section(name, cmdline, blocks, memory="8M"):
    lines = ["[guest %s]" % name, "image = blktest.elf", "memory = %s" % memory,
             'cmdline = "blktest %s"' % cmdline]
    lines += [block_line(*b) for b in blocks]
    return "\n".join(lines) + "\n"


def make_disk(tmp_path, name, mib, data=None):
    p = tmp_path / name
    with open(p, "wb") as f:
        f.truncate(mib << 20)
        for off, chunk in (data or {}).items():
            f.seek(off)
            f.write(chunk)
    return p


def drives(disks, kind="virtio"):
    return [(p, kind) for p in disks]


def sectors(path, first, count):
    with open(path, "rb") as f:
        f.seek(first * SECTOR)
        return f.read(count * SECTOR)


def fnv(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & M64
    return h


def ok_line(b, name, mode):
    return re.search(r"^%s\| blktest: %s ok" % (re.escape(name), mode), b.log, re.M)


@pytest.mark.parametrize("kind", ["virtio", "nvme"])
def test_guest_writes_host_reads_and_back(boot, tmp_path, kind):
    rnd = random.Random(10)
    host = bytes(rnd.getrandbits(8) for _ in range(300 * SECTOR))
    mine = make_disk(tmp_path, "mine.img", 8)
    theirs = make_disk(tmp_path, "theirs.img", 4, {7000 * SECTOR: host})
    m = HV + section("w", "write data 100 2099 7", [("disk:0", "data")])
    m += section("r", "sum data 7000 7299", [("disk:1", "data", True)])
    b = boot(m, [guest("blktest")], timeout=240, drives=drives([mine, theirs], kind))
    assert ok_line(b, "w", "write"), b.log[-3000:]
    # the host reads what the guest wrote, and nothing around it
    got = sectors(mine, 100, 2000)
    assert got == b"".join(pattern(7, s) for s in range(100, 2100))
    assert sectors(mine, 99, 1) == bytes(512) and sectors(mine, 2100, 1) == bytes(512)
    # the guest read what the host wrote
    s = re.search(r"^r\| blktest: sum ok sectors=7000..7299 fnv=([0-9a-f]{16})", b.log, re.M)
    assert s and int(s.group(1), 16) == fnv(host), b.log[-3000:]
    assert b.status == 0


def test_sector_edges_and_read_only(boot, tmp_path):
    a = make_disk(tmp_path, "a.img", 4)
    ro = make_disk(tmp_path, "ro.img", 1, {0: b"\x11" * 4096})
    m = HV + section("edge", "edges data", [("disk:0", "data")])
    m += section("ro", "ro data", [("disk:1", "data", True)])
    m += section("none", "missing nothere", [("disk:1", "data", True)])
    b = boot(m, [guest("blktest")], timeout=180, drives=drives([a, ro]))
    assert re.search(r"^edge\| blktest: edges ok last=8191$", b.log, re.M), b.log[-3000:]
    for what in ("read one past", "write one past", "read last two", "read far"):
        assert "edge| blktest: %s -> -%d" % (what, 34) in b     # -ERANGE
    assert sectors(a, 8191, 1) == pattern(77, 8191)
    assert ok_line(b, "ro", "ro")
    assert "ro| blktest: write -> -30" in b                         # -EROFS
    assert sectors(ro, 0, 8) == b"\x11" * 4096                       # untouched
    assert ok_line(b, "none", "missing")
    assert b.status == 0


def test_many_requests_in_flight(boot, tmp_path):
    d = make_disk(tmp_path, "d.img", 8)
    m = HV + section("aio", "async data 200", [("disk:0", "data")], memory="16M")
    b = boot(m, [guest("blktest")], timeout=240, drives=drives([d]))
    assert ok_line(b, "aio", "async"), b.log[-3000:]
    sub = re.search(r"aio\| blktest: async write submitted=200 completed_before_wait=(\d+)", b.log)
    assert sub and int(sub.group(1)) < 200       # really in flight together
    assert sectors(d, 199 * 8, 8) == b"".join(pattern(5, s) for s in range(199 * 8, 200 * 8))


def test_two_guests_share_a_disk_fairly(boot, tmp_path):
    """A guest with 1000 requests in flight and one doing small synchronous
    I/O on two partitions of one disk: the first is held to 32 disk I/Os at
    a time, the second gets its turns."""
    d = make_disk(tmp_path, "shared.img", 32)
    r = subprocess.run(["sgdisk", "-o", "-n", "1:2048:+12M", "-c", "1:hog",
                        "-n", "2:0:+4M", "-c", "2:small", str(d)], capture_output=True, text=True)
    if r.returncode:
        pytest.skip("sgdisk: " + (r.stderr or "not installed"))
    m = HV + section("hog", "async data 1000", [("gpt:hog", "data")], memory="16M")
    m += section("small", "write data 0 299 9", [("gpt:small", "data")])
    b = boot(m, [guest("blktest")], timeout=300, drives=drives([d]))
    assert ok_line(b, "hog", "async") and ok_line(b, "small", "write"), b.log[-4000:]
    stats = {e["name"]: e for e in b.events("blk-stats")}
    assert int(stats["hog"]["in_flight_max"]) == 32, stats      # held at the bound
    assert int(stats["hog"]["writes"]) >= 1000 and int(stats["small"]["writes"]) >= 1
    assert stats["hog"]["disconnected"] == "0"
    assert b.status == 0


def test_many_guests_at_once_each_on_its_own_disk(boot, tmp_path, smp):
    if smp < 4:
        pytest.skip("runs on -smp 4")
    disks = [make_disk(tmp_path, "g%d.img" % i, 4) for i in range(4)]
    m = HV + "".join(section("g%d" % i, "write data 0 1999 %d" % (i + 1), [("disk:%d" % i, "data")])
                     for i in range(4))
    b = boot(m, [guest("blktest")], timeout=300, drives=drives(disks))
    for i, p in enumerate(disks):
        assert ok_line(b, "g%d" % i, "write"), b.log[-3000:]
        assert sectors(p, 0, 2000) == b"".join(pattern(i + 1, s) for s in range(2000))
    assert b.status == 0


HOSTILE = ["prod", "segmem", "seglen", "cross", "nseg"]
REASONS = {"prod": "producer-index-out-of-range", "segmem": "segment-outside-guest-memory",
           "seglen": "segment-not-in-whole-sectors", "cross": "segment-crosses-a-page",
           "nseg": "bad-segment-count"}


def test_hostile_ring_disconnects_only_that_device(boot, tmp_path):
    data = make_disk(tmp_path, "data.img", 4)
    other = make_disk(tmp_path, "other.img", 1)
    by = make_disk(tmp_path, "by.img", 4)
    m = HV
    for how in HOSTILE:
        m += section("h-" + how, "hostile data " + how,
                     [("disk:0", "data", True), ("disk:1", "other", True)])
    m += section("bystander", "write data 0 999 3", [("disk:2", "data")])
    b = boot(m, [guest("blktest")], timeout=300, drives=drives([data, other, by]))
    disc = {e["name"]: e["reason"] for e in b.events("blk-disconnected")}
    for how in HOSTILE:
        assert ok_line(b, "h-" + how, "hostile"), b.log[-4000:]
        assert "h-%s| blktest: hostile %s kick -> -5" % (how, how) in b
        assert disc.get("h-" + how, "").startswith(REASONS[how]), disc
        assert "h-%s| blktest: other device ok" % how in b
    assert ok_line(b, "bystander", "write")
    assert sectors(by, 0, 1000) == b"".join(pattern(3, s) for s in range(1000))
    assert b.status == 0


def test_domain_ending_with_io_in_flight_gives_everything_back(boot, tmp_path):
    d = make_disk(tmp_path, "d.img", 8)
    m = HV + section("quit", "abandon data 100", [("disk:0", "data")], memory="16M")
    # a guest that outlives it a little: the hypervisor's memory check
    # comes when every guest has ended
    m += "[guest later]\nimage = ticker.elf\nmemory = 1M\ncmdline = \"ticker 3 100\"\n"
    b = boot(m, [guest("blktest"), guest("ticker")], timeout=180, drives=drives([d]))
    assert ok_line(b, "quit", "abandon"), b.log[-3000:]
    ev = b.event("memory-check")
    assert ev["free_kib_at_start"] == ev["free_kib_now"], ev   # bounce frames came back
    assert b.status == 0


def make_volumes(tmp_path):
    """LVM2 and GPT disks made by the real tools (tests/unit/make_volumes.py):
    the extents they report, {("lvm", lv) | ("gpt", name): (disk, [(start, n)])}."""
    out = tmp_path / "vols"
    r = subprocess.run([sys.executable, str(ROOT / "tests/unit/make_volumes.py"), str(out)],
                       capture_output=True, text=True)
    if r.returncode == 2:
        pytest.skip(r.stderr.strip())
    assert r.returncode == 0, r.stderr
    ext = {}
    for line in (out / "expect.txt").read_text().splitlines():
        w = line.split()
        if w[0] == "lvm":
            nums = [int(x) for x in w[4:]]
            ext[("lvm", w[2])] = (int(w[3]), list(zip(nums[::2], nums[1::2])))
        elif w[0] == "gpt":
            ext[("gpt", w[1])] = (2, [(int(w[3]), int(w[4]))])
    return out, ext


def volume_sectors(disks, where, first, count):
    """Sectors first.. of a volume, read from its disk through its extents."""
    disk, extents = where
    out, base = b"", 0
    for start, n in extents:
        lo, hi = max(first, base), min(first + count, base + n)
        if lo < hi:
            out += sectors(disks[disk], start + lo - base, hi - lo)
        base += n
    return out


# Four CPUs only: what it checks is the volume layer (make test's time).
@pytest.mark.parametrize("smp", [4], indirect=True)
def test_lvm_and_gpt_volumes(boot, tmp_path):
    out, ext = make_volumes(tmp_path)
    disks = [out / "pv0.img", out / "pv1.img", out / "gpt.img"]
    m = HV + section("la", "write data 8000 12500 11", [("lvm:tvg/a", "data")])
    m += section("lc", "edges data", [("lvm:tvg/c", "data")])
    m += section("gp", "write data 0 2047 12", [("gpt:logs", "data")])
    m += section("ge", "edges data", [("gpt:data", "data")])
    m += section("lo", "ro data", [("lvm:tvg/other", "data", True)])
    b = boot(m, [guest("blktest")], timeout=300, drives=drives(disks))
    for name in ("la", "gp"):
        assert ok_line(b, name, "write"), b.log[-4000:]
    assert ok_line(b, "lo", "ro")
    # a three-segment LV: what the guest wrote is where LVM2 says the LV is
    assert len(ext[("lvm", "a")][1]) >= 2
    got = volume_sectors(disks, ext[("lvm", "a")], 8000, 4501)
    assert got == b"".join(pattern(11, s) for s in range(8000, 12501))
    got = volume_sectors(disks, ext[("gpt", "logs")], 0, 2048)
    assert got == b"".join(pattern(12, s) for s in range(2048))
    for name, key in (("lc", ("lvm", "c")), ("ge", ("gpt", "data"))):
        last = sum(n for _s, n in ext[key][1]) - 1
        assert re.search(r"^%s\| blktest: edges ok last=%d$" % (name, last), b.log, re.M), b.log[-4000:]
        assert volume_sectors(disks, ext[key], last, 1) == pattern(77, last)
    assert b.status == 0


def test_missing_volume_refused_others_run(boot, tmp_path):
    d = make_disk(tmp_path, "d.img", 1)
    m = HV + section("lost", "edges data", [("disk:3", "data")])
    m += section("fine", "edges data", [("disk:0", "data")])
    m += "[guest nodev]\nimage = blktest.elf\nmemory = 8M\ncmdline = \"blktest edges data\"\n"
    b = boot(m, [guest("blktest")], timeout=120, drives=drives([d]))
    assert re.search(r"domain lost not created: block device data: .*disk:3", b.log), b.log[-3000:]
    assert "domain nodev not created: image expects 0 net and 1 block devices" in b
    refused = {e["name"] for e in b.events("domain-refused")}
    assert refused == {"lost", "nodev"}
    assert ok_line(b, "fine", "edges")


def test_disk_with_4k_blocks_refused_with_a_reason(boot, tmp_path):
    big = make_disk(tmp_path, "4k.img", 4)
    small = make_disk(tmp_path, "512.img", 4)
    m = HV + section("k4", "edges data", [("disk:0", "data")])
    m += section("k5", "edges data", [("disk:1", "data")])
    b = boot(m, [guest("blktest")], timeout=120,
             drives=[(big, "nvme", "logical_block_size=4096,physical_block_size=4096"),
                     (small, "nvme")])
    assert re.search(r"domain k4 not created: block device data: disk:0 is on a disk "
                     r"with 4096-byte blocks", b.log), b.log[-3000:]
    assert ok_line(b, "k5", "edges")


def _records_run(tmp_path, img, disk, stop_after):
    """Boot the records guest, SIGKILL QEMU (our own child) once it has
    acknowledged stop_after records; returns the last acknowledged one."""
    bg = qemu.Background(str(img), smp=1, drives=drives([disk]))
    try:
        bg.wait_for(r"blktest: acked %d$" % stop_after, timeout=120)
    finally:
        bg.proc.kill()            # a power cut: no flush, no clean exit
        bg.proc.wait()
        log = bg.log
        bg.stop()
    acked = [int(n) for n in re.findall(r"^rec\| blktest: acked (\d+)$", log, re.M)]
    assert acked, log[-3000:]
    return max(acked)


def test_acknowledged_records_survive_a_power_cut(tmp_path):
    seed = int(time.time())
    rnd = random.Random(seed)
    deadline = time.monotonic() + 420
    runs = 0
    for run in range(3):
        if time.monotonic() > deadline:
            break
        d = make_disk(tmp_path, "rec%d.img" % run, 4)
        m = HV + section("rec", "records data 3000 64", [("disk:0", "data")])
        work = tmp_path / ("run%d" % run)
        work.mkdir()
        img = pvrun.make_image(work, BUILD, m, [guest("blktest")])
        last = _records_run(work, img, d, rnd.randrange(5, 400))
        for n in range(1, last + 1):
            rec = sectors(d, 64 + n, 1)
            assert rec[:6] == b"BLKREC", (seed, run, n, last)
            assert int.from_bytes(rec[8:12], "little") == n and int.from_bytes(rec[508:], "little") == n
        runs += 1
    assert runs >= 2


def test_blkbench_does_the_io_it_reports(boot, tmp_path):
    """make bench's block guest (tests/guests/blkbench): every phase reports,
    and the disk holds what its sequential writes and flushes wrote, so the
    figures are of real I/O.  Its byte at offset o of a 56 KiB request is
    (o * 131 + 7) & 255; the flush phase writes 0x3c over 4 KiB block i."""
    d = make_disk(tmp_path, "bench.img", 4)
    m = HV + "\n".join(["[guest bb]", "image = blkbench.elf", "memory = 16M",
                        'cmdline = "blkbench data mib=2 rand_ms=200 flushes=6 -- phases=R qd=64 mib=1 rand_ms=100"',
                        "block = disk:0, name=data"]) + "\n"
    b = boot(m, [guest("blkbench")], timeout=240, drives=drives([d]))
    lines = dict(re.findall(r"^bb\| blkbench: (seq op=\w+|rand qd=\d+|flush)\b(.*)$", b.log, re.M))
    assert "bb| blkbench: done" in b and b.status == 0, b.log[-3000:]
    seq_bytes = (2 << 20) // 57344 * 57344
    for key in ("seq op=write", "seq op=read"):
        assert re.match(r" bytes=%d req=57344 depth=8 ns=[1-9]\d*$" % seq_bytes, lines[key]), lines
    for qd in (1, 32, 64):
        assert re.match(r" ops=[1-9]\d* ns=[1-9]\d*$", lines["rand qd=%d" % qd]), lines
    assert re.match(r" n=6 p50_ns=[1-9]\d* p90_ns=\d+ write_p50_ns=[1-9]\d*$", lines["flush"]), lines
    data = sectors(d, 0, (4 << 20) // SECTOR)
    assert data[:6 * 4096] == b"\x3c" * (6 * 4096)
    want = bytes(((o * 131 + 7) & 255) for o in range(256)) * (seq_bytes // 256)
    assert data[6 * 4096:seq_bytes] == want[6 * 4096:]
    assert data[seq_bytes:] == bytes(len(data) - seq_bytes)
