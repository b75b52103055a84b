/* GPT partitions (io/gpt.c): the primary header at LBA 1 and its
 * partition array, both CRC-checked (UEFI spec 2.10, section 5.3). */
#ifndef HV_GPT_H
#define HV_GPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct disk;
struct volume;

#define GPT_NAME_UNITS 36            /* UTF-16 code units in a partition name */
#define GPT_MATCH_MAX  4             /* matches described at most */

/* What to look for: one of a name (ASCII), a unique partition GUID, or a
 * partition type GUID (GUIDs in on-disk byte order). */
struct gpt_key {
	const char *name;
	const uint8_t *unique;
	const uint8_t *type;
};

struct gpt_match {
	uint32_t found;              /* partitions that matched */
	struct {
		uint64_t first, sectors;
	} part[GPT_MATCH_MAX];       /* the first matches, in array order */
	char name[GPT_NAME_UNITS + 1];  /* the first's, ASCII, '?' for others */
};

/* The Linux LVM partition type, E6D6D379-F507-44C2-A23C-238F2A3DF928. */
extern const uint8_t gpt_type_lvm[16];

/* Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into GPT's on-disk byte
 * order (the first three fields little-endian).  true if well formed. */
bool gpt_guid_parse(const char *s, uint8_t out[16]);

/* Looks for partitions matching k on d: 0 (m->found says how many
 * matched), 1 (no GPT), -EINVAL with err (a damaged GPT) or -EIO. */
int gpt_scan(struct disk *d, const struct gpt_key *k, struct gpt_match *m,
	     char *err, size_t n);

/* gpt:NAME or gpt:GUID (what) over every disk into v: exactly one match. */
int gpt_find(const char *what, struct volume *v, char *err, size_t n);

#endif
