/* Lookup in the symbol table that sdk/tools/ksyms.py generated: entries
 * sorted by address, names in a string table after them. */
#include <hv/lib.h>
#include <hv/symbols.h>

struct ksym {
	uint64_t addr;
	uint32_t name;   /* offset into the string table */
	uint32_t size;
};

extern const struct ksym ksyms_table[];
extern const uint64_t ksyms_count;
extern const char ksyms_strings[];
extern const uint64_t ksyms_strings_size;

int symbols_lookup(uint64_t addr, char *buf, size_t n)
{
	uint64_t lo = 0, hi = ksyms_count;
	const struct ksym *s;

	if (!hi || addr < ksyms_table[0].addr)
		return 0;
	while (hi - lo > 1) {   /* last entry with addr <= target */
		uint64_t mid = lo + (hi - lo) / 2;

		if (ksyms_table[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	s = &ksyms_table[lo];
	if (s->name >= ksyms_strings_size || (s->size && addr >= s->addr + s->size))
		return 0;
	snprintf(buf, n, "%s+0x%lx", ksyms_strings + s->name, addr - s->addr);
	return 1;
}
