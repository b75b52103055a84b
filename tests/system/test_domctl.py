"""Privileged domain control (issue: control plane, hypervisor side):
PV_HC_DOMCTL answers a privileged domain's host, list and info queries and
destroys other domains; every other domain gets -EPERM; a malformed
request is refused without effect (tests/guests/ctl)."""
import re

from conftest import guest

EPERM, ENOENT, EINVAL, EFAULT, ENOMEM, EEXIST = 1, 2, 22, 14, 12, 17

MANIFEST = """
[hypervisor]
poweroff_when_idle = yes
[guest ctl]
image = ctl.elf
memory = 4M
privileged = yes
cmdline = "ctl priv"
[guest victim]
image = spin.elf
memory = 1M
instances = 2
[guest bystander]
image = spin.elf
memory = 1M
cmdline = "spin 3"
[guest plain]
image = ctl.elf
memory = 4M
cmdline = "ctl unpriv"
"""


def parse(line):
    """key=value pairs after the check's name; msg= takes the rest."""
    body, _, msg = line.split("ctl: ", 1)[1].partition(" msg=")
    d = dict(kv.split("=", 1) for kv in body.split()[1:])
    if msg:
        d["msg"] = msg
    return d


def ctl_lines(b, key):
    return [parse(l) for l in b.log.splitlines() if re.match(r"^\S+\| ctl: %s( |$)" % key, l)]


def test_privileged_domain_queries_and_destroys(boot):
    b = boot(MANIFEST, files=[guest("ctl"), guest("spin")], timeout=120)
    host = ctl_lines(b, "host")[0]
    assert host["r"] == "0" and int(host["cpus"]) >= 1 and int(host["total_mib"]) > 100, b.log[-3000:]
    assert host["domains"] == "5" and host["version"] and host["abi"] == "1"
    first, after = ctl_lines(b, "list")
    names = [e.split(":")[0] for e in first["names"].split(",")]
    assert sorted(names) == ["bystander", "ctl", "plain", "victim-1", "victim-2"], first
    ids = [int(e.split(":")[1]) for e in first["names"].split(",")]
    assert ids == sorted(ids)
    ev = ctl_lines(b, "events")[0]
    assert ev["r"] == "0" and ev["has_ctl"] == "1" and ev["has_bystander"] == "1", ev
    con = ctl_lines(b, "console")[0]
    assert con["r"] == "0" and con["has_spin"] == "1", con
    assert ctl_lines(b, "console-missing")[0]["r"] == str(-ENOENT)
    me = ctl_lines(b, "info-self")[0]
    assert me["r"] == "0" and me["name"] == "ctl" and me["flags"] == "3" and me["memory_kib"] == "4096"
    missing = ctl_lines(b, "info-missing")[0]
    assert missing["r"] == str(-ENOENT) and missing["msg"] == "no such domain"
    for bad in ("bad-magic", "bad-version", "bad-size", "bad-op"):
        assert ctl_lines(b, bad)[0]["r"] == str(-EINVAL), bad
    assert ctl_lines(b, "bad-pointer")[0]["r"] == str(-EFAULT)
    assert ctl_lines(b, "read-only")[0]["r"] == str(-EFAULT)
    assert ctl_lines(b, "destroy-self")[0]["r"] == str(-EINVAL)
    assert ctl_lines(b, "destroy-missing")[0]["r"] == str(-ENOENT)
    assert [l["r"] for l in ctl_lines(b, "destroy-victim-1") + ctl_lines(b, "destroy-victim-2")] == ["0", "0"]
    assert "victim" not in after["names"], after
    stopped = [e for e in b.events("domain-stopped") if e["name"].startswith("victim")]
    assert len(stopped) == 2 and all(e["reason"] == "destroyed" for e in stopped)
    assert not [e for e in b.events("domain-crashed") if e["name"].startswith("victim")]
    assert b.event("domain-exited") and any(e["name"] == "bystander" and e["code"] == "0"
                                            for e in b.events("domain-exited"))


def test_privileged_domain_creates_domains(boot):
    b = boot(MANIFEST, files=[guest("ctl"), guest("spin")], timeout=120)
    made, again = ctl_lines(b, "create-hello")[0], ctl_lines(b, "create-again")[0]
    assert made["r"] == "0" and int(made["id"]) > 5, b.log[-3000:]
    assert again["r"] == "0" and again["hash"] == made["hash"] != "00000000"
    made_info = ctl_lines(b, "info-made")[0]   # it may have ended already
    assert made_info["r"] == str(-ENOENT) or (made_info["hash"] == made["hash"] and made_info["flags"] == "0")
    assert "made| Hello from Paravane!" in b.log and "made2| Hello from Paravane!" in b.log
    created = {e["name"]: e for e in b.events("domain-created")}
    assert created["made"]["id"] == made["id"]
    assert any(e["name"] == "made" and e["code"] == "0" for e in b.events("domain-exited"))
    refusals = {k: ctl_lines(b, "create-" + k)[0] for k in
                ("dupname", "badname", "truncated", "huge", "badptr", "toosmall")}
    assert refusals["dupname"]["r"] == str(-EEXIST) and "already" in refusals["dupname"]["msg"]
    assert refusals["badname"]["r"] == str(-EINVAL) and refusals["badname"]["msg"].startswith("name:")
    assert refusals["truncated"]["r"] == str(-EINVAL) and refusals["truncated"]["msg"] != "-"
    assert refusals["huge"]["r"] == str(-ENOMEM) and "free" in refusals["huge"]["msg"], refusals["huge"]
    assert refusals["badptr"]["r"] == str(-EINVAL) and "readable" in refusals["badptr"]["msg"]
    assert refusals["toosmall"]["r"] == str(-EINVAL) and "too small" in refusals["toosmall"]["msg"]
    check = b.event("memory-check")
    assert check["free_kib_at_start"] == check["free_kib_now"], check   # nothing half-built stays


PAUSED, RUNNING = "3", "1"


def test_paused_domain_gets_no_cpu_until_resumed(boot):
    b = boot(MANIFEST, files=[guest("ctl"), guest("spin")], timeout=120)
    p = ctl_lines(b, "pause")[0]
    assert p["r"] == "0" and p["state"] == PAUSED, b.log[-3000:]
    assert int(p["ran_while_paused_us"]) == 0, p
    assert p["state_after"] == RUNNING and int(p["ran_after_us"]) > 10000, p
    assert ctl_lines(b, "unpause")[0]["r"] == "0"
    assert ctl_lines(b, "pause-self")[0]["r"] == str(-EINVAL)
    assert ctl_lines(b, "pause-missing")[0]["r"] == str(-ENOENT)
    assert any(e["name"] == "bystander" and e["code"] == "0" for e in b.events("domain-exited"))
    assert b.event("domain-paused")["name"] == "bystander" and b.event("domain-resumed")["name"] == "bystander"


def test_unprivileged_domain_gets_eperm_for_every_op(boot):
    b = boot(MANIFEST, files=[guest("ctl"), guest("spin")], timeout=120)
    answers = ctl_lines(b, "unpriv")
    ops = {int(a["op"]) for a in answers}
    assert {1, 2, 3, 4, 5, 6, 7, 14, 15} <= ops and len(answers) == len(ops), b.log[-3000:]
    assert all(a["r"] == str(-EPERM) for a in answers), answers
    assert any(e["name"] == "victim-1" for e in b.events("domain-stopped"))   # the privileged one did it


CYCLES = """
[hypervisor]
poweroff_when_idle = yes
[guest ctl]
image = ctl.elf
memory = 4M
privileged = yes
cmdline = "ctl cycles 1000"
"""


def test_a_thousand_creates_and_destroys_return_every_frame(boot):
    b = boot(CYCLES, files=[guest("ctl")], timeout=300)
    done = ctl_lines(b, "cycles")
    assert done and done[0] == {"done": "1000", "failed": "0"}, b.log[-3000:]
    assert len([e for e in b.events("domain-created") if e["name"].startswith("cycle")]) == 1000
    check = b.event("memory-check")
    assert check["free_kib_at_start"] == check["free_kib_now"], check
    assert b.status == 0
