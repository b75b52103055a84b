#!/usr/bin/python3
"""make bench: boot benchmark manifests in QEMU and print a table.

Every figure is measured in this run.  Guest figures are TSC cycles read by
the guest itself (tests/guests/bench); each run happens twice: plain TCG
(wall-clock-driven, noisy) and under `-icount shift=N,sleep=off`, where the
TSC counts instructions and the figures repeat exactly.  Ratios compare
against a baseline measured in the same run (a plain function call for the
hypercall, a yield with nobody to switch to for the context switch).
The guest and network figures are also measured on -smp 4 (plain TCG;
icount needs one CPU); the SMP figures (scaling, wake-up latency, idle
cost) come from smp_bench.py, the control plane's (creates through the
API, the hypervisor's part of a create, creates/s, density) from
serverless_bench.py, save and restore from save_bench.py, live migration from migrate_bench.py, the block storage figures (next to a Linux VM on the
same virtio-blk disk) from block_bench.py, the file figures (the same
program on ext4 in a guest and in the Linux VM) from file_bench.py.
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
import block_bench  # noqa: E402
import file_bench  # noqa: E402
import qemu  # noqa: E402
import save_bench  # noqa: E402
import migrate_bench  # noqa: E402
import serverless_bench  # noqa: E402
import smp_bench  # noqa: E402

BUILD = Path(os.environ.get("PARAVANE_BUILD", ROOT / "build" / "test"))
ICOUNT_SHIFT = int(os.environ.get("BENCH_ICOUNT_SHIFT", "4"))
N = 20000
MANY_CPUS = 4

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
{pin}
[guest pong]
image = bench.elf
memory = 1M
cmdline = "bench yield %d"
{pin}
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


class RunFailed(Exception):
    """A benchmark boot did not end cleanly."""


def boot(manifest, icount, smp=1):
    with tempfile.TemporaryDirectory() as tmp:
        img = pvrun.make_image(tmp, BUILD, manifest,
                               [pvrun.guest_image(BUILD, "bench"), pvrun.guest_image(BUILD, "hello")])
        r = qemu.run(str(img), timeout=600 if icount is not None else 120, icount=icount, smp=smp)
    if r.hv_status != 0:
        raise RunFailed("bench: run failed on -smp %d (%s)\n%s" % (smp, r, r.log[-3000:]))
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


def pair_manifest(hello_kib, smp):
    """On several CPUs ping and pong share CPU 0, so a yield still switches."""
    return PAIR.format(hello_mem="%dK" % hello_kib, pin="cpus = 0" if smp > 1 else "")


def with_isolation(manifest, isolation):
    """[hypervisor] isolation = ... (None: the build's default, auto)."""
    if isolation is None:
        return manifest
    return manifest.replace("[hypervisor]\n", "[hypervisor]\nisolation = %s\n" % isolation, 1)


def measure(icount, hello_kib, smp=1, isolation=None):
    solo_log = boot(with_isolation(SOLO, isolation), icount, smp)
    pair_log = boot(with_isolation(pair_manifest(hello_kib, smp), isolation), icount, smp)
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


def guarded(fn, *args, **kw):
    """fn(...), or "failed" when its boot failed (printed, not fatal)."""
    try:
        return fn(*args, **kw)
    except RunFailed as e:
        print(e, file=sys.stderr)
        return "failed"


def measure_many_cpus(hello_kib):
    """measure() on MANY_CPUS, or why it failed."""
    return guarded(measure, None, hello_kib, MANY_CPUS)


def guest_row(name, tcg, many, ic, unit, goal=""):
    print("| %-34s | %10s | %10s | %10s | %-8s | %s" % (name, tcg, many, ic, unit, goal))


def iso_row(name, *cols):
    print("| %-34s | %10s | %10s | %10s | %10s | %s" % ((name,) + cols))


def net_row(name, one, many, unit, notes=""):
    print("| %-34s | %14s | %14s | %-8s | %s" % (name, one, many, unit, notes))


def smp_row(name, value, unit, notes=""):
    print("| %-34s | %14s | %-8s | %s" % (name, value, unit, notes))


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


def measure_http(smp):
    """httpd with a host forward: request RTT, wrk keep-alive and close."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        img = pvrun.make_image(tmp, BUILD, HTTPD, [pvrun.guest_image(BUILD, "httpd")])
        vm = qemu.Background(str(img), smp=smp, net=["tcp:127.0.0.1:%d-10.0.2.15:80" % port])
        try:
            if not vm.wait_for(r"web\| httpd: serving on", 90):
                print("bench: httpd did not start on -smp %d\n%s" % (smp, vm.log[-2000:]), file=sys.stderr)
                return "httpd did not start"
            return {"rtt": http_rtt(port), "ka": wrk(port, close=False), "close": wrk(port, close=True)}
        finally:
            vm.stop()


def g2g_ping(log, count=200):
    """avg_rtt_us of PAIR_NET's pinger, or why it is not a valid figure
    (an unanswered frame adds its 100 ms timeout to the average)."""
    m = re.search(r"pinger\| nettool: ping sent=\d+ answered=(\d+) .*avg_rtt_us=(\d+)", log)
    if not m:
        return "no result"
    lost = count - int(m.group(1))
    return "%d/%d unanswered" % (lost, count) if lost else int(m.group(2))


def measure_g2g(smp):
    """Guest-to-guest TCP (tcpxfer) and raw frame RTT (nettool), at once."""
    with tempfile.TemporaryDirectory() as tmp:
        img = pvrun.make_image(tmp, BUILD, PAIR_NET, [pvrun.guest_image(BUILD, "tcpxfer"),
                                                       pvrun.guest_image(BUILD, "nettool")])
        log = qemu.run(str(img), timeout=300, smp=smp).log
    m = re.search(r"kib_per_s=(\d+) memcpy_kib_per_s=(\d+)", log)
    return {"xfer": (int(m.group(1)), int(m.group(2))) if m else "no result", "g2g_rtt": g2g_ping(log)}


def measure_net(smp):
    http = measure_http(smp)
    return {"http": http, **measure_g2g(smp)}


def failed_or(value, show):
    """show(value), or the failure string in its place."""
    return value if isinstance(value, str) else show(value)


def print_http(n1, n4):
    for key, label in (("ka", "HTTP keep-alive"), ("close", "HTTP new connection each")):
        rps = [failed_or(n["http"], lambda h: "%.0f" % h[key][0]) for n in (n1, n4)]
        pct = [failed_or(n["http"], lambda h: "%s/%s/%s" % tuple(h[key][1][p] for p in ("50", "90", "99")))
               for n in (n1, n4)]
        net_row(label + " requests/s", rps[0], rps[1], "req/s", "wrk -t2 -c16 -d5s")
        net_row("  latency p50 / p90 / p99", pct[0], pct[1], "", "")
    p50 = [failed_or(n["http"], lambda h: "%.0f" % h["rtt"][0]) for n in (n1, n4)]
    p99 = [failed_or(n["http"], lambda h: "%.0f" % h["rtt"][1]) for n in (n1, n4)]
    net_row("host <-> guest request RTT p50", p50[0], p50[1], "us",
            "p99 %s / %s us, keep-alive" % (p99[0], p99[1]))


def print_g2g(n1, n4):
    xfer = [failed_or(n["xfer"], lambda x: x[0]) for n in (n1, n4)]
    ratio = [failed_or(n["xfer"], lambda x: "%.1fx" % (x[1] / max(1, x[0]))) for n in (n1, n4)]
    mc = [failed_or(n["xfer"], lambda x: x[1]) for n in (n1, n4)]
    net_row("guest -> guest TCP throughput", xfer[0], xfer[1], "KiB/s", "8 MiB, checksummed both ends")
    net_row("  ratio to memcpy in the guest", ratio[0], ratio[1], "",
            "memcpy = %s / %s KiB/s (goal: within 2x)" % (mc[0], mc[1]))
    net_row("guest <-> guest raw frame RTT", n1["g2g_rtt"], n4["g2g_rtt"], "us",
            "nettool ping, 200 frames, unpinned")


def print_linux(lin, paravane_close):
    if isinstance(lin, str):
        net_row("Linux VM baseline", lin, "-", "", "")
        return
    vs = failed_or(paravane_close, lambda h: "%.2fx" % (h["close"][0] / max(1.0, lin[0])))
    net_row("Linux VM (busybox httpd) req/s", "%.0f" % lin[0], "-", "req/s",
            "new connection each, 1 CPU; Paravane/Linux = %s" % vs)
    net_row("  latency p50 / p90 / p99", "%s/%s/%s" % (lin[1]["50"], lin[1]["90"], lin[1]["99"]), "-", "", "")


def print_net(n1, n4, lin):
    print("Networking (QEMU TCG, wall clock; wrk from Debian on 127.0.0.1 through a host forward)")
    net_row("figure", "1 CPU", "%d CPUs" % MANY_CPUS, "unit", "notes")
    net_row("-" * 34, "-" * 14, "-" * 14, "-" * 8, "")
    print_http(n1, n4)
    print_g2g(n1, n4)
    print_linux(lin, n1["http"])
    print()


def cell(m, key, show=str):
    """One figure of a measure() result, or its failure string."""
    return failed_or(m, lambda v: show(v[key]))


def cells(key, show, *ms):
    return [cell(m, key, show) for m in ms]


def ratio_cells(num, den, *ms):
    return [failed_or(m, lambda v: "%.1fx" % (v[num] / max(1, v[den]))) for m in ms]


def print_guest_header():
    print("Paravane benchmarks, measured now.  TCG columns: guest TSC cycles (noisy),")
    print("on 1 and %d CPUs; icount column: -icount shift=%d,sleep=off on 1 CPU, cycle" % (MANY_CPUS, ICOUNT_SHIFT))
    print("figures converted to guest instructions (deterministic); times there are virtual time.")
    guest_row("figure", "TCG 1 CPU", "TCG %d CPUs" % MANY_CPUS, "icount", "unit", "goal / baseline")
    guest_row("-" * 34, "-" * 10, "-" * 10, "-" * 10, "-" * 8, "")


def one_decimal(v):
    return "%.1f" % v


def print_guest_timing(ms):
    guest_row("loader start -> hypervisor banner", *cells("loader_to_banner_ms", one_decimal, *ms), "ms",
              "TSC, loader+hv stamps")
    guest_row("ExitBootServices -> ready", *cells("ebs_to_ready_ms", one_decimal, *ms), "ms")
    guest_row("null hypercall round trip", *cells("hypercall", str, *ms), "cyc/ins", "goal < 200 cycles")
    guest_row("  ratio to a plain function call", *ratio_cells("hypercall", "call", *ms), "",
              "call = %s / %s cyc, %s ins" % tuple(cells("call", str, *ms)))
    guest_row("domain create -> main", *cells("create_to_main", str, *ms), "cyc/ins")
    guest_row("domain create -> main", *cells("create_to_main_ns", lambda v: "%.1f" % (v / 1000), *ms), "us",
              "goal < 100 us")
    guest_row("context switch (yield, 2 domains)", *cells("yield_pair", str, *ms), "cyc/ins",
              "%d CPUs: both pinned to CPU 0" % MANY_CPUS)
    guest_row("  ratio to a yield with no switch", *ratio_cells("yield_pair", "yield_alone", *ms), "",
              "alone = %s / %s cyc, %s ins" % tuple(cells("yield_alone", str, *ms)))


def print_guest_memory(ms):
    guest_row("memory per hello domain (total)", *cells("hello_kib", str, *ms), "KiB", "goal < 256 KiB")
    guest_row("  of which hypervisor overhead", *cells("hello_overhead_kib", str, *ms), "KiB",
              "page tables, struct, frame list")
    guest_row("  backed at creation (+ overhead)", *cells("hello_private_kib", str, *ms), "KiB",
              "text shared, heap/stack on first touch")
    guest_row("hello domains per GiB", *cells("hello_kib", lambda v: 1024 * 1024 // v, *ms), "",
              "by manifest memory (reserved)")


def print_guest_table(tcg, many, ic):
    print()
    print_guest_header()
    print_guest_timing((tcg, many, ic))
    print_guest_memory((tcg, many, ic))
    print()


def print_isolation(off, on):
    """The cost of page-table isolation and the barriers (docs/security.md):
    the same boots with [hypervisor] isolation = off and = on."""
    print("Cost of isolation ([hypervisor] isolation = off / on; under TCG there is no PCID, so")
    print("every entry and exit is a full CR3 write and TLB flush):")
    iso_row("figure", "TCG off", "TCG on", "icount off", "icount on", "unit")
    iso_row("-" * 34, "-" * 10, "-" * 10, "-" * 10, "-" * 10, "-" * 8)
    for key, name in (("hypercall", "null hypercall round trip"), ("yield_pair", "context switch (yield, 2 domains)"),
                      ("create_to_main", "domain create -> main")):
        iso_row(name, *[cell(m, key) for m in (off[0], on[0], off[1], on[1])], "cyc/ins")
    print()


def main():
    hello_kib = hello_min_memory()
    tcg = measure(None, hello_kib)
    many = measure_many_cpus(hello_kib)
    ic = to_instructions(measure(ICOUNT_SHIFT, hello_kib))
    print_guest_table(tcg, many, ic)
    print_isolation(
        (guarded(measure, None, hello_kib, isolation="off"),
         guarded(lambda: to_instructions(measure(ICOUNT_SHIFT, hello_kib, isolation="off")))),
        (guarded(measure, None, hello_kib, isolation="on"),
         guarded(lambda: to_instructions(measure(ICOUNT_SHIFT, hello_kib, isolation="on")))))
    net1, net_many = measure_net(1), measure_net(MANY_CPUS)
    print_net(net1, net_many, measure_linux_vm())
    block_bench.print_block(block_bench.measure(BUILD))
    file_bench.print_files(file_bench.measure(BUILD))
    smp_bench.print_smp(smp_bench.measure_smp(BUILD), smp_row)
    serverless_bench.print_serverless(serverless_bench.measure(BUILD, ICOUNT_SHIFT, hello_kib))
    save_bench.print_save(save_bench.measure(BUILD))
    migrate_bench.print_migrate(migrate_bench.measure(BUILD))


if __name__ == "__main__":
    # SIGTERM/SIGHUP/SIGINT unwind main(): every QEMU it started (the Linux
    # baseline too) is stopped by the finally blocks on the way out.
    with qemu.stop_signals():
        try:
            main()
        except RunFailed as e:
            sys.exit(str(e))
        except qemu.Stopped as s:
            print("bench: stopped by %s" % s, file=sys.stderr)
            sys.exit(s.exit_code)
