/* users.c - sealmailctl user add|reset|disable: lab users of the admin
 * pages.  The generated password and TOTP enrolment are printed once, the
 * QR code as UTF-8 half blocks when stdout is a terminal; the database
 * keeps only a hash and a sealed secret. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <qrencode.h>

#include "crypto.h"
#include "ctl.h"
#include "db.h"
#include "labref.h"
#include "labuser.h"

/* Two modules per character cell, black on an explicit white background
 * so it scans on dark and light terminals alike; a 2-module quiet zone. */
static int
print_qr(const char *text)
{
	static const char *const cell[4] = { " ", "\xe2\x96\x80", "\xe2\x96\x84",
	    "\xe2\x96\x88" };	/* space, upper half, lower half, full block */
	QRcode *q;
	int x, y, w, rc = -1;

	q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (q == NULL)
		return -1;
	w = q->width;
	for (y = -2; y < w + 2; y += 2) {
		if (fputs("\033[30;47m", stdout) == EOF)
			goto out;
		for (x = -2; x < w + 2; x++) {
			int top = y >= 0 && y < w && x >= 0 && x < w &&
			    (q->data[y * w + x] & 1);
			int bot = y + 1 >= 0 && y + 1 < w && x >= 0 && x < w &&
			    (q->data[(y + 1) * w + x] & 1);

			if (fputs(cell[top | (bot << 1)], stdout) == EOF)
				goto out;
		}
		if (fputs("\033[0m\n", stdout) == EOF)
			goto out;
	}
	rc = 0;
out:
	QRcode_free(q);
	return rc;
}

static int
show(const char *login, const struct labuser_cred *cr, int qr)
{
	printf("login:    %s\npassword: %s\n(shown once: hand it over securely)\n"
	    "TOTP:     %s\n", login, cr->password, cr->uri);
	if (qr && print_qr(cr->uri) == -1)
		return -1;
	return fflush(stdout) == EOF ? -1 : 0;
}

static int
add(struct ctl *c)
{
	static const struct option opts[] = {
		{ "lab", required_argument, NULL, 'l' },
		{ "role", required_argument, NULL, 'r' },
		{ "qr", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	const char *lab = NULL, *role = NULL;
	struct labuser_cred cr;
	struct keyring *kr = NULL;
	struct db *db = NULL;
	struct answer_cost cost;
	enum labuser_role rl;
	struct sm_err err;
	long long lab_id;
	int ch, qr = isatty(STDOUT_FILENO), rc = 1;

	memset(&cr, 0, sizeof(cr));
	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'l': lab = optarg; break;
		case 'r': role = optarg; break;
		case 'q': qr = 1; break;
		default: return 2;
		}
	}
	if (lab == NULL || role == NULL || optind + 1 != c->argc) {
		fprintf(stderr, "usage: sealmailctl user add --lab NAME"
		    " --role viewer|sender-admin [--qr] LOGIN\n");
		return 2;
	}
	if (labuser_role_parse(role, &rl) == -1)
		return ctl_fail("--role: viewer or sender-admin");
	labref_cost(c->cf, &cost);
	if (labref_keys(c->cf, KEY_PEPPER, &kr, &err) == -1 ||
	    labref_open(c->cf, &db, &err) == -1 ||
	    labref_id(db, lab, &lab_id, &err) == -1 ||
	    labuser_add(db, kr, &cost, lab_id, lab, c->argv[optind], rl, &cr,
	    &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	rc = show(c->argv[optind], &cr, qr) == -1 ?
	    ctl_fail("cannot write output") : 0;
out:
	labuser_cred_wipe(&cr);
	db_close(db);
	keyring_free(kr);
	return rc;
}

static int
reset_or_disable(struct ctl *c, int reset)
{
	static const struct option opts[] = {
		{ "qr", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct labuser_cred cr;
	struct keyring *kr = NULL;
	struct db *db = NULL;
	struct answer_cost cost;
	struct sm_err err;
	int ch, qr = isatty(STDOUT_FILENO), rc = 1;

	memset(&cr, 0, sizeof(cr));
	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'q': qr = 1; break;
		default: return 2;
		}
	}
	if (optind + 1 != c->argc) {
		fprintf(stderr, "usage: sealmailctl user %s LOGIN\n",
		    reset ? "reset [--qr]" : "disable");
		return 2;
	}
	labref_cost(c->cf, &cost);
	if ((reset && labref_keys(c->cf, KEY_PEPPER, &kr, &err) == -1) ||
	    labref_open(c->cf, &db, &err) == -1 ||
	    (reset ? labuser_reset(db, kr, &cost, c->argv[optind], &cr, &err) :
	    labuser_disable(db, c->argv[optind], &err)) < 0) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	if (reset)
		rc = show(c->argv[optind], &cr, qr) == -1 ?
		    ctl_fail("cannot write output") : 0;
	else {
		printf("lab user %s disabled\n", c->argv[optind]);
		rc = 0;
	}
out:
	labuser_cred_wipe(&cr);
	db_close(db);
	keyring_free(kr);
	return rc;
}

int
cmd_user(struct ctl *c)
{
	const char *sub = c->argc >= 2 ? c->argv[1] : "";

	c->argc--;
	c->argv++;
	if (strcmp(sub, "add") == 0)
		return add(c);
	if (strcmp(sub, "reset") == 0)
		return reset_or_disable(c, 1);
	if (strcmp(sub, "disable") == 0)
		return reset_or_disable(c, 0);
	fprintf(stderr, "usage: sealmailctl user add|reset|disable ...\n");
	return 2;
}
