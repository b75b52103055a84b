"""The dashboard (apps/control/ui) driven in headless chromium as a user
would, through sdk/tools/cdp.py.  Each step takes what the user sees
(element text, rows by name) and fails with what it saw instead.

The steps know nothing about what serves the page: tests/tools runs them
against the fake API, tests/system against the control domain in QEMU.
Both give a base URL and the token; `walkthrough()` is the shared scenario.
"""
import json
import re

ROW = '[data-testid="domain-row-%s"]'
IMAGE_ROW = '[data-testid="image-row-%s"]'


def tid(name):
    return '[data-testid="%s"]' % name


class Dashboard:
    def __init__(self, page, base_url, token, patience=1.0):
        """patience multiplies every wait (a control domain under QEMU's TCG
        answers more slowly than the fake)."""
        self.page = page
        self.base = base_url.rstrip("/")
        self.token = token
        self.patience = patience

    def wait(self, expr, timeout, what=None):
        return self.page.wait_for(expr, timeout * self.patience, what)

    # ---- reading the page ----------------------------------------------------------
    def js(self, expr):
        return self.page.evaluate(expr)

    def visible(self, selector):
        return self.js("(() => { const e = document.querySelector(%s);"
                       " return !!e && e.offsetParent !== null; })()" % json.dumps(selector))

    def text(self, selector):
        return self.page.text(selector)

    def row(self, name):
        """A domain row's cells by column, or None."""
        return self.js(self._row_js(name))

    def wait_row(self, name, state=None, timeout=15.0):
        cond = "r && (%s === null || r.state === %s)" % (json.dumps(state), json.dumps(state))
        return self.wait("(() => { const r = (%s); return %s ? r : null; })()"
                                  % (self._row_js(name), cond), timeout,
                                  "domain row %s%s" % (name, " in state " + state if state else ""))

    def _row_js(self, name):
        return ("(() => { const tr = document.querySelector(%s); if (!tr) return null;"
                " const c = [...tr.children].map((td) => td.textContent.trim());"
                " return {id: c[0], name: c[1], state: c[2], cpu: c[3], memory: c[4],"
                " uptime: c[5], actions: c[6]}; })()" % json.dumps(ROW % name))

    def wait_row_gone(self, name, timeout=15.0):
        self.wait("!document.querySelector(%s)" % json.dumps(ROW % name), timeout,
                           "domain row %s to disappear" % name)

    def wait_text(self, selector, pattern, timeout=15.0):
        """Waits until the element's text matches the regex; returns the text."""
        expr = ("(() => { const e = document.querySelector(%s); const t = e ? e.textContent : '';"
                " return new RegExp(%s).test(t) ? t : null; })()"
                % (json.dumps(selector), json.dumps(pattern)))
        try:
            return self.wait(expr, timeout)
        except TimeoutError:
            raise AssertionError("%s never matched /%s/; it says: %r"
                                 % (selector, pattern, self.text(selector)))

    def host(self):
        keys = ("version", "cpus", "uptime", "domains", "images", "memory")
        return {k: self.text(tid("host-" + k)) for k in keys}

    # ---- signing in and out ----------------------------------------------------------
    def open(self):
        self.page.navigate(self.base + "/")
        self.wait("document.readyState === 'complete' && !!document.querySelector(%s)"
                           % json.dumps(tid("token")), 15, "the dashboard page")

    def submit_token(self, token):
        self.page.type(tid("token"), token)
        self.page.click(tid("login-submit"))

    def login(self, token=None):
        self.submit_token(token or self.token)
        self.wait("!document.getElementById('app').hidden", 10, "the signed-in view")
        self.wait_text(tid("host-version"), r"\d+\.\d+")

    def login_refused(self, token):
        """Signs in with a wrong token: the error the page shows."""
        self.submit_token(token)
        text = self.wait_text(tid("login-error"), r"\S", 10)
        assert self.js("document.getElementById('app').hidden"), "signed in with a wrong token"
        return text

    def logout(self):
        self.page.click(tid("logout"))
        self.wait("document.getElementById('app').hidden", 5, "the sign-in form")

    # ---- acting ----------------------------------------------------------------------
    def upload(self, path, image_name):
        """Uploads an ELF file; returns the result line."""
        self.page.set_files(tid("upload-file"), [str(path)])
        self.page.type(tid("upload-name"), image_name)
        self.page.click(tid("upload-submit"))
        self.wait("(() => { const ok = document.getElementById('upload-result');"
                           " const err = document.getElementById('upload-error');"
                           " return /uploaded|already/.test(ok.textContent) || !err.hidden; })()",
                           30, "an upload result")
        err = self.text(tid("upload-error"))
        assert not err, "upload refused: %s" % err
        self.wait("!!document.querySelector(%s)" % json.dumps(IMAGE_ROW % image_name),
                           10, "image row %s" % image_name)
        return self.text(tid("upload-result"))

    def fill_create(self, name, image, memory_mib, args=""):
        self.js("document.getElementById('create-image').value = %s" % json.dumps(image))
        assert self.js("document.getElementById('create-image').value") == image, \
            "image %s is not offered in the create form" % image
        self.page.type(tid("create-name"), name)
        self.page.type(tid("create-memory"), str(memory_mib))
        self.page.type(tid("create-args"), args)

    def create(self, name, image, memory_mib, args=""):
        """Creates a domain; waits for its row.  Returns the row."""
        self.fill_create(name, image, memory_mib, args)
        self.page.click(tid("create-submit"))
        self.wait_text(tid("create-result"), r"Created domain %s \(id \d+\)" % re.escape(name), 15)
        return self.wait_row(name)

    def create_refused(self, name, image, memory_mib, args=""):
        """A create the API refuses: the error text shown, and the field marked."""
        self.fill_create(name, image, memory_mib, args)
        self.page.click(tid("create-submit"))
        text = self.wait_text(tid("create-error"), r"\S", 10)
        invalid = self.js("[...document.querySelectorAll('#create-form [aria-invalid=true]')]"
                          ".map((e) => e.id)")
        return text, invalid

    def action(self, what, name):
        self.page.click(tid("%s-%s" % (what, name)))

    def destroy(self, name):
        """Destroy asks for a second click."""
        self.action("destroy", name)
        self.wait_text(tid("destroy-" + name), "Confirm", 5)
        self.action("destroy", name)

    def delete_image(self, name):
        self.page.click(tid("delete-image-" + name))
        self.wait_text(tid("delete-image-" + name), "Confirm", 5)
        self.page.click(tid("delete-image-" + name))

    def follow_console(self, name):
        self.action("console", name)
        self.wait_text(tid("console-name"), re.escape(name), 5)

    def wait_console(self, pattern, timeout=20.0):
        return self.wait_text(tid("console-pane"), pattern, timeout)

    def wait_event(self, pattern, timeout=15.0):
        return self.wait_text(tid("event-log"), pattern, timeout)

    def events(self):
        return self.js("[...document.querySelectorAll('#event-log .record')]"
                       ".map((e) => e.textContent)")


def walkthrough(page, base_url, token, image_path, console_pattern, name="web", image="web",
                memory_mib=4, args="", destroyed_event=r"domain-(destroyed|stopped)",
                screenshot=None, before_destroy=None, patience=1.0):
    """The dashboard's whole round, as a user: a wrong token is refused; sign
    in; the host summary and the domain table fill in; upload an image and
    create a domain from it; its console line appears and its events show;
    pause and resume it; destroy it and its row goes; delete the image; sign
    out.  `console_pattern` is a regex for the domain's console output (the
    image must keep running until destroyed).  `before_destroy(ui, row)`
    adds checks while the domain runs.  Returns the Dashboard."""
    ui = Dashboard(page, base_url, token, patience)
    ui.open()
    assert ui.visible(tid("token")) and not ui.visible(tid("domain-table"))

    refused = ui.login_refused("x" * 16 + "-wrong-token")
    assert "refused" in refused and "unauthorized" in refused, refused

    ui.login()
    h = ui.host()
    assert re.match(r"\d+\.\d+\.\d+ \(API 1, ABI \d+\)$", h["version"]), h
    assert re.match(r"\d+ started", h["cpus"]), h
    assert re.match(r"\d+ live of \d+ at most$", h["domains"]), h
    assert re.search(r"used of [\d.]+ [KMG]iB, [\d.]+ [KMG]iB free \(\d+% used\)$",
                     h["memory"]), h
    assert re.match(r"\d+[smhd]", h["uptime"]), h
    control = ui.js("[...document.querySelectorAll('#domain-rows tr')].length")
    assert control >= 1, "the domain table is empty (the control domain is a domain too)"

    result = ui.upload(image_path, image)
    assert "uploaded" in result or "already" in result, result

    ui.create(name, image, memory_mib, args)
    row = ui.wait_row(name)
    assert row["state"] in ("running", "blocked"), row
    assert row["memory"] == "%d MiB" % memory_mib, row
    ui.wait_event(r"domain-started id=%s name=%s" % (row["id"], re.escape(name)))
    ui.wait_console(console_pattern)        # a create follows the new domain's console

    # the same console, chosen from the table
    ui.follow_console(name)
    ui.wait_console(console_pattern)

    ui.action("pause", name)
    ui.wait_row(name, "paused")
    ui.wait_event(r"domain-paused id=%s" % row["id"])
    ui.action("resume", name)
    ui.wait("(() => { const r = %s; return r && r.state !== 'paused'; })()"
                  % ui._row_js(name), 10, "the domain resumed")
    ui.wait_event(r"domain-resumed id=%s" % row["id"])

    if before_destroy:
        before_destroy(ui, row)
    if screenshot:
        page.screenshot(str(screenshot))

    ui.destroy(name)
    ui.wait_row_gone(name)
    ui.wait_event(r"%s id=%s" % (destroyed_event, row["id"]))
    ui.wait_text(tid("console-status"), "has ended")

    ui.delete_image(image)
    ui.wait("!document.querySelector(%s)" % json.dumps(IMAGE_ROW % image), 10,
                  "image row %s to disappear" % image)

    ui.logout()
    assert not ui.js("document.querySelectorAll('#domain-rows tr, #event-log li').length"), \
        "the page kept the API's data after signing out"
    assert ui.js("sessionStorage.length") == 0, "the token outlived the sign-out"
    assert not page.exceptions(), page.exceptions()
    return ui

