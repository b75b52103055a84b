#!/usr/bin/env python3
"""Seeds for tests/fuzz/fuzz_ext2.c, made at build time (nothing binary
is committed): a tiny tree (files of 0 to 40 KiB, a sparse file of 12
extents, a 12-level path, an
indexed directory of 80 entries, fast and slow symlinks) put by the
host's real mke2fs -d into 1 MiB volumes as ext4 (4 KiB and 1 KiB
blocks, with and without checksums, inline data, 4 KiB clusters of 1 KiB
blocks) and ext2.  A seed is the harness's flag byte (1: fix the
superblock checksum) and the image without its trailing zeros (the
harness's disk is zero past the input).
Regression seeds are those images with the field that once crashed.

    ext2_seeds.py OUTDIR
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile

SIZE = 1 << 20
KINDS = {   # name: (flags byte, mke2fs options)
    "ext4-4k": (1, ["-t", "ext4", "-b", "4096"]),
    "ext4-1k": (1, ["-t", "ext4", "-b", "1024"]),
    "ext4-inline": (1, ["-t", "ext4", "-b", "1024", "-O", "inline_data"]),
    "ext4-bigalloc": (1, ["-t", "ext4", "-b", "1024", "-O", "bigalloc", "-C", "4096"]),
    # Without checksums, mutations reach inline data and clusters too.
    "ext4-inline-nocsum": (0, ["-t", "ext4", "-b", "1024", "-O",
                               "inline_data,^metadata_csum,^uninit_bg"]),
    "ext4-bigalloc-nocsum": (0, ["-t", "ext4", "-b", "1024", "-O",
                                 "bigalloc,^metadata_csum,^uninit_bg", "-C", "4096"]),
    "ext4-nocsum": (0, ["-t", "ext4", "-b", "1024", "-O", "^metadata_csum,^uninit_bg"]),
    "ext4-nocsum-4k": (0, ["-t", "ext4", "-b", "4096", "-O", "^metadata_csum,^uninit_bg"]),
    "ext2-1k": (0, ["-t", "ext2", "-b", "1024"]),
    "ext2-4k": (0, ["-t", "ext2", "-b", "4096"]),
}
# Regressions: a seed name, the one to patch, and (byte offset, u32).
# s_first_data_block 237 overflowed libext2fs's block bitmap when read
# (ext2_open.c refuses it now).
REGRESS = {
    "regress-first-data-block": ("ext4-1k", 1024 + 0x14, 237),
}


def make_tree(root):
    rnd = random.Random(5)
    for n in (0, 1, 60, 1500, 5000, 40000):
        with open(os.path.join(root, "f%d" % n), "wb") as f:
            f.write(rnd.randbytes(n))
    deep = os.path.join(root, *("d%d" % i for i in range(12)))
    os.makedirs(deep)
    with open(os.path.join(deep, "leaf"), "wb") as f:
        f.write(b"leaf\n")
    many = os.path.join(root, "many")
    os.mkdir(many)
    for i in range(80):
        open(os.path.join(many, "an-entry-with-a-long-name-%03d" % i), "wb").close()
    with open(os.path.join(root, "holes"), "wb") as f:     # an extent tree, depth 1
        for i in range(12):
            f.seek(i * 8192)
            f.write(b"%d" % i)
    os.symlink("f60", os.path.join(root, "fast"))
    os.symlink("d0/" * 30 + "slow-target", os.path.join(root, "slow"))


def main(out):
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tree = os.path.join(tmp, "tree")
        os.mkdir(tree)
        make_tree(tree)
        img = os.path.join(tmp, "img")
        for name, (flags, opts) in KINDS.items():
            with open(img, "wb") as f:
                f.truncate(SIZE)
            # Too small for a journal: mke2fs says so and leaves it out.
            env = dict(os.environ, E2FSPROGS_FAKE_TIME="1700000000")
            subprocess.run(["mke2fs", "-q", "-F", "-N", "128", "-U", "clear", "-E",
                            "root_owner=0:0,hash_seed=6b2c2c3e-0b0e-4d8a-9e3e-5b4b2b1b0a09",
                            *opts, "-d", tree, img], check=True, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            data = open(img, "rb").read().rstrip(b"\0")
            with open(os.path.join(out, name), "wb") as f:
                f.write(bytes([flags]) + data)
    for name, (base, off, value) in REGRESS.items():
        data = bytearray(open(os.path.join(out, base), "rb").read())
        data[1 + off:1 + off + 4] = value.to_bytes(4, "little")
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


# Journal mode (fuzz_ext2.c flag bit 1): one journaled base volume, and
# seeds that are logs debugfs writes into it (its journal's first bytes).
JOURNAL_BYTES = 16 << 10
JOURNAL_LOGS = {   # seed name: debugfs commands
    "journal-one": "jo\njw -b 300,301,302 {data}\njc\n",
    "journal-revoke": "jo\njw -b 300,301,302 {data}\njc\njo\njw -r 301\njc\n",
    "journal-csum": "jo -c\njw -b 300,301 {data}\njc\njo -c\njw -r 300\njc\n",
    "journal-open": "jo\njw -b 300 {data}\njc\njo\njw -b 301 -c {data}\njc\n",
}


def journal_offset(img):
    out = subprocess.run(["debugfs", "-R", "bmap <8> 0", img], capture_output=True,
                         text=True, check=True).stdout
    return int(out.split()[-1]) * 1024


def journal_seeds(out, base_path, tree):
    env = dict(os.environ, E2FSPROGS_FAKE_TIME="1700000000")
    with open(base_path, "wb") as f:
        f.truncate(3 << 20)                   # 1 MiB of journal, the smallest
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-b", "1024", "-J", "size=1", "-N", "128",
                    "-U", "clear", "-d", tree, base_path], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    at = journal_offset(base_path)
    with tempfile.TemporaryDirectory() as tmp:
        for name, cmds in JOURNAL_LOGS.items():
            img, cmdf = os.path.join(tmp, "j.img"), os.path.join(tmp, "cmds")
            shutil.copyfile(base_path, img)
            with open(cmdf, "w") as f:
                f.write(cmds.format(data=base_path))
            subprocess.run(["debugfs", "-w", "-f", cmdf, img], check=True, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(img, "rb") as f:
                f.seek(at)
                log = f.read(JOURNAL_BYTES)
            with open(os.path.join(out, name), "wb") as f:
                f.write(b"\x02" + log)


if __name__ == "__main__":
    main(sys.argv[1])
    # The base goes beside the seed directory (not in it: it is no input).
    with tempfile.TemporaryDirectory() as tmp:
        tree = os.path.join(tmp, "tree")
        os.mkdir(tree)
        make_tree(tree)
        journal_seeds(sys.argv[1], os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])),
                                                "journal-base.img"), tree)
