/* recipient_import.h - a lab's recipients from CSV, checked, hashed and
 * written in one transaction.  One code path for sealmailctl, the admin
 * upload and PUT /api/v1/recipients: feed the bytes as they arrive, then
 * finish, read the errors, hash, write.  Answers are hashed here and
 * wiped; they never reach an error text or a log.
 *
 * Format: UTF-8 (a BOM is skipped), RFC 4180 quoting, a header row naming
 * the columns in any order: address, kind, question, answer (required),
 * recovery_email, phone (optional).  kind is question, password,
 * registered or pin. */
#ifndef SM_RECIPIENT_IMPORT_H
#define SM_RECIPIENT_IMPORT_H

#include <stddef.h>

#include "answer.h"
#include "err.h"

struct db;
struct keyring;

#define RIMPORT_FIELD_MAX 4096		/* bytes in one field */
#define RIMPORT_ROWS_MAX 1000000
#define RIMPORT_ERRORS_MAX 1000		/* reported; more are counted */

struct rimport;

/* threads: hashing threads, 0 = one per CPU. */
int rimport_new(struct rimport **out, unsigned threads, struct sm_err *err);
void rimport_free(struct rimport *ri);

/* Feeds n bytes of CSV.  -1 only when reading must stop (a field over
 * RIMPORT_FIELD_MAX, too many rows, malformed quoting in strict mode);
 * the reason is also in the error list.  Bad rows are collected, not
 * fatal. */
int rimport_feed(struct rimport *ri, const void *p, size_t n);
/* Instead of CSV (never both): one record, e.g. from the API's JSON,
 * checked exactly like a CSV row; NULL fields are empty.  n numbers it in
 * errors ("record n: ...").  -1 only when reading must stop. */
struct rimport_record {
	const char *address;
	const char *kind;
	const char *question;
	const char *answer;
	const char *recovery_email;
	const char *phone;
};
int rimport_add(struct rimport *ri, unsigned n, const struct rimport_record *rec);

/* Ends the input (an unbalanced quote at the end is found here). */
int rimport_finish(struct rimport *ri);

size_t rimport_rows(const struct rimport *ri);
/* Number of errors found (may exceed what is kept); each kept one reads
 * "line N: reason". */
size_t rimport_nerrors(const struct rimport *ri);
size_t rimport_nkept(const struct rimport *ri);
const char *rimport_error(const struct rimport *ri, size_t i);

/* Hashes every answer with Argon2id in parallel; progress (may be NULL)
 * is called from this thread about every 200 ms and once at the end. */
int rimport_hash(struct rimport *ri, const struct keyring *kr,
    const struct answer_cost *cost,
    void (*progress)(size_t done, size_t total, void *arg), void *arg,
    struct sm_err *err);

/* Upserts every row for the lab in one transaction; nothing is written
 * when any row failed.  inserted and updated may be NULL. */
int rimport_write(struct rimport *ri, struct db *db, long long lab_id,
    size_t *inserted, size_t *updated, struct sm_err *err);

/* Shared checks, also for single-record API calls. */
/* An email address (ASCII, one @, a dotted domain). */
int rimport_address_ok(const char *s, size_t n);
/* An E.164 number: + and 7 to 15 digits. */
int rimport_phone_ok(const char *s, size_t n);

#endif
