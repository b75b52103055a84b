#!/usr/bin/python3
"""Generate the hypervisor's symbol table for symbolized backtraces.

  ksyms.py ELF        assembly for .ksyms from ELF's function symbols
  ksyms.py --empty    an empty table (first link pass)
  ksyms.py --verify A B   fail unless A and B place every function alike

The table layout matches hypervisor/core/symbols.c: sorted entries of
(u64 addr, u32 name offset, u32 size), then a string table.
"""
import subprocess
import sys


def functions(elf):
    out = subprocess.run(["nm", "-S", "--defined-only", elf], check=True,
                         capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tT":
            syms[(int(parts[0], 16), parts[3])] = int(parts[1], 16)
        elif len(parts) == 3 and parts[1] in "tT":
            syms[(int(parts[0], 16), parts[2])] = 0
    return sorted(syms.items())


def emit(entries):
    strings, lines = bytearray(), []
    lines.append('\t.section .ksyms, "a"\n\t.p2align 3')
    lines.append("\t.globl ksyms_table, ksyms_count, ksyms_strings, ksyms_strings_size")
    lines.append("ksyms_count:\n\t.quad %d" % len(entries))
    lines.append("ksyms_table:")
    for (addr, name), size in entries:
        lines.append("\t.quad 0x%x\n\t.long %d, %d" % (addr, len(strings), min(size, 0xffffffff)))
        strings += name.encode() + b"\0"
    lines.append("ksyms_strings_size:\n\t.quad %d" % len(strings))
    lines.append("ksyms_strings:")
    for i in range(0, len(strings), 32):
        lines.append("\t.byte " + ",".join(str(b) for b in strings[i:i + 32]))
    lines.append('\t.section .note.GNU-stack, "", @progbits')
    return "\n".join(lines) + "\n"


def main(argv):
    if argv[1:] == ["--empty"]:
        sys.stdout.write(emit([]))
    elif len(argv) == 4 and argv[1] == "--verify":
        a, b = functions(argv[2]), functions(argv[3])
        if a != b:
            sys.exit("ksyms: the second link moved functions; .ksyms must be last")
    elif len(argv) == 2:
        sys.stdout.write(emit(functions(argv[1])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
