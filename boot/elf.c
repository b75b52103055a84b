/* ELF64 checks for the hypervisor image.  Every field that is used as an
 * offset or a size is bounded before use; sums are checked for overflow. */
#include <stdbool.h>
#include <stddef.h>

#include "elf.h"

#define PAGE		4096ULL
#define ET_EXEC		2
#define EM_X86_64	62
#define PT_LOAD		1
#define PT_INTERP	3
#define PF_X		1

struct ehdr {
	uint8_t  ident[16];
	uint16_t type;
	uint16_t machine;
	uint32_t version;
	uint64_t entry;
	uint64_t phoff;
	uint64_t shoff;
	uint32_t flags;
	uint16_t ehsize;
	uint16_t phentsize;
	uint16_t phnum;
	uint16_t shentsize;
	uint16_t shnum;
	uint16_t shstrndx;
};

struct phdr {
	uint32_t type;
	uint32_t flags;
	uint64_t offset;
	uint64_t vaddr;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
	uint64_t align;
};

_Static_assert(sizeof(struct ehdr) == 64, "Elf64_Ehdr");
_Static_assert(sizeof(struct phdr) == 56, "Elf64_Phdr");

static const char *check_header(const struct ehdr *eh, uint64_t size)
{
	if (eh->ident[0] != 0x7f || eh->ident[1] != 'E' ||
	    eh->ident[2] != 'L' || eh->ident[3] != 'F')
		return "not an ELF file (bad magic)";
	if (eh->ident[4] != 2)
		return "not a 64-bit ELF (class)";
	if (eh->ident[5] != 1)
		return "not little-endian (data encoding)";
	if (eh->ident[6] != 1 || eh->version != 1)
		return "unknown ELF version";
	if (eh->machine != EM_X86_64)
		return "wrong machine (not x86_64)";
	if (eh->type != ET_EXEC)
		return "not an executable (e_type is not ET_EXEC)";
	if (eh->phentsize != sizeof(struct phdr))
		return "bad program header size (e_phentsize)";
	if (eh->phnum == 0 || eh->phnum > ELF_MAX_PHNUM)
		return "bad program header count (e_phnum)";
	if (eh->phoff > size ||
	    size - eh->phoff < (uint64_t)eh->phnum * sizeof(struct phdr))
		return "program headers outside the file";
	if (eh->phoff % 8)
		return "misaligned program headers";
	return NULL;
}

static const char *check_load(const struct phdr *ph, uint64_t size)
{
	if (ph->filesz > ph->memsz)
		return "segment file size exceeds memory size";
	if (ph->offset > size || size - ph->offset < ph->filesz)
		return "segment data outside the file";
	if (ph->vaddr < HV_VIRT_MIN ||
	    ph->memsz > HV_VIRT_SPAN ||
	    ph->vaddr - HV_VIRT_MIN > HV_VIRT_SPAN - ph->memsz)
		return "segment outside the hypervisor window "
		       "[0xffffffff80000000, +1 GiB)";
	return NULL;
}

/* Insertion sort by vaddr: at most ELF_MAX_LOAD entries. */
static void sort_segs(struct elf_image *img)
{
	uint32_t i, j;

	for (i = 1; i < img->nseg; i++) {
		struct elf_seg s = img->seg[i];

		for (j = i; j > 0 && img->seg[j - 1].vaddr > s.vaddr; j--)
			img->seg[j] = img->seg[j - 1];
		img->seg[j] = s;
	}
}

static const char *check_layout(struct elf_image *img)
{
	const struct elf_seg *last;
	uint32_t i;
	bool entry_ok = false;

	if (img->nseg == 0)
		return "no loadable segment";
	sort_segs(img);
	for (i = 0; i < img->nseg; i++) {
		const struct elf_seg *s = &img->seg[i];

		if (i > 0 && img->seg[i - 1].vaddr + img->seg[i - 1].memsz >
			     s->vaddr)
			return "segments overlap";
		if ((s->flags & PF_X) && img->entry >= s->vaddr &&
		    img->entry - s->vaddr < s->memsz)
			entry_ok = true;
	}
	if (!entry_ok)
		return "entry point is not in an executable segment";

	last = &img->seg[img->nseg - 1];
	img->virt_base = img->seg[0].vaddr & ~(PAGE - 1);
	/* within the window, so this cannot overflow past 2^64 - 1 GiB */
	img->virt_end = (last->vaddr + last->memsz + PAGE - 1) & ~(PAGE - 1);
	return NULL;
}

const char *elf_check(const void *file, uint64_t size, struct elf_image *img)
{
	const struct ehdr *eh = file;
	const struct phdr *ph;
	const char *why;
	uint32_t i;

	if (size < sizeof(*eh))
		return "file too small for an ELF header";
	why = check_header(eh, size);
	if (why)
		return why;

	__builtin_memset(img, 0, sizeof(*img));
	img->entry = eh->entry;
	ph = (const struct phdr *)((const uint8_t *)file + eh->phoff);
	for (i = 0; i < eh->phnum; i++, ph++) {
		if (ph->type == PT_INTERP)
			return "dynamically linked (PT_INTERP)";
		if (ph->type != PT_LOAD || ph->memsz == 0)
			continue;
		why = check_load(ph, size);
		if (why)
			return why;
		if (img->nseg == ELF_MAX_LOAD)
			return "too many loadable segments";
		img->seg[img->nseg++] = (struct elf_seg){
			.vaddr = ph->vaddr, .memsz = ph->memsz,
			.offset = ph->offset, .filesz = ph->filesz,
			.flags = ph->flags,
		};
	}
	return check_layout(img);
}

void elf_place(const struct elf_image *img, const void *file, void *dst)
{
	uint8_t *base = dst;
	uint32_t i;

	__builtin_memset(base, 0, img->virt_end - img->virt_base);
	for (i = 0; i < img->nseg; i++) {
		const struct elf_seg *s = &img->seg[i];

		__builtin_memcpy(base + (s->vaddr - img->virt_base),
				 (const uint8_t *)file + s->offset, s->filesz);
	}
}
