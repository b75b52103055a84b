/* Paravane save stream: one format for save/restore, snapshots, clones
 * and live migration (docs/migration.md).
 *
 *   stream = header, record*, END record
 *   record = struct pv_save_record, `length` bytes of payload, zero
 *            padding to a multiple of 8
 *
 * Little-endian, fixed-width fields.  Every record's header carries a
 * CRC-32 of itself (so a damaged length is caught before it is believed)
 * and one of its payload; the END record counts the records and bytes
 * before it and carries a CRC-32 of the header and every record header
 * (which carry the payloads' CRCs), so a stream cut short
 * or spliced is refused as a whole.  A reader refuses a newer format
 * version, a record type it does not know unless the record says it may
 * be skipped, a record longer than its type allows, and anything after
 * END.  Types appear in the order the enum gives (PAGES and DEVICE records
 * may repeat); new types are only appended.
 */
#ifndef PARAVANE_PUBLIC_SAVE_H
#define PARAVANE_PUBLIC_SAVE_H

#include "abi.h"
#include "domctl.h"

#define PV_SAVE_MAGIC    0x0031455641535650ull   /* "PVSAVE1\0", little-endian */
#define PV_SAVE_VERSION  1u

struct pv_save_header {
	uint64_t magic;            /* PV_SAVE_MAGIC */
	uint32_t version;          /* PV_SAVE_VERSION */
	uint32_t abi_version;      /* PV_ABI_VERSION of the saving hypervisor */
	uint32_t size;             /* of this header */
	uint32_t flags;            /* PV_SAVE_LIVE: written by a migration */
	uint64_t created_ns;       /* wall clock at the save, ns since 1970 */
	uint32_t reserved;
	uint32_t crc;              /* CRC-32 of the bytes above */
};
PV_ASSERT_SIZE(struct pv_save_header, 40);

#define PV_SAVE_LIVE 1u

enum pv_save_type {
	PV_SAVE_DOMAIN = 1,        /* struct pv_save_domain: once, first */
	PV_SAVE_CPU = 2,           /* struct pv_save_cpu: once */
	PV_SAVE_FPU = 3,           /* struct pv_save_fpu + the XSAVE area */
	PV_SAVE_CLOCK = 4,         /* struct pv_save_clock */
	PV_SAVE_PAGES = 5,         /* struct pv_save_pages + indices + contents; repeats */
	PV_SAVE_DEVICE = 6,        /* struct pv_save_device; one per device */
	PV_SAVE_CONSOLE = 7,       /* the console's last bytes, as text; optional */
	PV_SAVE_END = 0xffff,      /* struct pv_save_end: last */
};

#define PV_SAVE_SKIPPABLE 1u   /* record flag: a reader that does not know the type may skip it */

struct pv_save_record {
	uint16_t type;             /* enum pv_save_type */
	uint16_t flags;            /* PV_SAVE_SKIPPABLE */
	uint32_t reserved;
	uint64_t length;           /* payload bytes, padding not counted */
	uint32_t payload_crc;      /* CRC-32 of the payload */
	uint32_t crc;              /* CRC-32 of the 20 bytes above */
};
PV_ASSERT_SIZE(struct pv_save_record, 24);

/* The most payload a record of any type may carry: a PAGES record of
 * PV_SAVE_PAGES_MAX pages with its indices. */
#define PV_SAVE_PAGES_MAX   256u
#define PV_SAVE_RECORD_MAX  (PV_SAVE_PAGES_MAX * (8u + PV_PAGE_SIZE) + 64u)

/* A block device as the manifest gave it: a restore opens the same volume
 * (which must have the same size) before it reads a page. */
#define PV_SAVE_BLOCKS_MAX 4u
#define PV_SAVE_BLOCK_RO   1u
struct pv_save_block {
	char     spec[96];         /* lvm:VG/LV, gpt:NAME, gpt:GUID, disk:N; NUL terminated */
	char     name[16];         /* the device's name in the guest; NUL terminated */
	uint32_t flags;            /* PV_SAVE_BLOCK_RO */
	uint32_t reserved;
	uint64_t sectors;          /* the volume's size when saved */
};
PV_ASSERT_SIZE(struct pv_save_block, 128);

struct pv_save_domain {
	struct pv_domctl_config config;    /* as GET_CONFIG gives it */
	uint8_t  image_hash[32];           /* SHA-256 of the ELF image it runs */
	uint64_t mem_base;                 /* gva of its first page */
	uint64_t mem_pages;                /* pages in its address range */
	uint64_t saved_pages;              /* pages the PAGES records carry in all */
	uint32_t generation;               /* fresh-identity counter (clones) */
	uint32_t block_count;              /* 0..PV_SAVE_BLOCKS_MAX */
	struct pv_save_block block[PV_SAVE_BLOCKS_MAX];
};
PV_ASSERT_SIZE(struct pv_save_domain, 976);

/* Ring 3's registers, as the domain would see them on its next return. */
struct pv_save_cpu {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags, fs_base, gs_base;
};
PV_ASSERT_SIZE(struct pv_save_cpu, 160);

struct pv_save_fpu {
	uint64_t xcr0;             /* the state components the area holds */
	uint32_t format;           /* 1: XSAVE (standard format), 2: FXSAVE */
	uint32_t size;             /* bytes of the area that follows */
};
PV_ASSERT_SIZE(struct pv_save_fpu, 16);

struct pv_save_clock {
	uint64_t system_ns;        /* the domain's monotonic clock at the save */
	uint64_t wall_ns;          /* its wall clock then */
};
PV_ASSERT_SIZE(struct pv_save_clock, 16);

/* count page indices (uint64_t, ascending, each < mem_pages), then
 * count pages of contents in the same order. */
struct pv_save_pages {
	uint32_t count;            /* 1..PV_SAVE_PAGES_MAX */
	uint32_t reserved;
};
PV_ASSERT_SIZE(struct pv_save_pages, 8);

enum pv_save_device_kind { PV_SAVE_NET = 1, PV_SAVE_BLK = 2 };

struct pv_save_device {
	uint32_t kind;             /* enum pv_save_device_kind */
	uint32_t index;            /* its slot in start_info */
	uint8_t  mac[6];           /* net */
	uint16_t reserved;
	uint32_t rx_cons, tx_cons; /* the backend's ring positions (blk: requests
				    * consumed, responses produced) */
	uint32_t lease_ipv4;       /* net with DHCP: the address its lease bound, 0 none */
	uint32_t lease_left_s;     /* ... for so many seconds more; 0xffffffff: no end */
	char     name[16];         /* blk: the device's manifest name */
	uint64_t sectors;          /* blk: the volume's size it saw */
};
PV_ASSERT_SIZE(struct pv_save_device, 56);

struct pv_save_end {
	uint64_t records;          /* before this one */
	uint64_t bytes;            /* before this record, the header included */
	uint32_t stream_crc;       /* CRC-32 of the stream header and every record header
				    * before this one (they carry the payloads' CRCs) */
	uint32_t reserved;
};
PV_ASSERT_SIZE(struct pv_save_end, 24);

#endif
