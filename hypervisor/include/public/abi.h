/* Paravane guest ABI: version and conventions.  This folder (public/) is the
 * only code the library OS shares with the hypervisor.
 *
 * Rules for every structure that crosses the boundary: fixed-width fields,
 * explicit padding, a magic and the ABI version, sizes and offsets checked
 * with _Static_assert, new fields only appended.  Guest addresses are
 * uint64_t "gva" values: the hypervisor never dereferences them directly,
 * only through its checked copy helpers.
 */
#ifndef PARAVANE_PUBLIC_ABI_H
#define PARAVANE_PUBLIC_ABI_H

#include <stdint.h>

/* Bumped on any change a built image could notice. */
#define PV_ABI_VERSION 1

#define PV_PAGE_SIZE 4096u

#define PV_ASSERT_SIZE(type, size) \
	_Static_assert(sizeof(type) == (size), #type " size is part of the ABI")
#define PV_ASSERT_OFFSET(type, field, off) \
	_Static_assert(__builtin_offsetof(type, field) == (off), #type "." #field " offset is part of the ABI")

#endif
