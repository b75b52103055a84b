"""sdk/tools/mkdisk.py makes the images docs/storage.md says it makes:
GPT partitions with the asked names and sizes (read back with sgdisk),
an LVM2 volume group with the asked logical volumes (read back with lvs
through a loop device), and clear errors for bad specs.  Run by `make
test-tools`; --lvm needs root and loop devices (CI runs as root).
"""
import os
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
