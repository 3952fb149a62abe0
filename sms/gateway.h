/* gateway.h - handing one SMS to the provider: an HTTP webhook (JSON POST,
 * bearer token, libcurl) or a local command (number as argument, text on
 * standard input).  The outcome says whether a retry can help; the reason
 * never quotes the text or the number. */
#ifndef SM_SMS_GATEWAY_H
#define SM_SMS_GATEWAY_H

#include "config.h"
#include "err.h"

enum gw_result {
	GW_SENT = 0,		/* the provider took it */
	GW_RETRY = 1,		/* down, overloaded, timed out: try later */
	GW_REJECTED = 2,	/* refused for good (bad number, bad request) */
};

struct gateway;

int gateway_open(struct gateway **out, const struct config *cf,
    struct sm_err *err);
void gateway_free(struct gateway *gw);

/* reason gets a short key=value-safe text such as "http=503". */
enum gw_result gateway_send(struct gateway *gw, long long id,
    const char *phone, const char *text, char *reason, size_t cap);

#endif
