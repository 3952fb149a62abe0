/* bench_verify.c - the cost of one verification on the portal: Argon2id
 * at the configured cost (crypto.argon2_ops, crypto.argon2_mem_kib) over
 * a peppered, normalised answer, as portal/verify.c runs it.  Not a test:
 * it prints figures.  Usage: bench_verify -c CONF [N]  (default 20) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "answer.h"
#include "config.h"
#include "crypto.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int
main(int argc, char **argv)
{
	char stored[SM_ANSWER_HASH_TEXT];
	struct config *cf = NULL;
	struct keyring *kr = NULL;
	struct answer_cost cost;
	struct sm_err err;
	const char *conf = NULL;
	double t0, best = 1e9, total = 0;
	long i, n = 20;
	int c, ret = 1;

	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c != 'c') {
			fprintf(stderr, "usage: bench_verify -c CONF [N]\n");
			return 2;
		}
		conf = optarg;
	}
	if (optind < argc)
		n = strtol(argv[optind], NULL, 10);
	if (conf == NULL || n < 1 || n > 100000) {
		fprintf(stderr, "usage: bench_verify -c CONF [N]\n");
		return 2;
	}
	if (sodium_init() < 0 || config_load(&cf, conf, &err) == -1 ||
	    keyring_load(&kr, config_str(cf, "keys.dir"),
	    (int)config_int(cf, "keys.escrow_version"), KEY_PEPPER, &err) == -1) {
		fprintf(stderr, "bench_verify: %s\n", err.msg);
		goto out;
	}
	cost.ops = (unsigned long long)config_int(cf, "crypto.argon2_ops");
	cost.mem_bytes = (size_t)config_int(cf, "crypto.argon2_mem_kib") * 1024;
	cost.date_order = DATE_MDY;
	if (answer_hash(kr, &cost, "Smith-Jones", 11, stored, &err) == -1) {
		fprintf(stderr, "bench_verify: %s\n", err.msg);
		goto out;
	}
	for (i = 0; i < n; i++) {
		t0 = now_ms();
		if (answer_check(kr, &cost, stored, "smith jones", 11, &err) != 0) {
			fprintf(stderr, "bench_verify: check failed: %s\n", err.msg);
			goto out;
		}
		t0 = now_ms() - t0;
		total += t0;
		if (t0 < best)
			best = t0;
	}
	printf("bench=verify argon2_ops=%lld argon2_mem_kib=%lld mean_ms=%.2f best_ms=%.2f runs=%ld\n",
	    config_int(cf, "crypto.argon2_ops"), config_int(cf, "crypto.argon2_mem_kib"),
	    total / (double)n, best, n);
	ret = 0;
out:
	keyring_free(kr);
	config_free(cf);
	return ret;
}
