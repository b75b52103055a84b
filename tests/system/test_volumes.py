"""Volumes (issue 10) end to end: the hypervisor finds LVM2 logical volumes
and GPT partitions on real virtio-blk and NVMe disks (images made by lvm2's
tools and sgdisk, tests/unit/make_volumes.py), claims them one writer per
extent, and reads and writes through them (selftest = volumes,
core/selftest_volumes.c).

The host checks what a user would: the extents are where lvs and sgdisk
say; what the hypervisor read at a volume's first and last block is what
the host put there; what it wrote landed there and nowhere else (the
sectors around every extent are untouched); a read-only volume was not
written; overlapping writers, striped and spanning volumes are refused
with messages that say why.  Needs root and loop devices (make_volumes)."""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import guest

ROOT = Path(__file__).resolve().parents[2]
SECTOR = 512
EBUSY, ENOENT, EINVAL = -16, -2, -22

MANIFEST = """
[hypervisor]
log_level = info
poweroff_when_idle = yes
selftest = volumes

[guest a]
image = /paravane/hello.elf
memory = 1M
block = lvm:tvg/a
block = gpt:data
block = lvm:pvg/x, ro
block = gpt:four

[guest b]
image = /paravane/hello.elf
memory = 1M
block = lvm:tvg/other, ro
block = disk:2, name=whole
block = lvm:tvg/c
block = gpt:{logs_guid}

[guest c]
image = /paravane/hello.elf
memory = 1M
block = lvm:tvg/striped
block = lvm:tvg/span
block = lvm:nosuch/lv
block = lvm:tvg/rdonly, ro
"""

# disk:N order: how the drives are given to QEMU
DISKS = [("pv0.img", "virtio", ""), ("pv1.img", "virtio", ""), ("gpt.img", "virtio", ""),
         ("part.img", "virtio", ""),
         ("gpt4k.img", "nvme", "logical_block_size=4096,physical_block_size=4096")]


def expectations(d):
    """{spec: (disk, [(start, sectors), ...])} from make_volumes' expect.txt."""
    out, guids = {}, {}
    for line in (d / "expect.txt").read_text().splitlines():
        w = line.split()
        ext = lambda nums: [(int(nums[i]), int(nums[i + 1])) for i in range(0, len(nums), 2)]
        if w[0] in ("lvm", "lvmro") and w[1] == "tvg":
            out["lvm:tvg/" + w[2]] = (int(w[3]), ext(w[4:]))
        elif w[0] == "part":
            out["lvm:pvg/" + w[2]] = (3, ext(w[4:]))
        elif w[0] in ("gpt", "gpt4k"):
            disk = 2 if w[0] == "gpt" else 4
            out["gpt:" + w[1]] = out["gpt:" + w[2].lower()] = (disk, [(int(w[3]), int(w[4]))])
            guids[w[1]] = w[2]
    return out, guids


def read(path, sector, count):
    with open(path, "rb") as f:
        f.seek(sector * SECTOR)
        return f.read(count * SECTOR)


def write(path, sector, data):
    with open(path, "r+b") as f:
        f.seek(sector * SECTOR)
        f.write(data)


def volume_to_disk(extents, vsector):
    """The disk sector of volume sector vsector."""
    base = 0
    for start, n in extents:
        if vsector < base + n:
            return start + vsector - base
        base += n
    raise AssertionError("sector %d beyond the volume" % vsector)


def pattern(vsector, length):
    """What the self-test writes at a block starting at volume sector vsector."""
    return vsector.to_bytes(8, "little") + bytes((vsector * 5 + i) & 0xff
                                                  for i in range(8, length))


@pytest.fixture(params=[4], ids=["smp4"])
def smp(request):
    """Once, on 4 CPUs: what is tested here (the readers, claims, what the
    self-test wrote) does not depend on the CPU count, and a run is long."""
    return request.param


@pytest.fixture(scope="module")
def volumes(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.fail("the volume tests need root for losetup (CI runs as root)")
    d = tmp_path_factory.mktemp("volumes")
    r = subprocess.run([sys.executable, str(ROOT / "tests/unit/make_volumes.py"), str(d)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return d


def test_volumes_on_real_disks(boot, volumes, tmp_path):
    src = volumes
    exp, guids = expectations(src)
    paths = []
    for name, _kind, _props in DISKS:          # each boot gets fresh copies
        p = tmp_path / name
        p.write_bytes((src / name).read_bytes())
        paths.append(p)
    # Random bytes at every volume's first and last 4 KiB, to read back.
    for spec, (disk, ext) in exp.items():
        total = sum(n for _s, n in ext)
        for v in (0, total - 8):
            write(paths[disk], volume_to_disk(ext, v), os.urandom(8 * SECTOR))
    before = [p.read_bytes() for p in paths]

    manifest = MANIFEST.format(logs_guid=guids["logs"].lower())
    b = boot(manifest, files=[guest("hello")],
             drives=[(str(p), kind, props) for p, (_n, kind, props) in zip(paths, DISKS)],
             timeout=150)
    # The self-test opens every volume at boot; then the block backend
    # refuses the domains that ask for what cannot be given.
    assert "domain a not created: block device four: gpt:four is on a disk with 4096-byte blocks" in b, \
        b.log[-4000:]
    assert "domain b not created: block device gpt-" in b and "(one writer per extent)" in b
    assert "domain c not created: block device striped: lvm:tvg/striped: is striped" in b
    assert b.status == 4 and b.event("poweroff")["reason"] == "boot-error"
    evs = {(e["guest"], e["spec"]): e for e in b.events("volume")}
    assert b.event("selftest-volumes")["count"] == "9"

    # Refused at open, saying why.
    assert evs[("c", "lvm:tvg/striped")] == {"guest": "c", "spec": "lvm:tvg/striped",
                                             "ok": "0", "errno": str(EINVAL)}
    assert "hv| warn: volume: lvm:tvg/striped: is striped: only linear logical volumes" in b
    assert evs[("c", "lvm:tvg/span")]["errno"] == str(EINVAL)
    assert "lvm:tvg/span: spans physical volumes on several disks" in b
    assert evs[("c", "lvm:nosuch/lv")]["errno"] == str(ENOENT)
    assert "lvm:nosuch/lv: no volume group nosuch on any disk" in b

    # Opened where lvm2 and sgdisk put them.
    opened = {k: e for k, e in evs.items() if e["ok"] == "1"}
    assert len(opened) == 9
    for (g, spec), e in opened.items():
        key = spec if spec != "disk:2" else None
        if key:
            disk, ext = exp[key]
            assert int(e["disk"]) == disk, e
            assert int(e["extents"]) == len(ext), e
            got = [(int(x["start"]), int(x["sectors"])) for x in b.events("volume-extent")
                   if x["spec"] == spec]
            assert got == ext, (spec, got)
            assert int(e["sectors"]) == sum(n for _s, n in ext)
    assert len(exp["lvm:tvg/a"][1]) == 3                 # a multi-segment LV

    # One writer per extent: disk:2 overlaps guest a's gpt:data.
    whole = evs[("b", "disk:2")]
    assert whole["claim"] == str(EBUSY) and whole["head"] == "-" and whole["wrote"] == "0"
    assert "hv| warn: volume: disk:2: domain 1 writes gpt:data, which overlaps it" in b
    assert read(paths[2], 0, 64) == before[2][:64 * SECTOR]

    for (g, spec), e in opened.items():
        if spec == "disk:2":
            continue
        disk, ext = exp[spec]
        bs = 4096 if disk == 4 else 512
        per = bs // SECTOR
        total = sum(n for _s, n in ext)
        assert e["claim"] == "0" and e["io"] == "0", e
        for field, v in (("head", 0), ("tail", total - per)):
            orig = before[disk][volume_to_disk(ext, v) * SECTOR:][:bs]
            assert e[field] == hashlib.sha256(orig).hexdigest()[:16], (spec, field)
        ro = spec in ("lvm:pvg/x", "lvm:tvg/other", "lvm:tvg/rdonly")
        assert e["refused"] == ("1" if ro else "0") and e["wrote"] == ("0" if ro else "1"), e

    # What was written is where it belongs, and nothing else changed.
    after = [p.read_bytes() for p in paths]
    expected = [bytearray(x) for x in before]
    for (g, spec), e in opened.items():
        if e["wrote"] != "1":
            continue
        disk, ext = exp[spec]
        bs = 4096 if disk == 4 else 512
        total = sum(n for _s, n in ext)
        for v in (0, total - bs // SECTOR):
            at = volume_to_disk(ext, v) * SECTOR
            expected[disk][at:at + bs] = pattern(v, bs)
    for i in range(len(paths)):
        assert after[i] == bytes(expected[i]), "disk %d: bytes changed that no volume owns" % i
