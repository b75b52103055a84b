"""The web dashboard (apps/control/ui) in a real headless chromium, against
the in-memory fake API (fake_api.py), which serves the dashboard's files
as the control domain does.  Driven over the Chrome DevTools Protocol
(sdk/tools/cdp.py) with the steps in dashboard_steps.py, which the system
tests reuse against the control domain in QEMU.

Skips only when no chromium is installed (make test-tools installs
Debian's through sdk/tools/ensure-deps.sh).  The screenshot is kept in
build/test-output/dashboard.png.
"""
import json
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
UI = ROOT / "apps" / "control" / "ui"
OUT = ROOT / "build" / "test-output"
sys.path.insert(0, str(ROOT / "sdk" / "tools"))
sys.path.insert(0, str(HERE))
import cdp  # noqa: E402  (sdk/tools/cdp.py)
from dashboard_steps import Dashboard, tid, walkthrough  # noqa: E402
from fake_api import FakeParavane  # noqa: E402

HELLO = r'Hello from Paravane! I am domain \d+, "web"\.'


@pytest.fixture(scope="module")
def browser():
    if not cdp.find_chromium():
        pytest.skip("chromium is not installed: run sdk/tools/ensure-deps.sh as root "
                    "(make test-tools does) or apt-get install chromium")
    b = cdp.Browser.launch()
    yield b
    b.stop()


@pytest.fixture
def page(browser):
    p = browser.new_page()
    yield p
    browser.conn.call("Target.closeTarget", {"targetId": p.target})


@pytest.fixture
def fake():
    f = FakeParavane(quiet_seconds=2.0, keepalive_seconds=1.0).start()
    yield f
    f.stop()


@pytest.fixture
def elf(tmp_path):
    """An image the fake's loader takes (ELF64 LE header, the ABI note's name)."""
    p = tmp_path / "web.elf"
    p.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 57 + b"Paravane" + bytes(range(256)) * 8)
    return p


def signed_in(page, fake):
    ui = Dashboard(page, fake.url, fake.token)
    ui.open()
    ui.login()
    return ui


def add_domain(fake, name="web"):
    if "web" not in fake.images:
        fake.put_image("web", b"\x7fELF\x02\x01\x01" + b"\0" * 57 + b"Paravane")
    return fake.create({"name": name, "image": "web", "memory": 4 << 20})


# ---- the whole round --------------------------------------------------------------------

def fake_only_checks(fake):
    """What only a fake can provoke, checked while the domain runs."""
    def check(ui, row):
        domid = int(row["id"])
        # CPU % from cpu_seconds deltas: 0.75 s of CPU between two refreshes
        # 0.5 s (the least the page takes) to 2 s apart
        fake.add_cpu(domid, 0.75)
        pct = ui.wait("(() => { const r = %s; return r && r.cpu !== '-' && "
                      "parseFloat(r.cpu) > 0 ? r.cpu : null; })()" % ui._row_js("web"),
                      10, "a CPU % above 0")
        assert 35 <= float(pct) <= 150, pct
        # guest bytes are text: no element, escapes and bidi overrides shown
        fake.console_write(domid, b'<b id="guest">bold</b> \x1b[31mred\x07 \xe2\x80\xaeevil\n')
        ui.wait_console(re.escape(r'<b id="guest">bold</b> \x1b[31mred\x07 \u{202e}evil'))
        assert ui.js("document.querySelectorAll('#console-pane *').length") == 0
        assert ui.js("document.getElementById('guest')") is None
        # the API's errors as it words them, the field marked
        text, invalid = ui.create_refused("web", "web", 4)
        assert 'a live domain is named "web" (name_taken)' in text, text
        text, invalid = ui.create_refused("bad name!", "web", 4)
        assert "is not a name" in text and "(bad_field, field name)" in text, text
        assert invalid == ["create-name"], invalid
        text, invalid = ui.create_refused("web2", "web", 4, 'one "two')
        assert "unterminated" in text and invalid == ["create-args"], (text, invalid)
        ui.delete_image("web")
        ui.wait_text(tid("action-error"), r'image web is used by \d+ "web" \(image_in_use\)')
        assert ui.js("!!document.querySelector('[data-testid=\"image-row-web\"]')")
    return check


def test_walkthrough(page, fake, elf):
    OUT.mkdir(parents=True, exist_ok=True)
    shot = OUT / "dashboard.png"
    if shot.exists():
        shot.unlink()
    walkthrough(page, fake.url, fake.token, elf, HELLO, screenshot=shot,
                before_destroy=fake_only_checks(fake))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20000, len(data)
    print("dashboard screenshot: %s" % shot)
    # what the page asked for: only its own files and /v1/, with the token
    for method, path, headers in fake.requests:
        assert path == "/" or path.startswith(("/ui/", "/v1/")), path
        if path.startswith("/v1/") and headers.get("Authorization") != "Bearer " + fake.token:
            assert "wrong-token" in headers.get("Authorization", ""), (path, headers)
    streams = [p for m, p, _ in fake.requests if "follow=1" in p]
    assert streams and all(re.search(r"/v1/domains/\d+/console\?offset=\d+&follow=1$", p)
                           for p in streams), streams


# ---- streams ---------------------------------------------------------------------------

def test_console_and_events_resume_where_they_stopped(page, fake):
    d = add_domain(fake)
    ui = signed_in(page, fake)
    ui.wait_row("web")
    ui.follow_console("web")
    ui.wait_console(HELLO)
    ui.wait_event(r"domain-started id=%d" % d["id"])
    for i in range(3):
        fake.drop_streams()                     # as a proxy or a restarted control domain
        fake.console_write(d["id"], b"line %d after a dropped stream\n" % i)
        fake.emit("test-record n=%d" % i)
        ui.wait_console("line %d after a dropped stream" % i)
        ui.wait_event("test-record n=%d" % i)
    pane = ui.text(tid("console-pane"))
    assert len(re.findall(HELLO, pane)) == 1, pane        # resumed by offset, nothing twice
    records = ui.events()
    assert len(records) == len(set(records)), records     # Last-Event-ID: nothing twice
    assert records[0] == "test-record n=2", records[:3]   # newest first
    # a quiet guest: the server ends the stream after quiet_seconds, the page asks again
    page.conn.pump(2.5)
    fake.console_write(d["id"], b"after a quiet spell\n")
    ui.wait_console("after a quiet spell")
    follows = [p for m, p, _ in fake.requests if "follow=1" in p]
    assert len(follows) >= 5, follows
    assert not page.exceptions(), page.exceptions()


def test_console_says_what_the_ring_lost(page, fake):
    d = add_domain(fake)                                  # the fake's ring holds 4096 bytes
    for i in range(200):                                  # 5.6 KB
        fake.console_write(d["id"], b"line %03d of a long boot log\n" % i)
    ui = signed_in(page, fake)
    ui.follow_console("web")
    ui.wait_console("line 199 of a long boot log")
    pane = ui.text(tid("console-pane"))
    lost = fake.domains[d["id"]]["_console"].start
    assert pane.startswith("\n[%d bytes lost: the console ring overwrote them]\n" % lost), pane[:200]
    assert "line 000" not in pane and pane.count("line 199") == 1


def test_event_log_is_bounded_newest_first(page, fake):
    ui = signed_in(page, fake)
    for i in range(400):
        fake.emit("test-record n=%d" % i)
    ui.wait_event("test-record n=399")
    records = ui.events()
    assert len(records) == 300, len(records)
    assert records[0] == "test-record n=399" and records[-1] == "test-record n=100"


def test_domain_rows_follow_the_server(page, fake):
    ui = signed_in(page, fake)
    d = add_domain(fake, "late")
    row = ui.wait_row("late", timeout=5)                  # polled, no reload
    assert row["id"] == str(d["id"]) and row["state"] == "running"
    assert ui.wait_text(tid("host-domains"), r"^2 live of 64 at most$")
    # a domain exits by itself: its row goes and its console says so
    ui.follow_console("late")
    fake.end_domain(d["id"], code=0)
    ui.wait_row_gone("late", timeout=5)
    ui.wait_event(r"domain-exited id=%d name=late code=0" % d["id"])
    ui.wait_text(tid("console-status"), "has ended")
    # the control domain has no pause or destroy
    actions = ui.row("control")["actions"]
    assert "control domain" in actions and "Destroy" not in actions and "Pause" not in actions


def test_upload_errors_are_the_apis(page, fake, tmp_path):
    ui = signed_in(page, fake)
    junk = tmp_path / "notes.txt"
    junk.write_bytes(b"these are not the bytes you are looking for" * 4)
    page.set_files(tid("upload-file"), [str(junk)])
    assert ui.js("document.getElementById('upload-name').value") == "notes.txt"
    page.click(tid("upload-submit"))
    text = ui.wait_text(tid("upload-error"), r"\S")
    assert text == "not an ELF file (bad_image)", text
    assert fake.images == {}
    # a name the API refuses never leaves the browser: the field says why
    page.type(tid("upload-name"), "bad name")
    assert ui.js("document.getElementById('upload-name').validity.patternMismatch")


# ---- the token -----------------------------------------------------------------------------

def test_token_lives_in_the_tab_and_a_rotated_one_signs_out(page, fake):
    ui = signed_in(page, fake)
    assert ui.js("sessionStorage.getItem('paravane.token')") == fake.token
    assert ui.js("localStorage.length") == 0 and ui.js("document.cookie") == ""
    page.navigate(fake.url + "/")                         # a reload keeps the tab's session
    ui.wait_text(tid("host-version"), r"0\.1\.0")
    fake.token = "rotated-token-0123456789"               # the server no longer takes it
    text = ui.wait_text(tid("login-error"), "no longer accepts the token", 10)
    assert "unauthorized" in text
    assert ui.js("sessionStorage.length") == 0
    assert not ui.js("document.querySelectorAll('#domain-rows tr').length")
    ui.login(fake.token)                                  # and the new one works
    ui.wait_row("control")


def test_enter_in_the_token_field_signs_in(page, fake):
    ui = Dashboard(page, fake.url, fake.token)
    ui.open()
    page.type(tid("token"), fake.token)
    page.press_enter()
    ui.wait_text(tid("host-version"), r"0\.1\.0")


# ---- the files themselves -------------------------------------------------------------------

def test_dashboard_files_are_self_contained(fake):
    """Served without a token, typed by extension, small, and loading nothing
    from elsewhere (the control domain's network may have no way out)."""
    files = sorted(p.name for p in UI.iterdir())
    assert "index.html" in files and "app.js" in files and "style.css" in files
    assert sum((UI / f).stat().st_size for f in files) < 60 * 1024
    types = {"html": "text/html", "js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}
    for f in files:
        with urllib.request.urlopen(fake.url + "/ui/" + f, timeout=10) as r:
            assert r.headers["Content-Type"].split(";")[0] == types[f.rsplit(".", 1)[1]], f
            body = r.read().decode()
        assert body == (UI / f).read_text()
        # no http(s) URL or protocol-relative reference, bar the SVG namespace
        assert not re.findall(r"(?:https?:)?//(?!www\.w3\.org/2000/svg)[\w.-]+\.[a-z]{2,}",
                              re.sub(r"^\s*//.*$", "", body, flags=re.M)), f
        assert "innerHTML" not in body and "insertAdjacentHTML" not in body, f
        assert "document.write" not in body and "eval(" not in body, f
    with urllib.request.urlopen(fake.url + "/", timeout=10) as r:
        index = r.read().decode()
    for ref in re.findall(r'(?:src|href)="([^"]+)"', index):
        assert ref.startswith("/ui/") and ref[4:] in files, ref
    for f in files:
        if f.endswith(".js"):
            for imp in re.findall(r'from "\./([^"]+)"', (UI / f).read_text()):
                assert imp in files, (f, imp)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(fake.url + "/ui/none.js", timeout=10)
    assert e.value.code == 404 and json.loads(e.value.read())["error"]["code"] == "not_found"


def test_argument_splitting_and_safe_text(page, fake):
    """The create form's args field and the text filter, in the browser."""
    Dashboard(page, fake.url, fake.token).open()
    got = page.evaluate("""import('/ui/format.js').then((m) => [
        m.splitArgs(`--greeting "hi there" -n'a b'c  `), m.splitArgs("   "),
        m.splitArgs(`"" x`), m.visible("ok\\ttab\\x1b[2J\\x00\\x85\\u202e\\u2066\\r\\nend"),
        m.imageName("2024.elf"), m.imageName("my app.ELF")])""")
    assert got == [["--greeting", "hi there", "-na bc"], [], ["", "x"],
                   "ok\ttab\\x1b[2J\\x00\\x85\\u{202e}\\u{2066}\nend", "image-2024", "my-app"]
