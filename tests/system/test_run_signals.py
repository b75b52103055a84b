"""`make run` as a user or a supervisor stops it: SIGTERM, SIGHUP or SIGINT
to make alone or to its whole process group must end make, qemu.py and
QEMU within a few seconds, with a status that says it was stopped.  And a
host port that is already taken is reported, with advice, before QEMU
starts.

These run the real `make run` on the test build (already built, so make
only boots it), each in a session of its own so that every process it
starts can be found and checked afterwards."""
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import BUILD, ROOT

STOP_BOUND = 10        # seconds from the signal to make's exit
SERVE_BOUND = 150      # seconds from `make run` to the first HTTP answer


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_run(port, *extra):
    # The outer make's jobserver and flags must not leak into this one.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.Popen(
        ["make", "--no-print-directory", "-C", str(ROOT), "run", "O=%s" % BUILD,
         "DEFCONFIG=configs/test_defconfig", "HTTP_PORT=%d" % port, *extra],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True, env=env, preexec_fn=default_signals)


def default_signals():
    """A shell without job control starts background jobs with SIGINT and
    SIGQUIT ignored, and the ignoring is inherited: a `make test` run that
    way would make these tests fail for make's parent's reasons.  A user's
    `make run` gets the defaults; so does this one."""
    for sig in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)


def session_procs(sid):
    """{pid: command name} of every live (not zombie) process in session sid."""
    out = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[3]) == sid:   # state, ..., session
            out[int(d.name)] = comm
    return out


def wait_served(proc, port):
    deadline = time.monotonic() + SERVE_BOUND
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=3) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(1)
    return False


@pytest.mark.parametrize("sig,target", [
    (signal.SIGTERM, "group"), (signal.SIGHUP, "group"), (signal.SIGINT, "group"),
    (signal.SIGTERM, "make"), (signal.SIGHUP, "make"), (signal.SIGINT, "make"),
])
def test_make_run_stops_on_signal(sig, target):
    port = free_port()
    proc = make_run(port)
    try:
        assert wait_served(proc, port), "the web guest never answered on port %d" % port
        qemus = [p for p, c in session_procs(proc.pid).items() if c.startswith("qemu-system")]
        assert len(qemus) == 1, session_procs(proc.pid)
        sent = time.monotonic()
        if target == "group":
            os.killpg(proc.pid, sig)
        else:
            os.kill(proc.pid, sig)
        try:
            out = proc.communicate(timeout=STOP_BOUND)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            pytest.fail("make run still running %d s after %s to %s: %s" % (
                STOP_BOUND, sig.name, target, session_procs(proc.pid)))
        took = time.monotonic() - sent
        assert proc.returncode in (-sig, 128 + sig), (proc.returncode, out[-2000:])
        assert "stopped by %s" % sig.name in out, out[-2000:]
        left = session_procs(proc.pid)
        assert not left, "left behind: %s" % left
        with pytest.raises(ProcessLookupError):
            os.kill(qemus[0], 0)
        print("%s to %s: make ended in %.2f s" % (sig.name, target, took))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_make_run_reports_taken_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = make_run(port)
        out = proc.communicate(timeout=60)[0].decode(errors="replace")
    assert proc.returncode != 0
    assert "port %d on 127.0.0.1 is in use; run `make run HTTP_PORT=" % port in out, out
    assert "qemu-system" not in out and "Could not set up host forwarding" not in out, out
    # the suggested port is free and differs
    suggested = int(out.split("HTTP_PORT=")[-1].split("`")[0])
    assert suggested != port
