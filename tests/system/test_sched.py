"""The SMP scheduler (issue: every CPU): pinning, weights, fairness a guest
cannot game, prompt wake-ups while every CPU is busy, domains ended while
they run on another CPU, an IPI storm, a hostile guest rewriting its rings
while other CPUs deliver into them, and a 64-guest stress run.

Each test runs on -smp 1 and -smp 4 (the `smp` fixture) unless it needs
several CPUs.  Shares come from the guests' own reports of the CPU time the
hypervisor charged them (tests/guests/sched) and from the domain-exited
events (cpu_us, ran_on)."""
import re

import pytest

from conftest import guest

HV = """
[hypervisor]
log_level = info
poweroff_when_idle = yes
%s
"""


def section(name, cmdline, extra="", image="sched.elf", memory="1M"):
    return '[guest %s]\nimage = %s\nmemory = %s\ncmdline = "%s"\n%s\n' % (
        name, image, memory, cmdline, extra)


def reports(b, mode):
    """{guest name: {cpu_ns, wall_ns, ...}} from "NAME| sched: MODE k=v ..." lines."""
    out = {}
    for line in b.log.splitlines():
        m = re.match(r"(\S+)\| sched: %s (.*)" % mode, line)
        if m:
            out[m.group(1)] = {k: int(v) for k, v in (kv.split("=") for kv in m.group(2).split())}
    return out


def exited(b):
    return {e["name"]: e for e in b.events("domain-exited")}


def test_pinning_is_honoured(boot, smp):
    last = smp - 1
    m = HV % "" + section("first", "sched spin 1", "cpus = 0") + \
        section("last", "sched spin 1", "cpus = %d" % last) + \
        section("nowhere", "sched spin 1", "cpus = 7")
    b = boot(m, [guest("sched")])
    ex = exited(b)
    assert ex["first"]["ran_on"] == "0x1", ex
    assert ex["last"]["ran_on"] == hex(1 << last), ex
    # a set with no started CPU: warned about, then allowed anywhere
    assert "domain nowhere: none of its CPUs (mask 0x80) started; it may run on any" in b
    assert ex["nowhere"]["code"] == "0"
    assert b.status == 0


def test_weights_split_a_cpu(boot):
    m = HV % "" + section("heavy", "sched spin 3", "cpus = 0\nweight = 512") + \
        section("light", "sched spin 3", "cpus = 0")
    b = boot(m, [guest("sched")])
    r = reports(b, "spin")
    ratio = r["heavy"]["cpu_ns"] / r["light"]["cpu_ns"]
    print("weights 512:256 -> %.2f" % ratio)
    assert 1.8 <= ratio <= 2.2, r
    assert b.status == 0


def test_slice_gaming_does_not_pay(boot):
    """Spin 95% of a slice, block 0.5 ms: with the old FIFO-and-boost
    scheduler this took two thirds of a CPU from a plain spinner."""
    m = HV % "" + section("spinner", "sched spin 3", "cpus = 0") + \
        section("gamer", "sched gamer 3 9500 500", "cpus = 0")
    b = boot(m, [guest("sched")])
    spin = reports(b, "spin")["spinner"]
    share = spin["cpu_ns"] / spin["wall_ns"]
    print("spinner keeps %.1f%% against the slice gamer" % (100 * share))
    assert share >= 0.45, (spin, reports(b, "gamer"))
    assert b.status == 0


def test_yielding_does_not_pay(boot):
    m = HV % "" + section("spinner", "sched spin 2", "cpus = 0") + \
        section("yielder", "sched yielder 2", "cpus = 0")
    b = boot(m, [guest("sched")])
    spin = reports(b, "spin")["spinner"]
    assert spin["cpu_ns"] / spin["wall_ns"] >= 0.45, (spin, reports(b, "yielder"))
    assert b.status == 0


def test_preempted_domains_keep_every_register(boot, smp):
    """Two domains on CPU 0 spin with 13 general registers holding known
    values and check them after every round, while the timer preempts them
    and a yielder on the same CPU switches in and out through `syscall`.
    Entries save each domain's registers into its own frame and exits load
    whichever frame runs next (docs/architecture.md): not one may change."""
    m = HV % "" + "".join(section("regs%d" % i, "sched regs 2", "cpus = 0") for i in range(2)) + \
        section("yielder", "sched yielder 2", "cpus = 0")
    b = boot(m, [guest("sched")])
    r = reports(b, "regs")
    assert set(r) == {"regs0", "regs1"}, b.log[-3000:]
    for name, s in r.items():
        assert s["wrong"] == 0, (name, s)
        assert s["rounds"] >= 10 and s["switches"] >= 10, (name, s)
    assert exited(b)["yielder"]["code"] == "0"
    assert b.status == 0


def test_sleeper_wakes_promptly_while_every_cpu_is_busy(boot, smp):
    """One spinner per CPU and a sleeper (10 ms period).  The policy's bound
    is a wake-up granularity plus timer slack (docs/architecture.md); under
    multi-threaded TCG on a 2-core host the vCPU threads themselves are
    time-sliced, so the test allows for that noise."""
    m = HV % "" + "".join(section("spin%d" % i, "sched spin 3") for i in range(smp)) + \
        section("sleeper", "sched sleeper 3 10000")
    b = boot(m, [guest("sched")])
    s = reports(b, "sleeper")["sleeper"]
    print("sleeper on %d busy CPUs: %s" % (smp, s))
    # -smp 1: the policy's bound plus timer slack.  -smp 4: five busy vCPU
    # threads share two host cores, whose own scheduler adds its latency.
    avg_bound_us = 1500 if smp == 1 else 15000
    # A sleeper late by the allowed average still wakes once per
    # (period + lateness) for 3 s; 10 % under that is a lost wake-up.
    assert s["wakeups"] >= min(150, 0.9 * 3e6 / (10000 + avg_bound_us)), s
    assert s["avg_late_us"] <= avg_bound_us, s
    assert s["max_late_us"] <= (30000 if smp == 1 else 150000), s
    assert b.status == 0


def test_domains_killed_wherever_they_are(boot, smp):
    """Victims running on other CPUs, queued and blocked are all ended by
    their own CPU; the survivor finishes and every frame comes back."""
    m = HV % "selftest = kill" + section("victim", "sched spin 30", "instances = 6") + \
        section("victimsleep", "sched sleeper 30 2000000") + section("survivor", "sched spin 2")
    b = boot(m, [guest("sched")], timeout=60)
    assert b.event("selftest-kill")["killed"] == "7", b.log[-3000:]
    crashed = {e["name"]: e for e in b.events("domain-crashed")}
    assert set(crashed) == {"victim-%d" % i for i in range(1, 7)} | {"victimsleep"}
    assert all(e["reason"] == "killed" for e in crashed.values())
    assert exited(b)["survivor"]["code"] == "0"
    if smp > 1:   # some victims really were on other CPUs
        assert any(int(e["ran_on"], 16) & ~1 for e in crashed.values()), crashed
    m = b.event("memory-check")
    assert m["free_kib_at_start"] == m["free_kib_now"], m
    assert b.status == 2                          # POWER_STATUS_GUEST_CRASHED


def test_ipi_storm(boot, smp):
    m = HV % "selftest = ipistorm" + section("w", "sched spin 2", "instances = 3") + \
        section("sleeper", "sched sleeper 2 5000") + section("h", "hello", image="hello.elf")
    b = boot(m, [guest("sched"), guest("hello")])
    storm = b.event("selftest-ipistorm")
    assert int(storm["rounds"]) > 10 and storm["cpus"] == str(smp), storm
    if smp > 1:
        assert int(storm["ipis"]) > 1000 and int(storm["shootdowns"]) > 10, storm
    assert "h| sqrt(2) = 1.4142135624" in b
    assert len(exited(b)) == 5 and all(e["code"] == "0" for e in exited(b).values())
    assert b.status == 0


NET = 'net = mac=02:00:00:00:00:%02x, dhcp'


def test_ring_scribbler_breaks_only_itself(boot):
    """A guest transmits from one thread while a second one rewrites both of
    its rings; a flooder keeps other CPUs delivering into its RX ring.  Only
    its own device may go; the others keep talking."""
    m = HV % "" + section("scribbler", "nettool scribble 3", NET % 9, "nettool.elf", "2M") + \
        section("flooder", "nettool flood 2", NET % 8, "nettool.elf", "2M") + \
        section("echo", "nettool echo 4", NET % 2, "nettool.elf", "2M") + \
        section("pinger", "nettool ping 02:00:00:00:00:02 100", NET % 3, "nettool.elf", "2M")
    b = boot(m, [guest("nettool")], timeout=120)
    assert "scribbler| nettool: scribble sent=" in b, b.log[-3000:]
    for ev in b.events("net-disconnected"):
        assert ev["name"] == "scribbler", ev
    line = b.lines("pinger| nettool: ping")[0]
    assert int(line.split("answered=")[1].split()[0]) >= 90, line
    assert "PANIC" not in b.log
    m = b.event("memory-check")
    assert m["free_kib_at_start"] == m["free_kib_now"], m


@pytest.mark.parametrize("smp", [4], ids=["smp4"])
def test_stress_64_guests_on_4_cpus(boot, smp):
    """Spinners, sleepers, gamers, yielders, console floods, crash/restart
    loops and a guest-to-guest TCP transfer, 64 guests in all, for a bounded
    time: everything ends, and every frame comes back."""
    m = HV % "time_slice = 5ms"
    m += section("spin", "sched spin 3", "instances = 16")
    m += section("sleep", "sched sleeper 3 3000", "instances = 16")
    m += section("gamer", "sched gamer 3 4700 300", "instances = 6")
    m += section("yield", "sched yielder 3", "instances = 6")
    m += section("flood", "flood 2", "instances = 6", image="flood.elf")
    m += section("crash", "crash null", "instances = 12\non_crash = restart\nrestart_limit = 20",
                 image="crash.elf")
    m += section("server", "tcpxfer server 5001", "net = mac=02:00:00:00:01:01, ip=10.0.0.1/24",
                 "tcpxfer.elf", "8M")
    m += section("client", "tcpxfer client 10.0.0.1 5001 2", "net = mac=02:00:00:00:01:02, ip=10.0.0.2/24",
                 "tcpxfer.elf", "8M")
    b = boot(m, [guest(g) for g in ("sched", "flood", "crash", "tcpxfer")], timeout=240)
    created = b.events("domain-created")
    assert len([e for e in created if e["restart"] == "0"]) == 64, b.log[-3000:]
    assert "PANIC" not in b.log and not b.timed_out, b.log[-3000:]
    ex = exited(b)
    for name in ["spin-%d" % i for i in range(1, 17)] + ["sleep-%d" % i for i in range(1, 17)]:
        assert ex[name]["code"] == "0", name
    assert "match=1" in b.lines("client| tcpxfer: client sent=")[0]
    assert len(b.events("domain-restart-limit")) == 12
    used = 0
    for e in ex.values():
        used |= int(e["ran_on"], 16)
    assert used == 0xf, hex(used)                 # every CPU did work
    m = b.event("memory-check")
    assert m["free_kib_at_start"] == m["free_kib_now"], m
    assert b.status == 2                          # the crashers crashed


def test_sleeping_domains_cost_no_timer_interrupts(boot, smp):
    """Tickless: 200 guests each sleep 3 s once.  A CPU takes a timer
    interrupt for a deadline or a slice end, never on a period, so each
    CPU's count stays near the deadlines it owns (a 100 Hz tick would be
    300 per CPU).  The boot CPU adds its device and console polls."""
    m = HV % "" + section("s", "sched sleeper 3 3000000", "instances = 200", memory="256K")
    b = boot(m, [guest("sched")], timeout=120)
    assert len(exited(b)) == 200, b.log[-2000:]
    irqs = {int(e["cpu"]): int(e["timer_irqs"]) for e in b.events("cpu-sched")}
    print("timer interrupts per CPU:", irqs)
    for cpu, n in irqs.items():
        allowed = 200 + (100 if cpu == 0 else 0)   # one per deadline at most, + polls (20/s on CPU 0)
        assert n <= allowed, irqs
    assert b.status == 0
