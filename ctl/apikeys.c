/* apikeys.c - sealmailctl apikey create|revoke|list.
 * A key is printed once at creation; afterwards only its prefix exists
 * outside the hash. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "apikey.h"
#include "ctl.h"
#include "db.h"
#include "labref.h"

static int
create(struct ctl *c)
{
	static const struct option opts[] = {
		{ "lab", required_argument, NULL, 'l' },
		{ "label", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	const char *lab = NULL, *label = NULL;
	char key[APIKEY_CHARS + 1], prefix[APIKEY_PREFIX_CHARS + 1];
	struct db *db = NULL;
	struct sm_err err;
	long long lab_id;
	int ch, rc = 1;

	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'l': lab = optarg; break;
		case 'L': label = optarg; break;
		default: return 2;
		}
	}
	if (lab == NULL || optind != c->argc) {
		fprintf(stderr, "usage: sealmailctl apikey create --lab NAME"
		    " [--label TEXT]\n");
		return 2;
	}
	if (labref_open(c->cf, &db, &err) == -1 ||
	    labref_id(db, lab, &lab_id, &err) == -1 ||
	    apikey_create(db, lab_id, label, key, prefix, &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	printf("%s\n", key);
	fprintf(stderr, "API key %s created for lab %s; it is shown only "
	    "this once\n", prefix, lab);
	sodium_memzero(key, sizeof(key));
	rc = 0;
out:
	db_close(db);
	return rc;
}

static int
revoke(struct ctl *c)
{
	struct db *db = NULL;
	struct sm_err err;
	int rc = 1;

	if (c->argc != 2) {
		fprintf(stderr, "usage: sealmailctl apikey revoke PREFIX\n");
		return 2;
	}
	if (labref_open(c->cf, &db, &err) == -1 ||
	    apikey_revoke(db, 0, c->argv[1], &err) < 0) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	printf("API key %s revoked\n", c->argv[1]);
	rc = 0;
out:
	db_close(db);
	return rc;
}

struct listing {
	json_t *arr;
};

static int
one(const struct apikey_info *k, void *arg)
{
	struct listing *l = arg;
	char t1[32], t2[32], t3[32];

	if (l->arr != NULL) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}",
		    "prefix", k->prefix, "lab", k->lab, "label", k->label,
		    "created", (json_int_t)k->created,
		    "last_used", (json_int_t)k->last_used,
		    "revoked", (json_int_t)k->revoked);

		return j == NULL || json_array_append_new(l->arr, j) == -1 ? -1 : 0;
	}
	return printf("%s\t%s\tcreated=%s\tlast_used=%s\trevoked=%s\t%s\n",
	    k->prefix, k->lab, labref_time(k->created, t1, sizeof(t1)),
	    labref_time(k->last_used, t2, sizeof(t2)),
	    labref_time(k->revoked, t3, sizeof(t3)), k->label) < 0 ? -1 : 0;
}

static int
list(struct ctl *c)
{
	static const struct option opts[] = {
		{ "lab", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct listing l = { NULL };
	const char *lab = NULL;
	struct db *db = NULL;
	struct sm_err err;
	long long lab_id = 0;
	int ch, json = c->json, rc = 1;

	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'l': lab = optarg; break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (optind != c->argc) {
		fprintf(stderr, "usage: sealmailctl apikey list [--lab NAME] [--json]\n");
		return 2;
	}
	if (json && (l.arr = json_array()) == NULL)
		return ctl_fail("out of memory");
	if (labref_open(c->cf, &db, &err) == -1 ||
	    (lab != NULL && labref_id(db, lab, &lab_id, &err) == -1) ||
	    apikey_list(db, lab_id, one, &l, &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
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

int
cmd_apikey(struct ctl *c)
{
	const char *sub = c->argc >= 2 ? c->argv[1] : "";

	c->argc--;
	c->argv++;
	if (strcmp(sub, "create") == 0)
		return create(c);
	if (strcmp(sub, "revoke") == 0)
		return revoke(c);
	if (strcmp(sub, "list") == 0)
		return list(c);
	fprintf(stderr, "usage: sealmailctl apikey create|revoke|list ...\n");
	return 2;
}
