#!/usr/bin/python3
"""Crash runs on the POSIX file layer (docs/files.md, "Consistency today"):
boot the fsposix guest in `crash` mode on a fresh 16 MiB ext4, kill QEMU
after a random 0.5-6 s of acknowledged files, run `e2fsck -fp` on the
volume, then check every acknowledged file's content with debugfs
(after `e2fsck -fy`, so that a volume preen refused can still be read).

    PARAVANE_BUILD=$PWD/build/test /usr/bin/python3 tests/tools/fs_crash_runs.py [RUNS]

A measurement, not a test: without the journal (issue 11's next step) the
layer does not yet promise what it checks, and this says how often that
shows.  Each run prints e2fsck's exit code and the acknowledged files
that are wrong."""
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sdk" / "tools"))
import pvrun  # noqa: E402
import qemu  # noqa: E402

BUILD = os.environ.get("PARAVANE_BUILD", str(ROOT / "build" / "test"))
MANIFEST = """
[hypervisor]
log_level = info
[guest crash]
image = fsposix.elf
memory = 24M
cmdline = "fsposix crash /data"
block = disk:0, name=vol
mount = /data:vol
"""
NAMES = 64                      # crash.c: file0 .. file63
LATER = 64 * 200                # rounds acknowledged after the last one logged


def content(i):
    """What round i of crash.c writes."""
    n = (i * 7919) % 40000
    return bytes(((i * 31 + k * 7) & 0xFF) for k in range(n))


def one_run(tmp):
    img = os.path.join(tmp, "v.img")
    with open(img, "wb") as f:
        f.truncate(16 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", img], check=True)
    boot = pvrun.make_image(tmp, BUILD, MANIFEST, [pvrun.guest_image(BUILD, "fsposix")])
    vm = qemu.Background(str(boot), drives=[(img, "virtio")])
    try:
        vm.wait_for(r"crash\| fsposix: ack", 120)
        time.sleep(random.uniform(0.5, 6))
    finally:
        vm.stop()
    acks = [(m.group(1), int(m.group(2)))
            for m in re.finditer(r"crash\| fsposix: ack (\S+) i=(\d+)", vm.log)]
    preen = subprocess.run(["e2fsck", "-fp", img], capture_output=True, text=True)
    subprocess.run(["e2fsck", "-fy", img], capture_output=True)
    last = dict(acks)
    wrong = []
    for name, i in last.items():
        got = subprocess.run(["debugfs", "-R", "cat /%s" % name, img], capture_output=True).stdout
        # The acknowledged version or a later one: the console runs behind
        # the guest, so acknowledgements still in the hypervisor's buffer
        # when QEMU is killed never reach the log.  (file0 is also unlinked.)
        if name != "file0" and not any(got == content(j) for j in range(i, i + LATER, NAMES)):
            wrong.append(name)
    return len(acks), preen.returncode, wrong


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for r in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            acks, rc, wrong = one_run(tmp)
        print("run %d: %d acknowledged, e2fsck -fp exit %d%s, wrong: %s"
              % (r, acks, rc, " (fixed by itself)" if rc in (0, 1) else " (asks)",
                 " ".join(wrong) or "none"))


if __name__ == "__main__":
    with qemu.stop_signals():
        main()
