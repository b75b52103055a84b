/* Reads memory that is not its own: argv[1] in hex (default: the
 * hypervisor's direct map, where every other domain's memory lives).
 * It must fault; printing the value would be a leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	uintptr_t addr = argc > 1 ? strtoull(argv[1], NULL, 16) : 0xffff800000100000UL;
	volatile uint64_t *p = (volatile uint64_t *)addr;

	printf("peek: reading 0x%lx\n", (unsigned long)addr);
	fflush(stdout);
	printf("peek: LEAK value 0x%lx\n", (unsigned long)*p);
	return 0;
}
