#!/usr/bin/python3
"""The live migration part of `make bench` (issue 12).

Called from bench.py's main(); runs on its own too:
    PARAVANE_BUILD=$PWD/build/bench /usr/bin/python3 tests/bench/migrate_bench.py

Two hosts (tests/system/hosts.py: two QEMU machines, -smp 2 each, on one
Ethernet segment through a switch on the host).  Each case moves a guest
A -> B and back, RUNS times in all, and reports medians of:

  total      POST .../migrate to its last line (the control domain's own
             elapsed_ms: first round to the destination's answer)
  bytes      the stream (rounds, pages sent again, the last round)
  rounds     the rounds it took
  stopped    from the moment the hypervisor stopped the domain for its
             last pages to the destination's 201 reaching the source: an
             upper bound of the downtime (the guest already runs at the
             destination when the answer leaves it)
  sending    of stopped: until the stream's last byte was sent (the rest
             is the destination's checks and start, and its answer's way)
  pinger     for network guests: the longest gap between two answers of a
             GET /api/status loop through the host forward (a request
             every ~2 ms, 10 s timeout), while it moved: the downtime as a
             client outside sees it, plus one request's time; median and
             worst.  A frame that reaches the guest while it is stopped is
             lost (as with a full ring) and its sender's TCP sends it again
             after its retransmission timeout, so a run that loses one shows
             that timeout (QEMU's user network: about a second), not the
             stop: such runs (a gap over RESENT_MS) are counted as "resent"
             and left out of the median and worst

The cases: an idle ticker with 8 MiB of memory in use (the goal: under
10 ms), an idle httpd (8 MiB), httpd under load (two more clients
hammering it), and memwalk rewriting 8 MiB as fast as it can (its rounds
never shrink: it is stopped with what is dirty).  The guest's own clock
cannot measure the gap: a restored domain's monotonic clock continues
from its saved value when the destination's clock is behind (docs/
migration.md), so it never sees time it spent stopped.
"""
import http.client
import json
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sdk" / "tools"))
sys.path.insert(0, str(ROOT / "tests" / "system"))
import qemu  # noqa: E402,F401  (the test tools' path)

RUNS = 6
# A gap this long is a frame lost while the guest was stopped and sent
# again after the client's retransmission timeout (QEMU's user network:
# about a second); such runs are counted, not mixed into the median.
RESENT_MS = 500
WEB_IP = "10.0.2.60"


class Pinger:
    """GET /api/status in a loop; the longest gap between answers."""

    def __init__(self, port, pause=0.002):
        self.port, self.pause = port, pause
        self.times, self.failures = [], 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                c.request("GET", "/api/status")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    self.times.append(time.monotonic())
            except (OSError, http.client.HTTPException):
                self.failures += 1
            time.sleep(self.pause)

    def end(self):
        self.stop.set()
        self.thread.join(10)

    def max_gap(self, t0, t1):
        """The longest time without an answer in [t0, t1], counted from the
        last answer before t0 (or t0) to the first after t1 (or now)."""
        inside = [t for t in self.times if t0 <= t <= t1]
        before = [t for t in self.times if t < t0][-1:] or [t0]
        after = [t for t in self.times if t > t1][:1] or [time.monotonic()]
        ts = before + inside + after
        return max(b - a for a, b in zip(ts, ts[1:]))


def migrate(src, name, dst):
    t0 = time.monotonic()
    status, _, data = src.request("POST", "/v1/domains/%s/migrate" % name, {"to": dst.lan_url}, timeout=300)
    if status != 200:
        raise RuntimeError("migrate answered %d: %s" % (status, data[:100]))
    last = json.loads(data.decode().splitlines()[-1])
    if last.get("result") != "migrated":
        raise RuntimeError("migration %s: %s" % (last.get("result"), last.get("error")))
    return last, t0, time.monotonic()


def run_case(hosts, name, create, pinger_port=None, load_port=None):
    a, b = hosts
    status, _, err = a.create(name, **create)
    if status != 201:
        raise RuntimeError("create answered %d: %s" % (status, err))
    time.sleep(1.5)                      # warm: its first passes and requests
    pinger = Pinger(pinger_port) if pinger_port else None
    loads = [Pinger(load_port, 0) for _ in range(2)] if load_port else []
    rows = []
    try:
        time.sleep(0.5)
        src, dst = a, b
        for _ in range(RUNS):
            last, t0, t1 = migrate(src, name, dst)
            gap = pinger.max_gap(t0, t1 + 0.5) if pinger else None
            rows.append({"total_ms": last["elapsed_ms"], "bytes": last["bytes_sent"], "rounds": last["round"],
                         "stopped_ms": last.get("stopped_ms"), "sending_ms": last.get("stopped_sending_ms"), "gap_ms": gap * 1e3 if pinger else None})
            time.sleep(0.7)
            src, dst = dst, src
    finally:
        for p in ([pinger] if pinger else []) + loads:
            p.end()
    src.api("DELETE", "/v1/domains/" + name)
    gaps = [r["gap_ms"] for r in rows if r["gap_ms"] is not None]
    clean = [g for g in gaps if g < RESENT_MS]
    return {k: median(r[k] for r in rows) for k in rows[0]} | \
        {"failures": pinger.failures if pinger else 0, "served": sum(len(p.times) for p in loads),
         "gap_ms": median(clean), "worst_gap_ms": max(clean, default=None),
         "resent": len(gaps) - len(clean), "pinged": len(gaps)}


def median(values):
    got = [v for v in values if v is not None]
    return statistics.median(got) if got else None


CASES = [
    ("idle ticker, 8 MiB in use", "tk", dict(image="ticker", args=["0", "1000", "8192"], memory=12 << 20), False, False),
    ("idle httpd (8 MiB)", "web", dict(image="httpd", memory=8 << 20, net=[{"mac": "02:00:00:00:60:01",
                                       "ip": WEB_IP, "prefix": 24, "gw": "10.0.2.2"}]), True, False),
    ("httpd under load (8 MiB)", "web", dict(image="httpd", memory=8 << 20, net=[{"mac": "02:00:00:00:60:01",
                                             "ip": WEB_IP, "prefix": 24, "gw": "10.0.2.2"}]), True, True),
    ("memwalk rewriting 8 MiB", "mw", dict(image="memwalk", args=["8192", "50"], memory=12 << 20), False, False),
]


def measure(build):
    from conftest import guest
    from control import TICKER
    from hosts import TwoHosts
    out = {}
    try:
        with TwoHosts(files=[guest("ticker")], forwards=[(WEB_IP, 80)]) as hosts:
            for vm in hosts:
                for name, path in (("ticker", TICKER), ("httpd", Path(build) / "apps" / "httpd" / "httpd.elf"),
                                   ("memwalk", Path(build) / "apps" / "memwalk" / "memwalk.elf")):
                    vm.upload(name, path)
            port = hosts[0].forwarded[0]
            for title, name, create, ping, load in CASES:
                try:
                    out[title] = run_case(hosts, name, create, port if ping else None, port if load else None)
                except (RuntimeError, AssertionError, OSError) as e:
                    out[title] = "failed: %s" % str(e)[:80]
    except AssertionError as e:
        return "failed: %s" % str(e)[:80]
    return out


def print_migrate(r):
    print("Live migration (issue 12): two QEMU TCG machines (-smp 2) on one switched segment; A -> B and back,")
    print("median of %d; stopped = the domain stopped for its last pages until the destination's 201 reached" % RUNS)
    print("the source (an upper bound of the downtime); pinger = the longest gap between answers of a client")
    print("outside polling it every ~2 ms through the host forward (median and worst of the runs where no")
    print("frame had to be sent again; resent = runs where a request waited out its sender's retransmission")
    print("timeout).")
    if isinstance(r, str):
        print("  " + r)
        return
    print("| %-26s | %9s | %10s | %6s | %10s | %10s | %10s | %10s | %6s |" % (
        "case", "total", "stream", "rounds", "stopped", "sending", "pinger", "worst", "resent"))
    print("|%s|" % "|".join("-" * w for w in (28, 11, 12, 8, 12, 12, 12, 12, 8)))
    for title, *_ in CASES:
        v = r.get(title)
        if isinstance(v, str) or v is None:
            print("| %-26s | %s" % (title, v))
            continue
        gap = "%7.1f ms" % v["gap_ms"] if v["gap_ms"] is not None else "-"
        worst = "%7.1f ms" % v["worst_gap_ms"] if v["worst_gap_ms"] is not None else "-"
        resent = "%d/%d" % (v["resent"], v["pinged"]) if v["pinged"] else "-"
        print("| %-26s | %6.0f ms | %6.2f MiB | %6.1f | %7.1f ms | %7.1f ms | %10s | %10s | %6s |" % (
            title, v["total_ms"], v["bytes"] / 2 ** 20, v["rounds"], v["stopped_ms"] or 0, v["sending_ms"] or 0,
            gap, worst, resent))
        if v["failures"] or v["served"]:
            print("|   (failed pings %d; the two load clients were served %d requests) |" % (
                v["failures"], v["served"]))


def main():
    import os
    build = Path(os.environ.get("PARAVANE_BUILD", ROOT / "build" / "bench"))
    with qemu.stop_signals():
        print_migrate(measure(build))


if __name__ == "__main__":
    main()
