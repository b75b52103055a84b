/* The disk drivers' entry points, for io/disk.c only: each finds its PCI
 * devices (at boot, boot CPU) and registers a struct disk for each one it
 * brings up.  Completions refused at submit are run by disk_run_later(),
 * from the poll and the synchronous waits. */
#ifndef HV_DISK_DRIVERS_H
#define HV_DISK_DRIVERS_H

void virtio_blk_probe(void);     /* drivers/virtio_blk.c */
void nvme_probe(void);           /* drivers/nvme.c */
void disk_run_later(void);       /* io/disk.c */

#endif
