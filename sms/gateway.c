/* gateway.c - the two ways an SMS leaves: a JSON POST with libcurl, or a
 * command run without a shell.  Both are bounded by sms.timeout.  Nothing
 * here logs: the caller records ids and outcomes only. */
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "gateway.h"

#define TOKEN_MAX 1024
#define EX_DATAERR_CODE 65

struct gateway {
	int http;
	char *url;
	char *command;
	char *auth;		/* "Authorization: Bearer ..." or NULL */
	long timeout;
	CURL *curl;
};

static int
read_token(const char *path, char **auth, struct sm_err *err)
{
	static const char pre[] = "Authorization: Bearer ";
	char tok[TOKEN_MAX + 1];
	size_t n = 0, i;
	int rc = -1;

	if (config_secret_read(path, tok, TOKEN_MAX, 0, &n, err) == -1)
		goto out;
	while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r' ||
	    tok[n - 1] == ' '))
		n--;
	tok[n] = '\0';
	for (i = 0; i < n; i++) {
		if ((unsigned char)tok[i] <= 0x20 || (unsigned char)tok[i] >= 0x7f) {
			sm_err_set(err, "%s: the token must be printable ASCII"
			    " without spaces", path);
			goto out;
		}
	}
	if (n == 0) {
		sm_err_set(err, "%s: empty token", path);
		goto out;
	}
	*auth = sodium_malloc(sizeof(pre) + n);
	if (*auth == NULL) {
		sm_err_set(err, "out of memory");
		goto out;
	}
	memcpy(*auth, pre, sizeof(pre) - 1);
	memcpy(*auth + sizeof(pre) - 1, tok, n + 1);
	rc = 0;
out:
	sodium_memzero(tok, sizeof(tok));
	return rc;
}

int
gateway_open(struct gateway **out, const struct config *cf, struct sm_err *err)
{
	const char *kind = config_str(cf, "sms.gateway");
	struct gateway *gw;
	int rc = -1;

	*out = NULL;
	gw = calloc(1, sizeof(*gw));
	if (gw == NULL) {
		sm_err_set(err, "out of memory");
		return -1;
	}
	gw->timeout = (long)config_int(cf, "sms.timeout");
	if (strcmp(kind, "http") == 0) {
		const char *url = config_str(cf, "sms.url");
		const char *tf = config_str(cf, "sms.token_file");

		gw->http = 1;
		if (strncmp(url, "https://", 8) != 0 &&
		    strncmp(url, "http://", 7) != 0) {
			sm_err_set(err, "sms.url must be an http:// or https:// URL");
			goto out;
		}
		if ((gw->url = strdup(url)) == NULL) {
			sm_err_set(err, "out of memory");
			goto out;
		}
		if (tf[0] != '\0' && read_token(tf, &gw->auth, err) == -1)
			goto out;
		if ((gw->curl = curl_easy_init()) == NULL) {
			sm_err_set(err, "curl_easy_init failed");
			goto out;
		}
	} else if (strcmp(kind, "command") == 0) {
		const char *cmd = config_str(cf, "sms.command");

		if (cmd[0] != '/' || access(cmd, X_OK) == -1) {
			sm_err_set(err, "sms.command must be an absolute path to"
			    " an executable");
			goto out;
		}
		if ((gw->command = strdup(cmd)) == NULL) {
			sm_err_set(err, "out of memory");
			goto out;
		}
	} else {
		sm_err_set(err, "sms.gateway is none: nothing to send with");
		goto out;
	}
	*out = gw;
	gw = NULL;
	rc = 0;
out:
	gateway_free(gw);
	return rc;
}

void
gateway_free(struct gateway *gw)
{
	if (gw == NULL)
		return;
	if (gw->curl != NULL)
		curl_easy_cleanup(gw->curl);
	if (gw->auth != NULL)
		sodium_free(gw->auth);
	free(gw->url);
	free(gw->command);
	free(gw);
}

/* The provider's answer body is not ours to keep: drop it. */
static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static enum gw_result
send_http(struct gateway *gw, long long id, const char *phone,
    const char *text, char *reason, size_t cap)
{
	struct curl_slist *hdrs = NULL, *h;
	enum gw_result res = GW_RETRY;
	json_t *obj = NULL;
	char *body = NULL, idtext[24];
	long status = 0;
	CURLcode cc;

	snprintf(idtext, sizeof(idtext), "%lld", id);
	obj = json_pack("{s:s, s:s, s:s}", "to", phone, "text", text,
	    "id", idtext);
	if (obj == NULL || (body = json_dumps(obj, JSON_COMPACT)) == NULL) {
		snprintf(reason, cap, "json=failed");
		goto out;
	}
	h = curl_slist_append(hdrs, "Content-Type: application/json");
	if (h == NULL)
		goto nomem;
	hdrs = h;
	if (gw->auth != NULL) {
		h = curl_slist_append(hdrs, gw->auth);
		if (h == NULL)
			goto nomem;
		hdrs = h;
	}
	curl_easy_reset(gw->curl);
	if (curl_easy_setopt(gw->curl, CURLOPT_URL, gw->url) != CURLE_OK ||
	    curl_easy_setopt(gw->curl, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
	    curl_easy_setopt(gw->curl, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	    curl_easy_setopt(gw->curl, CURLOPT_TIMEOUT, gw->timeout) != CURLE_OK ||
	    curl_easy_setopt(gw->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(gw->curl, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(gw->curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(gw->curl, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK) {
		snprintf(reason, cap, "curl=setopt");
		goto out;
	}
	cc = curl_easy_perform(gw->curl);
	if (cc != CURLE_OK) {
		snprintf(reason, cap, "curl=%d", (int)cc);
		goto out;
	}
	if (curl_easy_getinfo(gw->curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = 0;
	snprintf(reason, cap, "http=%ld", status);
	if (status >= 200 && status < 300)
		res = GW_SENT;
	else if (status >= 400 && status < 500 && status != 408 && status != 429)
		res = GW_REJECTED;
	goto out;
nomem:
	snprintf(reason, cap, "out_of_memory=1");
out:
	curl_slist_free_all(hdrs);
	if (body != NULL) {
		sodium_memzero(body, strlen(body));
		free(body);
	}
	json_decref(obj);
	return res;
}

/* Writes all of text to fd within the deadline. */
static int
write_all(int fd, const char *p, size_t n, time_t deadline)
{
	struct pollfd pfd;
	ssize_t w;

	while (n > 0) {
		int left = (int)(deadline - time(NULL));

		if (left <= 0)
			return -1;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, left * 1000) <= 0)
			return -1;
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static enum gw_result
send_command(struct gateway *gw, const char *phone, const char *text,
    char *reason, size_t cap)
{
	enum gw_result res = GW_RETRY;
	time_t deadline = time(NULL) + gw->timeout;
	int pfd[2] = { -1, -1 }, status = 0, done = 0;
	pid_t pid = -1, w;

	if (pipe2(pfd, O_CLOEXEC) == -1) {
		snprintf(reason, cap, "pipe=%d", errno);
		goto out;
	}
	pid = fork();
	if (pid == -1) {
		snprintf(reason, cap, "fork=%d", errno);
		goto out;
	}
	if (pid == 0) {
		char *argv[3];

		if (dup2(pfd[0], 0) == -1)
			_exit(75);
		argv[0] = gw->command;
		argv[1] = (char *)phone;
		argv[2] = NULL;
		execv(gw->command, argv);
		_exit(75);
	}
	close(pfd[0]);
	pfd[0] = -1;
	(void)fcntl(pfd[1], F_SETFL, O_NONBLOCK);
	if (write_all(pfd[1], text, strlen(text), deadline) == -1)
		snprintf(reason, cap, "command=write_failed");
	close(pfd[1]);
	pfd[1] = -1;
	while (!done) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			done = 1;
			break;
		}
		if (w == -1 && errno != EINTR)
			break;
		if (time(NULL) >= deadline) {
			kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			snprintf(reason, cap, "command=timeout");
			pid = -1;
			goto out;
		}
		usleep(20000);
	}
	pid = -1;
	if (!done) {
		snprintf(reason, cap, "command=wait_failed");
	} else if (WIFEXITED(status)) {
		snprintf(reason, cap, "exit=%d", WEXITSTATUS(status));
		if (WEXITSTATUS(status) == 0)
			res = GW_SENT;
		else if (WEXITSTATUS(status) == EX_DATAERR_CODE)
			res = GW_REJECTED;
	} else {
		snprintf(reason, cap, "signal=%d", WIFSIGNALED(status) ?
		    WTERMSIG(status) : 0);
	}
out:
	if (pfd[0] != -1)
		close(pfd[0]);
	if (pfd[1] != -1)
		close(pfd[1]);
	return res;
}

enum gw_result
gateway_send(struct gateway *gw, long long id, const char *phone,
    const char *text, char *reason, size_t cap)
{
	reason[0] = '\0';
	if (gw->http)
		return send_http(gw, id, phone, text, reason, cap);
	return send_command(gw, phone, text, reason, cap);
}
