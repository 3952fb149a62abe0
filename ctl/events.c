/* events.c - sealmailctl events and status: the lab's tracking view.
 * Output as text, JSON (jansson) or CSV for an auditor; CSV cells that a
 * spreadsheet would run as a formula are defused (track_csv_cell). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "db.h"
#include "labref.h"
#include "tracking.h"

enum fmt { FMT_TEXT, FMT_JSON, FMT_CSV };

struct out {
	enum fmt fmt;
	json_t *arr;
};

static json_t *
event_json(const struct track_event *e)
{
	return json_pack("{s:I, s:I, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s}",
	    "id", (json_int_t)e->id, "at_us", (json_int_t)e->at_us,
	    "kind", e->kind, "lab", e->lab, "message_id", e->message_id,
	    "delivery_id", (json_int_t)e->delivery_id, "recipient", e->address,
	    "reference", e->reference, "client_addr", e->client_addr,
	    "user_agent", e->user_agent, "detail", e->detail);
}

static int
csv_row(FILE *f, const char *const *cells, size_t n)
{
	char cell[2 * 1024];
	size_t i;

	for (i = 0; i < n; i++) {
		if (track_csv_cell(cells[i], cell, sizeof(cell)) == -1 ||
		    fprintf(f, "%s%s", i ? "," : "", cell) < 0)
			return -1;
	}
	return fputs("\r\n", f) == EOF ? -1 : 0;
}

static int
print_event(const struct track_event *e, void *arg)
{
	struct out *o = arg;
	char when[32], id[24], dl[24];
	long long secs = e->at_us / 1000000;

	labref_time(secs, when, sizeof(when));
	switch (o->fmt) {
	case FMT_JSON: {
		json_t *j = event_json(e);

		return j == NULL || json_array_append_new(o->arr, j) == -1 ?
		    -1 : 0;
	}
	case FMT_CSV: {
		const char *cells[11];

		snprintf(id, sizeof(id), "%lld", e->id);
		snprintf(dl, sizeof(dl), "%lld", e->delivery_id);
		cells[0] = id;
		cells[1] = when;
		cells[2] = e->kind;
		cells[3] = e->lab;
		cells[4] = e->message_id;
		cells[5] = e->delivery_id ? dl : "";
		cells[6] = e->address;
		cells[7] = e->reference;
		cells[8] = e->client_addr;
		cells[9] = e->user_agent;
		cells[10] = e->detail;
		return csv_row(stdout, cells, 11);
	}
	case FMT_TEXT:
		break;
	}
	return printf("%s %-14s msg=%s dl=%lld rcpt=%s ref=%s addr=%s %s\n",
	    when, e->kind, e->message_id[0] ? e->message_id : "-",
	    e->delivery_id, e->address[0] ? e->address : "-",
	    e->reference[0] ? e->reference : "-",
	    e->client_addr[0] ? e->client_addr : "-", e->detail) < 0 ? -1 : 0;
}

static int
finish(struct out *o)
{
	if (o->fmt != FMT_JSON)
		return fflush(stdout) == EOF ? -1 : 0;
	if (json_dumpf(o->arr, stdout, JSON_INDENT(2)) == -1 ||
	    fputc('\n', stdout) == EOF)
		return -1;
	return 0;
}

int
cmd_events(struct ctl *c)
{
	static const struct option opts[] = {
		{ "lab", required_argument, NULL, 'l' },
		{ "message", required_argument, NULL, 'm' },
		{ "reference", required_argument, NULL, 'r' },
		{ "recipient", required_argument, NULL, 'R' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "limit", required_argument, NULL, 'n' },
		{ "page", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const head[] = { "id", "time", "kind", "lab",
	    "message_id", "delivery_id", "recipient", "reference",
	    "client_addr", "user_agent", "detail" };
	struct track_filter f;
	struct out o = { c->json ? FMT_JSON : FMT_TEXT, NULL };
	const char *lab = NULL;
	struct db *db = NULL;
	struct sm_err err;
	int ch, rc = 1;

	memset(&f, 0, sizeof(f));
	f.limit = 100;
	f.page = 1;
	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'l': lab = optarg; break;
		case 'm': f.message_id = optarg; break;
		case 'r': f.reference = optarg; break;
		case 'R': f.recipient = optarg; break;
		case 's':
			if (labref_parse_time(optarg, &f.since) == -1)
				return ctl_fail("--since: YYYY-MM-DD[THH:MM[:SS]] (UTC)");
			break;
		case 'u':
			if (labref_parse_time(optarg, &f.until) == -1)
				return ctl_fail("--until: YYYY-MM-DD[THH:MM[:SS]] (UTC)");
			break;
		case 'n':
			if (ctl_parse_int(optarg, 1, 10000, &f.limit) == -1)
				return ctl_fail("--limit: 1 to 10000");
			break;
		case 'p':
			if (ctl_parse_int(optarg, 1, 1000000, &f.page) == -1)
				return ctl_fail("--page: 1 to 1000000");
			break;
		case 'j': o.fmt = FMT_JSON; break;
		case 'c': o.fmt = FMT_CSV; break;
		default: return 2;
		}
	}
	if (optind != c->argc) {
		fprintf(stderr, "usage: sealmailctl events [--lab NAME] [--message ID]"
		    " [--reference REF] [--recipient ADDR] [--since DATE]"
		    " [--until DATE] [--limit N] [--page N] [--json|--csv]\n");
		return 2;
	}
	if (labref_open(c->cf, &db, &err) == -1 ||
	    (lab != NULL && labref_id(db, lab, &f.lab_id, &err) == -1)) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	if (o.fmt == FMT_JSON && (o.arr = json_array()) == NULL) {
		rc = ctl_fail("out of memory");
		goto out;
	}
	if (o.fmt == FMT_CSV && csv_row(stdout, head, 11) == -1) {
		rc = ctl_fail("cannot write output");
		goto out;
	}
	if (track_events(db, &f, print_event, &o, &err) == -1 ||
	    finish(&o) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	rc = 0;
out:
	json_decref(o.arr);
	db_close(db);
	return rc;
}

static int
print_delivery(const struct track_delivery *d, void *arg)
{
	json_t *arr = arg;
	char t1[32], t2[32], t3[32];

	if (arr != NULL) {
		json_t *j = json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I}",
		    "id", (json_int_t)d->id, "recipient", d->address,
		    "kind", d->kind, "first_opened", (json_int_t)d->first_opened,
		    "failed_attempts", (json_int_t)d->failed_attempts,
		    "locked_until", (json_int_t)d->locked_until,
		    "retracted", (json_int_t)d->retracted);

		return j == NULL || json_array_append_new(arr, j) == -1 ? -1 : 0;
	}
	return printf("  delivery %lld  %s  kind=%s  first_opened=%s  "
	    "failed=%lld  locked_until=%s  retracted=%s\n", d->id, d->address,
	    d->kind, labref_time(d->first_opened, t1, sizeof(t1)),
	    d->failed_attempts, labref_time(d->locked_until, t2, sizeof(t2)),
	    labref_time(d->retracted, t3, sizeof(t3))) < 0 ? -1 : 0;
}

int
cmd_status(struct ctl *c)
{
	struct track_message m;
	struct track_filter f;
	struct out o = { c->json ? FMT_JSON : FMT_TEXT, NULL };
	json_t *top = NULL, *dls = NULL;
	struct db *db = NULL;
	struct sm_err err;
	char t[4][32];
	int r, rc = 1;

	if (c->argc == 3 && strcmp(c->argv[2], "--json") == 0) {
		o.fmt = FMT_JSON;
		c->argc = 2;
	}
	if (c->argc != 2) {
		fprintf(stderr, "usage: sealmailctl status MESSAGE_ID [--json]\n");
		return 2;
	}
	if (labref_open(c->cf, &db, &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	r = track_message(db, 0, c->argv[1], &m, &err);
	if (r != 1) {
		rc = ctl_fail("%s", r == 0 ? "no such message" : err.msg);
		goto out;
	}
	if (o.fmt == FMT_JSON) {
		if ((dls = json_array()) == NULL || (o.arr = json_array()) == NULL) {
			rc = ctl_fail("out of memory");
			goto out;
		}
	} else
		printf("message %s\n  lab %s  sender %s  reference %s\n"
		    "  sealed %s  expires %s  retracted %s  purged %s  size %lld\n"
		    "deliveries:\n", m.id, m.lab, m.sender[0] ? m.sender : "<>",
		    m.reference[0] ? m.reference : "-",
		    labref_time(m.created, t[0], 32), labref_time(m.expires, t[1], 32),
		    labref_time(m.retracted, t[2], 32),
		    labref_time(m.purged, t[3], 32), m.size);
	if (track_deliveries(db, m.id, print_delivery, dls, &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	if (o.fmt == FMT_TEXT)
		printf("events:\n");
	memset(&f, 0, sizeof(f));
	f.message_id = m.id;
	f.limit = 10000;
	f.page = 1;
	if (track_events(db, &f, print_event, &o, &err) == -1) {
		rc = ctl_fail("%s", err.msg);
		goto out;
	}
	if (o.fmt == FMT_JSON) {
		top = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I,"
		    " s:O, s:O}", "id", m.id, "lab", m.lab, "sender", m.sender,
		    "reference", m.reference, "created", (json_int_t)m.created,
		    "expires", (json_int_t)m.expires,
		    "retracted", (json_int_t)m.retracted,
		    "purged", (json_int_t)m.purged, "size", (json_int_t)m.size,
		    "deliveries", dls, "events", o.arr);
		if (top == NULL || json_dumpf(top, stdout, JSON_INDENT(2)) == -1 ||
		    fputc('\n', stdout) == EOF) {
			rc = ctl_fail("cannot write output");
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(top);
	json_decref(dls);
	json_decref(o.arr);
	db_close(db);
	return rc;
}
