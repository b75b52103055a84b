#ifndef HV_RTC_H
#define HV_RTC_H

#include <stdint.h>

/* Wall clock (UTC seconds since 1970) read from the CMOS RTC at boot,
 * taken to correspond to system time 0. */
extern uint64_t rtc_boot_epoch;
void rtc_init(void);

#endif
