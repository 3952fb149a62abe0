/* admin_messages.c - GET /admin/messages and /admin/messages/{id}.  Read
 * only, through lib/msglist.c and lib/tracking.c, always with the user's
 * lab: another lab's id gets the same 404 as an unknown one.  Every value
 * reaches the page through the template's forced HTML escaping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_messages.h"
#include "log.h"
#include "msglist.h"
#include "tracking.h"

#define LIST_PAGE 50
#define EVENTS_PAGE 200

int
admin_parse_day(const char *s, long long *out)
{
	struct tm tm;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) != 10 || (end = strptime(s, "%Y-%m-%d", &tm)) == NULL ||
	    *end != '\0' || tm.tm_year < 100 || tm.tm_year > 300)
		return -1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (long long)t;
	return 0;
}

static long long
page_of(struct admin *a)
{
	const char *s = admin_q(a, "page");
	long long v = 0;
	size_t i;

	if (s == NULL)
		return 1;
	for (i = 0; s[i] != '\0' && i < 7; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 1;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= 1000000 && s[i] == '\0' ? v : 1;
}

static const char *
state_of(long long expires, long long retracted, long long purged, long long now)
{
	if (purged > 0)
		return "purged";
	if (retracted > 0)
		return "retracted";
	if (expires <= now)
		return "expired";
	return "active";
}

struct list_ctx {
	struct page_vars *pv;
	long long now;
	size_t n;
};

static int
list_row(const struct msglist_row *m, void *arg)
{
	struct list_ctx *l = arg;
	char t[64];
	size_t i = l->n++;

	page_setn(l->pv, m->id, "Rows.%zu.Id", i);
	page_setn(l->pv, m->reference, "Rows.%zu.Reference", i);
	page_setn(l->pv, m->sender, "Rows.%zu.Sender", i);
	admin_time(m->created, t, sizeof(t));
	page_setn(l->pv, t, "Rows.%zu.Created", i);
	admin_time(m->expires, t, sizeof(t));
	page_setn(l->pv, t, "Rows.%zu.Expires", i);
	page_setn(l->pv, state_of(m->expires, m->retracted, m->purged, l->now),
	    "Rows.%zu.State", i);
	snprintf(t, sizeof(t), "%lld/%lld", m->opened, m->recipients);
	page_setn(l->pv, t, "Rows.%zu.Opened", i);
	return l->pv->failed ? -1 : 0;
}

void
admin_messages_list(struct admin *a)
{
	struct msglist_filter f;
	struct list_ctx l;
	struct page_vars pv;
	struct sm_err err;
	const char *from = admin_q(a, "from"), *to = admin_q(a, "to");
	char num[32];

	page_vars_init(&pv);
	memset(&f, 0, sizeof(f));
	f.lab_id = a->lab_id;
	f.reference = admin_q(a, "reference");
	f.recipient = admin_q(a, "recipient");
	f.limit = LIST_PAGE;
	f.page = page_of(a);
	page_set(&pv, "Page.Title", "Messages");
	page_set(&pv, "Filter.Reference", f.reference ? f.reference : "");
	page_set(&pv, "Filter.Recipient", f.recipient ? f.recipient : "");
	page_set(&pv, "Filter.From", from ? from : "");
	page_set(&pv, "Filter.To", to ? to : "");
	if ((from != NULL && admin_parse_day(from, &f.since) == -1) ||
	    (to != NULL && admin_parse_day(to, &f.until) == -1)) {
		page_set(&pv, "Page.Error", "Dates are written YYYY-MM-DD.");
		admin_render(a, 400, PAGE_ADMIN_MESSAGES, &pv);
		goto out;
	}
	if (f.until > 0)
		f.until += 24 * 3600;	/* "to" is inclusive */
	memset(&l, 0, sizeof(l));
	l.pv = &pv;
	l.now = a->p->now;
	if (msglist_query(a->p->db, &f, list_row, &l, &err) == -1) {
		admin_unavailable(a, "messages", &err);
		goto out;
	}
	if (f.page > 1) {
		snprintf(num, sizeof(num), "%lld", f.page - 1);
		page_set(&pv, "Pager.Prev", num);
	}
	if (l.n == (size_t)LIST_PAGE) {
		snprintf(num, sizeof(num), "%lld", f.page + 1);
		page_set(&pv, "Pager.Next", num);
	}
	snprintf(num, sizeof(num), "%lld", f.page);
	page_set(&pv, "Pager.Page", num);
	admin_render(a, 200, PAGE_ADMIN_MESSAGES, &pv);
out:
	page_vars_free(&pv);
}

static const char *
kind_label(const char *k)
{
	static const char *const map[][2] = {
		{ "sealed", "Sealed" },
		{ "notified", "Notice sent" },
		{ "notify_failed", "Notice failed" },
		{ "link_fetched", "Link fetched" },
		{ "verify_failed", "Verification failed" },
		{ "verified", "Verified" },
		{ "viewed", "Viewed" },
		{ "downloaded", "Downloaded" },
		{ "locked", "Locked" },
		{ "unlocked", "Unlocked" },
		{ "retracted", "Retracted" },
		{ "expiry_changed", "Expiry changed" },
		{ "purged", "Purged" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i][0], k) == 0)
			return map[i][1];
	return k;
}

struct ev_list {
	struct track_event *v;
	size_t n;
};

static int
collect(const struct track_event *ev, void *arg)
{
	struct ev_list *l = arg;

	if (l->n >= EVENTS_PAGE)
		return -1;
	l->v[l->n++] = *ev;
	return 0;
}

/* A fetch of the link that no verification from the same address for the
 * same delivery followed: most likely a mail scanner, not the patient. */
static int
likely_automated(const struct ev_list *l, size_t i)
{
	const struct track_event *e = &l->v[i];
	size_t j;

	if (strstr(e->detail, "automated=likely") != NULL)
		return 1;
	for (j = i + 1; j < l->n; j++)
		if (l->v[j].delivery_id == e->delivery_id &&
		    strcmp(l->v[j].client_addr, e->client_addr) == 0 &&
		    (strcmp(l->v[j].kind, "verify_failed") == 0 ||
		    strcmp(l->v[j].kind, "verified") == 0))
			return 0;
	return 1;
}

struct dl_ctx {
	struct page_vars *pv;
	long long now;
	size_t n;
};

static int
delivery_row(const struct track_delivery *d, void *arg)
{
	struct dl_ctx *c = arg;
	char t[64];
	size_t i = c->n++;

	snprintf(t, sizeof(t), "%lld", d->id);
	page_setn(c->pv, t, "Deliveries.%zu.Id", i);
	page_setn(c->pv, d->address, "Deliveries.%zu.Address", i);
	page_setn(c->pv, d->kind, "Deliveries.%zu.Kind", i);
	admin_time(d->first_opened, t, sizeof(t));
	page_setn(c->pv, t, "Deliveries.%zu.FirstOpened", i);
	snprintf(t, sizeof(t), "%lld", d->failed_attempts);
	page_setn(c->pv, t, "Deliveries.%zu.Failed", i);
	if (d->locked_until > c->now) {
		admin_time(d->locked_until, t, sizeof(t));
		page_setn(c->pv, t, "Deliveries.%zu.LockedUntil", i);
	}
	if (d->retracted > 0) {
		admin_time(d->retracted, t, sizeof(t));
		page_setn(c->pv, t, "Deliveries.%zu.Retracted", i);
	}
	return c->pv->failed ? -1 : 0;
}

void
admin_message_page(struct admin *a, const char *id)
{
	struct track_message m;
	struct track_filter f;
	struct page_vars pv;
	struct ev_list l = { NULL, 0 };
	struct dl_ctx dc;
	struct sm_err err;
	const char *done = admin_q(a, "done");
	char t[64];
	size_t i;
	int rc;

	page_vars_init(&pv);
	rc = track_message(a->p->db, a->lab_id, id, &m, &err);
	if (rc == -1) {
		admin_unavailable(a, "message", &err);
		goto out;
	}
	if (rc == 0) {
		admin_notice(a, 404, "Not found", "There is no such message for"
		    " your lab.");
		goto out;
	}
	page_set(&pv, "Page.Title", "Message");
	page_set(&pv, "Msg.Id", m.id);
	page_set(&pv, "Msg.Reference", m.reference);
	page_set(&pv, "Msg.Sender", m.sender);
	admin_time(m.created, t, sizeof(t));
	page_set(&pv, "Msg.Created", t);
	admin_time(m.expires, t, sizeof(t));
	page_set(&pv, "Msg.Expires", t);
	page_set(&pv, "Msg.State", state_of(m.expires, m.retracted, m.purged,
	    a->p->now));
	if (m.retracted == 0 && m.purged == 0)
		page_set(&pv, "Msg.Active", "1");
	/* Only our own fixed words come back from an action. */
	if (done != NULL && (strcmp(done, "retracted") == 0 ||
	    strcmp(done, "expiry") == 0 || strcmp(done, "unlocked") == 0 ||
	    strcmp(done, "delivery-retracted") == 0))
		page_set(&pv, "Page.Done", done);
	memset(&dc, 0, sizeof(dc));
	dc.pv = &pv;
	dc.now = a->p->now;
	if (track_deliveries(a->p->db, m.id, delivery_row, &dc, &err) == -1) {
		admin_unavailable(a, "deliveries", &err);
		goto out;
	}
	memset(&f, 0, sizeof(f));
	f.lab_id = a->lab_id;
	f.message_id = m.id;
	f.limit = EVENTS_PAGE;
	f.page = page_of(a);
	l.v = calloc(EVENTS_PAGE, sizeof(*l.v));
	if (l.v == NULL || track_events(a->p->db, &f, collect, &l, &err) == -1) {
		admin_unavailable(a, "events", &err);
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		const struct track_event *e = &l.v[i];

		admin_time(e->at_us / 1000000, t, sizeof(t));
		page_setn(&pv, t, "Events.%zu.At", i);
		page_setn(&pv, e->kind, "Events.%zu.Kind", i);
		page_setn(&pv, kind_label(e->kind), "Events.%zu.Label", i);
		page_setn(&pv, e->address, "Events.%zu.Recipient", i);
		page_setn(&pv, e->client_addr, "Events.%zu.Client", i);
		page_setn(&pv, e->user_agent, "Events.%zu.Agent", i);
		page_setn(&pv, e->detail, "Events.%zu.Detail", i);
		if (strcmp(e->kind, "link_fetched") == 0 && likely_automated(&l, i))
			page_setn(&pv, "1", "Events.%zu.Automated", i);
	}
	if (f.page > 1) {
		snprintf(t, sizeof(t), "%lld", f.page - 1);
		page_set(&pv, "Pager.Prev", t);
	}
	if (l.n == EVENTS_PAGE) {
		snprintf(t, sizeof(t), "%lld", f.page + 1);
		page_set(&pv, "Pager.Next", t);
	}
	admin_render(a, 200, PAGE_ADMIN_MESSAGE, &pv);
out:
	free(l.v);
	page_vars_free(&pv);
}
