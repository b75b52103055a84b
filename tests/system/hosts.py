"""Two Paravane hosts for the migration tests: two QEMU machines on one
Ethernet segment (QEMU socket networks over loopback TCP, joined by a
learning switch on the host: lanswitch.py), each with its own hypervisor
and control domain.

Host A's QEMU user network is a port of the switch too: the host reaches
A's control domain, B's (10.0.2.16) and any guest through A's forwards,
and both reach the host's gateway (10.0.2.2).  A guest that moves from A
to B keeps its address, and the same forward reaches it there.

    with TwoHosts(forwards=[(GUEST_IP, 80)]) as (a, b):
        a.api("POST", "/v1/domains/web/migrate", {"to": b.lan_url})
"""
import time

from control import ControlVM
from lanswitch import LanSwitch

B_IP = "10.0.2.16"
A_NIC = "52:54:00:12:34:56"
B_NIC = "52:54:00:12:34:57"


class TwoHosts:
    def __init__(self, forwards=(), files=(), smp=2, memory="512M", args="", b_args="",
                 extra_a="", extra_b=""):
        self.switch = LanSwitch()
        try:
            self.a = ControlVM(files=files, smp=smp, memory=memory, args=args, extra=extra_a,
                               forwards=[(B_IP, 80)] + list(forwards), lan=(self.switch.port, A_NIC))
        except BaseException:
            self.switch.close()
            raise
        try:
            self.b = ControlVM(files=files, smp=smp, memory=memory, args=b_args or args, extra=extra_b,
                               control_ip=B_IP, control_mac="02:00:00:00:00:02",
                               lan=(self.switch.port, B_NIC), api_port=self.a.forwarded[0])
        except BaseException:
            self.a.stop()
            self.switch.close()
            raise
        self.a.forwarded = self.a.forwarded[1:]     # the caller's forwards, in its order
        self.a.lan_url = "http://%s:80" % self.a.ip
        self.b.lan_url = "http://%s:80" % B_IP

    def stop(self):
        self.b.stop()
        self.a.stop()
        self.switch.close()

    def __enter__(self):
        return self.a, self.b

    def __exit__(self, *exc):
        self.stop()


def wait(cond, timeout=30, what="the condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)
