/* Paravane guest ABI: the ELF note every image carries.
 *
 * Section ".note.paravane", note name "Paravane".  The hypervisor refuses an
 * image without a PV_NOTE_ABI note, or whose version differs from its own
 * PV_ABI_VERSION, and says which version it found and which it needs.
 */
#ifndef PARAVANE_PUBLIC_ELFNOTE_H
#define PARAVANE_PUBLIC_ELFNOTE_H

#include "abi.h"

#define PV_NOTE_NAME    "Paravane"
#define PV_NOTE_ABI     1   /* desc: struct pv_note_abi */
#define PV_NOTE_DEVICES 2   /* desc: struct pv_note_devices */

struct pv_note_abi {
	uint32_t abi_version;   /* PV_ABI_VERSION the image was built against */
	uint32_t flags;         /* reserved, 0 */
};
PV_ASSERT_SIZE(struct pv_note_abi, 8);

/* Devices the image expects, by kind; the hypervisor checks that the
 * manifest gives the guest at least these. */
struct pv_note_devices {
	uint32_t net;           /* number of net devices needed */
	uint32_t block;         /* number of block devices needed */
};
PV_ASSERT_SIZE(struct pv_note_devices, 8);

#endif
