/* The serial log's transmit ring (core/serial_tx.c): whole lines in, the
 * UART's THRE interrupt drains it.  core/log.c is its only writer. */
#ifndef HV_SERIAL_TX_H
#define HV_SERIAL_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct serial_tx_stats {
	uint64_t irqs;            /* THRE interrupts taken */
	uint32_t high_water;      /* most bytes ever queued */
	uint64_t refused_bytes;   /* guest lines that did not fit */
	uint64_t stalls;          /* polled waits given up on (the UART took nothing) */
};

/* Buffered from here on: route the interrupt (or register the poll). */
void serial_tx_start(void);
/* A hypervisor line: always queued, waiting (polling) if the ring is full. */
void serial_tx_put(const char *s, size_t n);
/* A guest line: queued only while the ring stays 3/4 full at most; false
 * when it was refused, and the caller drops it. */
bool serial_tx_put_guest(const char *s, size_t n);
/* Everything queued so far goes out, by polling (power-off, panic). */
void serial_tx_flush(void);
void serial_tx_poll(void);
void serial_tx_report(void);   /* "@event serial-tx ..." */

#endif
