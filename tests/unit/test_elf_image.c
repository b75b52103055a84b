/* Guest image validation (core/elf_image.c) on good and malformed ELFs. */
#include <elf.h>
#include <stdlib.h>
#include <public/abi.h>
#include <public/errno.h>
#include <hv/elf_image.h>
#include "harness.h"

#define SIZE 0x3000
#define LO   0x400000UL
#define HI   0x500000UL
static uint8_t img[SIZE];
static char err[160];

static Elf64_Ehdr *eh(void) { return (Elf64_Ehdr *)img; }
static Elf64_Phdr *ph(int i) { return (Elf64_Phdr *)(img + 64) + i; }

static void put_note(uint32_t version)
{
	uint32_t *n = (uint32_t *)(img + 0x200);

	n[0] = 9;                        /* "Paravane\0" */
	n[1] = 8;
	n[2] = 1;                        /* PV_NOTE_ABI */
	memcpy(&n[3], "Paravane", 9);
	n[6] = version;
	n[7] = 0;
}

static void put_symtab(void)
{
	Elf64_Shdr *sh = (Elf64_Shdr *)(img + 0x2100);
	Elf64_Sym *sym = (Elf64_Sym *)(img + 0x2200);

	eh()->e_shoff = 0x2100;
	eh()->e_shentsize = sizeof(Elf64_Shdr);
	eh()->e_shnum = 3;
	sh[1] = (Elf64_Shdr){ .sh_type = SHT_SYMTAB, .sh_offset = 0x2200,
			      .sh_size = 2 * sizeof(Elf64_Sym), .sh_link = 2 };
	sh[2] = (Elf64_Shdr){ .sh_type = SHT_STRTAB, .sh_offset = 0x2300, .sh_size = 16 };
	memcpy(img + 0x2300, "\0main\0helper\0", 13);
	sym[0] = (Elf64_Sym){ .st_name = 1, .st_info = STT_FUNC, .st_value = 0x400010, .st_size = 0x20 };
	sym[1] = (Elf64_Sym){ .st_name = 6, .st_info = STT_FUNC, .st_value = 0x400040, .st_size = 0x10 };
}

/* A valid image: text R+X at 0x400000, data RW at 0x401000 (+bss), note. */
static void build(void)
{
	memset(img, 0, sizeof(img));
	memcpy(eh()->e_ident, ELFMAG, SELFMAG);
	eh()->e_ident[EI_CLASS] = ELFCLASS64;
	eh()->e_ident[EI_DATA] = ELFDATA2LSB;
	eh()->e_type = ET_EXEC;
	eh()->e_machine = EM_X86_64;
	eh()->e_entry = 0x400010;
	eh()->e_phoff = 64;
	eh()->e_phentsize = sizeof(Elf64_Phdr);
	eh()->e_phnum = 3;
	*ph(0) = (Elf64_Phdr){ PT_LOAD, PF_R | PF_X, 0x1000, 0x400000, 0x400000, 0x100, 0x100, 0x1000 };
	*ph(1) = (Elf64_Phdr){ PT_LOAD, PF_R | PF_W, 0x2000, 0x401000, 0x401000, 0x80, 0x2000, 0x1000 };
	*ph(2) = (Elf64_Phdr){ PT_NOTE, PF_R, 0x200, 0, 0, 32, 32, 4 };
	put_note(PV_ABI_VERSION);
	put_symtab();
}

static int parse(uint64_t size, struct elf_image *e)
{
	err[0] = 0;
	return elf_image_parse(img, size, LO, HI, e, err, sizeof(err));
}

#define EXPECT_REFUSED(size, needle) do { \
	struct elf_image e_; \
	CHECK_EQ_INT(parse(size, &e_), -PV_ENOEXEC); \
	if (!CHECK(strstr(err, needle))) fprintf(stderr, "  message was: %s\n", err); \
	build(); } while (0)

static void test_good(void)
{
	struct elf_image e;
	char name[64];

	build();
	CHECK_EQ_INT(parse(SIZE, &e), 0);
	CHECK_EQ_INT(e.nseg, 2);
	CHECK_EQ_U64(e.entry, 0x400010);
	CHECK_EQ_U64(e.lo, 0x400000);
	CHECK_EQ_U64(e.hi, 0x403000);
	CHECK_EQ_INT(e.abi_version, PV_ABI_VERSION);
	CHECK(elf_image_symbolize(img, SIZE, &e, 0x400018, name, sizeof(name)));
	CHECK_STR(name, "main+0x8");
	CHECK(elf_image_symbolize(img, SIZE, &e, 0x400044, name, sizeof(name)));
	CHECK_STR(name, "helper+0x4");
	CHECK(!elf_image_symbolize(img, SIZE, &e, 0x400090, name, sizeof(name)));
}

/* A symbol name is guest data: it comes back sanitized (no newline or
 * escape reaches the log), and the offset keeps its room however long. */
static void test_hostile_symbol_name(void)
{
	static const char evil[] = "x\n@event y\x1b[2J\\";
	Elf64_Shdr *strtab = (Elf64_Shdr *)(img + 0x2100) + 2;
	struct elf_image e;
	char name[64];

	build();
	strtab->sh_size = 0x200;
	memcpy(img + 0x2306, evil, sizeof(evil));        /* helper's name */
	CHECK_EQ_INT(parse(SIZE, &e), 0);
	CHECK(elf_image_symbolize(img, SIZE, &e, 0x400044, name, sizeof(name)));
	CHECK_STR(name, "x\\x0a@event y\\x1b[2J\\\\+0x4");
	memset(img + 0x2306, '\n', 0x1f0);               /* long, unterminated to the table's end */
	CHECK_EQ_INT(parse(SIZE, &e), 0);
	CHECK(elf_image_symbolize(img, SIZE, &e, 0x400044, name, sizeof(name)));
	CHECK_EQ_INT(strlen(name), 40 + 4);               /* ten whole escapes, then the offset */
	CHECK(!strcmp(name + 40, "+0x4"));
}

static void test_header_errors(void)
{
	build();
	EXPECT_REFUSED(10, "too short");
	img[0] = 'X';
	EXPECT_REFUSED(SIZE, "not an ELF");
	eh()->e_machine = EM_AARCH64;
	EXPECT_REFUSED(SIZE, "wrong machine 183");
	eh()->e_ident[EI_CLASS] = ELFCLASS32;
	EXPECT_REFUSED(SIZE, "64-bit");
	eh()->e_type = ET_DYN;
	EXPECT_REFUSED(SIZE, "not an executable");
	eh()->e_phnum = 0;
	EXPECT_REFUSED(SIZE, "program header table");
	eh()->e_phnum = 60000;
	EXPECT_REFUSED(SIZE, "program header table");
	eh()->e_phoff = SIZE - 8;
	EXPECT_REFUSED(SIZE, "outside the file");
	eh()->e_phoff = UINT64_MAX - 16;   /* offset + size overflows */
	EXPECT_REFUSED(SIZE, "outside the file");
}

static void test_truncated(void)
{
	build();
	EXPECT_REFUSED(0x2040, "outside the file");   /* data segment cut short */
	EXPECT_REFUSED(100, "outside the file");      /* phdrs cut */
}

static void test_segment_errors(void)
{
	build();
	ph(1)->p_filesz = 0x3000;                     /* filesz > memsz */
	EXPECT_REFUSED(SIZE, "outside the file");
	ph(1)->p_offset = UINT64_MAX - 0x10;          /* offset + filesz overflows */
	EXPECT_REFUSED(SIZE, "outside the file");
	ph(1)->p_memsz = UINT64_MAX - 0x100;          /* vaddr + memsz overflows */
	EXPECT_REFUSED(SIZE, "outside guest memory");
	ph(1)->p_memsz = 0x40000000;                  /* huge */
	EXPECT_REFUSED(SIZE, "outside guest memory");
	ph(0)->p_vaddr = 0x1000;                      /* below guest memory */
	EXPECT_REFUSED(SIZE, "outside guest memory");
	ph(1)->p_vaddr = 0x400080;                    /* overlaps text */
	EXPECT_REFUSED(SIZE, "share a page");
	ph(1)->p_flags = PF_R | PF_W | PF_X;
	EXPECT_REFUSED(SIZE, "writable and executable");
	eh()->e_entry = 0x401000;                     /* entry in data */
	EXPECT_REFUSED(SIZE, "not in an executable segment");
	ph(0)->p_type = PT_NULL;
	ph(1)->p_type = PT_NULL;
	EXPECT_REFUSED(SIZE, "no loadable segments");
}

static void test_abi_note(void)
{
	build();
	ph(2)->p_type = PT_NULL;
	EXPECT_REFUSED(SIZE, "no Paravane ABI note");
	put_note(PV_ABI_VERSION + 1);
	EXPECT_REFUSED(SIZE, "built for ABI version 2; this hypervisor needs ABI version 1");
	ph(2)->p_filesz = 0xffffffff;                 /* note outside the file: ignored */
	EXPECT_REFUSED(SIZE, "no Paravane ABI note");
}

static void test_random_garbage(void)
{
	struct elf_image e;
	int odd = 0;

	srand(3);
	for (int round = 0; round < 2000; round++) {
		build();
		for (int k = 0; k < 8; k++)               /* flip bytes in the headers */
			img[rand() % 0x300] = (uint8_t)rand();
		int r = parse((uint64_t)(rand() % SIZE), &e);   /* ASan watches the reads */
		if (r != 0 && r != -PV_ENOEXEC)
			odd++;
		if (r == 0 && (e.lo < LO || e.hi > HI))   /* accepted: must be in bounds */
			odd++;
	}
	CHECK_EQ_INT(odd, 0);
}

int main(void)
{
	RUN(test_good);
	RUN(test_hostile_symbol_name);
	RUN(test_header_errors);
	RUN(test_truncated);
	RUN(test_segment_errors);
	RUN(test_abi_note);
	RUN(test_random_garbage);
	return harness_report();
}
