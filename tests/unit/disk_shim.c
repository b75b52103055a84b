/* See disk_shim.h. */
#include <hv/errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hv/lock.h>
#include <hv/mm.h>
#include "disk_shim.h"

struct shim_disk {
	struct disk d;
	uint8_t *mem;
};

static struct shim_disk *disks[DISK_MAX];
static uint32_t ndisks;
struct disk_io *shim_last_io;
uint64_t shim_last_sector;

void *kmalloc(size_t n) { return malloc(n ? n : 1); }
void *kzalloc(size_t n) { return calloc(1, n ? n : 1); }
void kfree(void *p) { free(p); }

/* Volume claims take their lock through the checked path (volume.o is
 * built with CONFIG_LOCK_CHECK for tests): a plain flag is enough here. */
uint64_t spin_lock_checked(struct spinlock *l)
{
	if (l->locked)
		abort();                /* a test would deadlock */
	l->locked = 1;
	return 0;
}

void spin_unlock_checked(struct spinlock *l, uint64_t flags)
{
	(void)flags;
	l->locked = 0;
}

void spin_lock_contended(struct spinlock *l) { (void)l; abort(); }

static void shim_submit(struct disk *d, struct disk_io *io)
{
	shim_last_io = io;
	shim_last_sector = io->sector;
	io->status = io->sector < d->sectors ? 0 : -EIO;
	io->done(io);
}

static const struct disk_ops shim_ops = { .submit = shim_submit };

uint32_t disk_count(void) { return ndisks; }

struct disk *disk_get(uint32_t i) { return i < ndisks ? &disks[i]->d : NULL; }

int disk_register(struct disk *d)
{
	(void)d;
	return -1;                      /* tests add disks with shim_disk_* */
}

int disk_read_sync(struct disk *d, uint64_t sector, void *buf, size_t len)
{
	struct shim_disk *s = (struct shim_disk *)d;

	if (len % DISK_SECTOR || sector > d->sectors || len / DISK_SECTOR > d->sectors - sector)
		return -EIO;
	memcpy(buf, s->mem + sector * DISK_SECTOR, len);
	return 0;
}

int disk_write_sync(struct disk *d, uint64_t sector, const void *buf, size_t len)
{
	(void)d; (void)sector; (void)buf; (void)len;
	return -EIO;                    /* the volume layer never writes */
}

struct disk *shim_disk_mem(uint64_t bytes)
{
	struct shim_disk *s;

	if (ndisks >= DISK_MAX)
		return NULL;
	s = calloc(1, sizeof(*s));
	s->mem = calloc(1, bytes);
	snprintf(s->d.name, sizeof(s->d.name), "vd%c", 'a' + ndisks);
	s->d.index = ndisks;
	s->d.sectors = bytes / DISK_SECTOR;
	s->d.block_size = DISK_SECTOR;
	s->d.max_segs = 1;
	s->d.ops = &shim_ops;
	disks[ndisks++] = s;
	return &s->d;
}

struct disk *shim_disk_add(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct disk *d;
	long size;

	if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) <= 0) {
		fprintf(stderr, "disk_shim: cannot read %s\n", path);
		if (f)
			fclose(f);
		return NULL;
	}
	rewind(f);
	d = shim_disk_mem((uint64_t)size);
	if (d && fread(shim_disk_bytes(d), 1, (size_t)size, f) != (size_t)size)
		d = NULL;
	fclose(f);
	return d;
}

uint8_t *shim_disk_bytes(struct disk *d) { return ((struct shim_disk *)d)->mem; }

void shim_disks_reset(void)
{
	for (uint32_t i = 0; i < ndisks; i++) {
		free(disks[i]->mem);
		free(disks[i]);
	}
	ndisks = 0;
}

const char *shim_make_volumes(const char *parts)
{
	static char dir[64];
	char cmd[256];
	const char *src = getenv("PARAVANE_SRC");

	strcpy(dir, "/tmp/paravane-vol-XXXXXX");
	if (!mkdtemp(dir))
		return NULL;
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/unit/make_volumes.py %s %s",
		 src ? src : ".", dir, parts);
	if (system(cmd) != 0) {
		fprintf(stderr, "disk_shim: %s failed: the LVM2/GPT tests need root, "
			"losetup, lvm2 and gdisk\n", cmd);
		return NULL;
	}
	return dir;
}

int shim_expect(const char *dir, char lines[][256], int max)
{
	char path[128];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/expect.txt", dir);
	f = fopen(path, "r");
	while (f && n < max && fgets(lines[n], 256, f)) {
		lines[n][strcspn(lines[n], "\n")] = 0;
		n++;
	}
	if (f)
		fclose(f);
	return n;
}

void shim_remove_volumes(const char *dir)
{
	char cmd[128];

	if (dir && !strncmp(dir, "/tmp/paravane-vol-", 18)) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "disk_shim: cannot remove %s\n", dir);
	}
}
