#!/usr/bin/python3
"""Build Paravane's bootable disk image: GPT with one EFI System Partition.

The same image boots in QEMU (OVMF) and, written with dd, on a real UEFI
machine.  No root, no loop devices: the GPT is written by this script and
the FAT file system by mtools through its IMAGE@@OFFSET syntax.

ESP layout:
    /EFI/BOOT/BOOTX64.EFI       the loader (UEFI's removable-media path)
    /paravane/hypervisor.elf    the hypervisor
    /paravane/manifest.conf     the boot manifest
    DEST of every --file SRC:DEST

Python 3 standard library only; docs/boot.md has the details.
"""

import argparse
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import uuid
import zlib

SECTOR = 512
MIB = 1 << 20
ESP_TYPE = uuid.UUID("C12A7328-F81F-11D2-BA4B-00A0C93EC93B")
GPT_ENTRIES = 128
GPT_ENTRY_SIZE = 128
GPT_ENTRY_SECTORS = GPT_ENTRIES * GPT_ENTRY_SIZE // SECTOR  # 32
PART_START = MIB  # 1 MiB: aligned for every flash medium
FAT32_MIN_SECTORS = 66 * 1024  # 65525 one-sector clusters + FATs + reserved

LOADER_DEST = "/EFI/BOOT/BOOTX64.EFI"
HV_DEST = "/paravane/hypervisor.elf"
MANIFEST_DEST = "/paravane/manifest.conf"


class ImageError(Exception):
    pass


# ---- GPT ------------------------------------------------------------------

def protective_mbr(total_sectors):
    """LBA 0: one partition of type 0xEE covering the disk, for old tools."""
    size = min(total_sectors - 1, 0xFFFFFFFF)
    entry = struct.pack("<B3sB3sII", 0, b"\x00\x02\x00", 0xEE,
                        b"\xff\xff\xff", 1, size)
    mbr = bytearray(SECTOR)
    mbr[446:462] = entry
    mbr[510:512] = b"\x55\xaa"
    return bytes(mbr)


def partition_entries(first_lba, last_lba, part_guid):
    name = "EFI System Partition".encode("utf-16-le")
    entry = struct.pack("<16s16sQQQ72s", ESP_TYPE.bytes_le, part_guid.bytes_le,
                        first_lba, last_lba, 0, name)
    return entry + bytes(GPT_ENTRY_SIZE * (GPT_ENTRIES - 1))


def gpt_header(my_lba, alt_lba, entries_lba, total_sectors, disk_guid,
               entries_crc):
    first_usable = 2 + GPT_ENTRY_SECTORS
    last_usable = total_sectors - 2 - GPT_ENTRY_SECTORS

    def pack(crc):
        return struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x00010000, 92,
                           crc, 0, my_lba, alt_lba, first_usable, last_usable,
                           disk_guid.bytes_le, entries_lba, GPT_ENTRIES,
                           GPT_ENTRY_SIZE, entries_crc)

    hdr = pack(zlib.crc32(pack(0)) & 0xFFFFFFFF)
    return hdr + bytes(SECTOR - len(hdr))


def esp_extent(total_bytes):
    """(first LBA, last LBA) of the ESP: from 1 MiB to the last whole MiB
    before the backup GPT."""
    total_sectors = total_bytes // SECTOR
    last_usable = total_sectors - 2 - GPT_ENTRY_SECTORS
    end = (last_usable + 1) * SECTOR // MIB * MIB
    if end - PART_START < 8 * MIB:
        raise ImageError("image too small: need at least 10 MiB")
    return PART_START // SECTOR, end // SECTOR - 1


def write_gpt(f, total_bytes):
    total_sectors = total_bytes // SECTOR
    first, last = esp_extent(total_bytes)
    disk_guid, part_guid = uuid.uuid4(), uuid.uuid4()
    entries = partition_entries(first, last, part_guid)
    crc = zlib.crc32(entries) & 0xFFFFFFFF
    backup_entries_lba = total_sectors - 1 - GPT_ENTRY_SECTORS

    f.seek(0)
    f.write(protective_mbr(total_sectors))
    f.write(gpt_header(1, total_sectors - 1, 2, total_sectors, disk_guid,
                       crc))
    f.write(entries)
    f.seek(backup_entries_lba * SECTOR)
    f.write(entries)
    f.write(gpt_header(total_sectors - 1, 1, backup_entries_lba,
                       total_sectors, disk_guid, crc))
    return first, last


# ---- FAT via mtools -----------------------------------------------------------

class Esp:
    """The ESP inside the disk image, driven through mtools."""

    def __init__(self, image, first_lba, last_lba):
        self.target = "%s@@%d" % (image, first_lba * SECTOR)
        self.first = first_lba
        self.sectors = last_lba - first_lba + 1
        self.dirs = set()
        self.files = {}

    def _mtool(self, *args):
        env = dict(os.environ, MTOOLS_SKIP_CHECK="1", MTOOLSRC="/dev/null")
        r = subprocess.run(args, env=env, capture_output=True, text=True)
        if r.returncode:
            raise ImageError("%s failed: %s" % (" ".join(args),
                                                (r.stderr or r.stdout).strip()))

    def format(self):
        # -T: the FAT must end where the partition ends, not at the end of
        # the file (the backup GPT lives there).  -H: hidden sectors field.
        # FAT32 (what UEFI prefers on disks) needs 65525 clusters; smaller
        # partitions get mformat's choice, FAT16/12, which UEFI reads too.
        fat32 = ["-F"] if self.sectors >= FAT32_MIN_SECTORS else []
        self._mtool("mformat", "-i", self.target, *fat32, "-v", "PARAVANE",
                    "-T", str(self.sectors), "-h", "64", "-s", "32",
                    "-H", str(self.first), "::")

    def mkdirs(self, dest):
        parts = dest.strip("/").split("/")[:-1]
        path = ""
        for p in parts:
            path += "/" + p
            if path.lower() not in self.dirs:
                self._mtool("mmd", "-i", self.target, "::" + path)
                self.dirs.add(path.lower())

    def copy(self, src, dest):
        key = dest.lower()  # FAT is case-insensitive
        if key in self.files:
            raise ImageError("%s: given twice (%s and %s)"
                             % (dest, self.files[key], src))
        if not os.path.isfile(src):
            raise ImageError("%s: no such file" % src)
        self.files[key] = src
        self.mkdirs(dest)
        self._mtool("mcopy", "-i", self.target, src, "::" + dest)


# ---- arguments, manifest helpers ---------------------------------------------

def esp_path(dest):
    """Normalise an ESP destination to "/a/b" (accepts '\\')."""
    parts = []
    for p in dest.replace("\\", "/").split("/"):
        if p in ("", "."):
            continue
        if p == "..":
            if not parts:
                raise ImageError("%s: leaves the ESP root" % dest)
            parts.pop()
        else:
            parts.append(p)
    if not parts:
        raise ImageError("%r: not a file path" % dest)
    return "/" + "/".join(parts)


def manifest_relative(image):
    """Where the loader looks for a guest image named in the manifest:
    absolute paths as given, others relative to the manifest's folder."""
    if image.startswith(("/", "\\")):
        return esp_path(image)
    return esp_path(os.path.dirname(MANIFEST_DEST) + "/" + image)


def manifest_images(manifest, tool=None):
    """(guest, image) for every valid guest.  Asks the C parser when the
    check tool is known (check-manifest --list); otherwise a light reading
    of the format, good enough for hand-written files."""
    if tool:
        r = subprocess.run([tool, "--list", manifest], capture_output=True,
                           text=True)
        found = re.findall(r"^guest (\S+) image=(.*) memory=\d+$", r.stdout,
                           re.M)
        if r.returncode == 0 or found:
            return found
    guests, section = [], None
    with open(manifest, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip().lstrip("\ufeff")
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                words = line.split("]")[0].strip("[ \t").split()
                section = words[1] if len(words) > 1 and words[0] == "guest" \
                    else None
                continue
            key, sep, value = line.partition("=")
            if section and sep and key.strip() == "image":
                guests.append((section, bare_value(value)))
    return guests


def bare_value(v):
    """A value without its comment ("a.elf # x") or quotes ("\"a b\"")."""
    v = v.strip()
    if v.startswith('"'):
        m = re.match(r'"((?:[^"\\]|\\.)*)"', v)
        return re.sub(r"\\(.)", r"\1", m.group(1)) if m else v
    return re.split(r"[ \t][#;]", v)[0].strip()


def guest_files(manifest, image_dir, tool=None):
    files = []
    for guest, image in manifest_images(manifest, tool):
        src = os.path.join(image_dir, os.path.basename(image.replace("\\", "/")))
        if not os.path.isfile(src):
            raise ImageError("guest %s: image %s not found in %s"
                             % (guest, image, image_dir))
        files.append((src, manifest_relative(image)))
    return files


def parse_file_arg(arg):
    src, sep, dest = arg.rpartition(":")
    if not sep or not src or not dest:
        raise ImageError("--file %s: expected SRC:DEST" % arg)
    return src, esp_path(dest)


def check_manifest(tool, manifest, quiet=False):
    r = subprocess.run([tool, manifest], capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    if r.returncode:
        sys.stderr.write(out + "\n" if out else "")
        raise ImageError("%s: manifest has errors (%s exited %d); "
                         "use --no-check to build anyway"
                         % (manifest, os.path.basename(tool), r.returncode))
    if out and not quiet:
        print(out)


def parse_size(s):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    s = s.strip().upper().rstrip("IB") or "0"
    mult = units.get(s[-1], 1)
    n = int(s[:-1] if s[-1] in units else s) * mult
    if n % MIB:
        raise ImageError("--size must be a whole number of MiB")
    return n


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Build a GPT disk image with one EFI System Partition "
                    "holding the Paravane loader, hypervisor and manifest.")
    p.add_argument("--out", required=True, help="image to write")
    p.add_argument("--loader", required=True, help="BOOTX64.EFI")
    p.add_argument("--hypervisor", required=True, help="hypervisor ELF")
    p.add_argument("--manifest", required=True, help="manifest.conf")
    p.add_argument("--file", action="append", default=[],
                   metavar="SRC:DEST", help="extra file, e.g. "
                   "build/apps/hello.elf:/paravane/hello.elf")
    p.add_argument("--size", default="64M", help="image size (default 64M)")
    p.add_argument("--check-manifest", metavar="TOOL",
                   help="validate the manifest with TOOL first")
    p.add_argument("--no-check", action="store_true",
                   help="build even if TOOL reports errors")
    p.add_argument("--guests-from-manifest", action="store_true",
                   help="copy each guest's image, found by base name in "
                        "--image-dir, to where the manifest names it")
    p.add_argument("--image-dir", help="folder for --guests-from-manifest")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print errors only")
    return p.parse_args(argv)


def collect_files(a):
    files = [(a.loader, LOADER_DEST), (a.hypervisor, HV_DEST),
             (a.manifest, MANIFEST_DEST)]
    files += [parse_file_arg(f) for f in a.file]
    if a.guests_from_manifest:
        if not a.image_dir:
            raise ImageError("--guests-from-manifest needs --image-dir")
        given = {dest.lower() for _, dest in files}
        files += [f for f in guest_files(a.manifest, a.image_dir,
                                         a.check_manifest)
                  if f[1].lower() not in given]
    return files


def build(a):
    size = parse_size(a.size)
    if a.check_manifest and not a.no_check:
        check_manifest(a.check_manifest, a.manifest, a.quiet)
    files = collect_files(a)

    out_dir = os.path.dirname(os.path.abspath(a.out))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".paravane-img-", dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.truncate(size)
            first, last = write_gpt(f, size)
        esp = Esp(tmp, first, last)
        esp.format()
        for src, dest in files:
            esp.copy(src, dest)
        os.chmod(tmp, 0o644)
        os.replace(tmp, a.out)
    except BaseException:
        os.unlink(tmp)
        raise
    return files


def main(argv=None):
    a = parse_args(argv)
    if not shutil.which("mformat"):
        print("mkimage: mtools not found (apt-get install mtools)",
              file=sys.stderr)
        return 1
    try:
        files = build(a)
    except (ImageError, OSError, ValueError) as e:
        print("mkimage: %s" % e, file=sys.stderr)
        return 1
    if not a.quiet:
        print("mkimage: wrote %s (%d files)" % (a.out, len(files)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
