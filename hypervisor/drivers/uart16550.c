/* 16550 UART, polled transmit only: the console must work from any context,
 * including the exception path, so it never waits on an interrupt. */
#include <hv/uart.h>
#include <hv/x86.h>

#define UART_THR 0   /* transmit holding */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define UART_CLOCK 115200

static uint16_t uart_port;

void uart_init(uint16_t port, uint32_t baud)
{
	uint16_t div = (uint16_t)(UART_CLOCK / (baud ? baud : UART_CLOCK));

	uart_port = port;
	outb(port + UART_IER, 0x00);           /* no interrupts */
	outb(port + UART_LCR, 0x80);           /* DLAB: divisor follows */
	outb(port + 0, div & 0xff);
	outb(port + 1, div >> 8);
	outb(port + UART_LCR, 0x03);           /* 8N1 */
	outb(port + UART_FCR, 0xc7);           /* FIFO on, cleared */
	outb(port + UART_MCR, 0x03);           /* DTR, RTS */
}

static void uart_putc(char c)
{
	/* Bounded wait: a missing UART must not hang the hypervisor. */
	for (int i = 0; i < 100000 && !(inb(uart_port + UART_LSR) & LSR_THRE); i++)
		pause();
	outb(uart_port + UART_THR, (uint8_t)c);
}

int uart_getc(void)
{
	if (!uart_port || !(inb(uart_port + UART_LSR) & 0x01))   /* data ready */
		return -1;
	return inb(uart_port + UART_THR);
}

void uart_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}
