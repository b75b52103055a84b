/* 16550 UART.  Transmit is polled byte by byte (uart_write, for early boot
 * and panics) or a FIFO's worth at a time while the transmitter is empty
 * (uart_tx_fill, for core/serial_tx.c, which the THRE interrupt drives). */
#include <hv/uart.h>
#include <hv/x86.h>

#define UART_THR 0   /* transmit holding */
#define UART_IER 1
#define UART_IIR 2   /* read: interrupt identification */
#define UART_FCR 2   /* write: FIFO control */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define IER_THRI 0x02
#define IIR_FIFO 0xc0  /* both set: the 16-byte FIFO is on (a 16550A) */
#define MCR_OUT2 0x08  /* gates the interrupt line on PC serial ports */
#define UART_CLOCK 115200

static uint16_t uart_port;
static unsigned int fifo_size = 1;

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
	fifo_size = (inb(port + UART_IIR) & IIR_FIFO) == IIR_FIFO ? 16 : 1;
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

/* COM1 and COM3 use ISA IRQ 4, COM2 and COM4 IRQ 3; another port has no
 * interrupt we know of. */
int uart_isa_irq(void)
{
	switch (uart_port) {
	case 0x3f8: case 0x3e8: return 4;
	case 0x2f8: case 0x2e8: return 3;
	default: return -1;
	}
}

void uart_tx_irq(bool on)
{
	outb(uart_port + UART_MCR, on ? 0x03 | MCR_OUT2 : 0x03);
	outb(uart_port + UART_IER, on ? IER_THRI : 0);
}

void uart_irq_ack(void)
{
	(void)inb(uart_port + UART_IIR);   /* clears a pending THRE interrupt */
}

/* While the transmitter is empty, a FIFO's worth at a time, up to n bytes
 * of s as they are (the caller turned "\n" into "\r\n").  A real UART
 * takes one FIFO's worth (then it is busy for its duration on the wire);
 * an emulated one may take everything.  Returns how many it took. */
size_t uart_tx_fill(const char *s, size_t n)
{
	size_t done = 0;

	while (done < n && (inb(uart_port + UART_LSR) & LSR_THRE)) {
		size_t k = n - done < fifo_size ? n - done : fifo_size;

		for (size_t i = 0; i < k; i++)
			outb(uart_port + UART_THR, (uint8_t)s[done + i]);
		done += k;
	}
	return done;
}
