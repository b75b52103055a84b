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
import contextlib
import dataclasses
import errno
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
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


def net_args(net, lan=None):
    """QEMU arguments for a user-mode network and a modern-only
    virtio-net-pci NIC; net is an iterable of host forwards (may be empty),
    or None: no user-mode network.

    lan: (port, mac) puts the NIC, with its own mac, on an Ethernet
    segment shared with other QEMU machines (two Paravane hosts, for
    migration): a switch on the host (tests/system/lanswitch.py) listening
    on 127.0.0.1:port for QEMU socket networks.  The user network, if any,
    joins the switch as a port of its own (through a QEMU hub), so the
    other machines reach the host through this one's forwards."""
    nic = "virtio-net-pci,disable-legacy=on"
    user = None
    if net is not None:
        user = "user,id=n0,net=" + NET_SUBNET
        for rule in net:
            user += ",hostfwd=" + hostfwd(rule)
    if lan is None:
        return ["-netdev", user, "-device", nic + ",netdev=n0"]
    port, mac = lan
    args = ["-netdev", "socket,id=lan0,connect=127.0.0.1:%d" % int(port),
            "-device", "%s,netdev=lan0,mac=%s" % (nic, mac)]
    if user:
        args += ["-netdev", user, "-netdev", "socket,id=lan1,connect=127.0.0.1:%d" % int(port),
                 "-netdev", "hubport,id=hp0,hubid=0,netdev=n0",
                 "-netdev", "hubport,id=hp1,hubid=0,netdev=lan1"]
    return args


DRIVE_KINDS = ("virtio", "nvme")


def drive_args(drives):
    """QEMU arguments for extra raw disks after the boot disk: drives is a
    list of (path, kind) or (path, kind, props), kind "virtio" (a
    modern-only virtio-blk-pci) or "nvme", props more device properties
    ("logical_block_size=4096,physical_block_size=4096"; "readonly=on" goes
    to the drive).  They are written for real (no snapshot): tests read
    them back afterwards."""
    out = []
    for i, d in enumerate(drives):
        path, kind, props = (tuple(d) + ("",))[:3]
        if kind not in DRIVE_KINDS:
            raise ValueError("drive %r: kind %r, want one of %s" % (path, kind, DRIVE_KINDS))
        if "," in str(path):
            raise ValueError("drive %r: a comma in the path" % path)
        props = [p for p in props.split(",") if p]
        ro = ",readonly=on" if "readonly=on" in props else ""
        props = ",".join(p for p in props if p != "readonly=on")
        out += ["-drive", "file=%s,if=none,id=xd%d,format=raw%s" % (path, i, ro)]
        dev = ("virtio-blk-pci,drive=xd%d,disable-legacy=on" % i if kind == "virtio"
               else "nvme,serial=pvdisk%d,drive=xd%d" % (i, i))
        out += ["-device", dev + ("," + props if props else "")]
    return out


def boot_drive_args(image, drives):
    """The boot disk on q35's AHCI; with extra disks it gets bootindex=0
    so the firmware never tries to boot one of them."""
    if not drives:
        return ["-drive", "if=ide,format=raw,snapshot=on,file=" + image]
    return ["-drive", "if=none,id=boot,format=raw,snapshot=on,file=" + image,
            "-device", "ide-hd,drive=boot,bus=ide.0,bootindex=0"]


GDB_PORT = 1234


def command(image, vars_file, memory="512M", smp=1, icount=None, gdb=False,
            serial="stdio", extra_args=(), net=None, drives=(), lan=None):
    """QEMU's command line.  gdb: False, True (port GDB_PORT) or a port; the
    stub listens on 127.0.0.1 only (QEMU's -s would take every interface).
    drives: extra disks, see drive_args()."""
    # The boot disk is on q35's AHCI (if=ide), not virtio: it boots as fast
    # (measured) and leaves every virtio-blk device to the tests.
    cmd = [QEMU, "-machine", "q35", "-cpu", "max", "-m", str(memory),
           "-smp", str(smp), "-nodefaults", "-display", "none", "-no-reboot",
           "-drive", "if=pflash,format=raw,readonly=on,file=" + OVMF_CODE,
           "-drive", "if=pflash,format=raw,file=" + vars_file,
           *boot_drive_args(image, drives),
           "-serial", serial,
           "-device", "isa-debug-exit,iobase=%#x,iosize=0x04" % EXIT_PORT]
    if icount is not None:
        # deterministic guest time; icount rules out MTTCG anyway
        cmd += ["-icount", "shift=%s,sleep=off" % icount,
                "-accel", "tcg,thread=single"]
    if gdb:
        cmd += ["-gdb", "tcp:127.0.0.1:%d" % _gdb_port(gdb), "-S"]
    if net is not None or lan is not None:
        rules = None if net is None else [] if net is True else [net] if isinstance(net, str) else net
        cmd += net_args(rules, lan)
    return cmd + drive_args(drives) + list(extra_args)


def _gdb_port(gdb):
    return GDB_PORT if gdb is True else int(gdb)


# ---- host ports: checked before QEMU starts --------------------------------

def _bind_error(proto, port):
    """Why 127.0.0.1:port cannot be bound now, or None if it can.  TCP uses
    SO_REUSEADDR as QEMU's forwards do, so a port in TIME_WAIT is free."""
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as s:
        if kind == socket.SOCK_STREAM:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            return "in use" if e.errno == errno.EADDRINUSE else e.strerror
    return None


def _next_free(proto, port):
    for p in range(port + 1, min(port + 200, 65536)):
        if _bind_error(proto, p) is None:
            return p
    return None


def host_ports(net, gdb):
    """(proto, port) of every host port QEMU will listen on."""
    ports = [(r.split(":")[0], int(r.split(":")[2].split("-")[0]))
             for r in (net or []) if not isinstance(r, bool)]
    if gdb:
        ports.append(("tcp", _gdb_port(gdb)))
    return ports


def port_problems(ports, hints=None):
    """One message per host port that cannot be bound.  hints maps a port
    to advice with {free} for the next free port, e.g.
    {8080: "make run HTTP_PORT={free}"}."""
    out = []
    for proto, port in ports:
        why = _bind_error(proto, port)
        if why is None:
            continue
        msg = "%s port %d on 127.0.0.1 is %s" % (proto, port, why)
        free = _next_free(proto, port)
        hint = (hints or {}).get(port)
        if hint and free:
            msg += "; run `%s`" % hint.format(free=free)
        elif free:
            msg += "; forward another port (e.g. %d)" % free
        out.append(msg)
    return out


# ---- being told to stop ----------------------------------------------------
# A signal handler must never wait on QEMU: the main thread may be inside
# proc.wait(), which holds Popen's (non-reentrant) wait lock, and a second
# wait from the handler deadlocks on it.  The handler only raises Stopped;
# the code it unwinds stops QEMU by PID from ordinary context.

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class Stopped(Exception):
    """We were sent SIGTERM, SIGHUP or SIGINT."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self):
        return 128 + self.signum   # as a shell reports a signal


def _raise_stopped(signum, _frame):
    # One stop is enough: ignore repeats (make forwards SIGTERM to us while
    # the group may get it too) so the clean-up is never interrupted.
    for s in STOP_SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    raise Stopped(signum)


@contextlib.contextmanager
def stop_signals():
    """Within this block SIGTERM/SIGHUP/SIGINT raise Stopped.  Clean up
    inside the block (the old handlers come back only when it ends).  A
    no-op off the main thread or when an outer block is already active."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is _raise_stopped:
        yield
        return
    old = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    for s in STOP_SIGNALS:
        signal.signal(s, _raise_stopped)
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _parent_stopping(ppid):
    """The stop signal our parent make is handling, or None.  GNU make
    forwards only SIGTERM to its children; on SIGHUP or SIGINT sent to make
    alone it waits for us, inside its handler, with that signal blocked.
    /proc shows the blocked bit, so we can follow make's lead."""
    try:
        with open("/proc/%d/comm" % ppid) as f:
            if f.read().strip() != "make":
                return None
        with open("/proc/%d/status" % ppid) as f:
            blk = next(int(l.split()[1], 16) for l in f if l.startswith("SigBlk:"))
    except (OSError, StopIteration, ValueError):
        return None
    return next((s for s in STOP_SIGNALS if blk & (1 << (s - 1))), None)


def _follow_parent(proc):
    """Watcher thread for interactive runs: when make is stopping, send
    ourselves its signal; the main thread's handler does the rest."""
    ppid = os.getppid()
    while proc.poll() is None:
        sig = _parent_stopping(ppid)
        if sig is not None:
            os.kill(os.getpid(), sig)
            return
        time.sleep(0.25)


def _say(text):
    """A message on stderr that never fails (the terminal may be gone)."""
    try:
        print(text, file=sys.stderr, flush=True)
    except OSError:
        pass


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
        memory="512M", smp=1, stream=None, net=None, drives=()):
    """Boot image headless; returns a Result.

    until:  regex (str or compiled); stop QEMU as soon as a line matches.
    stream: file or callable that gets every clean line as it arrives.
    net:    None (no NIC), or a list of host forwards (may be empty), e.g.
            ["tcp:127.0.0.1:8080-10.0.2.15:80"]: adds a virtio-net NIC.
    drives: extra raw disks [(path, "virtio" | "nvme")], after the boot disk.
    """
    if not os.path.isfile(image):
        raise FileNotFoundError(image)
    with tempfile.TemporaryDirectory(prefix="paravane-qemu-") as tmp:
        cmd = command(image, _fresh_vars(tmp), memory, smp, icount, gdb,
                      "stdio", extra_args, net, drives)
        start = time.monotonic()
        reader = _Reader(until, stream, start)
        with stop_signals():
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
                smp=1, extra_args=(), net=None, port_hints=None, drives=()):
    """make run / make debug: the serial console on this terminal.  Returns
    QEMU's exit code, 128 + signal when we were told to stop, or 2 when a
    host port it would forward is taken (checked before QEMU starts)."""
    problems = port_problems(host_ports(net, gdb), port_hints)
    if problems:
        for p in problems:
            _say("qemu.py: " + p)
        return 2
    print(INTERACTIVE_BANNER)
    if gdb:
        sym = symbols or "build/hypervisor/paravane.elf"
        port = _gdb_port(gdb)
        print("QEMU waits for gdb on 127.0.0.1:%d. In another terminal:" % port)
        print("  gdb -ex 'target remote 127.0.0.1:%d' -ex 'symbol-file %s'" % (port, sym))
        print("then e.g. 'hbreak hv_main' and 'continue' (use hbreak: the "
              "hypervisor is not mapped until the loader jumps).")
    sys.stdout.flush()
    with tempfile.TemporaryDirectory(prefix="paravane-qemu-") as tmp:
        cmd = command(image, _fresh_vars(tmp), memory, smp, icount, gdb,
                      "mon:stdio", extra_args, net, drives)
        with stop_signals():
            proc = subprocess.Popen(cmd)
            threading.Thread(target=_follow_parent, args=(proc,), daemon=True).start()
            try:
                return proc.wait()
            except Stopped as s:
                _stop(proc)
                _say("qemu.py: stopped by %s; QEMU (pid %d) ended" % (s, proc.pid))
                return s.exit_code


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
    p.add_argument("--gdb", nargs="?", const=GDB_PORT, type=int, default=None,
                   metavar="PORT",
                   help="wait for gdb on 127.0.0.1:PORT (default %d)" % GDB_PORT)
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
    p.add_argument("--drive", action="append", default=[], metavar="IMG",
                   help="attach a raw disk image as virtio-blk (repeatable)")
    p.add_argument("--hostfwd", action="append", default=[], metavar="RULE",
                   help="forward a host port, e.g. "
                        "tcp:127.0.0.1:8080-10.0.2.15:80 (implies --net; "
                        "repeatable; the host side is always 127.0.0.1)")
    p.add_argument("--port-hint", action="append", default=[], metavar="PORT=ADVICE",
                   help="what to suggest when host PORT is taken; {free} is "
                        "replaced by a free port (make run uses this)")
    a = p.parse_args(argv)
    a.extra = extra
    a.net_opt = a.hostfwd if (a.net or a.hostfwd) else None
    try:
        for rule in a.hostfwd:
            hostfwd(rule)
    except ValueError as e:
        p.error(str(e))
    a.port_hints = {}
    for h in a.port_hint:
        port, sep, advice = h.partition("=")
        if not sep or not port.isdigit():
            p.error("--port-hint %r: want PORT=ADVICE" % h)
        a.port_hints[int(port)] = advice
    return a


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if a.interactive:
        return interactive(a.image, a.gdb or False, a.symbols, a.icount, a.memory,
                           a.smp, a.extra, a.net_opt, a.port_hints,
                           [(d, "virtio") for d in a.drive])
    problems = port_problems(host_ports(a.net_opt, a.gdb), a.port_hints)
    for msg in problems:
        _say("qemu.py: " + msg)
    if problems:
        return 2
    try:
        r = run(a.image, timeout=a.timeout, until=a.until, extra_args=a.extra,
                icount=a.icount, gdb=a.gdb or False, memory=a.memory, smp=a.smp,
                stream=sys.stdout, net=a.net_opt, drives=[(d, "virtio") for d in a.drive])
    except Stopped as s:
        _say("qemu.py: stopped by %s" % s)
        return s.exit_code
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
    accumulates in .log.  Only this process's own QEMU is ever killed.
    Background.running holds those not stopped yet (a failing test shows
    their logs)."""

    running = set()

    def __init__(self, image, memory="512M", smp=1, net=None, icount=None, cmd=None,
                 drives=(), lan=None):
        self._tmp = tempfile.mkdtemp(prefix="pv-qemu-")
        if cmd is None:          # cmd: a whole other command line (baselines)
            cmd = command(image, _fresh_vars(self._tmp), memory, smp, icount, False,
                          "stdio", (), net, drives, lan)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self._chunks = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        Background.running.add(self)

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

    def type(self, keys):
        """Type keys (bytes) on the serial console, as an operator would."""
        self.proc.stdin.write(keys)
        self.proc.stdin.flush()

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
        Background.running.discard(self)
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
