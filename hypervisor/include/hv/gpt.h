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

struct gpt_match {
	uint64_t first, sectors;     /* the partition on its disk */
	char name[GPT_NAME_UNITS + 1];  /* ASCII, '?' for anything else */
	uint32_t found;              /* partitions that matched */
};

/* Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into GPT's on-disk byte
 * order (the first three fields little-endian).  true if well formed. */
bool gpt_guid_parse(const char *s, uint8_t out[16]);

/* Looks for the partition named name (ASCII) or with unique GUID guid
 * (guid non-NULL) on d: 0 (m->found says how many matched; m describes
 * the first), 1 (no GPT), -EINVAL with err (a damaged GPT) or -EIO. */
int gpt_scan(struct disk *d, const char *name, const uint8_t *guid,
	     struct gpt_match *m, char *err, size_t n);

/* gpt:NAME or gpt:GUID (what) over every disk into v: exactly one match. */
int gpt_find(const char *what, struct volume *v, char *err, size_t n);

#endif
