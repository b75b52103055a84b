"""pvctl against an in-memory fake of the control domain's API (fake_api.py).

Every command, table and JSON output, tokens, errors passed through, a
server that is not there or not the API, console offsets and follow
streams, Server-Sent Events; and docs/api.md's route table against the
routes pvctl uses and the fake serves.  Run by `make test-tools`
(/usr/bin/python3 -m pytest); no network beyond 127.0.0.1.
"""
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PVCTL = ROOT / "sdk" / "tools" / "pvctl"
API_MD = ROOT / "docs" / "api.md"
sys.path.insert(0, str(HERE))
import fake_api  # noqa: E402
from fake_api import FakeParavane  # noqa: E402


def load_pvctl():
    loader = importlib.machinery.SourceFileLoader("pvctl", str(PVCTL))
    spec = importlib.util.spec_from_loader("pvctl", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


pvctl_mod = load_pvctl()

COMMANDS = ["host", "list", "create", "destroy", "pause", "resume", "console", "images",
            "upload", "rm-image", "top", "events"]


def elf_bytes(tag=b""):
    """Enough of an ELF for the fake's loader (magic, ELF64, LE, ABI note text)."""
    return b"\x7fELF\x02\x01\x01" + b"\0" * 57 + b"Paravane" + tag


@pytest.fixture
def fake():
    f = FakeParavane(console_ring=256, event_ring=4096, quiet_seconds=0.5,
                     keepalive_seconds=0.3).start()
    yield f
    f.stop()


@pytest.fixture
def image(tmp_path):
    p = tmp_path / "hello.elf"
    p.write_bytes(elf_bytes())
    return p


class Pv:
    def __init__(self, fake):
        self.fake = fake

    def env(self, token=True, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARAVANE_")}
        env["PARAVANE_URL"] = self.fake.url
        if token:
            env["PARAVANE_TOKEN"] = self.fake.token
        env.update(extra)
        return env

    def __call__(self, *args, token=True, env=None, timeout=30, input=None, **kw):
        e = self.env(token) if env is None else env
        r = subprocess.run([sys.executable, str(PVCTL)] + [str(a) for a in args], env=e,
                           capture_output=True, timeout=timeout, input=input, **kw)
        r.out = r.stdout.decode("utf-8", "replace")
        r.err = r.stderr.decode("utf-8", "replace")
        return r

    def popen(self, *args, stdout, stderr):
        return subprocess.Popen([sys.executable, str(PVCTL)] + [str(a) for a in args],
                                env=self.env(), stdout=stdout, stderr=stderr)


@pytest.fixture
def pv(fake):
    return Pv(fake)


def api(fake, method, path, body=None, token=True, headers=None):
    """A raw request to the fake: (status, headers, body bytes)."""
    req = urllib.request.Request(fake.url + path, data=body, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + fake.token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def add_domain(fake, name="hello", memory=1 << 20, **cfg):
    if "hello" not in fake.images:
        fake.put_image("hello", elf_bytes())
    return fake.create(dict({"name": name, "image": "hello", "memory": memory}, **cfg))


def wait_for(pred, timeout=10, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def raw_server(answer):
    """A one-connection-at-a-time server that reads a request's headers and
    sends `answer` (bytes, or None: never answer), then closes."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    stop = threading.Event()

    def serve():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with c:
                c.settimeout(5)
                buf = b""
                try:
                    while b"\r\n\r\n" not in buf:
                        got = c.recv(4096)
                        if not got:
                            break
                        buf += got
                    if answer is None:
                        stop.wait(10)
                    else:
                        c.sendall(answer)
                except OSError:
                    pass
    t = threading.Thread(target=serve, daemon=True)
    t.start()

    def close():
        stop.set()
        srv.close()
        t.join(5)
    return "http://127.0.0.1:%d" % srv.getsockname()[1], close


# ---- the command line ----------------------------------------------------------------

def test_help_on_every_command(pv):
    top = pv("--help")
    assert top.returncode == 0 and "exit codes" in top.out
    for c in COMMANDS:
        assert re.search(r"^    %s\s" % c, top.out, re.M), c
        r = pv(c, "--help")
        assert r.returncode == 0, (c, r.err)
        assert r.out.startswith("usage: pvctl") and "--url" in r.out and "--json" in r.out, c


def test_runs_as_an_executable_script(fake):
    assert os.access(PVCTL, os.X_OK)
    assert PVCTL.read_text().startswith("#!/usr/bin/env python3\n")
    env = dict(os.environ, PARAVANE_URL=fake.url, PARAVANE_TOKEN=fake.token)
    r = subprocess.run([str(PVCTL), "host", "--json"], env=env, capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    for py in {"/usr/bin/python3", shutil.which("python3")} - {None}:
        r = subprocess.run([py, str(PVCTL), "list"], env=env, capture_output=True, timeout=30)
        assert r.returncode == 0, (py, r.stderr)


@pytest.mark.parametrize("args, message", [
    ((), "a command is needed"),
    (("list", "--bogus"), "unrecognized arguments"),
    (("create",), "required: IMAGE"),
    (("create", "hello", "--memory", "4Q"), "bad size '4Q'"),
    (("create", "hello", "--cpus", "3-1"), "reversed CPU range"),
    (("create", "hello", "--cpus", "0-64"), "out of range"),
    (("create", "hello", "--net", "mac=02:00:00:00:00:01"), "needs ip=A.B.C.D/LEN or dhcp"),
    (("create", "hello", "--net", "ip=10.0.0.2"), "needs a prefix length"),
    (("create", "hello", "--net", "dhcp,color=red"), "bad item 'color=red'"),
    (("create", "sha256:" + "0" * 64), "--name is needed"),
    (("create", "hello", "--on-exit", "poweroff"), "invalid choice"),
    (("list", "--", "x"), "arguments after -- are for create only"),
    (("upload", "/nonexistent/a.elf"), "cannot read /nonexistent/a.elf"),
    (("upload", "/dev/null", "--name", "123"), "bad image name '123'"),
    (("top", "--interval", "0"), "--interval must be more than 0"),
    (("list", "--timeout", "0"), "--timeout must be more than 0"),
])
def test_usage_errors_exit_2(pv, fake, args, message):
    r = pv(*args)
    assert r.returncode == 2, (args, r.out, r.err)
    assert message in r.err
    assert not fake.requests


def test_url_is_required_and_checked(pv):
    env = pv.env()
    del env["PARAVANE_URL"]
    r = pv("list", env=env)
    assert r.returncode == 2 and "no API URL: pass --url URL or set PARAVANE_URL" in r.err
    r = pv("list", "--url", "ftp://x", env=env)
    assert r.returncode == 2 and "bad API URL 'ftp://x'" in r.err
    r = pv("list", "--url", pv.fake.url, env=env)
    assert r.returncode == 0, r.err


def test_global_options_before_or_after_the_command(pv, fake):
    env = pv.env(token=False)
    del env["PARAVANE_URL"]
    for args in (("--url", fake.url, "--token", fake.token, "--json", "host"),
                 ("host", "--url", fake.url, "--token", fake.token, "--json")):
        r = pv(*args, env=env)
        assert r.returncode == 0, r.err
        assert json.loads(r.out)["api_version"] == 1


# ---- tokens ----------------------------------------------------------------------------

def test_missing_token_exit_4(pv, fake):
    r = pv("list", token=False)
    assert r.returncode == 4
    assert "unauthorized" in r.err and "HTTP 401" in r.err
    assert "no token given: set PARAVANE_TOKEN or pass --token" in r.err
    assert "Authorization" not in fake.requests[-1][2]


def test_wrong_token_exit_4(pv, fake):
    r = pv("list", "--token", "not-the-token-at-all")
    assert r.returncode == 4
    assert "unauthorized: wrong token (HTTP 401); check --token or PARAVANE_TOKEN" in r.err
    assert fake.requests[-1][2]["Authorization"] == "Bearer not-the-token-at-all"


def test_token_from_file_and_variables(pv, fake, tmp_path):
    tf = tmp_path / "token"
    tf.write_text(fake.token + "\n")
    r = pv("list", "--token-file", tf, token=False)
    assert r.returncode == 0, r.err
    assert fake.requests[-1][2]["Authorization"] == "Bearer " + fake.token
    r = pv("list", env=pv.env(token=False, PARAVANE_TOKEN_FILE=str(tf)))
    assert r.returncode == 0, r.err
    # --token beats the variable
    r = pv("list", "--token", "wrong-wrong-wrong")
    assert r.returncode == 4
    r = pv("list", "--token-file", tmp_path / "missing", token=False)
    assert r.returncode == 2 and "cannot read the token file" in r.err
    r = pv("list", "--token", "two words")
    assert r.returncode == 2 and "bad token" in r.err


# ---- a server that is not there, or not the API --------------------------------------

def test_connection_refused_exit_3(pv):
    url = "http://127.0.0.1:%d" % free_port()
    r = pv("list", env=dict(pv.env(), PARAVANE_URL=url))
    assert r.returncode == 3
    assert "cannot connect to %s: connection refused" % url in r.err
    assert "check --url or PARAVANE_URL" in r.err


def test_no_answer_times_out_exit_3(pv):
    url, close = raw_server(None)
    try:
        t0 = time.monotonic()
        r = pv("list", "--timeout", "0.5", env=dict(pv.env(), PARAVANE_URL=url))
        assert time.monotonic() - t0 < 10
    finally:
        close()
    assert r.returncode == 3
    assert "no answer within 0.5 s (--timeout)" in r.err


@pytest.mark.parametrize("answer, message", [
    (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello",
     "answered text/html, not JSON: not the Paravane API"),
    (b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nnope!",
     "answered HTTP 404 Not Found with text/html, not a Paravane API error"),
    (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"dom",
     "dropped in the middle of the answer"),
    (b"SSH-2.0-OpenSSH_9.2\r\n", "not an HTTP answer"),
    (b"", "closed the connection without answering"),
])
def test_not_the_api_exit_3(pv, answer, message):
    url, close = raw_server(answer)
    try:
        r = pv("list", env=dict(pv.env(), PARAVANE_URL=url))
    finally:
        close()
    assert r.returncode == 3, r.err
    assert message in r.err


# ---- host, list ---------------------------------------------------------------------------

def test_host(pv, fake):
    r = pv("host")
    assert r.returncode == 0, r.err
    assert re.search(r"^version\s+0\.1\.0 \(API 1, ABI 1\)$", r.out, re.M)
    assert re.search(r"^cpus\s+2 started of 2 found$", r.out, re.M)
    assert re.search(r"^memory\s+512M total, 495M free$", r.out, re.M)
    assert re.search(r"^domains\s+1 live of 64$", r.out, re.M)
    h = json.loads(pv("host", "--json").out)
    want = fake.host()
    for k in ("uptime_seconds",):
        h.pop(k)
        want.pop(k)
    assert h == want


def test_list_table_and_json_unchanged(pv, fake):
    add_domain(fake, "hello", cpus=[1])
    add_domain(fake, "web", memory=16 << 20, net=[{"dhcp": True}])
    fake.add_cpu(3, 12.34)
    r = pv("list")
    assert r.returncode == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "STATE", "MEMORY", "CPU(s)", "UPTIME", "CPUS", "IMAGE"]
    assert lines[1].split()[:3] == ["1", "control", "running"]
    assert lines[2].split() == ["2", "hello", "running", "1M", "0.0", "0s", "1", "hello"]
    assert lines[3].split()[:5] == ["3", "web", "running", "16M", "12.3"]
    mine = json.loads(pv("list", "--json").out)
    _, _, body = api(fake, "GET", "/v1/domains")
    theirs = json.loads(body)
    for doms in (mine["domains"], theirs["domains"]):
        for d in doms:
            d.pop("uptime_seconds")
    assert mine == theirs


# ---- create ------------------------------------------------------------------------------

def test_create_sends_the_documented_request(pv, fake):
    fake.put_image("hello", elf_bytes())
    r = pv("create", "hello", "--name", "w1", "--memory", "2M", "--cpus", "0-1, 1",
           "--weight", "512", "--net", "mac=02:00:00:00:00:07, ip=10.0.0.2/24, gw=10.0.0.1",
           "--net", "dhcp,guard=mac", "--on-exit", "restart", "--on-crash", "destroy",
           "--restart-limit", "5", "--", "--greeting", "hi there", "")
    assert r.returncode == 0, r.err
    assert r.out == 'created domain 2 "w1" (running)\n'
    q = [q for q in fake.requests if q[0] == "POST"][-1]
    assert q[2]["Content-Type"] == "application/json"
    d = fake.domains[2]
    assert d["memory"] == 2 << 20 and d["weight"] == 512 and d["cpus"] == [0, 1]
    assert d["args"] == ["--greeting", "hi there", ""]
    assert d["on_exit"] == "restart" and d["on_crash"] == "destroy" and d["restart_limit"] == 5
    assert d["net"][0] == {"mac": "02:00:00:00:00:07", "ip": "10.0.0.2", "prefix": 24,
                           "gw": "10.0.0.1", "port": "w1.net0", "dhcp": False, "guard": "ip"}
    assert d["net"][1]["dhcp"] is True and d["net"][1]["guard"] == "mac"
    # defaults: name from the image, 4M, no optional fields sent
    r = pv("create", "hello", "--json")
    assert r.returncode == 0, r.err
    d = json.loads(r.out)
    assert d["name"] == "hello" and d["memory"] == 4 << 20 and d["args"] == []
    assert d["image"] == "hello" and d["on_exit"] == "destroy" and d["weight"] == 256


def test_create_from_a_file_uploads_it_once(pv, fake, image):
    r = pv("create", image, "--memory", "512K")
    assert r.returncode == 0, r.err
    assert "uploaded %s as image hello" % image in r.err
    assert fake.images["hello"]["size"] == image.stat().st_size
    puts = [q for q in fake.requests if q[0] == "PUT"]
    assert len(puts) == 1 and puts[0][1] == "/v1/images/hello"
    r = pv("create", image, "--name", "again")
    assert r.returncode == 0, r.err
    assert len([q for q in fake.requests if q[0] == "PUT"]) == 1
    assert fake.domains[3]["image_sha256"] == fake.images["hello"]["sha256"]


def test_create_console_follows(pv, fake):
    fake.put_image("hello", elf_bytes())
    p = pv.popen("create", "hello", "-c", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: 2 in fake.domains, what="the domain")
    wait_for(lambda: any("/console" in q[1] for q in fake.requests), what="the console request")
    fake.console_write(2, b"bye\n")
    time.sleep(0.1)
    fake.end_domain(2)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 0, err
    assert out.decode() == 'created domain 2 "hello" (running)\nHello from Paravane! I am ' \
                           'domain 2, "hello".\nbye\n'
    assert b'domain 2 "hello" has ended' in err


@pytest.mark.parametrize("args, status, code", [
    (("create", "hello", "--name", "control"), 409, "name_taken"),
    (("create", "nope"), 404, "no_such_image"),
    (("create", "hello", "--memory", "1G"), 507, "admission_refused"),
    (("create", "hello", "--memory", "5000"), 400, "bad_field"),
    (("create", "hello", "--weight", "0"), 400, "bad_field"),
    (("create", "hello", "--net", "ip=10.0.0.2/24,gw=10.0.1.1"), 400, "bad_field"),
    (("create", "hello", "--net", "mac=03:00:00:00:00:01,dhcp"), 400, "bad_field"),
    (("create", "hello", "--restart-limit", "1001"), 400, "bad_field"),
])
def test_api_errors_pass_through_exit_1(pv, fake, args, status, code):
    fake.put_image("hello", elf_bytes())
    r = pv(*args)
    assert r.returncode == 1, r.err
    assert r.out == ""
    m = re.match(r"^pvctl: (\w+): (.*) \(HTTP (\d+)\)$", r.err.strip())
    assert m, r.err
    assert (m.group(1), int(m.group(3))) == (code, status)


def test_admission_message_names_the_resource(pv, fake):
    fake.put_image("hello", elf_bytes())
    r = pv("create", "hello", "--memory", "1G")
    assert r.returncode == 1
    assert 'admission_refused: not enough memory for domain "hello": needs %d bytes' \
        % ((1 << 30) + fake_api.OVERHEAD) in r.err


# ---- destroy, pause, resume -----------------------------------------------------------

def test_pause_resume_destroy(pv, fake):
    add_domain(fake, "hello")
    r = pv("pause", "hello")
    assert (r.returncode, r.out) == (0, 'paused domain 2 "hello"\n')
    assert fake.domains[2]["state"] == "paused"
    r = pv("pause", "2")
    assert r.returncode == 1 and 'wrong_state: domain 2 "hello" is paused (HTTP 409)' in r.err
    r = pv("resume", "hello", "--json")
    assert r.returncode == 0 and json.loads(r.out)["state"] == "running"
    r = pv("resume", "hello")
    assert r.returncode == 1 and "wrong_state" in r.err
    r = pv("destroy", "2", "--json")
    assert r.returncode == 0 and json.loads(r.out)["state"] == "ending"
    assert 2 not in fake.domains
    for cmd in ("destroy", "pause", "resume"):
        r = pv(cmd, "hello")
        assert r.returncode == 1 and 'no_such_domain: no domain "hello" (HTTP 404)' in r.err
    r = pv("destroy", "control")
    assert r.returncode == 1 and "forbidden" in r.err and "HTTP 403" in r.err


def test_save_writes_the_stream_then_destroys_and_restore_brings_it_back(pv, fake, tmp_path):
    add_domain(fake, "hello")
    path = str(tmp_path / "hello.save")
    r = pv("save", "hello", path)
    assert r.returncode == 0, r.err
    assert r.out.startswith('saved domain 2 "hello" to %s' % path) and "destroyed" in r.out
    data = open(path, "rb").read()
    assert data.startswith(b"PVSAVE1\0") and 2 not in fake.domains
    assert not (tmp_path / "hello.save.part").exists()
    assert ("GET", "/v1/domains/hello/save?then=pause") in [tuple(x[:2]) for x in fake.requests]
    r = pv("restore", path, "--json")
    assert r.returncode == 0, r.err
    assert json.loads(r.out)["name"] == "hello"
    r = pv("restore", path)
    assert r.returncode == 1 and "name_taken" in r.err and "HTTP 409" in r.err
    r = pv("restore", path, "--name", "copy")
    assert r.returncode == 0 and r.out.startswith('restored domain') and '"copy"' in r.out
    r = pv("save", "copy", path, "--keep-running")
    assert r.returncode == 0 and "destroyed" not in r.out
    assert any(d["name"] == "copy" and d["state"] == "running" for d in fake.domains.values())


def test_save_and_restore_refusals(pv, fake, tmp_path):
    r = pv("save", "nosuch", str(tmp_path / "x"))
    assert r.returncode == 1 and "no_such_domain" in r.err
    assert not (tmp_path / "x").exists()
    junk = tmp_path / "junk"
    junk.write_bytes(b"not a stream")
    r = pv("restore", str(junk))
    assert r.returncode == 1 and "bad_stream: bad magic number" in r.err
    r = pv("restore", str(tmp_path / "missing"))
    assert r.returncode == 2 and "cannot read" in r.err


def test_migrate_prints_its_rounds_and_how_it_ended(pv, fake):
    add_domain(fake, "web")
    r = pv("migrate", "web", "--to", "http://10.0.2.16:80")
    assert r.returncode == 0, r.err
    assert "round 1: 300 pages" in r.out and "stopped for the last pages" in r.out
    assert r.out.splitlines()[-1].startswith("migrated web to 10.0.2.16:80 in 42 ms")
    assert not any(d["name"] == "web" for d in fake.domains.values())
    sent = [x for x in fake.requests if x[0] == "POST" and x[1] == "/v1/domains/web/migrate"]
    assert sent and sent[-1][2]["Content-Type"] == "application/json"
    add_domain(fake, "db")
    r = pv("migrate", "db", "--to", "http://10.0.2.16:1", "--json")
    assert r.returncode == 1 and json.loads(r.out)["result"] == "failed"
    assert "name_taken" in r.err and "runs on here" in r.err
    assert any(d["name"] == "db" for d in fake.domains.values())
    r = pv("migrate", "db", "--to", "somewhere")
    assert r.returncode == 1 and "HTTP 400" in r.err and "to:" in r.err
    r = pv("migrate", "db")
    assert r.returncode == 2


def test_snapshot_clone_list_and_drop(pv, fake):
    add_domain(fake, "hello")
    r = pv("snapshot", "hello", "warm")
    assert r.returncode == 0 and r.out.startswith("snapshot warm of hello taken"), r.err
    r = pv("snapshot", "hello", "warm")
    assert r.returncode == 1 and "snapshot_exists" in r.err and "HTTP 409" in r.err
    r = pv("clone", "warm", "--name", "web", "--count", "3")
    assert r.returncode == 0, r.err
    assert r.out.count("cloned domain") == 3 and '"web-3"' in r.out
    assert sorted(d["name"] for d in fake.domains.values() if d["name"].startswith("web")) == \
        ["web-1", "web-2", "web-3"]
    r = pv("snapshots")
    assert r.returncode == 0 and "warm" in r.out and "hello" in r.out
    r = pv("snapshots", "warm", "--json")
    assert r.returncode == 0 and json.loads(r.out)["clones"] == 3
    r = pv("clone", "warm", "--count", "0")
    assert r.returncode == 2
    r = pv("rm-snapshot", "warm")
    assert r.returncode == 0 and r.out.startswith("dropped snapshot warm")
    r = pv("snapshots", "warm")
    assert r.returncode == 1 and "no_such_snapshot" in r.err


def test_names_are_quoted_in_paths(pv, fake):
    r = pv("destroy", "a/b?c")
    assert r.returncode == 1 and "no_such_domain" in r.err
    assert fake.requests[-1][1] == "/v1/domains/a%2Fb%3Fc"


# ---- images -------------------------------------------------------------------------------

def test_upload_images_rm_image(pv, fake, image, tmp_path):
    r = pv("upload", image)
    assert r.returncode == 0, r.err
    sha = fake.images["hello"]["sha256"]
    assert r.out == "uploaded image hello (%d bytes, sha256 %s)\n" % (image.stat().st_size, sha)
    put = [q for q in fake.requests if q[0] == "PUT"][-1]
    assert put[2]["Content-Type"] == "application/octet-stream"
    r = pv("upload", image)
    assert r.out == "image hello already holds these bytes (sha256 %s)\n" % sha
    other = tmp_path / "other.elf"
    other.write_bytes(elf_bytes(b"2"))
    r = pv("upload", other, "--name", "hello")
    assert r.returncode == 1 and "image_exists" in r.err and "HTTP 409" in r.err
    assert pv("upload", other, "--json").returncode == 0
    r = pv("images")
    lines = r.out.splitlines()
    assert lines[0].split() == ["NAME", "SIZE", "SHA256", "USERS"]
    assert lines[1].split() == ["hello", "%dB" % image.stat().st_size, sha[:16], "0"]
    assert lines[2].split()[0] == "other"
    j = json.loads(pv("images", "--json").out)
    assert [i["name"] for i in j["images"]] == ["hello", "other"]
    add_domain(fake, "user")
    r = pv("rm-image", "hello")
    assert r.returncode == 1
    assert 'image_in_use: image hello is used by 2 "user" (HTTP 409)' in r.err
    r = pv("rm-image", "other")
    assert (r.returncode, r.out) == (0, "removed image other\n")
    r = pv("rm-image", "other")
    assert r.returncode == 1 and "no_such_image" in r.err


def test_bad_image_gets_the_loaders_message(pv, tmp_path):
    bad = tmp_path / "bad.elf"
    bad.write_bytes(b"#!/bin/sh\necho not an elf\n" + b"\0" * 100)
    r = pv("upload", bad)
    assert r.returncode == 1
    assert r.err == "pvctl: bad_image: not an ELF file (HTTP 400)\n"
    nonote = tmp_path / "nonote.elf"
    nonote.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 100)
    r = pv("create", nonote)
    assert r.returncode == 1
    assert "bad_image: no Paravane ABI note (image not built with the Paravane SDK?)" in r.err


def test_oversized_upload_413_passes_through(tmp_path):
    fake = FakeParavane(image_limit=4096).start()
    try:
        big = tmp_path / "big.elf"
        big.write_bytes(elf_bytes() + b"\0" * (2 << 20))
        r = Pv(fake)("upload", big)
        assert r.returncode == 1, r.err
        assert "too_large: the body is %d bytes; at most 4096 here (HTTP 413)" \
            % big.stat().st_size in r.err
    finally:
        fake.stop()


def test_too_big_for_the_api_is_refused_locally(pv, fake, tmp_path):
    big = tmp_path / "huge.elf"
    with open(big, "wb") as f:
        f.truncate((64 << 20) + 1)
    r = pv("upload", big)
    assert r.returncode == 2 and "at most 67108864 bytes (64 MiB)" in r.err
    assert not [q for q in fake.requests if q[0] == "PUT"]


# ---- console ------------------------------------------------------------------------------

def test_console_offsets_and_lost_bytes(pv, fake):
    add_domain(fake, "hello")
    r = pv("console", "hello")
    assert (r.returncode, r.out, r.err) == (0, 'Hello from Paravane! I am domain 2, "hello".\n', "")
    text = b"".join(b"line %03d\n" % i for i in range(60))   # 540 bytes, the ring keeps 256
    fake.console_write(2, text)
    everything = b'Hello from Paravane! I am domain 2, "hello".\n' + text
    r = pv("console", "hello")
    assert r.returncode == 0
    assert r.stdout == everything[-256:]
    lost = len(everything) - 256
    assert r.err == "pvctl: %d bytes of console output were lost before offset %d " \
                    "(the ring overwrote them)\n" % (lost, lost)
    r = pv("console", "2", "--offset", len(everything) - 9)
    assert (r.stdout, r.err) == (b"line 059\n", "")
    j = json.loads(pv("console", "hello", "--offset", 10, "--json").out)
    assert j == {"id": 2, "offset": lost, "next": len(everything), "lost": lost - 10,
                 "text": everything[-256:].decode()}


def test_console_escapes_control_bytes(pv, fake):
    add_domain(fake, "hello")
    fake.console_write(2, b"\x1b[2Jclear\x07 caf\xc3\xa9 \xff \\ \xc2\x9b tab\tend\n")
    off = len('Hello from Paravane! I am domain 2, "hello".\n')
    r = pv("console", "hello", "--offset", off, "--escape")
    assert r.out == "\\x1b[2Jclear\\x07 caf\u00e9 \\xff \\\\ \\x9b tab\tend\n"
    raw = pv("console", "hello", "--offset", off)          # not a terminal: unchanged
    assert raw.stdout == b"\x1b[2Jclear\x07 caf\xc3\xa9 \xff \\ \xc2\x9b tab\tend\n"
    assert pv("console", "hello", "--offset", off, "--raw").stdout == raw.stdout


def test_escaper_keeps_utf8_split_across_chunks():
    esc = pvctl_mod.Escaper()
    data = "h\u00e9\u20ac\U0001f600\x1b".encode()
    out = b"".join(esc.feed(data[i:i + 1]) for i in range(len(data))) + esc.feed(b"", True)
    assert out.decode() == "h\u00e9\u20ac\U0001f600\\x1b"
    assert pvctl_mod.Escaper().feed(b"\xe2\x82", final=True) == b"\\xe2\\x82"


def test_console_follow(pv, fake, tmp_path):
    add_domain(fake, "hello")
    out_f, err_f = open(tmp_path / "out", "wb"), open(tmp_path / "err", "wb")
    p = pv.popen("console", "-f", "hello", stdout=out_f, stderr=err_f)
    try:
        got = lambda: (tmp_path / "out").read_bytes()  # noqa: E731
        wait_for(lambda: got().endswith(b'"hello".\n'), what="the first line")
        fake.console_write(2, b"line 1\n")
        wait_for(lambda: got().endswith(b"line 1\n"), what="line 1")
        # quiet for longer than the server keeps a stream: pvctl reconnects
        n = len([q for q in fake.requests if "/console" in q[1]])
        wait_for(lambda: len([q for q in fake.requests if "/console" in q[1]]) > n,
                 what="a reconnect after a quiet stream")
        fake.console_write(2, b"line 2\n")
        wait_for(lambda: got().endswith(b"line 2\n"), what="line 2")
        # a burst larger than the ring: the stream ends, the rest is reported lost
        burst = b"".join(b"burst %03d\n" % i for i in range(100))
        fake.console_write(2, burst)
        wait_for(lambda: got().endswith(b"burst 099\n"), what="the burst's end")
        fake.end_domain(2)
        assert p.wait(timeout=20) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        out_f.close()
        err_f.close()
    out, err = got(), (tmp_path / "err").read_text()
    head = b'Hello from Paravane! I am domain 2, "hello".\nline 1\nline 2\n'
    assert out.startswith(head) and out.endswith(burst[-256:])
    m = re.search(r"pvctl: (\d+) bytes of console output were lost before offset (\d+)", err)
    assert m, err
    assert int(m.group(1)) + len(out) == len(head) + len(burst)
    assert int(m.group(2)) == len(head) + len(burst) - 256
    assert err.endswith('pvctl: domain 2 "hello" has ended\n')
    follows = [q for q in fake.requests if "/console" in q[1]]
    assert all("follow=1" in q[1] for q in follows)
    offsets = [int(re.search(r"offset=(\d+)", q[1]).group(1)) for q in follows]
    assert offsets == sorted(offsets) and offsets[0] == 0


def test_console_of_unknown_domain(pv):
    r = pv("console", "-f", "ghost")
    assert r.returncode == 1 and 'no_such_domain: no domain "ghost"' in r.err


# ---- events -----------------------------------------------------------------------------

class Lines:
    def __init__(self, data):
        self.lines = data.splitlines(keepends=True)

    def readline(self):
        return self.lines.pop(0) if self.lines else b""


def test_sse_parser():
    stream = (b"retry: 3000\r\n\r\n"
              b": a comment\n"
              b"id: 10\ndata: domain-created id=2 name=a\n\n"
              b"data:no-space x=1\nid:11\n\n"
              b"data: line one\ndata: line two\nid: 12\n\n"
              b"id: 13\n\n"                           # no data: no event, id still taken
              b"event: ignored\ndata: after id=1\n\n"
              b"data: unterminated at the end\n")
    evs = list(pvctl_mod.sse_events(Lines(stream)))
    assert evs == [("10", "domain-created id=2 name=a"), ("11", "no-space x=1"),
                   ("12", "line one\nline two"), ("13", "after id=1")]
    j = pvctl_mod.event_json("10", "domain-created id=2 name=a")
    assert j == {"id": 10, "name": "domain-created", "fields": {"id": "2", "name": "a"},
                 "data": "domain-created id=2 name=a"}


def test_events_history(pv, fake):
    add_domain(fake, "hello")
    r = pv("events")
    assert r.returncode == 0, r.err
    assert r.out.splitlines() == [e[2] for e in fake.events]
    evs = [json.loads(l) for l in pv("events", "--json").out.splitlines()]
    assert [e["id"] for e in evs] == [e[1] for e in fake.events]
    assert evs[-1]["name"] == "domain-started" and evs[-1]["fields"]["name"] == "hello"
    # from an offset: only the records after it
    after = fake.events[1][1]
    r = pv("events", "--offset", after)
    assert r.out.splitlines() == [e[2] for e in fake.events[2:]]
    assert fake.requests[-1][2]["Last-Event-ID"] == str(after)


def test_events_lost_are_reported():
    fake = FakeParavane(event_ring=300).start()
    try:
        for i in range(20):
            fake.emit("tick n=%d" % i)
        r = Pv(fake)("events")
        first = fake.events[0][0]
        lines = r.out.splitlines()
        assert lines[0] == "events-lost from=0 to=%d" % first
        assert lines[1:] == [e[2] for e in fake.events]
    finally:
        fake.stop()


def test_events_follow_resumes_with_last_event_id(pv, fake, tmp_path):
    out_f = open(tmp_path / "out", "wb")
    p = pv.popen("events", "-f", "--json", stdout=out_f, stderr=subprocess.PIPE)
    try:
        lines = lambda: (tmp_path / "out").read_text().splitlines()  # noqa: E731
        wait_for(lambda: len(lines()) == 2, what="the history")
        for i in range(5):
            fake.emit("tick n=%d" % i)
        wait_for(lambda: len(lines()) == 7, what="live records")
        # the connection drops (a proxy, a restarted control domain): pvctl
        # reconnects with Last-Event-ID and misses nothing
        seen = len([q for q in fake.requests if q[1].startswith("/v1/events")])
        fake.drop_streams()
        wait_for(lambda: len([q for q in fake.requests if q[1].startswith("/v1/events")]) > seen,
                 what="the reconnect")
        for i in range(5, 8):
            fake.emit("tick n=%d" % i)
        wait_for(lambda: len(lines()) == 10, what="records after the reconnect")
        time.sleep(0.5)   # nothing repeated later either
        evs = [json.loads(l) for l in lines()]
    finally:
        p.kill()
        p.wait()
        out_f.close()
    assert [e["data"] for e in evs[2:]] == ["tick n=%d" % i for i in range(8)]
    ids = [e["id"] for e in evs]
    assert ids == sorted(set(ids)) and ids == [e[1] for e in fake.events]
    resumed = [q[2].get("Last-Event-ID") for q in fake.requests if q[1].startswith("/v1/events")]
    assert str(evs[6]["id"]) in resumed


# ---- top ---------------------------------------------------------------------------------

def test_top_once_measures_cpu(pv, fake):
    add_domain(fake, "busy")
    add_domain(fake, "idle")
    stop = threading.Event()

    def burn():                # "busy" uses half a CPU
        t0 = time.monotonic()
        used = 0.0
        while not stop.is_set():
            time.sleep(0.02)
            now = time.monotonic() - t0
            fake.add_cpu(2, now / 2 - used)
            used = now / 2
    t = threading.Thread(target=burn, daemon=True)
    t.start()
    try:
        r = pv("top", "--once", "--interval", "1", "--json")
    finally:
        stop.set()
        t.join()
    assert r.returncode == 0, r.err
    frames = [json.loads(l) for l in r.out.splitlines()]
    assert len(frames) == 1
    doms = {d["name"]: d for d in frames[0]["domains"]}
    assert 25 <= doms["busy"]["cpu_percent"] <= 75, doms["busy"]
    assert doms["idle"]["cpu_percent"] == 0.0
    assert frames[0]["host"]["domains_live"] == 3


def test_top_table_is_bounded(pv, fake):
    for i in range(5):
        add_domain(fake, "d%d" % i)
    fake.add_cpu(4, 1.0)
    r = pv("top", "--count", "2", "--interval", "0.2", "--rows", "3")
    assert r.returncode == 0, r.err
    frames = re.split(r"\n(?=paravane )", r.out)
    assert len(frames) == 2
    for f in frames:
        lines = f.strip("\n").splitlines()
        assert lines[0].startswith("paravane 0.1.0  up ") and "domains 6/64" in lines[0]
        assert lines[2].split() == ["ID", "NAME", "STATE", "CPU%", "CPU(s)", "MEMORY", "PRIVATE",
                                    "UPTIME"]
        assert len(lines) == 3 + 3 + 1 and lines[-1] == "... and 3 more (--rows)"
    assert "\x1b" not in r.out       # not a terminal: no screen clearing


# ---- the contract: docs/api.md, pvctl and the fake -----------------------------------------

def documented_routes():
    rows = re.findall(r"^\| (GET|POST|PUT|DELETE|PATCH) \| `([^`]+)` \|", API_MD.read_text(), re.M)
    assert len(rows) >= 16, "the route table in docs/api.md was not found"
    return rows


def test_every_documented_route_is_known():
    doc = documented_routes()
    assert len(doc) == len(set(doc)), "a route is listed twice in docs/api.md"
    doc = set(doc)
    fake_routes, pv_routes = set(fake_api.ROUTES), set(pvctl_mod.ROUTES)
    assert fake_routes == doc, ("the fake and docs/api.md disagree: only documented %s, "
                                "only served %s" % (doc - fake_routes, fake_routes - doc))
    assert pv_routes <= doc, "pvctl uses undocumented routes: %s" % (pv_routes - doc)
    assert not doc - fake_routes - pv_routes
    # every /v1/ route is something pvctl can do
    assert {r for r in doc if r[1].startswith("/v1/")} == pv_routes


def test_documented_metrics_are_served(fake):
    add_domain(fake, "web", net=[{"ip": "10.0.0.2", "prefix": 24}])
    names = set(re.findall(r"^\| `(paravane_\w+)` \| (?:gauge|counter)", API_MD.read_text(), re.M))
    assert len(names) >= 25
    status, headers, body = api(fake, "GET", "/metrics")
    assert status == 200
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = body.decode()
    helps = set(re.findall(r"^# HELP (\w+) ", text, re.M))
    types = set(re.findall(r"^# TYPE (\w+) (?:gauge|counter)$", text, re.M))
    assert helps == types == names
    assert 'paravane_domain_cpu_seconds_total{id="2",name="web"} ' in text
    assert 'paravane_net_dropped_frames_total{port="web.net0",reason="ip_spoof"} 0' in text
    for line in text.splitlines():
        assert line.startswith("#") or re.match(r'^paravane_\w+(\{(\w+="[^"]*",?)+\})? \S+$', line)


def test_fake_answers_the_documented_errors(fake):
    # auth comes before routing: an unknown route without a token is 401
    status, headers, body = api(fake, "GET", "/v1/nothing", token=False)
    assert status == 401 and headers["WWW-Authenticate"] == 'Bearer realm="paravane"'
    assert json.loads(body)["error"]["code"] == "unauthorized"
    status, _, body = api(fake, "GET", "/v1/nothing")
    assert (status, json.loads(body)["error"]["code"]) == (404, "not_found")
    status, headers, body = api(fake, "PATCH", "/v1/domains/1")
    assert status == 405 and headers["Allow"] == "GET, DELETE"
    status, _, body = api(fake, "POST", "/v1/domains", b"{}")
    assert (status, json.loads(body)["error"]["code"]) == (415, "unsupported_media_type")
    jh = {"Content-Type": "application/json"}
    for payload, code, field in (
            (b"[1]", "bad_json", None),
            (b'{"name": "a", "name": "b"}', "bad_json", None),
            (b'{"image": "x", "memory": 65536}', "missing_field", "name"),
            (b'{"name": "a", "image": "x", "memory": "64K"}', "bad_field", "memory"),
            (b'{"name": "a", "image": "x", "memory": 65536, "privileged": true}',
             "unknown_field", "privileged"),
            (b'{"name": "a", "image": "x", "memory": 65536, "net": [{"dhcp": true, "ip": '
             b'"10.0.0.1", "prefix": 8}]}', "bad_field", "net.0.ip")):
        status, _, body = api(fake, "POST", "/v1/domains", payload, headers=jh)
        err = json.loads(body)["error"]
        assert (status, err["code"], err.get("field")) == (400, code, field), payload
    status, _, body = api(fake, "GET", "/v1/domains/1/console?offset=x")
    assert (status, json.loads(body)["error"]["field"]) == (400, "offset")
    status, headers, body = api(fake, "GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert api(fake, "GET", "/metrics", token=False)[0] == 401
