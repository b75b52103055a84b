/* A block backend's part of a save (public/save.h): the volume it serves,
 * for DOMAIN's block list, and its ring positions, for a DEVICE record.
 * A save waits until every request the backend consumed is answered, so
 * the guest's pages hold every response and nothing is left on the disk
 * queue when they are read. */
#include <public/save.h>
#include <hv/blkback.h>
#include <hv/lib.h>
#include "blkback_internal.h"

bool blkback_idle(struct blkback *bb)
{
	uint64_t f = spin_lock(&bb->lock);
	bool idle = bb->req_cons == bb->rsp_prod && !bb->busy;

	spin_unlock(&bb->lock, f);
	return idle;
}

uint64_t blkback_sectors(const struct blkback *bb)
{
	return bb->vol.sectors;
}

const char *blkback_name(const struct blkback *bb)
{
	return bb->name;
}

void blkback_save(struct blkback *bb, struct pv_save_device *out)
{
	uint64_t f = spin_lock(&bb->lock);

	memset(out, 0, sizeof(*out));
	out->kind = PV_SAVE_BLK;
	out->index = bb->index;
	out->rx_cons = bb->req_cons;
	out->tx_cons = bb->rsp_prod;
	strlcpy(out->name, bb->name, sizeof(out->name));
	out->sectors = bb->vol.sectors;
	spin_unlock(&bb->lock, f);
}

/* A restored domain's backend (nothing in flight: its domain has not
 * run) takes the saved positions.  Wrong ones can only break this
 * device: read_prod bounds what the guest may ask. */
int blkback_restore(struct blkback *bb, const struct pv_save_device *in, char *err, size_t n)
{
	uint64_t f;

	if (in->sectors != bb->vol.sectors || strncmp(in->name, bb->name, sizeof(in->name))) {
		snprintf(err, n, "DEVICE %s: another device or size than the domain's", bb->name);
		return -1;
	}
	f = spin_lock(&bb->lock);
	bb->req_cons = in->rx_cons;
	bb->rsp_prod = in->tx_cons;
	spin_unlock(&bb->lock, f);
	return 0;
}
