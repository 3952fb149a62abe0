/* admin_export.c - the lab's events as CSV (filters as on the list:
 * reference, recipient, from, to), streamed page by page so memory stays
 * bounded.  Every cell goes through track_csv_cell, which quotes and
 * defuses formula cells (=, +, -, @) so a spreadsheet never runs one. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin_export.h"
#include "admin_messages.h"
#include "log.h"
#include "tracking.h"

#define EXPORT_PAGE 1000
#define EXPORT_PAGES_MAX 10000

struct out {
	struct admin *a;
	size_t n;		/* rows of this page */
	unsigned long long total;
};

static int
cell(struct buf *b, const char *v, int last)
{
	char c[EVENT_UA_MAX * 2 + SM_ADDRESS_MAX * 2 + 8];

	if (track_csv_cell(v, c, sizeof(c)) == -1)
		return -1;
	return buf_puts(b, c) == -1 || buf_puts(b, last ? "\r\n" : ",") == -1 ?
	    -1 : 0;
}

static int
row(const struct track_event *ev, void *arg)
{
	struct out *o = arg;
	struct buf b;
	char t[64], num[32], did[32];
	time_t tt = (time_t)(ev->at_us / 1000000);
	struct tm tm;
	int rc = -1;

	buf_init(&b, 8192);
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		goto out;
	snprintf(num, sizeof(num), "%lld", ev->id);
	snprintf(did, sizeof(did), "%lld", ev->delivery_id);
	if (cell(&b, num, 0) == -1 || cell(&b, t, 0) == -1 ||
	    cell(&b, ev->kind, 0) == -1 || cell(&b, ev->message_id, 0) == -1 ||
	    cell(&b, ev->delivery_id ? did : "", 0) == -1 ||
	    cell(&b, ev->address, 0) == -1 || cell(&b, ev->reference, 0) == -1 ||
	    cell(&b, ev->client_addr, 0) == -1 ||
	    cell(&b, ev->user_agent, 0) == -1 || cell(&b, ev->detail, 1) == -1 ||
	    resp_stream_write(o->a->w, b.p, b.len) == -1)
		goto out;
	o->n++;
	o->total++;
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

void
admin_export_csv(struct admin *a)
{
	static const char head[] = "id,time,kind,message,delivery,recipient,"
	    "reference,client_addr,user_agent,detail\r\n";
	const char *from = admin_q(a, "from"), *to = admin_q(a, "to");
	struct track_filter f;
	struct out o;
	struct sm_err err;

	memset(&f, 0, sizeof(f));
	f.lab_id = a->lab_id;
	f.reference = admin_q(a, "reference");
	f.recipient = admin_q(a, "recipient");
	f.limit = EXPORT_PAGE;
	if ((from != NULL && admin_parse_day(from, &f.since) == -1) ||
	    (to != NULL && admin_parse_day(to, &f.until) == -1)) {
		admin_notice(a, 400, "Bad dates", "Dates are written YYYY-MM-DD.");
		return;
	}
	if (f.until > 0)
		f.until += 24 * 3600;
	resp_header(a->w, "Content-Type", "text/csv; charset=utf-8");
	resp_header(a->w, "Content-Disposition", "attachment; filename=\"audit.csv\"");
	if (resp_stream_begin(a->w) == -1 ||
	    resp_stream_write(a->w, head, sizeof(head) - 1) == -1)
		return;
	memset(&o, 0, sizeof(o));
	o.a = a;
	for (f.page = 1; f.page <= EXPORT_PAGES_MAX; f.page++) {
		o.n = 0;
		if (track_events(a->p->db, &f, row, &o, &err) == -1) {
			/* The headers are out: the auditor sees a cut file and
			 * the log says why. */
			log_err("admin_export_failed", "user=%lld lab=%lld reason=\"%s\"",
			    a->user_id, a->lab_id, err.msg);
			portal_db_reset(a->p);
			return;
		}
		if (o.n < EXPORT_PAGE)
			break;
	}
	log_event("admin_export", "user=%lld lab=%lld rows=%llu", a->user_id,
	    a->lab_id, o.total);
}
