"""System-test harness: build a disk image for a manifest, boot it in QEMU
(TCG, OVMF) under a timeout, and hand the serial log back to the test.

PARAVANE_BUILD points at a test build (CONFIG_TEST_HOOKS=y), made by
`make test-system`.  Tests assert on the stable "@event ..." lines and on
the power-off status the hypervisor reports through isa-debug-exit.
"""
import os
import re
import signal
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sdk" / "tools"))
import pvrun  # noqa: E402  (sdk/tools/pvrun.py)
import qemu  # noqa: E402  (sdk/tools/qemu.py)

BUILD = Path(os.environ.get("PARAVANE_BUILD", ROOT / "build" / "test"))


def _interrupt(signum, _frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)


def pytest_configure(config):
    """A test run told to stop (SIGTERM, SIGHUP) ends like Ctrl-C: fixtures
    tear down, so every QEMU a test started is stopped by its PID."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test that fails while a background QEMU still runs shows the end of
    that machine's serial log: the guest's side of what went wrong."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for i, vm in enumerate(list(qemu.Background.running)):
            report.sections.append(("serial log of running QEMU %d (last 6000 chars)" % i, vm.log[-6000:]))


class Boot:
    """One QEMU run: the log, parsed events and the verdict."""

    def __init__(self, result):
        self.result = result
        self.log = result.log
        self.timed_out = result.timed_out
        self.status = result.hv_status

    def events(self, name):
        """Every '@event NAME k=v ...' line as a dict."""
        return pvrun.events(self.log, name)

    def event(self, name):
        ev = self.events(name)
        assert ev, "no '@event %s' line in the log:\n%s" % (name, self.log[-4000:])
        return ev[-1]

    def lines(self, prefix):
        return [l for l in self.log.splitlines() if l.startswith(prefix)]

    def __contains__(self, text):
        return text in self.log


# Every system test runs once per CPU count here: 1 (QEMU's single-threaded
# TCG path, the classic case) and 4 (multi-threaded TCG, every CPU busy).
SMP = [int(n) for n in os.environ.get("PARAVANE_SMP", "1,4").split(",")]


@pytest.fixture(params=SMP, ids=lambda n: "smp%d" % n)
def smp(request):
    """The CPU count this test's machine gets (-smp)."""
    return request.param


# Boots already made in this session, by test module and every argument:
# tests that each check a different part of one run share it.  A boot with
# disks is never shared (its test may look at or change the images).
_BOOTS = {}


@pytest.fixture
def boot(request, tmp_path, smp):
    """boot(manifest_text, files=[(src, dest)], timeout=..., until=regex, ...)"""
    def run(manifest, files=(), timeout=90, until=None, check=True, **kw):
        kw.setdefault("smp", smp)
        key = None if kw.get("drives") else \
            repr((request.module.__name__, manifest, list(files), timeout, until, check, sorted(kw.items())))
        if key not in _BOOTS:
            img = pvrun.make_image(tmp_path, BUILD, manifest, files, check)
            b = Boot(qemu.run(str(img), timeout=timeout, until=until, **kw))
            if key is None:
                (tmp_path / "serial.log").write_text(b.log)
                return b
            _BOOTS[key] = b
        (tmp_path / "serial.log").write_text(_BOOTS[key].log)
        return _BOOTS[key]
    return run


def guest(name):
    """(source, ESP path) of a built guest image: apps/ and tests/guests/."""
    return pvrun.guest_image(BUILD, name)
