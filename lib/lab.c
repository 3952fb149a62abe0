/* lab.c - finding the lab a message belongs to.
 * One query per message fetches every candidate row (the exact SASL login,
 * sender address and domain, plus all network rows, which need CIDR
 * arithmetic the database cannot do portably); the strongest match wins.
 * Never guesses: a malformed network row is skipped and logged by the caller
 * through the error, never treated as a match. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db.h"
#include "lab.h"

static const char *const via_names[] = { "sasl", "network", "address", "domain" };

const char *
lab_via_name(enum lab_via via)
{
	if ((size_t)via >= sizeof(via_names) / sizeof(via_names[0]))
		return "unknown";
	return via_names[via];
}

/* Parses addr into 16 bytes; IPv4 and IPv4-mapped IPv6 become v4 (family 4). */
static int
parse_addr(const char *s, unsigned char out[16], int *family)
{
	struct in6_addr a6;
	struct in_addr a4;
	static const unsigned char mapped[12] =
	    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, &a4) == 1) {
		memcpy(out, &a4, 4);
		*family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		if (memcmp(a6.s6_addr, mapped, sizeof(mapped)) == 0) {
			memcpy(out, a6.s6_addr + 12, 4);
			*family = 4;
		} else {
			memcpy(out, a6.s6_addr, 16);
			*family = 6;
		}
		return 0;
	}
	return -1;
}

int
lab_cidr_match(const char *cidr, const char *addr, int *prefix)
{
	unsigned char net[16], a[16];
	char host[64];
	const char *slash;
	size_t hlen;
	int nfam, afam, bits, max, i;

	if (cidr == NULL || addr == NULL)
		return -1;
	slash = strchr(cidr, '/');
	hlen = slash ? (size_t)(slash - cidr) : strlen(cidr);
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, cidr, hlen);
	host[hlen] = '\0';
	if (parse_addr(host, net, &nfam) == -1)
		return -1;
	max = nfam == 4 ? 32 : 128;
	bits = max;
	if (slash != NULL) {
		char *end;
		long v;

		errno = 0;
		v = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || errno != 0 ||
		    v < 0 || v > max)
			return -1;
		/* "::ffff:10.0.0.0/104" style mapped prefixes are not
		 * accepted: write the IPv4 network instead. */
		if (nfam == 4 && strchr(host, ':') != NULL)
			return -1;
		bits = (int)v;
	}
	if (prefix != NULL)
		*prefix = bits;
	if (addr[0] == '\0' || parse_addr(addr, a, &afam) == -1 || afam != nfam)
		return 0;
	for (i = 0; i < bits / 8; i++)
		if (a[i] != net[i])
			return 0;
	if (bits % 8) {
		unsigned char mask = (unsigned char)(0xff << (8 - bits % 8));

		if ((a[i] & mask) != (net[i] & mask))
			return 0;
	}
	return 1;
}

static int
via_parse(const char *kind, enum lab_via *via)
{
	size_t i;

	for (i = 0; i < sizeof(via_names) / sizeof(via_names[0]); i++) {
		if (strcmp(kind, via_names[i]) == 0) {
			*via = (enum lab_via)i;
			return 0;
		}
	}
	return -1;
}

int
lab_match(struct db *db, const struct lab_who *who, struct lab *out,
    struct sm_err *err)
{
	/* address and domain compare under the column's case-insensitive
	 * collation, as mail domains and (in practice) local parts do. */
	static const char sql[] = "SELECT s.kind, s.value, l.id, l.name,"
	    " l.display_name, l.notice_subject, l.template_set, l.contact,"
	    " l.logo_url, l.colour, l.default_expiry_days,"
	    " l.default_verification, l.sms_notice"
	    " FROM lab_senders s JOIN labs l ON l.id = s.lab_id"
	    " WHERE (s.kind = 'sasl' AND s.value = ?)"
	    " OR (s.kind = 'address' AND s.value = ?)"
	    " OR (s.kind = 'domain' AND s.value = ?)"
	    " OR s.kind = 'network'";
	struct lab *row = NULL;
	char kind[16], value[LAB_VALUE_MAX + 1], verif[16], smsn[16];
	long long expiry = 0;
	struct db_val args[3];
	struct db_col cols[13];
	const char *domain = NULL;
	int found = 0, best_prefix = -1, r, ret = -1;

	row = calloc(1, sizeof(*row));
	if (row == NULL) {
		sm_err_set(err, "out of memory");
		return -1;
	}
	if (who->sender != NULL && who->sender[0] != '\0') {
		domain = strrchr(who->sender, '@');
		domain = (domain != NULL && domain[1] != '\0') ? domain + 1 : NULL;
	}
	args[0] = (who->sasl_login && who->sasl_login[0]) ? DB_S(who->sasl_login) : DB_NUL;
	args[1] = (who->sender && who->sender[0]) ? DB_S(who->sender) : DB_NUL;
	args[2] = domain ? DB_S(domain) : DB_NUL;
	cols[0] = DB_COL_S(kind, sizeof(kind));
	cols[1] = DB_COL_S(value, sizeof(value));
	cols[2] = DB_COL_I(&row->id);
	cols[3] = DB_COL_S(row->name, sizeof(row->name));
	cols[4] = DB_COL_S(row->display_name, sizeof(row->display_name));
	cols[5] = DB_COL_S(row->notice_subject, sizeof(row->notice_subject));
	cols[6] = DB_COL_S(row->template_set, sizeof(row->template_set));
	cols[7] = DB_COL_S(row->contact, sizeof(row->contact));
	cols[8] = DB_COL_S(row->logo_url, sizeof(row->logo_url));
	cols[9] = DB_COL_S(row->colour, sizeof(row->colour));
	cols[10] = DB_COL_I(&expiry);
	cols[11] = DB_COL_S(verif, sizeof(verif));
	cols[12] = DB_COL_S(smsn, sizeof(smsn));
	if (db_query(db, sql, args, 3, cols, 13, err) == -1)
		goto out;
	while ((r = db_fetch(db, err)) == 1) {
		enum lab_via via;
		int prefix = 0;

		if (via_parse(kind, &via) == -1)
			continue;
		if (via == LAB_VIA_NETWORK &&
		    lab_cidr_match(value, who->client_addr, &prefix) != 1)
			continue;
		/* Stronger kind wins; among networks the longest prefix;
		 * the unique (kind, value) key makes other ties impossible. */
		if (found && (via > out->via || (via == out->via &&
		    (via != LAB_VIA_NETWORK || prefix <= best_prefix))))
			continue;
		memcpy(out, row, sizeof(*out));
		out->via = via;
		out->default_expiry_days = (int)expiry;
		out->require_verification = strcmp(verif, "registered") != 0;
		out->sms_with_email = strcmp(smsn, "sms+email") == 0;
		best_prefix = prefix;
		found = 1;
	}
	db_query_end(db);
	if (r == -1)
		goto out;
	ret = found;
out:
	free(row);
	return ret;
}
