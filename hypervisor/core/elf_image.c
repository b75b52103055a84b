/* Guest ELF images: everything is bounds-checked against the file before
 * it is read, and every segment against the guest's memory before it is
 * mapped.  The image must carry the Paravane ABI note (public/elfnote.h). */
#include <public/abi.h>
#include <public/elfnote.h>
#include <hv/elf_image.h>
#include <hv/errno.h>
#include <hv/lib.h>

struct ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct shdr {
	uint32_t name, type;
	uint64_t flags, addr, offset, size;
	uint32_t link, info;
	uint64_t addralign, entsize;
};

struct sym {
	uint32_t name;
	uint8_t info, other;
	uint16_t shndx;
	uint64_t value, size;
};

#define PT_LOAD 1
#define PT_NOTE 4
#define SHT_SYMTAB 2
#define STT_FUNC 2
#define MAX_PHNUM 64
#define PG 4096ULL

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return -ENOEXEC;
}

/* [off, off + len) inside a buffer of size bytes, without overflow. */
static bool within(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static int check_header(const struct ehdr *h, uint64_t size, char *err, size_t n)
{
	if (size < sizeof(*h) || memcmp(h->ident, "\177ELF", 4))
		return fail(err, n, "not an ELF file");
	if (h->ident[4] != 2 || h->ident[5] != 1)
		return fail(err, n, "not a 64-bit little-endian ELF");
	if (h->machine != 62)
		return fail(err, n, "wrong machine %u (need x86_64)", h->machine);
	if (h->type != 2)
		return fail(err, n, "not an executable (ELF type %u)", h->type);
	if (h->phentsize != sizeof(struct phdr) || !h->phnum || h->phnum > MAX_PHNUM)
		return fail(err, n, "bad program header table (%u entries of %u bytes)",
			    h->phnum, h->phentsize);
	if (!within(h->phoff, (uint64_t)h->phnum * sizeof(struct phdr), size))
		return fail(err, n, "program headers outside the file");
	return 0;
}

static int add_segment(struct elf_image *img, const struct phdr *p, uint64_t size,
		       uint64_t lo, uint64_t hi, char *err, size_t n)
{
	uint64_t end;
	struct elf_segment *s;

	if (p->filesz > p->memsz || !within(p->offset, p->filesz, size))
		return fail(err, n, "segment at 0x%lx: file data outside the file", p->vaddr);
	if (__builtin_add_overflow(p->vaddr, p->memsz, &end) || p->vaddr < lo || end > hi)
		return fail(err, n, "segment 0x%lx+0x%lx outside guest memory [0x%lx, 0x%lx)",
			    p->vaddr, p->memsz, lo, hi);
	if ((p->flags & ELF_PF_W) && (p->flags & ELF_PF_X))
		return fail(err, n, "segment at 0x%lx is writable and executable (W^X)", p->vaddr);
	if (img->nseg == ELF_MAX_SEGMENTS)
		return fail(err, n, "more than %d loadable segments", ELF_MAX_SEGMENTS);
	for (uint32_t i = 0; i < img->nseg; i++) {
		const struct elf_segment *o = &img->seg[i];

		if (p->vaddr / PG <= (o->vaddr + o->memsz - 1) / PG && o->vaddr / PG <= (end - 1) / PG)
			return fail(err, n, "segments at 0x%lx and 0x%lx share a page", o->vaddr, p->vaddr);
	}
	s = &img->seg[img->nseg++];
	*s = (struct elf_segment){ p->vaddr, p->memsz, p->offset, p->filesz, p->flags };
	return 0;
}

static void parse_note(struct elf_image *img, const uint8_t *d, uint64_t off, uint64_t len)
{
	while (len >= 12) {
		uint32_t nsz, dsz, type;
		uint64_t step;

		memcpy(&nsz, d + off, 4);
		memcpy(&dsz, d + off + 4, 4);
		memcpy(&type, d + off + 8, 4);
		step = 12 + ALIGN_UP((uint64_t)nsz, 4) + ALIGN_UP((uint64_t)dsz, 4);
		if (step > len)
			return;
		if (nsz == sizeof(PV_NOTE_NAME) && !memcmp(d + off + 12, PV_NOTE_NAME, nsz)) {
			const uint8_t *desc = d + off + 12 + ALIGN_UP((uint64_t)nsz, 4);

			if (type == PV_NOTE_ABI && dsz >= 4)
				memcpy(&img->abi_version, desc, 4);
			if (type == PV_NOTE_DEVICES && dsz >= 8) {
				memcpy(&img->need_net, desc, 4);
				memcpy(&img->need_block, desc + 4, 4);
			}
		}
		off += step;
		len -= step;
	}
}

static int load_phdrs(const uint8_t *d, uint64_t size, const struct ehdr *h, uint64_t lo,
		      uint64_t hi, struct elf_image *img, char *err, size_t n)
{
	for (uint16_t i = 0; i < h->phnum; i++) {
		struct phdr p;
		int r;

		memcpy(&p, d + h->phoff + (uint64_t)i * sizeof(p), sizeof(p));
		if (p.type == PT_NOTE && within(p.offset, p.filesz, size))
			parse_note(img, d, p.offset, p.filesz);
		if (p.type != PT_LOAD || !p.memsz)
			continue;
		r = add_segment(img, &p, size, lo, hi, err, n);
		if (r)
			return r;
	}
	return 0;
}

static void find_symtab(const uint8_t *d, uint64_t size, const struct ehdr *h, struct elf_image *img)
{
	struct shdr s, str;

	if (h->shentsize != sizeof(s) || !within(h->shoff, (uint64_t)h->shnum * sizeof(s), size))
		return;
	for (uint16_t i = 0; i < h->shnum; i++) {
		memcpy(&s, d + h->shoff + (uint64_t)i * sizeof(s), sizeof(s));
		if (s.type != SHT_SYMTAB || s.link >= h->shnum || !within(s.offset, s.size, size))
			continue;
		memcpy(&str, d + h->shoff + (uint64_t)s.link * sizeof(s), sizeof(s));
		if (!within(str.offset, str.size, size))
			continue;
		img->symtab_off = s.offset;
		img->symtab_size = s.size - s.size % sizeof(struct sym);
		img->strtab_off = str.offset;
		img->strtab_size = str.size;
		return;
	}
}

static bool entry_ok(const struct elf_image *img)
{
	for (uint32_t i = 0; i < img->nseg; i++) {
		const struct elf_segment *s = &img->seg[i];

		if ((s->flags & ELF_PF_X) && img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz)
			return true;
	}
	return false;
}

int elf_image_parse(const void *data, uint64_t size, uint64_t lo, uint64_t hi,
		    struct elf_image *img, char *err, size_t n)
{
	const uint8_t *d = data;
	struct ehdr h;
	int r;

	memset(img, 0, sizeof(*img));
	if (size < sizeof(h))
		return fail(err, n, "file too short for an ELF header (%lu bytes)", size);
	memcpy(&h, d, sizeof(h));
	if ((r = check_header(&h, size, err, n)) || (r = load_phdrs(d, size, &h, lo, hi, img, err, n)))
		return r;
	if (!img->nseg)
		return fail(err, n, "no loadable segments");
	img->entry = h.entry;
	if (!entry_ok(img))
		return fail(err, n, "entry point 0x%lx is not in an executable segment", h.entry);
	if (!img->abi_version)
		return fail(err, n, "no Paravane ABI note (image not built with the Paravane SDK?); need ABI version %d",
			    PV_ABI_VERSION);
	if (img->abi_version != PV_ABI_VERSION)
		return fail(err, n, "built for ABI version %u; this hypervisor needs ABI version %d",
			    img->abi_version, PV_ABI_VERSION);
	img->lo = img->seg[0].vaddr & ~(PG - 1);
	for (uint32_t i = 0; i < img->nseg; i++) {
		img->lo = MIN(img->lo, img->seg[i].vaddr & ~(PG - 1));
		img->hi = MAX(img->hi, ALIGN_UP(img->seg[i].vaddr + img->seg[i].memsz, PG));
	}
	find_symtab(d, size, &h, img);
	return 0;
}

#define OFFSET_ROOM 20   /* "+0x" + 16 hex digits + NUL */

int elf_image_symbolize(const void *data, uint64_t size, const struct elf_image *img,
			uint64_t addr, char *buf, size_t n)
{
	const uint8_t *d = data;
	struct sym best = { 0 }, s;
	const char *name;
	size_t k;

	for (uint64_t off = 0; off + sizeof(s) <= img->symtab_size; off += sizeof(s)) {
		memcpy(&s, d + img->symtab_off + off, sizeof(s));
		if ((s.info & 0xf) != STT_FUNC || s.value > addr || s.name >= img->strtab_size)
			continue;
		if (s.size && addr - s.value >= s.size)
			continue;
		if (s.value >= best.value)
			best = s;
	}
	if (!best.value || !n)
		return 0;
	name = (const char *)d + img->strtab_off + best.name;
	/* The name is guest data: sanitized, and "+0x" and 16 digits keep
	 * their room however long it is. */
	k = sanitize(buf, n > OFFSET_ROOM ? n - OFFSET_ROOM : n, name,
		     strnlen(name, img->strtab_size - best.name));
	snprintf(buf + k, n - k, "+0x%lx", addr - best.value);
	return 1;
}
