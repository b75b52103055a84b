"""Physical disk drivers (issue 10): virtio-blk and NVMe found at PCI
probe, registered as disk:0, disk:1..., and exercised by the test build's
disk self-test before any block backend exists.

The self-test writes a pattern to the start of each disk's last MiB with
32 I/Os in flight, flushes, reads it back, reads sector 0 and reports.
The host checks what a user would: the pattern really is in the image
file at the right offset afterwards, and the hypervisor read the sector 0
the host wrote before boot."""
import hashlib
import os

import pytest

MIB = 1 << 20
SECTOR = 512
ASYNC_SECTORS = 32 * 8          # 32 page-sized I/Os
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
    assert "hv| disk: 0 vda virtio-blk 64 MiB, volatile cache" in b
    assert "hv| disk: 1 nvme0n1 nvme 32 MiB, volatile cache" in b

    tests = by_index(b.events("selftest-disk"))
    assert sorted(tests) == [0, 1]
    for i, path in ((0, vda), (1, nvme)):
        ev = tests[i]
        assert ev["ok"] == "1" and ev["wrote"] == "1", ev
        assert int(ev["in_flight_max"]) >= 16, ev      # the 32 went out together
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
