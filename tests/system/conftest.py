"""System-test harness: build a disk image for a manifest, boot it in QEMU
(TCG, OVMF) under a timeout, and hand the serial log back to the test.

PARAVANE_BUILD points at a test build (CONFIG_TEST_HOOKS=y), made by
`make test-system`.  Tests assert on the stable "@event ..." lines and on
the power-off status the hypervisor reports through isa-debug-exit.
"""
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sdk" / "tools"))
import qemu  # noqa: E402  (sdk/tools/qemu.py)

BUILD = Path(os.environ.get("PARAVANE_BUILD", ROOT / "build" / "test"))
PY = "/usr/bin/python3"


class Boot:
    """One QEMU run: the log, parsed events and the verdict."""

    def __init__(self, result):
        self.result = result
        self.log = result.log
        self.timed_out = result.timed_out
        self.status = result.hv_status

    def events(self, name):
        """Every '@event NAME k=v ...' line as a dict."""
        out = []
        for m in re.finditer(r"^@event %s((?: \S+=\S*)*)\s*$" % re.escape(name), self.log, re.M):
            out.append(dict(kv.split("=", 1) for kv in m.group(1).split()))
        return out

    def event(self, name):
        ev = self.events(name)
        assert ev, "no '@event %s' line in the log:\n%s" % (name, self.log[-4000:])
        return ev[-1]

    def lines(self, prefix):
        return [l for l in self.log.splitlines() if l.startswith(prefix)]

    def __contains__(self, text):
        return text in self.log


def make_image(tmp_path, manifest, files=(), check=True):
    conf = tmp_path / "manifest.conf"
    conf.write_text(textwrap.dedent(manifest).lstrip())
    img = tmp_path / "paravane.img"
    cmd = [PY, str(ROOT / "sdk/tools/mkimage.py"), "--out", str(img),
           "--loader", str(BUILD / "boot/BOOTX64.EFI"),
           "--hypervisor", str(BUILD / "hypervisor/paravane.elf"),
           "--manifest", str(conf)]
    if check:
        cmd += ["--check-manifest", str(BUILD / "tools/check-manifest")]
    for src, dest in files:
        cmd += ["--file", "%s:%s" % (src, dest)]
    subprocess.run(cmd, check=True, capture_output=True)
    return img


@pytest.fixture
def boot(tmp_path):
    """boot(manifest_text, files=[(src, dest)], timeout=..., until=regex, ...)"""
    def run(manifest, files=(), timeout=90, until=None, check=True, **kw):
        img = make_image(tmp_path, manifest, files, check)
        b = Boot(qemu.run(str(img), timeout=timeout, until=until, **kw))
        (tmp_path / "serial.log").write_text(b.log)
        return b
    return run


def guest(name, dest=None):
    """(source, ESP path) of a built guest image: apps/ and tests/guests/."""
    return (BUILD / "apps" / name / ("%s.elf" % name), "/paravane/%s.elf" % (dest or name))
