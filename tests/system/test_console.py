"""The serial log: guest bytes cannot forge it, and nobody waits for it.

Everything a guest supplies (console bytes, symbol names in its image)
reaches the log through one sanitizer, behind the hypervisor's own
prefix.  Output goes through a transmit ring drained by the UART's
interrupt: a console write returns without waiting for the line, a full
ring drops guest lines (counted and said), never the hypervisor's."""
import re

from test_domains import HV, files, section


def after_boot(b):
    """The log from the hypervisor's first line on (the firmware's
    terminal escapes before it are not ours)."""
    return b.log[b.log.index("hypervisor starting"):]


def test_guest_bytes_cannot_forge_log_lines(boot):
    m = HV + section("forge", "forge") + section("bystander", "hello", "hello after")
    b = boot(m, files("forge", "hello"))
    log = after_boot(b)
    lines = log.splitlines()
    # no forged line: whatever the guest sent sits behind "forge| " or in
    # the hypervisor's own report, escaped
    assert not [l for l in lines if l.startswith("@event") and "forged" in l]
    assert not [l for l in lines if l.startswith("hv| forged")]
    assert [e["name"] for e in b.events("domain-exited")] == ["bystander"]
    assert "\x1b" not in log and "\x07" not in log and "\ufffd" not in log
    # the console's lines, every byte accounted for
    for text in ["\\x1b[2J\\x1b]0;forged title\\x07after the escapes",
                 "@event domain-exited id=99 name=forged-console code=0",
                 "@event poweroff status=0 reason=forged-console",
                 "crhv| forged-console carriage return",
                 "high \\xff\\xfe\\x9b2J and a lone ESC \\x1bX",
                 "nul\\x00hv| forged-console after a NUL",
                 "A" * 160,
                 "@event domain-exited id=98 name=forged-split"]:
        assert "forge| " + text in lines, text
    # the crash is reported, in the hypervisor's report, with the hostile
    # symbol name escaped on the report's own lines
    crashed = b.event("domain-crashed")
    assert (crashed["name"], crashed["reason"]) == ("forge", "null-dereference")
    sym = "<\\x0ahv| forged-sym\\x0a@event domain-exited id=97 name=forged-sym\\x0a\\x1b[2J"
    assert [l for l in lines if l.startswith("hv|   reason null-dereference") and sym in l]
    assert [l for l in lines if l.startswith("hv|     #0 ") and sym in l]
    assert b.status == 2


def flood_report(b, name):
    line = next(l for l in b.lines(name + "| flood: chunks="))
    return dict(kv.split("=") for kv in line.split()[2:])


def test_console_write_never_waits_for_the_line(boot):
    """A flooder writes 4 KiB chunks beside a sleeper, both on CPU 0.  Each
    printed chunk is 4 KiB of UART output: polled inside the hypercall that
    took 5-10 ms under TCG (at 115200 baud on hardware, 360 ms).  Queued,
    the hypercall takes what the copy takes."""
    m = HV + section("flood", "flood", "flood chunks 600 5000", cpus=0)
    m += section("tick", "flood", "flood tick 3 5000", cpus=0)
    b = boot(m, files("flood"), timeout=120)
    r = flood_report(b, "flood")
    print("4 KiB console writes:", r, "| sleeper beside:", b.lines("tick| flood: tick"))
    assert int(r["printed"]) >= 3, r
    assert int(r["min_us"]) < 1500, r
    tx = b.event("serial-tx")
    assert tx["mode"] == "irq" and int(tx["irqs"]) > 0, tx
    assert [e["code"] for e in b.events("domain-exited")] == ["0", "0"]
    assert b.status == 0


def test_full_ring_drops_guest_lines_whole_and_counts_them(boot):
    """Sixteen guests write 16 KiB each at once: more than the three
    quarters of the ring guests may fill.  Lines that do not fit are dropped whole and
    counted (said once for each run of them); every line that was queued comes out
    before the power-off, and so does the hypervisor's every line."""
    m = HV + section("flood", "flood", "flood chunks 4", instances=16)
    b = boot(m, files("flood"), timeout=120)
    total_dropped = 0
    for i in range(1, 17):
        name = "flood-%d" % i
        chunk_lines = b.lines(name + "| chunk")
        assert all(re.fullmatch(name + r"\| chunk\.\d\.\d\d\.{53}", l) for l in chunk_lines)
        said = re.findall(r"hv\| warn: console: dropped (\d+) bytes from %s \(serial buffer full\)"
                          % name, b.log)
        dropped = sum(int(n) for n in said)
        # Once per run of dropped lines, not per line: a chunk of 64 lines
        # is one run, or two when the serial line drained enough for a
        # line to fit half way (seen once at 4 CPUs: 5 runs for 4 chunks).
        assert len(said) <= 2 * 4, said
        assert len(chunk_lines) * 64 + dropped == 4 * 4096, (name, len(chunk_lines), dropped)
        total_dropped += dropped
    assert total_dropped > 0
    assert int(b.event("serial-tx")["refused_bytes"]) > 0
    assert b.event("memory-check") and b.event("poweroff")["status"] == "0"
    assert b.status == 0
