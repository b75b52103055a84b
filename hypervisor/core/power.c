/* Power-off: the last thing the hypervisor does, from any context. */
#include <hv/acpi.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/power.h>
#include <hv/serial_tx.h>
#include <hv/time.h>
#include <hv/x86.h>

static const char *const status_names[] = {
	[POWER_STATUS_OK] = "ok",
	[POWER_STATUS_GUEST_FAILED] = "guest-failed",
	[POWER_STATUS_GUEST_CRASHED] = "guest-crashed",
	[POWER_STATUS_PANIC] = "panic",
	[POWER_STATUS_BOOT_ERROR] = "boot-error",
	[POWER_STATUS_SELFTEST_FAILED] = "selftest-failed",
};

const char *power_status_name(enum power_status s)
{
	return (unsigned)s < ARRAY_SIZE(status_names) ? status_names[s] : "unknown";
}

void power_off(enum power_status status)
{
	cli();
	serial_tx_report();
	log_event("poweroff status=%d reason=%s", status, power_status_name(status));
	serial_tx_flush();   /* the log is buffered: everything out before the end */
	if (IS_ENABLED(CONFIG_TEST_HOOKS)) {
#ifdef CONFIG_TEST_EXIT_PORT
		outl(CONFIG_TEST_EXIT_PORT, (uint32_t)status + 1);
#endif
	}
	acpi_poweroff();
	/* The chipset may take a moment to act on the S5 write. */
	tsc_delay_us(500000);   /* returns at once if the TSC is not calibrated yet */
	log_err("power-off failed; halting");
	serial_tx_flush();
	for (;;)
		hlt();
}
