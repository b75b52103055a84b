"""The save stream (hypervisor/include/public/save.h, docs/migration.md) read
into records and written back with every checksum right, so that a test
can change what a record says and still get past the framing: a hostile
stream, not a damaged one.

    s = Stream.parse(data)
    s.cpu_set("rip", 0xffff800000000000)
    bad = s.bytes()
"""
import struct
import zlib

HEADER = struct.Struct("<QIIIIQII")        # magic, version, abi, size, flags, created, reserved, crc
RECORD = struct.Struct("<HHIQII")          # type, flags, reserved, length, payload crc, crc
END = struct.Struct("<QQII")               # records, bytes, stream crc, reserved

DOMAIN, CPU, FPU, CLOCK, PAGES, DEVICE, CONSOLE, END_TYPE = 1, 2, 3, 4, 5, 6, 7, 0xFFFF
CPU_FIELDS = ("rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 "
              "rip rflags fs_base gs_base").split()
# struct pv_save_domain: offsets into the payload
DOM_NAME, DOM_MEMORY, DOM_NET_COUNT, DOM_MEM_PAGES, DOM_BLOCK_COUNT, DOM_BLOCKS = 0, 288, 312, 440, 460, 464


class Stream:
    def __init__(self, header, records):
        self.header = header                 # the 40 header bytes
        self.records = records               # [type, flags, payload bytearray], END left out

    @classmethod
    def parse(cls, data):
        off, records = HEADER.size, []
        while off < len(data):
            rtype, flags, _, length, _, _ = RECORD.unpack_from(data, off)
            payload = bytearray(data[off + RECORD.size:off + RECORD.size + length])
            off += RECORD.size + length + (-length % 8)
            if rtype != END_TYPE:
                records.append([rtype, flags, payload])
        return cls(bytes(data[:HEADER.size]), records)

    def first(self, rtype):
        return next(r[2] for r in self.records if r[0] == rtype)

    def cpu_set(self, field, value):
        struct.pack_into("<Q", self.first(CPU), 8 * CPU_FIELDS.index(field), value)

    def cpu_get(self, field):
        return struct.unpack_from("<Q", self.first(CPU), 8 * CPU_FIELDS.index(field))[0]

    def bytes(self):
        out = bytearray(self.header)
        crc = zlib.crc32(self.header)
        for rtype, flags, payload in self.records:
            head = struct.pack("<HHIQI", rtype, flags, 0, len(payload), zlib.crc32(payload))
            head += struct.pack("<I", zlib.crc32(head))
            crc = zlib.crc32(head, crc)
            out += head + payload + bytes(-len(payload) % 8)
        end = END.pack(len(self.records), len(out), crc, 0)
        head = struct.pack("<HHIQI", END_TYPE, 0, 0, len(end), zlib.crc32(end))
        return bytes(out + head + struct.pack("<I", zlib.crc32(head)) + end)
