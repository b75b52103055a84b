#!/usr/bin/python3
"""The serverless part of `make bench` (issue 9): creating guests at run
time through the control domain's API, and how many fit.

Called from bench.py's main(); runs on its own too (then it asks bench.py
for the icount shift and hello's least memory):
    PARAVANE_BUILD=$PWD/build/bench /usr/bin/python3 tests/bench/serverless_bench.py
The API machines are tests/system/control.py's ControlVM, which takes the
build from PARAVANE_BUILD as bench.py does.

Every figure is measured in this run:

  latency      the control domain (tests/system/control.py's ControlVM,
               the API forwarded to 127.0.0.1) on -smp 1 and 4, images
               uploaded first.  LATENCY_RUNS creates of hello: client wall
               time from sending POST /v1/domains to its 201, and to the
               first console line seen by polling GET .../console by id
               (back to back on the same keep-alive connection).  Then
               LATENCY_RUNS idle tickers, each destroyed once it has
               printed: DELETE's answer, and until GET answers 404.
  create cost  the ctl test guest (`ctl timing N KIB`) under
               -icount shift=N,sleep=off on -smp 1: each PV_DOMCTL_CREATE
               of hello between two rdtsc, by the hash of a stored image
               and with the bytes (copied in and hashed), and each DESTROY;
               TSC cycles converted to guest instructions (exact).
  creates/s    THROUGHPUT_S seconds of create-then-destroy of idle
               tickers: one client on one keep-alive connection, then
               CLIENTS threads with a connection each.
  density      QEMU with DENSITY_QEMU_MEMORY on -smp 1: idle tickers
               created through the API with the least memory the
               hypervisor accepts, until a 507 (domains or memory) or
               DENSITY_TIME_S; memory per guest from memory_free before and
               after and from the API's memory_private + memory_overhead;
               every one must answer GET /v1/domains/{id} and be blocked.
               (bench_defconfig sets CONFIG_MAX_DOMAINS=12000.)
  idle cost    with no guests but the control domain, and again with the
               density run's guests all blocked: the QEMU process's CPU
               time over IDLE_WINDOW_S, and from /metrics (read at both
               ends of the window) the CPU time neither idle nor the
               control domain's (which builds those answers: about 1 s of
               CPU for 12,000 domains) and timer interrupts per second.

A measurement that fails returns a short string saying how; the table
prints it instead of a number.
"""
import http.client
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sdk" / "tools"))
sys.path.insert(0, str(ROOT / "tests" / "system"))
import pvrun  # noqa: E402
import qemu  # noqa: E402

LATENCY_RUNS = 30
THROUGHPUT_S = 10.0
CLIENTS = 8
API_CPUS = (1, 4)
TIMING_RUNS = 30

DENSITY_QEMU_MEMORY = "4G"
DENSITY_GOAL = 10000
DENSITY_TIME_S = 900.0        # stop creating after this long, and say so
IDLE_WINDOW_S = 30.0
IDLE_SETTLE_S = 2.0

TICKER_ARGS = ["0", "100000000"]   # one line, then a 100000 s nanosleep
TICKER_STARTED = b"ticker: started"


def say(text):
    print("serverless: " + text, file=sys.stderr, flush=True)


class Api:
    """A booted control domain (tests/system/control.py's ControlVM, which
    reads PARAVANE_BUILD itself) with hello and the ticker uploaded, and
    the least memory the hypervisor takes for each."""

    def __init__(self, **kw):
        import control
        from conftest import guest
        self.vm = control.ControlVM(files=[guest("ticker")], hv="log_level = warn", **kw)
        self.lost_consoles = 0
        self.harness_resets = 0
        try:
            for name, path in (("hello", control.HELLO), ("ticker", control.BUILD / "apps/ticker/ticker.elf")):
                status = self.vm.upload(name, path)[0]
                if status not in (200, 201):
                    raise RuntimeError("upload of %s: %d" % (name, status))
            conn = self.vm.conn()
            self.hello, self.ticker = least_memory(self.vm, conn, "hello"), least_memory(self.vm, conn, "ticker")
            conn.close()
        except BaseException:
            self.vm.stop()
            raise


def least_memory(vm, conn, image):
    """The least memory the hypervisor takes for image: its refusal of
    64 KiB says what it needs (rounded up to a page)."""
    status, _, doc = vm.api("POST", "/v1/domains", dict(name="probe", image=image, memory=65536,
                                                        args=TICKER_ARGS), conn=conn)
    if status == 201:
        vm.request("DELETE", "/v1/domains/%d" % doc["id"], conn=conn)
        return 65536
    need = re.search(r"need (\d+) KiB", doc["error"]["message"]) if status == 400 else None
    if not need:
        raise RuntimeError("64 KiB probe of %s: %d %s" % (image, status, doc))
    return -(-int(need.group(1)) * 1024 // 4096) * 4096


def quantiles(values):
    """(median, p90) of a list of seconds, in ms."""
    v = sorted(values)
    return statistics.median(v) * 1e3, v[min(len(v) - 1, int(len(v) * 0.9))] * 1e3


# ---- latency ------------------------------------------------------------------

def first_line_after(api, conn, domid, text=b"\n"):
    """Poll the console by id back to back until it holds text.  A 404 is
    polled through for up to a second and counted (api.lost_consoles):
    on several CPUs a domain that just ended is briefly neither live nor
    kept (the hypervisor unlinks it before it keeps its console)."""
    lost_until = None
    while True:
        status, _, body = api.vm.request("GET", "/v1/domains/%d/console" % domid, conn=conn)
        if status == 404 and lost_until is None:
            api.lost_consoles += 1
            lost_until = time.monotonic() + 1.0
        if status == 200 and text in body:
            return
        if status != 200 and (status != 404 or time.monotonic() > lost_until):
            raise RuntimeError("console of %d: %d" % (domid, status))


def create(api, conn, name, image, args=()):
    """The new domain's id (a 201), or RuntimeError."""
    memory = api.hello if image == "hello" else api.ticker
    status, _, doc = api.vm.api("POST", "/v1/domains", dict(name=name, image=image, memory=memory,
                                                            args=list(args)), conn=conn)
    if status != 201:
        raise RuntimeError("create %s: %d %s" % (name, status, doc))
    return doc["id"]


def one_create(api, conn, name):
    """(seconds to the 201, seconds to the first console line) of hello."""
    t0 = time.perf_counter()
    domid = create(api, conn, name, "hello")
    t1 = time.perf_counter()
    first_line_after(api, conn, domid)
    return t1 - t0, time.perf_counter() - t0


def one_destroy(api, conn, name):
    """(seconds to DELETE's answer, seconds until GET says 404) for a
    ticker that has printed and blocked."""
    domid = create(api, conn, name, "ticker", TICKER_ARGS)
    first_line_after(api, conn, domid, TICKER_STARTED)
    t0 = time.perf_counter()
    status = api.vm.request("DELETE", "/v1/domains/%d" % domid, conn=conn)[0]
    t1 = time.perf_counter()
    if status != 200:
        raise RuntimeError("destroy %s: %d" % (name, status))
    while api.vm.request("GET", "/v1/domains/%d" % domid, conn=conn)[0] != 404:
        pass
    return t1 - t0, time.perf_counter() - t0


def measure_latency(api):
    conn = api.vm.conn()
    for i in range(3):                               # warm-up: not counted
        one_create(api, conn, "warm%d" % i)
    creates = [one_create(api, conn, "lat%d" % i) for i in range(LATENCY_RUNS)]
    destroys = [one_destroy(api, conn, "del%d" % i) for i in range(LATENCY_RUNS)]
    conn.close()
    return {"answer": quantiles([c[0] for c in creates]), "console": quantiles([c[1] for c in creates]),
            "delete": quantiles([d[0] for d in destroys]), "gone": quantiles([d[1] for d in destroys]),
            "lost": api.lost_consoles}


# ---- creates per second ---------------------------------------------------------

def first_create(api, conn, name):
    """The first create on a fresh connection.  QEMU's user network takes
    host connections on a listening socket with a backlog of 1: when eight
    clients connect at once, the host kernel now and then resets one before
    QEMU accepted it, so the guest never sees it (packet captures on both
    sides, docs/benchmarks.md).  Such a connection is made again, once, and
    counted (api.harness_resets)."""
    try:
        return conn, create(api, conn, name, "ticker", TICKER_ARGS)
    except ConnectionResetError:
        conn.close()
        api.harness_resets += 1
        conn = api.vm.conn()
        return conn, create(api, conn, name, "ticker", TICKER_ARGS)


def churn(api, prefix, deadline, counts, errors):
    """Create and destroy idle tickers on one connection until deadline."""
    conn, i = api.vm.conn(), 0
    try:
        while time.monotonic() < deadline:
            if i == 0:
                conn, domid = first_create(api, conn, "%s-%d" % (prefix, i))
            else:
                domid = create(api, conn, "%s-%d" % (prefix, i), "ticker", TICKER_ARGS)
            status = api.vm.request("DELETE", "/v1/domains/%d" % domid, conn=conn)[0]
            if status not in (200, 404):
                raise RuntimeError("destroy %d: %d" % (domid, status))
            i += 1
    except FAILURES as e:                            # reported, not hidden
        errors.append("%s-%d: %r" % (prefix, i, e))
    finally:
        conn.close()
        counts.append(i)


def creates_per_second(api, clients, tag):
    counts, errors = [], []
    t0 = time.monotonic()
    threads = [threading.Thread(target=churn, args=(api, "%s%d" % (tag, c), t0 + THROUGHPUT_S, counts, errors))
               for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        say("creates/s with %d clients: %s\n%s" % (clients, "; ".join(errors), api.vm.log[-3000:]))
        return "failed: %s" % errors[0][:40]
    return sum(counts) / (time.monotonic() - t0)


FAILURES = (RuntimeError, AssertionError, OSError, http.client.HTTPException, KeyError, TypeError)


def on_api(label, fn, **kw):
    """fn(Api(**kw)), or a string saying how it failed (printed with the
    end of the serial log); the QEMU is stopped either way."""
    try:
        api = Api(**kw)
    except FAILURES as e:                # the control domain did not come up
        say("%s: %s" % (label, e))
        return "failed: %s" % str(e).splitlines()[0][:50]
    try:
        return fn(api)
    except FAILURES as e:
        say("%s: %r\n%s" % (label, e, api.vm.log[-2000:]))
        return "failed: %s" % str(e)[:50]
    finally:
        api.vm.stop()


def latency_and_rate(api):
    out = measure_latency(api)
    out["seq"] = creates_per_second(api, 1, "s")
    out["par"] = creates_per_second(api, CLIENTS, "p")
    out["resets"] = api.harness_resets
    return out


def measure_api(smp):
    """Latency and creates/s on one booted control domain."""
    say("API figures on -smp %d" % smp)
    return on_api("-smp %d" % smp, latency_and_rate, smp=smp)


# ---- hypervisor part of a create, under icount --------------------------------------

TIMING = """
[hypervisor]
poweroff_when_idle = yes
[guest ctl]
image = ctl.elf
memory = 4M
privileged = yes
cmdline = "ctl timing %d %d"
"""


def per_instruction(tsc_mhz, shift):
    """TSC cycles per guest instruction under -icount shift=N (bench.py's
    to_instructions: each instruction advances virtual time 2^N ns)."""
    return tsc_mhz * (1 << shift) / 1000


def measure_create_cost(build, shift, hello_kib):
    """{kind: (min, median) instructions} from `ctl timing`."""
    manifest = TIMING % (TIMING_RUNS, hello_kib)
    with tempfile.TemporaryDirectory() as tmp:
        img = pvrun.make_image(tmp, build, manifest, [pvrun.guest_image(build, "ctl")])
        r = qemu.run(str(img), timeout=900, icount=shift)
    lines = re.findall(r"^ctl\| ctl: timing kind=(\S+) n=\d+ failed=(\d+) min=(\d+) median=(\d+)", r.log, re.M)
    if r.hv_status != 0 or len(lines) != 8 or any(int(l[1]) for l in lines):
        say("ctl timing failed (%s)\n%s" % (r, r.log[-2000:]))
        return "failed: %s" % ("no figures" if len(lines) != 8 else "a call failed")
    per_cyc = per_instruction(float(re.search(r"TSC (\d+\.\d+) MHz", r.log).group(1)), shift)
    per_ns = 1 << shift                 # cpu figures are ns: 2^N ns per instruction
    out = {}
    for kind, _, lo, med in lines:
        per = per_ns if kind.endswith("-cpu") else per_cyc
        out[kind] = (round(int(lo) / per), round(int(med) / per))
    return out


# ---- density and the idle cost ----------------------------------------------------------

def metrics_sample(vm):
    """(uptime s, idle s summed over CPUs, timer interrupts summed, the
    control domain's CPU s) from /metrics: the hypervisor's counters."""
    status, _, body = vm.request("GET", "/metrics", timeout=300)
    if status != 200:
        raise RuntimeError("/metrics: %d" % status)
    text = body.decode()

    def total(name, labels=r"(?:\{[^}]*\})?"):
        return sum(float(v) for v in re.findall(r"^%s%s (\S+)$" % (name, labels), text, re.M))
    return (total("paravane_host_uptime_seconds"), total("paravane_cpu_idle_seconds_total"),
            total("paravane_cpu_timer_interrupts_total"),
            total("paravane_domain_cpu_seconds_total", r'\{id="\d+",name="control"\}'))


def cpu_seconds(pid):
    """utime + stime of a process, from /proc/PID/stat (fields 14, 15)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cost(vm):
    """Over IDLE_WINDOW_S without requests: QEMU's CPU in % of a host core;
    the hypervisor's CPU time not idle and not the control domain's (whose
    CPU time includes building the /metrics answers that bound the
    window), in % of its CPU; timer interrupts per second, less those
    during one /metrics answer (counted by a sample right after)."""
    time.sleep(IDLE_SETTLE_S)
    m0 = metrics_sample(vm)
    c0, t0 = cpu_seconds(vm.vm.proc.pid), time.monotonic()
    time.sleep(IDLE_WINDOW_S)
    c1, t1 = cpu_seconds(vm.vm.proc.pid), time.monotonic()
    m1 = metrics_sample(vm)
    m2 = metrics_sample(vm)
    (up, idle, irqs, ctl), extra_irqs = [b - a for a, b in zip(m0, m1)], m2[2] - m1[2]
    return {"qemu_pct": 100 * (c1 - c0) / (t1 - t0), "busy_pct": 100 * (up - idle - ctl) / up,
            "control_pct": 100 * ctl / up, "irq_per_s": (irqs - extra_irqs) / up}


def fill(api, conn, deadline):
    """Create idle tickers until a refusal or the deadline: (ids, the 507's
    error object, or a string saying why it stopped)."""
    ids = []
    while time.monotonic() < deadline:
        status, _, doc = api.vm.api("POST", "/v1/domains", dict(name="d%d" % len(ids), image="ticker",
                                                                memory=api.ticker, args=TICKER_ARGS), conn=conn)
        if status != 201:
            return ids, doc["error"] if status == 507 else "%d %s" % (status, doc)
        ids.append(doc["id"])
        if len(ids) % 500 == 0:
            say("density: %d guests" % len(ids))
    return ids, "time limit (%.0f s)" % DENSITY_TIME_S


def host(vm, conn):
    return vm.api("GET", "/v1/host", conn=conn)[2]


def survey(vm, conn, ids):
    """How many of ids answer GET by id, how many of those are blocked,
    and their median memory_private + memory_overhead."""
    answered, blocked, backed = 0, 0, []
    for domid in ids:
        status, _, doc = vm.api("GET", "/v1/domains/%d" % domid, conn=conn)
        if status == 200:
            answered += 1
            blocked += doc["state"] == "blocked"
            backed.append(doc["memory_private"] + doc["memory_overhead"])
    return answered, blocked, statistics.median(backed) if backed else 0


def listed_blocked(vm, ids):
    """Of ids, how many one GET /v1/domains lists as blocked."""
    status, _, doc = vm.api("GET", "/v1/domains", timeout=600)
    if status != 200:
        return "failed: %d" % status
    want = set(ids)
    return sum(1 for d in doc["domains"] if d["id"] in want and d["state"] == "blocked")


def fill_and_check(api):
    conn = api.vm.conn(timeout=120)
    idle0 = idle_cost(api.vm)
    before, t0 = host(api.vm, conn), time.monotonic()
    ids, stop = fill(api, conn, t0 + DENSITY_TIME_S)
    fill_s = time.monotonic() - t0
    after = host(api.vm, conn)
    say("density: %d guests in %.0f s (%s); checking each" % (len(ids), fill_s, stop))
    answered, blocked, backed = survey(api.vm, conn, ids)
    per_guest = (before["memory_free"] - after["memory_free"]) / max(1, len(ids))
    return {"count": len(ids), "stop": stop, "memory": api.ticker, "fill_s": fill_s, "per_guest": per_guest,
            "backed": backed, "answered": answered, "blocked": blocked, "listed": listed_blocked(api.vm, ids),
            "fit": len(ids) + int(after["memory_free"] // max(1, per_guest)),
            "domains_max": after["domains_max"], "idle0": idle0, "idle_n": idle_cost(api.vm)}


def measure_density():
    say("density: QEMU -m %s, -smp 1, at most %.0f s of creates" % (DENSITY_QEMU_MEMORY, DENSITY_TIME_S))
    return on_api("density", fill_and_check, smp=1, memory=DENSITY_QEMU_MEMORY)


# ---- all of it -------------------------------------------------------------------------

def measure(build, shift, hello_kib):
    out = {"shift": shift, "cost": measure_create_cost(build, shift, hello_kib)}
    out.update({smp: measure_api(smp) for smp in API_CPUS})
    out["density"] = measure_density()
    return out


def shown(value, spec):
    return value if isinstance(value, str) else spec % value


def pick(m, *keys):
    """m[keys...], or m itself where it is a failure string."""
    for k in keys:
        if isinstance(m, str):
            return m
        m = m[k]
    return m


def row(name, one, many, unit, notes=""):
    print("| %-36s | %14s | %14s | %-8s | %s" % (name, one, many, unit, notes))


def print_api(r):
    note = "median / p90 of %d, client wall time" % LATENCY_RUNS
    for key, label in (("answer", "POST /v1/domains -> 201 (hello)"),
                       ("console", "POST -> first console line"),
                       ("delete", "DELETE -> answer (idle ticker)"),
                       ("gone", "DELETE -> GET answers 404")):
        row(label, *[shown(pick(r[smp], key), "%.2f / %.2f") for smp in API_CPUS], "ms",
            note if key == "answer" else
            "console briefly 404 after the end: %s / %s times" % tuple(pick(r[smp], "lost") for smp in API_CPUS)
            if key == "console" else "")
    for key, label in (("seq", "creates/s, 1 client, keep-alive"), ("par", "creates/s, %d clients" % CLIENTS)):
        row(label, *[shown(pick(r[smp], key), "%.1f") for smp in API_CPUS], "1/s",
            "create + destroy an idle ticker, %g s" % THROUGHPUT_S if key == "seq" else
            "connections the host reset before QEMU took them (made again): %s / %s" %
            tuple(pick(r[smp], "resets") for smp in API_CPUS))


def print_cost(cost):
    for kind, how, goal in (("hash", "by hash", "goal <= 20000 (the hypervisor's part)"),
                            ("bytes", "with bytes", "copies in + hashes hello.elf")):
        row("domctl CREATE %s" % how, shown(pick(cost, kind + "-create-wall"), "%d / %d"), "", "ins", goal)
        row("  the caller's own CPU time", shown(pick(cost, kind + "-create-cpu"), "%d / %d"), "", "ins",
            "same as above: nothing else ran meanwhile")
        row("domctl DESTROY (after %s)" % how, shown(pick(cost, kind + "-destroy-wall"), "%d / %d"), "", "ins",
            "asks for the kill; teardown follows")


def stop_reason(d):
    stop = pick(d, "stop")
    return stop if isinstance(stop, str) else "507 %s" % stop.get("resource")


def print_density(d):
    row("idle guests created (-m 4G, 1 CPU)", pick(d, "count"), "", "", "goal %d in 4 GiB" % DENSITY_GOAL)
    row("  stopped by", stop_reason(d), "", "", "domains_max %s" % pick(d, "domains_max"))
    row("  memory asked for, each", pick(d, "memory"), "", "bytes", "the least the ticker takes")
    row("  host memory_free drop per guest", shown(pick(d, "per_guest"), "%.0f"), "", "bytes",
        "memory + hypervisor overhead, reserved")
    row("  memory_private + memory_overhead", shown(pick(d, "backed"), "%.0f"), "", "bytes", "median, backed now")
    row("  guests memory would hold", pick(d, "fit"), "", "", "these + memory_free / drop per guest")
    row("  answer GET by id / blocked", "%s / %s" % (pick(d, "answered"), pick(d, "blocked")), "", "",
        "GET /v1/domains lists %s blocked" % pick(d, "listed"))
    row("  time to create them all", shown(pick(d, "fill_s"), "%.0f"), "", "s", "one client, keep-alive")
    print()
    row("idle cost", "no guests", "N guests", "unit", "N = the guests above, all blocked")
    row("-" * 36, "-" * 14, "-" * 14, "-" * 8, "")
    for key, label, unit, note in (
            ("qemu_pct", "QEMU process CPU", "% core", "utime+stime, %g s window" % IDLE_WINDOW_S),
            ("busy_pct", "CPU not idle, control domain's aside", "% CPU",
             "CPU_STATS idle_ns (/metrics); goal: unchanged"),
            ("control_pct", "  the control domain's", "% CPU", "its 100 ms tick + the /metrics answers"),
            ("irq_per_s", "timer interrupts", "1/s", "CPU_STATS timer_irqs (/metrics)")):
        row(label, shown(pick(d, "idle0", key), "%.2f"), shown(pick(d, "idle_n", key), "%.2f"), unit, note)


def print_serverless(r):
    print("Control plane (serverless): the API on QEMU TCG (wall clock, 127.0.0.1 forward); domctl")
    print("costs under -icount shift=%d,sleep=off on 1 CPU in guest instructions (min / median)." % r["shift"])
    row("figure", "TCG 1 CPU", "TCG %d CPUs" % API_CPUS[1], "unit", "notes / goal")
    row("-" * 36, "-" * 14, "-" * 14, "-" * 8, "")
    print_api(r)
    print_cost(r["cost"])
    print_density(r["density"])
    print()


def main():
    import bench
    print_serverless(measure(bench.BUILD, bench.ICOUNT_SHIFT, bench.hello_min_memory()))


if __name__ == "__main__":
    with qemu.stop_signals():
        try:
            main()
        except qemu.Stopped as s:
            print("serverless_bench: stopped by %s" % s, file=sys.stderr)
            sys.exit(s.exit_code)
