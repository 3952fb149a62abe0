/* view.h - the message after verification: the page, its parts, the .eml. */
#ifndef PORTAL_VIEW_H
#define PORTAL_VIEW_H

struct ctx;

void view_page(struct ctx *c);
void view_part(struct ctx *c, long n);
void view_eml(struct ctx *c);

#endif
