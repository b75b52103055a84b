/* Loader messages.
 *
 * Everything goes to ConOut.  Errors are also written raw to COM1, because on
 * real hardware ConOut is often only the screen and a headless box would
 * fail silently; not when the firmware's ConOut already includes a serial
 * terminal (OVMF does), which would print every error twice.
 */
#include "loader.h"

#define COM1		0x3f8
#define COM1_LSR	(COM1 + 5)
#define LSR_THRE	0x20	/* transmit holding register empty */
#define MSG_MAX		320
#define FAIL_STALL_US	3000000
/* Test builds: isa-debug-exit status for "the loader gave up". */
#define LOADER_FAIL_EXIT 0x7e

static bool conout_is_serial;

static inline void outb(UINT16 port, UINT8 v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline UINT8 inb(UINT16 port)
{
	UINT8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* Bounded wait: a missing UART reads 0xff and never blocks us. */
static void serial_putc(char c)
{
	int spins = 100000;

	while (!(inb(COM1_LSR) & LSR_THRE) && --spins)
		asm volatile("pause");
	outb(COM1, (UINT8)c);
}

void serial_puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			serial_putc('\r');
		serial_putc(*s);
	}
}

static void serial_puts16(const CHAR16 *s)
{
	char c[2] = { 0, 0 };

	for (; *s; s++) {
		c[0] = (*s >= 0x20 && *s < 0x7f) || *s == '\n' ? (char)*s : '?';
		serial_puts(c);
	}
}

static bool path_has_uart(const UINT8 *p, UINTN size)
{
	const UINT8 *end = p + size;
	UINT16 len;

	while (p + 4 <= end) {
		len = p[2] | (p[3] << 8);
		if (len < 4 || p + len > end)
			return false;
		if (p[0] == MESSAGING_DEVICE_PATH && p[1] == MSG_UART_DP)
			return true;
		p += len;	/* end-of-instance nodes just continue */
	}
	return false;
}

/* Is a serial terminal among the firmware's ConOut devices? */
void console_init(void)
{
	UINTN size = 0;
	void *dp;

	dp = LibGetVariableAndSize(L"ConOut", &EfiGlobalVariable, &size);
	if (!dp)
		return;
	conout_is_serial = path_has_uart(dp, size);
	FreePool(dp);
}

static void emit(const CHAR16 *level, bool serial, const CHAR16 *fmt,
		 va_list ap)
{
	CHAR16 line[MSG_MAX];
	UINTN n;

	n = UnicodeSPrint(line, sizeof(line), L"paravane loader: %s", level);
	UnicodeVSPrint(line + n, sizeof(line) - n * sizeof(CHAR16), fmt, ap);
	Print(L"%s\n", line);
	if (serial && !conout_is_serial) {
		serial_puts16(line);
		serial_puts("\n");
	}
}

void info(const CHAR16 *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(L"", false, fmt, ap);
	va_end(ap);
}

void warn(const CHAR16 *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(L"warning: ", false, fmt, ap);
	va_end(ap);
}

void error(const CHAR16 *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(L"error: ", true, fmt, ap);
	va_end(ap);
}

static inline void outl(UINT16 port, UINT32 v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

/* Test builds: a harness wants an exit status, not the firmware's shell.
 * Port I/O only, so it also works after ExitBootServices. */
void test_exit(void)
{
#ifdef CONFIG_TEST_HOOKS
	serial_puts("paravane loader: test build: exiting QEMU\n");
	outl(CONFIG_TEST_EXIT_PORT, LOADER_FAIL_EXIT);
#endif
}

EFI_STATUS fail(EFI_STATUS st)
{
	test_exit();
	info(L"returning to the firmware (%r)", st);
	BS->Stall(FAIL_STALL_US);
	return st;
}
