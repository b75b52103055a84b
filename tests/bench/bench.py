#!/usr/bin/python3
"""make bench: boot benchmark manifests in QEMU and print a table.

Every figure is measured in this run.  Guest figures are TSC cycles read by
the guest itself (tests/guests/bench); each run happens twice: plain TCG
(wall-clock-driven, noisy) and under `-icount shift=N,sleep=off`, where the
TSC counts instructions and the figures repeat exactly.  Ratios compare
against a baseline measured in the same run (a plain function call for the
hypercall, a yield with nobody to switch to for the context switch).
"""
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sdk" / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import pvrun  # noqa: E402
import qemu  # noqa: E402

BUILD = Path(os.environ.get("PARAVANE_BUILD", ROOT / "build" / "test"))
ICOUNT_SHIFT = int(os.environ.get("BENCH_ICOUNT_SHIFT", "4"))
N = 20000

SOLO = """
[hypervisor]
poweroff_when_idle = yes
[guest solo]
image = bench.elf
memory = 256K
cmdline = "bench solo %d"
""" % N

PAIR = """
[hypervisor]
poweroff_when_idle = yes
[guest ping]
image = bench.elf
memory = 1M
cmdline = "bench yield %d"
[guest pong]
image = bench.elf
memory = 1M
cmdline = "bench yield %d"
[guest hello]
image = hello.elf
memory = {hello_mem}
""" % (N, N)


def values(log, prefix):
    """All key=value pairs on guest lines '<name>| bench: ...'."""
    out = {}
    for m in re.finditer(r"^(\S+)\| bench: (.*)$", log, re.M):
        if m.group(1).startswith(prefix):
            for kv in m.group(2).split():
                k, v = kv.split("=")
                out[k] = int(v)
    return out


def boot(manifest, icount):
    with tempfile.TemporaryDirectory() as tmp:
        img = pvrun.make_image(tmp, BUILD, manifest,
                               [pvrun.guest_image(BUILD, "bench"), pvrun.guest_image(BUILD, "hello")])
        r = qemu.run(str(img), timeout=600 if icount is not None else 120, icount=icount)
    if r.hv_status != 0:
        sys.exit("bench: run failed (%s)\n%s" % (r, r.log[-3000:]))
    return r.log


def hello_min_memory():
    """Smallest manifest memory (in KiB steps of 4) hello's image fits in,
    from the hypervisor's own refusal message for a 64 KiB attempt."""
    img = BUILD / "apps" / "hello" / "hello.elf"
    # image extent + 16 KiB heap + stack + guard + 2 info pages; the
    # hypervisor states the exact need when memory is too small
    with tempfile.TemporaryDirectory() as tmp:
        m = "[hypervisor]\npoweroff_when_idle = yes\n[guest h]\nimage = hello.elf\nmemory = 64K\n"
        i = pvrun.make_image(tmp, BUILD, m, [(img, "/paravane/hello.elf")])
        log = qemu.run(str(i), timeout=120).log
    need = re.search(r"need (\d+) KiB", log)
    return int(need.group(1)) if need else 1024


def measure(icount, hello_kib):
    solo_log = boot(SOLO, icount)
    pair_log = boot(PAIR.format(hello_mem="%dK" % hello_kib), icount)
    s, p = values(solo_log, "solo"), values(pair_log, "p")
    hello = [e for e in pvrun.events(pair_log, "domain-created") if e["name"] == "hello"][0]
    boot_ev = pvrun.events(solo_log, "boot")[0]
    tsc_mhz = float(re.search(r"TSC (\d+\.\d+) MHz", solo_log).group(1))
    return {
        "tsc_mhz": tsc_mhz,
        "loader_to_banner_ms": int(boot_ev["loader_to_banner_us"]) / 1000,
        "ebs_to_ready_ms": int(boot_ev["ebs_to_ready_us"]) / 1000,
        "hypercall": s["hypercall_cycles"], "call": s["call_cycles"],
        "create_to_main": s["create_to_main_cycles"], "create_to_main_ns": s["create_to_main_ns"],
        "yield_alone": s["yield_alone_cycles"], "yield_pair": p["yield_pair_cycles"],
        "hello_kib": int(hello["memory_kib"]) + int(hello["overhead_kib"]),
        "hello_overhead_kib": int(hello["overhead_kib"]),
        "hello_private_kib": int(hello["private_kib"]) + int(hello["overhead_kib"]),
        "build_us": int(hello["build_us"]),
    }


def to_instructions(m):
    """Under -icount shift=N each guest instruction advances virtual time by
    2^N ns, so cycles / (TSC MHz * 2^N / 1000) = instructions: exact."""
    per = m["tsc_mhz"] * (1 << ICOUNT_SHIFT) / 1000
    for k in ("hypercall", "call", "create_to_main", "yield_alone", "yield_pair"):
        m[k] = round(m[k] / per)
    return m


def row(name, tcg, ic, unit, goal=""):
    print("| %-34s | %14s | %14s | %-8s | %s" % (name, tcg, ic, unit, goal))


HTTPD = """
[hypervisor]
log_level = warn
[guest web]
image = httpd.elf
memory = 8M
cmdline = "httpd 80"
net = mac=02:00:00:00:00:10, ip=10.0.2.15/24, gw=10.0.2.2
"""

PAIR_NET = """
[hypervisor]
poweroff_when_idle = yes
[guest server]
image = tcpxfer.elf
memory = 8M
cmdline = "tcpxfer server 5001"
net = mac=02:00:00:00:01:01, ip=10.0.0.1/24
[guest client]
image = tcpxfer.elf
memory = 8M
cmdline = "tcpxfer client 10.0.0.1 5001 8"
net = mac=02:00:00:00:01:02, ip=10.0.0.2/24
[guest echo]
image = nettool.elf
memory = 2M
cmdline = "nettool echo 6"
net = mac=02:00:00:00:01:03, ip=10.0.0.3/24
[guest pinger]
image = nettool.elf
memory = 2M
cmdline = "nettool ping 02:00:00:00:01:03 200"
net = mac=02:00:00:00:01:04, ip=10.0.0.4/24
"""


def wrk(port, close):
    """wrk (Debian) for 5 s, 2 threads, 16 connections; keep-alive unless close."""
    cmd = ["wrk", "-t2", "-c16", "-d5s", "--latency", "http://127.0.0.1:%d/" % port]
    if close:
        cmd[1:1] = ["-H", "Connection: close"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    pct = {p: re.search(r"^\s+%s%%\s+(\S+)" % p, out, re.M).group(1) for p in ("50", "90", "99")}
    return rps, pct


def http_rtt(port, n=200):
    """Sequential keep-alive requests from the host: per-request latency."""
    import http.client
    import time
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        c.request("GET", "/api/status")
        c.getresponse().read()
        times.append((time.perf_counter() - t) * 1e6)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99)]


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure_linux_vm():
    """The same page from busybox httpd in a Debian cloud-kernel VM."""
    import linux_vm
    page = re.search(r'index_html\[\] =\n(.*?);', (ROOT / "apps/httpd/main.c").read_text(), re.S).group(1)
    html = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', page)).encode().decode("unicode_escape").encode()
    try:
        kernel, initrd = linux_vm.prepare(ROOT, html)
    except Exception as e:          # no network for apt: say so, measure the rest
        return "unavailable (%s)" % str(e).splitlines()[0][:60]
    port = free_port()
    vm = qemu.Background(None, cmd=linux_vm.command(kernel, initrd, "tcp:127.0.0.1:%d-10.0.2.15:80" % port))
    try:
        if not vm.wait_for(r"linuxvm: serving", 120):
            return "did not boot"
        import time
        time.sleep(1)
        return wrk(port, close=True)
    finally:
        vm.stop()


def measure_net():
    port = free_port()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        img = pvrun.make_image(tmp, BUILD, HTTPD, [pvrun.guest_image(BUILD, "httpd")])
        vm = qemu.Background(str(img), net=["tcp:127.0.0.1:%d-10.0.2.15:80" % port])
        try:
            if not vm.wait_for(r"web\| httpd: serving on", 90):
                sys.exit("bench: httpd did not start\n" + vm.log[-2000:])
            out["rtt"] = http_rtt(port)
            out["ka"] = wrk(port, close=False)
            out["close"] = wrk(port, close=True)
        finally:
            vm.stop()
    with tempfile.TemporaryDirectory() as tmp:
        img = pvrun.make_image(tmp, BUILD, PAIR_NET, [pvrun.guest_image(BUILD, "tcpxfer"),
                                                       pvrun.guest_image(BUILD, "nettool")])
        log = qemu.run(str(img), timeout=300).log
    m = re.search(r"kib_per_s=(\d+) memcpy_kib_per_s=(\d+)", log)
    out["xfer"] = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    m = re.search(r"avg_rtt_us=(\d+)", log)
    out["g2g_rtt"] = int(m.group(1)) if m else 0
    out["linux"] = measure_linux_vm()
    return out


def print_net(n):
    print("Networking (QEMU TCG, wall clock; wrk from Debian on 127.0.0.1 through a host forward)")
    row("figure", "value", "", "unit", "notes")
    row("-" * 34, "-" * 14, "", "-" * 8, "")
    for key, label in (("ka", "HTTP keep-alive"), ("close", "HTTP new connection each")):
        rps, pct = n[key]
        row(label + " requests/s", "%.0f" % rps, "", "req/s", "wrk -t2 -c16 -d5s")
        row("  latency p50 / p90 / p99", "%s/%s/%s" % (pct["50"], pct["90"], pct["99"]), "", "", "")
    row("host <-> guest request RTT p50", "%.0f" % n["rtt"][0], "", "us", "p99 %.0f us, keep-alive" % n["rtt"][1])
    xfer, mc = n["xfer"]
    row("guest -> guest TCP throughput", xfer, "", "KiB/s", "8 MiB, checksummed both ends")
    row("  ratio to memcpy in the guest", "%.1fx" % (mc / max(1, xfer)), "", "",
        "memcpy = %d KiB/s (goal: within 2x)" % mc)
    row("guest <-> guest raw frame RTT", n["g2g_rtt"], "", "us", "nettool ping, 200 frames")
    lin = n["linux"]
    if isinstance(lin, str):
        row("Linux VM baseline", lin, "", "", "")
    else:
        row("Linux VM (busybox httpd) req/s", "%.0f" % lin[0], "", "req/s",
            "new connection each; Paravane/Linux = %.2fx" % (n["close"][0] / max(1.0, lin[0])))
        row("  latency p50 / p90 / p99", "%s/%s/%s" % (lin[1]["50"], lin[1]["90"], lin[1]["99"]), "", "", "")
    print()


def main():
    hello_kib = hello_min_memory()
    tcg = measure(None, hello_kib)
    ic = to_instructions(measure(ICOUNT_SHIFT, hello_kib))
    print()
    print("Paravane benchmarks, measured now.  TCG column: guest TSC cycles (noisy);")
    print("icount column: -icount shift=%d,sleep=off, cycle figures converted to guest" % ICOUNT_SHIFT)
    print("instructions (deterministic); times there are virtual time.")
    row("figure", "TCG", "icount", "unit", "goal / baseline")
    row("-" * 34, "-" * 14, "-" * 14, "-" * 8, "")
    row("loader start -> hypervisor banner", "%.1f" % tcg["loader_to_banner_ms"],
        "%.1f" % ic["loader_to_banner_ms"], "ms", "TSC, loader+hv stamps")
    row("ExitBootServices -> ready", "%.1f" % tcg["ebs_to_ready_ms"], "%.1f" % ic["ebs_to_ready_ms"], "ms")
    row("null hypercall round trip", tcg["hypercall"], ic["hypercall"], "cyc/ins", "goal < 200 cycles")
    row("  ratio to a plain function call", "%.1fx" % (tcg["hypercall"] / max(1, tcg["call"])),
        "%.1fx" % (ic["hypercall"] / max(1, ic["call"])), "", "call = %d cyc / %d ins" % (tcg["call"], ic["call"]))
    row("domain create -> main", tcg["create_to_main"], ic["create_to_main"], "cyc/ins")
    row("domain create -> main", "%.1f" % (tcg["create_to_main_ns"] / 1000),
        "%.1f" % (ic["create_to_main_ns"] / 1000), "us", "goal < 100 us")
    row("context switch (yield, 2 domains)", tcg["yield_pair"], ic["yield_pair"], "cyc/ins")
    row("  ratio to a yield with no switch", "%.1fx" % (tcg["yield_pair"] / max(1, tcg["yield_alone"])),
        "%.1fx" % (ic["yield_pair"] / max(1, ic["yield_alone"])), "",
        "alone = %d cyc / %d ins" % (tcg["yield_alone"], ic["yield_alone"]))
    row("memory per hello domain (total)", tcg["hello_kib"], ic["hello_kib"], "KiB", "goal < 256 KiB")
    row("  of which hypervisor overhead", tcg["hello_overhead_kib"], ic["hello_overhead_kib"], "KiB",
        "page tables, struct, frame list")
    row("  backed at creation (+ overhead)", tcg["hello_private_kib"], ic["hello_private_kib"], "KiB",
        "text shared, heap/stack on first touch")
    row("hello domains per GiB", 1024 * 1024 // tcg["hello_kib"], 1024 * 1024 // ic["hello_kib"], "",
        "by manifest memory (reserved)")
    print()
    print_net(measure_net())


if __name__ == "__main__":
    # SIGTERM/SIGHUP/SIGINT unwind main(): every QEMU it started (the Linux
    # baseline too) is stopped by the finally blocks on the way out.
    with qemu.stop_signals():
        try:
            main()
        except qemu.Stopped as s:
            print("bench: stopped by %s" % s, file=sys.stderr)
            sys.exit(s.exit_code)
