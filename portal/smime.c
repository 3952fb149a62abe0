/* smime.c - OpenSSL CMS signing over two small BIOs: one reading the
 * escrow through a callback, one writing to the response.  CMS_STREAM
 * makes SMIME_write_CMS digest the content while it copies it out, so
 * nothing is buffered beyond OpenSSL's own few kilobytes.  Our BIOs have
 * no BIO_gets: a BIO_f_buffer in front of the reading one provides it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "smime.h"

struct smime_signer {
	X509 *cert;
	EVP_PKEY *key;
	STACK_OF(X509) *chain;
};

static void
ossl_fail(struct sm_err *err, const char *what)
{
	char buf[160];
	unsigned long e = ERR_get_error();

	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	sm_err_set(err, "%s: %s", what, e ? buf : "failed");
}

static int
name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return 0;
	return i > 0 && i <= 64 && s[0] != '.';
}

/* Opens path for reading as a FILE; for the key, refuses a file others
 * may read or write. */
static FILE *
open_checked(const char *path, int secret, int *missing, struct sm_err *err)
{
	struct stat st;
	FILE *f;
	int fd;

	*missing = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		if (errno == ENOENT)
			*missing = 1;
		else
			sm_err_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (secret && ((st.st_mode & 077) != 0 ||
	    (st.st_uid != geteuid() && st.st_uid != 0)))) {
		sm_err_set(err, "%s: not a regular file%s", path,
		    secret ? " of mode 0600 owned by the portal's user" : "");
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "r");
	if (f == NULL) {
		sm_err_set(err, "%s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

int
smime_signer_load(struct smime_signer **out, const char *dir, const char *lab,
    struct sm_err *err)
{
	struct smime_signer *s = NULL;
	char path[1200];
	FILE *f = NULL;
	X509 *x;
	int missing, ret = -1;

	*out = NULL;
	if (dir[0] == '\0')
		return 0;
	if (!name_ok(lab)) {
		sm_err_set(err, "lab name unusable as a file name");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s.pem", dir, lab);
	f = open_checked(path, 0, &missing, err);
	if (f == NULL)
		return missing ? 0 : -1;
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->chain = sk_X509_new_null()) == NULL) {
		sm_err_set(err, "out of memory");
		goto out;
	}
	s->cert = PEM_read_X509(f, NULL, NULL, NULL);
	if (s->cert == NULL) {
		ossl_fail(err, path);
		goto out;
	}
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(s->chain, x)) {
			X509_free(x);
			sm_err_set(err, "out of memory");
			goto out;
		}
	}
	ERR_clear_error();	/* the end of the file ends the chain */
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s.key", dir, lab);
	f = open_checked(path, 1, &missing, err);
	if (f == NULL) {
		if (missing)
			sm_err_set(err, "%s: missing beside its certificate", path);
		goto out;
	}
	s->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	if (s->key == NULL) {
		ossl_fail(err, path);
		goto out;
	}
	if (X509_check_private_key(s->cert, s->key) != 1) {
		ossl_fail(err, "certificate and key do not match");
		goto out;
	}
	*out = s;
	s = NULL;
	ret = 1;
out:
	if (f != NULL)
		fclose(f);
	smime_signer_free(s);
	return ret;
}

void
smime_signer_free(struct smime_signer *s)
{
	if (s == NULL)
		return;
	X509_free(s->cert);
	EVP_PKEY_free(s->key);
	sk_X509_pop_free(s->chain, X509_free);
	free(s);
}

/* --- the two BIOs ------------------------------------------------------ */

struct cb {
	smime_read_fn rd;
	smime_write_fn wr;
	void *ctx;
	int eof;
};

static int
cb_read(BIO *b, char *buf, size_t len, size_t *readbytes)
{
	struct cb *c = BIO_get_data(b);
	size_t got = 0;

	*readbytes = 0;
	if (c->eof || len == 0)
		return 0;
	if (c->rd(c->ctx, buf, len, &got) == -1)
		return -1;
	if (got == 0) {
		c->eof = 1;
		return 0;
	}
	*readbytes = got;
	return 1;
}

static int
cb_write(BIO *b, const char *buf, size_t len, size_t *written)
{
	struct cb *c = BIO_get_data(b);

	*written = 0;
	if (c->wr(c->ctx, buf, len) == -1)
		return -1;
	*written = len;
	return 1;
}

/* SMIME_write_CMS writes some of its header with BIO_puts. */
static int
cb_puts(BIO *b, const char *str)
{
	size_t n = strlen(str), written;

	if (n > INT_MAX || cb_write(b, str, n, &written) != 1)
		return -1;
	return (int)n;
}

static long
cb_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct cb *c = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return c->eof;
	default:
		return 0;
	}
}

static int
cb_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static BIO_METHOD *
cb_method(void)
{
	static BIO_METHOD *m;

	if (m == NULL) {
		m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
		    "sealmail callback");
		if (m == NULL || !BIO_meth_set_read_ex(m, cb_read) ||
		    !BIO_meth_set_write_ex(m, cb_write) ||
		    !BIO_meth_set_puts(m, cb_puts) ||
		    !BIO_meth_set_ctrl(m, cb_ctrl) ||
		    !BIO_meth_set_create(m, cb_create)) {
			BIO_meth_free(m);
			m = NULL;
		}
	}
	return m;
}

int
smime_sign_stream(struct smime_signer *s, smime_read_fn rd, void *rctx,
    smime_write_fn wr, void *wctx, struct sm_err *err)
{
	struct cb in = { rd, NULL, rctx, 0 }, out = { NULL, wr, wctx, 0 };
	BIO_METHOD *m = cb_method();
	BIO *bin = NULL, *bout = NULL, *buffered = NULL;
	CMS_ContentInfo *cms = NULL;
	int flags = CMS_DETACHED | CMS_STREAM | CMS_PARTIAL, ret = -1;

	if (m == NULL || (bin = BIO_new(m)) == NULL || (bout = BIO_new(m)) == NULL) {
		ossl_fail(err, "BIO");
		goto out;
	}
	BIO_set_data(bin, &in);
	BIO_set_data(bout, &out);
	/* The CRLF canonicalisation reads the content line by line with
	 * BIO_gets, which a buffering BIO provides over our plain reads. */
	if ((buffered = BIO_new(BIO_f_buffer())) == NULL) {
		ossl_fail(err, "BIO");
		goto out;
	}
	bin = BIO_push(buffered, bin);
	buffered = NULL;
	/* PARTIAL: the signer is added explicitly, SHA-256 as the digest. */
	cms = CMS_sign(NULL, NULL, s->chain, NULL, flags);
	if (cms == NULL ||
	    CMS_add1_signer(cms, s->cert, s->key, EVP_sha256(), flags) == NULL) {
		ossl_fail(err, "CMS_sign");
		goto out;
	}
	flags &= ~CMS_PARTIAL;
	if (!SMIME_write_CMS(bout, cms, bin, flags | SMIME_CRLFEOL)) {
		ossl_fail(err, "SMIME_write_CMS");
		goto out;
	}
	ret = 0;
out:
	CMS_ContentInfo_free(cms);
	BIO_free(buffered);
	BIO_free_all(bin);
	BIO_free(bout);
	return ret;
}
