"""Page-table isolation (issue: isolation on real CPUs).  While a guest
runs, its own page tables may map, of the hypervisor, only the entry set:
the entry/exit code (.entry.text), the IDT, and per CPU the entry page
(GDT, TSS, what the entry code reads through GS), the entry stack and the
three IST stacks.  Never the direct map, the heap, the hypervisor's data
or a trap stack.  The test build's `selftest = ptdump` walks the tables a
guest named probe* runs on and lists every mapping."""
import subprocess

import pytest

from conftest import BUILD, guest

PROBE = """
[hypervisor]
poweroff_when_idle = yes
selftest = ptdump
%s
[guest probe]
image = spin.elf
memory = 1M
cmdline = "spin 2"
"""

# hv/layout.h and arch/x86_64/percpu.c: each CPU's slot in the stacks
# region, page offsets of what entry code needs (guards in between).
STACKS_BASE = 0xFFFFC00000000000 + (1 << 30)
SLOT = 128 << 10
SHARED_IN_SLOT = [(0x1000, 1), (0x3000, 1), (0xa000, 2), (0xd000, 2), (0x10000, 2),
                  (0x13000, 2), (0x16000, 2)]
TRAP_STACK_IN_SLOT = (0x5000, 4)
USER_TOP = 1 << 47


def symbols():
    out = subprocess.run(["nm", str(BUILD / "hypervisor" / "paravane.elf")],
                         capture_output=True, text=True, check=True).stdout
    return {p[2]: int(p[0], 16) for p in (l.split() for l in out.splitlines()) if len(p) == 3}


def mappings(b):
    return [(int(e["va"], 16), int(e["pages"]), e["access"], e["user"] == "1")
            for e in b.events("ptdump")]


def expected_entry_set(cpus):
    s = symbols()
    text = s["__entry_text_start"]
    want = {(text, (s["__entry_text_end"] - text) // 4096, "rx"), (s["idt"], 1, "ro")}
    for i in range(cpus):
        want |= {(STACKS_BASE + i * SLOT + off, n, "rw") for off, n in SHARED_IN_SLOT}
    return want


def test_a_guest_maps_only_the_entry_set(boot):
    b = boot(PROBE % "", files=[guest("spin")])
    assert b.event("cpu-mitigations")["pti"] == "on", b.log[-3000:]
    cpus = int(b.event("cpus")["started"])
    sup = {(va, n, acc) for va, n, acc, user in mappings(b) if not user}
    assert sup == expected_entry_set(cpus), b.log[-4000:]
    for va, n, _, user in mappings(b):
        if user:
            assert va + n * 4096 <= USER_TOP
    done = b.event("ptdump-done")
    assert int(done["supervisor_pages"]) == sum(n for _, n, _ in sup)
    assert b.status == 0


@pytest.mark.parametrize("smp", [4], ids=["smp4"])
def test_no_trap_stack_heap_or_direct_map(boot):
    b = boot(PROBE % "isolation = on", files=[guest("spin")])
    assert b.event("cpu-mitigations")["why"] == "manifest-on"
    s = symbols()
    for va, n, _, user in mappings(b):
        end = va + n * 4096
        assert user or va >= 0xFFFFC00000000000, "direct map at 0x%x" % va
        assert not (va < s["__data_end"] and end > s["__rodata_end"] and va != s["idt"]), \
            "hypervisor data at 0x%x" % va
        for i in range(4):
            lo = STACKS_BASE + i * SLOT + TRAP_STACK_IN_SLOT[0]
            assert end <= lo or va >= lo + TRAP_STACK_IN_SLOT[1] * 4096, "CPU %d trap stack" % i


@pytest.mark.parametrize("smp", [1], ids=["smp1"])
def test_isolation_off_shares_the_whole_upper_half(boot):
    """The walker sees the difference: without isolation the direct map
    and the whole image are in every guest's tables."""
    b = boot(PROBE % "isolation = off", files=[guest("spin")])
    ev = b.event("cpu-mitigations")
    assert (ev["pti"], ev["why"]) == ("off", "manifest-off")
    assert any(va == 0xFFFF800000000000 and not user for va, _, _, user in mappings(b))
    assert int(b.event("ptdump-done")["supervisor_pages"]) > 100000


def test_bad_isolation_value_is_refused(boot):
    b = boot(PROBE % "isolation = maybe", files=[guest("spin")], check=False)
    assert "isolation" in b.log and "maybe" in b.log, b.log[-2000:]
