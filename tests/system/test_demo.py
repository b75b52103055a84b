"""`make run`'s machine: configs/demo.conf as shipped, forwarded as make
forwards it.  The control domain prints a generated token once; with it
the API answers, without it nothing does; the web guest serves."""
import re
import subprocess
import tempfile
import urllib.error
import urllib.request

import pvrun
import qemu
from conftest import ROOT, BUILD, guest
from control import free_port


def get(url, token=None):
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def demo_disk(tmp):
    """The data disk as the Makefile's $(DEMO_DISK) rule makes it."""
    disk = "%s/demo-disk.img" % tmp
    subprocess.run([pvrun.PY, str(ROOT / "sdk/tools/mkdisk.py"), disk, "--size", "16M",
                    "--gpt", "www:12M", "--fs", "gpt:www=%s" % (ROOT / "apps/httpd/www")],
                   check=True, capture_output=True, cwd=ROOT)
    return disk


def test_demo_manifest_as_make_run_boots_it():
    api, web = free_port(), free_port()
    manifest = (ROOT / "configs" / "demo.conf").read_text()
    with tempfile.TemporaryDirectory() as tmp:
        img = pvrun.make_image(tmp, BUILD, manifest, [guest("control"), guest("hello"), guest("httpd")])
        vm = qemu.Background(str(img), smp=2, net=["tcp:127.0.0.1:%d-10.0.2.15:80" % api,
                                                   "tcp:127.0.0.1:%d-10.0.2.16:80" % web],
                             drives=[(demo_disk(tmp), "virtio")])
        try:
            assert vm.wait_for(r"control\| control: dashboard .*pvctl list", 120), vm.log[-3000:]
            assert vm.wait_for(r"web\| httpd: serving", 60), vm.log[-3000:]
            tokens = re.findall(r"control: API token: (\S+) ", vm.log)
            assert len(tokens) == 1 and len(tokens[0]) >= 16
            assert "PARAVANE_TOKEN=%s" % tokens[0] in vm.log
            status, body = get("http://127.0.0.1:%d/v1/domains" % api, tokens[0])
            assert status == 200 and b'"name":"control"' in body and b'"name":"web"' in body
            assert get("http://127.0.0.1:%d/v1/domains" % api)[0] == 401
            status, body = get("http://127.0.0.1:%d/" % api)
            assert status == 200 and b"<html" in body
            assert b"Hello from a Paravane unikernel" in get("http://127.0.0.1:%d/" % web)[1]
            page = (ROOT / "apps/httpd/www/index.html").read_bytes()
            assert get("http://127.0.0.1:%d/files/index.html" % web) == (200, page)
            assert "hello| Hello from Paravane!" in vm.log
        finally:
            vm.stop()
