/* bench_store.c - peak memory of sealing and reading one large message
 * through the escrow store against the stack's MariaDB.  Not a test: it
 * prints figures.  Usage: bench_store [MB ...]   (default 1 200)
 * Each size runs in a fresh child process so each peak is its own. */
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#include "config.h"
#include "crypto.h"
#include "db.h"
#include "store.h"

#define PIECE 65536	/* what a milter body callback typically hands over */

static long
peak_kib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
run(const char *conf, long mb)
{
	struct config *cf = NULL;
	struct keyring *wkr = NULL, *rkr = NULL;
	struct db *mdb = NULL, *pdb = NULL;
	struct store_msg *m = NULL;
	struct store_reader *r = NULL;
	struct sm_err err;
	unsigned char piece[PIECE];
	char token[SM_TOKEN_TEXT], id[SM_ID_HEX];
	long long lab = 0;
	struct db_col c = DB_COL_I(&lab);
	unsigned long long total = (unsigned long long)mb << 20, off, back = 0;
	long base, sealed_peak;
	double t0, t1, t2;
	size_t got;
	int rc = 1;

	if (config_load(&cf, conf, &err) == -1 ||
	    keyring_load(&wkr, config_str(cf, "keys.dir"),
	    (int)config_int(cf, "keys.escrow_version"),
	    KEY_ESCROW_PUBLIC | KEY_SIGN_SECRET, &err) == -1 ||
	    keyring_load(&rkr, config_str(cf, "keys.dir"),
	    (int)config_int(cf, "keys.escrow_version"),
	    KEY_ESCROW_SECRET | KEY_SIGN_PUBLIC, &err) == -1 ||
	    db_open(&mdb, cf, DB_ROLE_MILTER, &err) == -1 ||
	    db_open(&pdb, cf, DB_ROLE_PORTAL, &err) == -1 ||
	    db_query_row(pdb, "SELECT MIN(id) FROM labs", NULL, 0, &c, 1, &err) != 1)
		goto out;
	{
		struct store_meta meta = { .lab_id = lab, .sender = "bench@example.org",
		    .expires = time(NULL) + 86400,
		    .chunk_size = (size_t)config_int(cf, "crypto.chunk_size") };
		struct store_delivery d = { .address = "bench@example.net",
		    .kind = VERIF_PASSWORD, .answer_hash = "$argon2id$bench" };

		randombytes_buf(piece, sizeof(piece));
		base = peak_kib();
		t0 = now();
		if (store_begin(&m, mdb, wkr, &meta, &err) == -1)
			goto out;
		for (off = 0; off < total; off += PIECE) {
			piece[0] = (unsigned char)off;	/* not all chunks equal */
			if (store_append(m, piece, PIECE, &err) == -1)
				goto out;
		}
		if (store_add_delivery(m, &d, token, &err) == -1 ||
		    store_commit(m, NULL, &err) == -1)
			goto out;
		snprintf(id, sizeof(id), "%s", store_msg_id(m));
		t1 = now();
		sealed_peak = peak_kib();
	}
	if (store_reader_open(&r, pdb, rkr, id, &err) == -1)
		goto out;
	for (;;) {
		if (store_reader_read(r, piece, sizeof(piece), &got, &err) == -1)
			goto out;
		if (got == 0)
			break;
		back += got;
	}
	t2 = now();
	if (back != total) {
		snprintf(err.msg, sizeof(err.msg), "read back %llu of %llu bytes", back, total);
		goto out;
	}
	printf("bench=store size_mb=%ld seal_s=%.2f read_s=%.2f peak_rss_before_kib=%ld"
	    " peak_rss_sealed_kib=%ld peak_rss_read_kib=%ld\n", mb, t1 - t0, t2 - t1,
	    base, sealed_peak, peak_kib());
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "bench_store: %s\n", err.msg);
	store_reader_free(r);
	store_free(m);
	db_close(mdb);
	db_close(pdb);
	keyring_free(wkr);
	keyring_free(rkr);
	config_free(cf);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *conf = getenv("SEALMAIL_CONF");
	long sizes[8] = { 1, 200 };
	int n = 2, i, rc = 0;

	if (conf == NULL) {
		fprintf(stderr, "bench_store: set SEALMAIL_CONF (contrib/stack up DIR;"
		    " . DIR/stack.env)\n");
		return 2;
	}
	if (argc > 1) {
		for (n = 0; n + 1 < argc && n < 8; n++)
			sizes[n] = strtol(argv[n + 1], NULL, 10);
	}
	if (sodium_init() < 0 || mysql_library_init(0, NULL, NULL) != 0)
		return 1;
	for (i = 0; i < n; i++) {
		pid_t pid;
		int st;

		fflush(stdout);
		pid = fork();
		if (pid == -1)
			return 1;
		if (pid == 0) {
			int r = run(conf, sizes[i]);

			fflush(stdout);
			_exit(r);
		}
		if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			rc = 1;
	}
	mysql_library_end();
	return rc;
}
