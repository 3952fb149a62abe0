/* recipient_import.c - CSV into the recipients table, all or nothing.
 * libcsv does the quoting; this file bounds what libcsv may buffer, keeps
 * line numbers, checks each row and hashes answers on several threads.
 * An answer lives only in wiped memory until its hash is made, and never
 * appears in an error. */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <csv.h>
#include <glib.h>
#include <sodium.h>

#include "db.h"
#include "recipient_import.h"
#include "store.h"

#define FIELDS_MAX 16
#define SEGMENT 4096		/* bytes handed to libcsv at a time */
#define ARENA_BLOCK (1 << 20)
#define THREADS_MAX 16

enum col { C_ADDRESS, C_KIND, C_QUESTION, C_ANSWER, C_RECOVERY, C_PHONE, C_N };

static const char *const col_names[C_N] = {
	"address", "kind", "question", "answer", "recovery_email", "phone",
};
static const int col_required[C_N] = { 1, 1, 1, 1, 0, 0 };

/* Strings of every row in big blocks, wiped when freed: answers are among
 * them, and realloc would leave copies behind. */
struct arena_block {
	struct arena_block *next;
	size_t used;
	char data[ARENA_BLOCK];
};

struct rrow {
	const char *address;
	const char *question;	/* NULL when none */
	const char *recovery;	/* NULL when none */
	char *answer;		/* NULL when none; wiped once hashed */
	size_t answer_len;
	enum verif_kind kind;
	unsigned line;
	char *hash;		/* SM_ANSWER_HASH_TEXT, in the arena */
};

struct rimport {
	struct csv_parser csv;
	int csv_ready;
	unsigned threads;
	/* input position */
	unsigned line;		/* physical line of the next byte */
	unsigned row_line;	/* line the current record started on */
	int at_line_start;
	size_t bom;		/* bytes of a BOM matched so far */
	int started;		/* past the BOM check */
	int stopped;		/* a fatal error: nothing more is read */
	int finished;
	int records;		/* fed by rimport_add, not CSV */
	const char *unit;	/* "line" or "record", for errors */
	/* the record being read */
	char *f[FIELDS_MAX];
	size_t flen[FIELDS_MAX];
	size_t nf;
	int field_bad;		/* NUL byte seen */
	/* header */
	int have_header;
	int col[C_N];		/* field index of each column, -1 if absent */
	size_t ncols;
	/* results */
	struct rrow *rows;
	size_t nrows, caprows;
	GHashTable *seen;	/* lowercased address -> first line */
	struct arena_block *arena;
	char **errs;
	size_t nerrs, nkept;
};

/* ---- memory ------------------------------------------------------------ */

static char *
arena_copy(struct rimport *ri, const char *s, size_t n)
{
	struct arena_block *b = ri->arena;
	char *p;

	if (n + 1 > ARENA_BLOCK)
		return NULL;
	if (b == NULL || ARENA_BLOCK - b->used < n + 1) {
		b = malloc(sizeof(*b));
		if (b == NULL)
			return NULL;
		b->used = 0;
		b->next = ri->arena;
		ri->arena = b;
	}
	p = b->data + b->used;
	if (s != NULL)
		memcpy(p, s, n);
	else
		memset(p, 0, n);
	p[n] = '\0';
	b->used += n + 1;
	return p;
}

/* libcsv grows its field buffer through this; refusing past the limit
 * makes csv_parse stop with CSV_ENOMEM instead of buffering a 10 MB field. */
static void *
capped_realloc(void *p, size_t n)
{
	if (n > RIMPORT_FIELD_MAX + 1)
		return NULL;
	return realloc(p, n);
}

static void
fields_clear(struct rimport *ri)
{
	size_t i;

	for (i = 0; i < ri->nf && i < FIELDS_MAX; i++) {
		if (ri->f[i] != NULL) {
			sodium_memzero(ri->f[i], ri->flen[i]);
			free(ri->f[i]);
		}
		ri->f[i] = NULL;
		ri->flen[i] = 0;
	}
	ri->nf = 0;
	ri->field_bad = 0;
}

/* ---- errors ------------------------------------------------------------ */

static void row_error(struct rimport *ri, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
row_error(struct rimport *ri, unsigned line, const char *fmt, ...)
{
	char msg[300];
	char *copy;
	va_list ap;
	int n;

	ri->nerrs++;
	if (ri->nkept >= RIMPORT_ERRORS_MAX)
		return;
	n = snprintf(msg, sizeof(msg), "%s %u: ", ri->unit, line);
	if (n < 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	copy = strdup(msg);
	if (copy == NULL)
		return;		/* counted in nerrs; the text is lost */
	ri->errs[ri->nkept++] = copy;
}

/* Outside text for an error message: printable ASCII, bounded. */
static const char *
shown(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 4 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		out[o++] = (c >= 0x20 && c < 0x7f && c != '"') ? (char)c : '?';
	}
	if (i < n && o + 4 <= cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* ---- checks shared with the API ---------------------------------------- */

int
rimport_address_ok(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	size_t i, local, dlen, label = 0;
	int dot = 0;

	if (at == NULL || n > SM_ADDRESS_MAX)
		return 0;
	local = (size_t)(at - s);
	dlen = n - local - 1;
	if (local == 0 || local > 64 || dlen == 0 || dlen > 253)
		return 0;
	for (i = 0; i < local; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || strchr("\"(),:;<>@[\\]", c) != NULL)
			return 0;
	}
	for (i = local + 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			dot = 1;
			label = 0;
			continue;
		}
		if (!(isalnum(c) || c == '-') || (c == '-' && label == 0))
			return 0;
		if (++label > 63)
			return 0;
	}
	return dot && label > 0 && s[n - 1] != '-';
}

int
rimport_phone_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 8 || n > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9')
		return 0;
	for (i = 1; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int
text_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* Leading and trailing blanks are typing noise in every column. */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

/* ---- rows -------------------------------------------------------------- */

static int
header_row(struct rimport *ri)
{
	size_t i;
	int c;

	for (c = 0; c < C_N; c++)
		ri->col[c] = -1;
	for (i = 0; i < ri->nf; i++) {
		const char *s = i < FIELDS_MAX ? ri->f[i] : "";
		size_t n = i < FIELDS_MAX ? ri->flen[i] : 0;
		char name[40], show[64];
		size_t k;

		if (i >= FIELDS_MAX) {
			row_error(ri, ri->row_line, "more than %d columns",
			    FIELDS_MAX);
			return -1;
		}
		trim(&s, &n);
		for (k = 0; k < n && k + 1 < sizeof(name); k++)
			name[k] = (char)tolower((unsigned char)s[k]);
		name[k] = '\0';
		for (c = 0; c < C_N; c++)
			if (k == n && strcmp(name, col_names[c]) == 0)
				break;
		if (c == C_N) {
			row_error(ri, ri->row_line, "unknown column \"%s\" "
			    "(address, kind, question, answer, recovery_email, "
			    "phone)", shown(s, n, show, sizeof(show)));
			return -1;
		}
		if (ri->col[c] != -1) {
			row_error(ri, ri->row_line, "column \"%s\" appears twice",
			    col_names[c]);
			return -1;
		}
		ri->col[c] = (int)i;
	}
	for (c = 0; c < C_N; c++) {
		if (col_required[c] && ri->col[c] == -1) {
			row_error(ri, ri->row_line, "the header lacks the "
			    "\"%s\" column (it must name at least address, kind,"
			    " question, answer)", col_names[c]);
			return -1;
		}
	}
	ri->ncols = ri->nf;
	ri->have_header = 1;
	return 0;
}

static void
field(const struct rimport *ri, enum col c, const char **s, size_t *n)
{
	*s = "";
	*n = 0;
	if (ri->col[c] < 0)
		return;
	*s = ri->f[ri->col[c]];
	*n = ri->flen[ri->col[c]];
	trim(s, n);
}

static int
add_row(struct rimport *ri, struct rrow *r)
{
	if (ri->nrows == ri->caprows) {
		size_t cap = ri->caprows ? ri->caprows * 2 : 1024;
		struct rrow *p = realloc(ri->rows, cap * sizeof(*p));

		if (p == NULL)
			return -1;
		ri->rows = p;
		ri->caprows = cap;
	}
	ri->rows[ri->nrows++] = *r;
	return 0;
}

/* One value of a record: bytes and length, already trimmed. */
struct val {
	const char *p;
	size_t n;
};

/* Checks one record and keeps it; a bad one becomes an error.  The same
 * for a CSV row and for a record from the API. */
static void
check_record(struct rimport *ri, unsigned line, struct val v[C_N])
{
	const char *addr, *kind, *q, *ans, *rec, *phone;
	size_t alen, klen, qlen, anlen, rlen, plen, i;
	char lower[SM_ADDRESS_MAX + 1], show[100], knd[16];
	char norm[SM_ANSWER_MAX * 8 + 1];
	struct sm_err e;
	struct rrow r;
	gpointer first;
	size_t normlen;
	int c;

	for (c = 0; c < C_N; c++) {
		if (memchr(v[c].p, '\0', v[c].n) != NULL) {
			row_error(ri, line, "%s contains a NUL byte", col_names[c]);
			return;
		}
		if (!g_utf8_validate(v[c].p, (gssize)v[c].n, NULL)) {
			row_error(ri, line, "%s is not valid UTF-8", col_names[c]);
			return;
		}
	}
	memset(&r, 0, sizeof(r));
	r.line = line;
	addr = v[C_ADDRESS].p; alen = v[C_ADDRESS].n;
	kind = v[C_KIND].p; klen = v[C_KIND].n;
	q = v[C_QUESTION].p; qlen = v[C_QUESTION].n;
	ans = v[C_ANSWER].p; anlen = v[C_ANSWER].n;
	rec = v[C_RECOVERY].p; rlen = v[C_RECOVERY].n;
	phone = v[C_PHONE].p; plen = v[C_PHONE].n;
	if (alen > 0 && plen > 0) {
		row_error(ri, line, "give address or phone, not both");
		return;
	}
	if (alen == 0 && plen > 0) {
		if (!rimport_phone_ok(phone, plen)) {
			row_error(ri, line, "phone \"%s\" is not an international "
			    "number (+ and 7 to 15 digits)",
			    shown(phone, plen, show, sizeof(show)));
			return;
		}
		addr = phone;
		alen = plen;
	} else if (alen == 0) {
		row_error(ri, line, "address is empty");
		return;
	} else if (!rimport_address_ok(addr, alen)) {
		row_error(ri, line, "address \"%s\" is not a valid email address",
		    shown(addr, alen, show, sizeof(show)));
		return;
	}
	for (i = 0; i < klen && i + 1 < sizeof(knd); i++)
		knd[i] = (char)tolower((unsigned char)kind[i]);
	knd[i] = '\0';
	if (klen == 0 || i != klen || verif_kind_parse(knd, &r.kind) == -1) {
		row_error(ri, line, "unknown kind \"%s\" (question, password, "
		    "registered or pin)", shown(kind, klen, show, 20));
		return;
	}
	if (r.kind == VERIF_QUESTION && qlen == 0) {
		row_error(ri, line, "kind question needs a question");
		return;
	}
	if (qlen > 0 && (qlen > SM_QUESTION_MAX * 4 ||
	    g_utf8_strlen(q, (gssize)qlen) > SM_QUESTION_MAX ||
	    !text_ok(q, qlen))) {
		row_error(ri, line, "question is longer than %d characters or "
		    "contains control characters", SM_QUESTION_MAX);
		return;
	}
	if ((r.kind == VERIF_QUESTION || r.kind == VERIF_PASSWORD) &&
	    anlen == 0) {
		row_error(ri, line, "answer is empty (kind %s needs one)", knd);
		return;
	}
	if ((r.kind == VERIF_REGISTERED || r.kind == VERIF_PIN) && anlen > 0) {
		row_error(ri, line, "kind %s takes no answer (the patient sets "
		    "it)", knd);
		return;
	}
	if (anlen > 0) {
		/* Refused now, not after minutes of hashing; the reason
		 * never quotes the answer. */
		if (answer_normalise(ans, anlen, DATE_MDY, norm, sizeof(norm),
		    &normlen, &e) == -1) {
			row_error(ri, line, "answer: %s", e.msg);
			return;
		}
		sodium_memzero(norm, sizeof(norm));
	}
	if (rlen > 0 && !rimport_address_ok(rec, rlen)) {
		row_error(ri, line, "recovery_email \"%s\" is not a valid email "
		    "address", shown(rec, rlen, show, sizeof(show)));
		return;
	}
	/* One row per address: the database compares case-insensitively,
	 * and so must the duplicate check, or the upsert would merge them
	 * silently. */
	for (i = 0; i < alen; i++)
		lower[i] = (char)tolower((unsigned char)addr[i]);
	lower[alen] = '\0';
	first = g_hash_table_lookup(ri->seen, lower);
	if (first != NULL) {
		row_error(ri, line, "address \"%s\" appears again (first on %s "
		    "%u)", shown(addr, alen, show, sizeof(show)), ri->unit,
		    GPOINTER_TO_UINT(first));
		return;
	}
	r.address = arena_copy(ri, lower, alen);
	r.question = qlen > 0 ? arena_copy(ri, q, qlen) : NULL;
	r.recovery = rlen > 0 ? arena_copy(ri, rec, rlen) : NULL;
	if (anlen > 0) {
		r.answer = arena_copy(ri, ans, anlen);
		r.answer_len = anlen;
		r.hash = arena_copy(ri, NULL, SM_ANSWER_HASH_TEXT);
	}
	if (r.address == NULL || (qlen > 0 && r.question == NULL) ||
	    (rlen > 0 && r.recovery == NULL) ||
	    (anlen > 0 && (r.answer == NULL || r.hash == NULL)) ||
	    add_row(ri, &r) == -1) {
		row_error(ri, line, "out of memory");
		ri->stopped = 1;
		return;
	}
	g_hash_table_insert(ri->seen, (gpointer)r.address,
	    GUINT_TO_POINTER(line));
}

static void
data_row(struct rimport *ri)
{
	struct val v[C_N];
	int c;

	if (ri->nf != ri->ncols) {
		row_error(ri, ri->row_line, "%zu fields, but the header has %zu",
		    ri->nf, ri->ncols);
		return;
	}
	if (ri->field_bad) {
		row_error(ri, ri->row_line, "a field contains a NUL byte");
		return;
	}
	for (c = 0; c < C_N; c++)
		field(ri, (enum col)c, &v[c].p, &v[c].n);
	check_record(ri, ri->row_line, v);
}

int
rimport_add(struct rimport *ri, unsigned n, const struct rimport_record *rec)
{
	const char *in[C_N];
	struct val v[C_N];
	int c;

	if (ri->finished || ri->stopped || (ri->started && !ri->records) ||
	    ri->bom > 0)
		return -1;
	ri->records = 1;
	ri->started = 1;
	ri->have_header = 1;
	ri->unit = "record";
	in[C_ADDRESS] = rec->address;
	in[C_KIND] = rec->kind;
	in[C_QUESTION] = rec->question;
	in[C_ANSWER] = rec->answer;
	in[C_RECOVERY] = rec->recovery_email;
	in[C_PHONE] = rec->phone;
	for (c = 0; c < C_N; c++) {
		v[c].p = in[c] != NULL ? in[c] : "";
		v[c].n = strnlen(v[c].p, RIMPORT_FIELD_MAX + 1);
		if (v[c].n > RIMPORT_FIELD_MAX) {
			row_error(ri, n, "%s is longer than %d bytes", col_names[c],
			    RIMPORT_FIELD_MAX);
			return 0;
		}
		trim(&v[c].p, &v[c].n);
	}
	if (ri->nrows >= RIMPORT_ROWS_MAX) {
		row_error(ri, n, "more than %d records", RIMPORT_ROWS_MAX);
		ri->stopped = 1;
		return -1;
	}
	check_record(ri, n, v);
	return ri->stopped ? -1 : 0;
}

/* ---- libcsv callbacks ---------------------------------------------------- */

static void
on_field(void *s, size_t n, void *arg)
{
	struct rimport *ri = arg;

	if (ri->nf < FIELDS_MAX) {
		char *copy = malloc(n + 1);

		if (copy == NULL) {
			ri->stopped = 1;
			return;
		}
		if (n > 0)
			memcpy(copy, s, n);
		copy[n] = '\0';
		ri->f[ri->nf] = copy;
		ri->flen[ri->nf] = n;
		if (n > 0 && memchr(s, '\0', n) != NULL)
			ri->field_bad = 1;
	}
	ri->nf++;
	if (s != NULL && n > 0)
		sodium_memzero(s, n);	/* libcsv's copy of an answer */
}

static void
on_row(int term, void *arg)
{
	struct rimport *ri = arg;

	(void)term;
	if (ri->stopped) {
		fields_clear(ri);
		return;
	}
	if (!ri->have_header) {
		if (header_row(ri) == -1)
			ri->stopped = 1;
	} else if (ri->nrows >= RIMPORT_ROWS_MAX) {
		row_error(ri, ri->row_line, "more than %d rows", RIMPORT_ROWS_MAX);
		ri->stopped = 1;
	} else
		data_row(ri);
	fields_clear(ri);
}

/* ---- feeding ------------------------------------------------------------- */

int
rimport_new(struct rimport **out, unsigned threads, struct sm_err *err)
{
	struct rimport *ri;
	long ncpu;

	*out = NULL;
	ri = calloc(1, sizeof(*ri));
	if (ri == NULL) {
		sm_err_set(err, "out of memory");
		return -1;
	}
	if (csv_init(&ri->csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		free(ri);
		sm_err_set(err, "CSV parser failed to initialise");
		return -1;
	}
	ri->csv_ready = 1;
	csv_set_realloc_func(&ri->csv, capped_realloc);
	/* The whole field buffer at once: growing it would leave copies of
	 * answers behind in freed memory, and it never needs to grow. */
	csv_set_blk_size(&ri->csv, RIMPORT_FIELD_MAX + 1);
	ri->errs = calloc(RIMPORT_ERRORS_MAX, sizeof(*ri->errs));
	ri->seen = g_hash_table_new(g_str_hash, g_str_equal);
	if (ri->errs == NULL || ri->seen == NULL) {
		rimport_free(ri);
		sm_err_set(err, "out of memory");
		return -1;
	}
	if (threads == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		threads = ncpu > 0 ? (unsigned)ncpu : 1;
	}
	ri->threads = threads > THREADS_MAX ? THREADS_MAX : threads;
	ri->unit = "line";
	ri->line = 1;
	ri->row_line = 1;
	ri->at_line_start = 1;
	*out = ri;
	return 0;
}

void
rimport_free(struct rimport *ri)
{
	struct arena_block *b, *next;
	size_t i;

	if (ri == NULL)
		return;
	fields_clear(ri);
	if (ri->csv_ready)
		csv_free(&ri->csv);
	if (ri->seen != NULL)
		g_hash_table_destroy(ri->seen);
	for (b = ri->arena; b != NULL; b = next) {
		next = b->next;
		sodium_memzero(b->data, b->used);
		free(b);
	}
	for (i = 0; i < ri->nkept; i++)
		free(ri->errs[i]);
	free(ri->errs);
	free(ri->rows);
	free(ri);
}

static void
csv_failed(struct rimport *ri)
{
	switch (csv_error(&ri->csv)) {
	case CSV_ENOMEM:
	case CSV_ETOOBIG:
		row_error(ri, ri->line, "a field is longer than %d bytes; "
		    "stopped reading", RIMPORT_FIELD_MAX);
		break;
	case CSV_EPARSE:
	default:
		row_error(ri, ri->line, "malformed quoting in the record "
		    "starting on line %u (a quote inside an unquoted field, "
		    "text after a closing quote, or an unbalanced quote); "
		    "stopped reading", ri->row_line);
		break;
	}
	ri->stopped = 1;
}

/* One piece of at most one line: libcsv sees it, then the line count
 * moves on.  A record starts where the parser was idle at a line start. */
static int
feed_piece(struct rimport *ri, const char *p, size_t n)
{
	if (ri->at_line_start && ri->csv.pstate == 0 && ri->nf == 0)
		ri->row_line = ri->line;
	if (csv_parse(&ri->csv, p, n, on_field, on_row, ri) != n) {
		csv_failed(ri);
		return -1;
	}
	if (ri->stopped)
		return -1;
	if (ri->csv.entry_pos > RIMPORT_FIELD_MAX) {
		row_error(ri, ri->line, "a field is longer than %d bytes; "
		    "stopped reading", RIMPORT_FIELD_MAX);
		ri->stopped = 1;
		return -1;
	}
	ri->at_line_start = p[n - 1] == '\n';
	if (ri->at_line_start)
		ri->line++;
	return 0;
}

int
rimport_feed(struct rimport *ri, const void *data, size_t n)
{
	static const unsigned char bom[3] = { 0xef, 0xbb, 0xbf };
	const char *p = data;

	if (ri->stopped || ri->finished)
		return -1;
	/* A BOM may arrive split over several calls. */
	while (!ri->started && n > 0) {
		if ((unsigned char)*p != bom[ri->bom]) {
			ri->started = 1;
			if (ri->bom > 0 && feed_piece(ri, (const char *)bom,
			    ri->bom) == -1)
				return -1;
			break;
		}
		ri->bom++;
		p++;
		n--;
		if (ri->bom == sizeof(bom))
			ri->started = 1;
	}
	while (n > 0) {
		const char *nl = memchr(p, '\n', n < SEGMENT ? n : SEGMENT);
		size_t len = nl ? (size_t)(nl - p) + 1 : (n < SEGMENT ? n : SEGMENT);

		if (feed_piece(ri, p, len) == -1)
			return -1;
		p += len;
		n -= len;
	}
	return 0;
}

int
rimport_finish(struct rimport *ri)
{
	if (ri->finished)
		return ri->stopped ? -1 : 0;
	ri->finished = 1;
	if (ri->stopped)
		return -1;
	if (ri->records)
		return 0;
	if (!ri->started && ri->bom > 0) {
		row_error(ri, 1, "the file ends inside a byte order mark");
		ri->stopped = 1;
		return -1;
	}
	if (ri->at_line_start && ri->csv.pstate == 0 && ri->nf == 0)
		ri->row_line = ri->line;
	if (csv_fini(&ri->csv, on_field, on_row, ri) != 0) {
		row_error(ri, ri->row_line, "unbalanced quote: the record "
		    "starting here never ends");
		ri->stopped = 1;
		return -1;
	}
	if (ri->stopped)
		return -1;
	if (!ri->have_header) {
		row_error(ri, 1, "no header row (it must name at least address,"
		    " kind, question, answer)");
		ri->stopped = 1;
		return -1;
	}
	return 0;
}

size_t
rimport_rows(const struct rimport *ri)
{
	return ri->nrows;
}

size_t
rimport_nerrors(const struct rimport *ri)
{
	return ri->nerrs;
}

size_t
rimport_nkept(const struct rimport *ri)
{
	return ri->nkept;
}

const char *
rimport_error(const struct rimport *ri, size_t i)
{
	return i < ri->nkept ? ri->errs[i] : NULL;
}

/* ---- hashing ------------------------------------------------------------- */

struct hash_job {
	struct rimport *ri;
	const struct keyring *kr;
	const struct answer_cost *cost;
	atomic_size_t next;
	atomic_size_t done;
	atomic_int failed;
	pthread_mutex_t lock;
	struct sm_err err;	/* the first failure, under lock */
};

static void *
hash_worker(void *arg)
{
	struct hash_job *j = arg;
	struct sm_err e;

	for (;;) {
		size_t i = atomic_fetch_add(&j->next, 1);
		struct rrow *r;

		if (i >= j->ri->nrows || atomic_load(&j->failed))
			break;
		r = &j->ri->rows[i];
		if (r->answer != NULL) {
			if (answer_hash(j->kr, j->cost, r->answer, r->answer_len,
			    r->hash, &e) == -1) {
				pthread_mutex_lock(&j->lock);
				if (!atomic_load(&j->failed))
					sm_err_set(&j->err, "line %u: %s",
					    r->line, e.msg);
				atomic_store(&j->failed, 1);
				pthread_mutex_unlock(&j->lock);
				break;
			}
			sodium_memzero(r->answer, r->answer_len);
			r->answer = NULL;
		}
		atomic_fetch_add(&j->done, 1);
	}
	return NULL;
}

int
rimport_hash(struct rimport *ri, const struct keyring *kr,
    const struct answer_cost *cost,
    void (*progress)(size_t done, size_t total, void *arg), void *arg,
    struct sm_err *err)
{
	pthread_t tid[THREADS_MAX];
	struct hash_job j;
	unsigned i, started = 0;
	int rc = -1;

	if (!ri->finished || ri->nerrs > 0) {
		sm_err_set(err, "the import has errors; nothing to hash");
		return -1;
	}
	memset(&j, 0, sizeof(j));
	j.ri = ri;
	j.kr = kr;
	j.cost = cost;
	atomic_init(&j.next, 0);
	atomic_init(&j.done, 0);
	atomic_init(&j.failed, 0);
	if (pthread_mutex_init(&j.lock, NULL) != 0) {
		sm_err_set(err, "cannot create a mutex");
		return -1;
	}
	for (i = 0; i < ri->threads; i++) {
		if (pthread_create(&tid[i], NULL, hash_worker, &j) != 0) {
			atomic_store(&j.failed, 1);
			sm_err_set(&j.err, "cannot start a hashing thread");
			break;
		}
		started++;
	}
	/* Without a progress callback (the API) just wait for the workers. */
	while (progress != NULL && started > 0 &&
	    atomic_load(&j.done) < ri->nrows && !atomic_load(&j.failed)) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };

		progress(atomic_load(&j.done), ri->nrows, arg);
		(void)nanosleep(&ts, NULL);
	}
	for (i = 0; i < started; i++)
		(void)pthread_join(tid[i], NULL);
	if (atomic_load(&j.failed)) {
		sm_err_set(err, "%s", j.err.msg);
		goto out;
	}
	if (progress != NULL)
		progress(ri->nrows, ri->nrows, arg);
	rc = 0;
out:
	pthread_mutex_destroy(&j.lock);
	return rc;
}

/* ---- writing ------------------------------------------------------------- */

int
rimport_write(struct rimport *ri, struct db *db, long long lab_id,
    size_t *inserted, size_t *updated, struct sm_err *err)
{
	static const char sql[] = "INSERT INTO recipients (lab_id, address,"
	    " kind, question, answer_hash, recovery_email, created, updated)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE"
	    " kind = VALUES(kind), question = VALUES(question),"
	    " answer_hash = VALUES(answer_hash),"
	    " recovery_email = VALUES(recovery_email), updated = VALUES(updated)";
	long long now = (long long)time(NULL);
	size_t i, ins = 0, upd = 0;

	if (!ri->finished || ri->nerrs > 0) {
		sm_err_set(err, "the import has errors; nothing written");
		return -1;
	}
	for (i = 0; i < ri->nrows; i++) {
		if (ri->rows[i].answer != NULL) {
			sm_err_set(err, "answers are not hashed yet");
			return -1;
		}
	}
	if (db_begin(db, err) == -1)
		return -1;
	for (i = 0; i < ri->nrows; i++) {
		const struct rrow *r = &ri->rows[i];
		unsigned long long aff = 0;
		struct db_val a[8];

		a[0] = DB_I(lab_id);
		a[1] = DB_S(r->address);
		a[2] = DB_S(verif_kind_name(r->kind));
		a[3] = DB_SNUL(r->question);
		a[4] = DB_SNUL(r->hash);
		a[5] = DB_SNUL(r->recovery);
		a[6] = DB_I(now);
		a[7] = DB_I(now);
		if (db_exec(db, sql, a, 8, &aff, NULL, err) == -1) {
			char msg[sizeof(err->msg)];

			snprintf(msg, sizeof(msg), "%s", err->msg);
			sm_err_set(err, "line %u: %s", r->line, msg);
			db_rollback(db);
			return -1;
		}
		if (aff == 1)
			ins++;
		else
			upd++;
	}
	if (db_commit(db, err) == -1) {
		db_rollback(db);
		return -1;
	}
	if (inserted != NULL)
		*inserted = ins;
	if (updated != NULL)
		*updated = upd;
	return 0;
}
