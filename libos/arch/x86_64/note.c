/* The ELF note that says which guest ABI this image was built for
 * (public/elfnote.h).  The hypervisor refuses an image without it.  Written
 * in C so the constants come straight from the header; the section name
 * starting with ".note" makes the assembler give it type SHT_NOTE, and
 * sdk/mk/guest.ld keeps it and puts it in a PT_NOTE segment.
 */
#include <paravane.h>

PV_ELF_NOTE(libos_note_abi, PV_NOTE_ABI, struct pv_note_abi,
	    { .abi_version = PV_ABI_VERSION, .flags = 0 });

_Static_assert(sizeof(libos_note_abi) == 12 + 12 + 8,
	       "note: header, name padded to 4, desc");
