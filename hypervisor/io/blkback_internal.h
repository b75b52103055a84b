/* Between io/blkback.c (the ring) and io/blkback_io.c (the I/O). */
#ifndef IO_BLKBACK_INTERNAL_H
#define IO_BLKBACK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <public/io/blk.h>
#include <hv/blkback.h>
#include <hv/disk.h>
#include <hv/lock.h>
#include <hv/volume.h>

/* A consumed request: our checked copy, and how far it has been started. */
struct blk_req {
	struct pv_blk_request r;
	int32_t status;           /* PV_BLK_OK until a piece fails */
	uint32_t pending;         /* pieces submitted and not yet done */
	uint32_t seg, off;        /* the next byte to start: segment, offset in it */
	uint64_t sector;          /* ... and its sector */
	bool used, started;       /* started: every piece has been submitted */
	struct blk_req *next;     /* the backlog, oldest first */
};

/* One disk_io; segment i is on bounce frame frame[i], which the backend
 * owns, and holds the request's bytes for gva[i] .. + seg[i].len. */
struct blk_piece {
	struct disk_io io;
	struct blkback *bb;
	struct blk_req *req;
	uint64_t gva[DISK_IO_SEGS_MAX];    /* READ: where each segment's data goes */
	uint8_t frame[DISK_IO_SEGS_MAX];   /* index into bb->bounce */
	bool busy;
	struct blk_piece *next;   /* to submit, once the lock is dropped */
};

struct blkback {
	struct spinlock lock;     /* everything below */
	struct domain *d;         /* NULL once detached */
	uint32_t index, port;
	uint32_t refs;            /* the domain's, and one per busy piece */
	uint64_t ring;            /* gva of struct pv_blk_ring */
	uint32_t req_cons;        /* requests consumed */
	uint32_t rsp_prod;        /* responses written */
	bool disconnected, claimed;
	char name[16];
	struct volume vol;
	struct blk_req req[PV_BLK_RING_SIZE];
	struct blk_req *backlog, *backlog_tail;
	struct blk_piece piece[BLKBACK_PIECES];
	uint32_t busy;            /* pieces in flight now */
	uint64_t bounce[BLKBACK_FRAMES];      /* physical addresses */
	uint8_t frame_free[BLKBACK_FRAMES];   /* stack of idle bounce frames */
	uint32_t nframe_free;
	/* counters, reported at detach */
	uint64_t reads, writes, flushes, refused, errors, busy_max;
};

/* Lock held: answer q now (status not PV_BLK_OK) or put it on the backlog. */
void blkback_queue(struct blkback *bb, struct blk_req *q, int status);
/* Lock held: start backlog pieces while pieces are free; *list gets them. */
void blkback_pump(struct blkback *bb, struct blk_piece **list);
/* Lock NOT held: hand list to the disk. */
void blkback_submit(struct blkback *bb, struct blk_piece *list);
void blkback_respond(struct blkback *bb, struct blk_req *q);
int blkback_bounces_alloc(struct blkback *bb);
void blkback_free(struct blkback *bb);

#endif
