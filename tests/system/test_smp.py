"""Every CPU (issue: SMP): application processors are started through the
loader-reserved real-mode page (INIT-SIPI-SIPI), each on its own GDT, TSS
and guarded stacks, and [hypervisor] cpus caps how many."""
import pytest

from conftest import guest

HELLO = """
[hypervisor]
log_level = info
poweroff_when_idle = yes
%s
[guest h]
image = hello.elf
memory = 1M
"""


@pytest.mark.parametrize("smp", [1, 2, 4], ids=["smp1", "smp2", "smp4"])
def test_every_cpu_starts(boot, smp):
    b = boot(HELLO % "", files=[guest("hello")])
    ev = b.event("cpus")
    assert ev["started"] == str(smp) and ev["found"] == str(smp), b.log[-3000:]
    assert "hv| cpus: %d started of %d" % (smp, smp) in b
    assert "cpu-failed" not in b.log
    assert b.event("domain-exited")["code"] == "0"
    assert b.status == 0


@pytest.mark.parametrize("smp", [4], ids=["smp4"])
def test_manifest_caps_the_cpu_count(boot):
    b = boot(HELLO % "cpus = 2", files=[guest("hello")])
    ev = b.event("cpus")
    assert (ev["started"], ev["found"]) == ("2", "4"), b.log[-3000:]
    assert b.status == 0


@pytest.mark.parametrize("smp", [4], ids=["smp4"])
def test_a_cpu_that_never_answers_is_left_out(boot):
    """Test builds can withhold the start-up IPIs from the last CPU: the
    hypervisor waits a bounded time, says so, and runs on the others."""
    b = boot(HELLO % "selftest = deadcpu", files=[guest("hello")])
    assert b.event("cpu-failed")["apic_id"] == "3", b.log[-3000:]
    assert "did not start within 2000 ms; left out" in b
    assert (b.event("cpus")["started"], b.event("cpus")["found"]) == ("3", "4")
    assert b.event("domain-exited")["code"] == "0"
    assert b.status == 0
