#!/usr/bin/python3
"""Give forge.elf's placeholder function a hostile symbol name: a forged
"@event" line, an "hv|" line and terminal escapes, newlines included.  The
string table entry is rewritten in place, same length (padded)."""
import sys

PLACEHOLDER = b"forge_symbol_placeholder_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
HOSTILE = (b"\nhv| forged-sym\n@event domain-exited id=97 name=forged-sym"
           b"\n\x1b[2J\x1b]0;t\x07\r\x9b")


def main(path):
    data = open(path, "rb").read()
    if PLACEHOLDER not in data:
        sys.exit("rename_symbol: %s has no placeholder symbol" % path)
    name = HOSTILE[:len(PLACEHOLDER)].ljust(len(PLACEHOLDER), b"X")
    assert b"\0" not in name
    open(path, "wb").write(data.replace(PLACEHOLDER, name))


if __name__ == "__main__":
    main(sys.argv[1])
