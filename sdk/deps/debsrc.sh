# Fetch a Debian source package through a private apt state dir: sourced by
# sdk/deps/lwip.sh and sdk/deps/e2fsprogs.sh, which set CACHE first.
#
#   debsrc_ensure PKG SRCDIR [DSC]   set $dsc to PKG's newest .dsc in SRCDIR,
#                                    fetching it once (under a lock) if none;
#                                    DSC (an offline copy) wins when given
#   debsrc_unpack_orig DIR LOG       check $dsc's orig tarball, unpack it in DIR
#
# The caller may set DEBSRC_OFFLINE: advice printed when the fetch fails.
#
# The system's own apt sources become deb-src entries in SRCDIR/apt; the
# system's /etc/apt is only read.  apt checks the downloaded files against
# the signed Sources index; the caller checks the orig tarball against the
# .dsc before every build.  The indices (about 20 MB) are deleted after.

# deb-src twins of the system's own entries, one-line and deb822 alike.
# Comments go (deb822 allows them inside a stanza); "Enabled: no" stays.
debsrc_write_sources() {
	out=$1
	mkdir -p "$out"
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -n -e 's/^[[:space:]]*deb\([[:space:]]\)/deb-src\1/p' "$f"
	done >"$out/system.list"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		sed -e '/^[[:space:]]*#/d' -e 's/^Types:.*/Types: deb-src/' "$f"
		echo
	done >"$out/system.sources"
}

debsrc_fetch() {
	pkg=$1 srcdir=$2
	apt="$srcdir/apt"
	dl="$srcdir/.dl"

	echo "  FETCH   $pkg (Debian source package, private apt state)"
	rm -rf "$apt" "$dl"
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$dl"
	debsrc_write_sources "$apt/sources.list.d"
	# Each key exactly once: apt's option names ignore case.
	set -- -o Dir::Etc::SourceList=/dev/null \
		-o Dir::Etc::SourceParts="$apt/sources.list.d" \
		-o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" \
		-o APT::Sandbox::User=root
	# A source without a Sources index (some third-party repos) makes
	# update fail; what counts is whether the package can be downloaded.
	apt-get "$@" -q update >"$srcdir/fetch.log" 2>&1 ||
		echo "$pkg: apt-get update reported errors (see $srcdir/fetch.log)" >&2
	if ! (cd "$dl" && apt-get "$@" -q source --download-only "$pkg") \
		>>"$srcdir/fetch.log" 2>&1; then
		echo "$pkg: cannot download Debian's $pkg source package; last lines of $srcdir/fetch.log:" >&2
		tail -n 15 "$srcdir/fetch.log" >&2
		echo "$pkg: offline? ${DEBSRC_OFFLINE:-give a ${pkg}_VERSION.dsc (with its tarballs)}" >&2
		exit 1
	fi
	mv "$dl"/* "$srcdir/"
	rm -rf "$dl" "$apt"
}

debsrc_find() {
	if [ -n "$3" ]; then
		echo "$3"
		return
	fi
	ls "$2/$1"_*.dsc 2>/dev/null | sort -V | tail -n 1
}

debsrc_ensure() {
	dsc=$(debsrc_find "$1" "$2" "${3:-}")
	[ -n "$dsc" ] && [ -f "$dsc" ] && return
	mkdir -p "$2"
	exec 8>"$CACHE/.$1-fetch.lock"
	flock 8
	dsc=$(debsrc_find "$1" "$2" "${3:-}")
	if [ -z "$dsc" ] || [ ! -f "$dsc" ]; then
		debsrc_fetch "$1" "$2"
		dsc=$(debsrc_find "$1" "$2" "${3:-}")
	fi
	exec 8>&-
	[ -n "$dsc" ] && [ -f "$dsc" ] || { echo "$1: no .dsc after fetching" >&2; exit 1; }
}

# The orig tarball named in the .dsc, checked against its SHA-256 and
# unpacked into DIR without its top directory.  LOG gets the details.
debsrc_unpack_orig() {
	dir=$1 log=$2
	line=$(sed -n '/^Checksums-Sha256:/,/^[^ ]/p' "$dsc" | grep '\.orig\.tar\.[a-z0-9]*$' | head -n 1)
	# shellcheck disable=SC2086  # split "SHA256 SIZE NAME"
	set -- $line
	[ $# -eq 3 ] || { echo "no orig tarball in $dsc" >>"$log"; return 1; }
	orig="$(dirname "$dsc")/$3"
	echo "orig tarball: $orig" >>"$log"
	[ -f "$orig" ] || { echo "missing: $orig" >>"$log"; return 1; }
	echo "$1  $orig" | sha256sum -c - >>"$log" 2>&1 || return 1
	mkdir -p "$dir"
	tar -xf "$orig" -C "$dir" --strip-components=1 >>"$log" 2>&1
}
