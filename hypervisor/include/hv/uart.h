#ifndef HV_UART_H
#define HV_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void uart_init(uint16_t port, uint32_t baud);
void uart_write(const char *s, size_t n);  /* polled; "\n" goes out as "\r\n" */
int uart_getc(void);                        /* a received byte, or -1 */

/* Interrupt-driven transmit (core/serial_tx.c). */
int uart_isa_irq(void);                     /* the port's ISA IRQ, or -1 */
void uart_tx_irq(bool on);                  /* THRE interrupt on or off */
void uart_irq_ack(void);                    /* read IIR */
/* While the transmitter is empty, up to n bytes of s a FIFO's worth at a
 * time (no newline translation); returns how many it took, 0 when busy. */
size_t uart_tx_fill(const char *s, size_t n);

#endif
