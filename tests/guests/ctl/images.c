/* ctl images and ctl store N: the named image store (IMAGE_ADD, REMOVE,
 * LIST), CREATE by hash and GET_CONFIG, one "ctl: ..." line per check for
 * tests/system/test_domctl.py.  Hashes are printed as their first 8 bytes
 * (the test compares them with the SHA-256 of the files it built), and a
 * refusal's line carries only r and the message: a console line is at
 * most 160 bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <paravane.h>
#include <public/elfnote.h>
#include <public/errno.h>

#include "ctl.h"

#define SIZE(img) ((uint64_t)(img##_end - img))

static void hex(const uint8_t h[32], char out[17])
{
	for (int i = 0; i < 8; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

static const char *msg(const struct pv_domctl_hdr *h)
{
	return h->message[0] ? h->message : "-";
}

/* ---- the operations, each printing one line ---------------------------------- */

static long add(const char *label, const char *name, const void *bytes, uint64_t size,
		struct pv_domctl_image_entry *out)
{
	struct pv_domctl_image q;
	char h[17];
	long r;

	hdr(&q.hdr, PV_DOMCTL_IMAGE_ADD, sizeof(q), 0);
	q.image_gva = (uintptr_t)bytes;
	q.image_size = size;
	strncpy(q.entry.name, name, sizeof(q.entry.name) - 1);
	r = pv_domctl(&q, sizeof(q));
	hex(q.entry.hash, h);
	if (r)
		printf("ctl: add-%s r=%ld flags=%u msg=%s\n", label, r, q.flags, msg(&q.hdr));
	else
		printf("ctl: add-%s r=0 flags=%u name=%s hash=%s size=%lu users=%u names=%u\n", label, q.flags,
		       q.entry.name, h, (unsigned long)q.entry.size, q.entry.users, q.entry.names);
	if (out)
		*out = q.entry;
	return r;
}

static long add_quiet(const char *name, const void *bytes, uint64_t size)
{
	struct pv_domctl_image q;

	hdr(&q.hdr, PV_DOMCTL_IMAGE_ADD, sizeof(q), 0);
	q.image_gva = (uintptr_t)bytes;
	q.image_size = size;
	strncpy(q.entry.name, name, sizeof(q.entry.name) - 1);
	return pv_domctl(&q, sizeof(q));
}

static long remove_image(const char *label, const char *name)
{
	struct pv_domctl_image q;
	long r;

	hdr(&q.hdr, PV_DOMCTL_IMAGE_REMOVE, sizeof(q), 0);
	strncpy(q.entry.name, name, sizeof(q.entry.name) - 1);
	r = pv_domctl(&q, sizeof(q));
	if (label && r)
		printf("ctl: remove-%s r=%ld msg=%s\n", label, r, msg(&q.hdr));
	else if (label)
		printf("ctl: remove-%s r=0 name=%s size=%lu users=%u names=%u\n", label, q.entry.name,
		       (unsigned long)q.entry.size, q.entry.users, q.entry.names);
	return r;
}

static struct pv_domctl_image_entry listed[PV_DOMCTL_IMAGES_MAX];

/* NAME:users:names,... in the order given. */
static void image_list(const char *label, uint32_t max)
{
	struct pv_domctl_image_list l;
	long r;

	hdr(&l.hdr, PV_DOMCTL_IMAGE_LIST, sizeof(l), 0);
	l.buf_gva = (uintptr_t)listed;
	l.max = max;
	r = pv_domctl(&l, sizeof(l));
	printf("ctl: ilist-%s r=%ld count=%u total=%u names=", label, r, l.count, l.total);
	for (uint32_t i = 0; !r && i < l.count; i++)
		printf("%s%s:%u:%u", i ? "," : "", listed[i].name, listed[i].users, listed[i].names);
	printf("%s msg=%s\n", r || !l.count ? "-" : "", msg(&l.hdr));
}

static void store_info(const char *label)
{
	struct pv_domctl_host h;
	long r;

	hdr(&h.hdr, PV_DOMCTL_HOST_INFO, sizeof(h), 0);
	r = pv_domctl(&h, sizeof(h));
	printf("ctl: store-%s r=%ld images=%u bytes=%lu limit=%lu total=%lu\n", label, r, h.images,
	       (unsigned long)h.image_bytes, (unsigned long)h.image_limit, (unsigned long)h.memory_total);
}

static uint64_t store_limit(uint64_t *used)
{
	struct pv_domctl_host h;

	hdr(&h.hdr, PV_DOMCTL_HOST_INFO, sizeof(h), 0);
	pv_domctl(&h, sizeof(h));
	*used = h.image_bytes;
	return h.image_limit;
}

static uint32_t create_by_hash(const char *label, const char *name, const uint8_t hash[32], const char *cmdline,
			       int quiet)
{
	struct pv_domctl_create q;
	char h[17];
	long r;

	hdr(&q.hdr, PV_DOMCTL_CREATE, sizeof(q), 0);
	memcpy(q.image_hash, hash, 32);
	strncpy(q.config.name, name, sizeof(q.config.name) - 1);
	strncpy(q.config.cmdline, cmdline, sizeof(q.config.cmdline) - 1);
	q.config.memory = 1 << 20;
	r = pv_domctl(&q, sizeof(q));
	hex(q.image_hash, h);
	if (!quiet)
		printf("ctl: hcreate-%s r=%ld id=%u hash=%s msg=%s\n", label, r, q.hdr.domid, h, msg(&q.hdr));
	return r ? 0 : q.hdr.domid;
}

static struct pv_domctl_dominfo domain_info(const char *label, uint32_t id)
{
	struct pv_domctl_info q;
	char h[17];
	long r;

	hdr(&q.hdr, PV_DOMCTL_INFO, sizeof(q), id);
	r = pv_domctl(&q, sizeof(q));
	hex(q.info.image_hash, h);
	if (label)
		printf("ctl: hinfo-%s r=%ld name=%s state=%u flags=%u hash=%s\n", label, r,
		       q.info.name[0] ? q.info.name : "-", q.info.state, q.info.flags, h);
	return q.info;
}

/* The first live domain with this name; 0 if none. */
static uint32_t find_domain(const char *name)
{
	static struct pv_domctl_dominfo doms[64];
	struct pv_domctl_list l;

	hdr(&l.hdr, PV_DOMCTL_LIST, sizeof(l), 0);
	l.max = 64;
	l.buf_gva = (uintptr_t)doms;
	if (pv_domctl(&l, sizeof(l)))
		return 0;
	for (uint32_t i = 0; i < l.count; i++)
		if (!strcmp(doms[i].name, name))
			return doms[i].domid;
	return 0;
}

/* Spaces as %20: one key=value per field. */
static void print_cmdline(const char *s)
{
	for (; *s; s++)
		printf(*s == ' ' ? "%%20" : "%c", *s);
}

static void net_line(const char *label, uint32_t i, const struct pv_domctl_net *n)
{
	printf("ctl: confignet-%s i=%u mac=%02x:%02x:%02x:%02x:%02x:%02x ip=%u.%u.%u.%u/%u gw=%u.%u.%u.%u flags=%u\n",
	       label, i, n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5], n->ipv4 >> 24,
	       (n->ipv4 >> 16) & 255, (n->ipv4 >> 8) & 255, n->ipv4 & 255, n->prefix_len, n->gateway >> 24,
	       (n->gateway >> 16) & 255, (n->gateway >> 8) & 255, n->gateway & 255, n->flags);
}

/* One line for the settings, one per net device. */
static void get_config(const char *label, uint32_t id)
{
	struct pv_domctl_getconfig q;
	const struct pv_domctl_config *c = &q.config;
	long r;

	hdr(&q.hdr, PV_DOMCTL_GET_CONFIG, sizeof(q), id);
	r = pv_domctl(&q, sizeof(q));
	if (r) {
		printf("ctl: config-%s r=%ld msg=%s\n", label, r, msg(&q.hdr));
		return;
	}
	printf("ctl: config-%s r=0 name=%s cmdline=", label, c->name);
	print_cmdline(c->cmdline[0] ? c->cmdline : "-");
	printf(" memory_kib=%lu cpu_mask=0x%lx weight=%u on_exit=%u on_crash=%u restart_limit=%u nets=%u\n",
	       (unsigned long)(c->memory >> 10), (unsigned long)c->cpu_mask, c->weight, c->on_exit, c->on_crash,
	       c->restart_limit, c->net_count);
	for (uint32_t i = 0; i < c->net_count && i < PV_DOMCTL_MAX_NETS; i++)
		net_line(label, i, &c->net[i]);
}

/* size bytes: the image, then a pattern made of tag (other bytes, the
 * same ELF: its program headers say what is loaded). */
static char *padded(const char *img, uint64_t img_size, uint64_t size, unsigned tag)
{
	char *b = malloc(size);

	if (!b)
		return NULL;
	memcpy(b, img, img_size);
	for (uint64_t i = img_size; i < size; i++)
		b[i] = (char)(tag + i % 251);
	return b;
}

/* ---- ctl images ------------------------------------------------------------------ */

static void refusals(void)
{
	static const char junk[] = "this is not an ELF image, only words; long enough for the header to be read";
	uint64_t hs = SIZE(hello_image);
	char *other = padded(hello_image, hs, hs + 1, 7);

	add("other", "hello", other, hs + 1, NULL);          /* other bytes, same name */
	add("junk", "junk", junk, sizeof(junk), NULL);
	add("cut", "cut", hello_image, 200, NULL);
	add("digits", "12345", hello_image, hs, NULL);
	add("badname", "bad name!", hello_image, hs, NULL);
	add("badptr", "ptr", (void *)0xffff800000000000ul, hs, NULL);
	add("empty", "empty", hello_image, 0, NULL);
	free(other);
}

/* Two domains by the hash of a run-time image; both report that hash. */
static void create_twice(const uint8_t hash[32], uint32_t ids[2])
{
	ids[0] = create_by_hash("run1", "run1", hash, "spin forever", 0);
	ids[1] = create_by_hash("run2", "run2", hash, "spin forever", 0);
	domain_info("run1", ids[0]);
	domain_info("run2", ids[1]);
}

static void boot_hashes(void)
{
	struct pv_domctl_dominfo k = domain_info("keeper", find_domain("keeper"));

	domain_info("twin", find_domain("twin"));
	domain_info("self", pv_domid());
	create_by_hash("bootcopy", "bootcopy", k.image_hash, "spin 1", 0);
}

static void configs(uint32_t run1)
{
	get_config("run1", run1);
	get_config("keeper", find_domain("keeper"));
	get_config("twin", find_domain("twin"));
	get_config("self", pv_domid());
	get_config("missing", 99999);
}

void images(void)
{
	uint64_t ss = SIZE(spin_image);
	char *spin2 = padded(spin_image, ss, ss + 4096, 1);
	struct pv_domctl_image_entry e;
	uint8_t unknown[32] = { 1, 2, 3 };
	uint32_t ids[2];

	nap_ms(200);                  /* the boot domains exist */
	store_info("empty");
	add("hello", "hello", hello_image, SIZE(hello_image), &e);
	add("again", "hello", hello_image, SIZE(hello_image), NULL);
	refusals();
	add("spinner", "spinner", spin_image, ss, NULL);       /* the boot image's bytes */
	add("spin2", "spin2", spin2, ss + 4096, &e);
	add("alias", "alias", hello_image, SIZE(hello_image), NULL);
	store_info("full");
	image_list("all", PV_DOMCTL_IMAGES_MAX);
	image_list("two", 2);
	image_list("toomany", PV_DOMCTL_IMAGES_MAX + 1);
	create_twice(e.hash, ids);
	add("spin2-users", "spin2", spin2, ss + 4096, NULL);
	create_by_hash("unknown", "nobody", unknown, "", 0);
	boot_hashes();
	remove_image("spin2", "spin2");
	remove_image("spin2-again", "spin2");
	domain_info("run1-after", ids[0]);
	create_by_hash("run3", "run3", e.hash, "spin", 0);   /* the bytes live on with their users */
	printf("ctl: run3-ran shown=%d\n", console_shows(find_domain("run3"), "spin: spinning forever", 5000));
	configs(ids[0]);
	destroy(ids[0], "run1");
	destroy(ids[1], "run2");
	destroy(find_domain("run3"), "run3");
	destroy(find_domain("keeper"), "keeper");
	destroy(find_domain("twin"), "twin");
	nap_ms(500);
	create_by_hash("gone", "gone", e.hash, "", 0);       /* freed with the last user */
	remove_image("hello", "hello");
	remove_image("alias", "alias");
	remove_image("spinner", "spinner");
	store_info("after");
	free(spin2);
}

/* ---- ctl store N --------------------------------------------------------------------- */

/* The smallest image the loader accepts: an ELF header, one read+execute
 * PT_LOAD of the file itself, the ABI note and a ud2 as the entry. */
static size_t tiny_elf(uint8_t *b)
{
	struct { uint8_t ident[16]; uint16_t type, machine; uint32_t version; uint64_t entry, phoff, shoff;
		 uint32_t flags; uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx; } eh = { 0 };
	struct { uint32_t type, flags; uint64_t offset, vaddr, paddr, filesz, memsz, align; } ph[2] = { { 0 } };
	struct { uint32_t namesz, descsz, type; char name[12]; struct pv_note_abi abi; } note = { 0 };
	size_t code = sizeof(eh) + sizeof(ph) + sizeof(note), size = code + 16;

	memcpy(eh.ident, "\177ELF\2\1\1", 7);
	eh.type = 2;
	eh.machine = 62;
	eh.version = 1;
	eh.entry = PV_GUEST_BASE + code;
	eh.phoff = sizeof(eh);
	eh.ehsize = sizeof(eh);
	eh.phentsize = sizeof(ph[0]);
	eh.phnum = 2;
	ph[0] = (__typeof__(ph[0])){ 1, 5, 0, PV_GUEST_BASE, PV_GUEST_BASE, size, size, 4096 };
	ph[1] = (__typeof__(ph[1])){ 4, 4, sizeof(eh) + sizeof(ph), 0, 0, sizeof(note), sizeof(note), 4 };
	note.namesz = sizeof(PV_NOTE_NAME);
	note.descsz = sizeof(note.abi);
	note.type = PV_NOTE_ABI;
	memcpy(note.name, PV_NOTE_NAME, sizeof(PV_NOTE_NAME));
	note.abi.abi_version = PV_ABI_VERSION;
	memset(b, 0, size);
	memcpy(b, &eh, sizeof(eh));
	memcpy(b + sizeof(eh), ph, sizeof(ph));
	memcpy(b + sizeof(eh) + sizeof(ph), &note, sizeof(note));
	b[code] = 0x0f;
	b[code + 1] = 0x0b;
	return size;
}

/* Every name in use, then one more. */
static void fill_names(void)
{
	uint8_t tiny[512];
	size_t n = tiny_elf(tiny);
	char name[16];
	long failed = 0;

	for (unsigned i = 0; i < PV_DOMCTL_IMAGES_MAX; i++) {
		snprintf(name, sizeof(name), "n%03u", i);
		failed += add_quiet(name, tiny, n) != 0;
	}
	printf("ctl: fill added=%u failed=%ld\n", PV_DOMCTL_IMAGES_MAX, failed);
	store_info("names");
	add("one-more", "n256", tiny, n, NULL);
	failed = 0;
	for (unsigned i = 0; i < PV_DOMCTL_IMAGES_MAX; i++) {
		snprintf(name, sizeof(name), "n%03u", i);
		failed += remove_image(NULL, name) != 0;
	}
	printf("ctl: unfill removed=%u failed=%ld\n", PV_DOMCTL_IMAGES_MAX, failed);
}

/* Half the byte limit fits; the other half and a page more does not. */
static void fill_bytes(void)
{
	uint64_t used, limit = store_limit(&used), half = (limit - used) / 2, over = limit - used - half + 4096;
	char *b = padded(hello_image, SIZE(hello_image), over, 3);

	if (!b || over > PV_DOMCTL_IMAGE_MAX) {
		printf("ctl: bytes-skipped limit=%lu\n", (unsigned long)limit);
		return;
	}
	add("half", "half", b, half, NULL);
	b[SIZE(hello_image)] ^= 1;         /* other bytes */
	add("over", "over", b, over, NULL);
	store_info("bytes");
	remove_image("half", "half");
	free(b);
}

/* n times: other bytes added, a domain created by their hash, destroyed
 * (or already gone), the name removed. */
static void cycle(long n)
{
	uint64_t hs = SIZE(hello_image);
	char *b = padded(hello_image, hs, hs + 64, 0);
	struct pv_domctl_image_entry e;
	long failed = 0;
	char name[16];

	for (long i = 0; i < n; i++) {
		struct pv_domctl_image q;
		uint32_t id;
		long r;

		memcpy(b + hs, &i, sizeof(i));
		hdr(&q.hdr, PV_DOMCTL_IMAGE_ADD, sizeof(q), 0);
		q.image_gva = (uintptr_t)b;
		q.image_size = hs + 64;
		strcpy(q.entry.name, "cyc");
		r = pv_domctl(&q, sizeof(q));
		e = q.entry;
		snprintf(name, sizeof(name), "cyc%ld", i % 100000);
		id = r ? 0 : create_by_hash("cycle", name, e.hash, "", 1);
		failed += !id;
		if (id && (r = simple(PV_DOMCTL_DESTROY, id)) && r != -PV_ENOENT)
			failed++;
		failed += remove_image(NULL, "cyc") != 0;
	}
	nap_ms(500);
	free(b);
	printf("ctl: store-cycles done=%ld failed=%ld\n", n, failed);
}

void store_cycles(long n)
{
	store_info("start");
	fill_names();
	fill_bytes();
	cycle(n);
	store_info("end");
}
