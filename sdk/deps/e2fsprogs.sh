#!/bin/sh
# Build e2fsprogs' libext2fs (and the com_err library it reports errors
# with) for Paravane guests from Debian's e2fsprogs source package, into a
# cache that every build output dir ($(O)) shares:
#
#   build/deps/src/e2fsprogs/              the source package (.dsc + tarballs),
#                                          fetched once, then reused offline
#   build/deps/e2fsprogs-VERSION-HASH8/    include/{ext2fs,et}/, lib/libext2fs.a,
#                                          lib/libcom_err.a, build.log, .stamp
#   $(O)/e2fsprogs -> build/deps/e2fsprogs-VERSION-HASH8   what make uses
#
# HASH8 covers what changes the result: the recipe revision, the .dsc's
# checksum, the compile flags, our config.h and stand-in headers
# (sdk/deps/e2fsprogs/) and the compiler.  A change builds a new prefix beside the old one in a
# temporary dir renamed into place when complete, as sdk/deps/lwip.sh does.
#
# Only lib/ext2fs and lib/et are built, from the pristine orig tarball
# (checked against the .dsc; Debian's one patch changes mke2fs.conf's
# defaults, not the library).  e2fsprogs' configure cannot run for a
# freestanding target, so config.h is ours; the few generated files
# (ext2_types.h, ext2_err.[ch], crc32c_table.h) are made here the way
# e2fsprogs' own Makefiles make them.  Left out of libext2fs: the I/O
# managers over host files (unix_io, undo_io, sparse_io, test_io), the
# qcow2/e2image writers, tdb, and what probes the host (ismounted, finddev,
# getsize, getsectsize, flushb).  Two headers newlib lacks and
# mkjournal.c includes (<dirent.h>, <arpa/inet.h>) have stand-ins in
# sdk/deps/e2fsprogs/include.  The libOS brings its own I/O manager
# (libos/fs/io_pvblk.c).  lib/uuid, lib/e2p, lib/blkid are not needed.
#
#   sdk/deps/e2fsprogs.sh --link DIR   build unless cached; point symlink DIR at it
#   sdk/deps/e2fsprogs.sh --prefix     print the prefix (fetches if needed)
#   sdk/deps/e2fsprogs.sh --fetch      only download the source package
#
# Environment (the Makefile sets the first, sdk/deps/build.mk):
#   E2FS_CFLAGS    the guest compile flags (GUEST_CFLAGS)
#   E2FS_CC        the compiler (default gcc).  tests/fuzz/build.mk builds a
#                  host variant of the same sources with clang and the
#                  fuzzer's sanitizer flags: another prefix, by its hash
#   E2FS_DSC       use this .dsc (next to its orig tarball) instead of fetching
#   E2FS_FORCE=1   rebuild even if cached;  E2FS_JOBS (default 2)
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE="$ROOT/build/deps"          # never under $(O): test builds share it
SRCDIR="$CACHE/src/e2fsprogs"
OURS="$ROOT/sdk/deps/e2fsprogs"     # config.h, include/ (stand-in headers)
RECIPE=1                          # bump when the steps below change the output
CC=${E2FS_CC:-gcc}

. "$ROOT/sdk/deps/debsrc.sh"    # the private-apt fetch, shared with lwip.sh
DEBSRC_OFFLINE="set E2FS_DSC=/path/to/e2fsprogs_VERSION.dsc (with its tarballs)"

key_text() {
	echo "recipe=$RECIPE"
	echo "dsc=$(basename "$dsc") $(sha256sum "$dsc" | cut -d' ' -f1)"
	echo "cflags=${E2FS_CFLAGS:-}"
	for f in $(cd "$OURS" && find . -type f | LC_ALL=C sort); do
		echo "ours $f $(sha256sum "$OURS/$f" | cut -d' ' -f1)"
	done
	echo "gcc=$(gcc -dumpmachine) $(gcc -dumpfullversion)"
	# Only when not gcc, so that the guest build's hash stays as it was.
	[ "$CC" = gcc ] || echo "cc=$CC $($CC --version | head -n 1)"
	echo "binutils=$(ld --version | head -n 1)"
}

mode=${1:---link}
debsrc_ensure e2fsprogs "$SRCDIR" "${E2FS_DSC:-}"
[ "$mode" = "--fetch" ] && exit 0

version=$(basename "$dsc" .dsc)
version=${version#e2fsprogs_}
key=$(key_text)
hash=$(printf '%s\n' "$key" | sha256sum | cut -c1-8)
prefix="$CACHE/e2fsprogs-$version-$hash"

if [ "$mode" = "--prefix" ]; then
	echo "$prefix"
	exit 0
fi
[ "$mode" = "--link" ] && [ $# -eq 2 ] || {
	echo "usage: e2fsprogs.sh --link DIR | --prefix | --fetch" >&2
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
	[ -z "${E2FS_FORCE:-}" ] && [ -f "$prefix/.stamp" ] &&
		[ "$(cat "$prefix/.stamp")" = "$key" ]
}

if is_cached; then
	update_link
	exit 0
fi
[ -n "${E2FS_CFLAGS:-}" ] || { echo "e2fsprogs.sh: E2FS_CFLAGS is not set" >&2; exit 2; }

# One builder at a time (make in two output dirs may both get here).
exec 9>"$CACHE/.e2fsprogs.lock"
flock 9
if is_cached; then
	update_link
	exit 0
fi

# ---- the build ----------------------------------------------------------------

tmp="$CACHE/.e2fsprogs-$version-$hash.tmp"
log="$tmp/build.log"
src="$tmp/src"
gen="$tmp/gen/lib"
rm -rf "$tmp"
mkdir -p "$tmp/prefix/include/ext2fs" "$tmp/prefix/include/et" \
	"$tmp/prefix/lib" "$gen/ext2fs"
: >"$log"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM        # so that the EXIT trap cleans up

fail() {
	echo "e2fsprogs.sh: $1 failed; last lines of $log:" >&2
	tail -n 30 "$log" >&2
	trap - EXIT           # keep the tree for a look
	exit 1
}

# ext2_types.h as configure would write it with generic types (no
# <asm/types.h> on the guest): its @...@ are our sizes and the two
# defines configure copies into public_config.h.
make_types_h() {
	printf '%s\n' "/* These defines are needed for the public ext2fs.h header file */" \
		"#define HAVE_SYS_TYPES_H 1" "#undef WORDS_BIGENDIAN" >"$tmp/public_config.h"
	: >"$tmp/asm_types.h"
	sed -e "/@ASM_TYPES_HEADER@/{r $tmp/asm_types.h" -e 'd;}' \
		-e "/@PUBLIC_CONFIG_HEADER@/{r $tmp/public_config.h" -e 'd;}' \
		-e 's/@SIZEOF_SHORT@/2/g' -e 's/@SIZEOF_INT@/4/g' \
		-e 's/@SIZEOF_LONG@/8/g' -e 's/@SIZEOF_LONG_LONG@/8/g' \
		"$src/lib/ext2fs/ext2_types.h.in" >"$gen/ext2fs/ext2_types.h"
	! grep -q '@[A-Z_]*@' "$gen/ext2fs/ext2_types.h"
}

# compile_et's two awk scripts, as lib/et/compile_et.sh runs them.
make_err() {
	v=$(sed -n 's/^#define E2FSPROGS_VERSION "\(.*\)"/\1/p' "$src/version.h")
	sed "s/@E2FSPROGS_VERSION@/$v/" "$src/lib/ext2fs/ext2_err.et.in" >"$gen/ext2fs/ext2_err.et"
	(cd "$gen/ext2fs" &&
		LC_ALL=C awk -f "$src/lib/et/et_h.awk" outfile=ext2_err.h outfn=ext2_err.h ext2_err.et &&
		LC_ALL=C awk -f "$src/lib/et/et_c.awk" outfile=ext2_err.c outfn=ext2_err.c ext2_err.et)
}

# A host program prints the CRC32c tables (lib/ext2fs/Makefile.in does so).
make_crc_table() {
	gcc -O1 -o "$tmp/gen_crc32ctable" "$src/lib/ext2fs/gen_crc32ctable.c" &&
		"$tmp/gen_crc32ctable" >"$gen/ext2fs/crc32c_table.h"
}

echo "  E2FS    $prefix"
debsrc_unpack_orig "$src" "$log" || fail "checking and unpacking the orig tarball"
cp "$OURS/config.h" "$gen/config.h"
make_types_h >>"$log" 2>&1 || fail "making ext2_types.h"
make_err >>"$log" 2>&1 || fail "making ext2_err.[ch]"
make_crc_table >>"$log" 2>&1 || fail "making crc32c_table.h"

cat >"$tmp/Makefile" <<'MK'
.RECIPEPREFIX := >
EXT2FS := alloc alloc_sb alloc_stats alloc_tables atexit badblocks \
	bb_inode bitmaps bitops blkmap64_ba blkmap64_rb blknum block bmap \
	check_desc closefs crc16 crc32c csum dblist dblist_dir digest_encode \
	dirblock dirhash dir_iterate dupfs expanddir ext_attr extent fallocate \
	fileio freefs gen_bitmap gen_bitmap64 get_num_dirs get_pathname \
	hashmap i_block icount ind_block initialize inline inline_data inode \
	io_manager link lookup mkdir mkjournal mmp namei native newdir \
	nls_utf8 openfs orphan progress punch rbtree read_bb res_gdt \
	rw_bitmaps sha512 swapfs symlink unlink valid_blk version
ET := error_message et_name init_et com_err
EXT2FS_OBJS := $(EXT2FS:%=obj/ext2fs/%.o) obj/ext2fs/ext2_err.o
ET_OBJS := $(ET:%=obj/et/%.o)
all: libext2fs.a libcom_err.a
libext2fs.a: $(EXT2FS_OBJS)
> ar rcsD $@ $^
libcom_err.a: $(ET_OBJS)
> ar rcsD $@ $^
obj/ext2fs/ext2_err.o: $(GEN)/ext2fs/ext2_err.c
> @mkdir -p $(@D)
> $(CC) $(CFLAGS) -c $< -o $@
obj/%.o: $(SRC)/lib/%.c
> @mkdir -p $(@D)
> @echo "  CC      $*.c"
> @$(CC) $(CFLAGS) -c $< -o $@
MK

# Third-party code: its warnings are not ours to fix (-Wno-error), but
# they stay in build.log.  The host gcc defines linux and __linux__, which
# send e2fsprogs to Linux-only headers (<sys/syscall.h>, ioctls): a guest
# is not Linux.  Debug info names stable paths, not $tmp.
# shellcheck disable=SC2086
make -C "$tmp" -j"${E2FS_JOBS:-2}" SRC="$src" GEN="$gen" CC="$CC" \
	CFLAGS="$E2FS_CFLAGS -Wno-error -Ulinux -U__linux -U__linux__ -U__gnu_linux__ -I$OURS/include -I$gen -I$gen/ext2fs -I$src/lib \
-I$src/lib/ext2fs -I$src/lib/et \
-ffile-prefix-map=$src=/usr/src/e2fsprogs-$version -ffile-prefix-map=$tmp/gen=/usr/src/e2fsprogs-$version" \
	>>"$log" 2>&1 || fail make

cp "$tmp/libext2fs.a" "$tmp/libcom_err.a" "$tmp/prefix/lib/"
for h in bitops.h ext2fs.h ext2_io.h ext2_fs.h ext2_ext_attr.h ext3_extents.h hashmap.h; do
	cp "$src/lib/ext2fs/$h" "$tmp/prefix/include/ext2fs/"
done
cp "$gen/ext2fs/ext2_types.h" "$gen/ext2fs/ext2_err.h" "$tmp/prefix/include/ext2fs/"
cp "$src/lib/et/com_err.h" "$tmp/prefix/include/et/"
cp "$log" "$tmp/prefix/build.log"
printf '%s\n' "$key" >"$tmp/prefix/.stamp"

rm -rf "$prefix"                # a half-made prefix from an older script
mv "$tmp/prefix" "$prefix"      # atomic: same file system
update_link
