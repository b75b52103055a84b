/* Stands in for <arpa/inet.h> in the e2fsprogs build only (newlib has no
 * networking headers).  lib/ext2fs/jfs_compat.h includes it, and
 * mkjournal.c writes the journal superblock's big-endian fields with
 * htonl.  x86_64 is little-endian: every conversion is a byte swap. */
#ifndef PV_E2FS_ARPA_INET_H
#define PV_E2FS_ARPA_INET_H
#include <stdint.h>
static inline uint32_t htonl(uint32_t x) { return __builtin_bswap32(x); }
static inline uint32_t ntohl(uint32_t x) { return __builtin_bswap32(x); }
static inline uint16_t htons(uint16_t x) { return __builtin_bswap16(x); }
static inline uint16_t ntohs(uint16_t x) { return __builtin_bswap16(x); }
#endif
