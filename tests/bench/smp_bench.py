"""The SMP part of `make bench`: scaling, wake-up latency, idle cost.

Imported by bench.py (which puts sdk/tools on sys.path).  Every figure is
wall-clock under multi-threaded TCG, so it is as noisy as the host: on a
2-core host a guest with more vCPUs than host cores time-slices them.

  scaling      WORKERS guests with the same fixed work (`sched work`) on
               -smp 1, 2 and 4; the makespan is the largest wall_ns they
               report (they start together), the speed-up its ratio.
  wake-up      nettool ping <-> nettool echo on -smp 2, both pinned to CPU 0
               (same CPU) and on CPUs 0 and 1 (cross CPU): avg_rtt_us.
               Each round trip is two wake-ups.
  idle cost    host CPU time (utime + stime of the QEMU process) over a
               fixed window once every guest has blocked on a far deadline:
               IDLE_GUESTS sleepers against one, both on -smp 1.

A measurement that fails returns a short string saying how; the table
prints it instead of a number.
"""
import os
import re
import tempfile
import time

import pvrun
import qemu

WORK_ITERATIONS = 500000000   # about 1.3-1.4 s alone on one CPU under TCG
WORKERS = 4
SCALING_CPUS = (1, 2, 4)

PING_COUNT = 500
ECHO_SECONDS = 4              # outlasts PING_COUNT round trips by far
ECHO_MAC = "02:00:00:00:02:01"
PINGER_MAC = "02:00:00:00:02:02"

IDLE_GUESTS = 1000
IDLE_MEMORY = "256K"
IDLE_QEMU_MEMORY = "2G"
IDLE_SLEEP_US = 600000000     # one 600 s sleep: far beyond the window
IDLE_SETTLE_S = 1.0           # after the last domain-started: all blocked
IDLE_WINDOW_S = 10.0

HV = "[hypervisor]\npoweroff_when_idle = yes\n"


def section(name, image, memory, cmdline, *extra):
    lines = ["[guest %s]" % name, "image = %s" % image, "memory = %s" % memory,
             'cmdline = "%s"' % cmdline] + list(extra)
    return "\n".join(lines) + "\n"


def run(build, manifest, images, smp, timeout):
    """Boot manifest on -smp smp; the qemu.Result."""
    with tempfile.TemporaryDirectory() as tmp:
        img = pvrun.make_image(tmp, build, manifest, [pvrun.guest_image(build, i) for i in images])
        return qemu.run(str(img), timeout=timeout, smp=smp)


def guest_reports(log, prefix):
    """{guest: {key: int}} from lines 'GUEST| PREFIX k=v ...'."""
    out = {}
    for m in re.finditer(r"^(\S+)\| %s(.*)$" % re.escape(prefix), log, re.M):
        pairs = (kv.split("=", 1) for kv in m.group(2).split() if "=" in kv)
        out[m.group(1)] = {k: int(v) for k, v in pairs if v.isdigit()}
    return out


# ---- scaling ------------------------------------------------------------------

def scaling_manifest():
    return HV + section("work", "sched.elf", "1M", "sched work %d" % WORK_ITERATIONS,
                        "instances = %d" % WORKERS)


def makespan_s(build, smp):
    """Seconds until the last of the WORKERS guests finished, on -smp smp."""
    r = run(build, scaling_manifest(), ["sched"], smp, timeout=300)
    walls = [rep["wall_ns"] for rep in guest_reports(r.log, "sched: work").values()]
    if len(walls) != WORKERS:
        return "failed: %d of %d reported" % (len(walls), WORKERS)
    return max(walls) / 1e9


def measure_scaling(build):
    return {smp: makespan_s(build, smp) for smp in SCALING_CPUS}


def speedup(spans, cpus):
    one, more = spans[1], spans[cpus]
    if isinstance(one, str) or isinstance(more, str):
        return "n/a"
    return "%.2fx" % (one / more)


# ---- wake-up latency ---------------------------------------------------------------

def pingpong_manifest(echo_cpu, pinger_cpu):
    net = "net = mac=%s, dhcp"
    return HV + section("echo", "nettool.elf", "2M", "nettool echo %d" % ECHO_SECONDS,
                        net % ECHO_MAC, "cpus = %d" % echo_cpu) + \
        section("pinger", "nettool.elf", "2M", "nettool ping %s %d" % (ECHO_MAC, PING_COUNT),
                net % PINGER_MAC, "cpus = %d" % pinger_cpu)


def ping_rtt_us(log, count):
    """avg_rtt_us of the pinger's line, or why there is no valid figure.
    A frame not answered within 100 ms counts 100 ms into the average, so
    any loss makes it meaningless."""
    m = re.search(r"^pinger\| nettool: ping sent=(\d+) answered=(\d+) .*avg_rtt_us=(\d+)", log, re.M)
    if not m:
        return "failed: no ping result"
    lost = count - int(m.group(2))
    if lost:
        return "failed: %d/%d unanswered" % (lost, count)
    return int(m.group(3))


def wakeup_rtt_us(build, echo_cpu, pinger_cpu):
    r = run(build, pingpong_manifest(echo_cpu, pinger_cpu), ["nettool"], 2,
            timeout=60 + PING_COUNT // 10)   # every frame lost: 100 ms each
    return ping_rtt_us(r.log, PING_COUNT)


def measure_wakeup(build):
    return {"same": wakeup_rtt_us(build, 0, 0), "cross": wakeup_rtt_us(build, 1, 0)}


def ratio(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return "n/a"
    return "%.1fx" % (a / max(1, b))


# ---- idle cost -----------------------------------------------------------------

def sleepers_manifest(count):
    extra = ["instances = %d" % count] if count > 1 else []
    return HV + section("idle", "sched.elf", IDLE_MEMORY, "sched sleeper 1 %d" % IDLE_SLEEP_US, *extra)


def cpu_seconds(pid):
    """utime + stime of a process, from /proc/PID/stat (fields 14, 15)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_started(vm, count, timeout):
    """True once `count` domains have started (switched in once)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and vm.proc.poll() is None:
        if vm.log.count("@event domain-started") >= count:
            return True
        time.sleep(0.5)
    return False


def window_cpu_percent(pid):
    """Host CPU of pid over IDLE_WINDOW_S, in % of one host core."""
    used, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(IDLE_WINDOW_S)
    used, elapsed = cpu_seconds(pid) - used, time.monotonic() - t0
    return 100 * used / elapsed


def idle_cpu_percent(build, count):
    with tempfile.TemporaryDirectory() as tmp:
        img = pvrun.make_image(tmp, build, sleepers_manifest(count), [pvrun.guest_image(build, "sched")])
        vm = qemu.Background(str(img), memory=IDLE_QEMU_MEMORY, smp=1)
        try:
            if not wait_started(vm, count, timeout=300):
                started = vm.log.count("@event domain-started")
                return "failed: %d of %d started" % (started, count)
            time.sleep(IDLE_SETTLE_S)
            return window_cpu_percent(vm.proc.pid)
        finally:
            vm.stop()


def measure_idle(build):
    return {n: idle_cpu_percent(build, n) for n in (1, IDLE_GUESTS)}


# ---- all of it -----------------------------------------------------------------

def measure_smp(build):
    return {"scaling": measure_scaling(build), "wakeup": measure_wakeup(build),
            "idle": measure_idle(build)}


def shown(value, spec):
    return value if isinstance(value, str) else spec % value


def print_scaling(spans, row):
    note = "%d x `sched work %d` at once" % (WORKERS, WORK_ITERATIONS)
    for smp in SCALING_CPUS:
        label = "makespan, %d guests on %d CPU%s" % (WORKERS, smp, "s" if smp > 1 else "")
        row(label, shown(spans[smp], "%.2f"), "s", note if smp == 1 else "")
    row("  speed-up 1 -> 2 CPUs", speedup(spans, 2), "", "goal >= 1.7x (2 host cores)")
    row("  speed-up 1 -> 4 CPUs", speedup(spans, 4), "", "2 host cores: 4 vCPUs cannot beat 2 by much")


def print_wakeup(w, row):
    note = "nettool ping x%d, -smp 2; 2 wake-ups per RTT" % PING_COUNT
    row("wake-up RTT, same CPU (both on 0)", shown(w["same"], "%d"), "us", note)
    row("wake-up RTT, cross CPU (0 and 1)", shown(w["cross"], "%d"), "us", "wake-up by reschedule IPI")
    row("  cross / same", ratio(w["cross"], w["same"]), "", "")


def print_idle(idle, row):
    note = "QEMU utime+stime, %g s window, -smp 1" % IDLE_WINDOW_S
    row("idle host CPU, 1 blocked guest", shown(idle[1], "%.1f"), "% core", note)
    row("idle host CPU, %d blocked guests" % IDLE_GUESTS, shown(idle[IDLE_GUESTS], "%.1f"), "% core",
        "tickless: should be within noise of 1 guest")


def print_smp(results, row):
    """row(figure, value, unit, notes) prints one table line."""
    print("SMP (multi-threaded TCG, wall clock; the host has %d cores)" % os.cpu_count())
    row("figure", "value", "unit", "notes")
    row("-" * 34, "-" * 14, "-" * 8, "")
    print_scaling(results["scaling"], row)
    print_wakeup(results["wakeup"], row)
    print_idle(results["idle"], row)
    print()
