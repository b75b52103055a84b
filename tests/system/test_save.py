"""Save and restore through the API (docs/migration.md): a guest saved
while it sleeps, spins or holds a TCP session goes on where it stopped
when restored; damaged, cut, foreign and future streams are refused with
a message and leave nothing behind.  One machine (2 CPUs) serves them all."""
import http.client
import json
import socket
import struct
import time
import zlib

import pytest

from conftest import BUILD, guest
from control import ControlVM, TICKER

ECHO = BUILD / "apps" / "echo" / "echo.elf"
SPIN = BUILD / "apps" / "spin" / "spin.elf"
ECHO_IP = "10.0.2.40"
OCTETS = {"Content-Type": "application/octet-stream"}


@pytest.fixture(scope="module")
def vm():
    with ControlVM(files=[guest("ticker"), guest("spin")], smp=2, forwards=[(ECHO_IP, 7)]) as v:
        for name, path in (("ticker", TICKER), ("echo", ECHO), ("spin", SPIN)):
            assert v.upload(name, path)[0] in (200, 201)
        yield v


def save(vm, ref, then="destroy"):
    status, headers, data = vm.request("GET", "/v1/domains/%s/save?then=%s" % (ref, then), timeout=120)
    assert status == 200, data
    assert headers["content-type"] == "application/octet-stream"
    assert len(data) == int(headers["paravane-save-bytes"]), "the stream is as long as announced"
    return data


def restore(vm, data, name=None):
    path = "/v1/restore" + ("?name=" + name if name else "")
    return vm.api("POST", path, data, headers=OCTETS, timeout=120)


def ticks(console):
    return [int(line.split()[-1]) for line in console.decode().splitlines() if line.startswith("ticker: tick")]


def domain_names(vm):
    return vm.names()


def test_sleeping_guest_goes_on_counting_after_a_restore(vm):
    assert vm.create("tk", image="ticker", args=["0", "100"])[0] == 201
    vm.wait_console("tk", b"tick 5")
    data = save(vm, "tk")
    assert data[:8] == b"PVSAVE1\0"
    vm.wait_gone("tk")
    status, headers, d = restore(vm, data)
    assert status == 201, d
    assert d["name"] == "tk" and headers["location"] == "/v1/domains/%d" % d["id"]
    before = ticks(vm.wait_console(d["id"], b"tick 5"))      # the saved console came along
    last = before[-1]
    console = vm.wait_console("tk", b"tick %d\n" % (last + 5))
    seen = ticks(console)
    assert seen == list(range(seen[0], seen[-1] + 1)), "no tick lost or repeated: %r" % seen
    assert b"ticker: started" in console and console.count(b"ticker: started") == 1, \
        "it went on, it did not start again"
    assert vm.api("DELETE", "/v1/domains/tk")[0] == 200
    vm.wait_gone("tk")


def test_saved_with_resume_keeps_running_and_a_copy_runs_beside_it(vm):
    assert vm.create("orig", image="ticker", args=["0", "100"])[0] == 201
    vm.wait_console("orig", b"tick 3")
    data = save(vm, "orig", then="resume")
    at_save = ticks(vm.wait_console("orig", b"tick 3"))[-1]
    vm.wait_console("orig", b"tick %d\n" % (at_save + 3))   # the original goes on
    status, _, d = restore(vm, data, name="copy")
    assert status == 201, d
    assert d["name"] == "copy"
    vm.wait_console("copy", b"tick %d\n" % (at_save + 3))
    status, _, err = restore(vm, data)                       # the original's name is taken
    assert status == 409 and err["error"]["code"] == "name_taken", err
    for name in ("orig", "copy"):
        assert vm.api("DELETE", "/v1/domains/" + name)[0] == 200
        vm.wait_gone(name)


def test_spinning_guest_is_saved_at_its_next_exit_and_finishes_after_restore(vm):
    assert vm.create("sp", image="spin", args=["3"])[0] == 201
    vm.wait_console("sp", b"spin: spinning 3")
    time.sleep(0.5)
    data = save(vm, "sp")
    vm.wait_gone("sp")
    status, _, d = restore(vm, data)
    assert status == 201, d
    vm.wait_console(d["id"], b"spin: done after", timeout=60)


def echo(sock, payload):
    sock.sendall(payload)
    got = b""
    while len(got) < len(payload):
        chunk = sock.recv(4096)
        assert chunk, "the echo connection closed"
        got += chunk
    return got


def test_tcp_session_to_a_network_guest_lives_across_save_and_restore(vm):
    net = [{"mac": "02:00:00:00:5a:01", "ip": ECHO_IP, "prefix": 24, "gw": "10.0.2.2"}]
    assert vm.create("echo", image="echo", memory=8 << 20, net=net)[0] == 201
    vm.wait_console("echo", b"echo")
    sock = None
    for _ in range(50):                    # until lwIP is up and listening
        try:
            sock = socket.create_connection(("127.0.0.1", vm.forwarded[0]), timeout=20)
            if echo(sock, b"before the save\n") == b"before the save\n":
                break
        except OSError:
            sock = None
            time.sleep(0.5)
    assert sock, "the echo guest never answered"
    data = save(vm, "echo")
    vm.wait_gone("echo")
    status, _, d = restore(vm, data)
    assert status == 201, d
    assert d["net"][0]["mac"] == "02:00:00:00:5a:01" and d["net"][0]["ip"] == ECHO_IP
    assert echo(sock, b"after the restore\n") == b"after the restore\n", "same connection, a pause"
    sock.close()
    assert vm.api("DELETE", "/v1/domains/echo")[0] == 200
    vm.wait_gone("echo")


# ---- refusals ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def stream(vm):
    assert vm.create("model", image="ticker", args=["0", "200"])[0] == 201
    vm.wait_console("model", b"tick 2")
    data = save(vm, "model")
    vm.wait_gone("model")
    return data


def free_memory(vm):
    return vm.api("GET", "/v1/host")[2]["memory_free"]


def refused(vm, data, status, code, words):
    names, free = domain_names(vm), free_memory(vm)
    got, _, err = restore(vm, data)
    assert got == status and err["error"]["code"] == code, err
    assert words in err["error"]["message"], err
    time.sleep(1)                           # a domain built before the refusal ends on its CPU
    assert domain_names(vm) == names, "nothing is left of a refused restore"
    assert free_memory(vm) == free, "every frame it took came back"
    return err["error"]["message"]


def with_header(data, **fields):
    """The stream with header fields changed and the header's CRC made right."""
    magic, version, abi, size, flags, created, reserved, _ = struct.unpack_from("<QIIIIQII", data)
    vals = dict(magic=magic, version=version, abi=abi, size=size, flags=flags, created=created,
                reserved=reserved)
    vals.update(fields)
    head = struct.pack("<QIIIIQI", *(vals[k] for k in ("magic", "version", "abi", "size", "flags",
                                                         "created", "reserved")))
    return head + struct.pack("<I", zlib.crc32(head)) + data[40:]


def test_a_damaged_stream_is_refused_naming_what_is_wrong(vm, stream):
    bad = bytearray(stream)
    bad[len(bad) // 2] ^= 0x40              # in a page's contents
    refused(vm, bytes(bad), 400, "bad_stream", "checksum")


def test_a_cut_stream_is_refused_as_truncated(vm, stream):
    for cut in (len(stream) - 1, len(stream) // 2, 41):
        refused(vm, stream[:cut], 400, "bad_stream", "truncated")


def test_a_stream_of_a_newer_format_or_another_abi_is_refused(vm, stream):
    refused(vm, with_header(stream, version=2), 400, "bad_stream", "version")
    refused(vm, with_header(stream, abi=99), 400, "bad_stream", "ABI")


def test_a_stream_whose_image_is_not_stored_is_refused(vm, stream):
    assert vm.api("DELETE", "/v1/images/ticker")[0] == 200
    try:
        msg = refused(vm, stream, 409, "image_missing", "image")
        assert "add it first" in msg
    finally:
        assert vm.upload("ticker", TICKER)[0] in (200, 201)
    status, _, d = restore(vm, stream, name="model2")   # once it is back, the same stream works
    assert status == 201, d
    assert vm.api("DELETE", "/v1/domains/model2")[0] == 200
    vm.wait_gone("model2")


def test_garbage_and_an_empty_body_are_refused(vm):
    refused(vm, b"GET / HTTP/1.1\r\n\r\n" * 10, 400, "bad_stream", "magic")
    status, _, err = restore(vm, b"")
    assert status == 400 and err["error"]["code"] == "bad_stream"
    status, _, err = restore(vm, b"x", name="-bad")
    assert status == 400 and "name" in err["error"]["message"]


def test_saving_what_cannot_be_saved_is_refused(vm):
    status, _, err = vm.api("GET", "/v1/domains/control/save")
    assert status == 403, err
    status, _, err = vm.api("GET", "/v1/domains/nosuch/save")
    assert status == 404 and err["error"]["code"] == "no_such_domain"
    assert vm.create("tk3", image="ticker")[0] == 201
    status, _, err = vm.api("GET", "/v1/domains/tk3/save?then=later")
    assert status == 400 and err["error"]["field"] == "then"
    assert vm.api("DELETE", "/v1/domains/tk3")[0] == 200
    vm.wait_gone("tk3")


def test_a_client_that_leaves_mid_save_leaves_the_guest_running(vm):
    # 24 MiB of memory in use: more than the sockets on the way hold
    assert vm.create("tk4", image="ticker", args=["0", "100", "24576"], memory=32 << 20)[0] == 201
    vm.wait_console("tk4", b"tick 2")
    c = vm.conn()
    c.request("GET", "/v1/domains/tk4/save?then=destroy", headers={"Authorization": "Bearer " + vm.token})
    r = c.getresponse()
    assert r.status == 200
    r.read(100)
    c.sock.shutdown(socket.SHUT_RDWR)       # gone before the end
    c.close()
    assert vm.vm.wait_for(r"domain-save-end id=\d+ name=tk4 bytes=\d+ complete=no then=resume", 30), \
        "the save was ended unfinished, the guest resumed"
    last = ticks(vm.wait_console("tk4", b"tick 2"))[-1]
    vm.wait_console("tk4", b"tick %d\n" % (last + 5), timeout=60)
    status, _, d = vm.api("GET", "/v1/domains/tk4")
    assert d["state"] in ("running", "blocked"), d
    assert vm.api("DELETE", "/v1/domains/tk4")[0] == 200
    vm.wait_gone("tk4")


# ---- chunked request bodies ------------------------------------------------------------
# A live migration sends a save stream of unknown length: POST /v1/restore
# takes it chunked.  Odd chunk sizes put chunk boundaries everywhere
# against the server's 256 KiB pieces; extensions and a trailer are ignored.

ODD_SIZES = (1, 7, 4093, 65537, 3, 300001, 255, 262147)
PIECE = 256 << 10


@pytest.fixture(scope="module")
def big_stream(vm):
    """A stream of several of the server's pieces (1.5 MiB of memory filled)."""
    assert vm.create("bigmodel", image="ticker", args=["0", "200", "1536"], memory=4 << 20)[0] == 201
    vm.wait_console("bigmodel", b"tick 2")
    data = save(vm, "bigmodel")
    vm.wait_gone("bigmodel")
    assert len(data) > 4 * PIECE
    return data


def chunked(data, sizes=ODD_SIZES, end=b"0\r\nX-Checksum: none\r\n\r\n"):
    out, at, k = [], 0, 0
    while at < len(data):
        piece = data[at:at + sizes[k % len(sizes)]]
        at, k = at + len(piece), k + 1
        ext = b" ;piece=%d;odd" % k if k % 3 == 0 else b""
        out.append(b"%X%s\r\n%s\r\n" % (len(piece), ext, piece))
    return b"".join(out) + end


def chunked_head(vm, path="/v1/restore", more=b""):
    return (b"POST %s HTTP/1.1\r\nHost: paravane\r\nAuthorization: Bearer %s\r\n"
            b"Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n%s\r\n"
            % (path.encode(), vm.token.encode(), more))


def answer(sock):
    """One response on sock: (status, headers, JSON body)."""
    r = http.client.HTTPResponse(sock)
    r.begin()
    data = r.read()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, json.loads(data) if data else None


def send_in_pieces(sock, data, piece=65521):
    for at in range(0, len(data), piece):
        sock.sendall(data[at:at + piece])


def until_closed(sock):
    out = b""
    try:
        while True:
            got = sock.recv(65536)
            if not got:
                return out
            out += got
    except socket.timeout:
        return out


def test_a_save_stream_sent_chunked_is_restored(vm, big_stream):
    with socket.create_connection(("127.0.0.1", vm.port), timeout=120) as sock:
        sock.sendall(chunked_head(vm))
        send_in_pieces(sock, chunked(big_stream))
        status, headers, d = answer(sock)
        assert status == 201, d
        assert d["name"] == "bigmodel" and headers["connection"] == "keep-alive"
        # the same connection goes on: the body's end was found exactly
        sock.sendall(b"GET /v1/domains/bigmodel HTTP/1.1\r\nAuthorization: Bearer %s\r\n\r\n" % vm.token.encode())
        status, _, again = answer(sock)
        assert status == 200 and again["id"] == d["id"], again
    last = ticks(vm.wait_console(d["id"], b"tick 3"))[-1]
    seen = ticks(vm.wait_console("bigmodel", b"tick %d\n" % (last + 5)))
    assert seen == list(range(seen[0], seen[-1] + 1)), "no tick lost or repeated: %r" % seen
    assert vm.api("DELETE", "/v1/domains/bigmodel")[0] == 200
    vm.wait_gone("bigmodel")


def test_a_chunked_stream_with_a_bad_size_line_is_refused_and_leaves_nothing(vm, big_stream):
    names, free = domain_names(vm), free_memory(vm)
    # more than a 256 KiB piece first: the restore has begun and taken some
    good = chunked(big_stream[:600000], end=b"")
    for bad, words in ((b"zz\r\n", "not hex"), (b"10000000001\r\n", "over 2^40"),
                       (b"5\r\nabcdefg\r\n", "no CRLF"), (b"1;" + b"x" * 300 + b"\r\n", "over 256")):
        with socket.create_connection(("127.0.0.1", vm.port), timeout=60) as sock:
            sock.sendall(chunked_head(vm))
            send_in_pieces(sock, good + bad)
            status, headers, err = answer(sock)
        assert status == 400 and err["error"]["code"] == "bad_request", err
        assert words in err["error"]["message"] and headers["connection"] == "close", err
    time.sleep(1)                           # a domain built before the refusal ends on its CPU
    assert domain_names(vm) == names, "nothing is left of a refused restore"
    assert free_memory(vm) == free, "every frame it took came back"


def test_streams_that_stall_get_408_and_leave_nothing(vm, big_stream):
    """Part of the stream (more than a 256 KiB piece, so the restore has
    begun taking it), then nothing: the body deadline ends the restore.
    Chunked and with a length, at once (under other names: two restores
    may be open together)."""
    names, free = domain_names(vm), free_memory(vm)
    chunk_head = chunked_head(vm, "/v1/restore?name=stall-chunked")
    length_head = chunked_head(vm, "/v1/restore?name=stall-length").replace(
        b"Transfer-Encoding: chunked", b"Content-Length: %d" % len(big_stream))
    bodies = (chunk_head + chunked(big_stream[:600000], end=b"") + b"100\r\nabc",
              length_head + big_stream[:600000])
    socks = [socket.create_connection(("127.0.0.1", vm.port), timeout=30) for _ in bodies]
    try:
        for sock, body in zip(socks, bodies):
            send_in_pieces(sock, body)
        start = time.monotonic()
        for sock in socks:
            status, _, err = answer(sock)
            assert status == 408 and err["error"]["code"] == "timeout", err
        assert 8 < time.monotonic() - start < 25
    finally:
        for sock in socks:
            sock.close()
    time.sleep(1)
    assert domain_names(vm) == names, "nothing is left of a stalled restore"
    assert free_memory(vm) == free, "every frame it took came back"


def test_an_empty_chunked_stream_is_refused_and_the_next_request_is_served(vm):
    host = b"GET /v1/host HTTP/1.1\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n" % vm.token.encode()
    with socket.create_connection(("127.0.0.1", vm.port), timeout=30) as sock:
        sock.sendall(chunked_head(vm) + b"0;x=1\r\nTrailer-Field: ignored\r\n\r\n" + host)
        out = until_closed(sock)
    assert out.startswith(b"HTTP/1.1 400 ") and b"the stream is empty" in out, out[:300]
    assert out.count(b"HTTP/1.1 200 OK") == 1, "the pipelined request after the body was served"


def test_chunked_bodies_elsewhere_and_other_codings_are_refused(vm):
    names = domain_names(vm)
    cases = (
        (chunked_head(vm, "/v1/domains") + chunked(b'{"name":"x","image":"hello"}'), 411, "length_required"),
        (chunked_head(vm).replace(b"chunked", b"gzip") + b"0\r\n\r\n", 501, "not_implemented"),
        (chunked_head(vm).replace(b"chunked", b"gzip, chunked") + b"0\r\n\r\n", 501, "not_implemented"),
        (chunked_head(vm, more=b"Content-Length: 5\r\n") + b"0\r\n\r\n", 400, "bad_request"),
        (chunked_head(vm).replace(b"HTTP/1.1", b"HTTP/1.0") + b"0\r\n\r\n", 400, "bad_request"),
    )
    for req, want, code in cases:
        with socket.create_connection(("127.0.0.1", vm.port), timeout=30) as sock:
            sock.sendall(req)
            status, headers, err = answer(sock)
        assert status == want and err["error"]["code"] == code, (req[:120], err)
        assert headers["connection"] == "close"
    assert domain_names(vm) == names


# ---- a guest with a block device ------------------------------------------------------

RECORDS = 15000                 # ~6 s of flushed writes under TCG: still writing when the API is up
REC_BASE = 64


def test_guest_writing_its_volume_is_saved_with_io_in_flight_and_restored(tmp_path):
    """A boot guest appends flushed records to its volume; it is saved with
    requests in flight (the save waits for them), restored on the same host
    (its volume found again by name and size) and finishes: every record is
    on the disk, in order.  A copy restored while the original still writes
    the volume is refused, leaving nothing behind."""
    disk = tmp_path / "rec.img"
    with open(disk, "wb") as f:
        f.truncate(16 << 20)
    rec = "\n".join(["[guest rec]", "image = blktest.elf", "memory = 8M",
                     'cmdline = "blktest records data %d %d"' % (RECORDS, REC_BASE),
                     "block = disk:0, name=data"]) + "\n"
    with ControlVM(extra=rec, files=[guest("blktest")], smp=2, drives=[(disk, "virtio")]) as vm:
        vm.wait_console("rec", b"acked ", timeout=60)
        data = save(vm, "rec", then="resume")
        names, free = domain_names(vm), free_memory(vm)
        status, _, err = restore(vm, data, name="rec2")
        assert status == 409 and err["error"]["code"] == "busy", err
        assert "one writer per extent" in err["error"]["message"]
        time.sleep(1)
        assert domain_names(vm) == names and free_memory(vm) == free
        data = save(vm, "rec")
        vm.wait_gone("rec")
        status, _, d = restore(vm, data)
        assert status == 201, d
        assert d["boot"] is False and d["name"] == "rec"
        vm.wait_console(d["id"], b"blktest: records ok n=%d" % RECORDS, timeout=240)
    with open(disk, "rb") as f:
        for n in range(1, RECORDS + 1):
            f.seek((REC_BASE + n) * 512)
            r = f.read(512)
            assert r[:6] == b"BLKREC" and int.from_bytes(r[8:12], "little") == n, n
