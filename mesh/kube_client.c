/* kube_client.c — Kubernetes API server configuration and requests (see kube_client.h). */
#include "mesh/kube_client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "lib/log.h"
#include "mesh/yaml_json.h"

/* One page of a list (kube_watch.h: 500 Nodes) or one Node: far less than this. */
#define KUBE_REPLY_MAX (64U << 20)
/* A service account token is a JWT of about 1 KiB. */
#define KUBE_TOKEN_MAX 16384

static char *read_small_file(const char *path, size_t max, int *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;
	ssize_t n;
	size_t len = 0;

	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	buf = malloc(max + 1);
	if (!buf) {
		close(fd);
		*err = -ENOMEM;
		return NULL;
	}
	while ((n = read(fd, buf + len, max - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (n < 0 || len == max) {
		*err = n < 0 ? -errno : -EFBIG;
		sodium_memzero(buf, len);
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	*err = 0;
	return buf;
}

static int dup_str(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

static cJSON *named(const cJSON *list, const char *name, const char *member)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, list) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(item, "name");

		if (cJSON_IsString(n) && !strcmp(n->valuestring, name))
			return cJSON_GetObjectItemCaseSensitive(item, member);
	}
	return NULL;
}

static const char *str_of(const cJSON *obj, const char *member)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, member);

	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* certificate-authority-data & co. are base64 of PEM. */
static int pem_from_b64(const char *b64, char **out)
{
	size_t in_len = strlen(b64), len = 0;

	*out = malloc(in_len + 1);
	if (!*out)
		return -ENOMEM;
	if (sodium_base642bin((unsigned char *)*out, in_len, b64, in_len, "\n\r ", &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL)) {
		free(*out);
		*out = NULL;
		return -EINVAL;
	}
	(*out)[len] = '\0';
	return 0;
}

/* A relative path in a kubeconfig is relative to the kubeconfig's directory. */
static int path_near(const char *kubeconfig, const char *path, char **out)
{
	const char *slash = strrchr(kubeconfig, '/');

	if (path[0] == '/' || !slash)
		return dup_str(out, path);
	return asprintf(out, "%.*s/%s", (int)(slash - kubeconfig), kubeconfig, path) < 0 ? -ENOMEM : 0;
}

static int load_kubeconfig(struct kube_client *c, const char *file, char *err, size_t err_len)
{
	cJSON *root, *ctx, *cluster, *user;
	const char *cur, *cname, *uname, *v;
	int ret = 0;
	char *text = read_small_file(file, 1U << 20, &ret);

	if (!text) {
		snprintf(err, err_len, "kubeconfig %s: cannot read: %s", file, strerror(-ret));
		return -EINVAL;
	}
	/* kubectl and kind write YAML; `kubectl config view -o json` gives the JSON form. */
	root = cJSON_Parse(text);
	if (!root) {
		char why[256] = "";

		ret = yaml_json_parse(text, strlen(text), &root, why, sizeof(why));
		if (ret)
			snprintf(err, err_len, "kubeconfig %s: neither JSON nor YAML: %s", file,
				 ret == -ENOMEM ? "out of memory" : why);
	}
	sodium_memzero(text, strlen(text));
	free(text);
	if (!root)
		return -EINVAL;
	if (!cJSON_IsObject(root)) {
		snprintf(err, err_len, "kubeconfig %s: not a mapping (a kubeconfig is apiVersion, kind, clusters, ...)", file);
		cJSON_Delete(root);
		return -EINVAL;
	}
	ret = -EINVAL;
	cur = str_of(root, "current-context");
	ctx = cur ? named(cJSON_GetObjectItemCaseSensitive(root, "contexts"), cur, "context") : NULL;
	cname = str_of(ctx, "cluster");
	uname = str_of(ctx, "user");
	cluster = cname ? named(cJSON_GetObjectItemCaseSensitive(root, "clusters"), cname, "cluster") : NULL;
	user = uname ? named(cJSON_GetObjectItemCaseSensitive(root, "users"), uname, "user") : NULL;
	if (!cur || !ctx) {
		snprintf(err, err_len, "kubeconfig %s: no current-context, or it names no context", file);
		goto out;
	}
	if (!cluster || !str_of(cluster, "server")) {
		snprintf(err, err_len, "kubeconfig %s: context %s names no cluster with a server", file, cur);
		goto out;
	}
	v = str_of(cluster, "server");
	if (strncmp(v, "https://", 8) && strncmp(v, "http://", 7)) {
		snprintf(err, err_len, "kubeconfig %s: server '%.100s' is not an http(s) URL", file, v);
		goto out;
	}
	if (dup_str(&c->server, v))
		goto nomem;
	c->insecure = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cluster, "insecure-skip-tls-verify"));
	if ((v = str_of(cluster, "certificate-authority-data")) && pem_from_b64(v, &c->ca_data)) {
		snprintf(err, err_len, "kubeconfig %s: certificate-authority-data is not base64", file);
		goto out;
	}
	if ((v = str_of(cluster, "certificate-authority")) && path_near(file, v, &c->ca_file))
		goto nomem;
	if (user) {
		if ((v = str_of(user, "token")) && dup_str(&c->token, v))
			goto nomem;
		if ((v = str_of(user, "tokenFile")) && path_near(file, v, &c->token_file))
			goto nomem;
		if ((v = str_of(user, "client-certificate")) && path_near(file, v, &c->cert_file))
			goto nomem;
		if ((v = str_of(user, "client-key")) && path_near(file, v, &c->key_file))
			goto nomem;
		if (((v = str_of(user, "client-certificate-data")) && pem_from_b64(v, &c->cert_data)) ||
		    ((v = str_of(user, "client-key-data")) && pem_from_b64(v, &c->key_data))) {
			snprintf(err, err_len, "kubeconfig %s: client-certificate-data or client-key-data is not base64",
				 file);
			goto out;
		}
	}
	ret = 0;
	goto out;
nomem:
	ret = -ENOMEM;
	snprintf(err, err_len, "kubeconfig %s: out of memory", file);
out:
	cJSON_Delete(root);
	return ret;
}

static int load_in_cluster(struct kube_client *c, char *err, size_t err_len)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *dir = getenv(KUBE_SERVICEACCOUNT_DIR_ENV);
	char *ns_file = NULL;
	int ret;

	if (!host || !*host || !port || !*port) {
		snprintf(err, err_len, "not running in a pod (KUBERNETES_SERVICE_HOST/PORT unset): give --kubeconfig");
		return -EINVAL;
	}
	if (strspn(port, "0123456789") != strlen(port)) {
		snprintf(err, err_len, "KUBERNETES_SERVICE_PORT '%.20s' is not a port", port);
		return -EINVAL;
	}
	/* An IPv6 service address needs brackets in a URL. */
	if (asprintf(&c->server, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port) < 0) {
		c->server = NULL;
		return -ENOMEM;
	}
	if (!dir || !*dir)
		dir = KUBE_SERVICEACCOUNT_DIR;
	if (asprintf(&c->ca_file, "%s/ca.crt", dir) < 0 || asprintf(&c->token_file, "%s/token", dir) < 0 ||
	    asprintf(&ns_file, "%s/namespace", dir) < 0) {
		c->ca_file = c->token_file = NULL;
		return -ENOMEM;
	}
	c->namespace = read_small_file(ns_file, 256, &ret);
	free(ns_file);
	if (access(c->ca_file, R_OK)) {
		snprintf(err, err_len, "in-cluster: %s: %s (is the service account token mounted?)", c->ca_file,
			 strerror(errno));
		return -EINVAL;
	}
	return 0;
}

int kube_client_init(struct kube_client *c, const char *kubeconfig, char *err, size_t err_len)
{
	char lerr[256];
	int ret;

	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	ret = kubeconfig ? load_kubeconfig(c, kubeconfig, err, err_len) : load_in_cluster(c, err, err_len);
	if (ret)
		return ret;
	if (dup_str(&c->source, kubeconfig ? kubeconfig : "in-cluster"))
		return -ENOMEM;
	{
		size_t len = strlen(c->server);

		while (len && c->server[len - 1] == '/')
			c->server[--len] = '\0';
	}
	if (!c->token && !c->token_file && !c->cert_file && !c->cert_data) {
		snprintf(err, err_len, "%s: no credentials (token, tokenFile or client certificate)", c->source);
		return -EINVAL;
	}
	c->lc = libcurl_get(lerr, sizeof(lerr));
	if (!c->lc) {
		snprintf(err, err_len, "%s", lerr);
		return -ELIBACC;
	}
	return 0;
}

static void secret_free(char **s)
{
	if (*s) {
		sodium_memzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

void kube_client_free(struct kube_client *c)
{
	free(c->server);
	free(c->ca_file);
	free(c->ca_data);
	free(c->cert_file);
	secret_free(&c->key_file);
	free(c->cert_data);
	secret_free(&c->key_data);
	free(c->namespace);
	free(c->source);
	free(c->token_file);
	secret_free(&c->token);
	pthread_mutex_destroy(&c->lock);
	memset(c, 0, sizeof(*c));
}

/* Under c->lock: read the token file again when it is another file or was rewritten. */
static void token_refresh(struct kube_client *c)
{
	struct stat st;
	char *fresh, *end;
	int err;

	if (!c->token_file)
		return;
	if (stat(c->token_file, &st) < 0) {
		if (!c->token_missing_logged)
			log_warn("kubernetes: token file %s: %s; keeping the token read before", c->token_file,
				 strerror(errno));
		c->token_missing_logged = true;
		return;
	}
	c->token_missing_logged = false;
	if (c->token && st.st_dev == c->token_dev && st.st_ino == c->token_ino && st.st_size == c->token_size &&
	    st.st_mtim.tv_sec == c->token_mtime.tv_sec && st.st_mtim.tv_nsec == c->token_mtime.tv_nsec)
		return;
	fresh = read_small_file(c->token_file, KUBE_TOKEN_MAX, &err);
	if (!fresh) {
		log_warn("kubernetes: token file %s: %s", c->token_file, strerror(-err));
		return;
	}
	end = fresh + strlen(fresh);
	while (end > fresh && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		*--end = '\0';
	if (!*fresh || strpbrk(fresh, "\r\n")) {
		log_warn("kubernetes: token file %s: empty or more than one line", c->token_file);
		secret_free(&fresh);
		return;
	}
	/* After a 401 the file is read again even if unchanged: say so only for a new token. */
	if (c->token && (strlen(c->token) != strlen(fresh) || sodium_memcmp(c->token, fresh, strlen(fresh))))
		log_info("kubernetes: token file %s changed: using the new token", c->token_file);
	secret_free(&c->token);
	c->token = fresh;
	c->token_dev = st.st_dev;
	c->token_ino = st.st_ino;
	c->token_size = st.st_size;
	c->token_mtime = st.st_mtim;
}

void kube_client_retry_after(struct kube_client *c, long seconds)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&c->lock);
	if (now.tv_sec + seconds > c->not_before.tv_sec) {
		c->not_before = now;
		c->not_before.tv_sec += seconds;
	}
	pthread_mutex_unlock(&c->lock);
}

long kube_client_retry_left(struct kube_client *c)
{
	struct timespec now;
	long left;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&c->lock);
	left = c->not_before.tv_sec - now.tv_sec + (c->not_before.tv_nsec > now.tv_nsec ? 1 : 0);
	pthread_mutex_unlock(&c->lock);
	return left > 0 ? left : 0;
}

void kube_client_token_refused(struct kube_client *c)
{
	pthread_mutex_lock(&c->lock);
	c->token_ino = 0; /* whatever the file holds now is read before the next request */
	c->token_size = -1;
	pthread_mutex_unlock(&c->lock);
}

static int set_blob(const struct libcurl *lc, CURL *curl, CURLoption opt, char *pem)
{
	struct curl_blob blob = { .data = pem, .len = strlen(pem), .flags = CURL_BLOB_COPY };

	return lc->easy_setopt(curl, opt, &blob) == CURLE_OK ? 0 : -ENOTSUP;
}

int kube_client_setup(struct kube_client *c, CURL *curl, const char *path, const char *content_type,
		      struct curl_slist **hdrs)
{
	const struct libcurl *lc = c->lc;
	char url[2048], *auth = NULL, ct[128];
	struct curl_slist *h = NULL;

	*hdrs = NULL;
	if ((size_t)snprintf(url, sizeof(url), "%s%s", c->server, path) >= sizeof(url))
		return -ENAMETOOLONG;
	lc->easy_setopt(curl, CURLOPT_URL, url);
	lc->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	lc->easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	lc->easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	lc->easy_setopt(curl, CURLOPT_USERAGENT, "podwired");
	/* kube-apiserver speaks HTTP/2 over TLS: one connection, and watch events as frames. */
	lc->easy_setopt(curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	if (c->insecure) {
		lc->easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
		lc->easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->ca_file)
		lc->easy_setopt(curl, CURLOPT_CAINFO, c->ca_file);
	if ((c->ca_data && set_blob(lc, curl, CURLOPT_CAINFO_BLOB, c->ca_data)) ||
	    (c->cert_data && set_blob(lc, curl, CURLOPT_SSLCERT_BLOB, c->cert_data)) ||
	    (c->key_data && set_blob(lc, curl, CURLOPT_SSLKEY_BLOB, c->key_data)))
		return -ENOTSUP;
	if (c->cert_file)
		lc->easy_setopt(curl, CURLOPT_SSLCERT, c->cert_file);
	if (c->key_file)
		lc->easy_setopt(curl, CURLOPT_SSLKEY, c->key_file);
	h = lc->slist_append(h, "Accept: application/json");
	if (content_type) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
		h = lc->slist_append(h, ct);
	}
	pthread_mutex_lock(&c->lock);
	token_refresh(c);
	if (c->token && asprintf(&auth, "Authorization: Bearer %s", c->token) < 0)
		auth = NULL;
	pthread_mutex_unlock(&c->lock);
	if (auth) {
		/* curl_slist_append copies: the copy is freed with the list, this one zeroed now. */
		h = lc->slist_append(h, auth);
		secret_free(&auth);
	}
	if (!h)
		return -ENOMEM;
	lc->easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	*hdrs = h;
	return 0;
}

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct kube_reply *r = userdata;
	size_t n = size * nmemb;
	char *grown;

	if (r->len + n > KUBE_REPLY_MAX)
		return 0;
	grown = realloc(r->body, r->len + n + 1);
	if (!grown)
		return 0;
	memcpy(grown + r->len, ptr, n);
	r->body = grown;
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

int kube_client_request(struct kube_client *c, CURL *curl, const char *method, const char *path,
			const char *content_type, const char *body, struct kube_reply *r)
{
	const struct libcurl *lc = c->lc;
	struct curl_slist *hdrs = NULL;
	CURLcode rc;
	int ret;

	memset(r, 0, sizeof(*r));
	r->retry_after = kube_client_retry_left(c);
	if (r->retry_after) {
		r->status = 429;
		return 0;
	}
	lc->easy_reset(curl);
	ret = kube_client_setup(c, curl, path, content_type, &hdrs);
	if (ret) {
		lc->slist_free_all(hdrs);
		return ret;
	}
	lc->easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (body)
		lc->easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	lc->easy_setopt(curl, CURLOPT_TIMEOUT_MS, 15000L);
	lc->easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	lc->easy_setopt(curl, CURLOPT_WRITEDATA, r);
	lc->easy_setopt(curl, CURLOPT_ERRORBUFFER, r->error);
	rc = lc->easy_perform(curl);
	lc->slist_free_all(hdrs);
	lc->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
	{
		curl_off_t ra = 0;

		if (lc->easy_getinfo(curl, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
			r->retry_after = ra > 3600 ? 3600 : (long)ra;
		if (r->retry_after && (r->status == 429 || r->status == 503))
			kube_client_retry_after(c, r->retry_after);
	}
	lc->easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
	if (rc != CURLE_OK) {
		char why[CURL_ERROR_SIZE];

		/* A reply cut short (a truncated chunk) is no answer either: its half body is dropped. */
		snprintf(why, sizeof(why), "%s", r->error[0] ? r->error : lc->easy_strerror(rc));
		log_debug("kubernetes: %s %s%s: %s", method, c->server, path, why);
		kube_reply_free(r);
		memcpy(r->error, why, sizeof(why));
		r->curl_code = (int)rc;
		return -EHOSTUNREACH;
	}
	if (r->body)
		r->json = cJSON_Parse(r->body);
	if (r->status == 401)
		kube_client_token_refused(c);
	return 0;
}

void kube_reply_free(struct kube_reply *r)
{
	cJSON_Delete(r->json);
	free(r->body);
	r->json = NULL;
	r->body = NULL;
	r->len = 0;
}

const char *kube_reply_message(const struct kube_reply *r)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(r->json, "message");

	if (cJSON_IsString(m))
		return m->valuestring;
	return r->body ? r->body : "(no body)";
}
