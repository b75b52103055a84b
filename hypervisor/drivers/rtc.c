/* CMOS real-time clock, read once at boot for the guests' wall clock. */
#include <hv/lib.h>
#include <hv/rtc.h>
#include <hv/x86.h>

uint64_t rtc_boot_epoch;

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static unsigned from_bcd(uint8_t v, bool bcd)
{
	return bcd ? (v & 0xf) + (v >> 4) * 10 : v;
}

/* Days since 1970-01-01 for a proleptic Gregorian date. */
static uint64_t days_from_civil(int y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (uint64_t)((int64_t)era * 146097 + (int64_t)doe - 719468);
}

void rtc_init(void)
{
	uint8_t sec, min, hour, day, mon, year, b;
	bool bcd, pm;

	for (int i = 0; i < 100000 && (cmos(0x0a) & 0x80); i++)
		pause();   /* wait out an update in progress */
	sec = cmos(0x00), min = cmos(0x02), hour = cmos(0x04);
	day = cmos(0x07), mon = cmos(0x08), year = cmos(0x09);
	b = cmos(0x0b);
	bcd = !(b & 0x04);
	pm = hour & 0x80;
	hour = (uint8_t)from_bcd(hour & 0x7f, bcd);
	if (!(b & 0x02) && pm)
		hour = (uint8_t)((hour % 12) + 12);
	rtc_boot_epoch = days_from_civil(2000 + (int)from_bcd(year, bcd), from_bcd(mon, bcd),
					 from_bcd(day, bcd)) * 86400 +
			 hour * 3600 + from_bcd(min, bcd) * 60 + from_bcd(sec, bcd);
}
