/* Domains: for now only the hand-over point; PV domains arrive next. */
#include <manifest.h>
#include <hv/boot.h>
#include <hv/log.h>
#include <hv/power.h>
#include <hv/x86.h>

void domains_start(void)
{
	if (boot.manifest->hv.poweroff_when_idle && manifest_valid_guests(boot.manifest) == 0) {
		log_info("no guests to run; powering off as the manifest asks");
		power_off(POWER_STATUS_OK);
	}
	log_info("idle: waiting for interrupts");
	for (;;)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}
