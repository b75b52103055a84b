"""Build a disk image for a manifest and parse what the hypervisor logs.

Shared by the system tests (tests/system/conftest.py) and the benchmarks
(tests/bench/bench.py); stdlib only.
"""
import re
import subprocess
import textwrap
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
PY = "/usr/bin/python3"


def make_image(workdir, build, manifest, files=(), check=True):
    """Write manifest (dedented) and an image holding it, the build's loader
    and hypervisor, and each (source, ESP path) in files."""
    workdir, build = Path(workdir), Path(build)
    conf = workdir / "manifest.conf"
    conf.write_text(textwrap.dedent(manifest).lstrip())
    img = workdir / "paravane.img"
    cmd = [PY, str(TOOLS / "mkimage.py"), "--quiet", "--out", str(img),
           "--loader", str(build / "boot/BOOTX64.EFI"),
           "--hypervisor", str(build / "hypervisor/paravane.elf"),
           "--manifest", str(conf)]
    if check:
        cmd += ["--check-manifest", str(build / "tools/check-manifest")]
    for src, dest in files:
        cmd += ["--file", "%s:%s" % (src, dest)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("mkimage failed:\n" + r.stdout + r.stderr)
    return img


def events(log, name):
    """Every '@event NAME k=v ...' line of the log as a dict."""
    out = []
    for m in re.finditer(r"^@event %s((?: \S+=\S*)*)\s*$" % re.escape(name), log, re.M):
        out.append(dict(kv.split("=", 1) for kv in m.group(1).split()))
    return out


def guest_image(build, name):
    """(source, ESP path) of a built guest image."""
    return (Path(build) / "apps" / name / ("%s.elf" % name), "/paravane/%s.elf" % name)
