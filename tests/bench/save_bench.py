#!/usr/bin/python3
"""The save/restore part of `make bench` (issue 12).

Called from bench.py's main(); runs on its own too:
    PARAVANE_BUILD=$PWD/build/bench /usr/bin/python3 tests/bench/save_bench.py

One control domain (tests/system/control.py's ControlVM, -smp 2, the API
forwarded to 127.0.0.1).  Every figure is measured in this run:

  save / restore   for guests with 1, 8 and 64 MiB of memory in use (the
               ticker test guest filling that much, ticking every 20 ms):
               GET .../save?then=destroy from request to last byte and
               POST /v1/restore from request to 201 (client wall time:
               the stream crosses QEMU's user network twice), the
               hypervisor's own work in each (the work_us of the
               domain-save-end and domain-restored events: time spent in
               the SAVE_* and RESTORE_* calls), the stream's size, and the
               gap the guest itself saw (its "ticker: late N us" line: from
               its last tick before the save to its first after the
               restore, so save + restore + the client in between).
  restore vs create  an httpd guest: POST /v1/domains (from the stored
               image) until GET / answers through a host forward, against
               POST /v1/restore of the same httpd saved warm; median of
               RUNS each.

  snapshot and clones  the same 1, 8 and 64 MiB tickers: a snapshot
               (then=destroy) and one clone of it under the same name: the
               hypervisor's work in the clone (domain-cloned work_us) and the
               gap the guest saw (snapshot + API + clone).  Then an httpd
               (6 MiB) snapshot warm and CLONES clones of it in one
               POST .../clone: its wall time, the host's memory_free before
               and after (per clone: what it reserves), and the clones'
               memory_private after one request each (what they wrote).

A measurement that fails returns a short string saying how.
"""
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sdk" / "tools"))
sys.path.insert(0, str(ROOT / "tests" / "system"))
import qemu  # noqa: E402

SIZES_MIB = (1, 8, 64)
RUNS = 5
CLONES = 100
HTTPD_IP = "10.0.2.41"
OCTETS = {"Content-Type": "application/octet-stream"}


def event_us(vm, pattern, after):
    """work_us of the first event matching pattern in the log after offset
    after; the serial line may bring it a little after the API's answer."""
    end = time.monotonic() + 10
    while True:
        m = re.search(pattern + r".* work_us=(\d+)", vm.log[after:])
        if m or time.monotonic() > end:
            return int(m.group(1)) if m else None
        time.sleep(0.02)


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise RuntimeError("no %s in %ss" % (what, timeout))


def one_size(vm, mib):
    name = "s%d" % mib
    status, _, d = vm.create(name, image="ticker", memory=(mib + 4) << 20,
                             args=["0", "20", str(mib << 10), "late"])
    if status != 201:
        return "create: %s" % d
    vm.wait_console(name, b"tick 3\n", timeout=120)
    mark = len(vm.log)
    t0 = time.monotonic()
    status, headers, data = vm.request("GET", "/v1/domains/%s/save?then=destroy" % name, timeout=300)
    t_save = time.monotonic() - t0
    if status != 200:
        return "save: HTTP %d" % status
    vm.wait_gone(name)
    t0 = time.monotonic()
    status, _, d = vm.api("POST", "/v1/restore", data, headers=OCTETS, timeout=300)
    t_restore = time.monotonic() - t0
    if status != 201:
        return "restore: %s" % d
    late = wait_for(lambda: re.search(r"%s\| ticker: late (\d+) us" % name, vm.log[mark:]), 60, "late line")
    out = {"save_s": t_save, "restore_s": t_restore, "bytes": len(data),
           "save_work_us": event_us(vm, r"domain-save-end id=\d+ name=%s " % name, mark),
           "restore_work_us": event_us(vm, r"domain-restored id=\d+ name=%s " % name, mark),
           "gap_us": int(late.group(1))}
    vm.api("DELETE", "/v1/domains/" + name)
    vm.wait_gone(name)
    return out


def clone_size(vm, mib):
    name = "k%d" % mib
    if vm.create(name, image="ticker", memory=(mib + 4) << 20,
                 args=["0", "20", str(mib << 10), "late"])[0] != 201:
        return "create refused"
    vm.wait_console(name, b"tick 3\n", timeout=120)
    mark = len(vm.log)
    if vm.api("POST", "/v1/domains/%s/snapshot" % name, {"name": name, "then": "destroy"}, timeout=120)[0] != 201:
        return "snapshot refused"
    vm.wait_gone(name)
    if vm.api("POST", "/v1/snapshots/%s/clone" % name, {"name": name})[0] != 201:
        return "clone refused"
    vm.wait_console(name, b"tick", timeout=60)
    time.sleep(1)                 # a late tick, if any, is printed by now
    late = re.search(r"%s\| ticker: late (\d+) us" % name, vm.log[mark:])
    out = {"first_us": event_us(vm, r"domain-cloned id=\d+ name=%s " % name, mark),
           "gap_us": int(late.group(1)) if late else None}
    works = []
    for k in range(RUNS):         # again, warm: the first run pays for TCG translating the code
        mark = len(vm.log)
        if vm.api("POST", "/v1/snapshots/%s/clone" % name, {"name": "%s-%d" % (name, k)})[0] != 201:
            return "clone refused"
        works.append(event_us(vm, r"domain-cloned id=\d+ name=%s-%d " % (name, k), mark))
    out["work_us"] = statistics.median(w for w in works if w is not None)
    for k in range(RUNS):
        vm.api("DELETE", "/v1/domains/%s-%d" % (name, k))
    vm.api("DELETE", "/v1/domains/" + name)
    for n in [name] + ["%s-%d" % (name, k) for k in range(RUNS)]:
        vm.wait_gone(n)
    vm.api("DELETE", "/v1/snapshots/" + name)
    return out


def many_clones(vm):
    import http.client
    net = [{"mac": "02:00:00:00:5b:01", "ip": HTTPD_IP, "prefix": 24, "gw": "10.0.2.2"}]
    if vm.create("web", image="httpd", memory=6 << 20, net=net)[0] != 201:
        return "create refused"
    serving(vm)
    web = vm.api("GET", "/v1/domains/web")[2]["memory_private"]
    if vm.api("POST", "/v1/domains/web/snapshot", {"name": "web", "then": "destroy"})[0] != 201:
        return "snapshot refused"
    vm.wait_gone("web")
    free0 = vm.api("GET", "/v1/host")[2]["memory_free"]
    t0 = time.monotonic()
    status, _, made = vm.api("POST", "/v1/snapshots/web/clone", timeout=600,
                             body={"name": "m", "count": CLONES,
                                   "net": [{"ip": "10.0.3.1", "prefix": 16, "gw": "10.0.2.2"}]})
    wall = time.monotonic() - t0
    if status != 201:
        return "clone: %s" % made
    free1 = vm.api("GET", "/v1/host")[2]["memory_free"]
    mark = len(vm.log)
    for d in made["domains"]:     # each answers once: its ARP and one request through the switch
        vm.request("GET", "/v1/domains/%d" % d["id"])
    private = [vm.api("GET", "/v1/domains/%d" % d["id"])[2]["memory_private"] for d in made["domains"]]
    works = [int(w) for w in re.findall(r"domain-cloned id=\d+ name=m-\d+ .* work_us=(\d+)", vm.log)]
    for d in made["domains"]:
        vm.api("DELETE", "/v1/domains/%d" % d["id"])
    for d in made["domains"]:
        vm.wait_gone(str(d["id"]))
    vm.api("DELETE", "/v1/snapshots/web")
    return {"wall_s": wall, "reserved_per_clone": (free0 - free1) / CLONES, "web_private": web,
            "private_mean": statistics.mean(private), "work_us_median": statistics.median(works) if works else 0}


def serving(vm, timeout=120):
    """Seconds until the httpd behind the forward answers GET /."""
    import http.client
    t0 = time.monotonic()
    end = t0 + timeout
    while time.monotonic() < end:
        try:
            c = http.client.HTTPConnection("127.0.0.1", vm.forwarded[0], timeout=2)
            c.request("GET", "/")
            if c.getresponse().status == 200:
                c.close()
                return time.monotonic() - t0
        except (OSError, http.client.HTTPException):
            time.sleep(0.005)
    raise RuntimeError("httpd did not answer in %ss" % timeout)


def restore_vs_create(vm):
    net = [{"mac": "02:00:00:00:5b:01", "ip": HTTPD_IP, "prefix": 24, "gw": "10.0.2.2"}]
    create, restore = [], []
    for _ in range(RUNS):
        t0 = time.monotonic()
        if vm.create("web", image="httpd", memory=8 << 20, net=net)[0] != 201:
            return "create refused"
        serving(vm)
        create.append(time.monotonic() - t0)
        status, _, data = vm.request("GET", "/v1/domains/web/save?then=destroy", timeout=120)
        if status != 200:
            return "save: HTTP %d" % status
        vm.wait_gone("web")
        t0 = time.monotonic()
        if vm.api("POST", "/v1/restore", data, headers=OCTETS, timeout=120)[0] != 201:
            return "restore refused"
        serving(vm)
        restore.append(time.monotonic() - t0)
        vm.api("DELETE", "/v1/domains/web")
        vm.wait_gone("web")
    return {"create_s": statistics.median(create), "restore_s": statistics.median(restore)}


def measure(build):
    from conftest import guest
    from control import ControlVM, TICKER
    out = {}
    try:
        with ControlVM(files=[guest("ticker")], smp=2, memory="1G", forwards=[(HTTPD_IP, 80)]) as vm:
            vm.upload("ticker", TICKER)
            vm.upload("httpd", Path(build) / "apps" / "httpd" / "httpd.elf")
            for mib in SIZES_MIB:
                try:
                    out[mib] = one_size(vm, mib)
                except (RuntimeError, AssertionError, OSError) as e:
                    out[mib] = "failed: %s" % str(e)[:60]
            try:
                out["serve"] = restore_vs_create(vm)
            except (RuntimeError, AssertionError, OSError) as e:
                out["serve"] = "failed: %s" % str(e)[:60]
            for mib in SIZES_MIB:
                try:
                    out["clone", mib] = clone_size(vm, mib)
                except (RuntimeError, AssertionError, OSError) as e:
                    out["clone", mib] = "failed: %s" % str(e)[:60]
            try:
                out["many"] = many_clones(vm)
            except (RuntimeError, AssertionError, OSError) as e:
                out["many"] = "failed: %s" % str(e)[:60]
    except AssertionError as e:
        return "failed: %s" % str(e)[:80]
    return out


def print_save(r):
    print("Save and restore (issue 12): the API on QEMU TCG, -smp 2 (client wall time through the")
    print("127.0.0.1 forward); hypervisor work = time inside the SAVE_*/RESTORE_* calls (event work_us).")
    if isinstance(r, str):
        print("  " + r)
        return
    print("| %-8s | %10s | %10s | %10s | %10s | %10s | %12s |" % (
        "in use", "stream", "save wall", "save work", "rest. wall", "rest. work", "guest gap"))
    print("|%s|" % "|".join("-" * w for w in (10, 12, 12, 12, 12, 12, 14)))
    for mib in SIZES_MIB:
        v = r.get(mib)
        if isinstance(v, str):
            print("| %4d MiB | %s" % (mib, v))
            continue
        print("| %4d MiB | %6.2f MiB | %7.1f ms | %7.2f ms | %7.1f ms | %7.2f ms | %9.1f ms |" % (
            mib, v["bytes"] / 2 ** 20, v["save_s"] * 1e3, (v["save_work_us"] or 0) / 1e3,
            v["restore_s"] * 1e3, (v["restore_work_us"] or 0) / 1e3, v["gap_us"] / 1e3))
    s = r.get("serve")
    if isinstance(s, str):
        print("restore vs create (httpd): " + s)
    else:
        print("httpd to serving, median of %d: create from its image %.1f ms, restore of it saved warm "
              "%.1f ms (%.2fx)" % (RUNS, s["create_s"] * 1e3, s["restore_s"] * 1e3,
                                   s["restore_s"] / s["create_s"]))
    for mib in SIZES_MIB:
        v = r.get(("clone", mib))
        if isinstance(v, str):
            print("start from a snapshot, %d MiB in use: %s" % (mib, v))
        else:
            gap = ("%.1f ms" % (v["gap_us"] / 1e3)) if v["gap_us"] is not None else "under 50 ms (no late tick)"
            print("start from a snapshot (a clone under the same name), %d MiB in use: hypervisor work %.3f ms"
                  " (median of %d more; the first: %.3f ms), the guest's gap %s" % (
                      mib, v["work_us"] / 1e3, RUNS, (v["first_us"] or 0) / 1e3, gap))
    m = r.get("many")
    if isinstance(m, str):
        print("%d clones of httpd: %s" % (CLONES, m))
    else:
        print("%d clones of a warm httpd (6 MiB; it owned %d KiB): one POST %.2f s (hypervisor work per clone,"
              " median %.2f ms); reserved per clone %d KiB; owned after one request each %d KiB (mean)" % (
                  CLONES, m["web_private"] >> 10, m["wall_s"], m["work_us_median"] / 1e3,
                  m["reserved_per_clone"] / 1024, m["private_mean"] / 1024))
    print()


def main():
    import bench
    print_save(measure(bench.BUILD))


if __name__ == "__main__":
    with qemu.stop_signals():
        try:
            main()
        except qemu.Stopped as s:
            print("save_bench: stopped by %s" % s, file=sys.stderr)
            sys.exit(s.exit_code)
