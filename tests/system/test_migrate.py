"""Live migration between two Paravane hosts (docs/migration.md "Live
migration"): a running guest moves from A to B with its address, its
console and its state; every failure leaves it running on A."""
import http.client
import json
import threading
import time

import pytest

from conftest import BUILD, guest
from control import TICKER
from faultproxy import FaultProxy
from hosts import TwoHosts, wait

HTTPD = BUILD / "apps" / "httpd" / "httpd.elf"
MEMWALK = BUILD / "apps" / "memwalk" / "memwalk.elf"
WEB_IP = "10.0.2.50"


@pytest.fixture(scope="module")
def hosts():
    with TwoHosts(files=[guest("ticker")], forwards=[(WEB_IP, 80)]) as (a, b):
        for vm in (a, b):
            for name, path in (("ticker", TICKER), ("httpd", HTTPD), ("memwalk", MEMWALK)):
                assert vm.upload(name, path)[0] in (200, 201)
        yield a, b


def migrate(src, name, body, timeout=180):
    """The progress lines, the last one saying how it ended."""
    status, headers, data = src.request("POST", "/v1/domains/%s/migrate" % name, body, timeout=timeout)
    assert status == 200, data
    assert headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in data.decode().splitlines()]
    assert lines and lines[-1]["event"] == "over", lines
    return lines


def ticks(console):
    return [int(line.split()[-1]) for line in console.decode().splitlines() if line.startswith("ticker: tick")]


def test_a_ticking_guest_moves_and_goes_on_counting(hosts):
    a, b = hosts
    assert a.create("tk", image="ticker", args=["0", "50"])[0] == 201
    a.wait_console("tk", b"tick 5")
    lines = migrate(a, "tk", {"to": b.lan_url})
    last = lines[-1]
    assert last["result"] == "migrated", last
    assert last["round"] >= 1, last
    # the stop's parts: sending the last pages, then the destination's answer
    assert 0 <= last["stopped_sending_ms"] <= last["stopped_ms"], last
    a.wait_gone("tk")
    at_move = ticks(b.wait_console("tk", b"tick 5"))[-1]
    console = b.wait_console("tk", b"tick %d\n" % (at_move + 5))
    seen = ticks(console)
    assert seen == list(range(seen[0], seen[-1] + 1)), "no tick lost or repeated: %r" % seen
    assert console.count(b"ticker: started") == 1, "it went on, it did not start again"
    assert b.api("DELETE", "/v1/domains/tk")[0] == 200


# ---- a web server under load ---------------------------------------------------------

class Load:
    """GET /api/status in a loop through a host forward, one connection at
    a time, each retried never: every failure counts."""

    def __init__(self, port):
        self.port, self.ok, self.failures, self.last = port, 0, [], None
        self.max_gap = 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        prev = time.monotonic()
        while not self.stop.is_set():
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
                c.request("GET", "/api/status")
                r = c.getresponse()
                body = r.read()
                c.close()
                assert r.status == 200, r.status
                self.last = json.loads(body)
                self.ok += 1
            except Exception as e:      # noqa: BLE001 - any failure is one
                self.failures.append(repr(e))
            now = time.monotonic()
            self.max_gap = max(self.max_gap, now - prev)
            prev = now

    def end(self):
        self.stop.set()
        self.thread.join(30)


def web(vm, name="web"):
    net = [{"mac": "02:00:00:00:50:01", "ip": WEB_IP, "prefix": 24, "gw": "10.0.2.2"}]
    return vm.create(name, image="httpd", memory=6 << 20, net=net)


def test_httpd_under_load_moves_without_a_failed_request(hosts):
    a, b = hosts
    assert web(a)[0] == 201
    load = Load(a.forwarded[0])
    wait(lambda: load.ok >= 5, 60, "the web server to answer")
    before = load.last["requests"]
    lines = migrate(a, "web", {"to": b.lan_url})
    assert lines[-1]["result"] == "migrated", lines[-1]
    assert any(line["event"] == "stopped" for line in lines), lines
    served = load.ok
    wait(lambda: load.ok >= served + 10, 60, "requests served from the destination")
    load.end()
    assert not load.failures, load.failures
    assert load.last["domain"] == "web" and load.last["requests"] > before + 10, \
        "its request counter goes on: %r" % load.last
    assert a.api("GET", "/v1/domains/web")[0] == 404
    assert b.api("GET", "/v1/domains/web")[2]["state"] in ("running", "blocked")
    assert b.api("DELETE", "/v1/domains/web")[0] == 200
    b.wait_gone("web")


# ---- refusals and faults: the guest runs on at the source ----------------------------

def running_on(vm, name):
    """name keeps ticking on vm: its console grows."""
    n = len(ticks(vm.wait_console(name, b"tick")))
    vm.wait_console(name, b"tick %d\n" % (ticks(vm.wait_console(name, b"tick"))[-1] + 2))
    return n


def names(vm):
    return vm.names()


def free(vm):
    return vm.api("GET", "/v1/host")[2]["memory_free"]


def assert_unharmed(a, b, name, b_names, b_free):
    last = a.api("GET", "/v1/domains/" + name)[2]
    assert last["state"] in ("running", "blocked"), last
    running_on(a, name)
    wait(lambda: names(b) == b_names, 30, "the destination to drop what it built")
    wait(lambda: free(b) == b_free, 30, "the destination's memory to come back")


def test_refused_admissions_leave_the_guest_running_here(hosts):
    a, b = hosts
    assert a.create("stay", image="ticker", args=["0", "50"])[0] == 201
    a.wait_console("stay", b"tick 3")
    assert b.create("stay", image="ticker", args=["0", "1000"])[0] == 201     # the name is taken there
    b_names, b_free = names(b), free(b)
    last = migrate(a, "stay", {"to": b.lan_url})[-1]
    assert last["result"] == "failed" and "name_taken" in last["error"]["message"], last
    assert_unharmed(a, b, "stay", b_names, b_free)
    assert b.api("DELETE", "/v1/domains/stay")[0] == 200
    b.wait_gone("stay")
    b_names, b_free = names(b), free(b)
    last = migrate(a, "stay", {"to": b.lan_url, "name": "stay2", "token": "wrong-token"})[-1]
    assert last["result"] == "failed" and "401" in last["error"]["message"], last
    assert_unharmed(a, b, "stay", b_names, b_free)
    last = migrate(a, "stay", {"to": "http://10.0.2.99:80"}, timeout=60)[-1]
    assert last["result"] == "failed" and last["error"]["code"] == "unreachable", last
    assert_unharmed(a, b, "stay", b_names, b_free)
    assert b.api("DELETE", "/v1/images/ticker")[0] == 200
    b_free = free(b)
    try:
        last = migrate(a, "stay", {"to": b.lan_url, "name": "stay3"})[-1]
        assert last["result"] == "failed" and "image_missing" in last["error"]["message"], last
        assert_unharmed(a, b, "stay", b_names, b_free)
    finally:
        assert b.upload("ticker", TICKER)[0] in (200, 201)
    assert a.api("DELETE", "/v1/domains/stay")[0] == 200


def test_bad_migrate_requests_name_the_field(hosts):
    a, _ = hosts
    assert a.create("stay", image="ticker", args=["0", "1000"])[0] == 201
    for body, field in (({}, "to"), ({"to": "ftp://1.2.3.4"}, "to"), ({"to": "http://host:80"}, "to"),
                        ({"to": "http://1.2.3.4:99999"}, "to"), ({"to": "http://1.2.3.4", "token": ""}, "token"),
                        ({"to": "http://1.2.3.4", "name": "a b"}, "name"),
                        ({"to": "http://1.2.3.4", "then": "x"}, "then")):
        status, _, err = a.api("POST", "/v1/domains/stay/migrate", body)
        assert status == 400 and err["error"]["field"] == field, (body, err)
    status, _, err = a.api("POST", "/v1/domains/nosuch/migrate", {"to": "http://1.2.3.4"})
    assert status == 404, err
    status, _, err = a.api("POST", "/v1/domains/control/migrate", {"to": "http://1.2.3.4"})
    assert status == 403, err
    assert a.api("GET", "/v1/domains/stay")[2]["state"] in ("running", "blocked")
    assert a.api("DELETE", "/v1/domains/stay")[0] == 200


def through(proxy):
    return "http://10.0.2.2:%d" % proxy.port     # the host, as QEMU's user network shows it


@pytest.mark.parametrize("fault", [("cut", 100), ("cut", 300000), ("flip", 200000), ("flip", 2000)])
def test_a_broken_connection_or_stream_leaves_the_guest_running_here(hosts, fault):
    a, b = hosts
    name = "f%d" % fault[1]
    assert a.create(name, image="ticker", args=["0", "50", "1024"], memory=4 << 20)[0] == 201
    a.wait_console(name, b"tick 3")
    b_names, b_free = names(b), free(b)
    proxy = FaultProxy(b.port, fault)
    try:
        last = migrate(a, name, {"to": through(proxy)})[-1]
    finally:
        proxy.close()
    assert last["result"] == "failed", last
    assert_unharmed(a, b, name, b_names, b_free)
    assert a.api("DELETE", "/v1/domains/" + name)[0] == 200


def test_a_lost_answer_is_asked_about_and_the_guest_runs_once(hosts):
    a, b = hosts
    assert a.create("mute", image="ticker", args=["0", "50"])[0] == 201
    a.wait_console("mute", b"tick 3")
    proxy = FaultProxy(b.port, "mute")
    try:
        last = migrate(a, "mute", {"to": through(proxy)})[-1]
    finally:
        proxy.close()
    assert b" 201 " in proxy.answer.split(b"\r\n")[0], proxy.answer[:200]
    assert last["result"] == "migrated", last
    a.wait_gone("mute")
    running_on(b, "mute")
    assert b.api("DELETE", "/v1/domains/mute")[0] == 200


# ---- a guest that writes all its memory all the time -------------------------------

def passes(console):
    return [int(line.split()[2]) for line in console.decode().splitlines()
            if line.startswith("memwalk: pass ")]


def test_a_guest_rewriting_its_memory_moves_with_every_page_current(hosts):
    """Every pass checks the last one's words: a page the rounds failed to
    send again after it changed would be caught on the destination."""
    a, b = hosts
    assert a.create("mw", image="memwalk", args=["4096", "2"], memory=8 << 20)[0] == 201
    a.wait_console("mw", b"pass 4 ok", timeout=60)
    lines = migrate(a, "mw", {"to": b.lan_url})
    last = lines[-1]
    assert last["result"] == "migrated", last
    assert last["pages_sent"] > 1024 + 256, "it went in rounds: %r" % lines
    moved = b.api("GET", "/v1/domains/mw")[2]["id"]      # its console outlives it, by id
    at_move = passes(b.wait_console(moved, b"memwalk: pass"))[-1]
    console = wait(lambda: (lambda c: c if b"BAD" in c or b"pass %d ok" % (at_move + 6) in c else None)(
        b.request("GET", "/v1/domains/%d/console" % moved)[2]), 120, "six more passes")
    assert b"BAD" not in console, "a page came over stale: %r" % console[-300:]
    assert b.api("DELETE", "/v1/domains/mw")[0] == 200
    b.wait_gone("mw")


def test_a_guest_that_ends_during_its_rounds_is_nowhere_and_harms_nothing(hosts):
    """It exits by itself while its pages go: the save ends with it (the
    hypervisor frees it before the domain's memory), the migration fails
    or, if it was quicker, the guest ends there; never in both places."""
    a, b = hosts
    b_names, b_free = names(b), free(b)
    status, _, d = a.create("short", image="memwalk", args=["16384", "1", "40"], memory=20 << 20)
    assert status == 201, d
    a.wait_console(d["id"], b"pass 3 ok", timeout=60)
    last = migrate(a, "short", {"to": b.lan_url})[-1]
    a.wait_gone("short", timeout=60)
    assert last["result"] in ("failed", "migrated"), last
    if last["result"] == "failed":
        assert a.vm.wait_for(r"domain-save-end id=\d+ name=short .*then=domain-ended", 10), last
    else:
        b.wait_gone("short", timeout=60)
    wait(lambda: names(b) == b_names, 30, "the destination to have nothing of it")
    wait(lambda: free(b) == b_free, 30, "the destination's memory to come back")
    assert a.api("GET", "/v1/host")[0] == 200 and b"BAD" not in a.vm.log.encode()


# ---- last: the destination dies ------------------------------------------------------

def test_a_destination_that_dies_mid_way_leaves_the_guest_running_here(hosts):
    a, b = hosts
    assert a.create("mw2", image="memwalk", args=["16384", "2"], memory=20 << 20)[0] == 201
    a.wait_console("mw2", b"pass 2 ok", timeout=60)
    c = a.conn(timeout=120)
    c.request("POST", "/v1/domains/mw2/migrate", json.dumps({"to": b.lan_url}),
              {"Authorization": "Bearer " + a.token, "Content-Type": "application/json"})
    r = c.getresponse()
    assert r.status == 200
    first = json.loads(r.readline())
    assert first["event"] == "round", first
    b.vm.stop()                          # mid-way: the machine is gone
    lines = [json.loads(line) for line in r.read().decode().splitlines()]
    c.close()
    last = lines[-1]
    assert last["result"] == "failed", last
    assert a.api("GET", "/v1/domains/mw2")[2]["state"] in ("running", "blocked")
    at = passes(a.wait_console("mw2", b"memwalk: pass"))[-1]
    console = a.wait_console("mw2", b"pass %d ok" % (at + 4), timeout=120)
    assert b"BAD" not in console, console[-300:]
