/* brand.h - a lab's name, logo, colour, contact and template set, as the
 * portal shows them.  Kept per worker for portal.lab_cache_seconds so a
 * scanner hammering a link costs one lookup, not two. */
#ifndef PORTAL_BRAND_H
#define PORTAL_BRAND_H

#include "lab.h"

struct portal;
struct brand_cache;

struct brand {
	long long lab_id;	/* 0: no lab (an unknown link) */
	char key[LAB_NAME_MAX + 1];	/* labs.name: files named for the lab */
	char name[LAB_TEXT_MAX + 1];
	char contact[LAB_LONG_MAX + 1];
	char logo_url[LAB_LONG_MAX + 1];	/* https:// only, else "" */
	char colour[8];		/* #rrggbb, checked */
	char template_set[LAB_NAME_MAX + 1];
};

/* The neutral brand of pages that belong to no lab. */
void brand_default(struct brand *b);
/* 0 with *b filled (the default when the lab is gone), -1 on a database
 * error. */
int brand_get(struct portal *p, long long lab_id, struct brand *b,
    struct sm_err *err);

int brand_cache_new(struct brand_cache **out);
void brand_cache_free(struct brand_cache *c);

#endif
