"""Physical disk drivers (issue 10): virtio-blk and NVMe found at PCI
probe, registered as disk:0, disk:1..., and exercised by the test build's
disk self-test before any block backend exists.

The self-test writes a pattern to the start of each disk's last MiB with
96 I/Os submitted at once (more than either driver has room for, so
some wait their turn), flushes, reads it back, reads sector 0 and reports.
The host checks what a user would: the pattern really is in the image
file at the right offset afterwards, and the hypervisor read the sector 0
the host wrote before boot."""
import hashlib
import os
import re

import pytest

MIB = 1 << 20
SECTOR = 512
ASYNC_SECTORS = 96 * 8          # 96 page-sized I/Os
SYNC_SECTORS = 6144 // SECTOR   # then disk_write_sync of 6 KiB

HV = """
[hypervisor]
log_level = info
poweroff_when_idle = yes
selftest = disk
"""


def make_disk(path, size):
    """A sparse raw image with random bytes in sector 0; returns them."""
    head = os.urandom(SECTOR)
    with open(path, "wb") as f:
        f.truncate(size)
        f.write(head)
    return head


def pattern(sector):
    """What the self-test writes to `sector` (core/selftest_disk.c)."""
    body = bytes((sector * 7 + i) & 0xff for i in range(8, SECTOR))
    return sector.to_bytes(8, "little") + body


def read_sectors(path, first, count):
    with open(path, "rb") as f:
        f.seek(first * SECTOR)
        return f.read(count * SECTOR)


def by_index(events):
    return {int(e["index"]): e for e in events}


def check_written(path, size, ev):
    """The pattern is in the file where the last MiB starts, nowhere else
    the test looked."""
    base = size // SECTOR - 2048
    assert int(ev["base"]) == base
    n = ASYNC_SECTORS + SYNC_SECTORS
    data = read_sectors(path, base, n + 1)
    for k in range(n):
        assert data[k * SECTOR:(k + 1) * SECTOR] == pattern(base + k), \
            "sector %d of %s does not hold the pattern" % (base + k, path)
    assert data[n * SECTOR:] == bytes(SECTOR)       # one past the end: untouched


def test_virtio_blk_and_nvme(boot, tmp_path):
    vda, nvme = tmp_path / "vda.img", tmp_path / "nvme.img"
    sizes = {0: 64 * MIB, 1: 32 * MIB}
    heads = {0: make_disk(vda, sizes[0]), 1: make_disk(nvme, sizes[1])}
    b = boot(HV, drives=[(str(vda), "virtio"), (str(nvme), "nvme")], timeout=120)
    assert b.status == 0, b.log[-4000:]

    disks = by_index(b.events("disk"))
    assert disks[0]["name"] == "vda" and disks[0]["driver"] == "virtio-blk"
    assert disks[1]["name"] == "nvme0n1" and disks[1]["driver"] == "nvme"
    for i, size in sizes.items():
        assert int(disks[i]["sectors"]) == size // SECTOR
        assert disks[i]["volatile_cache"] == "1"       # QEMU's default cache=writeback
        assert disks[i]["readonly"] == "0"
    # QEMU offers indirect descriptors: a whole guest request per virtio request
    assert disks[0]["max_segs"] == "14" and disks[1]["max_segs"] == "1"
    assert "hv| disk: 0 vda virtio-blk 64 MiB, volatile cache" in b
    assert "hv| disk: 1 nvme0n1 nvme 32 MiB, volatile cache" in b

    tests = by_index(b.events("selftest-disk"))
    assert sorted(tests) == [0, 1]
    for i, path in ((0, vda), (1, nvme)):
        ev = tests[i]
        assert ev["ok"] == "1" and ev["wrote"] == "1", ev
        # the queue filled up: as many in flight as the driver said it allows
        room = re.search(r"hv\| pci: .* %s queue \d+ \((\d+) in flight\)" % ev["name"], b.log)
        assert int(ev["in_flight_max"]) == int(room.group(1)) >= 32, ev
        assert int(ev["irqs"]) > 0 and ev["polled"] == "0", ev   # interrupt-driven
        assert ev["refused"] == "1" and ev["errors"] == "0", ev
        assert int(ev["flushes"]) >= 2, ev
        assert ev["sector0_sha256"] == hashlib.sha256(heads[i]).hexdigest()
        check_written(path, sizes[i], ev)
        assert read_sectors(path, 0, 1) == heads[i]    # sector 0 only read
    assert "hv| disk: " in b and " failed" not in "\n".join(b.lines("hv| selftest"))


@pytest.mark.parametrize("smp", [1], ids=["smp1"])
def test_no_disks_no_errors(boot):
    b = boot(HV)
    assert b.status == 0, b.log[-4000:]
    assert not b.events("disk") and not b.events("selftest-disk")
    assert b.event("selftest-disks") == {"count": "0"}
    assert "hv| disk: no disks" in b
    assert not [l for l in b.lines("hv| ") if "disk" in l and ("warn" in l or "fail" in l)]


@pytest.mark.parametrize("smp", [1], ids=["smp1"])
def test_tiny_disks_registered_not_written(boot, tmp_path):
    vda, nvme = tmp_path / "vda.img", tmp_path / "nvme.img"
    heads = {0: make_disk(vda, MIB), 1: make_disk(nvme, MIB)}
    before = {0: vda.read_bytes(), 1: nvme.read_bytes()}
    b = boot(HV, drives=[(str(vda), "virtio"), (str(nvme), "nvme")], timeout=120)
    assert b.status == 0, b.log[-4000:]
    disks = by_index(b.events("disk"))
    assert [disks[i]["sectors"] for i in (0, 1)] == ["2048", "2048"]
    assert "hv| disk: 0 vda virtio-blk 1 MiB, volatile cache" in b
    tests = by_index(b.events("selftest-disk"))
    for i, path in ((0, vda), (1, nvme)):
        assert tests[i]["ok"] == "1" and tests[i]["wrote"] == "0", tests[i]
        assert tests[i]["writes"] == "0"
        assert tests[i]["sector0_sha256"] == hashlib.sha256(heads[i]).hexdigest()
        assert path.read_bytes() == before[i]


FOUR_K = "logical_block_size=4096,physical_block_size=4096"


@pytest.mark.parametrize("smp", [1], ids=["smp1"])
def test_4096_byte_blocks(boot, tmp_path):
    """Both drivers on 4 KiB-block devices: 512-byte I/O is refused, the
    synchronous readers still read sector 0 and write 6 KiB (the partial
    block by read-modify-write), the pattern lands in the file."""
    vda, nvme = tmp_path / "vda.img", tmp_path / "nvme.img"
    size = 16 * MIB
    heads = {0: make_disk(vda, size), 1: make_disk(nvme, size)}
    b = boot(HV, drives=[(str(vda), "virtio", FOUR_K), (str(nvme), "nvme", FOUR_K)],
             timeout=120)
    assert b.status == 0, b.log[-4000:]
    disks = by_index(b.events("disk"))
    assert [disks[i]["block_size"] for i in (0, 1)] == ["4096", "4096"]
    assert "hv| disk: 1 nvme0n1 nvme 16 MiB, volatile cache, 4096-byte blocks (no 512-byte I/O)" in b
    tests = by_index(b.events("selftest-disk"))
    for i, path in ((0, vda), (1, nvme)):
        ev = tests[i]
        assert ev["ok"] == "1" and ev["wrote"] == "1" and ev["refused"] == "1", ev
        assert ev["sector0_sha256"] == hashlib.sha256(heads[i]).hexdigest()
        check_written(path, size, ev)


@pytest.mark.parametrize("smp", [1], ids=["smp1"])
def test_read_only_virtio_disk(boot, tmp_path):
    """VIRTIO_BLK_F_RO: the disk says read-only, the self-test does not
    write it, sector 0 still reads, the file is unchanged."""
    vda = tmp_path / "vda.img"
    head = make_disk(vda, 8 * MIB)
    before = vda.read_bytes()
    b = boot(HV, drives=[(str(vda), "virtio", "readonly=on")], timeout=120)
    assert b.status == 0, b.log[-4000:]
    assert b.event("disk")["readonly"] == "1"
    assert "hv| disk: 0 vda virtio-blk 8 MiB, volatile cache, read-only" in b
    ev = b.event("selftest-disk")
    assert ev["ok"] == "1" and ev["wrote"] == "0" and ev["writes"] == "0", ev
    assert ev["refused"] == "1", ev                # a write among them
    assert ev["sector0_sha256"] == hashlib.sha256(head).hexdigest()
    assert vda.read_bytes() == before


def test_every_cpu_reads_at_once(boot, tmp_path, smp):
    """Once domains run, every CPU reads the pattern back at the same time
    (16 reads in flight each, polling): completions are reaped by whichever
    CPU comes first, so done() runs on CPUs other than the submitter's."""
    from conftest import guest
    vda, nvme = tmp_path / "vda.img", tmp_path / "nvme.img"
    make_disk(vda, 8 * MIB)
    make_disk(nvme, 8 * MIB)
    keepalive = '[guest sleeper]\nimage = sleeper.elf\nmemory = 1M\ncmdline = "sleeper 300 50"\n'
    b = boot(HV + keepalive, [guest("sleeper")], drives=[(str(vda), "virtio"), (str(nvme), "nvme")],
             timeout=180, until=r"@event selftest-disk-smp ")
    ev = b.event("selftest-disk-smp")
    cpus = int(ev["cpus"])
    assert cpus == smp
    assert ev["ok"] == "1" and ev["bad"] == "0", ev
    assert int(ev["ios"]) == cpus * 2 * 24 * 16, ev
    if smp > 1:
        assert int(ev["foreign"]) > 0, ev              # done() on another CPU
    assert "PANIC" not in b.log and "lock" not in "\n".join(b.lines("hv| ====")), b.log[-3000:]
