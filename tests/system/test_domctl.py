"""Privileged domain control (issue: control plane, hypervisor side):
PV_HC_DOMCTL answers a privileged domain's host, list and info queries and
destroys other domains; every other domain gets -EPERM; a malformed
request is refused without effect (tests/guests/ctl)."""
import hashlib
import re
from pathlib import Path

import pytest

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


def every_frame_back(b):
    check = b.event("memory-check")
    assert check["free_kib_at_start"] == check["free_kib_now"], check


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
    every_frame_back(b)          # nothing half-built stays


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
    ops = [int(a["op"]) for a in answers]
    assert ops == list(range(1, 26)), b.log[-3000:]     # every op, PV_DOMCTL_CREATE..PV_DOMCTL_OP_MAX - 1
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


# Four CPUs only: the frame accounting is the same on one (make test's time).
@pytest.mark.parametrize("smp", [4], indirect=True)
def test_a_thousand_creates_and_destroys_return_every_frame(boot):
    b = boot(CYCLES, files=[guest("ctl")], timeout=300)
    done = ctl_lines(b, "cycles")
    assert done and done[0] == {"done": "1000", "failed": "0"}, b.log[-3000:]
    assert len([e for e in b.events("domain-created") if e["name"].startswith("cycle")]) == 1000
    every_frame_back(b)
    assert b.status == 0


# ---- the named image store, CREATE by hash, GET_CONFIG ----------------------

IMAGES = """
[hypervisor]
poweroff_when_idle = yes
[guest ctl]
image = ctl.elf
memory = 4M
privileged = yes
cmdline = "ctl images"
[guest keeper]
image = spin.elf
memory = 2M
cmdline = "spin"
cpus = 0
weight = 300
on_crash = restart
restart_limit = 7
net = mac=02:00:00:00:00:07, ip=10.0.0.7/24, gw=10.0.0.1, guard=mac
net = mac=02:00:00:00:00:08, dhcp
[guest twin]
image = spin.elf
memory = 1M
cmdline = "spin"
on_exit = poweroff
"""

ENOSPC = 28


def sha(name):
    """The first 8 bytes of a built image's SHA-256, as ctl prints hashes."""
    return hashlib.sha256(Path(guest(name)[0]).read_bytes()).hexdigest()[:16]


def size(name):
    return Path(guest(name)[0]).stat().st_size


def one(b, key):
    lines = ctl_lines(b, key)
    assert len(lines) == 1, (key, lines, b.log[-3000:])
    return lines[0]


def test_image_store_names_bytes_once_and_refuses_clearly(boot):
    b = boot(IMAGES, files=[guest("ctl"), guest("spin")], timeout=120)
    empty = one(b, "store-empty")
    assert empty["images"] == "0" and empty["bytes"] == "0", b.log[-3000:]
    assert int(empty["limit"]) == int(empty["total"]) // 4
    hello = one(b, "add-hello")
    assert hello["r"] == "0" and hello["flags"] == "0" and hello["hash"] == sha("hello"), hello
    assert int(hello["size"]) == size("hello") and hello["users"] == "0" and hello["names"] == "1"
    again = one(b, "add-again")
    assert again["r"] == "0" and again["flags"] == "1" and again["hash"] == hello["hash"]
    other = one(b, "add-other")
    assert other["r"] == str(-EEXIST) and "other bytes" in other["msg"], other
    assert one(b, "add-junk") == {"r": str(-EINVAL), "flags": "0", "msg": "not an ELF file"}
    cut = one(b, "add-cut")
    assert cut["r"] == str(-EINVAL) and "outside the file" in cut["msg"], cut
    for bad in ("digits", "badname"):
        r = one(b, "add-" + bad)
        assert r["r"] == str(-EINVAL) and r["msg"].startswith("name:"), r
    assert one(b, "add-badptr")["r"] == str(-EINVAL) and "readable" in one(b, "add-badptr")["msg"]
    assert one(b, "add-empty")["r"] == str(-EINVAL) and "image_size" in one(b, "add-empty")["msg"]
    # spin.elf is also the boot image of keeper and twin: the name shares it
    spinner = one(b, "add-spinner")
    assert spinner["r"] == "0" and spinner["hash"] == sha("spin") and spinner["users"] == "2", spinner
    spin2 = one(b, "add-spin2")
    assert spin2["r"] == "0" and spin2["users"] == "0" and int(spin2["size"]) == size("spin") + 4096
    alias = one(b, "add-alias")
    assert alias["r"] == "0" and alias["hash"] == hello["hash"] and alias["names"] == "2", alias
    full = one(b, "store-full")
    assert full["images"] == "4" and int(full["bytes"]) == size("hello") + 2 * size("spin") + 4096, full
    assert one(b, "ilist-all")["names"] == "alias:0:2,hello:0:2,spin2:0:1,spinner:2:1"
    two = one(b, "ilist-two")
    assert two["count"] == "2" and two["total"] == "4" and two["names"] == "alias:0:2,hello:0:2", two
    assert one(b, "ilist-toomany")["r"] == str(-EINVAL)
    after = one(b, "store-after")
    assert after["images"] == "0" and after["bytes"] == "0", after
    every_frame_back(b)
    assert b.status == 0


def test_create_by_hash_shares_the_stored_bytes_which_outlive_their_name(boot):
    b = boot(IMAGES, files=[guest("ctl"), guest("spin")], timeout=120)
    spin2 = one(b, "add-spin2")["hash"]
    for run in ("run1", "run2"):
        made, info = one(b, "hcreate-" + run), one(b, "hinfo-" + run)
        assert made["r"] == "0" and made["hash"] == spin2, (made, b.log[-3000:])
        assert info["r"] == "0" and info["hash"] == spin2 and info["flags"] == "0", info
    users = one(b, "add-spin2-users")
    assert users["flags"] == "1" and users["users"] == "2" and users["names"] == "1", users
    unknown = one(b, "hcreate-unknown")
    assert unknown["r"] == str(-ENOENT) and unknown["msg"] == "no stored image with that hash"
    removed = one(b, "remove-spin2")
    assert removed["r"] == "0" and removed["users"] == "2" and removed["names"] == "1", removed
    assert one(b, "remove-spin2-again")["r"] == str(-ENOENT)
    assert one(b, "hinfo-run1-after")["state"] in ("1", "2")          # it goes on
    assert one(b, "hcreate-run3")["r"] == "0"                        # the bytes too, while used
    assert one(b, "run3-ran")["shown"] == "1"                        # and it runs
    assert "run1| spin: spinning forever" in b.log and "run3| spin: spinning forever" in b.log
    gone = one(b, "hcreate-gone")                                    # freed with the last user
    assert gone["r"] == str(-ENOENT), gone
    for name, names in (("hello", "2"), ("alias", "1"), ("spinner", "1")):
        r = one(b, "remove-" + name)
        assert r["r"] == "0" and r["names"] == names, r
    every_frame_back(b)


def test_boot_images_are_hashed_and_shared(boot):
    b = boot(IMAGES, files=[guest("ctl"), guest("spin")], timeout=120)
    keeper, twin, me = one(b, "hinfo-keeper"), one(b, "hinfo-twin"), one(b, "hinfo-self")
    assert keeper["hash"] == twin["hash"] == sha("spin") and keeper["flags"] == "2", (keeper, twin)
    assert me["hash"] == sha("ctl") and me["flags"] == "3", me
    line = [l for l in b.log.splitlines() if "hv| images: " in l][0]
    m = re.search(r"(\d+) boot images hashed \((\d+) KiB\) in (\d+) us, (\d+) distinct; (\d+) KiB of duplicates", line)
    assert m and m.group(1) == "3" and m.group(4) == "2", line
    assert int(m.group(5)) == (size("spin") + 4095) // 4096 * 4, line      # twin's copy given back
    copy = one(b, "hcreate-bootcopy")                                # CREATE by a boot image's hash
    assert copy["r"] == "0" and copy["hash"] == sha("spin"), copy
    assert any(e["name"] == "bootcopy" and e["code"] == "0" for e in b.events("domain-exited"))


def test_get_config_of_created_and_boot_domains(boot):
    b = boot(IMAGES, files=[guest("ctl"), guest("spin")], timeout=120)
    run1 = one(b, "config-run1")
    assert run1 == {"r": "0", "name": "run1", "cmdline": "spin%20forever", "memory_kib": "1024",
                    "cpu_mask": "0x0", "weight": "256", "on_exit": "0", "on_crash": "0",
                    "restart_limit": "0", "nets": "0"}, (run1, b.log[-3000:])
    keeper = one(b, "config-keeper")
    assert keeper == {"r": "0", "name": "keeper", "cmdline": "spin", "memory_kib": "2048", "cpu_mask": "0x1",
                      "weight": "300", "on_exit": "0", "on_crash": "1", "restart_limit": "7", "nets": "2"}, keeper
    nets = ctl_lines(b, "confignet-keeper")
    assert nets == [{"i": "0", "mac": "02:00:00:00:00:07", "ip": "10.0.0.7/24", "gw": "10.0.0.1", "flags": "2"},
                    {"i": "1", "mac": "02:00:00:00:00:08", "ip": "0.0.0.0/0", "gw": "0.0.0.0", "flags": "1"}], nets
    twin = one(b, "config-twin")
    assert twin["on_exit"] == "2" and twin["on_crash"] == "0" and twin["restart_limit"] == "3", twin
    me = one(b, "config-self")
    assert me["cmdline"] == "ctl%20images" and me["memory_kib"] == "4096", me
    missing = one(b, "config-missing")
    assert missing["r"] == str(-ENOENT) and missing["msg"] == "no such domain"


STORE = """
[hypervisor]
poweroff_when_idle = yes
[guest ctl]
image = ctl.elf
memory = 48M
privileged = yes
cmdline = "ctl store 40"
"""


def test_store_limits_and_cycles_return_every_frame(boot):
    """256 names fill the table; half the byte limit fits and the other half
    and a page more does not; 40 add/create-by-hash/destroy/remove cycles;
    then every frame is back."""
    b = boot(STORE, files=[guest("ctl")], timeout=240, memory="256M")
    assert one(b, "fill") == {"added": "256", "failed": "0"}, b.log[-3000:]
    names = one(b, "store-names")
    assert names["images"] == "256" and int(names["bytes"]) < 4096, names   # one tiny image, 256 names
    more = one(b, "add-one-more")
    assert more["r"] == str(-ENOSPC) and "256 names" in more["msg"] and "0 left" in more["msg"], more
    assert one(b, "unfill") == {"removed": "256", "failed": "0"}
    limit = int(one(b, "store-start")["limit"])
    half = one(b, "add-half")
    assert half["r"] == "0", half
    over = one(b, "add-over")
    m = re.search(r"needs (\d+) KiB, (\d+) KiB of the (\d+) KiB limit left", over["msg"])
    assert over["r"] == str(-ENOSPC) and m, over
    assert int(m.group(2)) == (limit - int(half["size"])) >> 10 and int(m.group(3)) == limit >> 10, over
    assert one(b, "store-bytes")["images"] == "1"
    assert one(b, "remove-half")["r"] == "0"
    assert one(b, "store-cycles") == {"done": "40", "failed": "0"}
    end = one(b, "store-end")
    assert end["images"] == "0" and end["bytes"] == "0", end
    assert len([e for e in b.events("domain-created") if e["name"].startswith("cyc")]) == 40
    every_frame_back(b)
    assert b.status == 0


RACE = """
[hypervisor]
poweroff_when_idle = yes
[guest ctl]
image = ctl.elf
memory = 4M
privileged = yes
instances = 2
cmdline = "ctl race 1500 20"
"""


def test_two_creators_racing_for_one_name_never_both_win(boot, smp):
    """Two privileged domains create the same name at the same instant,
    20 times: the name check and the table insert are one step, so each
    round has exactly one winner (-EEXIST for the other)."""
    b = boot(RACE, files=[guest("ctl")], timeout=150)
    rounds = {}
    for line in b.log.splitlines():
        m = re.match(r"^(ctl-\d)\| ctl: race round=(\d+) r=(-?\d+)$", line)
        if m:
            rounds.setdefault(int(m.group(2)), []).append(int(m.group(3)))
    assert sorted(rounds) == list(range(20)), b.log[-3000:]
    for k, results in rounds.items():
        assert sorted(results) == [-EEXIST, 0], (k, results)
    every_frame_back(b)
