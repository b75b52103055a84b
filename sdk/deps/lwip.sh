#!/bin/sh
# Build lwIP for Paravane guests from Debian's lwip source package into a
# cache that every build output dir ($(O)) shares:
#
#   build/deps/src/lwip/                  the source package (.dsc + tarballs),
#                                         fetched once, then reused offline
#   build/deps/lwip-VERSION-HASH8/        include/ (lwIP's headers and the
#                                         pv_netconfig.h it was built with),
#                                         lib/liblwip.a, build.log, .stamp
#   $(O)/lwip -> build/deps/lwip-VERSION-HASH8   what the Makefiles use
#
# HASH8 covers everything that changes the result: the recipe revision, the
# .dsc's checksum (so the version and patches), the compile flags, the port
# headers (libos/net/include: lwipopts.h, arch/*.h, ...), pv_thread.h (the
# port's semaphores embed its wait queues), the CONFIG_LIBOS_NET_* values
# and the compiler.  A change builds a new prefix next to the old one;
# nothing is rebuilt in place, and the build runs in a temporary dir that is
# renamed into place when complete.
#
# The source package comes from the system's own apt sources, turned into
# deb-src entries in a private apt state dir (build/deps/src/lwip/apt): the
# system's /etc/apt is only read.  apt checks the downloaded files against
# the signed Sources index, and this script checks the orig tarball
# against the .dsc's SHA-256 before every build.
#
# What is built is the orig tarball: pristine upstream lwIP (Debian's repack
# only drops generated docs), NOT the tree dpkg-source -x gives.  Debian's
# patches target its GNU/Hurd port: "port" rewrites sockets.c to use macros
# (IP4ADDR_SOCKADDR_SET_LEN, IPADDR_SOCKADDR_GET_LEN) that only Debian's
# Hurd port headers define, so with LWIP_SOCKET on the patched tree does not
# build against any other port; the rest fix PPP (not built here) or add
# options we leave off.  Upstream is also what lwIP's docs and ports assume.
#
#   sdk/deps/lwip.sh --link DIR   build unless cached; point symlink DIR at it
#   sdk/deps/lwip.sh --prefix     print the prefix (fetches if needed)
#   sdk/deps/lwip.sh --fetch      only download the source package
#
# Environment (the Makefile sets the first three, sdk/deps/build.mk):
#   LWIP_CFLAGS    the guest compile flags (GUEST_CFLAGS)
#   LWIP_PORT      the port's include dir (libos/net/include)
#   LWIP_AUTOCONF  the build's autoconf.h; its CONFIG_LIBOS_NET_* lines
#                  become pv_netconfig.h (none: lwipopts.h's defaults)
#   LWIP_DSC       use this .dsc (next to its orig tarball) instead of fetching
#   LWIP_FORCE=1   rebuild even if cached;  LWIP_JOBS (default 2)
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE="$ROOT/build/deps"          # never under $(O): test builds share it
SRCDIR="$CACHE/src/lwip"
RECIPE=1                          # bump when the steps below change the output
PORT=${LWIP_PORT:-$ROOT/libos/net/include}
THREAD_H="$ROOT/libos/include/pv_thread.h"

. "$ROOT/sdk/deps/debsrc.sh"    # the private-apt fetch, shared with e2fsprogs.sh
DEBSRC_OFFLINE="set LWIP_DSC=/path/to/lwip_VERSION.dsc (with its tarballs)"

ensure_source() {
	debsrc_ensure lwip "$SRCDIR" "${LWIP_DSC:-}"
}

# ---- the cache key ------------------------------------------------------------

# Only lwIP's own options: other CONFIG_ values must not rebuild lwIP.
netconfig() {
	echo "/* CONFIG_LIBOS_NET_* of the build that made this lwIP (sdk/deps/lwip.sh) */"
	if [ -n "${LWIP_AUTOCONF:-}" ]; then
		grep '^#define CONFIG_LIBOS_NET_' "$LWIP_AUTOCONF" | sort || true
	fi
}

port_files() {
	(cd "$PORT" && find . -name '*.h' | LC_ALL=C sort)
}

key_text() {
	echo "recipe=$RECIPE"
	echo "dsc=$(basename "$dsc") $(sha256sum "$dsc" | cut -d' ' -f1)"
	echo "cflags=${LWIP_CFLAGS:-}"
	for f in $(port_files); do
		echo "port $f $(sha256sum "$PORT/$f" | cut -d' ' -f1)"
	done
	echo "pv_thread.h $(sha256sum "$THREAD_H" | cut -d' ' -f1)"
	netconfig | sed 's/^/netconfig /'
	echo "gcc=$(gcc -dumpmachine) $(gcc -dumpfullversion)"
	echo "binutils=$(ld --version | head -n 1)"
}

mode=${1:---link}
[ "$mode" = "--fetch" ] && { ensure_source; exit 0; }

ensure_source
version=$(basename "$dsc" .dsc)
version=${version#lwip_}
key=$(key_text)
hash=$(printf '%s\n' "$key" | sha256sum | cut -c1-8)
prefix="$CACHE/lwip-$version-$hash"

if [ "$mode" = "--prefix" ]; then
	echo "$prefix"
	exit 0
fi
[ "$mode" = "--link" ] && [ $# -eq 2 ] || {
	echo "usage: lwip.sh --link DIR | --prefix | --fetch" >&2
	exit 2
}
link=$2

# Move the symlink only when it changes: make compares the stamp's time.
update_link() {
	[ "$(readlink "$link" 2>/dev/null || true)" = "$prefix" ] && return
	mkdir -p "$(dirname "$link")"
	ln -sfn "$prefix" "$link"
}

is_cached() {
	[ -z "${LWIP_FORCE:-}" ] && [ -f "$prefix/.stamp" ] &&
		[ "$(cat "$prefix/.stamp")" = "$key" ]
}

if is_cached; then
	update_link
	exit 0
fi
[ -n "${LWIP_CFLAGS:-}" ] || { echo "lwip.sh: LWIP_CFLAGS is not set" >&2; exit 2; }

# One builder at a time (make in two output dirs may both get here).
exec 9>"$CACHE/.lwip.lock"
flock 9
if is_cached; then
	update_link
	exit 0
fi
LWIP_FORCE=

# ---- the build ----------------------------------------------------------------

tmp="$CACHE/.lwip-$version-$hash.tmp"
log="$tmp/build.log"
rm -rf "$tmp"
mkdir -p "$tmp/prefix/include" "$tmp/prefix/lib"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM        # so that the EXIT trap cleans up

fail() {
	echo "lwip.sh: $1 failed; last lines of $log:" >&2
	tail -n 30 "$log" >&2
	trap - EXIT           # keep the tree for a look
	exit 1
}

echo "  LWIP    $prefix"
: >"$log"
debsrc_unpack_orig "$tmp/src" "$log" || fail "checking and unpacking the orig tarball"
netconfig >"$tmp/prefix/include/pv_netconfig.h"

# IPv4 core, sockets/netconn and Ethernet; no apps (httpd & co.), no IPv6,
# PPP, 6LoWPAN or bridge.  Debug info names stable paths, not $tmp.
cat >"$tmp/Makefile" <<'EOF'
.RECIPEPREFIX := >
LWIPDIR := $(SRC)/src
include $(LWIPDIR)/Filelists.mk
SRCS := $(COREFILES) $(CORE4FILES) $(APIFILES) $(LWIPDIR)/netif/ethernet.c
OBJS := $(patsubst $(LWIPDIR)/%.c,obj/%.o,$(SRCS))
liblwip.a: $(OBJS)
> ar rcsD $@ $^
obj/%.o: $(LWIPDIR)/%.c
> @mkdir -p $(@D)
> @echo "  CC      $*.c"
> $(CC) $(CFLAGS) -c $< -o $@
EOF

# -Wno-type-limits: with the largest window (0xffff, CONFIG_LIBOS_NET_TCP_WND_KB
# = 64) lwIP's own range checks on u16 windows are always false.
# shellcheck disable=SC2086
make -C "$tmp" -j"${LWIP_JOBS:-2}" SRC="$tmp/src" CC=gcc \
	CFLAGS="$LWIP_CFLAGS -Wno-type-limits -I$PORT -I$tmp/prefix/include \
-I$tmp/src/src/include -ffile-prefix-map=$tmp/src=/usr/src/lwip-$version" \
	>>"$log" 2>&1 || fail make

cp "$tmp/liblwip.a" "$tmp/prefix/lib/"
cp -R "$tmp/src/src/include/." "$tmp/prefix/include/"
cp "$log" "$tmp/prefix/build.log"
printf '%s\n' "$key" >"$tmp/prefix/.stamp"

rm -rf "$prefix"                # a half-made prefix from an older script
mv "$tmp/prefix" "$prefix"      # atomic: same file system
update_link
