/* lab.h - which lab, if any, a message belongs to, and that lab's settings.
 * A lab owns mail through lab_senders rows: a SASL login, a client network,
 * a sender address or a sender domain.  Finding no lab is not an error: the
 * message simply is not sealed. */
#ifndef SM_LAB_H
#define SM_LAB_H

#include "err.h"

struct db;

/* Byte sizes: VARCHAR(n) in utf8mb4 holds up to 4n bytes. */
#define LAB_NAME_MAX 64
#define LAB_TEXT_MAX (200 * 4)
#define LAB_LONG_MAX (500 * 4)
#define LAB_VALUE_MAX (320 * 4)

/* How a lab was matched, strongest first.  SASL and network are facts the
 * MTA established (a verified login, the peer's address); sender address
 * and domain are what the client claims, so they only decide when no
 * established fact does. */
enum lab_via {
	LAB_VIA_SASL,
	LAB_VIA_NETWORK,
	LAB_VIA_ADDRESS,
	LAB_VIA_DOMAIN,
};

struct lab {
	long long id;
	char name[LAB_NAME_MAX + 1];
	char display_name[LAB_TEXT_MAX + 1];
	char notice_subject[LAB_TEXT_MAX + 1];
	char template_set[LAB_NAME_MAX + 1];
	char contact[LAB_LONG_MAX + 1];
	char logo_url[LAB_LONG_MAX + 1];
	char colour[8];
	int default_expiry_days;
	int require_verification;	/* default_verification = 'require' */
	int sms_with_email;		/* sms_notice = 'sms+email' */
	enum lab_via via;
};

/* What the MTA told us about the message; NULL or "" when unknown. */
struct lab_who {
	const char *sasl_login;		/* {auth_authen} */
	const char *client_addr;	/* numeric IPv4 or IPv6 */
	const char *sender;		/* envelope sender, no angle brackets */
};

/* 1 and *out filled when a lab owns the message, 0 when none does, -1 on a
 * database error (the caller must fail closed: it cannot know). */
int lab_match(struct db *db, const struct lab_who *who, struct lab *out,
    struct sm_err *err);

/* 1 when addr lies in cidr ("10.0.0.0/8", "2001:db8::/32", or a bare
 * address), 0 when not, -1 when cidr is malformed.  *prefix gets the
 * prefix length so the most specific network can win. */
int lab_cidr_match(const char *cidr, const char *addr, int *prefix);

const char *lab_via_name(enum lab_via via);

#endif
