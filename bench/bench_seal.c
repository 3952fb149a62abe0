/* bench_seal.c - what sealing costs over bare libsodium, and what an
 * Argon2id answer hash costs at a few settings, to choose a default.
 * A benchmark, not a test: it prints figures and never judges them. */
#include <sys/stat.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "answer.h"
#include "crypto.h"

#define RUNS 3
#define MB 1e6			/* figures in MB/s, 10^6 bytes */

struct cost_setting {
	unsigned long long ops;
	size_t mem_kib;
};

static const struct cost_setting default_costs[] = {
	{ 1, 4096 }, { 2, 8192 }, { 2, 19456 }, { 3, 65536 },
};

static double
now_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		abort();
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
parse_size(const char *s, unsigned long long min, unsigned long long max,
    unsigned long long *out)
{
	char *end = NULL;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_seal [-t total_MiB] [-c chunk_KiB] "
	    "[-o argon2_ops -m argon2_mem_KiB] [-n hashes]\n");
	exit(2);
}

/* (a) the floor: libsodium's AEAD over the buffer, nothing else. */
static double
run_bare(const unsigned char *pt, size_t total, size_t chunk,
    unsigned char *ct, const unsigned char key[SM_KEY_BYTES])
{
	unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	unsigned long long clen;
	size_t off;
	double t0;
	uint64_t i = 0;

	memset(nonce, 0, sizeof(nonce));
	t0 = now_s();
	for (off = 0; off < total; off += chunk, i++) {
		size_t n = total - off < chunk ? total - off : chunk;

		memcpy(nonce, &i, sizeof(i));
		if (crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen,
		    pt + off, n, NULL, 0, NULL, nonce, key) != 0)
			abort();
	}
	return now_s() - t0;
}

/* (b) what the store does per chunk: chunk_seal, then the tag into the
 * hash the signature covers. */
static double
run_store(const unsigned char *pt, size_t total, size_t chunk,
    unsigned char *ct, const unsigned char key[SM_KEY_BYTES],
    unsigned char hash[SM_HASH_BYTES])
{
	unsigned char id[SM_ID_BYTES];
	struct taghash th;
	size_t off;
	double t0;
	uint64_t i = 0;

	msgid_new(id);
	t0 = now_s();
	taghash_init(&th);
	for (off = 0; off < total; off += chunk, i++) {
		size_t n = total - off < chunk ? total - off : chunk;

		if (chunk_seal(key, id, i, off + n == total, pt + off, n,
		    ct) != 0)
			abort();
		taghash_add(&th, ct + n);
	}
	taghash_final(&th, hash);
	return now_s() - t0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median as well as mean: on a shared machine one slow hash should not
 * decide the default. */
static int
bench_argon2(const struct keyring *kr, const struct cost_setting *c,
    unsigned long long nhash)
{
	struct answer_cost cost;
	char out[SM_ANSWER_HASH_TEXT];
	struct sm_err err = { "" };
	double t0, sum = 0, median, *dt;
	unsigned long long i;
	int rc = -1;

	dt = calloc(nhash, sizeof(*dt));
	if (dt == NULL) {
		fprintf(stderr, "bench_seal: out of memory\n");
		return -1;
	}
	cost.ops = c->ops;
	cost.mem_bytes = c->mem_kib * 1024;
	cost.date_order = DATE_DMY;
	for (i = 0; i < nhash; i++) {
		t0 = now_s();
		if (answer_hash(kr, &cost, "Smith-Jones 1990-03-04", 22, out,
		    &err) != 0) {
			fprintf(stderr, "bench_seal: %s\n", err.msg);
			goto out;
		}
		dt[i] = now_s() - t0;
		sum += dt[i];
	}
	qsort(dt, nhash, sizeof(*dt), cmp_double);
	median = nhash % 2 ? dt[nhash / 2] :
	    (dt[nhash / 2 - 1] + dt[nhash / 2]) / 2;
	printf("bench=argon2id ops=%llu mem_kib=%zu hashes=%llu "
	    "ms_median=%.2f ms_mean=%.2f ms_best=%.2f s_per_100k=%.0f\n",
	    c->ops, c->mem_kib, nhash, median * 1e3,
	    sum / (double)nhash * 1e3, dt[0] * 1e3, median * 1e5);
	printf("# Argon2id t=%llu m=%zu KiB: %.2f ms per hash (median); "
	    "100,000 recipients on one core: about %.0f s\n", c->ops,
	    c->mem_kib, median * 1e3, median * 1e5);
	rc = 0;
out:
	free(dt);
	return rc;
}

/* The pepper lives in a throwaway key directory, as in production. */
static int
argon2_all(const struct cost_setting *one, unsigned long long nhash)
{
	char tmpl[] = "/tmp/sm-bench-XXXXXX", path[PATH_MAX];
	struct keyring *kr = NULL;
	struct sm_err err = { "" };
	char *dir;
	size_t i;
	int rc = -1;

	dir = mkdtemp(tmpl);
	if (dir == NULL) {
		perror("bench_seal: mkdtemp");
		return -1;
	}
	if (keyring_generate(dir, 1, KEY_PEPPER, &err) != 0 ||
	    keyring_load(&kr, dir, 1, KEY_PEPPER, &err) != 0) {
		fprintf(stderr, "bench_seal: %s\n", err.msg);
		goto out;
	}
	if (one != NULL)
		rc = bench_argon2(kr, one, nhash);
	else {
		for (i = 0; i < sizeof(default_costs) / sizeof(default_costs[0]);
		    i++)
			if ((rc = bench_argon2(kr, &default_costs[i], nhash)) != 0)
				break;
	}
out:
	keyring_free(kr);
	if (snprintf(path, sizeof(path), "%s/pepper", dir) <
	    (int)sizeof(path))
		(void)unlink(path);
	(void)rmdir(dir);
	return rc;
}

int
main(int argc, char **argv)
{
	unsigned long long total_mib = 256, chunk_kib = 1024, ops = 0,
	    mem_kib = 0, nhash = 20;
	unsigned char key[SM_KEY_BYTES], hash[SM_HASH_BYTES];
	unsigned char *pt = NULL, *ct = NULL;
	struct cost_setting one;
	double bare = 1e9, store = 1e9, t;
	size_t total, chunk;
	int c, i, rc = 1;

	while ((c = getopt(argc, argv, "t:c:o:m:n:")) != -1) {
		switch (c) {
		case 't':
			if (parse_size(optarg, 1, 16384, &total_mib) != 0)
				usage();
			break;
		case 'c':
			if (parse_size(optarg, 1, 65536, &chunk_kib) != 0)
				usage();
			break;
		case 'o':
			if (parse_size(optarg, 1, 100, &ops) != 0)
				usage();
			break;
		case 'm':
			if (parse_size(optarg, 8, 4194304, &mem_kib) != 0)
				usage();
			break;
		case 'n':
			if (parse_size(optarg, 1, 100000, &nhash) != 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (ops != 0) != (mem_kib != 0))
		usage();
	if (sodium_init() < 0) {
		fprintf(stderr, "bench_seal: libsodium failed to initialise\n");
		return 1;
	}
	total = (size_t)total_mib << 20;
	chunk = (size_t)chunk_kib << 10;
	pt = malloc(total);
	ct = malloc(chunk + SM_TAG_BYTES);
	if (pt == NULL || ct == NULL) {
		fprintf(stderr, "bench_seal: out of memory for %llu MiB\n",
		    total_mib);
		goto out;
	}
	randombytes_buf(pt, total);
	datakey_new(key);

	/* Alternate the two, so neither always runs on a warmer machine. */
	for (i = 0; i < RUNS; i++) {
		t = run_bare(pt, total, chunk, ct, key);
		if (t < bare)
			bare = t;
		t = run_store(pt, total, chunk, ct, key, hash);
		if (t < store)
			store = t;
	}
	printf("bench=seal_bare bytes=%zu chunk=%zu runs=%d best_s=%.3f "
	    "mb_s=%.1f\n", total, chunk, RUNS, bare, (double)total / MB / bare);
	printf("bench=seal_store bytes=%zu chunk=%zu runs=%d best_s=%.3f "
	    "mb_s=%.1f\n", total, chunk, RUNS, store,
	    (double)total / MB / store);
	printf("bench=seal_ratio store_over_bare=%.3f\n", bare / store);
	printf("# chunk_seal + taghash_add runs at %.1f%% of bare "
	    "XChaCha20-Poly1305 (%.0f vs %.0f MB/s, %llu MiB in %llu KiB "
	    "chunks, best of %d)\n", bare / store * 100,
	    (double)total / MB / store, (double)total / MB / bare, total_mib,
	    chunk_kib, RUNS);

	one.ops = ops;
	one.mem_kib = (size_t)mem_kib;
	if (argon2_all(ops != 0 ? &one : NULL, nhash) != 0)
		goto out;
	rc = 0;
out:
	sodium_memzero(key, sizeof(key));
	free(pt);
	free(ct);
	return rc;
}
