/* brand.c - lab branding with a small per-worker cache.  Values come from
 * the labs table, which only sealmailctl writes; they are still checked
 * (colour, logo scheme) because they end up in a page and a stylesheet. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "brand.h"
#include "config.h"
#include "db.h"
#include "portal.h"

#define BRAND_CACHE_SLOTS 16

struct brand_slot {
	struct brand b;
	time_t fetched;
	int used;
};

struct brand_cache {
	struct brand_slot slot[BRAND_CACHE_SLOTS];
	unsigned next;
};

int
brand_cache_new(struct brand_cache **out)
{
	*out = calloc(1, sizeof(**out));
	return *out == NULL ? -1 : 0;
}

void
brand_cache_free(struct brand_cache *c)
{
	free(c);
}

void
brand_default(struct brand *b)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->name, sizeof(b->name), "%s", "Secure messages");
	snprintf(b->colour, sizeof(b->colour), "%s", "#1f5f8b");
	snprintf(b->template_set, sizeof(b->template_set), "%s", "default");
}

static int
colour_ok(const char *c)
{
	size_t i;

	if (c[0] != '#' || strlen(c) != 7)
		return 0;
	for (i = 1; i < 7; i++)
		if (!isxdigit((unsigned char)c[i]))
			return 0;
	return 1;
}

static int
set_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		    s[i] == '_' || s[i] == '-'))
			return 0;
	return i > 0;
}

static int
fetch(struct portal *p, long long lab_id, struct brand *b, struct sm_err *err)
{
	static const char sql[] = "SELECT display_name, contact, logo_url,"
	    " colour, template_set, name FROM labs WHERE id = ?";
	struct db_val arg = DB_I(lab_id);
	struct db_col c[6];
	int rc;

	brand_default(b);
	c[0] = DB_COL_S(b->name, sizeof(b->name));
	c[1] = DB_COL_S(b->contact, sizeof(b->contact));
	c[2] = DB_COL_S(b->logo_url, sizeof(b->logo_url));
	c[3] = DB_COL_S(b->colour, sizeof(b->colour));
	c[4] = DB_COL_S(b->template_set, sizeof(b->template_set));
	c[5] = DB_COL_S(b->key, sizeof(b->key));
	rc = db_query_row(p->db, sql, &arg, 1, c, 6, err);
	if (rc == -1)
		return -1;
	if (rc == 0) {
		brand_default(b);
		return 0;
	}
	b->lab_id = lab_id;
	if (!colour_ok(b->colour))
		snprintf(b->colour, sizeof(b->colour), "%s", "#1f5f8b");
	if (strncmp(b->logo_url, "https://", 8) != 0)
		b->logo_url[0] = '\0';
	if (!set_ok(b->template_set))
		snprintf(b->template_set, sizeof(b->template_set), "%s", "default");
	return 0;
}

int
brand_get(struct portal *p, long long lab_id, struct brand *b,
    struct sm_err *err)
{
	struct brand_cache *c = p->brands;
	long long ttl = config_int(p->cf, "portal.lab_cache_seconds");
	struct brand_slot *s;
	size_t i;

	if (lab_id <= 0) {
		brand_default(b);
		return 0;
	}
	for (i = 0; i < BRAND_CACHE_SLOTS; i++) {
		s = &c->slot[i];
		if (s->used && s->b.lab_id == lab_id &&
		    p->now - s->fetched < (time_t)ttl && p->now >= s->fetched) {
			*b = s->b;
			return 0;
		}
	}
	if (fetch(p, lab_id, b, err) == -1)
		return -1;
	if (ttl > 0 && b->lab_id != 0) {
		s = &c->slot[c->next++ % BRAND_CACHE_SLOTS];
		s->b = *b;
		s->fetched = p->now;
		s->used = 1;
	}
	return 0;
}
