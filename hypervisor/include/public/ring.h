/* Paravane guest ABI: the generic split-driver ring.
 *
 * One ring = an index block plus a power-of-two array of slots, in guest
 * memory.  The frontend (libos) produces requests; the backend (hypervisor)
 * consumes them and produces responses into the same slots (each protocol
 * header says which slot a response uses).  Indices are free-running
 * uint32_t counters; the slot is index & (size - 1), so wrap-around at 2^32
 * needs no special case.
 *
 *   req_prod  written by the frontend only   rsp_prod  written by the backend only
 *   req_event written by the backend:        rsp_event written by the frontend:
 *     "notify me when req_prod passes it"      "notify me when rsp_prod passes it"
 *
 * Producer: fill slots, pv_wmb(), publish the new prod, pv_mb(), then
 * notify only if pv_ring_need_notify(old, new, event).  Consumer: read
 * prod, pv_rmb(), then the slots.  A consumer must treat prod - cons >
 * size as corruption (pv_ring_sane): the other side is broken or hostile.
 */
#ifndef PARAVANE_PUBLIC_RING_H
#define PARAVANE_PUBLIC_RING_H

#include "abi.h"

struct pv_ring_indices {
	uint32_t req_prod;
	uint32_t req_event;
	uint8_t  pad0[56];       /* producer and consumer on separate cache lines */
	uint32_t rsp_prod;
	uint32_t rsp_event;
	uint8_t  pad1[56];
};
PV_ASSERT_OFFSET(struct pv_ring_indices, rsp_prod, 64);
PV_ASSERT_SIZE(struct pv_ring_indices, 128);

/* x86 keeps stores in order and loads in order; only store->load needs a
 * fence.  The compiler barrier stops the compiler from reordering. */
#define pv_wmb() __asm__ volatile("" ::: "memory")
#define pv_rmb() __asm__ volatile("" ::: "memory")
#define pv_mb()  __asm__ volatile("mfence" ::: "memory")

static inline int pv_ring_size_ok(uint32_t size)
{
	return size && !(size & (size - 1));
}

static inline uint32_t pv_ring_slot(uint32_t idx, uint32_t size)
{
	return idx & (size - 1);
}

/* Entries produced but not yet consumed. */
static inline uint32_t pv_ring_pending(uint32_t prod, uint32_t cons)
{
	return prod - cons;
}

/* prod may be ahead of cons by at most size. */
static inline int pv_ring_sane(uint32_t prod, uint32_t cons, uint32_t size)
{
	return prod - cons <= size;
}

/* Free slots for a producer whose oldest outstanding entry is `oldest`. */
static inline uint32_t pv_ring_free(uint32_t prod, uint32_t oldest, uint32_t size)
{
	return size - (prod - oldest);
}

/* Did publishing old_prod -> new_prod cross the other side's event index? */
static inline int pv_ring_need_notify(uint32_t old_prod, uint32_t new_prod, uint32_t event)
{
	return (uint32_t)(new_prod - event) < (uint32_t)(new_prod - old_prod);
}

#endif
