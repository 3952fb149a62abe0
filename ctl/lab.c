/* lab.c - sealmailctl lab: the sending organisations and which mail is
 * theirs.  Every value is checked here before it reaches the database, and
 * goes there only as a bound parameter. */
#include <arpa/inet.h>
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <jansson.h>

#include "ctl.h"
#include "db.h"
#include "log.h"

#define SENDERS_MAX 64

static int
name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		    s[i] == '-' || s[i] == '_'))
			return 0;
	return i > 0 && i <= 64;
}

/* Text shown to patients or put in a header: valid UTF-8, no control bytes. */
static int
text_ok(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max || !g_utf8_validate(s, (gssize)n, NULL))
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int
colour_ok(const char *s)
{
	size_t i;

	if (strlen(s) != 7 || s[0] != '#')
		return 0;
	for (i = 1; i < 7; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Checks and canonicalises one sender rule into out. */
static int
sender_value(const char *kind, const char *v, char *out, size_t cap)
{
	size_t i, n = strlen(v);

	if (n == 0 || n >= cap || n > 320)
		return -1;
	if (strcmp(kind, "network") == 0) {
		unsigned char a[16];
		char ip[INET6_ADDRSTRLEN];
		const char *slash = strchr(v, '/');
		long long bits;
		int fam;

		if (slash == NULL || (size_t)(slash - v) >= sizeof(ip))
			return -1;
		memcpy(ip, v, (size_t)(slash - v));
		ip[slash - v] = '\0';
		fam = strchr(ip, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(fam, ip, a) != 1 ||
		    ctl_parse_int(slash + 1, 0, fam == AF_INET ? 32 : 128, &bits) == -1 ||
		    inet_ntop(fam, a, ip, sizeof(ip)) == NULL)
			return -1;
		snprintf(out, cap, "%s/%lld", ip, bits);
		return 0;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch <= 0x20 || ch >= 0x7f || ch == '<' || ch == '>' || ch == '"')
			return -1;
		out[i] = (char)tolower(ch);
	}
	out[n] = '\0';
	if (strcmp(kind, "sasl") == 0) {
		memcpy(out, v, n + 1);	/* SASL logins keep their case */
		return 0;
	}
	if (strcmp(kind, "address") == 0)
		return strchr(out, '@') != NULL && out[0] != '@' ? 0 : -1;
	if (strcmp(kind, "domain") == 0) {
		if (out[0] == '@')
			memmove(out, out + 1, n);
		return strchr(out, '@') == NULL && strchr(out, '.') != NULL ? 0 : -1;
	}
	return -1;
}

static int
lab_id(struct db *db, const char *name, long long *id, struct sm_err *err)
{
	static const char sql[] = "SELECT id FROM labs WHERE name = ?";
	struct db_val arg = DB_S(name);
	struct db_col col = DB_COL_I(id);
	int rc = db_query_row(db, sql, &arg, 1, &col, 1, err);

	if (rc == 0)
		sm_err_set(err, "no lab named \"%s\"", name);
	return rc == 1 ? 0 : -1;
}

static int
sender_add(struct db *db, long long lab, const char *kind, const char *value,
    struct sm_err *err)
{
	static const char sql[] = "INSERT INTO lab_senders (lab_id, kind, value)"
	    " VALUES (?, ?, ?)";
	char canon[400];
	struct db_val a[3];

	if (sender_value(kind, value, canon, sizeof(canon)) == -1) {
		sm_err_set(err, "invalid %s \"%.80s\"", kind, value);
		return -1;
	}
	a[0] = DB_I(lab);
	a[1] = DB_S(kind);
	a[2] = DB_S(canon);
	if (db_exec(db, sql, a, 3, NULL, NULL, err) == -1) {
		if (db_errno(db) == 1062)
			sm_err_set(err, "%s \"%.80s\" already belongs to a lab", kind, canon);
		return -1;
	}
	return 0;
}

struct rule {
	const char *kind;
	const char *value;
};

static int
lab_add(struct ctl *c)
{
	static const struct option opts[] = {
		{ "display", required_argument, NULL, 'd' },
		{ "subject", required_argument, NULL, 's' },
		{ "contact", required_argument, NULL, 'C' },
		{ "colour", required_argument, NULL, 'k' },
		{ "expiry-days", required_argument, NULL, 'e' },
		{ "verification", required_argument, NULL, 'v' },
		{ "template-set", required_argument, NULL, 't' },
		{ "sasl", required_argument, NULL, 'S' },
		{ "network", required_argument, NULL, 'N' },
		{ "sender", required_argument, NULL, 'A' },
		{ "domain", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	static const char sql[] = "INSERT INTO labs (name, display_name,"
	    " notice_subject, contact, colour, default_expiry_days,"
	    " default_verification, template_set, created)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
	const char *display = NULL, *subject = "You have a secure message";
	const char *contact = "", *colour = "#1f5f8b", *verif = "require";
	const char *tset = "default", *name;
	struct rule rules[SENDERS_MAX];
	size_t nrules = 0, i;
	long long expiry = 30;
	unsigned long long id;
	struct db *db = NULL;
	struct db_val a[9];
	struct sm_err err;
	int ch, rc = 1;

	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': display = optarg; break;
		case 's': subject = optarg; break;
		case 'C': contact = optarg; break;
		case 'k': colour = optarg; break;
		case 'v': verif = optarg; break;
		case 't': tset = optarg; break;
		case 'e':
			if (ctl_parse_int(optarg, 1, 3660, &expiry) == -1)
				return ctl_fail("--expiry-days: a number of days from 1 to 3660");
			break;
		case 'S': case 'N': case 'A': case 'D':
			if (nrules == SENDERS_MAX)
				return ctl_fail("too many sender rules (at most %d)", SENDERS_MAX);
			rules[nrules].kind = ch == 'S' ? "sasl" : ch == 'N' ? "network" :
			    ch == 'A' ? "address" : "domain";
			rules[nrules++].value = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != c->argc)
		return ctl_fail("usage: sealmailctl lab add NAME [--display TEXT]"
		    " [--sasl LOGIN] [--network CIDR] [--sender ADDR] [--domain DOMAIN] ...");
	name = c->argv[optind];
	if (display == NULL)
		display = name;
	if (!name_ok(name))
		return ctl_fail("lab name: 1 to 64 of a-z, 0-9, - and _");
	if (!text_ok(display, 200) || !text_ok(subject, 200) ||
	    (contact[0] != '\0' && !text_ok(contact, 500)))
		return ctl_fail("--display, --subject and --contact: UTF-8 text without"
		    " control characters (200, 200 and 500 bytes at most)");
	if (!colour_ok(colour))
		return ctl_fail("--colour: a colour like #1f5f8b");
	if (strcmp(verif, "require") != 0 && strcmp(verif, "registered") != 0)
		return ctl_fail("--verification: require or registered");
	if (!name_ok(tset))
		return ctl_fail("--template-set: 1 to 64 of a-z, 0-9, - and _");
	if (db_open(&db, c->cf, DB_ROLE_ADMIN, &err) == -1 || db_begin(db, &err) == -1)
		goto fail;
	a[0] = DB_S(name);
	a[1] = DB_S(display);
	a[2] = DB_S(subject);
	a[3] = DB_S(contact);
	a[4] = DB_S(colour);
	a[5] = DB_I(expiry);
	a[6] = DB_S(verif);
	a[7] = DB_S(tset);
	a[8] = DB_I(time(NULL));
	if (db_exec(db, sql, a, 9, NULL, &id, &err) == -1) {
		if (db_errno(db) == 1062)
			sm_err_set(&err, "a lab named \"%s\" exists", name);
		goto fail;
	}
	for (i = 0; i < nrules; i++)
		if (sender_add(db, (long long)id, rules[i].kind, rules[i].value, &err) == -1)
			goto fail;
	if (db_commit(db, &err) == -1)
		goto fail;
	log_event("lab_added", "lab=%llu name=%s rules=%zu", id, name, nrules);
	if (c->json)
		printf("{\"id\":%llu,\"name\":\"%s\"}\n", id, name);
	else
		printf("lab %s added (id %llu)\n", name, id);
	rc = 0;
	goto out;
fail:
	if (db != NULL)
		db_rollback(db);
	rc = ctl_fail("%s", err.msg);
out:
	db_close(db);
	return rc;
}

/* lab sender add|del NAME KIND VALUE */
static int
lab_sender(struct ctl *c)
{
	static const char del[] = "DELETE FROM lab_senders WHERE lab_id = ?"
	    " AND kind = ? AND value = ?";
	struct db *db = NULL;
	struct sm_err err;
	long long id;
	unsigned long long n = 0;
	int adding, rc = 1;

	if (c->argc != 6 || (strcmp(c->argv[2], "add") != 0 &&
	    strcmp(c->argv[2], "del") != 0))
		return ctl_fail("usage: sealmailctl lab sender add|del NAME"
		    " sasl|network|address|domain VALUE");
	adding = strcmp(c->argv[2], "add") == 0;
	if (db_open(&db, c->cf, DB_ROLE_ADMIN, &err) == -1 ||
	    lab_id(db, c->argv[3], &id, &err) == -1)
		goto fail;
	if (adding) {
		if (sender_add(db, id, c->argv[4], c->argv[5], &err) == -1)
			goto fail;
	} else {
		char canon[400];
		struct db_val a[3];

		if (sender_value(c->argv[4], c->argv[5], canon, sizeof(canon)) == -1) {
			sm_err_set(&err, "invalid %s", c->argv[4]);
			goto fail;
		}
		a[0] = DB_I(id);
		a[1] = DB_S(c->argv[4]);
		a[2] = DB_S(canon);
		if (db_exec(db, del, a, 3, &n, NULL, &err) == -1)
			goto fail;
		if (n == 0) {
			sm_err_set(&err, "lab %s has no such %s rule", c->argv[3], c->argv[4]);
			goto fail;
		}
	}
	printf("lab %s: %s rule %s\n", c->argv[3], c->argv[4], adding ? "added" : "removed");
	rc = 0;
	goto out;
fail:
	rc = ctl_fail("%s", err.msg);
out:
	db_close(db);
	return rc;
}

static int
lab_list(struct ctl *c)
{
	static const char sql[] = "SELECT l.id, l.name, l.display_name,"
	    " l.default_expiry_days, l.default_verification,"
	    " COALESCE(GROUP_CONCAT(CONCAT(s.kind, ':', s.value)"
	    " ORDER BY s.kind, s.value SEPARATOR ' '), '')"
	    " FROM labs l LEFT JOIN lab_senders s ON s.lab_id = l.id"
	    " GROUP BY l.id ORDER BY l.name";
	char name[65], display[801], verif[16], rules[8192];
	long long id, expiry;
	struct db_col cols[6];
	struct db *db = NULL;
	json_t *arr = NULL;
	struct sm_err err;
	int f, rc = 1;

	cols[0] = DB_COL_I(&id);
	cols[1] = DB_COL_S(name, sizeof(name));
	cols[2] = DB_COL_S(display, sizeof(display));
	cols[3] = DB_COL_I(&expiry);
	cols[4] = DB_COL_S(verif, sizeof(verif));
	cols[5] = DB_COL_S(rules, sizeof(rules));
	if (db_open(&db, c->cf, DB_ROLE_ADMIN, &err) == -1 ||
	    db_query(db, sql, NULL, 0, cols, 6, &err) == -1)
		goto fail;
	if (c->json && (arr = json_array()) == NULL) {
		sm_err_set(&err, "out of memory");
		goto fail;
	}
	if (!c->json)
		printf("%-4s %-20s %-8s %-10s %s\n", "ID", "NAME", "EXPIRY", "VERIFY", "SENDERS");
	while ((f = db_fetch(db, &err)) == 1) {
		if (c->json) {
			json_t *o = json_pack("{s:I,s:s,s:s,s:I,s:s,s:s}", "id",
			    (json_int_t)id, "name", name, "display", display,
			    "expiry_days", (json_int_t)expiry, "verification", verif,
			    "senders", rules);

			if (o == NULL || json_array_append_new(arr, o) == -1) {
				sm_err_set(&err, "out of memory");
				f = -1;
				break;
			}
		} else
			printf("%-4lld %-20s %-8lld %-10s %s\n", id, name, expiry, verif, rules);
	}
	db_query_end(db);
	if (f == -1)
		goto fail;
	if (c->json && json_dumpf(arr, stdout, JSON_COMPACT) == -1) {
		sm_err_set(&err, "cannot write output");
		goto fail;
	}
	if (c->json)
		putchar('\n');
	rc = 0;
	goto out;
fail:
	rc = ctl_fail("%s", err.msg);
out:
	json_decref(arr);
	db_close(db);
	return rc;
}

/* sealmailctl lab sms NAME sms|sms+email: whether a recipient with a phone
 * number also gets the email notice. */
static int
lab_sms(struct ctl *c)
{
	static const char upd[] = "UPDATE labs SET sms_notice = ? WHERE id = ?";
	struct db *db = NULL;
	struct sm_err err;
	struct db_val a[2];
	long long id;
	int rc = 1;

	if (c->argc != 4 || (strcmp(c->argv[3], "sms") != 0 &&
	    strcmp(c->argv[3], "sms+email") != 0))
		return ctl_fail("usage: sealmailctl lab sms NAME sms|sms+email");
	if (db_open(&db, c->cf, DB_ROLE_ADMIN, &err) == -1 ||
	    lab_id(db, c->argv[2], &id, &err) == -1)
		goto fail;
	a[0] = DB_S(c->argv[3]);
	a[1] = DB_I(id);
	if (db_exec(db, upd, a, 2, NULL, NULL, &err) == -1)
		goto fail;
	log_event("lab_sms_notice", "lab=%lld notice=%s", id, c->argv[3]);
	printf("lab %s: SMS notices %s\n", c->argv[2],
	    strcmp(c->argv[3], "sms") == 0 ? "only" : "and email notices");
	rc = 0;
	goto out;
fail:
	rc = ctl_fail("%s", err.msg);
out:
	db_close(db);
	return rc;
}

int
cmd_lab(struct ctl *c)
{
	if (c->argc >= 2 && strcmp(c->argv[1], "add") == 0) {
		c->argc--;
		c->argv++;
		return lab_add(c);
	}
	if (c->argc == 2 && strcmp(c->argv[1], "list") == 0)
		return lab_list(c);
	if (c->argc >= 2 && strcmp(c->argv[1], "sender") == 0)
		return lab_sender(c);
	if (c->argc >= 2 && strcmp(c->argv[1], "sms") == 0)
		return lab_sms(c);
	return ctl_fail("usage: sealmailctl lab add|list|sender|sms ...  (see sealmailctl(8))");
}
