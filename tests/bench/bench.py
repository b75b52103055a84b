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
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sdk" / "tools"))
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
[guest hello]
image = hello.elf
memory = %s
""" % (N, "{hello_mem}")

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
    solo_log = boot(SOLO.format(hello_mem="%dK" % hello_kib), icount)
    pair_log = boot(PAIR, icount)
    s, p = values(solo_log, "solo"), values(pair_log, "p")
    hello = [e for e in pvrun.events(solo_log, "domain-created") if e["name"] == "hello"][0]
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
    row("hello domains per GiB", 1024 * 1024 // tcg["hello_kib"], 1024 * 1024 // ic["hello_kib"], "", "")
    print()


if __name__ == "__main__":
    main()
