/* Saving and restoring a domain (docs/migration.md), between the domctl
 * operations that hold the domain (core/save.c, core/restore.c) and the
 * code that makes and takes its records (core/save_records.c,
 * core/restore_records.c).  The stream's framing is hv/save_stream.h. */
#ifndef HV_SAVE_H
#define HV_SAVE_H

#include <stdbool.h>
#include <stdint.h>
#include <public/domctl.h>
#include <hv/guest_mem.h>
#include <hv/save_stream.h>

struct domain;
struct manifest_guest;

/* ---- holding a domain: a save's or a snapshot's (core/save.c) ---- */

/* Pause domain id, wait until it is off every CPU, hold it (d->held) and
 * wait until its block backends answered what they took; 0, or the error
 * with why (the domain as it was). */
struct save_hold {
	struct domain *d;
	bool was_paused;          /* before: a resume leaves it paused */
	int64_t err;
	const char *why;
};
int64_t save_hold(uint32_t id, struct save_hold *out);

/* ---- saving ---- */

#define SAVE_STAGE_PAGES 16u     /* pages per PAGES record this writer makes */

/* A page the stream carries: backed and the domain's own (the image's
 * shared pages are found again by its hash, untouched demand-zero pages
 * are zero wherever they are restored). */
static inline bool save_owns_page(uint64_t f)
{
	return (f & ~GF_FLAGS) && !(f & GF_SHARED);
}

/* One save in progress: d->save while d is held (it neither runs nor
 * goes away).  An operation claims it (busy) for its duration, so two
 * privileged callers never use it at once. */
struct save_cursor {
	struct domain *d;
	uint32_t owner;           /* the caller that began it */
	bool busy;
	bool was_paused;          /* paused before the save: stays so when it is resumed */
	uint32_t step;            /* the next record to make (save_records.c) */
	uint64_t next_page, next_dev;
	uint64_t pages;           /* pages the stream carries */
	uint64_t size;            /* bytes the stream will have */
	uint64_t offset;          /* bytes handed out */
	struct save_writer w;
	uint8_t *stage;           /* the record being handed out */
	uint64_t stage_len, stage_off, stage_cap;
	bool done;                /* END is in the stage */
	uint64_t work_tsc;        /* spent in SAVE_* calls, for the event */
	/* a live save (core/save_live.c) */
	bool live;
	bool final;               /* the rounds are over: the domain is held */
	uint64_t *round_map;      /* bit per page: to send in this round */
	uint64_t round_map_pages; /* frames of round_map */
	uint8_t *bounce;          /* SAVE_STAGE_PAGES pages: a running domain's pages are
				   * copied here first, so a page's checksum is of the bytes sent */
	uint32_t round;           /* 1... */
	uint64_t round_pages;     /* pages in this round */
	uint64_t sent_pages;      /* in all rounds */
	uint64_t stop_tsc;        /* when the domain was stopped for good */
	const char *why;          /* a failure's reason */
};

/* ---- a live save's rounds (core/save_live.c) ---- */

/* The first round: every page the domain owns, its dirty marks cleared
 * (the domain is stopped for that); 0 or an error with s->why. */
int64_t save_live_first_round(struct save_cursor *s);
/* This round's pages are out: 1, the next round began (the pages the
 * domain wrote meanwhile); 0, few are left: the domain is held and they
 * are the last; -1, it failed (s->why). */
int save_live_round(struct save_cursor *s);
/* Stop and hold a live save's domain for a round (its dirty marks are
 * read); 0, or an error with s->why (the domain as it was). */
int64_t save_hold_live(struct save_cursor *s);
/* Held by save_hold_live: for good now, its net backends quiet and its
 * block I/O answered; 0, or an error with s->why (it runs again). */
int64_t save_hold_final(struct save_cursor *s);

/* The header into the stage, and pages and size counted. */
void save_records_begin(struct save_cursor *s);
/* The next record into the (drained) stage; s->done after END. */
void save_records_next(struct save_cursor *s);

/* ---- restoring ---- */

/* One restore in progress (a handle).  The domain is made held from the
 * DOMAIN record, so nothing else touches it until RESTORE_END. */
struct restore_ctx {
	uint32_t owner;
	uint32_t handle;
	bool busy;
	uint64_t last_use_ns;     /* an abandoned one is taken back after a while */
	struct save_reader r;
	char name[PV_NAME_MAX];   /* the new name, or "" */
	struct domain *d;         /* once DOMAIN was read */
	int64_t err;              /* what a refusal returns: -EINVAL, or -ENOENT for a missing image */
	bool clock_seen, ended;
	uint64_t system_ns, wall_ns;   /* CLOCK */
	uint32_t nets_seen;       /* bit per net device restored */
	uint32_t blks_seen;       /* bit per block device restored */
	uint8_t *bounce;          /* RESTORE_WRITE's copy of the caller's bytes */
	uint64_t fed;             /* stream bytes taken */
	uint64_t work_tsc;        /* spent in RESTORE_* calls, for the event */
};
#define RESTORE_BOUNCE 4096u

/* A restored or cloned domain's monotonic clock goes on from system_ns
 * (or later: it runs ahead of ours if ours is behind), its wall clock is
 * ours, and shared_info's time_jumps counts one more. */
void domain_clock_continue(struct domain *d, uint64_t system_ns);
/* Every device's event bit set: wake-ups missed while it was stopped. */
void domain_devices_look_again(struct domain *d);

/* The reader's consumer (restore_records.c): r->ctx is the restore_ctx. */
int restore_record(struct save_reader *r, const struct pv_save_record *rec, const uint8_t *payload);
/* The stream ended well: the last fix-ups before the domain starts; 0,
 * or -1 with the reader's error set. */
int restore_finish(struct restore_ctx *x);

#endif
