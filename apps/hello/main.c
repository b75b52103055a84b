/* hello: the smallest useful Paravane guest.  Shows what an app gets for
 * free: its name and argv from the manifest, the wall clock, the
 * hypervisor's monotonic clock, floating point and libm. */
#include <math.h>
#include <stdio.h>
#include <time.h>

#include <paravane.h>

/* Leibniz would need a billion terms for 1e-9; Nilakantha's series
 * converges cubically: 3 + 4/(2*3*4) - 4/(4*5*6) + ... */
static double pi_series(double tolerance, int *terms)
{
	double pi = 3.0, sign = 1.0;
	int n;

	for (n = 1; ; n++) {
		double k = 2.0 * n;
		double term = 4.0 / (k * (k + 1) * (k + 2));

		pi += sign * term;
		sign = -sign;
		if (term < tolerance)
			break;
	}
	*terms = n;
	return pi;
}

static void print_args(int argc, char **argv)
{
	printf("argc = %d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d] = \"%s\"\n", i, argv[i]);
}

static void print_times(void)
{
	struct timespec mono;
	time_t now = time(NULL);
	char buf[64];

	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
	printf("wall clock: %s\n", buf);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	printf("uptime: %lld.%09ld s (hypervisor), main after %.3f ms\n",
	       (long long)mono.tv_sec, mono.tv_nsec,
	       (pv_monotonic_ns() -
		pv_tsc_to_ns(pv_start_info()->created_tsc)) / 1e6);
}

static void print_math(void)
{
	int terms;
	double pi = pi_series(1e-9, &terms);

	printf("pi ~ %.10f after %d terms (error %.1e)\n", pi, terms,
	       fabs(pi - M_PI));
	printf("sqrt(2) = %.10f\n", sqrt(2.0));
}

int main(int argc, char **argv)
{
	printf("Hello from Paravane! I am domain %u, \"%s\".\n",
	       (unsigned int)pv_domid(), pv_domain_name());
	print_args(argc, argv);
	print_times();
	print_math();
	return 0;
}
