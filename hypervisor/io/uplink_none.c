/* TEMPORARY: no NIC driver yet. */
#include <hv/errno.h>
#include <hv/net.h>

int uplink_init(uint8_t mac[6]) { return -ENODEV; }
int uplink_transmit(const void *frame, size_t len) { return -ENODEV; }
void uplink_poll(void) {}
bool uplink_present(void) { return false; }
void uplink_report(void) {}
