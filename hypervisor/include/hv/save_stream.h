/* The save stream's framing (public/save.h): writing records with their
 * checksums and totals, and a push reader that checks everything before a
 * record reaches its consumer.  What the records mean (a domain's memory,
 * registers, devices) is the save and restore code's; this is only the
 * format, so that one reader serves restore, clones and migration and a
 * host test can feed it damaged streams.  No allocation: the caller gives
 * the reader a buffer of PV_SAVE_RECORD_MAX bytes. */
#ifndef HV_SAVE_STREAM_H
#define HV_SAVE_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <public/save.h>

/* ---- writing ---- */

/* Where the bytes go: 0, or a negative errno that ends the stream. */
typedef int save_sink_fn(void *ctx, const void *buf, size_t len);

struct save_part {
	const void *buf;
	size_t len;
};

struct save_writer {
	save_sink_fn *sink;
	void *ctx;
	uint64_t bytes, records;           /* what END will say */
	uint32_t crc_state;                /* running CRC-32 register over the bytes */
	int error;                         /* the first sink error, sticky */
};

void save_write_begin(struct save_writer *w, save_sink_fn *sink, void *ctx,
		      uint32_t flags, uint64_t created_ns);
/* A record whose payload is the parts, in order. */
void save_write_record(struct save_writer *w, uint16_t type, uint16_t flags,
		       const struct save_part *parts, size_t nparts);
/* The END record; the first error of the whole stream, or 0. */
int save_write_end(struct save_writer *w);

/* ---- reading ---- */

/* A checked record: 0 to go on, or nonzero to stop the stream (the
 * consumer says why with save_reader_fail). */
struct save_reader;
typedef int save_record_fn(struct save_reader *r, const struct pv_save_record *rec,
			   const uint8_t *payload);

struct save_reader {
	save_record_fn *on_record;
	void *ctx;
	uint8_t *buf;                      /* PV_SAVE_RECORD_MAX bytes, the caller's */
	int state;                         /* what is being read (save_stream.c) */
	size_t have, want;                 /* bytes of the current part */
	union {
		struct pv_save_header header;
		struct pv_save_record rec;
		uint8_t raw[40];
	} cur;
	uint64_t bytes, records;           /* before the current record */
	uint32_t crc_state;
	uint16_t last_type;
	uint64_t mem_pages, saved_pages;   /* from DOMAIN */
	uint64_t pages_seen;               /* in PAGES records so far */
	int live;                          /* the header's PV_SAVE_LIVE: pages may come again */
	int seen_cpu;
	char error[128];                   /* why it stopped */
};

void save_reader_init(struct save_reader *r, save_record_fn *on_record, void *ctx,
		      uint8_t *buf);
/* The next bytes of the stream: 0, or -PV_EINVAL with r->error set (and
 * every later call fails the same way). */
int save_reader_feed(struct save_reader *r, const void *data, size_t len);
/* The stream is over: 0 when it ended with a valid END record. */
int save_reader_finish(struct save_reader *r);
/* For consumers: stop with this reason. */
int save_reader_fail(struct save_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *save_type_name(uint16_t type);

#endif
