/* recipients.c - sealmailctl recipients import|list|delete.
 * The import is lib/recipient_import.c, the same code the admin upload and
 * the API use; this file only reads the file, shows progress on a
 * terminal and prints the outcome.  Answers are never printed. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "crypto.h"
#include "ctl.h"
#include "db.h"
#include "labref.h"
#include "recipient_admin.h"
#include "recipient_import.h"
#include "store.h"

static void
progress(size_t done, size_t total, void *arg)
{
	(void)arg;
	fprintf(stderr, "\rhashing answers: %zu/%zu (%zu%%)", done, total,
	    total ? done * 100 / total : 100);
	if (done == total)
		fputc('\n', stderr);
	fflush(stderr);
}

static double
since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static int
import(struct ctl *c)
{
	static const struct option opts[] = {
		{ "lab", required_argument, NULL, 'l' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *lab = NULL, *file;
	struct rimport *ri = NULL;
	struct keyring *kr = NULL;
	struct db *db = NULL;
	struct answer_cost cost;
	struct timespec t0;
	struct sm_err err;
	double t_read, t_hash;
	char buf[65536];
	long long lab_id, threads = 0;
	size_t i, ins = 0, upd = 0;
	int ch, fd = -1, dry = 0, rc = 1;

	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'l': lab = optarg; break;
		case 'n': dry = 1; break;
		case 't':
			if (ctl_parse_int(optarg, 1, 16, &threads) == -1)
				return ctl_fail("--threads: 1 to 16");
			break;
		default: return 2;
		}
	}
	if (lab == NULL || optind + 1 != c->argc) {
		fprintf(stderr, "usage: sealmailctl recipients import --lab NAME"
		    " [--dry-run] [--threads N] FILE.csv|-\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	file = c->argv[optind];
	if (labref_open(c->cf, &db, &err) == -1 ||
	    labref_id(db, lab, &lab_id, &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	if (strcmp(file, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		rc = ctl_fail("%s: %s", file, strerror(errno));
		goto out;
	}
	if (rimport_new(&ri, (unsigned)threads, &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = ctl_fail("%s: %s", file, strerror(errno));
			goto out;
		}
		if (n == 0 || rimport_feed(ri, buf, (size_t)n) == -1)
			break;
	}
	(void)rimport_finish(ri);
	if (rimport_nerrors(ri) > 0) {
		for (i = 0; i < rimport_nkept(ri); i++)
			fprintf(stderr, "%s: %s\n", strcmp(file, "-") ? file :
			    "stdin", rimport_error(ri, i));
		if (rimport_nerrors(ri) > rimport_nkept(ri))
			fprintf(stderr, "... and %zu more\n",
			    rimport_nerrors(ri) - rimport_nkept(ri));
		rc = ctl_fail("%zu bad row(s); nothing imported",
		    rimport_nerrors(ri));
		goto out;
	}
	if (dry) {
		printf("%zu row(s) valid; nothing written (dry run)\n",
		    rimport_rows(ri));
		rc = 0;
		goto out;
	}
	labref_cost(c->cf, &cost);
	t_read = since(&t0);
	if (labref_keys(c->cf, KEY_PEPPER, &kr, &err) == -1 ||
	    rimport_hash(ri, kr, &cost, isatty(STDERR_FILENO) ? progress : NULL,
	    NULL, &err) == -1) {
		rc = ctl_fail("%s; nothing imported", err.msg);
		goto out;
	}
	t_hash = since(&t0);
	if (rimport_write(ri, db, lab_id, &ins, &upd, &err) == -1) {
		rc = ctl_fail("%s; nothing imported", err.msg);
		goto out;
	}
	printf("%zu recipient(s) imported for lab %s: %zu new, %zu updated "
	    "(%.1f s: read %.1f, hash %.1f, write %.1f)\n", rimport_rows(ri), lab,
	    ins, upd, since(&t0), t_read, t_hash - t_read, since(&t0) - t_hash);
	rc = 0;
out:
	if (fd > STDIN_FILENO)
		close(fd);
	rimport_free(ri);
	keyring_free(kr);
	db_close(db);
	return rc;
}

struct listing {
	json_t *arr;
	size_t n;
};

static int
list_one(const struct recipient_info *r, void *arg)
{
	struct listing *l = arg;
	char when[32];

	l->n++;
	if (l->arr != NULL) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:s, s:I, s:I}",
		    "address", r->address, "kind", r->kind,
		    "question", r->question, "answer_set", r->answer_set,
		    "recovery_email", r->recovery_email,
		    "created", (json_int_t)r->created,
		    "updated", (json_int_t)r->updated);

		return o == NULL || json_array_append_new(l->arr, o) == -1 ?
		    -1 : 0;
	}
	return printf("%s\t%s\t%s\t%s\n", r->address, r->kind,
	    r->answer_set ? "answer-set" : "-",
	    labref_time(r->updated, when, sizeof(when))) < 0 ? -1 : 0;
}

static int
list(struct ctl *c)
{
	static const struct option opts[] = {
		{ "lab", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct listing l = { NULL, 0 };
	long long lab_id, off = 0;
	const char *lab = NULL;
	struct db *db = NULL;
	struct sm_err err;
	int ch, json = c->json, rc = 1;

	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'l': lab = optarg; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (lab == NULL || optind != c->argc) {
		fprintf(stderr, "usage: sealmailctl recipients list --lab NAME [--json]\n");
		return 2;
	}
	if (labref_open(c->cf, &db, &err) == -1 ||
	    labref_id(db, lab, &lab_id, &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	if (json && (l.arr = json_array()) == NULL) {
		rc = ctl_fail("out of memory");
		goto out;
	}
	/* In pages, so a lab of a million recipients is never held in the
	 * client library's result buffer at once. */
	for (;;) {
		size_t before = l.n;

		if (recipient_list(db, lab_id, off, 10000, list_one, &l,
		    &err) == -1) {
			rc = ctl_fail("%s", err.msg);
			goto out;
		}
		if (l.n - before < 10000)
			break;
		off += 10000;
	}
	if (json && (json_dumpf(l.arr, stdout, JSON_INDENT(2)) == -1 ||
	    fputc('\n', stdout) == EOF)) {
		rc = ctl_fail("cannot write output");
		goto out;
	}
	rc = 0;
out:
	json_decref(l.arr);
	db_close(db);
	return rc;
}

static int
del(struct ctl *c)
{
	static const struct option opts[] = {
		{ "lab", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *lab = NULL;
	struct db *db = NULL;
	struct sm_err err;
	long long lab_id;
	int ch, r, rc = 1;

	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'l': lab = optarg; break;
		default: return 2;
		}
	}
	if (lab == NULL || optind + 1 != c->argc) {
		fprintf(stderr, "usage: sealmailctl recipients delete --lab NAME ADDRESS\n");
		return 2;
	}
	if (labref_open(c->cf, &db, &err) == -1 ||
	    labref_id(db, lab, &lab_id, &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	r = recipient_delete(db, lab_id, c->argv[optind], &err);
	if (r < 0) {
		rc = r == RADMIN_NOTFOUND ? ctl_fail("lab %s has no recipient "
		    "%.80s", lab, c->argv[optind]) : ctl_fail("%s", err.msg);
		goto out;
	}
	printf("recipient deleted\n");
	rc = 0;
out:
	db_close(db);
	return rc;
}

int
cmd_recipients(struct ctl *c)
{
	if (c->argc >= 2 && strcmp(c->argv[1], "import") == 0) {
		c->argc--;
		c->argv++;
		return import(c);
	}
	if (c->argc >= 2 && strcmp(c->argv[1], "list") == 0) {
		c->argc--;
		c->argv++;
		return list(c);
	}
	if (c->argc >= 2 && strcmp(c->argv[1], "delete") == 0) {
		c->argc--;
		c->argv++;
		return del(c);
	}
	fprintf(stderr, "usage: sealmailctl recipients import|list|delete ...\n");
	return 2;
}
