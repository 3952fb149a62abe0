/* audit.c - sealmailctl audit seal|verify: the tamper-evident trail.
 * seal is meant for the purge timer (or cron); verify exits 1 and names
 * the first altered, deleted or reordered row. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "crypto.h"
#include "ctl.h"
#include "db.h"
#include "labref.h"
#include "log.h"

static int
seal(struct ctl *c)
{
	static const struct option opts[] = {
		{ "grace", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	struct audit_report rep;
	struct keyring *kr = NULL;
	struct db *db = NULL;
	struct sm_err err;
	unsigned long long n = 0;
	long long grace = 60;
	char hex[65];
	int ch, rc = 1;

	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'g':
			if (ctl_parse_int(optarg, 0, 86400, &grace) == -1)
				return ctl_fail("--grace: 0 to 86400 seconds");
			break;
		default: return 2;
		}
	}
	if (optind != c->argc) {
		fprintf(stderr, "usage: sealmailctl audit seal [--grace SECONDS]\n");
		return 2;
	}
	if (labref_keys(c->cf, KEY_AUDIT, &kr, &err) == -1 ||
	    labref_open(c->cf, &db, &err) == -1 ||
	    audit_seal(db, keyring_audit_key(kr), grace, &n, &rep, &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	sodium_bin2hex(hex, sizeof(hex), rep.head, 32);
	/* The head in the log is the anchor kept outside the database. */
	log_event("audit_sealed", "rows=%llu adopted=%llu head_seq=%lld head=%s",
	    n, rep.unmacd, rep.head_seq, hex);
	printf("%llu event(s) sealed (%llu without a MAC adopted); head %lld:%s\n",
	    n, rep.unmacd, rep.head_seq, hex);
	rc = 0;
out:
	db_close(db);
	keyring_free(kr);
	return rc;
}

static int
verify(struct ctl *c)
{
	static const struct option opts[] = {
		{ "anchor", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct audit_report rep;
	struct keyring *kr = NULL;
	struct db *db = NULL;
	struct sm_err err;
	unsigned char anchor[32];
	long long aseq = 0;
	int have_anchor = 0, ch, rc = 1;
	char hex[65];

	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'a': {
			const char *colon = strchr(optarg, ':');
			char num[24];
			size_t got = 0;

			if (colon == NULL || (size_t)(colon - optarg) >= sizeof(num))
				return ctl_fail("--anchor: SEQ:HEX from a seal's output");
			memcpy(num, optarg, (size_t)(colon - optarg));
			num[colon - optarg] = '\0';
			if (ctl_parse_int(num, 1, 1LL << 62, &aseq) == -1 ||
			    strlen(colon + 1) != 64 ||
			    sodium_hex2bin(anchor, 32, colon + 1, 64, NULL, &got,
			    NULL) != 0 || got != 32)
				return ctl_fail("--anchor: SEQ:HEX from a seal's output");
			have_anchor = 1;
			break;
		}
		default: return 2;
		}
	}
	if (optind != c->argc) {
		fprintf(stderr, "usage: sealmailctl audit verify [--anchor SEQ:HEX]\n");
		return 2;
	}
	if (labref_keys(c->cf, KEY_AUDIT, &kr, &err) == -1 ||
	    labref_open(c->cf, &db, &err) == -1 ||
	    audit_verify(db, keyring_audit_key(kr), aseq,
	    have_anchor ? anchor : NULL, &rep, &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	if (rep.problem != AUDIT_OK) {
		log_err("audit_tamper", "problem=%s event=%lld seq=%lld",
		    audit_problem_name(rep.problem), rep.event_id, rep.seq);
		rc = ctl_fail("audit trail %s: %s", audit_problem_name(rep.problem),
		    rep.what);
		goto out;
	}
	sodium_bin2hex(hex, sizeof(hex), rep.head, 32);
	printf("audit trail intact: %llu event(s), %llu sealed, %llu not yet "
	    "sealed (%llu without a MAC); head %lld:%s\n", rep.rows, rep.sealed,
	    rep.rows - rep.sealed, rep.unmacd, rep.head_seq, hex);
	rc = 0;
out:
	db_close(db);
	keyring_free(kr);
	return rc;
}

int
cmd_audit(struct ctl *c)
{
	if (c->argc >= 2 && strcmp(c->argv[1], "seal") == 0) {
		c->argc--;
		c->argv++;
		return seal(c);
	}
	if (c->argc >= 2 && strcmp(c->argv[1], "verify") == 0) {
		c->argc--;
		c->argv++;
		return verify(c);
	}
	fprintf(stderr, "usage: sealmailctl audit seal|verify ...\n");
	return 2;
}
