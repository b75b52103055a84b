#!/bin/sh
# Build newlib for Paravane guests from Debian's newlib-source tarball into a
# cache that every build output dir ($(O)) shares:
#
#   build/deps/newlib-VERSION-HASH8/                  install prefix
#   build/deps/newlib-VERSION-HASH8/x86_64-pv-elf/    include/, lib/libc.a, libm.a
#   build/deps/newlib-VERSION-HASH8/.stamp            present = complete
#   build/deps/newlib-VERSION-HASH8/build.log         configure + make output
#
# HASH8 covers everything that changes the result: the recipe revision below,
# the flags, the configure options, the tarball's checksum and the compiler.
# Change any of them and a new prefix is built next to the old one; nothing is
# ever rebuilt in place.  The build runs in a temporary dir and the finished
# prefix is renamed into place, so an interrupted build never looks complete.
#
#   sdk/deps/newlib.sh               build unless cached; silent unless it fails
#   sdk/deps/newlib.sh --prefix      print the prefix (the Makefile reads it)
#   NEWLIB_FORCE=1 sdk/deps/newlib.sh    rebuild even if cached
#
# Environment: NEWLIB_TARBALL (default: newest /usr/src/newlib/newlib-*.tar.xz),
# NEWLIB_JOBS (default 2).  docs/sdk.md explains the flags.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE="$ROOT/build/deps"          # never under $(O): test builds share it
TARGET=x86_64-pv-elf
RECIPE=1                          # bump when the steps below change the output

tarball=${NEWLIB_TARBALL:-$(ls /usr/src/newlib/newlib-*.tar.xz 2>/dev/null | sort -V | tail -n 1)}
if [ -z "$tarball" ] || [ ! -f "$tarball" ]; then
	echo "newlib.sh: no newlib tarball in /usr/src/newlib (apt-get install newlib-source)" >&2
	exit 1
fi
version=$(basename "$tarball" .tar.xz)
version=${version#newlib-}

# Same code generation as the libos: no red zone (the hypervisor may one day
# push frames on the guest stack), no PIE, frame pointers so the hypervisor's
# crash backtraces walk through libc, one section per function for --gc-sections.
TFLAGS="-ffreestanding -fno-stack-protector -mno-red-zone -fno-pie -mcmodel=small \
-fno-asynchronous-unwind-tables -fno-omit-frame-pointer -ffunction-sections -fdata-sections"
TCFLAGS="-O2 -g"
CONFIG_OPTS="--target=$TARGET --disable-multilib --enable-newlib-io-long-long \
--enable-newlib-io-c99-formats --disable-newlib-supplied-syscalls --disable-nls"

key_text() {
	echo "recipe=$RECIPE"
	echo "version=$version"
	echo "tarball=$(sha256sum "$tarball" | cut -d' ' -f1)"
	echo "tflags=$TFLAGS"
	echo "cflags=$TCFLAGS"
	echo "configure=$CONFIG_OPTS"
	echo "gcc=$(gcc -dumpmachine) $(gcc -dumpfullversion)"
	echo "binutils=$(ld --version | head -n 1)"
}

key=$(key_text)
hash=$(printf '%s\n' "$key" | sha256sum | cut -c1-8)
prefix="$CACHE/newlib-$version-$hash"

if [ "${1:-}" = "--prefix" ]; then
	echo "$prefix"
	exit 0
fi

is_cached() {
	[ -z "${NEWLIB_FORCE:-}" ] && [ -f "$prefix/.stamp" ] &&
		[ "$(cat "$prefix/.stamp")" = "$key" ]
}

is_cached && exit 0

# One builder at a time (make in two output dirs may both get here).
mkdir -p "$CACHE"
exec 9>"$CACHE/.newlib.lock"
flock 9
is_cached && exit 0
NEWLIB_FORCE=

tmp="$CACHE/.newlib-$version-$hash.tmp"
log="$tmp/build.log"
rm -rf "$tmp"
mkdir -p "$tmp/src" "$tmp/build"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM        # so that the EXIT trap cleans up

fail() {
	echo "newlib.sh: $1 failed; last lines of $log:" >&2
	tail -n 30 "$log" >&2
	trap - EXIT           # keep the tree for a look
	exit 1
}

echo "  NEWLIB  $prefix (about a minute, once)"
tar -xJf "$tarball" -C "$tmp/src" || fail "unpacking $tarball"
src=$(find "$tmp/src" -mindepth 1 -maxdepth 1 -type d | head -n 1)

# Debug info names stable paths, not this temporary dir.
MAP="-ffile-prefix-map=$src=/usr/src/newlib-$version -ffile-prefix-map=$tmp/build=/usr/src/newlib-$version/build"

cd "$tmp/build"
# shellcheck disable=SC2086
"$src/configure" $CONFIG_OPTS --prefix="$tmp/prefix" \
	CC_FOR_TARGET="gcc $TFLAGS" AR_FOR_TARGET=ar AS_FOR_TARGET=as \
	LD_FOR_TARGET=ld RANLIB_FOR_TARGET=ranlib NM_FOR_TARGET=nm \
	OBJDUMP_FOR_TARGET=objdump OBJCOPY_FOR_TARGET=objcopy \
	READELF_FOR_TARGET=readelf STRIP_FOR_TARGET=strip \
	CFLAGS_FOR_TARGET="$TCFLAGS $MAP" >"$log" 2>&1 || fail configure
make -j"${NEWLIB_JOBS:-2}" all-target-newlib >>"$log" 2>&1 || fail make
make install-target-newlib >>"$log" 2>&1 || fail "make install"

lib="$tmp/prefix/$TARGET/lib"
[ -f "$lib/libc.a" ] && [ -f "$lib/libm.a" ] || fail "install (no libc.a/libm.a)"
cp "$log" "$tmp/prefix/build.log"
printf '%s\n' "$key" >"$tmp/prefix/.stamp"

rm -rf "$prefix"                # a half-made prefix from an older script
mv "$tmp/prefix" "$prefix"      # atomic: same file system
