/* lifecycle.c - sealmailctl retract, expire, unlock and purge.
 * Thin: each parses its options and calls lib/lifecycle.c, the code the
 * admin pages and the API share.  purge destroys data keys and chunks
 * (crypto-shredding) and keeps the events. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "ctl.h"
#include "db.h"
#include "expiry.h"
#include "labref.h"
#include "lifecycle.h"

static const struct actor ctl_actor = { NULL, NULL, "sealmailctl" };

/* Opens the admin connection and arms the audit MAC when the key exists:
 * a change made here is recorded like any other. */
static int
open_db(struct ctl *c, struct db **db, struct keyring **kr, struct sm_err *err)
{
	if (labref_keys(c->cf, KEY_AUDIT, kr, err) == -1)
		return -1;
	return labref_open(c->cf, db, err);
}

int
cmd_retract(struct ctl *c)
{
	static const struct option opts[] = {
		{ "message", required_argument, NULL, 'm' },
		{ "reference", required_argument, NULL, 'r' },
		{ "lab", required_argument, NULL, 'l' },
		{ "delivery", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *msg = NULL, *ref = NULL, *lab = NULL;
	long long delivery = 0, lab_id = 0;
	struct keyring *kr = NULL;
	struct db *db = NULL;
	struct sm_err err;
	size_t n = 0;
	int ch, changed = 0, r, rc = 1;

	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'm': msg = optarg; break;
		case 'r': ref = optarg; break;
		case 'l': lab = optarg; break;
		case 'd':
			if (ctl_parse_int(optarg, 1, 1LL << 62, &delivery) == -1)
				return ctl_fail("--delivery: a delivery id");
			break;
		default: return 2;
		}
	}
	if (optind != c->argc || (msg != NULL) + (ref != NULL) +
	    (delivery != 0) != 1 || (ref != NULL && lab == NULL)) {
		fprintf(stderr, "usage: sealmailctl retract --message ID |"
		    " --reference REF --lab NAME | --delivery ID\n");
		return 2;
	}
	if (open_db(c, &db, &kr, &err) == -1 ||
	    (lab != NULL && labref_id(db, lab, &lab_id, &err) == -1)) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	if (msg != NULL)
		r = lifecycle_retract_message(db, lab_id, msg, &ctl_actor,
		    &changed, &err);
	else if (ref != NULL) {
		r = lifecycle_retract_reference(db, lab_id, ref, &ctl_actor, &n,
		    &err);
		changed = n > 0;
	} else
		r = lifecycle_retract_delivery(db, lab_id, delivery, &ctl_actor,
		    &changed, &err);
	if (r < 0) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	if (ref != NULL)
		printf("%zu message(s) retracted\n", n);
	else
		printf("%s\n", changed ? "retracted" : "already retracted");
	rc = 0;
out:
	db_close(db);
	keyring_free(kr);
	return rc;
}

int
cmd_expire(struct ctl *c)
{
	static const struct option opts[] = {
		{ "message", required_argument, NULL, 'm' },
		{ "lab", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *msg = NULL, *lab = NULL, *when_arg;
	struct keyring *kr = NULL;
	struct db *db = NULL;
	struct sm_err err;
	long long lab_id = 0;
	time_t expires;
	char when[32];
	int ch, rc = 1;

	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'm': msg = optarg; break;
		case 'l': lab = optarg; break;
		default: return 2;
		}
	}
	if (msg == NULL || optind + 1 != c->argc) {
		fprintf(stderr, "usage: sealmailctl expire --message ID"
		    " [--lab NAME] 7d|2w|6m|1y|YYYY-MM-DD\n");
		return 2;
	}
	when_arg = c->argv[optind];
	/* "+7d" reads naturally as "from now"; expiry_parse means the same. */
	if (when_arg[0] == '+' && when_arg[1] >= '0' && when_arg[1] <= '9')
		when_arg++;
	if (expiry_parse(when_arg, strlen(when_arg), time(NULL),
	    &expires, &err) == -1)
		return ctl_fail("%s", err.msg);
	if (open_db(c, &db, &kr, &err) == -1 ||
	    (lab != NULL && labref_id(db, lab, &lab_id, &err) == -1) ||
	    lifecycle_set_expiry(db, lab_id, msg, expires, &ctl_actor,
	    &err) < 0) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	printf("message %s now expires %s\n", msg,
	    labref_time((long long)expires, when, sizeof(when)));
	rc = 0;
out:
	db_close(db);
	keyring_free(kr);
	return rc;
}

int
cmd_unlock(struct ctl *c)
{
	static const struct option opts[] = {
		{ "delivery", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct keyring *kr = NULL;
	struct db *db = NULL;
	struct sm_err err;
	long long delivery = 0;
	int ch, rc = 1;

	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (ctl_parse_int(optarg, 1, 1LL << 62, &delivery) == -1)
				return ctl_fail("--delivery: a delivery id");
			break;
		default: return 2;
		}
	}
	if (delivery == 0 || optind != c->argc) {
		fprintf(stderr, "usage: sealmailctl unlock --delivery ID\n");
		return 2;
	}
	if (open_db(c, &db, &kr, &err) == -1 ||
	    lifecycle_unlock(db, 0, delivery, &ctl_actor, &err) < 0) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	printf("delivery %lld unlocked\n", delivery);
	rc = 0;
out:
	db_close(db);
	keyring_free(kr);
	return rc;
}

static void
say_due(const char *id, void *arg)
{
	printf("%s %s\n", *(const int *)arg ? "would purge" : "purging", id);
}

int
cmd_purge(struct ctl *c)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct keyring *kr = NULL;
	struct db *db = NULL;
	struct sm_err err;
	size_t n = 0;
	int ch, dry = 0, quiet = 0, rc = 1;

	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': dry = 1; break;
		case 'q': quiet = 1; break;
		default: return 2;
		}
	}
	if (optind != c->argc) {
		fprintf(stderr, "usage: sealmailctl purge [--dry-run] [--quiet]\n");
		return 2;
	}
	if (open_db(c, &db, &kr, &err) == -1 ||
	    lifecycle_purge_due(db, time(NULL), dry, quiet ? NULL : say_due,
	    &dry, &ctl_actor, &n, &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	printf("%zu message(s) %s\n", n, dry ? "due for purging (dry run)" :
	    "purged");
	rc = 0;
out:
	db_close(db);
	keyring_free(kr);
	return rc;
}
