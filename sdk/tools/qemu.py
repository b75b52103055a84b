#!/usr/bin/python3
"""Boot a Paravane disk image in QEMU (TCG) with OVMF.

Used three ways:
  make run     qemu.py --image IMG --interactive
  make debug   qemu.py --image IMG --interactive --gdb --symbols ELF
  tests        import qemu; r = qemu.run(img, until=r"domain .* exited")

Every non-interactive run has a timeout; QEMU is only ever stopped by the
PID this module started.  The image is opened with snapshot=on, so runs may
share one image and never modify it.  With net (a list of host forwards,
possibly empty) the machine gets a modern-only virtio-net NIC on QEMU's
user-mode network 10.0.2.0/24; host forwards are only ever bound to
127.0.0.1.  Python 3 standard library only.
"""

import argparse
import dataclasses
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time

QEMU = "qemu-system-x86_64"
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
EXIT_PORT = 0xf4  # isa-debug-exit: outl(v) -> QEMU exits with (v << 1) | 1

# OVMF's ConOut on the serial port is a terminal: colours, cursor moves.
ANSI_RE = re.compile(r"\x1b(\[[0-9;?=]*[ -/]*[@-~]|[()][A-Za-z0-9]|[=>cDEHM78])")

INTERACTIVE_BANNER = ("Paravane in QEMU (TCG). Serial console below; "
                      "press Ctrl-A then X to quit.")


LOADER_FAILED = 0x7e   # boot/: a fatal loader error in a test build

NET_SUBNET = "10.0.2.0/24"   # slirp: gateway .2, DNS .3, first DHCP lease .15
HOSTFWD_RE = re.compile(r"^(tcp|udp):([^:]*):(\d+)-([0-9.]*):(\d+)$")


@dataclasses.dataclass
class Result:
    log: str                 # cleaned serial output, "\n" separated
    lines: list              # the same, one string per line
    times: list              # seconds since start at which each line arrived
    returncode: int          # QEMU's exit code (negative: killed by signal)
    exit_status: object      # isa-debug-exit value, or None
    timed_out: bool
    elapsed: float           # wall seconds
    match: object = None     # re.Match of `until`, if it matched
    stderr: str = ""         # QEMU's own messages
    cmd: list = dataclasses.field(default_factory=list)

    @property
    def hv_status(self):
        """The hypervisor's power-off status (hv/power.h): it writes
        status + 1 to the port.  LOADER_FAILED when the loader gave up."""
        if self.exit_status is None or self.exit_status == LOADER_FAILED:
            return None
        return self.exit_status - 1

    def __str__(self):
        if self.timed_out:
            how = "timed out"
        elif self.match:
            how = "matched %r" % self.match.group(0)
        elif self.exit_status is not None:
            how = "exit status %d" % self.exit_status
        else:
            how = "rc %d" % self.returncode
        return "qemu: %s after %.1f s, %d lines" % (how, self.elapsed,
                                                   len(self.lines))


def clean(text):
    """Serial bytes as text: no ANSI escapes, no CRs."""
    return ANSI_RE.sub("", text).replace("\r", "")


def exit_status(returncode):
    """isa-debug-exit encodes value v as (v << 1) | 1; plain exits are even
    (0 for a shutdown, a triple fault with -no-reboot or a terminated run)."""
    if returncode > 1 and returncode % 2 == 1:
        return (returncode - 1) // 2
    return None


def hostfwd(rule):
    """Check one host forward, "tcp:127.0.0.1:8080-10.0.2.15:80"; an empty
    host address means 127.0.0.1.  Anything else on the host side is
    refused: a test run must not listen on the machine's real interfaces."""
    m = HOSTFWD_RE.match(rule)
    if not m:
        raise ValueError("hostfwd %r: want PROTO:127.0.0.1:HOSTPORT-GUESTIP:GUESTPORT"
                         % rule)
    proto, host, hport, guest, gport = m.groups()
    if host not in ("", "127.0.0.1"):
        raise ValueError("hostfwd %r: host address must be 127.0.0.1" % rule)
    if not (0 < int(hport) < 65536 and 0 < int(gport) < 65536):
        raise ValueError("hostfwd %r: port out of range" % rule)
    return "%s:127.0.0.1:%s-%s:%s" % (proto, hport, guest, gport)


def net_args(net):
    """QEMU arguments for a user-mode network and a modern-only
    virtio-net-pci NIC; net is an iterable of host forwards (may be empty)."""
    netdev = "user,id=n0,net=" + NET_SUBNET
    for rule in net:
        netdev += ",hostfwd=" + hostfwd(rule)
    return ["-netdev", netdev,
            "-device", "virtio-net-pci,netdev=n0,disable-legacy=on"]


def command(image, vars_file, memory="512M", smp=1, icount=None, gdb=False,
            serial="stdio", extra_args=(), net=None):
    # The boot disk is on q35's AHCI (if=ide), not virtio: it boots as fast
    # (measured) and leaves every virtio-blk device to the tests.
    cmd = [QEMU, "-machine", "q35", "-cpu", "max", "-m", str(memory),
           "-smp", str(smp), "-nodefaults", "-display", "none", "-no-reboot",
           "-drive", "if=pflash,format=raw,readonly=on,file=" + OVMF_CODE,
           "-drive", "if=pflash,format=raw,file=" + vars_file,
           "-drive", "if=ide,format=raw,snapshot=on,file=" + image,
           "-serial", serial,
           "-device", "isa-debug-exit,iobase=%#x,iosize=0x04" % EXIT_PORT]
    if icount is not None:
        # deterministic guest time; icount rules out MTTCG anyway
        cmd += ["-icount", "shift=%s,sleep=off" % icount,
                "-accel", "tcg,thread=single"]
    if gdb:
        cmd += ["-s", "-S"]
    if net is not None:
        cmd += net_args([] if net is True else [net] if isinstance(net, str) else net)
    return cmd + list(extra_args)


def _fresh_vars(tmpdir):
    path = os.path.join(tmpdir, "OVMF_VARS.fd")
    shutil.copyfile(OVMF_VARS, path)
    return path


def _emit(stream, line):
    if stream is None:
        return
    if callable(stream):
        stream(line)
    else:
        stream.write(line + "\n")
        stream.flush()


def _stop(proc, grace=0.0):
    """Terminate the QEMU we started (by its PID), then make sure.
    Returns True if it was still running after grace seconds."""
    try:
        proc.wait(timeout=grace)
        return False
    except subprocess.TimeoutExpired:
        pass
    proc.terminate()
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return True


class _Reader:
    """Splits QEMU's stdout into clean lines and watches for `until`."""

    def __init__(self, until, stream, start):
        self.until = re.compile(until) if isinstance(until, str) else until
        self.stream, self.start = stream, start
        self.pending, self.lines, self.times = "", [], []
        self.match = None

    def feed(self, text, final=False):
        self.pending += text
        parts = self.pending.split("\n")
        self.pending = "" if final else parts.pop()
        for raw in parts:
            if final and raw == "":
                continue
            line = clean(raw)
            self.lines.append(line)
            self.times.append(time.monotonic() - self.start)
            _emit(self.stream, line)
            if self.until and not self.match:
                self.match = self.until.search(line)


def _pump(proc, reader, deadline):
    """Read stdout/stderr until EOF, a match or the deadline.  Returns
    (stderr text, timed_out)."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    sel.register(proc.stderr, selectors.EVENT_READ)
    err = b""
    while sel.get_map() and not reader.match:
        left = deadline - time.monotonic()
        if left <= 0:
            return err.decode(errors="replace"), True
        for key, _ in sel.select(min(left, 0.5)):
            data = os.read(key.fd, 65536)
            if not data:
                sel.unregister(key.fileobj)
            elif key.fileobj is proc.stdout:
                reader.feed(data.decode(errors="replace"))
            else:
                err += data
    return err.decode(errors="replace"), False


def run(image, timeout=60, until=None, extra_args=(), icount=None, gdb=False,
        memory="512M", smp=1, stream=None, net=None):
    """Boot image headless; returns a Result.

    until:  regex (str or compiled); stop QEMU as soon as a line matches.
    stream: file or callable that gets every clean line as it arrives.
    net:    None (no NIC), or a list of host forwards (may be empty), e.g.
            ["tcp:127.0.0.1:8080-10.0.2.15:80"]: adds a virtio-net NIC.
    """
    if not os.path.isfile(image):
        raise FileNotFoundError(image)
    with tempfile.TemporaryDirectory(prefix="paravane-qemu-") as tmp:
        cmd = command(image, _fresh_vars(tmp), memory, smp, icount, gdb,
                      "stdio", extra_args, net)
        start = time.monotonic()
        reader = _Reader(until, stream, start)
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        timed_out, grace = True, 0.0
        try:
            err, timed_out = _pump(proc, reader, start + timeout)
            # EOF: QEMU is exiting by itself; let it finish, keep its status
            grace = 0.0 if timed_out or reader.match else 5.0
        finally:
            killed = _stop(proc, grace)
            rest = proc.stdout.read()  # whatever came after the last select
            proc.stdout.close()
            proc.stderr.close()
        reader.feed(rest.decode(errors="replace"), final=True)
        elapsed = time.monotonic() - start
    rc = proc.returncode
    return Result(log="\n".join(reader.lines), lines=reader.lines,
                  times=reader.times, returncode=rc,
                  exit_status=None if killed else exit_status(rc),
                  timed_out=timed_out, elapsed=elapsed, match=reader.match,
                  stderr=err, cmd=cmd)


def interactive(image, gdb=False, symbols=None, icount=None, memory="512M",
                smp=1, extra_args=(), net=None):
    """make run / make debug: the serial console on this terminal."""
    print(INTERACTIVE_BANNER)
    if gdb:
        sym = symbols or "build/hypervisor/paravane.elf"
        print("QEMU waits for gdb on :1234. In another terminal:")
        print("  gdb -ex 'target remote :1234' -ex 'symbol-file %s'" % sym)
        print("then e.g. 'hbreak hv_main' and 'continue' (use hbreak: the "
              "hypervisor is not mapped until the loader jumps).")
    sys.stdout.flush()
    with tempfile.TemporaryDirectory(prefix="paravane-qemu-") as tmp:
        cmd = command(image, _fresh_vars(tmp), memory, smp, icount, gdb,
                      "mon:stdio", extra_args, net)
        proc = subprocess.Popen(cmd)
        # if we are told to stop, stop our QEMU too (by its PID)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda *_: _stop(proc))
        return proc.wait()


def parse_args(argv):
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    p = argparse.ArgumentParser(
        description="Boot a Paravane disk image in QEMU with OVMF.",
        epilog="Arguments after -- go to QEMU unchanged.")
    p.add_argument("--image", required=True)
    p.add_argument("--interactive", action="store_true",
                   help="serial console on this terminal (Ctrl-A X quits)")
    p.add_argument("--gdb", action="store_true",
                   help="wait for gdb on :1234 (-s -S)")
    p.add_argument("--symbols", help="hypervisor ELF, for the gdb hint")
    p.add_argument("--timeout", type=float, default=60,
                   help="seconds (headless mode; default 60)")
    p.add_argument("--icount", help="-icount shift=N,sleep=off")
    p.add_argument("--until", help="stop when a serial line matches REGEX")
    p.add_argument("--memory", default="512M")
    p.add_argument("--smp", type=int, default=1)
    p.add_argument("--net", action="store_true",
                   help="add a virtio-net NIC on QEMU's user network "
                        + NET_SUBNET)
    p.add_argument("--hostfwd", action="append", default=[], metavar="RULE",
                   help="forward a host port, e.g. "
                        "tcp:127.0.0.1:8080-10.0.2.15:80 (implies --net; "
                        "repeatable; the host side is always 127.0.0.1)")
    a = p.parse_args(argv)
    a.extra = extra
    a.net_opt = a.hostfwd if (a.net or a.hostfwd) else None
    try:
        for rule in a.hostfwd:
            hostfwd(rule)
    except ValueError as e:
        p.error(str(e))
    return a


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if a.interactive:
        return interactive(a.image, a.gdb, a.symbols, a.icount, a.memory,
                           a.smp, a.extra, a.net_opt)
    r = run(a.image, timeout=a.timeout, until=a.until, extra_args=a.extra,
            icount=a.icount, gdb=a.gdb, memory=a.memory, smp=a.smp,
            stream=sys.stdout, net=a.net_opt)
    print(r, file=sys.stderr)
    if r.stderr.strip():
        print(r.stderr.rstrip(), file=sys.stderr)
    if r.timed_out:
        return 124  # like timeout(1)
    if r.match:
        return 0
    return r.exit_status if r.exit_status is not None else r.returncode


if __name__ == "__main__":
    sys.exit(main())


class Background:
    """QEMU running while the caller talks to it (e.g. HTTP through a host
    forward): start, wait_for(regex), then stop().  The serial log
    accumulates in .log.  Only this process's own QEMU is ever killed."""

    def __init__(self, image, memory="512M", smp=1, net=None, icount=None, cmd=None):
        import threading
        self._tmp = tempfile.mkdtemp(prefix="pv-qemu-")
        if cmd is None:          # cmd: a whole other command line (baselines)
            cmd = command(image, _fresh_vars(self._tmp), memory, smp, icount, False,
                          "stdio", (), net)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self._chunks = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in iter(lambda: self.proc.stdout.read1(4096), b""):
            with self._cond:
                self._chunks.append(raw.decode("utf-8", "replace"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def log(self):
        with self._cond:
            return clean("".join(self._chunks))

    def wait_for(self, regex, timeout=60):
        """The match of regex in the log, or None after timeout / exit."""
        deadline = time.monotonic() + timeout
        pat = re.compile(regex, re.M)
        with self._cond:
            while True:
                m = pat.search(clean("".join(self._chunks)))
                left = deadline - time.monotonic()
                if m or left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    return m
                self._cond.wait(min(left, 0.5))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        shutil.rmtree(self._tmp, ignore_errors=True)
        return self.proc.returncode
