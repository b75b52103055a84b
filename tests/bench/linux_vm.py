"""The Linux VM that `make bench` compares httpd against: Debian's cloud
kernel and busybox's httpd serving the same page, in the same QEMU (TCG,
q35, -cpu max, 512 MiB, the same virtio-net and user network).  Built from
Debian packages at run time (apt-get download, dpkg-deb -x; nothing is
installed) and cached in build/deps/linuxvm/.

Differences worth knowing: direct kernel boot (no OVMF; boot time is not
compared), and busybox httpd closes every connection (HTTP/1.0 style), so
its keep-alive figure is really a new-connection figure.

block_bench.py builds its own Linux VM from the same packages
(fetch_debian, module, base_command): virtio_blk instead of the network,
and its I/O program instead of httpd.
"""
import gzip
import os
import re
import subprocess
from pathlib import Path

MODULES = ["virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev",
           "virtio_pci", "failover", "net_failover", "virtio_net"]

INIT = """#!/bin/busybox sh
B=/bin/busybox
$B mkdir -p /proc /sys /dev
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
for m in %s; do $B insmod /lib/modules/$m.ko; done
$B ip link set lo up
$B ip addr add 10.0.2.15/24 dev eth0
$B ip link set eth0 up
echo "linuxvm: serving"
exec $B httpd -f -p 80 -h /www
""" % " ".join(MODULES)


def cpio_newc(entries):
    """entries: (path, mode, data) -> a newc cpio archive (what the kernel
    unpacks as initramfs)."""
    out = bytearray()
    for ino, (path, mode, data) in enumerate(entries + [("TRAILER!!!", 0, b"")], 1):
        name = path.encode() + b"\0"
        hdr = "070701" + "".join("%08x" % v for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name), 0))
        out += hdr.encode() + name
        out += b"\0" * (-len(out) % 4) + data
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def _download(dest, pattern):
    debs = list(dest.glob(pattern))
    return debs[0] if debs else None


def fetch_debian(d):
    """Download Debian's cloud kernel and busybox-static into d and unpack
    both into d/x (apt-get download, dpkg-deb -x: nothing is installed);
    returns d/x.  The .debs are removed again."""
    d.mkdir(parents=True, exist_ok=True)
    pkg = subprocess.run(["apt-cache", "depends", "linux-image-cloud-amd64"], capture_output=True,
                         text=True, check=True).stdout
    image = re.search(r"Depends: (linux-image-\S+-cloud-amd64)", pkg).group(1)
    subprocess.run(["apt-get", "download", image, "busybox-static"], cwd=d, check=True,
                   capture_output=True)
    x = d / "x"
    for deb in (_download(d, "linux-image-*.deb"), _download(d, "busybox-static*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(x)], check=True)
    subprocess.run(["rm", "-f"] + [str(p) for p in d.glob("*.deb")], check=True)
    return x


def module(x, name):
    """The bytes of kernel module name (.ko) from an unpacked kernel."""
    return next(x.glob("lib/modules/*/kernel/**/%s.ko" % name)).read_bytes()


def prepare(root, page):
    """Kernel and initramfs paths, building them if needed."""
    d = Path(root) / "build" / "deps" / "linuxvm"
    kernel, initrd = d / "vmlinuz", d / "initrd.gz"
    if kernel.exists() and initrd.exists():
        return kernel, initrd
    x = fetch_debian(d)
    entries = [("bin", 0o40755, b""), ("lib", 0o40755, b""), ("lib/modules", 0o40755, b""),
               ("www", 0o40755, b""), ("bin/busybox", 0o100755, (x / "bin/busybox").read_bytes()),
               ("init", 0o100755, INIT.encode()), ("www/index.html", 0o100644, page)]
    for m in MODULES:
        entries.append(("lib/modules/%s.ko" % m, 0o100644, module(x, m)))
    initrd.write_bytes(gzip.compress(cpio_newc(entries)))
    kernel.write_bytes(next(x.glob("boot/vmlinuz-*")).read_bytes())
    subprocess.run(["rm", "-rf", str(x)], check=True)
    return kernel, initrd


def base_command(kernel, initrd, append="console=ttyS0 quiet"):
    """QEMU for the Linux VM without a NIC: what both baselines share."""
    return ["qemu-system-x86_64", "-machine", "q35", "-cpu", "max", "-m", "512M", "-smp", "1",
            "-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio",
            "-kernel", str(kernel), "-initrd", str(initrd), "-append", append]


def command(kernel, initrd, hostfwd):
    return base_command(kernel, initrd) + [
        "-netdev", "user,id=n0,net=10.0.2.0/24,hostfwd=" + hostfwd,
        "-device", "virtio-net-pci,netdev=n0,disable-legacy=on"]
