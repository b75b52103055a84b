#!/bin/sh
# Install the Debian packages the build needs, once.  Idempotent and fast when
# everything is present (one dpkg-query); says clearly what is missing when it
# cannot install (not root, no network).
set -eu

PKGS="gcc make binutils gnu-efi ovmf qemu-system-x86 mtools python3 python3-kconfiglib \
python3-pytest newlib-source dpkg-dev afl++ clang wrk curl chromium prometheus lvm2 gdisk e2fsprogs"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "paravane: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" != 0 ]; then
	echo "paravane: not root; please run: sudo apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || { echo "paravane: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
	echo "paravane: apt-get install$missing failed" >&2; exit 1; }
