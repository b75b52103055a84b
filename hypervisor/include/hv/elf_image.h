/* Guest image (ELF64) validation and symbol lookup.  Pure functions over a
 * byte buffer: unit-tested on the host with malformed images. */
#ifndef HV_ELF_IMAGE_H
#define HV_ELF_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 8

#define ELF_PF_X 1
#define ELF_PF_W 2
#define ELF_PF_R 4

struct elf_segment {
	uint64_t vaddr, memsz;
	uint64_t offset, filesz;
	uint32_t flags;            /* ELF_PF_* */
};

struct elf_image {
	uint64_t entry;
	uint32_t nseg;
	struct elf_segment seg[ELF_MAX_SEGMENTS];
	uint64_t lo, hi;           /* page-rounded extent of the segments */
	uint32_t abi_version;      /* from the Paravane note */
	uint32_t need_net, need_block;
	/* symbol table, bounds-checked; size 0 when stripped */
	uint64_t symtab_off, symtab_size, strtab_off, strtab_size;
};

/* Validate data[0..size) as a runnable image whose segments must lie in
 * [lo, hi).  On failure returns -ENOEXEC and writes the reason to err. */
int elf_image_parse(const void *data, uint64_t size, uint64_t lo, uint64_t hi,
		    struct elf_image *img, char *err, size_t errlen);

/* "function+0xoff" for addr using the image's own symbol table, the name
 * passed through sanitize() (it is guest data); 0 if none. */
int elf_image_symbolize(const void *data, uint64_t size, const struct elf_image *img,
			uint64_t addr, char *buf, size_t n);

#endif
