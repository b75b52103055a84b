/* The boot manifest parser: one implementation shared by the UEFI loader,
 * the hypervisor, the host validation tool and the unit tests.
 *
 * Freestanding C: no libc, no allocation.  The caller owns a struct manifest
 * (about 80 KiB) and hands the parser the raw file text; the parser fills the
 * structure and a bounded list of errors.  A bad guest section is marked
 * invalid and the other guests stay usable; errors in [hypervisor] are
 * recorded and that section keeps its defaults for the keys that failed.
 *
 * docs/manifest.md describes the file format.
 */
#ifndef PARAVANE_MANIFEST_H
#define PARAVANE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MANIFEST_MAX_GUESTS   64
#define MANIFEST_MAX_NETS     4   /* per guest */
#define MANIFEST_MAX_BLOCKS   4   /* per guest */
#define MANIFEST_MAX_ERRORS   32  /* further errors are counted, not stored */
#define MANIFEST_NAME_MAX     32  /* including the NUL */
#define MANIFEST_PATH_MAX     112 /* including the NUL */
#define MANIFEST_CMDLINE_MAX  256 /* including the NUL */
#define MANIFEST_LINE_MAX     1024 /* longer lines are an error, not a crash */
#define MANIFEST_KEY_MAX      32
#define MANIFEST_MSG_MAX      96
#define MANIFEST_FILE_MAX     64
#define MANIFEST_MAX_CPUS     64  /* CPUs 0..63, one bit each in cpu_mask */

/* Value limits, checked by the parser (docs/manifest.md). */
#define MANIFEST_PAGE_SIZE        4096u
#define MANIFEST_MEMORY_MIN       (64ull << 10)  /* 64K */
#define MANIFEST_MEMORY_MAX       (64ull << 30)  /* 64G */
#define MANIFEST_SLICE_MIN_US     100u
#define MANIFEST_SLICE_MAX_US     1000000u
#define MANIFEST_RESTART_MAX      1000u
#define MANIFEST_RESTART_DELAY_MAX_US 10000000u  /* 10s */
#define MANIFEST_RESTART_DELAY_BUILD  UINT32_MAX /* not set: the hypervisor's default */
#define MANIFEST_INSTANCES_MAX    10000u /* copies of one guest section */
#define MANIFEST_INSTANCE_NAME_MAX 24u   /* name length when instances > 1: room for "-10000" */
#define MANIFEST_WEIGHT_DEFAULT   256u
#define MANIFEST_WEIGHT_MAX       65535u

enum manifest_action {
	MANIFEST_ACTION_DESTROY = 0,
	MANIFEST_ACTION_RESTART = 1,
	MANIFEST_ACTION_POWEROFF = 2,
};

enum manifest_selftest {          /* hypervisor test hooks (test builds only) */
	MANIFEST_SELFTEST_NONE = 0,
	MANIFEST_SELFTEST_FAULT = 1,  /* deliberate hypervisor exception */
	MANIFEST_SELFTEST_TIMER = 2,  /* measure the tick rate against the TSC */
	MANIFEST_SELFTEST_STACK = 3,  /* overflow a hypervisor stack into its guard */
	MANIFEST_SELFTEST_LOCKORDER = 4, /* take two locks against the lock order */
	MANIFEST_SELFTEST_IPISTORM = 5,  /* once guests run: a second of IPIs to every CPU */
	MANIFEST_SELFTEST_KILL = 6,      /* once guests run: kill every "victim*" domain */
	MANIFEST_SELFTEST_DEADCPU = 7,   /* the last CPU gets no SIPI: it never answers */
	MANIFEST_SELFTEST_PTDUMP = 8,    /* once guests run: list a guest's supervisor mappings */
	MANIFEST_SELFTEST_TEXTALIAS = 9, /* write the hypervisor's text through the direct map */
	MANIFEST_SELFTEST_SMASH = 10,    /* overwrite a stack canary */
	MANIFEST_SELFTEST_STRAYIRQ = 11, /* once guests run: a self-IPI on a vector nobody handles */
	MANIFEST_SELFTEST_CPUSTATE = 12, /* loader leaves junk in DR7/CR4/SYSENTER; every CPU reports */
	MANIFEST_SELFTEST_DISK = 13,     /* write, read back and flush every disk's last MiB */
	MANIFEST_SELFTEST_VOLUMES = 14,  /* open, claim and probe every guest's block volumes */
};

enum manifest_isolation {         /* page-table isolation and speculation barriers */
	MANIFEST_ISOLATION_AUTO = 0,  /* where the CPU needs them (default) */
	MANIFEST_ISOLATION_ON = 1,
	MANIFEST_ISOLATION_OFF = 2,
};

enum manifest_guard {             /* what the switch checks in a guest's frames */
	MANIFEST_GUARD_IP = 0,        /* source MAC, and ARP/IPv4 senders (default) */
	MANIFEST_GUARD_MAC = 1,       /* source MAC only */
};

struct manifest_net {
	uint8_t  mac[6];
	bool     dhcp;          /* true: no static address given */
	uint8_t  prefix_len;    /* 0..32 */
	uint32_t ipv4;          /* host byte order, 0 with dhcp */
	uint32_t gateway;       /* host byte order, 0 if none */
	uint8_t  guard;         /* enum manifest_guard */
};

#define MANIFEST_BLOCK_SPEC_MAX 96  /* including the NUL; VOLUME_SPEC_MAX */
#define MANIFEST_BLOCK_NAME_MAX 16  /* including the NUL; the device's name */
#define MANIFEST_BLOCK_DISKS    8   /* disk:0 .. disk:7 (DISK_MAX) */

/* block = SPEC [, ro | rw] [, name=NAME]  (docs/storage.md) */
struct manifest_block {
	char spec[MANIFEST_BLOCK_SPEC_MAX]; /* lvm:VG/LV, gpt:NAME, gpt:GUID, disk:N */
	char name[MANIFEST_BLOCK_NAME_MAX]; /* unique in the guest; default from spec */
	bool readonly;                      /* default rw */
};

#define MANIFEST_MOUNT_PATH_MAX 64  /* including the NUL; PV_MOUNT_PATH_MAX */

/* mount = PATH:DEVICE [, ro | rw]  (docs/files.md): the file system on
 * this guest's block device DEVICE appears at PATH in the guest. */
struct manifest_mount {
	char path[MANIFEST_MOUNT_PATH_MAX];     /* absolute, no . or .. or // */
	char device[MANIFEST_BLOCK_NAME_MAX];   /* a block device of this guest */
	bool readonly;                          /* default: the device's mode */
	uint32_t line;                          /* where it was written */
};

struct manifest_guest {
	char     name[MANIFEST_NAME_MAX];    /* from "[guest NAME]" */
	char     image[MANIFEST_PATH_MAX];   /* required */
	char     cmdline[MANIFEST_CMDLINE_MAX];
	uint64_t memory;                     /* bytes; required, >= 64K, page multiple */
	enum manifest_action on_exit;        /* default destroy */
	enum manifest_action on_crash;       /* default destroy */
	uint32_t restart_limit;              /* restarts allowed; default 3 */
	uint32_t restart_delay_us;           /* before the first restart, doubling; or _BUILD */
	uint64_t cpu_mask;                   /* bit N: may use CPU N; 0 = any */
	uint32_t weight;
	uint32_t instances;                  /* copies to run, named NAME-1..NAME-N when > 1; default 1 */                     /* CPU share, 1..65535; default 256 */
	bool     privileged;                 /* default false */
	bool     valid;                      /* false: had errors, must not boot */
	uint32_t line;                       /* line of the section header */
	uint32_t net_count;
	struct manifest_net net[MANIFEST_MAX_NETS];
	uint32_t block_count;
	struct manifest_block block[MANIFEST_MAX_BLOCKS];
	uint32_t mount_count;
	struct manifest_mount mount[MANIFEST_MAX_BLOCKS];
};

struct manifest_hypervisor {
	uint32_t log_level;          /* 0 error, 1 warn, 2 info, 3 debug; default 2 */
	uint32_t time_slice_us;      /* default 10000 */
	bool     poweroff_when_idle; /* power off once every guest has ended */
	enum manifest_selftest selftest;
	uint32_t cpus;               /* CPUs to start at most, 1..64; 0 = all */
	enum manifest_isolation isolation;
};

struct manifest_error {
	uint32_t line;                 /* 1-based; 0 for whole-file errors */
	char     key[MANIFEST_KEY_MAX];/* offending key or section, may be "" */
	char     msg[MANIFEST_MSG_MAX];
};

struct manifest {
	char file[MANIFEST_FILE_MAX];  /* file name used in messages */
	struct manifest_hypervisor hv;
	uint32_t guest_count;
	struct manifest_guest guest[MANIFEST_MAX_GUESTS];
	uint32_t error_count;          /* all errors, stored or not */
	struct manifest_error error[MANIFEST_MAX_ERRORS];
};

/* Parse len bytes of text (need not be NUL terminated; NUL bytes and other
 * binary garbage are errors).  file names the source in messages.  Always
 * fully initialises *m.  Returns the number of errors (0 = clean). */
uint32_t manifest_parse(struct manifest *m, const char *file,
			const char *text, size_t len);

/* Format error i as "FILE:LINE: KEY: MESSAGE" into buf (always NUL
 * terminated, truncated to n).  Returns the length written. */
size_t manifest_format_error(const struct manifest *m, uint32_t i,
			     char *buf, size_t n);

/* Number of errors stored in m->error[] (the rest were only counted). */
static inline uint32_t manifest_errors_stored(const struct manifest *m)
{
	return m->error_count < MANIFEST_MAX_ERRORS ?
	       m->error_count : MANIFEST_MAX_ERRORS;
}

/* Number of guests with valid == true. */
uint32_t manifest_valid_guests(const struct manifest *m);

/* "destroy" / "restart" / "poweroff". */
const char *manifest_action_name(enum manifest_action a);

#endif
