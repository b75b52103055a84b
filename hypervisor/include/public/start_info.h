/* Paravane guest ABI: start_info, the read-only page the entry point gets.
 *
 * At the image's ELF entry point: rdi = gva of this page, rsp = top of the
 * stack (16-byte aligned), every other register 0, RFLAGS.IF = 1, SSE
 * usable (MXCSR and x87 control word at their reset values).
 *
 * A domain's memory is one contiguous range of guest-virtual space:
 *
 *   mem_base + mem_size +----------------------+
 *                       | shared_info   (RW)   |  1 page
 *                       | start_info    (RO)   |  1 page
 *                       | stack         (RW)   |  stack_size
 *                       | guard page (unmapped)|
 *            heap_end   +----------------------+
 *                       | heap          (RW)   |  free for the libos
 *            heap_start +----------------------+
 *                       | image segments (W^X) |  as the ELF's PT_LOADs
 *            mem_base   +----------------------+
 *                       | unmapped (null page) |
 *            0          +----------------------+
 */
#ifndef PARAVANE_PUBLIC_START_INFO_H
#define PARAVANE_PUBLIC_START_INFO_H

#include "abi.h"

#define PV_START_INFO_MAGIC 0x52415453u   /* "STAR" */
#define PV_NAME_MAX      32
#define PV_CMDLINE_MAX   256
#define PV_MAX_DEVICES   8

/* Guest images are linked at this address (sdk/mk/guest.ld). */
#define PV_GUEST_BASE    0x400000ul

enum pv_device_type {
	PV_DEV_NONE = 0,
	PV_DEV_NET = 1,
	PV_DEV_BLOCK = 2,
};

struct pv_device {
	uint32_t type;           /* enum pv_device_type */
	uint32_t index;          /* 0 for the first device of its type */
	uint32_t event_port;     /* the backend raises this port; notify it to kick */
	uint32_t flags;
	uint64_t ring_gva;       /* shared ring pages in guest memory */
	uint32_t ring_pages;
	uint32_t sector_size;    /* block: PV_BLK_SECTOR; 0 for others */
	/* net */
	uint8_t  mac[6];
	uint8_t  prefix_len;     /* 0 with DHCP */
	uint8_t  dhcp;
	uint32_t ipv4;           /* host byte order, 0 with DHCP */
	uint32_t gateway;
	/* block */
	uint64_t capacity;       /* bytes */
	char     name[16];       /* block: the manifest's device name, NUL terminated */
};
PV_ASSERT_SIZE(struct pv_device, 72);

#define PV_DEV_READONLY  (1u << 0)   /* block: writes are refused */

#define PV_START_PRIVILEGED (1u << 0)

/* A file system to mount (manifest `mount = PATH:DEVICE`, docs/files.md):
 * the libOS mounts the ext2/3/4 volume on block device `device` at `path`
 * before main().  Both NUL terminated; path absolute and plain. */
#define PV_MAX_MOUNTS     4
#define PV_MOUNT_PATH_MAX 64
#define PV_MOUNT_READONLY (1u << 0)

struct pv_mount {
	char     path[PV_MOUNT_PATH_MAX];
	char     device[16];     /* a block device's name (pv_device.name) */
	uint32_t flags;          /* PV_MOUNT_* */
	uint32_t pad;
};
PV_ASSERT_SIZE(struct pv_mount, 88);

struct pv_start_info {
	uint32_t magic;          /* PV_START_INFO_MAGIC */
	uint32_t abi_version;    /* PV_ABI_VERSION */
	uint32_t domid;
	uint32_t flags;          /* PV_START_* */
	char     name[PV_NAME_MAX];
	uint64_t mem_base, mem_size;
	uint64_t heap_start, heap_end;
	uint64_t stack_top, stack_size;
	uint64_t shared_info;    /* gva of struct pv_shared_info */
	uint64_t created_tsc;    /* TSC when the hypervisor began creating it */
	char     cmdline[PV_CMDLINE_MAX];   /* from the manifest, NUL terminated */
	uint32_t device_count;
	uint32_t pad;
	struct pv_device device[PV_MAX_DEVICES];
	/* Appended with files (issue 11): zero from an older hypervisor. */
	uint32_t mount_count;
	uint32_t pad2;
	struct pv_mount mount[PV_MAX_MOUNTS];
};
PV_ASSERT_OFFSET(struct pv_start_info, name, 16);
PV_ASSERT_OFFSET(struct pv_start_info, mem_base, 48);
PV_ASSERT_OFFSET(struct pv_start_info, cmdline, 112);
PV_ASSERT_OFFSET(struct pv_start_info, device, 376);
PV_ASSERT_OFFSET(struct pv_start_info, mount, 960);
PV_ASSERT_SIZE(struct pv_start_info, 1312);
_Static_assert(sizeof(struct pv_start_info) <= PV_PAGE_SIZE, "start_info fits its page");

#endif
