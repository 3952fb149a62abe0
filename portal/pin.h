/* pin.h - the PIN a patient sets for SMS notices (issue 3): set at the
 * first visit with a recovery email, entered later through the ordinary
 * verify path (verify.c), recovered by a one-time link mailed to the
 * recovery email.  URL map: POST /m/<token> while no PIN is set,
 * GET|POST /m/<token>/recover, GET|POST /m/<token>/reset?k=<key>. */
#ifndef PORTAL_PIN_H
#define PORTAL_PIN_H

struct ctx;
struct form;

#define PIN_MIN 4
#define PIN_MAX 8
#define PIN_RESET_SECONDS 3600

/* 1 when s[0..n) is 4 to 8 ASCII digits. */
int pin_format_ok(const char *s, size_t n);

/* The first visit's POST (CSRF, rate limit and lock already checked). */
void pin_set_post(struct ctx *c, const struct form *f);
void pin_recover(struct ctx *c, int is_post);
void pin_reset(struct ctx *c, int is_post);

#endif
