/* Exits with the code in argv[1]. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	int code = argc > 1 ? atoi(argv[1]) : 0;

	printf("exitcode: exiting with %d\n", code);
	return code;
}
