"""apps/httpd served to the host through QEMU user networking (a host
forward bound to 127.0.0.1 only), and guest-to-guest TCP and UDP."""
import concurrent.futures
import http.client
import json
import socket
import subprocess
import tempfile
import time

import pytest

import pvrun
import qemu
from conftest import BUILD, guest

GUEST_IP = "10.0.2.15"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def httpd():
    port = free_port()
    manifest = """
    [hypervisor]
    log_level = info
    [guest web]
    image = httpd.elf
    memory = 8M
    cmdline = "httpd 80"
    net = mac=02:00:00:00:00:10, ip=%s/24, gw=10.0.2.2
    """ % GUEST_IP
    with tempfile.TemporaryDirectory() as tmp:
        img = pvrun.make_image(tmp, BUILD, manifest, [guest("httpd")])
        vm = qemu.Background(str(img), net=["tcp:127.0.0.1:%d-%s:80" % (port, GUEST_IP)])
        try:
            assert vm.wait_for(r"web\| httpd: serving on", 90), vm.log[-3000:]
            vm.port = port
            yield vm
        finally:
            vm.stop()


def get(port, path="/", conn=None, timeout=10):
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("GET", path)
    r = c.getresponse()
    return r.status, r.getheader("Content-Type"), r.read()


def curl(port, path):
    return subprocess.run(["curl", "-sS", "-m", "10", "http://127.0.0.1:%d%s" % (port, path)],
                          capture_output=True, text=True, check=True).stdout


def test_page_and_json(httpd):
    assert "Hello from a Paravane unikernel" in curl(httpd.port, "/")
    assert json.loads(curl(httpd.port, "/api/status"))["domain"] == "web"
    status, ctype, body = get(httpd.port)
    assert status == 200 and ctype == "text/html"
    assert b"Hello from a Paravane unikernel" in body
    status, ctype, body = get(httpd.port, "/api/status")
    assert status == 200 and ctype == "application/json"
    doc = json.loads(body)
    assert doc["domain"] == "web" and doc["requests"] >= 2 and doc["uptime_ms"] > 0
    assert get(httpd.port, "/missing")[0] == 404


def test_200_sequential_requests_on_one_keepalive_connection(httpd):
    conn = http.client.HTTPConnection("127.0.0.1", httpd.port, timeout=10)
    for _ in range(200):
        assert get(httpd.port, "/", conn)[0] == 200
    conn.close()


def test_50_concurrent_requests(httpd):
    # 30 s each: on a loaded CI machine a dropped SYN costs 1, 2, 4 s retries
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        results = list(pool.map(lambda _: get(httpd.port, timeout=30)[0], range(50)))
    assert results == [200] * 50


def raw(port, data, read=True):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        return s.recv(4096) if read else b""


def test_garbage_and_half_open_connections_do_not_kill_it(httpd):
    assert raw(httpd.port, b"GARBAGE\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert raw(httpd.port, b"\x00\xff" * 3000).startswith(b"HTTP/1.1 431")
    assert raw(httpd.port, b"DELETE / HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 405")
    # half-open: requests never finished, connections abandoned, a reset
    idle = [socket.create_connection(("127.0.0.1", httpd.port)) for _ in range(10)]
    for s in idle:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    s = socket.create_connection(("127.0.0.1", httpd.port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()                                   # RST
    assert get(httpd.port)[0] == 200            # still serving, alongside them
    for s in idle:
        s.close()
    assert get(httpd.port, "/api/status")[0] == 200
    assert "crashed" not in httpd.log


def two(server, client, extra=""):
    return """
    [hypervisor]
    poweroff_when_idle = yes
    [guest server]
    image = %s
    memory = 8M
    net = mac=02:00:00:00:01:01, ip=10.0.0.1/24
    cmdline = "%s"
    [guest client]
    image = %s
    memory = 8M
    net = mac=02:00:00:00:01:02, ip=10.0.0.2/24
    cmdline = "%s"
    %s""" % (server[0], server[1], client[0], client[1], extra)


def test_guest_to_guest_tcp_transfer_with_checksums(boot):
    m = two(("tcpxfer.elf", "tcpxfer server 5001"), ("tcpxfer.elf", "tcpxfer client 10.0.0.1 5001 4"))
    b = boot(m, [guest("tcpxfer")], timeout=180)
    srv = b.lines("server| tcpxfer: server received=")[0]
    cli = b.lines("client| tcpxfer: client sent=")[0]
    assert "received=4194304" in srv and "sent=4194304" in cli
    assert "match=1" in cli
    assert srv.split("checksum=")[1] == cli.split("checksum=")[1].split()[0]
    assert b.status == 0


def test_guest_to_guest_udp_echo(boot):
    m = two(("echo.elf", "echo 7"), ("tcpxfer.elf", "tcpxfer udp 10.0.0.1 7 100"))
    b = boot(m, [guest("echo"), guest("tcpxfer")], until=r"client\| tcpxfer: udp sent=", timeout=180)
    assert "client| tcpxfer: udp sent=100 echoed=100" in b, b.lines("client|")


def test_client_unikernel_fetches_from_server_unikernel(boot):
    m = two(("httpd.elf", "httpd 80"), ("fetch.elf", "fetch 10.0.0.1 80 /api/status"))
    b = boot(m, [guest("httpd"), guest("fetch")], until=r"@event domain-exited id=\d+ name=client", timeout=180)
    assert "client| fetch> HTTP/1.1 200 OK" in b
    assert 'client| fetch> {"domain":"server"' in b
    assert b.event("domain-exited")["code"] == "0"


def test_httpd_serves_files_from_a_mounted_volume(tmp_path):
    """httpd --root /srv with a read-only ext4 volume mounted at /srv (made
    by mkfs.ext4 -d on the host): files byte for byte (one larger than its
    output buffer, streamed), a directory listing, 404, and 400 for a path
    that tries to leave the root."""
    from test_files import mkfs
    tree = tmp_path / "www"
    (tree / "docs").mkdir(parents=True)
    (tree / "index.html").write_bytes(b"<h1>from the volume</h1>\n")
    big = bytes((i * 7 + 3) & 0xFF for i in range(300 * 1024 + 11))
    (tree / "docs" / "big.bin").write_bytes(big)
    vol = mkfs(tmp_path, "www.img", tree, mib=16)
    port = free_port()
    manifest = """
    [hypervisor]
    log_level = info
    [guest web]
    image = httpd.elf
    memory = 16M
    cmdline = "httpd 80 --root /srv"
    net = mac=02:00:00:00:00:10, ip=%s/24, gw=10.0.2.2
    block = disk:0, ro, name=www
    mount = /srv:www
    """ % GUEST_IP
    img = pvrun.make_image(tmp_path, BUILD, manifest, [guest("httpd")])
    vm = qemu.Background(str(img), net=["tcp:127.0.0.1:%d-%s:80" % (port, GUEST_IP)],
                         drives=[(str(vol), "virtio")])
    try:
        assert vm.wait_for(r"web\| httpd: serving on", 90), vm.log[-3000:]
        assert get(port, "/files/index.html") == (200, "text/html", b"<h1>from the volume</h1>\n")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        status, ctype, body = get(port, "/files/docs/big.bin", conn)
        assert (status, ctype, len(body)) == (200, "application/octet-stream", len(big))
        assert body == big
        status, _, body = get(port, "/files/", conn)                    # same connection
        assert status == 200 and b'href="/files/docs"' in body and b"index.html" in body
        assert get(port, "/files/nope", conn)[0] == 404
        assert get(port, "/files/../etc", conn)[0] == 400
        assert get(port, "/")[0] == 200                                # the built-in page
    finally:
        vm.stop()
