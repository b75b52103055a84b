"""A minimal Chrome DevTools Protocol client, Python standard library only.

Starts Debian's chromium headless in its own process group, talks CDP to it
over a small RFC 6455 WebSocket client, and offers the few page operations
a browser test needs: navigate, evaluate, wait for a condition, click and
type like a user, set a file input, take a screenshot.  Every wait is
bounded; stop() ends the browser's whole process group (by its id) and
removes its profile.

    with cdp.Browser.launch() as browser:
        page = browser.new_page()
        page.navigate("http://127.0.0.1:8080/")
        page.type("#token", "...")
        page.click("#login-submit")
        page.wait_for("document.querySelector('#app').hidden === false")
        page.screenshot("out.png")

Used by tests/tools/test_dashboard.py (against the fake API) and by the
system tests (against the control domain in QEMU).
"""
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.parse

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
EVENTS_KEPT = 5000                 # unconsumed CDP events kept, the newest


class CdpError(Exception):
    pass


def find_chromium():
    """The browser to run: $CHROMIUM, else the first of CHROMIUM_NAMES on PATH."""
    env = os.environ.get("CHROMIUM")
    if env:
        return env if shutil.which(env) else None
    return next((shutil.which(n) for n in CHROMIUM_NAMES if shutil.which(n)), None)


# ---- RFC 6455: the client side ----------------------------------------------------------

class WebSocket:
    """Text messages over one WebSocket: client frames masked, server frames
    unmasked; continuation frames joined; pings answered; close echoed."""

    def __init__(self, url, timeout=10.0):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "ws":
            raise CdpError("only ws:// URLs: %s" % url)
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=timeout)
        self.buf = b""
        self.closed = False
        self._handshake(u.netloc, (u.path or "/") + ("?" + u.query if u.query else ""), timeout)

    def _handshake(self, host, path, timeout):
        key = base64.b64encode(os.urandom(16))
        req = ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (path, host, key.decode()))
        self.sock.sendall(req.encode())
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            self._fill(deadline)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            raise CdpError("WebSocket handshake refused: %s" % lines[0])
        headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
        want = base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != want:
            raise CdpError("WebSocket handshake: bad Sec-WebSocket-Accept")

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("WebSocket read timed out")
        self.sock.settimeout(left)
        data = self.sock.recv(1 << 16)
        if not data:
            raise CdpError("WebSocket closed by the browser")
        self.buf += data

    def _take(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send_frame(self, opcode, payload):
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + body)

    def send(self, text):
        self._send_frame(0x1, text.encode("utf-8"))

    def _frame(self, deadline):
        b0, b1 = self._take(2, deadline)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._take(2, deadline))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._take(8, deadline))[0]
        mask = self._take(4, deadline) if b1 & 0x80 else None
        payload = self._take(n, deadline)
        if mask:
            payload = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def recv(self, timeout):
        """The next text message; TimeoutError after timeout seconds."""
        deadline = time.monotonic() + timeout
        parts = []
        while True:
            fin, opcode, payload = self._frame(deadline)
            if opcode == 0x9:
                self._send_frame(0xA, payload)          # ping: pong
            elif opcode == 0x8:
                self._close_reply(payload)
                raise CdpError("WebSocket closed by the browser")
            elif opcode in (0x0, 0x1, 0x2):
                parts.append(payload)
                if fin:
                    return b"".join(parts).decode("utf-8")

    def _close_reply(self, payload):
        if not self.closed:
            self.closed = True
            try:
                self._send_frame(0x8, payload[:2])
            except OSError:
                pass

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self._send_frame(0x8, struct.pack(">H", 1000))
            except OSError:
                pass
        self.sock.close()


# ---- the protocol --------------------------------------------------------------------

class Connection:
    """CDP over one WebSocket: commands by id, events kept until asked for."""

    def __init__(self, ws_url, timeout=10.0):
        self.ws = WebSocket(ws_url, timeout)
        self.next_id = 0
        self.events = []           # (sessionId, method, params) not yet consumed

    def call(self, method, params=None, session=None, timeout=30.0):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            m = self._read(deadline, method)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise CdpError("%s: %s" % (method, m["error"].get("message")))
                return m.get("result", {})

    def _read(self, deadline, what):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no answer to %s in time" % what)
        m = json.loads(self.ws.recv(left))
        if "method" in m:
            self.events.append((m.get("sessionId"), m["method"], m.get("params", {})))
            del self.events[:-EVENTS_KEPT]
        return m

    def wait_event(self, method, session=None, timeout=30.0, pred=lambda p: True):
        """The first event of that name (and session) matching pred, consumed."""
        deadline = time.monotonic() + timeout
        while True:
            for i, (s, name, params) in enumerate(self.events):
                if name == method and s == session and pred(params):
                    del self.events[i]
                    return params
            self._read(deadline, method)

    def pump(self, seconds):
        """Read events for a while (so exceptions and console lines arrive)."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self._read(deadline, "events")
        except TimeoutError:
            pass

    def close(self):
        self.ws.close()


class Browser:
    """A headless chromium this process started, and the CDP connection to it."""

    def __init__(self, proc, profile, conn):
        self.proc, self.profile, self.conn = proc, profile, conn

    @classmethod
    def launch(cls, binary=None, width=1280, height=1000, timeout=30.0):
        binary = binary or find_chromium()
        if not binary:
            raise CdpError("chromium not found (install Debian's chromium package)")
        profile = tempfile.mkdtemp(prefix="paravane-chromium-")
        log = open(os.path.join(profile, "stderr.log"), "wb")
        args = [binary, "--headless=new", "--remote-debugging-port=0",
                "--user-data-dir=" + profile, "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-sync", "--disable-dev-shm-usage",
                "--disable-component-update", "--mute-audio", "--password-store=basic",
                "--window-size=%d,%d" % (width, height), "about:blank"]
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
        log.close()
        try:
            conn = Connection(cls._ws_url(proc, profile, timeout), timeout)
        except BaseException:
            cls._kill(proc)
            shutil.rmtree(profile, ignore_errors=True)
            raise
        return cls(proc, profile, conn)

    @staticmethod
    def _ws_url(proc, profile, timeout):
        """DevToolsActivePort holds the port and the browser's WebSocket path."""
        path = os.path.join(profile, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise CdpError("chromium exited with %s: %s" % (
                    proc.returncode, _tail(os.path.join(profile, "stderr.log"))))
            try:
                with open(path) as f:
                    lines = f.read().split("\n")
                if len(lines) >= 2 and lines[0].isdigit() and lines[1].startswith("/"):
                    return "ws://127.0.0.1:%s%s" % (lines[0], lines[1])
            except FileNotFoundError:
                pass
            time.sleep(0.1)
        raise CdpError("chromium wrote no DevToolsActivePort in %ds" % timeout)

    def new_page(self):
        """A fresh tab, attached with its own session."""
        target = self.conn.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.conn.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        return Page(self.conn, session, target)

    @staticmethod
    def _kill(proc):
        """SIGTERM to the browser's own process group, SIGKILL if it lingers."""
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def stop(self):
        try:
            self.conn.close()
        except OSError:
            pass
        self._kill(self.proc)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)      # helpers left in the group
        except ProcessLookupError:
            pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _tail(path, n=2000):
    try:
        with open(path, "rb") as f:
            return f.read()[-n:].decode("utf-8", "replace")
    except OSError:
        return ""


class Page:
    """One tab: the operations a test performs as a user would."""

    def __init__(self, conn, session, target):
        self.conn, self.session, self.target = conn, session, target
        for domain in ("Page", "Runtime"):          # DOM stays off: no mutation events
            self.call(domain + ".enable")

    def call(self, method, params=None, timeout=30.0):
        return self.conn.call(method, params, self.session, timeout)

    def navigate(self, url, timeout=30.0):
        self.conn.events = [e for e in self.conn.events if e[1] != "Page.loadEventFired"]
        r = self.call("Page.navigate", {"url": url}, timeout)
        if r.get("errorText"):
            raise CdpError("navigate %s: %s" % (url, r["errorText"]))
        self.conn.wait_event("Page.loadEventFired", self.session, timeout)

    def evaluate(self, expr, timeout=30.0):
        """The value of a JavaScript expression (promises awaited)."""
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True}, timeout)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise CdpError("JavaScript error in %r: %s" % (
                expr[:200], d.get("exception", {}).get("description") or d.get("text")))
        return r["result"].get("value")

    def wait_for(self, expr, timeout=15.0, what=None, interval=0.1):
        """Polls expr until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expr)
            if value:
                return value
            time.sleep(interval)
        raise TimeoutError("waited %ss for %s; last value %r" % (timeout, what or expr, value))

    def exceptions(self):
        """Uncaught JavaScript exceptions so far (Runtime.exceptionThrown)."""
        self.conn.pump(0.05)
        return [p["exceptionDetails"] for s, m, p in self.conn.events
                if s == self.session and m == "Runtime.exceptionThrown"]

    def console_messages(self):
        self.conn.pump(0.05)
        return ["%s: %s" % (p.get("type"), " ".join(str(a.get("value", a.get("description")))
                                                   for a in p.get("args", [])))
                for s, m, p in self.conn.events if s == self.session and m == "Runtime.consoleAPICalled"]

    def _center(self, selector):
        """Scrolls the element into view; its centre, after checking that a
        click there lands on it (not hidden, not covered, not disabled)."""
        js = """(() => {
          const e = document.querySelector(%s);
          if (!e) return "no element";
          e.scrollIntoView({block: "center"});
          const r = e.getBoundingClientRect();
          if (r.width === 0 || r.height === 0) return "not visible";
          const x = r.left + r.width / 2, y = r.top + r.height / 2;
          const hit = document.elementFromPoint(x, y);
          if (!hit || (hit !== e && !e.contains(hit))) return "covered";
          if (e.disabled) return "disabled";
          return [x, y];
        })()""" % json.dumps(selector)
        r = self.evaluate(js)
        if not isinstance(r, list):
            raise CdpError("cannot click %s: %s" % (selector, r))
        return r

    def click(self, selector):
        """A real left click (mouse pressed and released) at the element."""
        x, y = self._center(selector)
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y,
                                                   "button": "left", "clickCount": 1})

    def type(self, selector, text):
        """Focuses a text input, clears it, types text (input events fire)."""
        ok = self.evaluate("(() => { const e = document.querySelector(%s); if (!e) return false;"
                           " e.focus(); e.value = ''; return document.activeElement === e; })()"
                           % json.dumps(selector))
        if not ok:
            raise CdpError("cannot focus %s" % selector)
        if text:
            self.call("Input.insertText", {"text": text})

    def press_enter(self):
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", {"type": kind, "key": "Enter", "code": "Enter",
                                                 "windowsVirtualKeyCode": 13, "text": "\r"
                                                 if kind == "keyDown" else ""})

    def set_files(self, selector, paths):
        """Chooses files in an <input type=file> (change events fire)."""
        root = self.call("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = self.call("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        if not node:
            raise CdpError("no element %s" % selector)
        self.call("DOM.setFileInputFiles", {"nodeId": node,
                                            "files": [os.path.abspath(p) for p in paths]})

    def text(self, selector):
        return self.evaluate("(() => { const e = document.querySelector(%s);"
                             " return e ? e.innerText : null; })()" % json.dumps(selector))

    def screenshot(self, path):
        """The whole page as a PNG file."""
        data = self.call("Page.captureScreenshot", {"format": "png",
                                                    "captureBeyondViewport": True}, 60.0)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path
