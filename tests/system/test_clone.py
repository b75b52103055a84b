"""Snapshots and copy-on-write clones through the API (docs/migration.md,
"Snapshots and clones"): a hundred clones of a warm httpd all serve, each
on its own address and under its own name, going on from the snapshot's
state; clones use memory for what they write, not for their size; their
random numbers differ; every frame comes back when they and the snapshot
are gone; wrong requests are refused and leave nothing behind."""
import http.client
import json
import re
import time

import pytest

from conftest import BUILD, guest
from control import ControlVM, TICKER

HTTPD = BUILD / "apps" / "httpd" / "httpd.elf"
WEB_IP = "10.0.2.60"
CLONES = 100
CLONE_IPS = ["10.0.2.%d" % (100 + k) for k in range(CLONES)]


@pytest.fixture(scope="module")
def vm():
    with ControlVM(files=[guest("ticker")], smp=2, memory="1536M",
                   forwards=[(ip, 80) for ip in [WEB_IP] + CLONE_IPS]) as v:
        assert v.upload("ticker", TICKER)[0] in (200, 201)
        assert v.upload("httpd", HTTPD)[0] in (200, 201)
        yield v


def status(vm, port_index, timeout=30):
    """httpd's /api/status through forward port_index, retried until it answers."""
    end = time.monotonic() + timeout
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", vm.forwarded[port_index], timeout=5)
            c.request("GET", "/api/status")
            r = c.getresponse()
            body = r.read()
            c.close()
            if r.status == 200:
                return json.loads(body)
        except (OSError, http.client.HTTPException):
            pass
        if time.monotonic() > end:
            raise AssertionError("no answer on forward %d" % port_index)
        time.sleep(0.2)


def host(vm):
    return vm.api("GET", "/v1/host")[2]


def names(vm):
    return sorted(d["name"] for d in vm.api("GET", "/v1/domains")[2]["domains"])


def destroy(vm, *refs):
    for ref in refs:
        assert vm.api("DELETE", "/v1/domains/" + ref)[0] == 200
    for ref in refs:
        vm.wait_gone(ref)


def test_a_hundred_clones_of_a_warm_httpd_all_serve_on_their_own_addresses(vm):
    free_before = host(vm)["memory_free"]
    net = [{"mac": "02:00:00:00:60:01", "ip": WEB_IP, "prefix": 24, "gw": "10.0.2.2"}]
    assert vm.create("web", image="httpd", memory=6 << 20, net=net)[0] == 201
    for _ in range(3):
        warm = status(vm, 0)
    assert warm["domain"] == "web"
    status_code, headers, snap = vm.api("POST", "/v1/domains/web/snapshot", {"name": "warm"})
    assert status_code == 201 and headers["location"] == "/v1/snapshots/warm", snap
    web_private = vm.api("GET", "/v1/domains/web")[2]["memory_private"]

    status_code, _, made = vm.api("POST", "/v1/snapshots/warm/clone", timeout=300,
                                  body={"name": "c", "count": CLONES,
                                        "net": [{"ip": CLONE_IPS[0], "prefix": 24, "gw": "10.0.2.2"}]})
    assert status_code == 201, made
    doms = made["domains"]
    assert [d["name"] for d in doms] == ["c-%d" % (k + 1) for k in range(CLONES)]
    assert [d["net"][0]["ip"] for d in doms] == CLONE_IPS
    assert len({d["net"][0]["mac"] for d in doms} | {"02:00:00:00:60:01"}) == CLONES + 1
    assert vm.api("GET", "/v1/snapshots/warm")[2]["clones"] == CLONES
    at_birth = max(d["memory_private"] for d in doms)
    assert at_birth <= 128 << 10, "a clone starts owning its rings and info pages (and a few RX buffers): %d" % at_birth

    for k in range(CLONES):
        s = status(vm, k + 1)
        assert s["domain"] == "c-%d" % (k + 1) and s["domid"] == doms[k]["id"], s
        assert s["requests"] == warm["requests"] + 1, "it goes on from the snapshot's state"
    assert status(vm, 0)["domain"] == "web", "the original keeps its address"

    private = [vm.api("GET", "/v1/domains/c-%d" % (k + 1))[2]["memory_private"] for k in range(CLONES)]
    print("httpd private %d KiB; a clone's at birth %d KiB, after one request (and the others'"
          " ARP broadcasts in its RX buffers): max %d KiB, mean %d KiB"
          % (web_private >> 10, at_birth >> 10, max(private) >> 10, sum(private) // len(private) >> 10))
    assert max(private) < web_private, "a clone owns what was written in it, not what it shares"

    destroy(vm, *["c-%d" % (k + 1) for k in range(CLONES)])
    assert vm.api("DELETE", "/v1/snapshots/warm")[0] == 200
    destroy(vm, "web")
    assert host(vm)["memory_free"] == free_before, "every frame came back"


def ticker_lines(vm, ref, what):
    return re.findall(r"ticker: %s (\w+)" % what, vm.request("GET", "/v1/domains/%s/console" % ref)[2].decode())


def test_clones_draw_their_own_random_numbers_and_see_a_new_generation(vm):
    assert vm.create("tk", image="ticker", args=["0", "100", "2048", "rand"], memory=4 << 20)[0] == 201
    vm.wait_console("tk", b"tick 2\n")
    assert vm.api("POST", "/v1/domains/tk/snapshot", {"name": "tks", "then": "destroy"})[0] == 201
    vm.wait_gone("tk")
    status_code, _, made = vm.api("POST", "/v1/snapshots/tks/clone", {"name": "r", "count": 3})
    assert status_code == 201, made
    for k in (1, 2, 3):
        vm.wait_console("r-%d" % k, b"ticker: generation")
        vm.wait_console("r-%d" % k, b"tick 8\n")
    gens = [ticker_lines(vm, "r-%d" % k, "generation") for k in (1, 2, 3)]
    rands = [ticker_lines(vm, "r-%d" % k, "rand") for k in (1, 2, 3)]
    assert len({g[-1] for g in gens}) == 3, gens
    assert not set(rands[0][-4:]) & set(rands[1][-4:]) and not set(rands[1][-4:]) & set(rands[2][-4:]), rands
    private = [vm.api("GET", "/v1/domains/r-%d" % k)[2]["memory_private"] for k in (1, 2, 3)]
    assert max(private) < 1 << 20, "2 MiB filled before the snapshot stays shared: %r" % private
    destroy(vm, "r-1", "r-2", "r-3")
    assert vm.api("DELETE", "/v1/snapshots/tks")[0] == 200


def test_a_snapshot_outlives_its_domain_and_its_drop_waits_for_the_last_clone(vm):
    free_before = host(vm)["memory_free"]
    assert vm.create("tk2", image="ticker", args=["0", "100"])[0] == 201
    vm.wait_console("tk2", b"tick 1\n")
    assert vm.api("POST", "/v1/domains/tk2/snapshot", {"name": "s2", "then": "destroy"})[0] == 201
    vm.wait_gone("tk2")
    assert vm.api("POST", "/v1/snapshots/s2/clone", {"name": "only"})[0] == 201
    status_code, _, s = vm.api("DELETE", "/v1/snapshots/s2")
    assert status_code == 200 and s["clones"] == 1
    assert vm.api("GET", "/v1/snapshots/s2")[0] == 404
    last = vm.wait_console("only", b"ticker: tick")
    vm.wait_console("only", b"tick %d\n" % (int(re.findall(rb"tick (\d+)", last)[-1]) + 3))
    destroy(vm, "only")
    assert host(vm)["memory_free"] == free_before, "the snapshot's memory went with its last clone"


def test_wrong_snapshot_and_clone_requests_are_refused(vm):
    before = names(vm)
    status_code, _, err = vm.api("POST", "/v1/snapshots/nosuch/clone", {"name": "x"})
    assert status_code == 404 and err["error"]["code"] == "no_such_snapshot"
    status_code, _, err = vm.api("POST", "/v1/domains/control/snapshot", {"name": "ctl"})
    assert status_code == 403
    assert vm.create("tk3", image="ticker", args=["0", "200"])[0] == 201
    for body, field in (({"name": "7"}, "name"), ({}, "name"), ({"name": "ok", "then": "later"}, "then"),
                        ({"name": "ok", "extra": 1}, "extra")):
        status_code, _, err = vm.api("POST", "/v1/domains/tk3/snapshot", body)
        assert status_code == 400 and err["error"]["field"] == field, (body, err)
    assert vm.api("POST", "/v1/domains/tk3/snapshot", {"name": "s3"})[0] == 201
    status_code, _, err = vm.api("POST", "/v1/domains/tk3/snapshot", {"name": "s3"})
    assert status_code == 409 and err["error"]["code"] == "snapshot_exists"
    status_code, _, err = vm.api("POST", "/v1/snapshots/s3/clone",
                                 {"name": "n", "net": [{"ip": "10.0.2.99", "prefix": 24}]})
    assert status_code == 400 and "net_count" in err["error"]["message"], err
    status_code, _, err = vm.api("POST", "/v1/snapshots/s3/clone", {"name": "tk3"})
    assert status_code == 409 and err["error"]["created"] == [], err
    status_code, _, err = vm.api("POST", "/v1/snapshots/s3/clone", {"name": "n", "count": 1001})
    assert status_code == 400 and err["error"]["field"] == "count"
    assert names(vm) == before + ["tk3"], "nothing left of the refused clones"
    assert vm.api("DELETE", "/v1/snapshots/s3")[0] == 200
    destroy(vm, "tk3")
