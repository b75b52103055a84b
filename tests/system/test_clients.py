"""Real clients against the real control domain: the host CLI pvctl
(docs/pvctl.md) run as a user runs it, a Prometheus server scraping
/metrics, and the dashboard in headless chromium (the round of
tests/tools/dashboard_steps.py).  tests/tools checks the same clients
against an in-memory fake; this module checks that they and apps/control
agree.  One machine for the module (-smp 1): the control domain and a
boot-time ticker (tests/guests/ticker) that keeps printing."""
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import pytest

from conftest import BUILD, ROOT, guest
from control import ControlVM, HELLO, free_port

sys.path.insert(0, str(ROOT / "tests" / "tools"))
import cdp  # noqa: E402  (sdk/tools/cdp.py, on the path through conftest)
from dashboard_steps import Dashboard, walkthrough  # noqa: E402  (tests/tools/dashboard_steps.py)

PVCTL = ROOT / "sdk" / "tools" / "pvctl"
TICKER = BUILD / "apps" / "ticker" / "ticker.elf"
OUT = ROOT / "build" / "test-output"
BOOT_TICKER = """
[guest tick]
image = ticker.elf
memory = 1M
cmdline = "ticker 0 300"
"""


@pytest.fixture(scope="module")
def vm():
    with ControlVM(extra=BOOT_TICKER, files=[guest("ticker")], smp=1) as m:
        yield m


@pytest.fixture
def cwd(tmp_path):
    """pvctl's working directory: empty, so no image name is taken for a file."""
    d = tmp_path / "cwd"
    d.mkdir()
    return d


def pvctl_env(vm, token=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARAVANE_")}
    env["PARAVANE_URL"] = vm.url
    if token:
        env["PARAVANE_TOKEN"] = vm.token if token is True else token
    return env


def pvctl(vm, *args, token=True, cwd=None, timeout=60):
    """Runs pvctl to its end: (exit code, stdout, stderr)."""
    r = subprocess.run([sys.executable, str(PVCTL)] + [str(a) for a in args],
                       env=pvctl_env(vm, token), cwd=cwd, capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def ok(vm, *args, **kw):
    code, out, err = pvctl(vm, *args, **kw)
    assert code == 0, "pvctl %s: exit %d, stderr %r" % (" ".join(map(str, args)), code, err)
    assert not err or "uploaded" in err, err
    return out


def api(vm, path):
    status, _, doc = vm.api("GET", path)
    assert status == 200, (path, status, doc)
    return doc


def domain(vm, ref):
    status, _, doc = vm.api("GET", "/v1/domains/%s" % ref)
    return doc if status == 200 else None


def table_rows(text):
    """A pvctl table as dicts by its header's column names."""
    lines = [l for l in text.splitlines() if l.strip()]
    head = lines[0].split()
    return [dict(zip(head, l.split())) for l in lines[1:]]


class Background:
    """pvctl running on (console -f, events -f): stdout collected line by
    line; stopped with Ctrl-C (SIGINT) by its PID."""

    def __init__(self, vm, *args):
        self.proc = subprocess.Popen(
            [sys.executable, str(PVCTL)] + [str(a) for a in args], env=pvctl_env(vm),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern, timeout=20, after=0):
        """The first line from index `after` on that matches; its index."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for i, line in enumerate(self.lines[after:], after):
                if re.search(pattern, line):
                    return i
            if self.proc.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.1)
        raise AssertionError("pvctl never printed /%s/; it printed %r (exit %s)"
                             % (pattern, self.lines[-20:], self.proc.poll()))

    def finish(self, timeout=30):
        """Waits for pvctl to end by itself: (exit code, stderr)."""
        code = self.proc.wait(timeout)
        self.reader.join(5)
        return code, self.proc.stderr.read()

    def interrupt(self):
        """Ctrl-C: (exit code, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.finish(10)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


# ---- pvctl: reading the machine ---------------------------------------------------------

def test_pvctl_host(vm):
    h = api(vm, "/v1/host")
    out = ok(vm, "host")
    rows = dict(l.split(None, 1) for l in out.splitlines())
    assert rows["version"] == "%s (API 1, ABI %d)" % (h["version"], h["abi_version"]), rows
    assert rows["cpus"] == "1 started of 1 found", rows
    assert rows["control"] == "domain %d" % h["control_id"], rows
    assert re.fullmatch(r"\d+ live of %d" % h["domains_max"], rows["domains"]), rows
    m = re.fullmatch(r"(\d+(?:\.\d)?)M total, (\d+(?:\.\d)?)M free", rows["memory"])
    assert m and abs(float(m.group(1)) - h["memory_total"] / (1 << 20)) < 1, rows
    assert float(m.group(2)) < float(m.group(1)), rows
    doc = json.loads(ok(vm, "host", "--json"))
    for key in ("version", "api_version", "abi_version", "cpus_started", "cpus_found",
                "memory_total", "domains_max", "control_id"):
        assert doc[key] == h[key], key
    assert doc["uptime_seconds"] >= h["uptime_seconds"]


def test_pvctl_list(vm):
    rows = {r["NAME"]: r for r in table_rows(ok(vm, "list"))}
    doms = {d["name"]: d for d in api(vm, "/v1/domains")["domains"]}
    assert {"control", "tick"} <= set(rows), rows
    assert rows["control"]["ID"] == str(doms["control"]["id"])
    assert rows["control"]["MEMORY"] == "160M" and rows["tick"]["MEMORY"] == "1M", rows
    assert rows["control"]["STATE"] in ("running", "blocked"), rows
    assert rows["tick"]["STATE"] in ("running", "blocked"), rows
    assert rows["tick"]["CPUS"] == "0" and rows["tick"]["IMAGE"] == "-", rows
    doc = json.loads(ok(vm, "list", "--json"))
    assert [d["id"] for d in doc["domains"]] == sorted(d["id"] for d in doms.values())
    tick = [d for d in doc["domains"] if d["name"] == "tick"][0]
    assert tick["memory"] == 1 << 20 and tick["boot"] and not tick["privileged"], tick


def test_pvctl_console(vm, cwd):
    vm.wait_console("tick", b"ticker: tick 3")
    out = ok(vm, "console", "tick", cwd=cwd)
    assert out.startswith("ticker: started, 300 ms apart\nticker: tick 1\nticker: tick 2\n"), out
    doc = json.loads(ok(vm, "console", "tick", "--json"))
    assert doc["id"] == domain(vm, "tick")["id"] and doc["offset"] == 0 and doc["lost"] == 0
    assert doc["text"].startswith("ticker: started") and doc["next"] == len(doc["text"].encode())
    # from an offset: the rest of the first line, then what follows
    out = ok(vm, "console", "tick", "--offset", len("ticker: started, "))
    assert out.startswith("300 ms apart\nticker: tick 1\n"), out


def test_pvctl_console_follow(vm):
    """console -f prints new lines as the guest writes them, each once,
    until Ctrl-C (exit 130)."""
    start = int(re.findall(rb"tick (\d+)", vm.wait_console("tick", b"tick 1"))[-1])
    f = Background(vm, "console", "-f", "tick")
    try:
        f.wait_for(r"^ticker: started")
        f.wait_for(r"^ticker: tick %d$" % (start + 6), timeout=30)
    finally:
        code, err = f.interrupt()
    assert code == 130, (code, err)
    ticks = [int(m.group(1)) for m in (re.match(r"ticker: tick (\d+)$", l) for l in f.lines) if m]
    first = 1 if "were lost" not in err else ticks[0]          # the ring keeps 4 KiB
    assert ticks == list(range(first, first + len(ticks))), ticks     # none missed, none twice


def test_pvctl_pause_resume(vm):
    """A paused ticker prints nothing; resumed, it goes on."""
    tid = domain(vm, "tick")["id"]
    assert ok(vm, "pause", "tick") == 'paused domain %d "tick"\n' % tid
    rows = {r["NAME"]: r for r in table_rows(ok(vm, "list"))}
    assert rows["tick"]["STATE"] == "paused", rows
    before = domain(vm, "tick")["console_bytes"]
    time.sleep(1.5)                                   # five ticks' worth
    assert domain(vm, "tick")["console_bytes"] == before
    code, _, err = pvctl(vm, "pause", "tick")
    assert code == 1 and err.startswith("pvctl: wrong_state: ") and "(HTTP 409)" in err, err
    assert ok(vm, "resume", "--json", "tick") and domain(vm, "tick")["state"] != "paused"
    end = time.monotonic() + 10
    while domain(vm, "tick")["console_bytes"] == before:
        assert time.monotonic() < end, "the ticker printed nothing after its resume"
        time.sleep(0.2)
    events = ok(vm, "events")
    assert re.search(r"^domain-paused id=%d name=tick$" % tid, events, re.M), events
    assert re.search(r"^domain-resumed id=%d name=tick$" % tid, events, re.M), events


def test_pvctl_events(vm):
    out = ok(vm, "events")
    lines = out.splitlines()
    assert "ready" in lines, lines[:20]
    control = domain(vm, "control")["id"]
    assert any(re.fullmatch(r"domain-started id=%d name=control cpu=0" % control, l) for l in lines)
    recs = [json.loads(l) for l in ok(vm, "events", "--json").splitlines()]
    assert [r["data"] for r in recs][:len(lines)] == lines
    ids = [r["id"] for r in recs]
    assert ids == sorted(set(ids)), ids                # offsets only grow
    created = [r for r in recs if r["name"] == "domain-created" and r["fields"]["name"] == "tick"][0]
    assert created["fields"]["memory_kib"] == "1024", created
    # --offset N: the records after N
    after = [json.loads(l)["id"] for l in ok(vm, "events", "--json", "--offset", ids[3]).splitlines()]
    assert after[:len(ids) - 4] == ids[4:], (after, ids)


def test_pvctl_events_follow(vm):
    """events -f prints records as they happen."""
    tid = domain(vm, "tick")["id"]
    f = Background(vm, "events", "-f", "--json")
    try:
        f.wait_for(r'"data": "domain-started id=%d name=tick' % tid)
        n = len(f.lines)
        ok(vm, "pause", "tick")
        ok(vm, "resume", "tick")
        i = f.wait_for(r'"data": "domain-paused id=%d name=tick"' % tid, after=n)
        f.wait_for(r'"data": "domain-resumed id=%d name=tick"' % tid, after=i + 1)
    finally:
        code, err = f.interrupt()
    assert code == 130, (code, err)
    ids = [json.loads(l)["id"] for l in f.lines]
    assert ids == sorted(set(ids)), ids                # none twice, in order


def test_pvctl_top(vm):
    out = ok(vm, "top", "--once", "--interval", "1")
    head, _, rest = out.partition("\n\n")
    h = api(vm, "/v1/host")
    assert re.fullmatch(r"paravane %s  up \d+\w+  cpus 1/1  memory [\d.]+M used of \d+M  "
                        r"domains \d+/%d" % (re.escape(h["version"]), h["domains_max"]), head), head
    rows = {r["NAME"]: r for r in table_rows(rest)}
    assert list(table_rows(rest)[0]) == ["ID", "NAME", "STATE", "CPU%", "CPU(s)", "MEMORY",
                                         "PRIVATE", "UPTIME"]
    assert {"control", "tick"} <= set(rows), rows
    for r in rows.values():
        assert 0.0 <= float(r["CPU%"]) <= 105.0, r
    frames = [json.loads(l) for l in ok(vm, "top", "--json", "--count", "2", "--interval",
                                        "0.5").splitlines()]
    assert len(frames) == 2
    for frame in frames:
        assert frame["host"]["cpus_started"] == 1
        names = {d["name"]: d for d in frame["domains"]}
        assert {"control", "tick"} <= set(names)
        total = sum(d["cpu_percent"] for d in frame["domains"])
        assert 0.0 < total <= 110.0, frame["domains"]   # one CPU, and the control domain answered


# ---- pvctl: errors and exit codes ---------------------------------------------------------

def test_pvctl_exit_codes(vm, cwd):
    code, out, err = pvctl(vm, "list", token="wrong-" + "x" * 20)
    assert (code, out) == (4, "") and err == (
        "pvctl: unauthorized: a valid bearer token is required (HTTP 401); "
        "check --token or PARAVANE_TOKEN\n"), err
    code, _, err = pvctl(vm, "host", token=None)
    assert code == 4 and "no token given: set PARAVANE_TOKEN or pass --token" in err, err
    code, out, err = pvctl(vm, "destroy", "nosuch")
    assert (code, out, err) == (1, "", 'pvctl: no_such_domain: no domain "nosuch" (HTTP 404)\n')
    code, _, err = pvctl(vm, "console", "4000000")
    assert code == 1 and err.startswith("pvctl: no_such_domain: "), err
    code, _, err = pvctl(vm, "destroy", "control")
    assert code == 1 and err.startswith("pvctl: forbidden: ") and "(HTTP 403)" in err, err
    # bad requests the server refuses, its code and message unchanged
    code, _, err = pvctl(vm, "create", "tick", "--name", "no spaces", cwd=cwd)
    assert code == 1 and re.fullmatch(r"pvctl: bad_field: .*name.* \(HTTP 400\)\n", err), err
    code, _, err = pvctl(vm, "create", "tick", "--memory", "1000000", cwd=cwd)
    assert code == 1 and re.fullmatch(r"pvctl: bad_field: memory: 1000000 is not a multiple of 4096"
                                      r".* \(HTTP 400\)\n", err), err
    code, _, err = pvctl(vm, "create", "nosuchimage", "--memory", "1M", cwd=cwd)
    assert (code, err) == (1, 'pvctl: no_such_image: no image "nosuchimage" (HTTP 404)\n'), err
    # usage and connection
    code, _, err = pvctl(vm, "create", "tick", "--memory", "lots", cwd=cwd)
    assert code == 2 and "bad size 'lots'" in err, err
    code, _, err = pvctl(vm, "list", "--url", "http://127.0.0.1:%d" % free_port())
    assert code == 3 and "connection refused" in err, err
    assert [d["name"] for d in api(vm, "/v1/domains")["domains"]] == ["control", "tick"]


# ---- pvctl: images and domains (the hypervisor's image store) -------------------------------

def test_pvctl_upload_and_images(vm, tmp_path):
    data = TICKER.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    out = ok(vm, "upload", TICKER)
    assert out == "uploaded image ticker (%d bytes, sha256 %s)\n" % (len(data), digest), out
    assert ok(vm, "upload", TICKER) == "image ticker already holds these bytes (sha256 %s)\n" % digest
    # the boot ticker runs these very bytes: it counts as a user, and its
    # row now names the image
    assert domain(vm, "tick")["image_sha256"] == digest
    rows = {r["NAME"]: r for r in table_rows(ok(vm, "images"))}
    assert rows["ticker"]["SHA256"] == digest[:16] and rows["ticker"]["USERS"] == "1", rows
    assert rows["ticker"]["SIZE"] == "%dK" % (len(data) >> 10), rows
    doc = json.loads(ok(vm, "images", "--json"))
    assert {"name": "ticker", "sha256": digest, "size": len(data), "users": 1} in doc["images"]
    assert {r["NAME"]: r for r in table_rows(ok(vm, "list"))}["tick"]["IMAGE"] == "ticker"
    h = api(vm, "/v1/host")
    assert re.search(r"^images +%d, " % h["images"], ok(vm, "host"), re.M) and h["images"] >= 1
    code, _, err = pvctl(vm, "upload", HELLO, "--name", "ticker")
    assert code == 1 and err.startswith("pvctl: image_exists: ") and "(HTTP 409)" in err, err
    junk = tmp_path / "junk.elf"
    junk.write_bytes(b"\x7fELF" + b"\0" * 200)
    code, _, err = pvctl(vm, "upload", junk)
    assert code == 1 and err.startswith("pvctl: bad_image: ") and "(HTTP 400)" in err, err
    assert "junk" not in ok(vm, "images")


def test_pvctl_create_console_pause_destroy(vm, cwd):
    """The life of a domain made with pvctl: arguments reach the guest,
    console, pause and resume, console -f ends when it is destroyed."""
    ok(vm, "upload", TICKER)
    out = ok(vm, "create", "ticker", "--name", "job", "--memory", "2M", "--", "0", "200", cwd=cwd)
    m = re.fullmatch(r'created domain (\d+) "job" \((running|blocked)\)\n', out)
    assert m, out
    jid = int(m.group(1))
    rows = {r["NAME"]: r for r in table_rows(ok(vm, "list"))}
    assert rows["job"]["ID"] == str(jid) and rows["job"]["MEMORY"] == "2M", rows
    assert rows["job"]["IMAGE"] == "ticker", rows
    assert domain(vm, jid)["args"] == ["0", "200"]
    vm.wait_console(jid, b"ticker: tick 2")
    assert ok(vm, "console", "job").startswith("ticker: started, 200 ms apart\n")   # argv[2]
    rows = {r["NAME"]: r for r in table_rows(ok(vm, "images"))}
    assert rows["ticker"]["USERS"] == "2", rows                 # job and the boot ticker
    code, _, err = pvctl(vm, "rm-image", "ticker")
    assert code == 1 and err == ('pvctl: image_in_use: image "ticker" is run by 2 live domains: '
                                 'tick, job (HTTP 409)\n'), err

    assert ok(vm, "pause", "job") == 'paused domain %d "job"\n' % jid
    paused = domain(vm, jid)["console_bytes"]
    time.sleep(1.0)
    assert domain(vm, jid)["console_bytes"] == paused
    assert ok(vm, "resume", "job") == 'resumed domain %d "job"\n' % jid

    f = Background(vm, "console", "-f", "job")
    try:
        i = f.wait_for(r"^ticker: tick \d+$")
        f.wait_for(r"^ticker: tick \d+$", after=i + 1)          # and it goes on
        assert ok(vm, "destroy", "job") == 'destroyed domain %d "job"\n' % jid
        code, err = f.finish(30)
    finally:
        f.kill()
    assert code == 0 and err.endswith('pvctl: domain %d "job" has ended\n' % jid), (code, err)
    vm.wait_gone(str(jid))
    code, _, err = pvctl(vm, "console", "job")
    assert code == 1 and "no_such_domain" in err, err
    events = ok(vm, "events")
    for name in ("created", "started", "paused", "resumed"):
        assert re.search(r"^domain-%s id=%d name=job( |$)" % (name, jid), events, re.M), name
    assert re.search(r"^domain-stopped id=%d name=job reason=destroyed " % jid, events, re.M)
    code, _, err = pvctl(vm, "rm-image", "ticker")             # the boot ticker still runs it
    assert code == 1 and "is run by 1 live domain: tick (HTTP 409)" in err, err


def test_pvctl_create_from_a_file_with_arguments(vm, cwd):
    """A path is uploaded first; arguments after -- keep the shell's words
    all the way to the guest's argv (hello prints them and exits, so they
    are read from the machine's serial log)."""
    code, out, err = pvctl(vm, "create", HELLO, "--memory", "1M", "--", "--greeting", "hi there",
                           'a "quoted" \\ word', cwd=cwd)
    assert code == 0, err
    assert err == "pvctl: uploaded %s as image hello\n" % HELLO, err
    hid = int(re.fullmatch(r'created domain (\d+) "hello" \(\w+\)\n', out).group(1))
    m = vm.vm.wait_for(r'^hello\| argv\[3\] = .*$', 30)
    assert m, vm.log[-2000:]
    # (the serial log shows a backslash as two)
    lines = [l.split("| ", 1)[1] for l in vm.log.splitlines() if l.startswith("hello| argv")]
    assert lines == ['argv[0] = "hello"', 'argv[1] = "--greeting"', 'argv[2] = "hi there"',
                     'argv[3] = "a "quoted" \\\\ word"'], lines
    vm.wait_gone(str(hid))
    assert re.search(r"^domain-exited id=%d name=hello code=0" % hid, ok(vm, "events"), re.M)
    # it has ended, yet what it printed is still there by its id
    assert 'argv[2] = "hi there"' in ok(vm, "console", hid)
    code, out, err = pvctl(vm, "console", "-f", hid)
    assert code == 0 and 'argv[2] = "hi there"' in out and "has ended" in err, (out, err)
    # the same file again is not uploaded again: the store has its bytes
    code, out, err = pvctl(vm, "create", HELLO, "--name", "hello2", "--memory", "1M", cwd=cwd)
    assert code == 0 and err == "" and '"hello2"' in out, (out, err)
    vm.wait_gone("hello2")
    rows = {r["NAME"]: r for r in table_rows(ok(vm, "images"))}
    assert rows["hello"]["USERS"] == "0", rows
    assert ok(vm, "rm-image", "hello") == "removed image hello\n"
    assert "hello" not in ok(vm, "images")


def test_pvctl_refused_creates(vm, cwd):
    ok(vm, "upload", TICKER)
    free = api(vm, "/v1/host")["memory_free"]
    code, out, err = pvctl(vm, "create", "ticker", "--name", "big", "--memory", "1G", cwd=cwd)
    assert (code, out) == (1, ""), out
    m = re.fullmatch(r'pvctl: admission_refused: not enough memory for domain "big": needs (\d+) '
                     r'bytes.*, (\d+) free \(HTTP 507\)\n', err)
    assert m and int(m.group(1)) >= 1 << 30, err
    assert abs(int(m.group(2)) - free) < 8 << 20, (err, free)
    code, _, err = pvctl(vm, "create", "ticker", "--name", "tick", "--memory", "1M", cwd=cwd)
    assert code == 1 and err.startswith("pvctl: name_taken: ") and "(HTTP 409)" in err, err
    names = [d["name"] for d in api(vm, "/v1/domains")["domains"]]
    assert names == ["control", "tick"], names
    assert api(vm, "/v1/host")["memory_free"] == free       # nothing was kept


# ---- the dashboard in chromium ------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    if not cdp.find_chromium():
        pytest.skip("chromium is not installed: run sdk/tools/ensure-deps.sh as root "
                    "or apt-get install chromium")
    b = cdp.Browser.launch()
    yield b
    b.stop()


def test_dashboard_round_against_the_control_domain(vm, browser):
    """tests/tools' dashboard round, against the real API: sign in, upload
    the ticker, create it, its console and events, pause, resume, destroy,
    delete the image, sign out."""
    OUT.mkdir(parents=True, exist_ok=True)
    shot = OUT / "dashboard-control.png"
    if shot.exists():
        shot.unlink()
    # The round deletes its image at the end; the boot ticker runs the same
    # bytes, which may go only while another name still holds them.
    assert vm.upload("ticker", TICKER)[0] in (200, 201)
    page = browser.new_page()
    try:
        walkthrough(page, vm.url, vm.token, TICKER, r"ticker: tick \d+", name="web", image="web",
                    memory_mib=2, args="0 300", screenshot=shot, patience=3.0)
    finally:
        browser.conn.call("Target.closeTarget", {"targetId": page.target})
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20000, len(data)
    assert domain(vm, "web") is None
    assert "web" not in [i["name"] for i in api(vm, "/v1/images")["images"]]


def test_dashboard_newcomer_uploads_hello_and_watches_it_print(vm, browser):
    """README's first steps: upload build/apps/hello/hello.elf, create it,
    and see what it printed, although it exits at once."""
    page = browser.new_page()
    try:
        ui = Dashboard(page, vm.url, vm.token, patience=3.0)
        ui.open()
        ui.login()
        ui.upload(HELLO, "hello-ui")
        ui.fill_create("greet", "hello-ui", 1, "hi from the dashboard")
        page.click('[data-testid="create-submit"]')
        ui.wait_text('[data-testid="create-result"]', r"Created domain greet \(id \d+\)", 45)
        ui.wait_console(r'argv\[4\] = "dashboard"', 45)
        ui.wait_text('[data-testid="console-status"]', r"has ended", 45)
        ui.wait_event(r"domain-exited id=\d+ name=greet code=0", 45)
    finally:
        browser.conn.call("Target.closeTarget", {"targetId": page.target})
    assert vm.api("DELETE", "/v1/images/hello-ui")[0] == 200


# ---- Prometheus ----------------------------------------------------------------------------

PROM_CONFIG = """global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: paravane
    metrics_path: /metrics
    authorization:
      credentials_file: %s
    static_configs:
      - targets: ["127.0.0.1:%d"]
"""


class Prometheus:
    """Debian's prometheus on a loopback port with its own storage, ended by
    its PID (and by `timeout` should the test run die first)."""

    def __init__(self, tmp, target_port, token, lifetime=120):
        (tmp / "token").write_text(token + "\n")
        (tmp / "prometheus.yml").write_text(PROM_CONFIG % (tmp / "token", target_port))
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = open(tmp / "prometheus.log", "w+")
        self.proc = subprocess.Popen(
            ["timeout", str(lifetime), "prometheus", "--config.file=%s" % (tmp / "prometheus.yml"),
             "--storage.tsdb.path=%s" % (tmp / "data"), "--web.listen-address=127.0.0.1:%d" % self.port,
             "--log.level=warn"], stdout=self.log, stderr=subprocess.STDOUT)

    def get(self, path, **query):
        url = self.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        with urllib.request.urlopen(url, timeout=10) as r:
            doc = json.load(r)
        assert doc["status"] == "success", doc
        return doc["data"]

    def query(self, expr):
        """An instant query's result list."""
        return self.get("/api/v1/query", query=expr)["result"]

    def value(self, expr):
        res = self.query(expr)
        assert len(res) == 1, (expr, res)
        return float(res[0]["value"][1])

    def target(self, timeout=30):
        """The one scrape target once it has been scraped up."""
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            assert self.proc.poll() is None, "prometheus ended:\n" + self.output()
            try:
                targets = self.get("/api/v1/targets")["activeTargets"]
            except OSError:
                targets = []
            if targets:
                last = targets[0]
                if last["health"] == "up":
                    return last
            time.sleep(0.5)
        raise AssertionError("the target never came up: %r\n%s" % (last, self.output()))

    def output(self):
        self.log.seek(0)
        return self.log.read()[-3000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def samples(prom, expr):
    """The values of a range selector's one series, oldest first."""
    res = prom.query(expr)
    assert len(res) == 1, (expr, res)
    return [float(v) for _, v in res[0]["values"]]


@pytest.fixture(scope="module")
def prom(vm, tmp_path_factory):
    """Prometheus scraping the control domain every second, once it has
    scraped it a few times."""
    if not shutil.which("prometheus"):
        pytest.skip("prometheus is not installed: run sdk/tools/ensure-deps.sh as root "
                    "(or apt-get install prometheus)")
    p = Prometheus(tmp_path_factory.mktemp("prometheus"), vm.port, vm.token)
    try:
        p.target()
        time.sleep(6)                                    # a few scrapes' worth
        yield p
    finally:
        p.stop()


def test_prometheus_scrapes_cleanly(vm, prom):
    t = prom.target()
    assert t["scrapeUrl"] == "http://127.0.0.1:%d/metrics" % vm.port, t
    assert t["health"] == "up" and t["lastError"] == "", t
    # every scrape so far got an answer (up is 0 for a failed one), in time
    n = prom.value('count_over_time(up{job="paravane"}[1m])')
    assert n >= 5 and prom.value('sum_over_time(up{job="paravane"}[1m])') == n
    assert prom.value('max_over_time(scrape_duration_seconds[1m])') < 1.0
    _, _, text = vm.request("GET", "/metrics")
    lines = [l for l in text.decode().splitlines() if l and not l.startswith("#")]
    assert prom.value("scrape_samples_scraped") == len(lines)     # every series taken


def test_prometheus_series_match_the_api(vm, prom):
    h = api(vm, "/v1/host")
    doms = {d["name"]: d for d in api(vm, "/v1/domains")["domains"]}
    assert prom.value("paravane_host_cpus") == h["cpus_started"] == 1
    assert prom.value("paravane_host_cpus_found") == h["cpus_found"]
    assert prom.value("paravane_host_memory_total_bytes") == h["memory_total"]
    assert prom.value("paravane_host_domains_max") == h["domains_max"]
    assert prom.value("paravane_host_domains") == h["domains_live"] == len(doms)
    for name in ("control", "tick"):
        info = prom.query('paravane_domain_info{name="%s"}' % name)
        assert len(info) == 1 and info[0]["value"][1] == "1", info
        labels = info[0]["metric"]
        assert labels["id"] == str(doms[name]["id"]), labels
        assert labels["image_sha256"] == doms[name]["image_sha256"], labels
        assert labels["state"] in ("running", "blocked"), labels
        assert prom.value('paravane_domain_memory_bytes{name="%s"}' % name) == doms[name]["memory"]
    assert doms["control"]["id"] == h["control_id"]


def test_prometheus_counters_only_grow(vm, prom):
    for metric in ("paravane_domain_cpu_seconds_total", "paravane_domain_hypercalls_total",
                   "paravane_domain_context_switches_total", "paravane_host_uptime_seconds"):
        sel = '%s{name="control"}' % metric if "domain" in metric else metric
        v = samples(prom, sel + "[30s]")
        assert len(v) >= 5 and v == sorted(v), (metric, v)
    cpu = samples(prom, 'paravane_domain_cpu_seconds_total{name="control"}[30s]')
    assert 0 < cpu[-1] <= api(vm, "/v1/domains/control")["cpu_seconds"]
    assert 0 <= prom.value('rate(paravane_domain_cpu_seconds_total{name="control"}[10s])') <= 1.05
    # the ticker prints about three lines a second
    ticks = samples(prom, 'paravane_domain_console_bytes_total{name="tick"}[10s]')
    assert ticks == sorted(ticks) and ticks[-1] > ticks[0], ticks
    assert ticks[-1] <= domain(vm, "tick")["console_bytes"]
    # uptime keeps time with the scrapes' own clock
    assert 0.8 < prom.value("deriv(paravane_host_uptime_seconds[10s])") < 1.25


def test_prometheus_per_cpu_counters(vm, prom):
    cpus = prom.query("paravane_cpu_idle_seconds_total")
    assert [c["metric"]["cpu"] for c in cpus] == ["0"], cpus
    idle = samples(prom, 'paravane_cpu_idle_seconds_total{cpu="0"}[30s]')
    assert len(idle) >= 5 and idle == sorted(idle) and idle[-1] > 0, idle
    # one CPU: idle and the domains' CPU time share the wall clock
    busy = prom.value('sum(rate(paravane_domain_cpu_seconds_total[10s]))')
    assert 0.5 < prom.value('rate(paravane_cpu_idle_seconds_total{cpu="0"}[10s])') + busy < 1.1
    for metric in ("paravane_cpu_context_switches_total", "paravane_cpu_timer_interrupts_total"):
        v = samples(prom, '%s{cpu="0"}[30s]' % metric)
        assert v == sorted(v) and v[-1] > v[0], (metric, v)


def test_prometheus_switch_port_counters(vm, prom):
    """Prometheus's own scrapes cross the switch: in from the uplink, out to
    the control domain's port, and its answers back; nothing dropped."""
    for port, direction in (("uplink", "rx"), ("control.net0", "tx"), ("control.net0", "rx"),
                            ("uplink", "tx")):
        for unit in ("frames", "bytes"):
            v = samples(prom, 'paravane_net_%s_%s_total{port="%s"}[30s]' % (direction, unit, port))
            assert len(v) >= 5 and v == sorted(v) and v[-1] > v[0], (port, direction, unit, v)
    drops = prom.query("paravane_net_dropped_frames_total")
    assert {d["metric"]["port"] for d in drops} == {"uplink", "control.net0"}, drops
    assert {d["metric"]["reason"] for d in drops} == {"spoof", "ip_spoof", "tx", "invalid", "storm"}
    assert all(d["value"][1] == "0" for d in drops), drops
