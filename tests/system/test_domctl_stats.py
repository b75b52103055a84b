"""The control plane's metrics and restarts of run-time domains
(tests/guests/ctlstat): CPU_STATS reports every started CPU with idle time
that grows while the machine idles; NET_PORTS reports the switch's ports in
port order with counters that move by exactly the traffic a guest made;
both refuse bad requests and unprivileged callers; a domain created with
on_crash / on_exit = restart restarts up to its limit (INFO counts it), a
DESTROY never restarts it, and everything it used comes back."""
import re

import pytest

from conftest import guest

EPERM, EINVAL, EFAULT = 1, 22, 14

STATS = """
[hypervisor]
poweroff_when_idle = yes
[guest ctlstat]
image = ctlstat.elf
memory = 4M
privileged = yes
cmdline = "ctlstat stats"
[guest plain]
image = ctlstat.elf
memory = 2M
cmdline = "ctlstat unpriv"
"""


def parse(line):
    """key=value pairs after the check's name; msg= takes the rest."""
    body, _, msg = line.split("ctlstat: ", 1)[1].partition(" msg=")
    d = dict(kv.split("=", 1) for kv in body.split()[1:])
    if msg:
        d["msg"] = msg
    return d


def lines(b, key, who="ctlstat"):
    return [parse(l) for l in b.log.splitlines() if re.match(r"^%s\| ctlstat: %s( |$)" % (who, key), l)]


def one(b, key, who="ctlstat"):
    found = lines(b, key, who)
    assert len(found) == 1, (key, b.log[-4000:])
    return found[0]


def test_cpu_stats_cover_every_cpu_and_count_idle_time(boot, smp):
    b = boot(STATS, files=[guest("ctlstat")], timeout=180)
    head = one(b, "cpus")
    assert head["r"] == "0" and head["again_r"] == "0", head
    assert int(head["count"]) == int(head["again_count"]) == int(head["host_cpus"]) == smp, head
    cpus = lines(b, "cpu")
    assert [int(c["cpu"]) for c in cpus] == list(range(smp)), cpus
    final = {int(e["cpu"]): e for e in b.events("cpu-sched")}
    for c in cpus:        # counters only grow: what power-off reports is no less
        n = int(c["cpu"])
        assert int(final[n]["switches"]) >= int(c["switches"]) and \
            int(final[n]["timer_irqs"]) >= int(c["timer_irqs"]) and \
            int(final[n]["idle_ms"]) >= int(c["idle_ns"]) // 1_000_000, (c, final[n])
    assert sum(int(c["switches"]) for c in cpus) > 0
    deltas = lines(b, "cpu-delta")
    assert len(deltas) == smp
    for d in deltas:      # nothing runs for 600 ms: every CPU idles most of it, never longer
        idle, wall = int(d["idle_ns"]), int(d["wall_ns"])
        assert wall >= 600_000_000 and idle >= wall // 2, d
        assert idle <= wall, d
    assert sum(int(d["wakeups"]) for d in deltas) >= 1       # the sleeper's own deadline
    assert int(deltas[0]["timer_irqs"]) >= 1                 # the boot CPU's polls
    part = one(b, "cpus-one")
    assert part == {"r": "0", "count": "1", "cpu": "0", "untouched": "1"}, part
    assert one(b, "cpus-zero") == {"r": "0", "count": "0"}
    assert one(b, "cpus-bigmax")["r"] == str(-EINVAL)
    assert one(b, "cpus-badbuf")["r"] == str(-EFAULT)
    assert one(b, "cpus-robuf")["r"] == str(-EFAULT)


def test_unprivileged_domain_gets_eperm_for_the_stats_ops(boot):
    b = boot(STATS, files=[guest("ctlstat")], timeout=180)
    answers = lines(b, "unpriv", who="plain")
    assert {a["op"] for a in answers} == {"14", "15"}, b.log[-3000:]
    assert all(a["r"] == str(-EPERM) and a["untouched"] == "1" for a in answers), answers


def test_run_time_domain_restarts_up_to_its_limit_and_returns_every_frame(boot):
    b = boot(STATS, files=[guest("ctlstat")], timeout=180)
    bad = lines(b, "create-badaction")
    assert bad and bad[0]["r"] == str(-EINVAL) and bad[0]["msg"].startswith("on_exit/on_crash"), bad
    c = one(b, "crasher")
    assert c["r"] == "0", c
    seen = [tuple(int(x) for x in s.split(":")) for s in c["seen"].split(",")]
    assert [r for r, _ in seen] == [0, 1, 2, 3], c             # INFO's restarts, each incarnation
    ids = [i for _, i in seen]
    assert ids[0] == int(c["first"]) and ids == sorted(set(ids)), c   # a new domain each time
    assert c["limit"] == "1" and c["restarted"] == "3" and c["crashed"] == "4", c
    restarted = [e for e in b.events("domain-restarted") if e["name"] == "crasher"]
    assert [e["restart"] for e in restarted] == ["1", "2", "3"]
    assert [e for e in b.events("domain-restart-limit") if e["name"] == "crasher"][0]["restarts"] == "3"
    e = one(b, "exiter")
    assert e == {"r": "0", "limit": "1", "exited": "2", "restarted": "1"}, e
    k = one(b, "keeper")
    assert k == {"r": "0", "destroy": "0", "stopped": "1", "restarted": "0", "listed": "0"}, k
    assert not [e for e in b.events("domain-restarted") if e["name"] == "keeper"]
    check = b.event("memory-check")      # settings, images, domains: all back
    assert check["free_kib_at_start"] == check["free_kib_now"], check


ECHO_MAC = "02:00:00:00:00:02"
FRAMES = 50

PORTS = """
[hypervisor]
poweroff_when_idle = yes
[guest ctlstat]
image = ctlstat.elf
memory = 4M
privileged = yes
cmdline = "ctlstat ports %s %d"
net = mac=02:00:00:00:00:05, ip=10.0.0.5/24
[guest echo]
image = nettool.elf
memory = 2M
cmdline = "nettool echo 6"
net = mac=%s, ip=10.0.0.2/24
""" % (ECHO_MAC, FRAMES, ECHO_MAC)


# Four CPUs only: the switch's counters are the same on one (make test's time).
@pytest.mark.parametrize("smp", [4], indirect=True)
def test_net_ports_count_exactly_the_traffic_sent(boot):
    b = boot(PORTS, files=[guest("ctlstat"), guest("nettool")], net=[], timeout=180)
    ids = {e["name"]: e["id"] for e in b.events("domain-created")}
    for key in ("ports", "ports-after"):
        p = one(b, key)
        assert p["r"] == "0" and p["count"] == p["total"] == "3", p
        # port order: the uplink (port 0, no owner), then devices as they joined
        assert p["names"] == "uplink:0,ctlstat.net0:%s,echo.net0:%s" % (ids["ctlstat"], ids["echo"]), p
    t = one(b, "traffic")
    answered = int(t["answered"])
    assert int(t["sent"]) == FRAMES and answered >= FRAMES - 2, t
    assert int(t["nf_tx"]) == FRAMES + 5 and int(t["nf_tx_errors"]) == 5, t
    deltas = {d["name"]: {k: int(v) for k, v in d.items() if k != "name"} for d in lines(b, "port-delta")}
    drops = {d["name"]: {k: int(v) for k, v in d.items() if k != "name"} for d in lines(b, "port-drops")}
    me, echo, up = deltas["ctlstat.net0"], deltas["echo.net0"], deltas["uplink"]
    length = int(t["len"])
    # what the switch took in from us: the honest frames; the forged ones dropped
    assert me["rx_frames"] == FRAMES and me["rx_bytes"] == FRAMES * length, me
    assert drops["ctlstat.net0"] == {"spoof": 5, "ip_spoof": 0, "tx": 0, "invalid": 0, "storm": 0}, drops
    # anything the uplink floods meanwhile (nothing, usually) reaches both guests too
    flooded, flooded_bytes = up["rx_frames"], up["rx_bytes"]
    # each honest frame went out to the echoing guest (or was dropped there)
    assert echo["tx_frames"] + drops["echo.net0"]["tx"] == FRAMES + flooded, (echo, up)
    assert echo["tx_bytes"] - flooded_bytes == (echo["tx_frames"] - flooded) * length, (echo, up)
    # its answers came in from it and went out to us, as our own frontend counted them
    assert echo["rx_frames"] == answered + drops["ctlstat.net0"]["tx"] and drops["echo.net0"]["spoof"] == 0
    assert me["tx_frames"] == int(t["nf_rx"]) == answered + flooded, (me, t, up)
    assert me["tx_bytes"] == answered * length + flooded_bytes, (me, t)
    assert up["tx_frames"] == 0 and up["domid"] == 0, up      # known unicast never goes to the uplink
    one_port = one(b, "ports-one")
    assert one_port == {"r": "0", "count": "1", "total": "3", "first": "uplink", "untouched": "1"}, one_port
    assert one(b, "ports-bigmax")["r"] == str(-EINVAL)
    assert one(b, "ports-reserved")["r"] == str(-EINVAL)
    assert one(b, "ports-badbuf")["r"] == str(-EFAULT)
    assert one(b, "ports-robuf")["r"] == str(-EFAULT)
    # the switch's own report at the end agrees with what NET_PORTS said
    final = {e["name"]: e for e in b.events("net-port")}
    assert int(final["ctlstat.net0"]["drop_spoof"]) == 5
    assert b.status == 0
