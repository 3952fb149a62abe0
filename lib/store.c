/* store.c - the escrow: messages sealed chunk by chunk into MariaDB.
 * A message being written holds one plaintext and one ciphertext chunk,
 * whatever its size.  Nothing of a message is visible before store_commit,
 * and a failure anywhere rolls everything back and wipes the data key.
 * Reading checks the signature first and authenticates each chunk before
 * a byte of it is returned. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "event.h"
#include "store.h"

#define STORE_DELIVERIES_MAX 100000
#define STORE_BUF_FIRST (64 * 1024)	/* holds a typical result whole */
#define STORE_PROBE_TRIES 10		/* commit outcome lookups, 1 s apart */

struct delivery {
	char *address;
	enum verif_kind kind;
	char *question;
	char *answer_hash;
	long long recipient_id;
	char *notified;
	unsigned char token_hash[SM_HASH_BYTES];
	long long id;
};

struct store_msg {
	struct db *db;
	const struct keyring *kr;
	unsigned char id[SM_ID_BYTES];
	char idhex[SM_ID_HEX];
	unsigned char *key;		/* sodium_malloc'd */
	long long lab_id;
	char *sender;
	char *reference;
	time_t created;
	time_t expires;
	size_t chunk_size;
	struct store_buf own;		/* used when the caller lends none */
	struct store_buf *b;		/* at most one chunk, grown on demand */
	size_t ptlen;			/* plaintext bytes in b->pt */
	uint64_t nchunks;		/* chunks written so far */
	uint64_t size;
	struct taghash th;
	int in_tx;
	int committed;
	struct delivery *dl;
	size_t ndl, capdl;
};

static const char *const kind_names[] = { "question", "password", "registered", "pin" };

const char *
verif_kind_name(enum verif_kind k)
{
	if ((size_t)k >= sizeof(kind_names) / sizeof(kind_names[0]))
		return "question";
	return kind_names[k];
}

int
verif_kind_parse(const char *s, enum verif_kind *k)
{
	size_t i;

	for (i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (strcmp(s, kind_names[i]) == 0) {
			*k = (enum verif_kind)i;
			return 0;
		}
	}
	return -1;
}

static char *
dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int
store_begin(struct store_msg **out, struct db *db, const struct keyring *kr,
    const struct store_meta *meta, struct sm_err *err)
{
	struct store_msg *m;

	if (meta->chunk_size < 4096 || meta->chunk_size > 8 * 1024 * 1024) {
		sm_err_set(err, "chunk size out of range");
		return -1;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		goto oom;
	m->db = db;
	m->kr = kr;
	m->lab_id = meta->lab_id;
	/* The same clock reading as expires, so "7d" is exactly 7 days. */
	m->created = meta->created != 0 ? meta->created : time(NULL);
	m->expires = meta->expires;
	m->chunk_size = meta->chunk_size;
	m->sender = strdup(meta->sender ? meta->sender : "");
	m->reference = dup_or_null(meta->reference);
	m->b = meta->buf != NULL ? meta->buf : &m->own;
	if (m->b->key == NULL)
		m->b->key = sodium_malloc(SM_KEY_BYTES);
	m->key = m->b->key;
	if (m->sender == NULL || (meta->reference && m->reference == NULL) ||
	    m->key == NULL)
		goto oom;
	msgid_new(m->id);
	msgid_hex(m->id, m->idhex);
	datakey_new(m->key);
	taghash_init(&m->th);
	*out = m;
	return 0;
oom:
	store_free(m);
	sm_err_set(err, "out of memory");
	return -1;
}

void
store_buf_free(struct store_buf *b)
{
	if (b == NULL)
		return;
	if (b->key != NULL)
		sodium_free(b->key);	/* wipes */
	if (b->pt != NULL)
		sodium_free(b->pt);
	free(b->ct);
	b->key = NULL;
	b->pt = NULL;
	b->ct = NULL;
	b->cap = 0;
}

/* Makes room for need plaintext bytes (need <= chunk size), doubling from
 * STORE_BUF_FIRST, so a 50 KB message never maps, fills and wipes 1 MiB. */
static int
buf_reserve(struct store_msg *m, size_t need, struct sm_err *err)
{
	struct store_buf *b = m->b;
	unsigned char *pt, *ct;
	size_t cap = b->cap ? b->cap : STORE_BUF_FIRST;

	if (need <= b->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > m->chunk_size)
		cap = m->chunk_size;
	pt = sodium_malloc(cap);
	ct = malloc(cap + SM_TAG_BYTES);
	if (pt == NULL || ct == NULL) {
		if (pt != NULL)
			sodium_free(pt);
		free(ct);
		sm_err_set(err, "out of memory");
		return -1;
	}
	if (m->ptlen > 0)
		memcpy(pt, b->pt, m->ptlen);
	if (b->pt != NULL)
		sodium_free(b->pt);	/* wipes */
	free(b->ct);
	b->pt = pt;
	b->ct = ct;
	b->cap = cap;
	return 0;
}

/* Encrypts the plaintext chunk and inserts it inside the transaction. */
static int
flush_chunk(struct store_msg *m, int final, struct sm_err *err)
{
	static const char sql[] = "INSERT INTO message_chunks"
	    " (message_id, idx, tag, data) VALUES (?, ?, ?, ?)";
	struct db_val args[4];
	size_t ctlen = m->ptlen + SM_TAG_BYTES;
	const unsigned char *tag;

	if (m->nchunks >= UINT32_MAX) {
		sm_err_set(err, "message too large");
		return -1;
	}
	/* An empty message still has one (empty) final chunk. */
	if (buf_reserve(m, 1, err) == -1)
		return -1;
	tag = m->b->ct + m->ptlen;
	if (chunk_seal(m->key, m->id, m->nchunks, final, m->b->pt, m->ptlen,
	    m->b->ct) == -1) {
		sm_err_set(err, "chunk encryption failed");
		return -1;
	}
	taghash_add(&m->th, tag);
	if (!m->in_tx) {
		if (db_begin(m->db, err) == -1)
			return -1;
		m->in_tx = 1;
	}
	args[0] = DB_S(m->idhex);
	args[1] = DB_I(m->nchunks);
	args[2] = DB_B(tag, SM_TAG_BYTES);
	args[3] = DB_B(m->b->ct, ctlen);
	if (db_exec(m->db, sql, args, 4, NULL, NULL, err) == -1)
		return -1;
	sodium_memzero(m->b->pt, m->ptlen);
	m->ptlen = 0;
	m->nchunks++;
	return 0;
}

int
store_append(struct store_msg *m, const void *p, size_t n, struct sm_err *err)
{
	const unsigned char *s = p;

	if (m->committed) {
		sm_err_set(err, "message already committed");
		return -1;
	}
	while (n > 0) {
		size_t take;

		/* A full chunk is written only once more bytes arrive: only
		 * then is it known not to be the final one. */
		if (m->ptlen == m->chunk_size && flush_chunk(m, 0, err) == -1)
			return -1;
		take = m->chunk_size - m->ptlen;
		if (take > n)
			take = n;
		if (buf_reserve(m, m->ptlen + take, err) == -1)
			return -1;
		memcpy(m->b->pt + m->ptlen, s, take);
		m->ptlen += take;
		m->size += take;
		s += take;
		n -= take;
	}
	return 0;
}

int
store_add_delivery(struct store_msg *m, const struct store_delivery *d,
    char token[SM_TOKEN_TEXT], struct sm_err *err)
{
	struct delivery *x;

	if (d->address == NULL || d->address[0] == '\0' ||
	    strlen(d->address) > SM_ADDRESS_MAX) {
		sm_err_set(err, "recipient address empty or too long");
		return -1;
	}
	if (d->question != NULL && strlen(d->question) > SM_QUESTION_BYTES) {
		sm_err_set(err, "question too long");
		return -1;
	}
	if (m->ndl == m->capdl) {
		size_t ncap = m->capdl ? m->capdl * 2 : 4;
		struct delivery *nd;

		if (ncap > STORE_DELIVERIES_MAX) {
			sm_err_set(err, "too many recipients");
			return -1;
		}
		nd = realloc(m->dl, ncap * sizeof(*nd));
		if (nd == NULL) {
			sm_err_set(err, "out of memory");
			return -1;
		}
		m->dl = nd;
		m->capdl = ncap;
	}
	x = &m->dl[m->ndl];
	memset(x, 0, sizeof(*x));
	x->address = strdup(d->address);
	x->question = dup_or_null(d->question);
	x->answer_hash = dup_or_null(d->answer_hash);
	x->notified = dup_or_null(d->notified);
	if (x->address == NULL || (d->question && x->question == NULL) ||
	    (d->answer_hash && x->answer_hash == NULL) ||
	    (d->notified && x->notified == NULL)) {
		free(x->address);
		free(x->question);
		free(x->answer_hash);
		free(x->notified);
		sm_err_set(err, "out of memory");
		return -1;
	}
	x->kind = d->kind;
	x->recipient_id = d->recipient_id;
	token_new(token, x->token_hash);
	m->ndl++;
	return 0;
}

/* The connection dropped while COMMIT was on its way: the server may have
 * committed.  A locking read of the message row waits for a transaction
 * still in flight on the server, then sees its outcome.  1 committed,
 * 0 not, -1 still unknown (the database stays unreachable). */
static int
commit_outcome(struct store_msg *m, struct sm_err *err)
{
	static const char sql[] = "SELECT id FROM messages WHERE id = ?"
	    " LOCK IN SHARE MODE";
	struct db_val arg = DB_S(m->idhex);
	char id[SM_ID_HEX];
	struct db_col c = DB_COL_S(id, sizeof(id));
	int i, rc = -1;

	for (i = 0; i < STORE_PROBE_TRIES && rc == -1; i++) {
		if (i > 0)
			sleep(1);
		rc = db_query_row(m->db, sql, &arg, 1, &c, 1, err);
	}
	return rc;
}

/* One `notified` event per delivery the caller asked for. */
static int
record_notified(struct store_msg *m, const char *client_addr,
    struct sm_err *err)
{
	struct event ev;
	size_t i;

	for (i = 0; i < m->ndl; i++) {
		if (m->dl[i].notified == NULL)
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.kind = "notified";
		ev.lab_id = m->lab_id;
		ev.message_id = m->idhex;
		ev.delivery_id = m->dl[i].id;
		ev.client_addr = client_addr;
		ev.detail = m->dl[i].notified;
		if (event_record(m->db, &ev, err) == -1)
			return -1;
	}
	return 0;
}

int
store_commit(struct store_msg *m, const char *client_addr, struct sm_err *err)
{
	static const char msg_sql[] = "INSERT INTO messages (id, lab_id, sender,"
	    " reference, created, expires, size, chunk_size, nchunks,"
	    " key_version, sealed_key, signature)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	static const char dl_sql[] = "INSERT INTO deliveries (message_id,"
	    " address, token_hash, kind, question, answer_hash, recipient_id)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)";
	unsigned char sealed[SM_SEALED_KEY_BYTES], sig[SM_SIG_BYTES];
	struct sig_meta meta;
	struct db_val a[12];
	struct event ev;
	char detail[64];
	size_t i;
	int ret = -1;

	if (m->committed) {
		sm_err_set(err, "message already committed");
		return -1;
	}
	if (m->ndl == 0) {
		sm_err_set(err, "message has no recipients");
		goto fail;
	}
	if (flush_chunk(m, 1, err) == -1)
		goto fail;
	memset(&meta, 0, sizeof(meta));
	memcpy(meta.id, m->id, SM_ID_BYTES);
	meta.lab_id = (uint64_t)m->lab_id;
	meta.created = (int64_t)m->created;
	meta.size = m->size;
	meta.nchunks = m->nchunks;
	meta.chunk_size = (uint32_t)m->chunk_size;
	taghash_final(&m->th, meta.taghash);
	if (datakey_seal(m->kr, m->id, m->key, sealed) == -1 ||
	    msg_sign(m->kr, &meta, sig) == -1) {
		sm_err_set(err, "cannot seal the data key or sign the message");
		goto fail;
	}
	a[0] = DB_S(m->idhex);
	a[1] = DB_I(m->lab_id);
	a[2] = DB_S(m->sender);
	a[3] = DB_SNUL(m->reference);
	a[4] = DB_I(m->created);
	a[5] = DB_I(m->expires);
	a[6] = DB_I(m->size);
	a[7] = DB_I(m->chunk_size);
	a[8] = DB_I(m->nchunks);
	a[9] = DB_I(keyring_escrow_version(m->kr));
	a[10] = DB_B(sealed, sizeof(sealed));
	a[11] = DB_B(sig, sizeof(sig));
	if (db_exec(m->db, msg_sql, a, 12, NULL, NULL, err) == -1)
		goto fail;
	for (i = 0; i < m->ndl; i++) {
		struct delivery *d = &m->dl[i];
		unsigned long long id;

		a[0] = DB_S(m->idhex);
		a[1] = DB_S(d->address);
		a[2] = DB_B(d->token_hash, SM_HASH_BYTES);
		a[3] = DB_S(verif_kind_name(d->kind));
		a[4] = DB_SNUL(d->question);
		a[5] = DB_SNUL(d->answer_hash);
		a[6] = d->recipient_id > 0 ? DB_I(d->recipient_id) : DB_NUL;
		if (db_exec(m->db, dl_sql, a, 7, NULL, &id, err) == -1)
			goto fail;
		d->id = (long long)id;
	}
	snprintf(detail, sizeof(detail), "size=%llu rcpts=%zu",
	    (unsigned long long)m->size, m->ndl);
	memset(&ev, 0, sizeof(ev));
	ev.kind = "sealed";
	ev.lab_id = m->lab_id;
	ev.message_id = m->idhex;
	ev.client_addr = client_addr;
	ev.detail = detail;
	if (event_record(m->db, &ev, err) == -1 ||
	    record_notified(m, client_addr, err) == -1)
		goto fail;
	m->in_tx = 0;
	if (db_commit(m->db, err) == -1) {
		struct sm_err perr;
		int r;

		/* An error the server sent means it did not commit. */
		if (!db_conn_lost(m->db))
			goto fail;
		r = commit_outcome(m, &perr);
		if (r == 0) {
			sm_err_set(err, "connection lost during commit;"
			    " the message was not stored");
			goto fail;
		}
		if (r == -1) {
			sm_err_set(err, "connection lost during commit and"
			    " the outcome cannot be learned: %s", perr.msg);
			ret = STORE_COMMIT_UNKNOWN;
			goto fail;
		}
		/* Committed after all: reporting a failure now would have
		 * the MTA seal and notify a second time. */
	}
	m->committed = 1;
	sodium_memzero(m->key, SM_KEY_BYTES);
	return 0;
fail:
	if (m->in_tx)
		db_rollback(m->db);
	m->in_tx = 0;
	sodium_memzero(m->key, SM_KEY_BYTES);
	m->committed = -1;	/* unusable: the key is gone */
	return ret;
}

void
store_free(struct store_msg *m)
{
	size_t i;

	if (m == NULL)
		return;
	if (m->in_tx)
		db_rollback(m->db);
	/* A lent buffer outlives the message: wipe what it holds of it. */
	if (m->key != NULL)
		sodium_memzero(m->key, SM_KEY_BYTES);
	if (m->b != NULL && m->b->pt != NULL && m->ptlen > 0)
		sodium_memzero(m->b->pt, m->ptlen);
	store_buf_free(&m->own);
	for (i = 0; i < m->ndl; i++) {
		free(m->dl[i].address);
		free(m->dl[i].question);
		free(m->dl[i].answer_hash);
		free(m->dl[i].notified);
	}
	free(m->dl);
	free(m->sender);
	free(m->reference);
	free(m);
}

const char *
store_msg_id(const struct store_msg *m)
{
	return m->idhex;
}

uint64_t
store_msg_size(const struct store_msg *m)
{
	return m->size;
}

size_t
store_msg_ndeliveries(const struct store_msg *m)
{
	return m->ndl;
}

long long
store_msg_delivery_id(const struct store_msg *m, size_t i)
{
	return i < m->ndl ? m->dl[i].id : 0;
}

int
store_find_link(struct db *db, const char *token, size_t len,
    struct store_link *out, struct sm_err *err)
{
	static const char sql[] = "SELECT d.id, d.message_id, m.lab_id,"
	    " d.address, d.kind, COALESCE(d.question, r.question, ''),"
	    " COALESCE(d.answer_hash, r.answer_hash, p.answer_hash, ''),"
	    " d.failed_attempts, COALESCE(d.locked_until, 0), m.expires,"
	    " COALESCE(d.retracted, m.retracted, 0), m.purged IS NOT NULL,"
	    " COALESCE(r.id, p.id, 0)"
	    " FROM deliveries d JOIN messages m ON m.id = d.message_id"
	    " LEFT JOIN recipients r ON r.id = d.recipient_id"
	    /* A PIN or password the patient set through another message
	     * (pin.c, register.c) is theirs for
	     * every message to the same address from the same lab (one
	     * lookup on the unique key). */
	    " LEFT JOIN recipients p ON d.recipient_id IS NULL"
	    " AND d.kind IN ('pin', 'registered') AND p.lab_id = m.lab_id"
	    " AND p.address = d.address AND p.kind = d.kind"
	    " WHERE d.token_hash = ?";
	unsigned char hash[SM_HASH_BYTES];
	char kind[16];
	long long failed, purged;
	struct db_val arg;
	struct db_col c[13];
	int rc;

	memset(out, 0, sizeof(*out));
	if (token_hash(token, len, hash) == -1)
		return 0;
	arg = DB_B(hash, sizeof(hash));
	c[0] = DB_COL_I(&out->delivery_id);
	c[1] = DB_COL_S(out->message_id, sizeof(out->message_id));
	c[2] = DB_COL_I(&out->lab_id);
	c[3] = DB_COL_S(out->address, sizeof(out->address));
	c[4] = DB_COL_S(kind, sizeof(kind));
	c[5] = DB_COL_S(out->question, sizeof(out->question));
	c[6] = DB_COL_S(out->answer_hash, sizeof(out->answer_hash));
	c[7] = DB_COL_I(&failed);
	c[8] = DB_COL_I(&out->locked_until);
	c[9] = DB_COL_I(&out->expires);
	c[10] = DB_COL_I(&out->retracted);
	c[11] = DB_COL_I(&purged);
	c[12] = DB_COL_I(&out->recipient_id);
	rc = db_query_row(db, sql, &arg, 1, c, 13, err);
	if (rc != 1)
		return rc;
	if (verif_kind_parse(kind, &out->kind) == -1) {
		sm_err_set(err, "delivery %lld has an unknown kind", out->delivery_id);
		return -1;
	}
	out->failed_attempts = (int)failed;
	out->purged = purged != 0;
	return 1;
}

struct store_reader {
	struct db *db;
	unsigned char id[SM_ID_BYTES];
	char idhex[SM_ID_HEX];
	unsigned char *key;
	uint64_t size;
	uint64_t nchunks;
	size_t chunk_size;
	size_t bufsize;			/* the largest chunk of this message */
	unsigned char *tags;		/* nchunks * SM_TAG_BYTES, signed */
	unsigned char *ct;
	unsigned char *pt;
	uint64_t loaded;		/* index of the chunk in pt, or UINT64_MAX */
	size_t ptlen;
	uint64_t pos;
};

/* Reads every chunk tag in order: the list the signature covers. */
static int
load_tags(struct store_reader *r, struct taghash *th, struct sm_err *err)
{
	static const char sql[] = "SELECT idx, tag FROM message_chunks"
	    " WHERE message_id = ? ORDER BY idx";
	struct db_val arg = DB_S(r->idhex);
	unsigned char tag[SM_TAG_BYTES];
	long long idx;
	struct db_col c[2];
	uint64_t seen = 0;
	int rc;

	c[0] = DB_COL_I(&idx);
	c[1] = DB_COL_B(tag, sizeof(tag));
	if (db_query(r->db, sql, &arg, 1, c, 2, err) == -1)
		return -1;
	while ((rc = db_fetch(r->db, err)) == 1) {
		if (seen >= r->nchunks || idx < 0 || (uint64_t)idx != seen ||
		    c[1].len != SM_TAG_BYTES) {
			sm_err_set(err, "message %s: chunk list does not match"
			    " (missing, extra or reordered chunks)", r->idhex);
			rc = -1;
			break;
		}
		memcpy(r->tags + seen * SM_TAG_BYTES, tag, SM_TAG_BYTES);
		taghash_add(th, tag);
		seen++;
	}
	db_query_end(r->db);
	if (rc == 0 && seen != r->nchunks) {
		sm_err_set(err, "message %s: %llu of %llu chunks present",
		    r->idhex, (unsigned long long)seen,
		    (unsigned long long)r->nchunks);
		rc = -1;
	}
	return rc;
}

int
store_reader_open(struct store_reader **out, struct db *db,
    const struct keyring *kr, const char *message_id, struct sm_err *err)
{
	static const char sql[] = "SELECT lab_id, created, size, chunk_size,"
	    " nchunks, key_version, sealed_key, signature, purged IS NOT NULL"
	    " FROM messages WHERE id = ?";
	unsigned char sealed[SM_SEALED_KEY_BYTES], sig[SM_SIG_BYTES];
	long long lab, created, size, csize, nchunks, version, purged;
	struct store_reader *r = NULL;
	struct sig_meta meta;
	struct taghash th;
	struct db_val arg;
	struct db_col c[9];
	int rc;

	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		sm_err_set(err, "out of memory");
		return -1;
	}
	r->db = db;
	r->loaded = UINT64_MAX;
	if (msgid_parse(message_id, r->id) == -1) {
		sm_err_set(err, "malformed message id");
		goto fail;
	}
	msgid_hex(r->id, r->idhex);
	arg = DB_S(r->idhex);
	c[0] = DB_COL_I(&lab);
	c[1] = DB_COL_I(&created);
	c[2] = DB_COL_I(&size);
	c[3] = DB_COL_I(&csize);
	c[4] = DB_COL_I(&nchunks);
	c[5] = DB_COL_I(&version);
	c[6] = DB_COL_B(sealed, sizeof(sealed));
	c[7] = DB_COL_B(sig, sizeof(sig));
	c[8] = DB_COL_I(&purged);
	rc = db_query_row(db, sql, &arg, 1, c, 9, err);
	if (rc == 0)
		sm_err_set(err, "message %s not found", r->idhex);
	if (rc != 1)
		goto fail;
	if (purged || c[6].is_null) {
		sm_err_set(err, "message %s was purged", r->idhex);
		goto fail;
	}
	if (c[6].len != SM_SEALED_KEY_BYTES || c[7].len != SM_SIG_BYTES ||
	    csize < 4096 || csize > 8 * 1024 * 1024 || nchunks < 1 || size < 0 ||
	    (uint64_t)size > (uint64_t)nchunks * (uint64_t)csize ||
	    (uint64_t)size < (uint64_t)(nchunks - 1) * (uint64_t)csize ||
	    nchunks > 1000000) {
		sm_err_set(err, "message %s: stored metadata is inconsistent", r->idhex);
		goto fail;
	}
	r->size = (uint64_t)size;
	r->nchunks = (uint64_t)nchunks;
	r->chunk_size = (size_t)csize;
	/* Most results are far smaller than a chunk: buffers the size of the
	 * message save the portal a megabyte of page faults and wiping on
	 * every view. */
	r->bufsize = r->nchunks > 1 ? r->chunk_size : (size_t)r->size + 1;
	r->tags = malloc(r->nchunks * SM_TAG_BYTES);
	r->ct = malloc(r->bufsize + SM_TAG_BYTES);
	r->pt = sodium_malloc(r->bufsize);
	r->key = sodium_malloc(SM_KEY_BYTES);
	if (r->tags == NULL || r->ct == NULL || r->pt == NULL || r->key == NULL) {
		sm_err_set(err, "out of memory");
		goto fail;
	}
	taghash_init(&th);
	if (load_tags(r, &th, err) == -1)
		goto fail;
	memset(&meta, 0, sizeof(meta));
	memcpy(meta.id, r->id, SM_ID_BYTES);
	meta.lab_id = (uint64_t)lab;
	meta.created = created;
	meta.size = r->size;
	meta.nchunks = r->nchunks;
	meta.chunk_size = (uint32_t)r->chunk_size;
	taghash_final(&th, meta.taghash);
	if (msg_verify(kr, &meta, sig, err) == -1)
		goto fail;
	if (datakey_open(kr, (int)version, r->id, sealed, r->key, err) == -1)
		goto fail;
	*out = r;
	return 0;
fail:
	store_reader_free(r);
	return -1;
}

uint64_t
store_reader_size(const struct store_reader *r)
{
	return r->size;
}

int
store_reader_seek(struct store_reader *r, uint64_t off, struct sm_err *err)
{
	if (off > r->size) {
		sm_err_set(err, "offset beyond the end of the message");
		return -1;
	}
	r->pos = off;
	return 0;
}

static int
load_chunk(struct store_reader *r, uint64_t idx, struct sm_err *err)
{
	static const char sql[] = "SELECT data FROM message_chunks"
	    " WHERE message_id = ? AND idx = ?";
	struct db_val args[2];
	struct db_col c;
	size_t want;
	int final = idx + 1 == r->nchunks, rc;

	want = final ? (size_t)(r->size - idx * r->chunk_size) : r->chunk_size;
	args[0] = DB_S(r->idhex);
	args[1] = DB_I(idx);
	c = DB_COL_B(r->ct, r->bufsize + SM_TAG_BYTES);
	rc = db_query_row(r->db, sql, args, 2, &c, 1, err);
	if (rc == 0)
		sm_err_set(err, "message %s: chunk %llu missing", r->idhex,
		    (unsigned long long)idx);
	if (rc != 1)
		return -1;
	if (c.len != want + SM_TAG_BYTES ||
	    sodium_memcmp(r->ct + want, r->tags + idx * SM_TAG_BYTES,
	    SM_TAG_BYTES) != 0) {
		sm_err_set(err, "message %s: chunk %llu does not match its"
		    " signed tag", r->idhex, (unsigned long long)idx);
		return -1;
	}
	if (chunk_open(r->key, r->id, idx, final, r->ct, c.len, r->pt, err) == -1)
		return -1;
	r->loaded = idx;
	r->ptlen = want;
	return 0;
}

int
store_reader_read(struct store_reader *r, void *buf, size_t cap, size_t *got,
    struct sm_err *err)
{
	uint64_t idx;
	size_t off, n;

	*got = 0;
	if (r->pos >= r->size || cap == 0)
		return 0;
	idx = r->pos / r->chunk_size;
	if (r->loaded != idx && load_chunk(r, idx, err) == -1)
		return -1;
	off = (size_t)(r->pos - idx * r->chunk_size);
	n = r->ptlen - off;
	if (n > cap)
		n = cap;
	memcpy(buf, r->pt + off, n);
	r->pos += n;
	*got = n;
	return 0;
}

void
store_reader_free(struct store_reader *r)
{
	if (r == NULL)
		return;
	if (r->key != NULL)
		sodium_free(r->key);
	if (r->pt != NULL)
		sodium_free(r->pt);
	free(r->ct);
	free(r->tags);
	free(r);
}
