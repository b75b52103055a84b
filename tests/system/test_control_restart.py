"""The control domain is not a single point of failure: killed in the
middle of requests (the operator's 'R' key on the serial console ends it
as crashed), it is restarted by its on_crash policy and rebuilds its view
from the hypervisor; every other guest ran on meanwhile."""
import socket
import time

from conftest import guest
from control import BOOT_TICKER, TICKER, ControlVM


def ticks(vm, ref):
    status, headers, _ = vm.request("GET", "/v1/domains/%s/console" % ref)
    assert status == 200
    return int(headers["paravane-console-next"])


def test_control_domain_killed_mid_request_comes_back_with_everything():
    with ControlVM(extra=BOOT_TICKER % 200, files=[guest("ticker")]) as vm:
        assert vm.upload("ticker", TICKER)[0] == 201
        status, _, made = vm.create("made", image="ticker", args=["0", "200"])
        assert status == 201, made
        last_event = vm.request("GET", "/v1/events?follow=0")[2].decode().rsplit("id: ", 1)[1].split()[0]
        before = {d["name"]: d for d in vm.api("GET", "/v1/domains")[2]["domains"]}
        tick_before, made_before = ticks(vm, "tick"), ticks(vm, "made")

        # mid-request: an upload half sent and a console stream open
        auth = b"Authorization: Bearer " + vm.token.encode() + b"\r\n"
        upload = socket.create_connection(("127.0.0.1", vm.port), timeout=10)
        upload.sendall(b"PUT /v1/images/half HTTP/1.1\r\n" + auth + b"Content-Length: 4000000\r\n\r\n")
        upload.sendall(TICKER.read_bytes()[:50000])
        stream = vm.conn(timeout=30)
        stream.request("GET", "/v1/domains/tick/console?follow=1", headers={"Authorization": auth[15:-2].decode()})
        assert stream.getresponse().status == 200

        vm.vm.type(b"R")
        assert vm.vm.wait_for(r"@event console-restart-control killed=1", 20), vm.log[-2000:]
        assert vm.vm.wait_for(r"@event domain-crashed id=%d name=control reason=killed" % before["control"]["id"], 20)
        assert vm.vm.wait_for(r"(?s)domain-restarted name=control.*control: API serving", 60), vm.log[-3000:]
        upload.close()
        stream.close()

        after = {d["name"]: d for d in vm.api("GET", "/v1/domains")[2]["domains"]}
        assert after["control"]["id"] != before["control"]["id"] and after["control"]["restarts"] == 1
        for name in ("tick", "made"):          # the same domains, never restarted
            assert after[name]["id"] == before[name]["id"] and after[name]["restarts"] == 0
            assert after[name]["uptime_seconds"] > before[name]["uptime_seconds"]
        assert after["made"]["args"] == ["0", "200"] and after["made"]["image"] == "ticker"
        time.sleep(1)
        assert ticks(vm, "tick") > tick_before and ticks(vm, "made") > made_before, vm.log[-3000:]
        images = [i["name"] for i in vm.api("GET", "/v1/images")[2]["images"]]
        assert images == ["ticker"]            # kept; the half upload never arrived
        newer = vm.request("GET", "/v1/events?follow=0", headers={"Last-Event-ID": last_event})[2].decode()
        assert "domain-crashed" in newer and "name=control" in newer and "events-lost" not in newer
        assert vm.api("DELETE", "/v1/domains/made")[0] == 200


def test_a_control_domain_killed_mid_save_leaves_the_guest_running_and_its_snapshots():
    """Its half-made save ends with the guest resumed (the hypervisor ends
    the saves a dead privileged domain began); snapshots live in the
    hypervisor and are still there for the new control domain."""
    with ControlVM(files=[guest("ticker")], smp=2) as vm:
        assert vm.upload("ticker", TICKER)[0] == 201
        # 24 MiB in use: more than the sockets on the way hold, so the save is mid-way
        assert vm.create("big", image="ticker", args=["0", "100", "24576"], memory=32 << 20)[0] == 201
        vm.wait_console("big", b"tick 1\n")
        assert vm.api("POST", "/v1/domains/big/snapshot", {"name": "kept"})[0] == 201
        saving = vm.conn(timeout=30)
        saving.request("GET", "/v1/domains/big/save?then=destroy", headers={"Authorization": "Bearer " + vm.token})
        r = saving.getresponse()
        assert r.status == 200
        r.read(100)
        assert vm.api("DELETE", "/v1/domains/big")[2]["error"]["code"] == "busy"   # held by the save

        vm.vm.type(b"R")
        assert vm.vm.wait_for(r"domain-save-end id=\d+ name=big bytes=\d+ complete=no then=resume-owner-gone", 30), \
            vm.log[-2000:]
        assert vm.vm.wait_for(r"(?s)domain-restarted name=control.*control: API serving", 60), vm.log[-3000:]
        saving.close()
        status, _, d = vm.api("GET", "/v1/domains/big")
        assert status == 200 and d["state"] in ("running", "blocked"), d
        before = ticks(vm, "big")
        time.sleep(1)
        assert ticks(vm, "big") > before, "it goes on"
        assert [s["name"] for s in vm.api("GET", "/v1/snapshots")[2]["snapshots"]] == ["kept"]
        assert vm.api("DELETE", "/v1/snapshots/kept")[0] == 200
        assert vm.api("DELETE", "/v1/domains/big")[0] == 200
