"""The control domain's REST API (docs/api.md) against a booted machine:
every documented route and only those, authentication, strict input,
HTTP limits, images, the domain life cycle, console, events, metrics and
robustness against bad clients.  One machine for the module (-smp 1)."""
import concurrent.futures
import json
import re
import socket
import time

import pytest

from conftest import BUILD, ROOT, guest
from control import BOOT_TICKER, HELLO, TICKER, ControlVM



@pytest.fixture(scope="module")
def vm():
    with ControlVM(extra=BOOT_TICKER % 300, files=[guest("ticker")]) as m:
        yield m


def documented_routes():
    """(method, path) pairs of docs/api.md's route table."""
    text = (ROOT / "docs" / "api.md").read_text()
    table = text.split("## Routes", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| (GET|POST|PUT|DELETE) \| `([^`]+)` \|", table, re.M)


def served_routes():
    """(method, pattern) pairs of apps/control/router.c's table."""
    src = (ROOT / "apps" / "control" / "router.c").read_text()
    return [(m, p.replace("*", "{}")) for m, p in re.findall(r'\{ "(\w+)", "([^"]+)", api_\w+', src)]


def concrete(path):
    return (path.replace("{ref}", "control").replace("{name}", "nosuchimage")
            .replace("{file}", "app.js"))


def raw(vm, data, read_timeout=15):
    """Send raw bytes on a new connection; the whole answer until close."""
    with socket.create_connection(("127.0.0.1", vm.port), timeout=read_timeout) as s:
        s.sendall(data)
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            pass
        return out


# ---- routes and authentication -----------------------------------------------

def test_router_table_is_the_documented_table():
    doc = sorted((m, re.sub(r"\{\w+\}", "{}", p)) for m, p in documented_routes())
    assert len(doc) == 24, doc
    assert sorted(served_routes()) == doc


def test_every_documented_route_answers_and_others_are_404(vm):
    for method, path in documented_routes():
        if method in ("POST", "PUT", "DELETE"):
            continue                 # side effects: covered by their own tests
        status, headers, _ = vm.request(method, concrete(path) + ("?follow=0" if "events" in path else ""))
        assert status != 405 and not (status == 404 and b"not_found" in _), (method, path, status)
    for path in ("/v1", "/v1/", "/v1/domains/", "/v1/hosts", "/v2/host", "/ui/", "/metrics/x",
                 "/v1/domains/control/console/x"):
        status, _, doc = vm.api("GET", path)
        assert status == 404 and doc["error"]["code"] == "not_found", path
    status, headers, doc = vm.api("PATCH", "/v1/domains")
    assert status == 405 and doc["error"]["code"] == "method_not_allowed"
    assert set(headers["allow"].split(", ")) == {"GET", "POST"}
    assert vm.api("HEAD", "/v1/host")[0] == 405


@pytest.mark.parametrize("auth", [None, "Bearer wrong-token-0123456789", "Basic dXNlcjpwYXNz",
                                  "Bearer", "bearer " + "x" * 400])
def test_no_route_answers_without_the_token(vm, auth):
    for method, path in documented_routes() + [("GET", "/v1/nosuchroute")]:
        if path == "/" or path.startswith("/ui/"):
            continue
        status, headers, doc = vm.api(method, concrete(path), token=auth or False)
        assert status == 401, (method, path, status)
        assert doc["error"]["code"] == "unauthorized"
        assert headers["www-authenticate"] == 'Bearer realm="paravane"'


def test_dashboard_files_load_without_token(vm):
    status, headers, body = vm.request("GET", "/", token=False)
    assert status == 200 and headers["content-type"].startswith("text/html") and b"<html" in body
    status, headers, body = vm.request("GET", "/ui/app.js", token=False)
    assert status == 200 and headers["content-type"].startswith("text/javascript")
    assert vm.api("GET", "/ui/nosuch.js", token=False)[0] == 404
    assert headers["cache-control"] == "no-store"


# ---- host -------------------------------------------------------------------

def test_host(vm):
    status, _, h = vm.api("GET", "/v1/host")
    assert status == 200
    assert h["api_version"] == 1 and h["abi_version"] == 1
    assert h["cpus_started"] == h["cpus_found"] == 1
    assert 0 < h["memory_free"] < h["memory_total"] <= 512 << 20
    assert h["domains_live"] >= 2 and h["domains_max"] >= h["domains_live"]
    assert h["uptime_seconds"] > 0
    _, _, doms = vm.api("GET", "/v1/domains")
    control = [d for d in doms["domains"] if d["name"] == "control"][0]
    assert h["control_id"] == control["id"] and control["privileged"] and control["boot"]


# ---- strict input -------------------------------------------------------------

BAD_BODIES = [
    (b"{", "bad_json", None),
    (b"[]", "bad_json", None),
    (b'"name"', "bad_json", None),
    (b'{"name": "a", "name": "b", "image": "hello", "memory": 1048576}', "bad_json", None),
    (b'{"name": "a" "image": "hello"}', "bad_json", None),
    (b'{"name": "a", "image": "hello", "memory": 1048576,}', "bad_json", None),
    (b'{"name": "\xff\xfe", "image": "hello", "memory": 1048576}', "bad_json", None),
    (b'{"image": "hello", "memory": 1048576}', "missing_field", "name"),
    (b'{"name": "a", "memory": 1048576}', "missing_field", "image"),
    (b'{"name": "a", "image": "hello"}', "missing_field", "memory"),
    (b'{"name": 7, "image": "hello", "memory": 1048576}', "bad_field", "name"),
    (b'{"name": "123", "image": "hello", "memory": 1048576}', "bad_field", "name"),
    (b'{"name": "a b", "image": "hello", "memory": 1048576}', "bad_field", "name"),
    (b'{"name": "a", "image": "hello", "memory": "1048576"}', "bad_field", "memory"),
    (b'{"name": "a", "image": "hello", "memory": 1048576.0}', "bad_field", "memory"),
    (b'{"name": "a", "image": "hello", "memory": 1e6}', "bad_field", "memory"),
    (b'{"name": "a", "image": "hello", "memory": 99999999999999999999999999}', "bad_field", "memory"),
    (b'{"name": "a", "image": "hello", "memory": -4096}', "bad_field", "memory"),
    (b'{"name": "a", "image": "hello", "memory": 1048577}', "bad_field", "memory"),
    (b'{"name": "a", "image": "hello", "memory": 1048576, "weight": 0}', "bad_field", "weight"),
    (b'{"name": "a", "image": "hello", "memory": 1048576, "cpus": []}', "bad_field", "cpus"),
    (b'{"name": "a", "image": "hello", "memory": 1048576, "cpus": [64]}', "bad_field", "cpus.0"),
    (b'{"name": "a", "image": "hello", "memory": 1048576, "args": ["x\\u0000"]}', "bad_field", "args.0"),
    (b'{"name": "a", "image": "hello", "memory": 1048576, "args": ["' + b"x" * 300 + b'"]}',
     "bad_field", "args.0"),
    (b'{"name": "a", "image": "hello", "memory": 1048576, "args": [' + b",".join([b'"' + b"y" * 50 + b'"'] * 6) + b']}',
     "bad_field", "args"),
    (b'{"name": "a", "image": "hello", "memory": 1048576, "on_exit": "reboot"}', "bad_field", "on_exit"),
    (b'{"name": "a", "image": "hello", "memory": 1048576, "privileged": true}', "unknown_field",
     "privileged"),
    (b'{"name": "a", "image": "hello", "memory": 1048576, "net": [{"ip": "10.0.0.2"}]}',
     "missing_field", "net.0.prefix"),
    (b'{"name": "a", "image": "hello", "memory": 1048576, "net": [{"ip": "10.0.0.256", "prefix": 24}]}',
     "bad_field", "net.0.ip"),
    (b'{"name": "a", "image": "hello", "memory": 1048576, "net": [{"dhcp": true, "color": 1}]}',
     "unknown_field", "net.0.color"),
    (b'{"name": "a", "image": "hello", "memory": 1048576, "net": [{"mac": "01:00:00:00:00:01", "dhcp": true}]}',
     "bad_field", "net.0.mac"),
    (b'{"name": "a", "image": "hello", "memory": 1048576, "net": [{"ip": "10.0.0.2", "prefix": 24, "gw": "10.1.0.1"}]}',
     "bad_field", "net.0.gw"),
]


@pytest.mark.parametrize("body,code,field", BAD_BODIES)
def test_bad_create_bodies_name_the_problem(vm, body, code, field):
    status, _, doc = vm.api("POST", "/v1/domains", body, headers={"Content-Type": "application/json"})
    assert status == 400, doc
    assert doc["error"]["code"] == code, doc
    if field:
        assert doc["error"].get("field") == field, doc
    assert doc["error"]["message"]


def test_nothing_was_created_by_bad_requests(vm):
    _, _, doc = vm.api("GET", "/v1/domains")
    assert "a" not in [d["name"] for d in doc["domains"]]


# ---- HTTP limits ----------------------------------------------------------------

def test_headers_too_large(vm):
    out = raw(vm, b"GET /v1/host HTTP/1.1\r\nX-Pad: " + b"a" * 9000 + b"\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 431 ") and b"headers_too_large" in out
    lines = b"".join(b"X-%d: y\r\n" % i for i in range(70))
    assert raw(vm, b"GET /v1/host HTTP/1.1\r\n" + lines + b"\r\n").startswith(b"HTTP/1.1 431 ")


def test_malformed_request_line(vm):
    for bad in (b"GARBAGE\r\n\r\n", b"GET /v1/host HTTP/9.9\r\n\r\n", b"get /v1/host HTTP/1.1\r\n\r\n",
                b"GET v1/host HTTP/1.1\r\n\r\n", b"GET /v1/host HTTP/1.1\r\nNoColon\r\n\r\n"):
        out = raw(vm, bad)
        assert out.startswith(b"HTTP/1.1 400 ") and b"bad_request" in out, (bad, out[:200])


def test_oversized_body_is_refused_before_it_is_sent(vm):
    """413 arrives although the client sent only the head."""
    auth = b"Authorization: Bearer " + vm.token.encode() + b"\r\n"
    with socket.create_connection(("127.0.0.1", vm.port), timeout=15) as s:
        s.sendall(b"PUT /v1/images/big HTTP/1.1\r\n" + auth + b"Content-Length: 999999999\r\n\r\n")
        out = s.recv(4096)
    assert out.startswith(b"HTTP/1.1 413 ") and b'"limit":67108864' in out
    with socket.create_connection(("127.0.0.1", vm.port), timeout=15) as s:
        s.sendall(b"POST /v1/domains HTTP/1.1\r\n" + auth + b"Content-Type: application/json\r\n"
                  b"Content-Length: 70000\r\n\r\n")
        out = s.recv(4096)
    assert out.startswith(b"HTTP/1.1 413 ") and b'"limit":65536' in out


def test_length_required_and_media_type(vm):
    auth = b"Authorization: Bearer " + vm.token.encode() + b"\r\n"
    out = raw(vm, b"POST /v1/domains HTTP/1.1\r\n" + auth + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 411 ")
    status, _, doc = vm.api("POST", "/v1/domains", b"{}", headers={"Content-Type": "text/plain"})
    assert status == 415 and doc["error"]["code"] == "unsupported_media_type"
    status, _, doc = vm.api("PUT", "/v1/images/x", b"\x7fELF", headers={"Content-Type": "text/html"})
    assert status == 415


def test_slow_client_gets_408(vm):
    with socket.create_connection(("127.0.0.1", vm.port), timeout=30) as s:
        s.sendall(b"GET /v1/host HTTP/1.1\r\n")
        start = time.monotonic()
        out = s.recv(4096)
    assert out.startswith(b"HTTP/1.1 408 "), out[:100]
    assert 8 < time.monotonic() - start < 25


def test_keepalive_and_pipelining(vm):
    auth = b"Authorization: Bearer " + vm.token.encode() + b"\r\n"
    one = b"GET /v1/host HTTP/1.1\r\n" + auth + b"\r\n"
    out = raw(vm, one * 5 + b"GET /v1/host HTTP/1.1\r\n" + auth + b"Connection: close\r\n\r\n")
    assert out.count(b"HTTP/1.1 200 OK") == 6
    conn = vm.conn()
    for _ in range(50):
        assert vm.request("GET", "/v1/host", conn=conn)[0] == 200
    conn.close()


def test_concurrent_clients(vm):
    def client(i):
        conn = vm.conn()
        codes = [vm.request("GET", "/v1/domains", conn=conn)[0] for _ in range(15)]
        conn.close()
        return codes
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(client, range(8)))
    assert all(code == 200 for codes in results for code in codes)


def test_too_many_connections_get_503_and_the_server_goes_on(vm):
    socks = []
    try:
        for _ in range(34):
            socks.append(socket.create_connection(("127.0.0.1", vm.port), timeout=10))
        refused, end = [], time.monotonic() + 15
        while len(refused) < 2 and time.monotonic() < end:
            time.sleep(0.5)
            for s in socks:
                s.setblocking(False)
                try:
                    refused.append(s.recv(4096))
                except BlockingIOError:
                    pass
        assert len(refused) == 2 and all(r.startswith(b"HTTP/1.1 503 ") for r in refused), refused
    finally:
        for s in socks:
            s.close()
    time.sleep(1)
    assert vm.api("GET", "/v1/host")[0] == 200


# ---- images -----------------------------------------------------------------------

def test_image_upload_list_get_delete(vm):
    status, headers, img = vm.upload("hello")
    assert status == 201, img
    assert headers["location"] == "/v1/images/hello"
    import hashlib
    assert img["sha256"] == hashlib.sha256(HELLO.read_bytes()).hexdigest()
    assert img["size"] == HELLO.stat().st_size and img["users"] == 0
    assert vm.upload("hello")[0] == 200                       # same bytes again
    status, _, doc = vm.upload("hello", TICKER)
    assert status == 409 and doc["error"]["code"] == "image_exists"
    _, _, doc = vm.api("GET", "/v1/images")
    assert "hello" in [i["name"] for i in doc["images"]]
    assert vm.api("GET", "/v1/images/hello")[2]["sha256"] == img["sha256"]
    assert vm.upload("hello2")[0] == 201
    status, _, doc = vm.api("DELETE", "/v1/images/hello2")
    assert status == 200 and doc["name"] == "hello2"
    assert vm.api("GET", "/v1/images/hello2")[0] == 404
    assert vm.api("DELETE", "/v1/images/hello2")[0] == 404


@pytest.mark.parametrize("data,words", [
    (b"not an elf at all", "ELF"),
    (b"\x7fELF" + b"\0" * 60, "ELF"),
    ((BUILD / "hypervisor" / "paravane.elf").read_bytes()[:65536], ""),
])
def test_bad_images_get_the_loaders_message(vm, data, words):
    status, _, doc = vm.api("PUT", "/v1/images/bad", data)
    assert status == 400 and doc["error"]["code"] == "bad_image", doc
    assert words in doc["error"]["message"] and len(doc["error"]["message"]) > 10
    assert vm.api("GET", "/v1/images/bad")[0] == 404


def test_bad_image_names(vm):
    for name in ("123", "a" * 32, ".x", "a%20b"):
        status, _, doc = vm.api("PUT", "/v1/images/" + name, HELLO.read_bytes())
        assert status == 400 and doc["error"]["code"] == "bad_field" and doc["error"]["field"] == "name"


def test_upload_dropped_midway_leaves_nothing(vm):
    auth = b"Authorization: Bearer " + vm.token.encode() + b"\r\n"
    with socket.create_connection(("127.0.0.1", vm.port), timeout=15) as s:
        s.sendall(b"PUT /v1/images/partial HTTP/1.1\r\n" + auth + b"Content-Length: 2000000\r\n\r\n")
        s.sendall(HELLO.read_bytes()[:100000])
    time.sleep(1)
    assert vm.api("GET", "/v1/images/partial")[0] == 404
    assert vm.upload("after-drop")[0] == 201                   # the upload slot came back
    assert vm.api("DELETE", "/v1/images/after-drop")[0] == 200


# ---- the domain life cycle ---------------------------------------------------------

def test_create_console_destroy(vm):
    vm.upload("hello")
    status, headers, d = vm.create("greeter", args=["--greeting", "hi there", ""])
    assert status == 201, d
    assert headers["location"] == "/v1/domains/%d" % d["id"]
    assert d["name"] == "greeter" and d["image"] == "hello" and not d["boot"] and not d["privileged"]
    assert d["args"] == ["--greeting", "hi there", ""] and d["memory"] == 1 << 20
    text = vm.wait_console(d["id"], b"hi there")
    assert b'argv[2] = "hi there"' in text
    vm.wait_gone(str(d["id"]))                                 # hello exits: on_exit destroy
    status, _, kept = vm.request("GET", "/v1/domains/%d/console" % d["id"])
    assert status == 200 and b"hi there" in kept               # its last words are kept, by id
    assert vm.api("GET", "/v1/domains/greeter/console")[0] == 404
    status, _, body = vm.request("GET", "/v1/domains/%d/console?follow=1" % d["id"])
    assert status == 200 and b"hi there" in body               # the stream ends: the domain has


def test_create_conflicts_and_refusals(vm):
    vm.upload("ticker", TICKER)
    status, _, d = vm.create("t1", image="ticker", args=["0", "200"],
                             net=[{"mac": "02:00:00:00:aa:01", "ip": "10.0.2.31", "prefix": 24}])
    assert status == 201, d
    try:
        assert d["net"][0]["mac"] == "02:00:00:00:aa:01" and d["net"][0]["port"] == "t1.net0"
        status, _, doc = vm.create("t1", image="ticker")
        assert status == 409 and doc["error"]["code"] == "name_taken"
        status, _, doc = vm.create("t2", image="ticker", net=[{"mac": "02:00:00:00:aa:01", "dhcp": True}])
        assert status == 409 and doc["error"]["code"] == "mac_taken"
        status, _, doc = vm.create("t3", image="nosuch")
        assert status == 404 and doc["error"]["code"] == "no_such_image" and doc["error"]["field"] == "image"
        status, _, doc = vm.create("t4", image="sha256:" + "0" * 64)
        assert status == 404 and doc["error"]["code"] == "no_such_image"
        status, _, doc = vm.create("t5", image="ticker", memory=16 << 30)
        assert status == 507 and doc["error"]["resource"] == "memory"
        need = (16 << 30) + (16 << 30) // 256 + 32768          # memory + its overhead
        assert doc["error"]["requested"] == need and 0 < doc["error"]["available"] < 512 << 20
        status, _, doc = vm.api("DELETE", "/v1/images/ticker")
        assert status == 409 and doc["error"]["code"] == "image_in_use" and "t1" in doc["error"]["message"]
        names = [x["name"] for x in vm.api("GET", "/v1/domains")[2]["domains"]]
        assert names.count("t1") == 1 and not {"t2", "t3", "t4", "t5"} & set(names)
    finally:
        assert vm.api("DELETE", "/v1/domains/t1")[0] == 200
    vm.wait_gone("t1")


def test_pause_resume_destroy(vm):
    vm.upload("ticker", TICKER)
    status, _, d = vm.create("pr", image="ticker", args=["0", "100"])
    assert status == 201, d
    ref = str(d["id"])
    vm.wait_console(ref, b"tick 2")
    status, _, p = vm.api("POST", "/v1/domains/%s/pause" % ref)
    assert status == 200 and p["state"] == "paused"
    assert vm.api("POST", "/v1/domains/%s/pause" % ref)[2]["error"]["code"] == "wrong_state"
    before = vm.request("GET", "/v1/domains/%s/console" % ref)[1]["paravane-console-next"]
    time.sleep(1.5)
    assert vm.request("GET", "/v1/domains/%s/console" % ref)[1]["paravane-console-next"] == before
    status, _, p = vm.api("POST", "/v1/domains/%s/resume" % ref, b"{}",
                          headers={"Content-Type": "application/json"})
    assert status == 200 and p["state"] in ("running", "blocked")
    assert vm.api("POST", "/v1/domains/%s/resume" % ref)[2]["error"]["code"] == "wrong_state"
    status, _, doc = vm.api("POST", "/v1/domains/%s/pause" % ref, {"now": True})
    assert status == 400 and doc["error"]["code"] == "unknown_field"
    status, _, gone = vm.api("DELETE", "/v1/domains/" + ref)
    assert status == 200 and gone["id"] == d["id"]
    vm.wait_gone(ref)
    assert vm.api("DELETE", "/v1/domains/" + ref)[0] == 404


def test_restart_policy_of_a_created_domain(vm):
    assert vm.upload("crash", BUILD / "apps" / "crash" / "crash.elf")[0] in (200, 201)
    status, _, d = vm.create("crasher", image="crash", args=["null", "300"], on_crash="restart",
                             restart_limit=2)
    assert status == 201 and d["on_crash"] == "restart" and d["restart_limit"] == 2, d
    end, seen = time.monotonic() + 40, set()
    while time.monotonic() < end and "limit" not in seen:
        status, _, doc = vm.api("GET", "/v1/domains/crasher")
        if status == 200:
            seen.add((doc["id"], doc["restarts"]))
            assert doc["on_crash"] == "restart" and doc["args"] == ["null", "300"]
        records = vm.request("GET", "/v1/events?follow=0")[2]
        if b"domain-restart-limit name=crasher" in records:
            seen.add("limit")
        time.sleep(0.1)
    assert "limit" in seen
    restarts = sorted(r for r in seen if r != "limit")
    assert [n for _, n in restarts] == sorted({n for _, n in restarts}) and restarts[-1][1] == 2, restarts
    assert len({i for i, _ in restarts}) == len(restarts)      # each restart is a new domain
    vm.wait_gone("crasher")


def test_control_domain_cannot_stop_itself(vm):
    for method, path in (("DELETE", "/v1/domains/control"), ("POST", "/v1/domains/control/pause")):
        status, _, doc = vm.api(method, path)
        assert status == 403 and doc["error"]["code"] == "forbidden"
    assert vm.api("GET", "/v1/domains/nosuch")[2]["error"]["code"] == "no_such_domain"
    assert vm.api("GET", "/v1/domains/4000000000")[0] == 404


# ---- console and events --------------------------------------------------------------

def test_console_offsets(vm):
    status, h, body = vm.request("GET", "/v1/domains/tick/console")
    assert status == 200 and h["content-type"].startswith("text/plain")
    start, nxt = int(h["paravane-console-offset"]), int(h["paravane-console-next"])
    assert nxt == start + len(body) and b"tick" in body
    status, h2, body2 = vm.request("GET", "/v1/domains/tick/console?offset=%d" % nxt)
    assert int(h2["paravane-console-offset"]) == nxt and h2["paravane-console-lost"] == "0"
    status, h3, body3 = vm.request("GET", "/v1/domains/tick/console?offset=0")
    assert int(h3["paravane-console-lost"]) == int(h3["paravane-console-offset"])   # ring is 4 KiB
    status, h4, body4 = vm.request("GET", "/v1/domains/tick/console?offset=999999999999")
    assert body4 == b"" and int(h4["paravane-console-offset"]) <= 999999999999
    for bad in ("-1", "x", "99999999999999999999", ""):
        assert vm.api("GET", "/v1/domains/tick/console?offset=" + bad)[2]["error"]["field"] == "offset"


def test_console_follow_streams(vm):
    conn = vm.conn(timeout=20)
    conn.request("GET", "/v1/domains/tick/console?follow=1&offset=999999999999",
                 headers={"Authorization": "Bearer " + vm.token})
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("Transfer-Encoding") == "chunked"
    got = b""
    end = time.monotonic() + 10
    while got.count(b": tick ") < 3 and time.monotonic() < end:
        got += r.read1(4096)
    conn.close()
    ticks = [int(n) for n in re.findall(rb"tick (\d+)", got)]
    assert len(ticks) >= 3 and ticks == list(range(ticks[0], ticks[0] + len(ticks)))


def sse_records(data):
    recs = []
    for block in data.decode().split("\n\n"):
        fields = dict(l.split(": ", 1) for l in block.splitlines() if ": " in l and not l.startswith(":"))
        if "data" in fields:
            recs.append((int(fields["id"]), fields["data"]))
    return recs


def test_events_resume_by_id(vm):
    status, h, data = vm.request("GET", "/v1/events?follow=0")
    assert status == 200 and h["content-type"] == "text/event-stream"
    recs = sse_records(data)
    assert any(d.startswith("domain-created") and "name=tick" in d for _, d in recs)
    ids = [i for i, _ in recs]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    mid = ids[len(ids) // 2]
    _, _, again = vm.request("GET", "/v1/events?follow=0", headers={"Last-Event-ID": str(mid)})
    assert sse_records(again)[:len(ids) - len(ids) // 2 - 1] == recs[len(ids) // 2 + 1:]
    vm.upload("hello")
    status, _, d = vm.create("evt", args=[])
    assert status == 201
    vm.wait_gone(str(d["id"]))
    _, _, newer = vm.request("GET", "/v1/events?follow=0&offset=%d" % ids[-1])
    names = [r.split()[0] for _, r in sse_records(newer) if "name=evt" in r]
    assert names[:2] == ["domain-created", "domain-started"] and "domain-exited" in names


def test_events_stream_live(vm):
    conn = vm.conn(timeout=30)
    last = sse_records(vm.request("GET", "/v1/events?follow=0")[2])[-1][0]
    conn.request("GET", "/v1/events", headers={"Authorization": "Bearer " + vm.token,
                                               "Last-Event-ID": str(last)})
    r = conn.getresponse()
    assert r.status == 200
    vm.upload("hello")
    vm.create("live-evt")
    got = b""
    end = time.monotonic() + 20
    while b"domain-started" not in got and time.monotonic() < end:
        got += r.read1(4096)
    conn.close()
    assert b"name=live-evt" in got


# ---- metrics and leaks ------------------------------------------------------------------

def test_metrics_exposition(vm):
    status, h, body = vm.request("GET", "/metrics")
    assert status == 200 and h["content-type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    families = set(re.findall(r"^# TYPE (\S+) (?:gauge|counter)$", text, re.M))
    helps = set(re.findall(r"^# HELP (\S+) ", text, re.M))
    assert families == helps and {"paravane_host_cpus", "paravane_domain_info",
                                  "paravane_domain_cpu_seconds_total"} <= families
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name = re.match(r"[a-z_]+", line).group(0)
            assert name in families, line
            float(line.rsplit(" ", 1)[1])
    assert re.search(r'^paravane_domain_info\{id="\d+",name="tick",state="\w+",image_sha256="[0-9a-f]{64}"\} 1$',
                     text, re.M)
    assert re.search(r'^paravane_cpu_idle_seconds_total\{cpu="0"\} [0-9.]+$', text, re.M)
    rx = re.search(r'^paravane_net_rx_frames_total\{port="control.net0"\} (\d+)$', text, re.M)
    assert rx and int(rx.group(1)) > 0                          # our own requests came in there
    assert re.search(r'^paravane_net_dropped_frames_total\{port="uplink",reason="spoof"\} \d+$', text, re.M)
    assert vm.request("GET", "/metrics", token=False)[0] == 401


def test_create_destroy_cycles_return_every_frame(vm):
    vm.upload("ticker", TICKER)
    free = vm.api("GET", "/v1/host")[2]["memory_free"]
    for i in range(20):
        status, _, d = vm.create("cyc%d" % i, image="ticker", args=["0", "1000"])
        assert status == 201, d
        assert vm.api("DELETE", "/v1/domains/%d" % d["id"])[0] == 200
    for i in range(20):
        vm.wait_gone("cyc%d" % i)
    time.sleep(0.5)
    assert vm.api("GET", "/v1/host")[2]["memory_free"] == free


# ---- more domains than one LIST call returns -------------------------------------------

MANY = 1100          # > PV_DOMCTL_LIST_MAX (1024): the listing takes several LIST calls


def test_more_domains_than_one_list_call_are_all_listed_named_and_measured():
    with ControlVM(smp=1, files=[guest("ticker")], hv="log_level = warn", memory="1G") as m:
        m.upload("ticker", TICKER)
        c = m.conn()
        for i in range(MANY):
            status, _, d = m.api("POST", "/v1/domains", dict(name="many%d" % i, image="ticker", memory=160 << 10,
                                                             args=["0", "100000000"]), conn=c)
            assert status == 201, (i, d)
        status, _, doc = m.api("GET", "/v1/domains", timeout=120)
        assert status == 200, doc
        names = {d["name"] for d in doc["domains"]}
        assert {"many%d" % i for i in range(MANY)} <= names
        status, _, last = m.api("GET", "/v1/domains/many%d" % (MANY - 1))       # a name is found by listing
        assert status == 200 and last["name"] == "many%d" % (MANY - 1), last
        status, _, doc = m.create("many%d" % (MANY - 1), image="ticker", memory=160 << 10)
        assert status == 409 and doc["error"]["code"] == "name_taken", doc
        text = m.request("GET", "/metrics", timeout=120)[2].decode()
        assert len(re.findall(r'^paravane_domain_info\{id="\d+",name="many\d+"', text, re.M)) == MANY
