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


@pytest.mark.parametrize("cpus", [1, 2, 4])
def test_every_cpu_starts(boot, cpus):
    b = boot(HELLO % "", files=[guest("hello")], smp=cpus)
    ev = b.event("cpus")
    assert ev["started"] == str(cpus) and ev["found"] == str(cpus), b.log[-3000:]
    assert "hv| cpus: %d started of %d" % (cpus, cpus) in b
    assert "cpu-failed" not in b.log
    assert b.event("domain-exited")["code"] == "0"
    assert b.status == 0


def test_manifest_caps_the_cpu_count(boot):
    b = boot(HELLO % "cpus = 2", files=[guest("hello")], smp=4)
    ev = b.event("cpus")
    assert (ev["started"], ev["found"]) == ("2", "4"), b.log[-3000:]
    assert b.status == 0
