/* etcd_client.c — members, TLS, authentication and one call to etcd's JSON gateway (see
 * etcd_client.h). */
#include "mesh/etcd_client.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "lib/log.h"

/* Connecting (name, TCP, TLS) gets this long; a whole call 5 s. */
#define ETCD_CONNECT_TIMEOUT_MS 1500

struct reply {
	char *data;
	size_t len, max;
	bool too_large;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct reply *r = userdata;
	size_t n = size * nmemb;
	char *grown;

	if (r->len + n > r->max) {
		r->too_large = true;
		return 0;
	}
	grown = realloc(r->data, r->len + n + 1);
	if (!grown)
		return 0;
	memcpy(grown + r->len, ptr, n);
	r->data = grown;
	r->len += n;
	r->data[r->len] = '\0';
	return n;
}

static int parse_urls(struct etcd_client *c, char *list)
{
	char *save = NULL;

	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t len = strlen(tok);
		char **grown;

		if (strncmp(tok, "http://", 7) && strncmp(tok, "https://", 8)) {
			log_err("etcd: endpoint '%s' is not an http:// or https:// URL", tok);
			return -EINVAL;
		}
		while (len && tok[len - 1] == '/')
			tok[--len] = '\0';
		grown = realloc(c->urls, (c->n_urls + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		c->urls = grown;
		if (!(c->urls[c->n_urls] = strdup(tok)))
			return -ENOMEM;
		c->n_urls++;
	}
	if (!c->n_urls) {
		log_err("etcd: no endpoint given");
		return -EINVAL;
	}
	return 0;
}

/* A file the client reads (CA, certificate, key, password): it must be a readable regular
 * file now, not at the first call minutes later. */
static int check_file(const char *what, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		log_err("etcd: %s '%s': %s", what, path, strerror(err));
		return -err;
	}
	close(fd);
	if (!S_ISREG(st.st_mode)) {
		log_err("etcd: %s '%s': not a regular file", what, path);
		return -EINVAL;
	}
	if ((!strcmp(what, "key") || !strcmp(what, "password-file")) && (st.st_mode & 0077))
		log_warn("etcd: %s '%s' can be read by other users (mode %04o): it is a secret, chmod 600 it", what,
			 path, (unsigned int)(st.st_mode & 07777));
	return 0;
}

static int read_password(struct etcd_client *c, const char *file)
{
	const char *env = getenv(ETCD_PASSWORD_ENV);
	ssize_t got = 0;
	int fd, ret;

	if (!file) {
		if (!env || !*env) {
			log_err("etcd: user %s: no password (password-file=FILE or the environment variable %s)",
				c->user, ETCD_PASSWORD_ENV);
			return -EINVAL;
		}
		if (strlen(env) >= sizeof(c->password)) {
			log_err("etcd: user %s: %s is longer than %d bytes", c->user, ETCD_PASSWORD_ENV,
				ETCD_PASSWORD_MAX - 1);
			return -EINVAL;
		}
		snprintf(c->password, sizeof(c->password), "%s", env);
		return 0;
	}
	ret = check_file("password-file", file);
	if (ret)
		return ret;
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 || (got = read(fd, c->password, sizeof(c->password) - 1)) < 0) {
		ret = -errno;
		log_err("etcd: password-file '%s': %s", file, strerror(-ret));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	close(fd);
	c->password[got] = '\0';
	c->password[strcspn(c->password, "\r\n")] = '\0';
	if (!c->password[0] || (size_t)got == sizeof(c->password) - 1) {
		log_err("etcd: password-file '%s': %s", file, c->password[0] ? "longer than 255 bytes" : "empty");
		sodium_memzero(c->password, sizeof(c->password));
		return -EINVAL;
	}
	return 0;
}

static int set_option(struct etcd_client *c, const char *opt, const char **password_file)
{
	const char *eq = strchr(opt, '=');
	char **slot = NULL;
	size_t nlen;

	if (!eq || eq == opt || !eq[1]) {
		log_err("etcd: option '%s' is not NAME=VALUE", opt);
		return -EINVAL;
	}
	nlen = (size_t)(eq - opt);
	if (nlen == 6 && !strncmp(opt, "cacert", nlen))
		slot = &c->cacert;
	else if (nlen == 4 && !strncmp(opt, "cert", nlen))
		slot = &c->cert;
	else if (nlen == 3 && !strncmp(opt, "key", nlen))
		slot = &c->key;
	else if (nlen == 4 && !strncmp(opt, "user", nlen))
		slot = &c->user;
	else if (nlen == 13 && !strncmp(opt, "password-file", nlen)) {
		*password_file = eq + 1;
		return 0;
	} else {
		log_err("etcd: unknown option '%.*s'", (int)nlen, opt);
		return -EINVAL;
	}
	free(*slot);
	*slot = strdup(eq + 1);
	return *slot ? 0 : -ENOMEM;
}

int etcd_client_open(struct etcd_client *c, const char *location)
{
	char *copy = strdup(location), *save = NULL, *urls, err[256];
	const char *password_file = NULL;
	bool any_http = false;
	int ret = 0;

	memset(c, 0, sizeof(*c));
	if (!copy)
		return -ENOMEM;
	urls = strtok_r(copy, ";", &save);
	ret = urls ? parse_urls(c, urls) : -EINVAL;
	for (char *opt = strtok_r(NULL, ";", &save); !ret && opt; opt = strtok_r(NULL, ";", &save))
		ret = set_option(c, opt, &password_file);
	free(copy);
	if (ret)
		goto fail;
	if (!c->cert != !c->key) {
		log_err("etcd: a client certificate needs its key and the key its certificate (cert= and key=)");
		ret = -EINVAL;
		goto fail;
	}
	if ((c->cacert && (ret = check_file("cacert", c->cacert))) || (c->cert && (ret = check_file("cert", c->cert))) ||
	    (c->key && (ret = check_file("key", c->key))))
		goto fail;
	if (password_file && !c->user) {
		log_err("etcd: password-file without user");
		ret = -EINVAL;
		goto fail;
	}
	if (c->user && (ret = read_password(c, password_file)))
		goto fail;
	for (size_t i = 0; i < c->n_urls; i++) {
		if (strncmp(c->urls[i], "http://", 7))
			continue;
		any_http = true;
		log_warn("etcd: WARNING: %s is plain http://: the mesh's records and claims%s cross the network "
			 "unencrypted and unauthenticated, and anyone on the path can read and rewrite them; use https:// "
			 "with --etcd-cacert, --etcd-cert and --etcd-key", c->urls[i], c->user ? " and the password" : "");
	}
	if (any_http && (c->cacert || c->cert)) {
		log_err("etcd: TLS files given but an endpoint is http://: make every endpoint https://");
		ret = -EINVAL;
		goto fail;
	}
	c->lc = libcurl_get(err, sizeof(err));
	if (!c->lc) {
		log_err("etcd store: %s", err);
		ret = -ELIBACC;
		goto fail;
	}
	return 0;
fail:
	etcd_client_close(c);
	return ret;
}

void etcd_client_close(struct etcd_client *c)
{
	for (size_t i = 0; i < c->n_urls; i++)
		free(c->urls[i]);
	free(c->urls);
	free(c->cacert);
	free(c->cert);
	free(c->key);
	free(c->user);
	sodium_memzero(c->password, sizeof(c->password));
	memset(c, 0, sizeof(*c));
}

int etcd_conn_init(const struct etcd_client *c, struct etcd_conn *conn)
{
	memset(conn, 0, sizeof(*conn));
	conn->curl = c->lc->easy_init();
	return conn->curl ? 0 : -ENOMEM;
}

void etcd_conn_free(const struct etcd_client *c, struct etcd_conn *conn)
{
	if (conn->curl)
		c->lc->easy_cleanup(conn->curl);
	sodium_memzero(conn->token, sizeof(conn->token));
	memset(conn, 0, sizeof(*conn));
}

void etcd_conn_reauth(struct etcd_conn *conn) { sodium_memzero(conn->token, sizeof(conn->token)); }

static void setup_handle(const struct etcd_client *c, CURL *curl, const char *url, const char *body,
			 struct curl_slist *hdrs)
{
	const struct libcurl *lc = c->lc;

	lc->easy_reset(curl);
	lc->easy_setopt(curl, CURLOPT_URL, url);
	lc->easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	lc->easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	lc->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	lc->easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)ETCD_CONNECT_TIMEOUT_MS);
	lc->easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->cacert)
		lc->easy_setopt(curl, CURLOPT_CAINFO, c->cacert);
	if (c->cert) {
		lc->easy_setopt(curl, CURLOPT_SSLCERT, c->cert);
		lc->easy_setopt(curl, CURLOPT_SSLKEY, c->key);
	}
}

/* Append "MEMBER: WHY" to conn->error, "; " between members. */
static void conn_error_add(struct etcd_conn *conn, const char *member, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void conn_error_add(struct etcd_conn *conn, const char *member, const char *fmt, ...)
{
	size_t used = strlen(conn->error);
	va_list ap;
	int n;

	if (used + 8 >= sizeof(conn->error))
		return;
	n = snprintf(conn->error + used, sizeof(conn->error) - used, "%s%s: ", used ? "; " : "", member);
	if (n < 0 || (size_t)n >= sizeof(conn->error) - used)
		return;
	used += (size_t)n;
	va_start(ap, fmt);
	vsnprintf(conn->error + used, sizeof(conn->error) - used, fmt, ap);
	va_end(ap);
}

/* What a failed transfer means for the user: libcurl's code says which step failed, its
 * error buffer the details (address, port, milliseconds, the TLS library's words), and
 * each gets what to check. */
static void describe_failure(const struct etcd_client *c, struct etcd_conn *conn, const char *member,
			     CURLcode rc, const char *errbuf, long os_errno, double total_s, long timeout_ms)
{
	const char *detail = errbuf[0] ? errbuf : c->lc->easy_strerror(rc);
	bool tls = !strncmp(member, "https://", 8);

	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		conn_error_add(conn, member, "unknown host: %s (a typo in the endpoint, or no DNS for it?)", detail);
		break;
	case CURLE_COULDNT_CONNECT:
		/* libcurl 7.88 words every connect failure "Couldn't connect to server": the
		 * socket's errno tells a refused port from an unreachable network. */
		conn_error_add(conn, member, "%s: %s (%s)", os_errno ? strerror((int)os_errno) : "cannot connect", detail,
			       os_errno == ECONNREFUSED ? "nothing listens there: is etcd running, and is this address and "
							  "port one of its --listen-client-urls?" :
			       "is the address right, and routed from here?");
		break;
	case CURLE_OPERATION_TIMEDOUT:
		/* Past the connect timeout, the connection was made: the member itself is stuck. */
		if (total_s * 1000 > ETCD_CONNECT_TIMEOUT_MS + 200)
			conn_error_add(conn, member, "timed out: etcd took the connection but did not answer within %ld ms "
				       "(%s): is it hung, overloaded or without quorum?", timeout_ms, detail);
		else
			conn_error_add(conn, member, "timed out connecting: %s (nothing answers at that address: a "
				       "firewall dropping packets, or the wrong host?)", detail);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		conn_error_add(conn, member, "etcd's certificate is not trusted: %s (is %s%s the CA that signed "
			       "etcd's --cert-file, and the endpoint's name or address in its subjectAltName?)", detail,
			       c->cacert ? "--etcd-cacert " : "", c->cacert ? c->cacert : "the system's CA store");
		break;
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
		conn_error_add(conn, member, "cannot use the client certificate: %s (--etcd-cert %s, --etcd-key %s)",
			       detail, c->cert ? c->cert : "-", c->key ? c->key : "-");
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
		/* etcd --client-cert-auth ends the TLS session with an alert ("certificate required"
		 * under TLS 1.3, at the first read) when no certificate, or one it does not trust,
		 * comes. */
		if (tls && !c->cert)
			conn_error_add(conn, member, "etcd refused the TLS session: %s (no client certificate was given: "
				       "etcd runs with --client-cert-auth? give --etcd-cert and --etcd-key)", detail);
		else if (tls && strstr(detail, "certificate"))
			conn_error_add(conn, member, "etcd refused the client certificate %s: %s (is it signed by the "
				       "CA etcd trusts, its --trusted-ca-file?)", c->cert, detail);
		else
			conn_error_add(conn, member, "%s", detail);
		break;
	default:
		conn_error_add(conn, member, "%s", detail);
		break;
	}
}

/* One POST on @conn to member @idx; *status is the HTTP status, or 0 when none came. */
static int post(const struct etcd_client *c, struct etcd_conn *conn, size_t idx, const char *path,
		const char *text, struct curl_slist *hdrs, struct reply *r, long *status)
{
	char url[512], errbuf[CURL_ERROR_SIZE] = "";
	const long timeout_ms = 5000;
	double total_s = 0;
	long os_errno = 0;
	CURLcode rc;

	*status = 0;
	snprintf(url, sizeof(url), "%s%s", c->urls[idx], path);
	setup_handle(c, conn->curl, url, text, hdrs);
	c->lc->easy_setopt(conn->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	c->lc->easy_setopt(conn->curl, CURLOPT_WRITEFUNCTION, collect);
	c->lc->easy_setopt(conn->curl, CURLOPT_WRITEDATA, r);
	c->lc->easy_setopt(conn->curl, CURLOPT_ERRORBUFFER, errbuf);
	rc = c->lc->easy_perform(conn->curl);
	c->lc->easy_getinfo(conn->curl, CURLINFO_RESPONSE_CODE, status);
	c->lc->easy_getinfo(conn->curl, CURLINFO_TOTAL_TIME, &total_s);
	c->lc->easy_getinfo(conn->curl, CURLINFO_OS_ERRNO, &os_errno);
	/* The buffer is ours only for this transfer. */
	c->lc->easy_setopt(conn->curl, CURLOPT_ERRORBUFFER, NULL);
	if (r->too_large) {
		log_debug("etcd: %s: reply larger than %zu bytes", url, r->max);
		conn_error_add(conn, c->urls[idx], "reply larger than %zu bytes", r->max);
		return -EMSGSIZE;
	}
	if (rc != CURLE_OK) {
		describe_failure(c, conn, c->urls[idx], rc, errbuf, os_errno, total_s, timeout_ms);
		log_debug("etcd: %s: %s (%s)", url, c->lc->easy_strerror(rc), errbuf);
		return -EHOSTUNREACH;
	}
	return 0;
}

/* POST /v3/auth/authenticate: the token for the user's later calls. */
static int authenticate(const struct etcd_client *c, struct etcd_conn *conn, size_t idx)
{
	struct curl_slist *hdrs = c->lc->slist_append(NULL, "Content-Type: application/json");
	cJSON *req = cJSON_CreateObject(), *json = NULL, *token;
	struct reply r = { .max = 65536 };
	char *text = NULL;
	long status;
	int ret = -ENOMEM;

	if (!hdrs || !req || !cJSON_AddStringToObject(req, "name", c->user) ||
	    !cJSON_AddStringToObject(req, "password", c->password) || !(text = cJSON_PrintUnformatted(req)))
		goto out;
	ret = post(c, conn, idx, "/v3/auth/authenticate", text, hdrs, &r, &status);
	if (ret)
		goto out;
	json = r.data ? cJSON_Parse(r.data) : NULL;
	token = cJSON_GetObjectItemCaseSensitive(json, "token");
	if (status != 200 || !cJSON_IsString(token) || !token->valuestring[0] ||
	    strlen(token->valuestring) >= sizeof(conn->token)) {
		cJSON *msg = cJSON_GetObjectItemCaseSensitive(json, "error");

		/* etcd's own words: JSON, or plain text from its gateway (a client certificate with a
		 * CommonName is refused there once auth is on). */
		log_err("etcd: %s: user %s: authentication failed: HTTP %ld: %.200s", c->urls[idx], c->user, status,
			cJSON_IsString(msg) ? msg->valuestring : r.data ? r.data : "");
		conn_error_add(conn, c->urls[idx], "user %s: authentication failed: HTTP %ld: %.200s", c->user, status,
			       cJSON_IsString(msg) ? msg->valuestring : r.data ? r.data : "");
		ret = status == 200 ? -EPROTO : -EACCES;
		goto out;
	}
	snprintf(conn->token, sizeof(conn->token), "%s", token->valuestring);
	ret = 0;
out:
	if (text) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
	cJSON_Delete(req); /* the password's copy in it: cJSON has no way to wipe it first */
	cJSON_Delete(json);
	free(r.data);
	c->lc->slist_free_all(hdrs);
	return ret;
}

int etcd_setup(const struct etcd_client *c, struct etcd_conn *conn, size_t url_index, const char *path,
	       const char *body, struct curl_slist **hdrs)
{
	char url[512];

	if (c->user && !conn->token[0]) {
		int ret = authenticate(c, conn, url_index);

		if (ret)
			return ret;
	}
	if (conn->token[0]) {
		char line[sizeof(conn->token) + 32];
		struct curl_slist *more;

		snprintf(line, sizeof(line), "Authorization: %s", conn->token);
		more = c->lc->slist_append(*hdrs, line);
		sodium_memzero(line, sizeof(line));
		if (!more)
			return -ENOMEM;
		*hdrs = more;
	}
	snprintf(url, sizeof(url), "%s%s", c->urls[url_index], path);
	setup_handle(c, conn->curl, url, body, *hdrs);
	return 0;
}

int etcd_call(const struct etcd_client *c, struct etcd_conn *conn, const char *path, cJSON *body, cJSON **json,
	      size_t reply_max)
{
	char *text = cJSON_PrintUnformatted(body);
	int ret = -EHOSTUNREACH, reauth = 0;

	*json = NULL;
	conn->error[0] = '\0';
	if (!text)
		return -ENOMEM;
	for (size_t tries = 0; tries < c->n_urls; tries++) {
		struct curl_slist *hdrs = c->lc->slist_append(NULL, "Content-Type: application/json");
		struct reply r = { .max = reply_max };
		long status = 0;

		if (!hdrs) {
			ret = -ENOMEM;
			break;
		}
		/* The token goes with the member it came from: authenticate where we send. */
		if (c->user && !conn->token[0])
			ret = authenticate(c, conn, conn->current);
		else
			ret = 0;
		if (!ret && conn->token[0]) {
			char line[sizeof(conn->token) + 32];
			struct curl_slist *more;

			snprintf(line, sizeof(line), "Authorization: %s", conn->token);
			more = c->lc->slist_append(hdrs, line);
			sodium_memzero(line, sizeof(line));
			if (more)
				hdrs = more;
			else
				ret = -ENOMEM;
		}
		if (!ret)
			ret = post(c, conn, conn->current, path, text, hdrs, &r, &status);
		c->lc->slist_free_all(hdrs);
		if (ret == -EHOSTUNREACH) {
			free(r.data);
			etcd_conn_reauth(conn);
			conn->current = (conn->current + 1) % c->n_urls;
			continue;
		}
		if (ret) {
			free(r.data);
			break;
		}
		/* 401: the token expired (or the member restarted): once more with a new one. */
		if (status == 401 && c->user && !reauth++) {
			free(r.data);
			etcd_conn_reauth(conn);
			tries--;
			continue;
		}
		*json = r.data ? cJSON_Parse(r.data) : NULL;
		if (status != 200 || !*json) {
			log_debug("etcd: %s%s: HTTP %ld: %.200s", c->urls[conn->current], path, status, r.data ? r.data : "");
			conn_error_add(conn, c->urls[conn->current], "HTTP %ld from %s: %.200s", status, path,
				       r.data ? r.data : "(no body)");
			cJSON_Delete(*json);
			*json = NULL;
			ret = status == 403 ? -EACCES : -EPROTO;
		}
		free(r.data);
		break;
	}
	if (!ret)
		conn->error[0] = '\0';
	free(text);
	return ret;
}

/* The gateway carries keys and values (bytes in gRPC) as base64 in its JSON. */
char *etcd_b64(const char *s, size_t len)
{
	size_t out_len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *out = malloc(out_len);

	if (out)
		sodium_bin2base64(out, out_len, (const unsigned char *)s, len, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

int etcd_unb64(const char *in, char **out, size_t *out_len)
{
	size_t in_len = strlen(in), len = 0;
	char *buf = malloc(in_len + 1);

	if (!buf)
		return -ENOMEM;
	if (sodium_base642bin((unsigned char *)buf, in_len, in, in_len, NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL)) {
		free(buf);
		return -EBADMSG;
	}
	buf[len] = '\0';
	*out = buf;
	if (out_len)
		*out_len = len;
	return 0;
}

/* [key, key+1): every key starting with @prefix (etcd's "range_end" convention). */
char *etcd_prefix_end_b64(const char *prefix)
{
	size_t len = strlen(prefix);
	char *end = strdup(prefix), *out;

	if (!end)
		return NULL;
	end[len - 1]++;
	out = etcd_b64(end, len);
	free(end);
	return out;
}

int etcd_add_b64(cJSON *obj, const char *name, const char *s)
{
	char *enc = etcd_b64(s, strlen(s));

	if (!enc)
		return -ENOMEM;
	cJSON_AddStringToObject(obj, name, enc);
	free(enc);
	return 0;
}
