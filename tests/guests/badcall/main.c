/* Hands bad pointers, lengths and numbers to every hypercall and checks
 * each answer; exits with the number of wrong answers (0 = all right).
 * Raw syscalls on purpose: the libos would refuse some of these itself. */
#include <stdint.h>
#include <stdio.h>
#include <paravane.h>
#include <public/errno.h>

static long hc(long nr, long a, long b, long c)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return r;
}

static int wrong;

static void expect(const char *what, long got, long want)
{
	if (got != want) {
		printf("badcall: WRONG %s: got %ld, want %ld\n", what, got, want);
		wrong++;
	}
}

static const char text_msg[] = "ok\n";

int main(void)
{
	const struct pv_start_info *si = pv_start_info();
	uint64_t top = si->mem_base + si->mem_size;
	char buf[8] = "abc\n";

	expect("version", hc(PV_HC_VERSION, 0, 0, 0), PV_ABI_VERSION);
	expect("number 0", hc(0, 0, 0, 0), -PV_ENOSYS);
	expect("number MAX", hc(PV_HC_MAX, 0, 0, 0), -PV_ENOSYS);
	expect("number -1", hc(-1, 0, 0, 0), -PV_ENOSYS);
	expect("number 1<<40", hc(1L << 40, 0, 0, 0), -PV_ENOSYS);
	/* console_write */
	expect("write null", hc(PV_HC_CONSOLE_WRITE, 0, 4, 0), -PV_EFAULT);
	expect("write hv", hc(PV_HC_CONSOLE_WRITE, (long)0xffffffff80000000UL, 4, 0), -PV_EFAULT);
	expect("write physmap", hc(PV_HC_CONSOLE_WRITE, (long)0xffff800000100000UL, 4, 0), -PV_EFAULT);
	expect("write noncanonical", hc(PV_HC_CONSOLE_WRITE, (long)0x0000900000000000UL, 4, 0), -PV_EFAULT);
	expect("write past top", hc(PV_HC_CONSOLE_WRITE, (long)(top - 2), 4, 0), -PV_EFAULT);
	expect("write wrap", hc(PV_HC_CONSOLE_WRITE, (long)buf, -1, 0), -PV_E2BIG);
	expect("write huge", hc(PV_HC_CONSOLE_WRITE, (long)buf, 1L << 20, 0), -PV_E2BIG);
	expect("write guard", hc(PV_HC_CONSOLE_WRITE, (long)si->heap_end, 4, 0), -PV_EFAULT);
	expect("write ok", hc(PV_HC_CONSOLE_WRITE, (long)buf, 4, 0), 4);
	expect("write from text", hc(PV_HC_CONSOLE_WRITE, (long)text_msg, 3, 0), 3);
	expect("write zero", hc(PV_HC_CONSOLE_WRITE, 0, 0, 0), 0);
	/* block */
	expect("block forever no mask", hc(PV_HC_BLOCK, -1, 0, 0), -PV_EINVAL);
	expect("block past deadline", hc(PV_HC_BLOCK, 1, 0, 0), 0);
	/* notify */
	expect("notify 64", hc(PV_HC_EVENT_NOTIFY, 64, 0, 0), -PV_EINVAL);
	expect("notify -1", hc(PV_HC_EVENT_NOTIFY, -1, 0, 0), -PV_EINVAL);
	expect("notify unbound", hc(PV_HC_EVENT_NOTIFY, 3, 0, 0), -PV_ENOENT);
	/* domain_info into read-only or foreign memory */
	expect("info null", hc(PV_HC_DOMAIN_INFO, 0, 0, 0), -PV_EFAULT);
	expect("info into start_info (RO)", hc(PV_HC_DOMAIN_INFO, (long)si, 0, 0), -PV_EFAULT);
	expect("info into text (RO)", hc(PV_HC_DOMAIN_INFO, (long)text_msg, 0, 0), -PV_EFAULT);
	expect("info into hv", hc(PV_HC_DOMAIN_INFO, (long)0xffffffff80001000UL, 0, 0), -PV_EFAULT);
	/* shutdown */
	expect("shutdown bad reason", hc(PV_HC_SHUTDOWN, 99, 0, 0), -PV_EINVAL);
	expect("poweroff unprivileged", hc(PV_HC_SHUTDOWN, PV_SHUTDOWN_POWEROFF, 0, 0), -PV_EPERM);
	printf("badcall: %d wrong answers\n", wrong);
	return wrong;
}
