/* store.h - the escrow: sealed messages in MariaDB.
 * Writing: store_begin, store_append (any piece size; encrypts one chunk at a
 * time, so memory is one chunk whatever the message size), store_add_delivery,
 * store_commit (one transaction) or store_free without commit (rollback, key
 * wiped).  Reading: store_find_delivery by token, then a store_reader that
 * checks the signature and decrypts chunk by chunk. */
#ifndef SM_STORE_H
#define SM_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "crypto.h"
#include "answer.h"
#include "err.h"

struct db;
struct keyring;

#define SM_ADDRESS_MAX 320
#define SM_QUESTION_MAX 500	/* characters */
#define SM_QUESTION_BYTES (SM_QUESTION_MAX * 4)	/* VARCHAR(500) utf8mb4 */
#define SM_REFERENCE_MAX 200

enum verif_kind {
	VERIF_QUESTION,		/* a question and the lab's answer */
	VERIF_PASSWORD,		/* a password the lab set */
	VERIF_REGISTERED,	/* the patient's own registered password */
	VERIF_PIN,		/* a PIN the patient sets (SMS notices) */
};

const char *verif_kind_name(enum verif_kind k);
int verif_kind_parse(const char *s, enum verif_kind *k);

/* Buffers a caller keeps across messages (the milter: a few for the whole
 * process), so a message neither maps, locks and unmaps its key's page nor
 * fills and wipes a whole chunk: the chunk buffers grow on demand up to the
 * chunk size, and only the bytes a message used are wiped when it ends.
 * One message at a time.  Zero-initialise; store_buf_free wipes and frees. */
struct store_buf {
	unsigned char *key;	/* the data key, sodium_malloc'd */
	unsigned char *pt;	/* plaintext, sodium_malloc'd */
	unsigned char *ct;	/* ciphertext and tag */
	size_t cap;		/* plaintext bytes pt holds */
};

void store_buf_free(struct store_buf *b);

struct store_meta {
	long long lab_id;
	const char *sender;	/* envelope sender, "" for <> */
	const char *reference;	/* lab's own non-PHI id, or NULL */
	time_t expires;
	size_t chunk_size;
	time_t created;		/* the time expires was computed from; 0: now */
	struct store_buf *buf;	/* reused buffers, or NULL for the message's own */
};

struct store_delivery {
	const char *address;
	enum verif_kind kind;
	const char *question;	 /* VERIF_QUESTION, else NULL */
	const char *answer_hash; /* set from headers, or NULL */
	long long recipient_id;	 /* recipients row the answer comes from, or 0 */
	/* The caller notifies this recipient right after the commit: the
	 * `notified` event (with this detail) goes into the commit's own
	 * transaction, so a message costs one log flush, not two.  NULL: none. */
	const char *notified;
};

struct store_msg;

int store_begin(struct store_msg **out, struct db *db,
    const struct keyring *kr, const struct store_meta *meta,
    struct sm_err *err);
int store_append(struct store_msg *m, const void *p, size_t n,
    struct sm_err *err);
/* Returns the new link token in token (only its hash is stored). */
int store_add_delivery(struct store_msg *m, const struct store_delivery *d,
    char token[SM_TOKEN_TEXT], struct sm_err *err);
/* Writes the last chunk, message row, deliveries and the `sealed` event (and
 * the `notified` ones, see store_delivery) in one transaction.  After a failure
 * nothing of the message remains.  When the connection drops during COMMIT
 * the outcome is looked up: 0 means committed, -1 means not, whatever the
 * error said; STORE_COMMIT_UNKNOWN when even that cannot be learned (treat
 * it as a failure: the MTA retries, so a message may be sealed twice but is
 * never lost). */
#define STORE_COMMIT_UNKNOWN (-2)
int store_commit(struct store_msg *m, const char *client_addr,
    struct sm_err *err);
/* Rolls back unless committed, wipes the data key, frees.  NULL is fine. */
void store_free(struct store_msg *m);

const char *store_msg_id(const struct store_msg *m);
uint64_t store_msg_size(const struct store_msg *m);
size_t store_msg_ndeliveries(const struct store_msg *m);
/* After commit: the database id of delivery i (in store_add_delivery order). */
long long store_msg_delivery_id(const struct store_msg *m, size_t i);

/* What the portal needs to know about a link before anyone verifies. */
struct store_link {
	long long delivery_id;
	char message_id[SM_ID_HEX];
	long long lab_id;
	char address[SM_ADDRESS_MAX + 1];
	enum verif_kind kind;
	char question[SM_QUESTION_BYTES + 1];
	char answer_hash[SM_ANSWER_HASH_TEXT];	/* delivery's or recipient's */
	int failed_attempts;
	long long locked_until;
	long long expires;
	long long retracted;	/* message or delivery, 0 if not */
	int purged;
	long long recipient_id;	/* recipients row the secret is in, or 0 */
};

/* 1 found, 0 no such token (also for malformed tokens), -1 error. */
int store_find_link(struct db *db, const char *token, size_t len,
    struct store_link *out, struct sm_err *err);

struct store_reader;

/* Loads the message, checks its signature over metadata and chunk tags and
 * opens its data key.  Needs KEY_ESCROW_SECRET and KEY_SIGN_PUBLIC. */
int store_reader_open(struct store_reader **out, struct db *db,
    const struct keyring *kr, const char *message_id, struct sm_err *err);
uint64_t store_reader_size(const struct store_reader *r);
/* Positions the next read at byte offset off (for HTTP Range). */
int store_reader_seek(struct store_reader *r, uint64_t off, struct sm_err *err);
/* Reads up to cap bytes; *got == 0 at the end.  Each chunk is authenticated
 * before any of its bytes are returned. */
int store_reader_read(struct store_reader *r, void *buf, size_t cap,
    size_t *got, struct sm_err *err);
void store_reader_free(struct store_reader *r);

#endif
