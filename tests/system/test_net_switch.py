"""The virtual switch and the net backend against hostile guests (raw
Ethernet through tests/guests/nettool, no IP stack involved), and one DHCP
guest with lwIP whose lease the switch must bind."""
import http.server
import threading

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


# ---- the IP guard: ARP and IP senders above L2 (docs/net.md) ----------------

def test_forged_arp_is_dropped_and_counted(boot):
    """A guest with ip=10.0.0.1 claims 10.0.0.2 and 10.0.0.66 and names
    another MAC as ARP sender: none of it reaches the other guest, each is
    counted at its port; its honest who-has goes through."""
    m = HV + nettool("listener", "listen 3 10.0.0.1", 2) + nettool("spoofer", "arpspoof 10.0.0.2", 1)
    b = boot(m, [guest("nettool")])
    assert "spoofer| nettool: arpspoof sent=20 rejected=15" in b, b.lines("spoofer|")
    assert "listener| nettool: heard arp=5 ip=0 other=0 forged=0" in b, b.lines("listener|")
    p = ports(b)
    assert p["spoofer.net0"]["drop_ip_spoof"] == 15 and p["spoofer.net0"]["drop_spoof"] == 0
    assert p["spoofer.net0"]["rx_frames"] == 5
    assert p["listener.net0"]["tx_frames"] == 5
    assert b.status == 0


def test_forged_ip_is_dropped_and_counted(boot):
    """IPv4 from another guest's address, from nobody's, from 0.0.0.0 as a
    DHCP client (the guest has a static address), its own address behind a
    VLAN tag, and IPv6: dropped and counted; its own IPv4 goes through."""
    m = HV + nettool("listener", "listen 3 10.0.0.1", 2) + nettool("spoofer", "ipspoof 10.0.0.2", 1)
    b = boot(m, [guest("nettool")])
    assert "spoofer| nettool: ipspoof sent=30 rejected=25" in b, b.lines("spoofer|")
    assert "listener| nettool: heard arp=0 ip=5 other=0 forged=0" in b, b.lines("listener|")
    p = ports(b)
    assert p["spoofer.net0"]["drop_ip_spoof"] == 25 and p["spoofer.net0"]["rx_frames"] == 5
    assert p["listener.net0"]["tx_frames"] == 5
    assert b.status == 0


def test_dhcp_guest_talks_from_its_lease(boot):
    """A DHCP guest gets its lease from QEMU's user network; the switch binds
    it from the server's ACK, so the guest's ARP and TCP from 10.0.2.15 pass
    and it fetches a page from the host (10.0.2.2 is the host's loopback)."""
    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"leased address accepted\n")

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        m = HV + ("[guest client]\nimage = fetch.elf\nmemory = 8M\ncmdline = \"fetch 10.0.2.2 %d /\"\n"
                  "net = mac=02:00:00:00:00:20, dhcp\n") % srv.server_address[1]
        b = boot(m, [guest("fetch")], net=[], timeout=120)
    finally:
        srv.shutdown()
    assert "client| fetch> leased address accepted" in b, b.lines("client|")
    p = ports(b)["client.net0"]
    assert p["drop_ip_spoof"] == 0 and p["rx_frames"] > 3, p
    assert b.status == 0
