/* Volumes (io/volume.c, io/lvm2.c, io/gpt.c): a guest block device is a
 * volume, a list of extents of one physical disk found by name at boot:
 *
 *   lvm:VG/LV     an LVM2 linear logical volume, from the LVM2 metadata on
 *                 the disks (any number of linear segments; striped, thin,
 *                 snapshot, mirror and raid volumes are refused by name)
 *   gpt:NAME      a GPT partition by its name (partition label)
 *   gpt:GUID      ... or by its unique partition GUID
 *   disk:N        the whole disk N (hv/disk.h, registration order)
 *
 * Sectors are 512 bytes.  One writer per extent: a read-write volume
 * whose extents overlap another domain's read-write volume is refused
 * when it is claimed (read-only users may share). */
#ifndef HV_VOLUME_H
#define HV_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <hv/disk.h>

#define VOLUME_MAX_EXTENTS 32
#define VOLUME_SPEC_MAX    96

struct volume_extent {
	uint64_t disk_sector;       /* first sector on the disk */
	uint64_t sectors;
};

struct volume {
	char spec[VOLUME_SPEC_MAX]; /* as the manifest wrote it, for messages */
	struct disk *disk;
	uint64_t sectors;           /* the sum of the extents */
	bool readonly;
	uint32_t owner;             /* the domain that claimed it (0: none) */
	uint32_t extent_count;
	struct volume_extent extent[VOLUME_MAX_EXTENTS];
};

/* Find spec on the registered disks; readonly as asked.  0, or -ENOENT /
 * -EINVAL with err saying why ("lvm:vg0/data: no volume group vg0 on any
 * disk", "... is striped: only linear logical volumes are supported"). */
int volume_open(const char *spec, bool readonly, struct volume *v, char *err, size_t n);

/* One writer per extent, across every domain: 0, or -EBUSY with err
 * naming the other user.  release undoes claim. */
int volume_claim(struct volume *v, uint32_t domid, char *err, size_t n);
void volume_release(struct volume *v);

/* I/O at a volume-relative sector: io->sector is translated to the disk
 * (an io never crosses an extent boundary: callers split at
 * volume_extent_end) and submitted.  A FLUSH goes to the disk.  A bad io
 * (outside, across extents, a write when read-only) completes with -EIO
 * through the driver, never inside this call. */
void volume_submit(struct volume *v, struct disk_io *io);
/* Sectors from sector to the end of its extent (to split I/O). */
uint64_t volume_extent_end(const struct volume *v, uint64_t sector);

#endif
