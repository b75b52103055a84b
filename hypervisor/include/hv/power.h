/* Power-off with a status.  Test builds (CONFIG_TEST_HOOKS) write
 * status + 1 to QEMU's isa-debug-exit port, so QEMU exits with code
 * 2 * status + 3 and a harness can tell the verdict; otherwise ACPI S5. */
#ifndef HV_POWER_H
#define HV_POWER_H

enum power_status {
	POWER_STATUS_OK = 0,            /* every guest ended with exit code 0 */
	POWER_STATUS_GUEST_FAILED = 1,  /* some guest exited with a nonzero code */
	POWER_STATUS_GUEST_CRASHED = 2, /* some guest crashed */
	POWER_STATUS_PANIC = 3,         /* the hypervisor itself failed */
	POWER_STATUS_BOOT_ERROR = 4,    /* bad boot input (boot_info, manifest) */
	POWER_STATUS_SELFTEST_FAILED = 5,
};

__attribute__((noreturn)) void power_off(enum power_status status);
const char *power_status_name(enum power_status status);

#endif
