/* Paravane guest ABI: privileged domain control (PV_HC_DOMCTL).
 *
 * The control domain (apps/control) is the toolstack; the hypervisor only
 * offers these mechanisms.  One hypercall, one sub-operation per call:
 *
 *   domctl(gva struct pv_domctl_* *arg, u64 size) -> 0 or -PV_E*
 *
 * arg points at the sub-operation's IN/OUT structure in the caller's
 * memory, size is its exact size.  Every structure starts with struct
 * pv_domctl_hdr: magic, version and op must match, size must be the
 * operation's size, or the answer is -PV_EINVAL.  The hypervisor copies
 * the whole structure in once, checks it, and copies it back out (also on
 * most failures: hdr.message then says why, in words an API can pass on).
 *
 * Only a domain the manifest marks `privileged = yes` may call it; any
 * other gets -PV_EPERM and nothing is read.  Layouts are fixed (asserted
 * below); every reserved field must be zero in and is zero out.
 * docs/abi.md describes each operation.
 */
#ifndef PARAVANE_PUBLIC_DOMCTL_H
#define PARAVANE_PUBLIC_DOMCTL_H

#include "abi.h"
#include "start_info.h"

#define PV_DOMCTL_MAGIC    0x4c544344u   /* "DCTL" */
#define PV_DOMCTL_VERSION  1u
#define PV_DOMCTL_MSG_MAX  128u

enum pv_domctl_op {
	PV_DOMCTL_CREATE = 1,      /* struct pv_domctl_create */
	PV_DOMCTL_DESTROY = 2,     /* struct pv_domctl_hdr (domid) */
	PV_DOMCTL_PAUSE = 3,       /* struct pv_domctl_hdr (domid) */
	PV_DOMCTL_UNPAUSE = 4,     /* struct pv_domctl_hdr (domid) */
	PV_DOMCTL_INFO = 5,        /* struct pv_domctl_info */
	PV_DOMCTL_LIST = 6,        /* struct pv_domctl_list */
	PV_DOMCTL_HOST_INFO = 7,   /* struct pv_domctl_host */
	PV_DOMCTL_CONSOLE_READ = 8,/* struct pv_domctl_read (domid) */
	PV_DOMCTL_EVENTS_READ = 9, /* struct pv_domctl_read */
	PV_DOMCTL_GET_CONFIG = 10, /* struct pv_domctl_getconfig (domid) */
	PV_DOMCTL_IMAGE_ADD = 11,  /* struct pv_domctl_image */
	PV_DOMCTL_IMAGE_REMOVE = 12,/* struct pv_domctl_image (entry.name) */
	PV_DOMCTL_IMAGE_LIST = 13, /* struct pv_domctl_image_list */
	PV_DOMCTL_CPU_STATS = 14,  /* struct pv_domctl_cpus */
	PV_DOMCTL_NET_PORTS = 15,  /* struct pv_domctl_ports */
	PV_DOMCTL_SAVE_BEGIN = 16, /* struct pv_domctl_save (domid) */
	PV_DOMCTL_SAVE_READ = 17,  /* struct pv_domctl_save (domid) */
	PV_DOMCTL_SAVE_END = 18,   /* struct pv_domctl_save (domid, flags: then) */
	PV_DOMCTL_RESTORE_BEGIN = 19, /* struct pv_domctl_restore */
	PV_DOMCTL_RESTORE_WRITE = 20, /* struct pv_domctl_restore (handle) */
	PV_DOMCTL_RESTORE_END = 21,   /* struct pv_domctl_restore (handle, flags) */
	PV_DOMCTL_SNAPSHOT = 22,      /* struct pv_domctl_snapshot (domid, entry.name, flags) */
	PV_DOMCTL_SNAPSHOT_DROP = 23, /* struct pv_domctl_snapshot (entry.name) */
	PV_DOMCTL_SNAPSHOT_LIST = 24, /* struct pv_domctl_snapshot_list */
	PV_DOMCTL_CLONE = 25,         /* struct pv_domctl_clone */
	PV_DOMCTL_OP_MAX
};

struct pv_domctl_hdr {
	uint32_t magic;            /* PV_DOMCTL_MAGIC */
	uint16_t version;          /* PV_DOMCTL_VERSION */
	uint16_t op;               /* enum pv_domctl_op */
	uint32_t size;             /* of the whole structure, this header included */
	uint32_t domid;            /* IN: the domain operated on; OUT of CREATE: the new one */
	char     message[PV_DOMCTL_MSG_MAX];   /* OUT: why it failed, NUL terminated */
};
PV_ASSERT_SIZE(struct pv_domctl_hdr, 144);

/* ---- CREATE ------------------------------------------------------------- */

#define PV_DOMCTL_NET_DHCP      1u  /* no static address: the lease is bound when granted */
#define PV_DOMCTL_NET_GUARD_MAC 2u  /* check source MACs only (docs/net.md) */

struct pv_domctl_net {
	uint8_t  mac[6];           /* locally administered unicast; all zero: one is made up */
	uint8_t  prefix_len;       /* 1..32 with a static address */
	uint8_t  flags;            /* PV_DOMCTL_NET_* */
	uint32_t ipv4;             /* host byte order; 0 with DHCP */
	uint32_t gateway;          /* host byte order; 0: none */
	uint32_t reserved;
};
PV_ASSERT_SIZE(struct pv_domctl_net, 20);

enum pv_domctl_action {        /* what happens when the domain ends */
	PV_DOMCTL_ACTION_DESTROY = 0,
	PV_DOMCTL_ACTION_RESTART = 1,
	PV_DOMCTL_ACTION_POWEROFF = 2,  /* GET_CONFIG of a boot domain whose manifest says so */
};

#define PV_DOMCTL_MAX_NETS 4u
#define PV_DOMCTL_IMAGE_MAX (64u << 20)    /* bytes of ELF image */

struct pv_domctl_config {
	char     name[PV_NAME_MAX];        /* unique among live domains; [A-Za-z0-9_.-], 1..31 */
	char     cmdline[PV_CMDLINE_MAX];  /* NUL terminated */
	uint64_t memory;                   /* bytes, page multiple, as the manifest's memory */
	uint64_t cpu_mask;                 /* CPUs it may run on; 0: any */
	uint32_t weight;                   /* 1..65535; 0: the default 256 */
	uint8_t  on_exit, on_crash;        /* enum pv_domctl_action */
	uint16_t restart_limit;            /* restarts allowed with ACTION_RESTART */
	uint32_t net_count;                /* 0..PV_DOMCTL_MAX_NETS */
	uint32_t reserved;
	struct pv_domctl_net net[PV_DOMCTL_MAX_NETS];
};
PV_ASSERT_SIZE(struct pv_domctl_config, 400);

/* The image is either in the caller's memory (image_size > 0) or, with
 * image_gva = image_size = 0, the stored image whose SHA-256 is image_hash
 * (one IMAGE_ADD put there, one a live domain runs, or a boot image;
 * -ENOENT if none). */
struct pv_domctl_create {
	struct pv_domctl_hdr hdr;          /* OUT hdr.domid */
	uint64_t image_gva;                /* IN: the ELF image in the caller's memory */
	uint64_t image_size;               /* IN: bytes, <= PV_DOMCTL_IMAGE_MAX; 0: by hash */
	struct pv_domctl_config config;    /* IN */
	uint8_t  image_hash[32];           /* IN with image_size 0; OUT: SHA-256 of the image */
};
PV_ASSERT_SIZE(struct pv_domctl_create, 592);

/* ---- INFO and LIST -------------------------------------------------------- */

enum pv_domctl_state {
	PV_DOMCTL_RUNNING = 1,     /* on a CPU or waiting for one */
	PV_DOMCTL_BLOCKED = 2,     /* waiting for an event or a deadline */
	PV_DOMCTL_PAUSED = 3,
	PV_DOMCTL_ENDING = 4,      /* exited or crashed, being torn down */
};

struct pv_domctl_dominfo {
	uint32_t domid;
	uint32_t state;            /* enum pv_domctl_state */
	char     name[PV_NAME_MAX];
	uint64_t memory;           /* bytes the domain was given */
	uint64_t private_bytes;    /* frames it owns now (demand-zero pages once touched) */
	uint64_t overhead_bytes;   /* hypervisor memory spent on it */
	uint64_t cpu_ns;           /* CPU time used */
	uint64_t uptime_ns;        /* since it was created */
	uint64_t hypercalls;
	uint64_t context_switches;
	uint64_t console_bytes;    /* console bytes it wrote */
	uint64_t console_dropped;  /* of which dropped by rate limiting */
	uint64_t cpu_mask;         /* CPUs it may run on */
	uint32_t weight;
	uint32_t restarts;         /* times this domain's configuration was restarted */
	uint32_t flags;            /* PV_DOMCTL_INFO_* */
	uint32_t last_cpu;         /* CPU it runs or last ran on */
	uint8_t  image_hash[32];
};
#define PV_DOMCTL_INFO_PRIVILEGED 1u
#define PV_DOMCTL_INFO_BOOT       2u   /* created from the manifest */
PV_ASSERT_SIZE(struct pv_domctl_dominfo, 168);

struct pv_domctl_info {
	struct pv_domctl_hdr hdr;          /* IN hdr.domid */
	struct pv_domctl_dominfo info;     /* OUT */
};
PV_ASSERT_SIZE(struct pv_domctl_info, 312);

/* Live domains with id > after_id, in id order, up to max of them, into an
 * array of struct pv_domctl_dominfo at buf_gva.  Call again with after_id
 * = the last id returned until count < max. */
struct pv_domctl_list {
	struct pv_domctl_hdr hdr;
	uint32_t after_id;                 /* IN */
	uint32_t max;                      /* IN: entries buf_gva has room for, <= 1024 */
	uint64_t buf_gva;                  /* IN */
	uint32_t count;                    /* OUT: entries written */
	uint32_t total;                    /* OUT: live domains in all */
};
PV_ASSERT_SIZE(struct pv_domctl_list, 168);
#define PV_DOMCTL_LIST_MAX 1024u

/* ---- HOST_INFO -------------------------------------------------------------- */

struct pv_domctl_host {
	struct pv_domctl_hdr hdr;
	uint32_t cpus;                     /* CPUs started */
	uint32_t cpus_found;               /* CPUs the firmware reported */
	uint64_t memory_total;             /* bytes the hypervisor manages */
	uint64_t memory_free;              /* bytes free and not promised to a domain */
	uint64_t uptime_ns;
	uint32_t domains;                  /* live */
	uint32_t domains_max;              /* CONFIG_MAX_DOMAINS */
	uint64_t tsc_khz;
	char     version[32];              /* hypervisor version, NUL terminated */
	uint32_t abi_version;
	uint32_t images;                   /* named images in the store */
	uint64_t image_bytes;              /* bytes of the distinct images they hold */
	uint64_t image_limit;              /* the most image_bytes may grow to */
};
PV_ASSERT_SIZE(struct pv_domctl_host, 248);

/* ---- CONSOLE_READ and EVENTS_READ ------------------------------------------ */

/* A byte stream read by offset: a domain's console output (everything it
 * wrote, raw: untrusted bytes) or the hypervisor's event records (the
 * `@event` lines without that prefix, one per line).  The hypervisor keeps
 * the newest bytes of each (4 KiB per domain, 64 KiB of events); offsets
 * count every byte ever written and never go back.  Ask from `offset`;
 * `start` says where the copy really began: later than offset when older
 * bytes were overwritten (start - offset bytes lost).  Ask next from
 * `next`.  count == 0 with next == written: nothing new yet. */
struct pv_domctl_read {
	struct pv_domctl_hdr hdr;          /* IN hdr.domid for CONSOLE_READ */
	uint64_t offset;                   /* IN */
	uint64_t buf_gva;                  /* IN */
	uint32_t len;                      /* IN: room at buf_gva, <= PV_DOMCTL_READ_MAX */
	uint32_t count;                    /* OUT: bytes written to buf_gva */
	uint64_t start;                    /* OUT: stream offset of the first byte written */
	uint64_t next;                     /* OUT: start + count */
	uint64_t written;                  /* OUT: bytes ever written to the stream */
};
PV_ASSERT_SIZE(struct pv_domctl_read, 192);
#define PV_DOMCTL_READ_MAX (64u << 10)

/* ---- GET_CONFIG ---------------------------------------------------------- */

/* The configuration a live domain was created with (a boot domain's from
 * its manifest section, as CREATE would have taken it), so that a
 * restarted control domain can rebuild its view from the hypervisor. */
struct pv_domctl_getconfig {
	struct pv_domctl_hdr hdr;          /* IN hdr.domid */
	struct pv_domctl_config config;    /* OUT */
};
PV_ASSERT_SIZE(struct pv_domctl_getconfig, 544);

/* ---- The named image store -------------------------------------------------
 * The hypervisor keeps images by name for the control domain, so that they
 * outlive it.  A name holds one reference to its bytes; domains running
 * those bytes hold one each.  Bytes are stored once however many names and
 * domains use them, and freed with the last reference. */

#define PV_DOMCTL_IMAGES_MAX 256u           /* names in the store */

struct pv_domctl_image_entry {
	char     name[PV_NAME_MAX];        /* [A-Za-z0-9_.-], 1..31, not all digits */
	uint8_t  hash[32];                 /* SHA-256 of the bytes */
	uint64_t size;                     /* bytes */
	uint32_t users;                    /* live domains running these bytes */
	uint32_t names;                    /* names holding these bytes (this one included) */
};
PV_ASSERT_SIZE(struct pv_domctl_image_entry, 80);

#define PV_DOMCTL_IMAGE_EXISTED 1u  /* ADD: the name already held exactly these bytes */

/* ADD: check the ELF at image_gva exactly as a boot image (-EINVAL with the
 * loader's message), store it under entry.name; -EEXIST if the name holds
 * other bytes; -ENOSPC too many names or over image_limit bytes; -ENOMEM.
 * REMOVE: drop entry.name (IN) and return its entry as it was; -ENOENT. */
struct pv_domctl_image {
	struct pv_domctl_hdr hdr;
	uint64_t image_gva;                /* IN (ADD) */
	uint64_t image_size;               /* IN (ADD): 1..PV_DOMCTL_IMAGE_MAX */
	uint32_t flags;                    /* OUT: PV_DOMCTL_IMAGE_* */
	uint32_t reserved;
	struct pv_domctl_image_entry entry;/* IN name; OUT the entry */
};
PV_ASSERT_SIZE(struct pv_domctl_image, 248);

/* Every named image, by name, into an array of entries at buf_gva. */
struct pv_domctl_image_list {
	struct pv_domctl_hdr hdr;
	uint64_t buf_gva;                  /* IN */
	uint32_t max;                      /* IN: entries buf_gva has room for, <= 256 */
	uint32_t count;                    /* OUT: entries written */
	uint32_t total;                    /* OUT: names in the store */
	uint32_t reserved;
};
PV_ASSERT_SIZE(struct pv_domctl_image_list, 168);

/* ---- CPU_STATS and NET_PORTS ---------------------------------------------- */

struct pv_domctl_cpu_stat {
	uint32_t cpu;                      /* its number (0 is the bootstrap CPU) */
	uint32_t reserved;
	uint64_t idle_ns;                  /* time halted in the idle loop */
	uint64_t context_switches;
	uint64_t wakeups;                  /* domains woken onto it */
	uint64_t steals;                   /* domains it took from other CPUs */
	uint64_t timer_irqs;               /* its LAPIC timer interrupts */
};
PV_ASSERT_SIZE(struct pv_domctl_cpu_stat, 48);

/* One entry per started CPU, in CPU order. */
struct pv_domctl_cpus {
	struct pv_domctl_hdr hdr;
	uint64_t buf_gva;                  /* IN */
	uint32_t max;                      /* IN: entries buf_gva has room for, <= 256 */
	uint32_t count;                    /* OUT */
};
PV_ASSERT_SIZE(struct pv_domctl_cpus, 160);

struct pv_domctl_port {
	char     name[PV_NAME_MAX];        /* "NAME.netN", or "uplink" */
	uint32_t domid;                    /* its owner; 0 for the uplink */
	uint32_t reserved;
	uint64_t rx_frames, rx_bytes;      /* the switch took in from the port */
	uint64_t tx_frames, tx_bytes;      /* the switch sent out of it */
	uint64_t drop_spoof, drop_ip_spoof, drop_tx, drop_invalid, drop_storm;
};
PV_ASSERT_SIZE(struct pv_domctl_port, 112);

/* The switch's ports, in port order, up to max of them. */
struct pv_domctl_ports {
	struct pv_domctl_hdr hdr;
	uint64_t buf_gva;                  /* IN */
	uint32_t max;                      /* IN: entries buf_gva has room for, <= 1024 */
	uint32_t count;                    /* OUT: entries written */
	uint32_t total;                    /* OUT: ports in all */
	uint32_t reserved;
};
PV_ASSERT_SIZE(struct pv_domctl_ports, 168);

/* ---- SAVE and RESTORE (docs/migration.md) ---------------------------------
 * SAVE_BEGIN stops the domain (it leaves its CPU at its next exit; a
 * blocked one stays blocked), holds it (no DESTROY until SAVE_END) and
 * quiesces its devices.  SAVE_READ copies the stream's next bytes (the
 * format is public/save.h) from `offset`, which must be where the last
 * read ended.  SAVE_END lets it go: resumed (unless it was paused before
 * the save), left paused, or destroyed.  The caller may not save itself,
 * a privileged domain, or one that is ending.
 *
 * A LIVE save (SAVE_BEGIN's flags, for a migration) does not stop the
 * domain at BEGIN: its pages go out in rounds while it runs, each round
 * the pages it wrote during the last (read from its page tables' dirty
 * bits); when few are left, a READ stops and holds it as above (READ's
 * SAVE_HELD from then on), and the rest of the stream follows.  Until
 * SAVE_END it cannot be destroyed, paused or resumed by anyone else. */

enum pv_domctl_save_then {
	PV_DOMCTL_SAVE_RESUME = 0,
	PV_DOMCTL_SAVE_PAUSE = 1,
	PV_DOMCTL_SAVE_DESTROY = 2,
};
#define PV_DOMCTL_SAVE_LIVE  1u            /* IN of BEGIN: a migration's save, in rounds */
#define PV_DOMCTL_SAVE_DONE  1u            /* OUT of READ: the END record is out */
#define PV_DOMCTL_SAVE_HELD  2u            /* OUT of READ: the domain is stopped (a live save's end) */
#define PV_DOMCTL_SAVE_CHUNK (256u << 10)  /* the most one READ copies */

struct pv_domctl_save {
	struct pv_domctl_hdr hdr;          /* IN hdr.domid */
	uint64_t offset;                   /* IN READ: stream bytes read so far */
	uint64_t buf_gva;                  /* IN READ */
	uint32_t len;                      /* IN READ: room at buf_gva, <= PV_DOMCTL_SAVE_CHUNK */
	uint32_t count;                    /* OUT READ: bytes written */
	uint32_t flags;                    /* IN BEGIN: SAVE_LIVE; IN END: enum pv_domctl_save_then;
					    * OUT READ: SAVE_DONE, SAVE_HELD */
	uint32_t round;                    /* OUT READ: a live save's round (1...); IN: 0 */
	uint64_t pages;                    /* OUT BEGIN: memory pages the stream carries (a live
					    * save: its first round); READ: pages sent so far */
	uint64_t bytes;                    /* OUT: BEGIN: the stream's size (a live save: 0,
					    * unknown), READ: bytes so far */
};
PV_ASSERT_SIZE(struct pv_domctl_save, 192);

/* RESTORE_BEGIN opens a restore and gives its handle; RESTORE_WRITE feeds
 * the stream's next bytes (in any chunking); RESTORE_END with COMMIT
 * starts the domain once the stream ended well, without COMMIT drops it.
 * The domain is created, paused and held, when the DOMAIN record is read
 * (hdr.domid says its id from then on); any refusal (hdr.message says
 * why) destroys what was built and closes the handle: a bad stream has no
 * side effect.  `name`, if not empty, replaces the saved domain's name. */
#define PV_DOMCTL_RESTORE_COMMIT 1u
#define PV_DOMCTL_RESTORE_MAX    4u           /* restores open at once */

struct pv_domctl_restore {
	struct pv_domctl_hdr hdr;          /* OUT hdr.domid: the new domain, once made */
	uint32_t handle;                   /* OUT BEGIN; IN WRITE and END */
	uint32_t flags;                    /* IN END: PV_DOMCTL_RESTORE_COMMIT */
	uint64_t buf_gva;                  /* IN WRITE */
	uint32_t len;                      /* IN WRITE: <= PV_DOMCTL_SAVE_CHUNK */
	uint32_t reserved;
	uint64_t bytes;                    /* OUT: stream bytes taken so far */
	char     name[PV_NAME_MAX];        /* IN BEGIN: the new domain's name, or "" */
};
PV_ASSERT_SIZE(struct pv_domctl_restore, 208);

/* ---- SNAPSHOTS and CLONES (docs/migration.md) -------------------------------
 * A snapshot is a stopped copy of a domain kept by the hypervisor under a
 * name: its memory (the pages it owned), registers, FPU, devices and
 * clock.  SNAPSHOT takes one (the domain is held as by SAVE_BEGIN while
 * its pages are copied, then resumed, left paused or destroyed: flags as
 * SAVE_END's).  CLONE makes a new domain from it that shares every page
 * copy-on-write: mapped read-only, copied on its first write; the
 * clone's memory reservation is what it may write, its private memory
 * what it wrote.  It has its own name, MACs and addresses and a new
 * shared_info generation.  A snapshot's memory goes with SNAPSHOT_DROP
 * and its last clone. */

#define PV_DOMCTL_SNAPSHOTS_MAX 64u

struct pv_domctl_snapshot_entry {
	char     name[PV_NAME_MAX];        /* [A-Za-z0-9_.-], 1..31 */
	char     domain[PV_NAME_MAX];      /* the domain it was taken of */
	uint8_t  image_hash[32];
	uint64_t memory;                   /* that domain's memory size */
	uint64_t bytes;                    /* memory the snapshot holds */
	uint64_t created_ns;               /* hypervisor time it was taken */
	uint32_t clones;                   /* live domains made from it */
	uint32_t net_count;                /* net devices a clone has */
};
PV_ASSERT_SIZE(struct pv_domctl_snapshot_entry, 128);

struct pv_domctl_snapshot {
	struct pv_domctl_hdr hdr;          /* IN hdr.domid (SNAPSHOT) */
	uint32_t flags;                    /* IN SNAPSHOT: enum pv_domctl_save_then */
	uint32_t reserved;
	struct pv_domctl_snapshot_entry entry;   /* IN entry.name; OUT the entry */
};
PV_ASSERT_SIZE(struct pv_domctl_snapshot, 280);

struct pv_domctl_snapshot_list {
	struct pv_domctl_hdr hdr;
	uint64_t buf_gva;                  /* IN: room for max entries */
	uint32_t max;                      /* IN: <= PV_DOMCTL_SNAPSHOTS_MAX */
	uint32_t count;                    /* OUT: entries written, in name order */
	uint32_t total;                    /* OUT: snapshots in all */
	uint32_t reserved;
};
PV_ASSERT_SIZE(struct pv_domctl_snapshot_list, 168);

struct pv_domctl_clone {
	struct pv_domctl_hdr hdr;          /* OUT hdr.domid: the clone */
	char     snapshot[PV_NAME_MAX];    /* IN */
	char     name[PV_NAME_MAX];        /* IN: the clone's name */
	uint32_t net_count;                /* IN: the snapshot's net_count */
	uint32_t generation;               /* OUT: its shared_info generation */
	struct pv_domctl_net net[PV_DOMCTL_MAX_NETS];   /* IN: its own MACs (0: made up) and addresses */
};
PV_ASSERT_SIZE(struct pv_domctl_clone, 296);

#endif
