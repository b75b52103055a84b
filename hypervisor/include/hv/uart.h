#ifndef HV_UART_H
#define HV_UART_H

#include <stddef.h>
#include <stdint.h>

void uart_init(uint16_t port, uint32_t baud);
void uart_write(const char *s, size_t n);  /* "\n" goes out as "\r\n" */
int uart_getc(void);                        /* a received byte, or -1 */

#endif
