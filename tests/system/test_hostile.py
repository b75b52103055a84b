"""Hostile guests (issue 8, "Tests and figures"): privileged instructions,
probes of hypervisor addresses, flags on entry, stack games and hypercall
fuzzing, each from tests/guests/hostile.  Every boot runs the hostile
guests in parallel next to well-behaved ones, and asserts that the
hostile ones end the way the architecture says (crashed with the right
vector at the right instruction, or every answer right), that the
well-behaved ones finish normally, and that the hypervisor is still whole
(power-off status, memory-check)."""
import re
import subprocess

from conftest import BUILD, guest

HV = """
[hypervisor]
poweroff_when_idle = yes
"""

# hv/layout.h, arch/x86_64/percpu.c: CPU 0's entry page (GDT, TSS, what
# the entry code reads through GS), mapped supervisor-only into guests.
STACKS_BASE = 0xFFFFC00000000000 + (1 << 30)
ENTRY_PAGE = STACKS_BASE + 0x1000
ENTRY_STACK = STACKS_BASE + 0x3000

GP, UD, DB, PF = 13, 6, 1, 14
REASON = {GP: "general-protection", UD: "invalid-opcode", DB: "debug", PF: "page-fault"}


def gate(n):
    """int n through a DPL-0 gate: #GP with the gate's index and the IDT
    bit, n * 8 + 2; QEMU's TCG reports n * 16 + 2 (the 16-byte gate's
    offset).  Either way the gate is refused."""
    return (GP, (n * 8 + 2, n * 16 + 2))


# instruction -> (vectors allowed, error code(s) or None).  A selector
# load or a return to a ring-0 selector is #GP with the selector.
PRIV = {
    "hlt": (GP, 0), "cli": (GP, 0), "sti": (GP, 0),
    "inb80": (GP, 0), "outb80": (GP, 0), "in3f8": (GP, 0), "out3f8": (GP, 0),
    "incf8": (GP, 0), "outcf8": (GP, 0),
    "rdmsr": (GP, 0), "wrmsr": (GP, 0),
    "rdcr0": (GP, 0), "wrcr0": (GP, 0), "rdcr3": (GP, 0), "wrcr3": (GP, 0),
    "rdcr4": (GP, 0), "wrcr4": (GP, 0), "wrcr8": (GP, 0), "rddr7": (GP, 0), "wrdr7": (GP, 0),
    "clts": (GP, 0), "lmsw": (GP, 0), "ltr": (GP, 0), "lldt": (GP, 0),
    "lgdt": (GP, 0), "lidt": (GP, 0),
    "invlpg": (GP, 0), "wbinvd": (GP, 0), "invd": (GP, 0),
    "swapgs": (GP, 0), "sysret": (GP, 0), "rdpmc": (GP, 0), "xsetbv": (GP, 0),
    "sysexit": ((GP, UD), None), "sysenter": ((GP, UD), None),   # vendor-dependent
    "int80": gate(0x80), "intf0": gate(0xf0), "int2": gate(2),
    "int3": gate(3),                         # int3 too checks the gate's DPL
    # icebp: #DB without a DPL check (on #DB's IST stack); QEMU's TCG
    # raises #UD instead.  The tf case below gets a real #DB from ring 3.
    "int1": ((DB, UD), 0),
    "into": (UD, 0), "ud2": (UD, 0),
    "rdgsbase": (UD, 0), "wrgsbase": (UD, 0),   # CR4.FSGSBASE off
    "movss": (GP, 0x10), "movds": (GP, 0x10), "movfs": (GP, 0x28),
    "farjmp0": (GP, 0x08),
    # iretq to CS 0x08: #GP(0x08) on hardware; QEMU's TCG pops the frame
    # with supervisor accesses, which SMAP refuses: #PF at the iretq
    "iretq0": ((GP, PF), None),
    "iopl": (GP, 0),                         # cli after popf tried IOPL 3
    "iretiopl": ((GP, PF), None),            # cli after iretq tried IOPL 3 (same TCG #PF)
}
# Only with UMIP (CR4.UMIP, which the hypervisor sets when CPUID has it).
UMIP = {"sgdt": (GP, 0), "sidt": (GP, 0), "smsw": (GP, 0), "str": (GP, 0), "sldt": (GP, 0)}


def section(name, image, cmdline="", memory="1M", **extra):
    lines = ["[guest %s]" % name, "image = %s.elf" % image, "memory = %s" % memory]
    if cmdline:
        lines.append('cmdline = "%s"' % cmdline)
    lines += ["%s = %s" % kv for kv in extra.items()]
    return "\n".join(lines) + "\n"


def bystanders():
    """Well-behaved guests that must finish normally beside the hostile."""
    return section("good-sleeper", "sleeper", "sleeper 10 20") + section("good-spin", "spin", "spin 1")


def files(*names):
    return [guest(n) for n in sorted(set(names + ("sleeper", "spin")))]


def symbols():
    out = subprocess.run(["nm", str(BUILD / "hypervisor" / "paravane.elf")],
                         capture_output=True, text=True, check=True).stdout
    return {p[2]: int(p[0], 16) for p in (l.split() for l in out.splitlines()) if len(p) == 3}


def report(b, name):
    """The crash report of domain NAME: the text up to its domain-crashed."""
    m = re.search(r"hv\| ==== domain \d+ \(%s\) crashed: .*?@event domain-crashed" % re.escape(name),
                  b.log, re.S)
    assert m, "no crash report for %s:\n%s" % (name, b.log[-3000:])
    return m.group(0)


def assert_crashed(b, name, vectors, error=None, rip_in=None):
    vectors = vectors if isinstance(vectors, tuple) else (vectors,)
    faults = [e for e in b.events("domain-fault") if e["name"] == name]
    assert len(faults) == 1, (name, faults, b.lines(name + "|"))
    vector = int(faults[0]["vector"])
    assert vector in vectors, (name, faults[0])
    crashed = [e for e in b.events("domain-crashed") if e["name"] == name]
    assert crashed and crashed[0]["reason"] == REASON.get(vector, "exception"), (name, crashed)
    rep = report(b, name)
    if error is not None:
        errors = error if isinstance(error, tuple) else (error,)
        assert any(re.search(r"error 0x%x\b" % e, rep) for e in errors), (name, rep)
    if rip_in:
        assert "<%s+" % rip_in in rep.splitlines()[1], (name, rep)
    assert "SURVIVED" not in "\n".join(b.lines(name + "|"))


def assert_hypervisor_whole(b, status):
    """The good guests finished, nothing panicked, memory came back."""
    exited = {e["name"]: e["code"] for e in b.events("domain-exited")}
    assert exited.get("good-sleeper") == "0" and exited.get("good-spin") == "0", exited
    line = b.lines("good-sleeper| sleeper:")[0]
    assert " early=0 " in line, line
    assert not b.lines("hv| PANIC")
    assert b.status == status, b.log[-3000:]
    m = b.event("memory-check")
    assert m["free_kib_at_start"] == m["free_kib_now"], m


def test_privileged_instructions_fault(boot):
    cases = dict(PRIV, **UMIP)
    m = HV + "".join(section("p-" + n, "hostile", "hostile priv " + n) for n in cases) + bystanders()
    b = boot(m, files("hostile"), timeout=150)
    umip = "umip" in b.lines("hv| cpu: enabled ")[0].split()
    for name, (vectors, error) in cases.items():
        if name in UMIP and not umip:
            continue
        assert_crashed(b, "p-" + name, vectors, error, rip_in="do_" + name)
    assert b.lines("p-iopl| hostile: IOPL after popf: 0")
    assert "SURVIVED" not in b.log and "IOPL after iretq: 3" not in b.log
    assert_hypervisor_whole(b, 2)


def probe_cases():
    """name -> (op, address, vector, "protection"/"not mapped"/None)."""
    s = symbols()
    mapped = {"text": s["__entry_text_start"], "idt": s["idt"], "entry": ENTRY_PAGE,
              "estack": ENTRY_STACK}
    cases = {}
    for where, addr in dict(mapped, physmap=0xFFFF800000000000, physmap1m=0xFFFF800000100000,
                            image=0xFFFFFFFF80000000, canary=s["__stack_chk_guard"]).items():
        for op in ("read", "write"):
            cases["%s-%s" % (op[:2], where)] = (op, addr, PF, "protection" if where in mapped else None)
    for where, addr in (("lo", 0x0000800000000000), ("hi", 0x8000000000000000)):
        for op in ("read", "write", "exec"):
            cases["%s-nc%s" % (op[:2], where)] = (op, addr, GP, None)
    cases["ex-text"] = ("exec", s["__entry_text_start"], PF, "protection")
    cases["ca-syscall"] = ("call", s["syscall_entry"], PF, "protection")
    cases["ex-idt"] = ("exec", s["idt"], PF, "protection")
    cases["ex-physmap"] = ("exec", 0xFFFF800000100000, PF, None)
    # the last bytes of the lower half: a syscall there would return to a
    # non-canonical RIP (sysret's classic hole), but no guest can map it
    cases["ex-top"] = ("exec", 0x7FFFFFFFFFFE, PF, "not mapped")
    return cases


def assert_probe(b, name, op, addr, vector, kind):
    assert_crashed(b, name, vector)
    fault = [e for e in b.events("domain-fault") if e["name"] == name][0]
    if op in ("exec", "call") and vector == PF:
        assert int(fault["rip"], 16) == addr, (name, fault)   # fetched, never ran
    if vector == PF:
        assert int(fault["addr"], 16) == addr, (name, fault)
        access = "read" if op != "write" else "write"
        rep = report(b, name)
        assert "fault address 0x%016x (%s, %s" % (addr, access, kind or "") in rep, (name, rep)
    else:
        # a jump to a non-canonical address: #GP at the jump on hardware,
        # at the target under TCG; never anything that ran there
        assert "<probe_" in report(b, name).splitlines()[1] or int(fault["rip"], 16) == addr, name


def test_hypervisor_addresses_fault(boot):
    cases = probe_cases()
    m = HV + "".join(section("x-" + n, "hostile", "hostile probe %s 0x%x" % (op, addr))
                     for n, (op, addr, _, _) in cases.items()) + bystanders()
    b = boot(m, files("hostile"), timeout=150)
    for n, (op, addr, vector, kind) in cases.items():
        assert_probe(b, "x-" + n, op, addr, vector, kind)
    assert_hypervisor_whole(b, 2)


FUZZ_SEEDS = (1, 0x5eed)
FUZZ_COUNT = 50000
FLAG_SETS = (0, 0x40000, 0x400, 0x4000, 0x3000, 0x47400)   # -, AC, DF, NT, IOPL, all


def test_flags_stacks_and_fuzzed_hypercalls(boot):
    m = HV + section("h-flags", "hostile", "hostile flags") + section("h-tf", "hostile", "hostile tf")
    m += section("h-stack", "hostile", "hostile stack 0x%x" % ENTRY_PAGE)
    m += "".join(section("h-fuzz%d" % i, "hostile", "hostile fuzz %d %d" % (seed, FUZZ_COUNT))
                 for i, seed in enumerate(FUZZ_SEEDS))
    b = boot(m + bystanders(), files("hostile"), timeout=180)
    exited = {e["name"]: e["code"] for e in b.events("domain-exited")}
    # flags: every hypercall right under AC, DF, NT, IOPL; console text intact
    assert b.lines("h-flags| hostile: flags: 0 wrong"), b.lines("h-flags|")
    for f in FLAG_SETS:
        assert b.lines("h-flags| hostile: console write under rflags |= 0x%x" % f), f
    assert exited.get("h-flags") == "0"
    # TF: masked on entry, so the single step lands in ring 3, after the return
    assert_crashed(b, "h-tf", DB)
    assert "<flagged_call+" in report(b, "h-tf").splitlines()[1]
    # stack games: the hypervisor never touches the guest's RSP
    assert b.lines("h-stack| hostile: stack: 12 stacks, 0 wrong"), b.lines("h-stack|")
    assert exited.get("h-stack") == "0"
    # fuzzing: every answer one the ABI allows, nothing forged on the log
    for i, seed in enumerate(FUZZ_SEEDS):
        done = b.lines("h-fuzz%d| hostile: fuzz done" % i)
        assert done and "wrong=0" in done[0], b.lines("h-fuzz%d|" % i)[-20:]
        assert "calls=%d " % FUZZ_COUNT in done[0], done
        assert exited.get("h-fuzz%d" % i) == "0"
    assert not re.search(r"^(@event domain-exited id=99|hv\| PANIC: forged)", b.log, re.M)
    assert "\x1b" not in b.log
    assert_hypervisor_whole(b, 2)
