#!/bin/sh
# Write an assembly file embedding each file given (the dashboard's ui/*)
# and a table ui.c reads: { name, start, end } per file, then zeros.
# Names are checked: only [A-Za-z0-9._-], as URLs /ui/NAME can ask for.
set -eu
echo '	.section .rodata'
i=0
for f in "$@"; do
	name=$(basename "$f")
	case "$name" in *[!A-Za-z0-9._-]*) echo "embed_ui: bad file name $name" >&2; exit 1;; esac
	printf 'ui_name_%d:\n\t.asciz "%s"\nui_data_%d:\n\t.incbin "%s"\nui_end_%d:\n' \
		"$i" "$name" "$i" "$(realpath "$f")" "$i"
	i=$((i + 1))
done
echo '	.section .data.rel.ro'
echo '	.p2align 3'
echo '	.globl ui_files'
echo 'ui_files:'
n=0
while [ "$n" -lt "$i" ]; do
	printf '\t.quad ui_name_%d, ui_data_%d, ui_end_%d\n' "$n" "$n" "$n"
	n=$((n + 1))
done
echo '	.quad 0, 0, 0'
echo '	.section .note.GNU-stack, "", @progbits'
