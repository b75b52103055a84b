"""The virtual switch and the net backend against hostile guests (raw
Ethernet through tests/guests/nettool, no IP stack involved)."""
from conftest import guest

HV = "[hypervisor]\npoweroff_when_idle = yes\n"


def nettool(name, args, mac_last, memory="2M", **extra):
    s = ("[guest %s]\nimage = nettool.elf\nmemory = %s\ncmdline = \"nettool %s\"\n"
         "net = mac=02:00:00:00:00:%02x, ip=10.0.0.%d/24\n") % (name, memory, args, mac_last, mac_last)
    return s + "".join("%s = %s\n" % kv for kv in extra.items())


def ports(b):
    return {e["name"]: {k: int(v) for k, v in e.items() if k != "name"} for e in b.events("net-port")}


def test_guest_to_guest_raw_frames(boot):
    m = HV + nettool("echo", "echo 3", 2) + nettool("pinger", "ping 02:00:00:00:00:02 100", 3)
    b = boot(m, [guest("nettool")])
    assert "pinger| nettool: ping sent=100 answered=100" in b, b.lines("pinger|")
    p = ports(b)
    assert p["pinger.net0"]["tx_frames"] >= 100 and p["echo.net0"]["rx_frames"] >= 100
    assert b.status == 0


def test_spoofed_frames_are_dropped_and_counted(boot):
    m = HV + nettool("spoofer", "spoof", 1) + nettool("listener", "echo 1", 2)
    b = boot(m, [guest("nettool")])
    assert "spoofer| nettool: spoof sent=20 rejected=10" in b
    p = ports(b)
    assert p["spoofer.net0"]["drop_spoof"] == 10
    assert p["spoofer.net0"]["rx_frames"] == 10           # the honest ones went through
    # only those reached the other port (delivered, or dropped there if it
    # had not posted buffers yet)
    assert p["listener.net0"]["tx_frames"] + p["listener.net0"]["drop_tx"] == 10
    assert b.status == 0


def test_garbage_descriptors_disconnect_only_that_device(boot):
    m = HV + "".join(nettool("g-%s" % k, "garbage %s" % k, 10 + i)
                     for i, k in enumerate(("addr", "len", "index")))
    m += nettool("echo", "echo 3", 2) + nettool("pinger", "ping 02:00:00:00:00:02 50", 3)
    b = boot(m, [guest("nettool")])
    reasons = {e["name"]: e["reason"] for e in b.events("net-disconnected")}
    assert set(reasons) == {"g-addr", "g-len", "g-index"}
    for k in ("addr", "len", "index"):
        assert "g-%s| nettool: notify after garbage -> -5" % k in b
    assert "pinger| nettool: ping sent=50 answered=50" in b
    assert not b.events("domain-crashed")
    assert b.status == 0


def test_switch_flood_does_not_starve_others(boot):
    m = HV + nettool("flooder", "flood 3", 9)
    m += nettool("echo", "echo 4", 2) + nettool("pinger", "ping 02:00:00:00:00:02 100", 3)
    b = boot(m, [guest("nettool")], timeout=120)
    flood = int(b.lines("flooder| nettool: flood sent=")[0].split("=")[1])
    line = b.lines("pinger| nettool: ping")[0]
    answered = int(line.split("answered=")[1].split()[0])
    assert flood > 1000
    assert answered >= 90, line               # others still get their share
    # storm control: most of the flood was dropped at the flooder's port
    assert int(ports(b)["flooder.net0"]["drop_storm"]) > flood // 2
    assert b.status == 0
