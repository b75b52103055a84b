"""NMIs and machine checks (issue: isolation, review finding 5): neither is
a guest's doing, so neither may end or blame the running domain; one that
lets the CPU go on must not stop the hypervisor; only a machine check that
corrupted the interrupted context does, with a report saying so.  QEMU's
monitor injects them (HMP `nmi`, `mce`) once the guest is spinning."""
import socket
import threading
import time

import pytest

from conftest import guest

SPIN = """
[hypervisor]
poweroff_when_idle = yes
[guest spinner]
image = spin.elf
memory = 1M
cmdline = "spin 3"
"""

# IA32_MCi_STATUS: VAL | UC | EN, and with PCC (processor context corrupt)
MCE_RECOVERABLE = 0xB000000000000000
MCE_CORRUPT = 0xB200000000000000
MCG_RIPV = 1


def hmp(path, commands):
    """Send human-monitor commands over QEMU's unix socket, one by one."""
    s = socket.socket(socket.AF_UNIX)
    for _ in range(50):
        try:
            s.connect(path)
            break
        except OSError:
            time.sleep(0.1)
    s.settimeout(10)
    buf = b""
    for cmd in commands:
        while not buf.endswith(b"(qemu) "):
            buf += s.recv(4096)
        s.sendall(cmd.encode() + b"\n")
        buf = b""
        time.sleep(0.2)
    s.close()


def boot_and_inject(boot, tmp_path, commands, trigger="spin: spinning"):
    sock = str(tmp_path / "mon.sock")
    sent = threading.Event()

    def on_line(line):
        if trigger in line and not sent.is_set():
            sent.set()
            threading.Thread(target=hmp, args=(sock, commands), daemon=True).start()

    b = boot(SPIN, files=[guest("spin")], stream=on_line, timeout=120,
             extra_args=["-monitor", "unix:%s,server=on,wait=off" % sock])
    assert sent.is_set(), b.log[-2000:]
    return b


def test_nmis_are_nobodys_fault(boot, tmp_path):
    b = boot_and_inject(boot, tmp_path, ["nmi", "nmi", "nmi"])
    assert b.events("nmi"), b.log[-3000:]
    assert b.event("domain-exited")["code"] == "0"
    assert not b.events("domain-crashed")
    assert b.status == 0


@pytest.mark.parametrize("smp", [1], ids=["smp1"])
def test_recoverable_machine_check_goes_on(boot, tmp_path):
    cmd = "mce 0 1 0x%x 0x%x 0 0" % (MCE_RECOVERABLE, MCG_RIPV)
    b = boot_and_inject(boot, tmp_path, [cmd, cmd])
    ev = b.event("machine-check")
    assert ev["recovered"] == "1" and ev["bank"] == "1", b.log[-3000:]
    assert b.event("domain-exited")["code"] == "0"
    assert not b.events("domain-crashed")
    assert b.status == 0


@pytest.mark.parametrize("smp", [1], ids=["smp1"])
def test_corrupting_machine_check_stops_with_a_report(boot, tmp_path):
    cmd = "mce 0 1 0x%x 0x%x 0 0" % (MCE_CORRUPT, MCG_RIPV)
    b = boot_and_inject(boot, tmp_path, [cmd])
    assert "machine check on CPU 0: hardware error, not caused by the" in b, b.log[-3000:]
    assert "processor context corrupt" in b
    assert not b.events("domain-crashed") and not b.events("domain-exited")
    assert b.status != 0
