"""Hostile save streams: every checksum right, the contents wrong on
purpose (tests/system/savestream.py rewrites them).  Each is refused with a
message naming what is wrong, leaves no domain and no memory behind, and
the hypervisor goes on (a good stream restores after all of them); what
cannot hurt the hypervisor (flags ring 3 may not have) is made harmless."""
import re
import struct

import pytest

from conftest import BUILD, guest
from control import ControlVM, TICKER
from savestream import (CLOCK, CONSOLE, CPU, DEVICE, DOM_BLOCK_COUNT, DOM_BLOCKS, DOM_MEM_PAGES, DOM_MEMORY,
                        DOM_NAME, DOMAIN, FPU, PAGES, Stream)

ECHO = BUILD / "apps" / "echo" / "echo.elf"
OCTETS = {"Content-Type": "application/octet-stream"}


@pytest.fixture(scope="module")
def vm():
    with ControlVM(files=[guest("ticker")], smp=2) as v:
        assert v.upload("ticker", TICKER)[0] in (200, 201)
        assert v.upload("echo", ECHO)[0] in (200, 201)
        yield v


def saved(vm, name, **create):
    assert vm.create(name, **create)[0] == 201
    vm.wait_console(name, b"t" if create["image"] == "ticker" else b"echo")
    status, _, data = vm.request("GET", "/v1/domains/%s/save?then=destroy" % name, timeout=120)
    assert status == 200
    vm.wait_gone(name)
    return data


@pytest.fixture(scope="module")
def ticker(vm):
    return saved(vm, "tk", image="ticker", args=["0", "100"])


@pytest.fixture(scope="module")
def echo(vm):
    net = [{"mac": "02:00:00:00:5c:01", "ip": "10.0.2.44", "prefix": 24, "gw": "10.0.2.2"}]
    return saved(vm, "ec", image="echo", memory=8 << 20, net=net)


def names(vm):
    return vm.names()


def refused(vm, data, status, code, words):
    before, free = names(vm), vm.api("GET", "/v1/host")[2]["memory_free"]
    got, _, err = vm.api("POST", "/v1/restore", data, headers=OCTETS, timeout=120)
    assert (got, err["error"]["code"]) == (status, code), err
    assert words in err["error"]["message"], err
    vm.wait_gone("tk")                      # a domain built before the refusal ends on its CPU
    vm.wait_gone("ec")
    assert names(vm) == before
    assert vm.api("GET", "/v1/host")[2]["memory_free"] == free


def edit(data, fn):
    s = Stream.parse(data)
    fn(s)
    return s.bytes()


def test_the_codec_rewrites_a_stream_byte_for_byte(ticker):
    assert Stream.parse(ticker).bytes() == ticker


@pytest.mark.parametrize("field, value, words", [
    ("rip", 0xffff800000000000, "rip"),         # the hypervisor's half
    ("rip", 0x1000, "rip"),                     # below the domain
    ("rip", 1 << 47, "rip"),                    # not canonical
    ("rsp", 0x8000000000000000, "rsp"),
    ("fs_base", 0xdead0000, "fs_base"),
    ("gs_base", 1 << 63, "gs_base"),
])
def test_registers_our_exit_cannot_load_are_refused(vm, ticker, field, value, words):
    refused(vm, edit(ticker, lambda s: s.cpu_set(field, value)), 400, "bad_stream", words)


def fpu_area(s):
    return s.first(FPU), 16                     # struct pv_save_fpu, then the area


@pytest.mark.parametrize("change, words", [
    (lambda p, a: struct.pack_into("<I", p, a + 24, 0xffff0000), "MXCSR"),     # reserved MXCSR bits
    (lambda p, a: struct.pack_into("<Q", p, a + 512, 1 << 62), "XSTATE_BV"),  # a component never enabled
    (lambda p, a: struct.pack_into("<Q", p, a + 520, 1 << 63), "header"),     # compacted format
    (lambda p, a: struct.pack_into("<Q", p, 0, 0xffffffffffffffff), "XCR0"),  # other features
    (lambda p, a: struct.pack_into("<I", p, 8, 3), "FPU"),                     # no such format
])
def test_fpu_state_xrstor_would_fault_on_is_refused(vm, ticker, change, words):
    def bad(s):
        p, a = fpu_area(s)
        change(p, a)
    refused(vm, edit(ticker, bad), 400, "bad_stream", words)


def stack_pages():
    conf = (BUILD / "include" / "generated" / "autoconf.h").read_text()
    return int(re.search(r"CONFIG_GUEST_STACK_KB (\d+)", conf).group(1)) // 4


def test_a_page_the_domain_does_not_own_is_refused(vm, ticker):
    def guard_page(s):
        p = next(r[2] for r in reversed(s.records) if r[0] == PAGES)
        n = struct.unpack_from("<I", p, 0)[0]
        mem_pages = struct.unpack_from("<Q", s.first(DOMAIN), DOM_MEM_PAGES)[0]
        guard = mem_pages - 3 - stack_pages()   # below the stack and the two info pages
        idx = sorted(set(struct.unpack_from("<%dQ" % n, p, 8)[:-1]) | {guard})
        if len(idx) < n:                        # it was there already: keep the count
            idx.append(mem_pages - 1)
        struct.pack_into("<%dQ" % n, p, 8, *sorted(idx))
    refused(vm, edit(ticker, guard_page), 400, "bad_stream", "not memory of the domain")


def test_settings_are_checked_as_a_create_checks_them(vm, ticker):
    def bad_name(s):
        s.first(DOMAIN)[DOM_NAME:DOM_NAME + 4] = b"a b\0"
    refused(vm, edit(ticker, bad_name), 400, "bad_stream", "name")

    def huge(s):
        d = s.first(DOMAIN)
        struct.pack_into("<Q", d, DOM_MEMORY, 64 << 30)
        struct.pack_into("<Q", d, DOM_MEM_PAGES, (64 << 30) // 4096)
    refused(vm, edit(ticker, huge), 507, "admission_refused", "out of memory")

    def mismatch(s):
        struct.pack_into("<Q", s.first(DOMAIN), DOM_MEM_PAGES, 17)
    refused(vm, edit(ticker, mismatch), 400, "bad_stream", "memory")


def test_devices_the_domain_does_not_have_are_refused(vm, ticker, echo):
    def stray_net(s):
        s.records.insert(next(i for i, r in enumerate(s.records) if r[0] == CONSOLE),
                         [DEVICE, 0, bytearray(struct.pack("<II6sHIIII16sQ", 1, 3, b"\2\0\0\0\0\1", 0,
                                                           0, 0, 0, 0, b"", 0))])
    refused(vm, edit(ticker, stray_net), 400, "bad_stream", "DEVICE")

    def other_mac(s):
        dev = next(r[2] for r in s.records if r[0] == DEVICE)
        dev[8:14] = b"\x02\x00\x00\x00\x5c\x99"
    refused(vm, edit(echo, other_mac), 400, "bad_stream", "MAC")

    def no_device(s):
        s.records = [r for r in s.records if r[0] != DEVICE]
    refused(vm, edit(echo, no_device), 400, "bad_stream", "no record")

    def missing_volume(s):
        d = s.first(DOMAIN)
        struct.pack_into("<I", d, DOM_BLOCK_COUNT, 1)
        d[DOM_BLOCKS:DOM_BLOCKS + 7] = b"disk:7\0"
        d[DOM_BLOCKS + 96:DOM_BLOCKS + 101] = b"data\0"
        struct.pack_into("<Q", d, DOM_BLOCKS + 120, 2048)
    refused(vm, edit(ticker, missing_volume), 409, "volume_missing", "disk:7")


def test_records_out_of_place_are_refused(vm, ticker):
    def two_clocks(s):
        i = next(i for i, r in enumerate(s.records) if r[0] == CLOCK)
        s.records.insert(i, list(s.records[i]))
    refused(vm, edit(ticker, two_clocks), 400, "bad_stream", "CLOCK")

    def no_cpu(s):
        s.records = [r for r in s.records if r[0] != CPU]
    refused(vm, edit(ticker, no_cpu), 400, "bad_stream", "CPU")


def test_flags_ring_3_may_not_have_are_dropped_and_the_guest_runs(vm, ticker):
    # IOPL 3, VM86, NT, TF, IF clear: reduced to what ring 3 may have, IF on
    data = edit(ticker, lambda s: s.cpu_set("rflags", 0x27300))
    status, _, d = vm.api("POST", "/v1/restore", data, headers=OCTETS)
    assert status == 201, d
    last = vm.wait_console("tk", b"ticker: tick")
    n = int(last.split(b"ticker: tick ")[-1].split(b"\n")[0])
    vm.wait_console("tk", b"tick %d\n" % (n + 3))
    assert vm.api("DELETE", "/v1/domains/tk")[0] == 200
    vm.wait_gone("tk")


def test_console_bytes_are_kept_raw_and_the_good_stream_still_restores(vm, ticker):
    def noisy(s):
        p = s.first(CONSOLE)
        p[:] = b"\x1b[2J\x00\xff" * 100
    status, _, d = vm.api("POST", "/v1/restore", edit(ticker, noisy), headers=OCTETS)
    assert status == 201, d
    assert vm.request("GET", "/v1/domains/tk/console")[2].startswith(b"\x1b[2J\x00\xff")
    assert vm.api("DELETE", "/v1/domains/tk")[0] == 200
    vm.wait_gone("tk")
    status, _, d = vm.api("POST", "/v1/restore", ticker, headers=OCTETS)
    assert status == 201 and d["name"] == "tk", d
    assert vm.api("DELETE", "/v1/domains/tk")[0] == 200
    vm.wait_gone("tk")
