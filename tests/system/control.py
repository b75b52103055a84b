"""A booted control domain for the system tests: the manifest, QEMU with
the API forwarded to a loopback port, and a small HTTP client for it.

    with ControlVM(extra_guests=..., smp=1) as vm:
        status, headers, doc = vm.api("GET", "/v1/host")
"""
import http.client
import json
import socket
import tempfile
import time
from pathlib import Path

import pvrun
import qemu
from conftest import BUILD, guest

TOKEN = "test-token-0123456789abcdef"
CONTROL_IP = "10.0.2.15"
HELLO = BUILD / "apps" / "hello" / "hello.elf"
TICKER = BUILD / "apps" / "ticker" / "ticker.elf"

# A boot guest that keeps running and printing (tests/guests/ticker).
BOOT_TICKER = """
[guest tick]
image = ticker.elf
memory = 1M
cmdline = "ticker 0 %d"
"""

CONTROL_SECTION = """
[guest control]
image = control.elf
memory = 160M
privileged = yes
cmdline = "control --token=%s %s"
net = mac=%s, ip=%s/24, gw=10.0.2.2
on_crash = restart
restart_limit = 5
"""


def free_port():
    return free_ports(1)[0]


def free_ports(n):
    """n distinct free loopback ports (all held open while chosen)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class ControlVM:
    """QEMU running the control domain (and more guests); stop() ends it."""

    def __init__(self, extra="", files=(), smp=1, memory="512M", args="", hv="log_level = info",
                 timeout=120, forwards=(), drives=(), control_ip=CONTROL_IP,
                 control_mac="02:00:00:00:00:01", lan=None, api_port=None):
        """forwards: (guest IP, TCP port) pairs reachable from the host;
        self.forwarded[i] is the loopback port of the i-th.
        lan: the machine also joins a shared Ethernet segment (qemu.net_args);
        api_port: it has no user network of its own: the host reaches its
        control domain (control_ip) at this port, a forward of the machine
        it shares the segment with (tests/system/hosts.py)."""
        self.port, *self.forwarded = free_ports(1 + len(forwards)) if api_port is None else [api_port]
        self.url = "http://127.0.0.1:%d" % self.port
        self.token = TOKEN
        self.ip = control_ip
        self._tmp = tempfile.TemporaryDirectory()
        manifest = "[hypervisor]\n%s\n" % hv + CONTROL_SECTION % (TOKEN, args, control_mac, control_ip) + extra
        files = [guest("control"), guest("hello")] + list(files)
        img = pvrun.make_image(self._tmp.name, BUILD, manifest, files)
        net = None if api_port is not None else (
            ["tcp:127.0.0.1:%d-%s:80" % (self.port, control_ip)] +
            ["tcp:127.0.0.1:%d-%s:%d" % (hp, ip, gp) for hp, (ip, gp) in zip(self.forwarded, forwards)])
        self.vm = qemu.Background(str(img), memory=memory, smp=smp, net=net, drives=drives, lan=lan)
        if not self.vm.wait_for(r"control\| control: API serving", timeout):
            log = self.vm.log
            self.stop()
            raise AssertionError("the control domain did not come up:\n" + log[-4000:])

    @property
    def log(self):
        return self.vm.log

    def stop(self):
        self.vm.stop()
        self._tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def conn(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, token=True, conn=None, timeout=30):
        """(status, headers dict with lower-case names, raw body bytes)."""
        h = {} if headers is None else dict(headers)
        if token is True:
            h.setdefault("Authorization", "Bearer " + self.token)
        elif token:
            h["Authorization"] = token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        c = conn or self.conn(timeout)
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def api(self, method, path, body=None, **kw):
        """(status, headers, parsed JSON or None)."""
        status, headers, data = self.request(method, path, body, **kw)
        doc = json.loads(data) if data and headers.get("content-type", "").startswith("application/json") else None
        return status, headers, doc

    def upload(self, name, path=HELLO):
        return self.api("PUT", "/v1/images/" + name, Path(path).read_bytes())

    def create(self, name, image="hello", memory=1 << 20, **fields):
        body = dict(name=name, image=image, memory=memory, **fields)
        return self.api("POST", "/v1/domains", body)

    def wait_console(self, ref, text, timeout=30):
        """The console of ref once it holds text (bytes)."""
        end = time.monotonic() + timeout
        data = b""
        while time.monotonic() < end:
            status, _, data = self.request("GET", "/v1/domains/%s/console" % ref)
            if status == 200 and text in data:
                return data
            time.sleep(0.3)
        raise AssertionError("no %r on %s's console; it holds %r" % (text, ref, data[-500:]))

    def names(self, timeout=10):
        """The live domains' names, once none is ending: a destroyed domain
        is listed (ending) a moment after its name stops finding it."""
        end = time.monotonic() + timeout
        while True:
            doms = self.api("GET", "/v1/domains")[2]["domains"]
            if all(d["state"] != "ending" for d in doms) or time.monotonic() > end:
                return sorted(d["name"] for d in doms)
            time.sleep(0.2)

    def wait_gone(self, ref, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.api("GET", "/v1/domains/" + ref)[0] == 404:
                return
            time.sleep(0.2)
        raise AssertionError("domain %s still there after %ss" % (ref, timeout))
