/* etcd_client.h — talking to an etcd v3 cluster through its JSON gRPC gateway: which
 * members, over TLS with which CA and client certificate, as which user. store_etcd.c
 * builds the store on it.
 *
 * The location of an etcd store is "URL[,URL...]" followed by options, each ";NAME=VALUE":
 *   cacert=FILE         CA bundle that signs the members' certificates (https://)
 *   cert=FILE, key=FILE client certificate and its key (etcd --client-cert-auth)
 *   user=NAME           authenticate as NAME (etcd auth enable); the password comes from
 *   password-file=FILE  this file (first line), or else from the environment variable
 *                       PODWIRE_ETCD_PASSWORD: never from the command line, which every
 *                       local user can read in /proc.
 * etcd's gateway authenticates with POST /v3/auth/authenticate, which answers a token that
 * every call then carries in its Authorization header; a token expires (etcd
 * --auth-token-ttl, 300 s by default), and a call refused for it authenticates again once.
 * An http:// member is logged as a loud warning: records, claims and a password cross the
 * network in the clear, and anyone on the path can rewrite the mesh. */
#ifndef PODWIRE_MESH_ETCD_CLIENT_H
#define PODWIRE_MESH_ETCD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "mesh/libcurl.h"

#define ETCD_PASSWORD_ENV "PODWIRE_ETCD_PASSWORD"
#define ETCD_PASSWORD_MAX 256
#define ETCD_TOKEN_MAX 512

/* What the location says: read-only once opened, shared by the caller's and the watch's
 * threads. */
struct etcd_client {
	char **urls;
	size_t n_urls;
	char *cacert, *cert, *key, *user;
	char password[ETCD_PASSWORD_MAX];	/* sodium_memzero'd by etcd_client_close() */
	const struct libcurl *lc;
};

#define ETCD_ERROR_MAX 1024

/* One thread's connection: its curl handle, the member it talks to, its auth token, and
 * why its last call failed. */
struct etcd_conn {
	CURL *curl;
	size_t current;
	char token[ETCD_TOKEN_MAX];		/* "" until authenticated */
	/* The cause in words, from libcurl's code and error buffer, for each member tried:
	 * "https://etcd1:2379: connection refused: ... (is etcd running ...?)". "" after a call
	 * that worked. An unreachable cluster is -EHOSTUNREACH whatever the cause: this says which. */
	char error[ETCD_ERROR_MAX];
};

/* Parse @location (above), read the password, load libcurl. 0, or -errno after logging
 * which part of the location is wrong and why. */
int etcd_client_open(struct etcd_client *c, const char *location);
void etcd_client_close(struct etcd_client *c);

int etcd_conn_init(const struct etcd_client *c, struct etcd_conn *conn);
void etcd_conn_free(const struct etcd_client *c, struct etcd_conn *conn);

/* Set up @conn's handle for POST @body to @path on member @url_index: URL, TLS files,
 * timeouts, and @hdrs, to which the Authorization header is appended (*hdrs owns it). For
 * a call of one's own, like the watch stream; authenticates first when a user is set and
 * @conn has no token. 0 or -errno. */
int etcd_setup(const struct etcd_client *c, struct etcd_conn *conn, size_t url_index, const char *path,
	       const char *body, struct curl_slist **hdrs);

/* POST @body to @path on the current member, trying the next ones when it cannot be
 * reached, and parse the reply into *json. A reply larger than @reply_max bytes is
 * -EMSGSIZE (nothing of it is kept); HTTP 403 (etcd: permission denied) is -EACCES; an
 * unreachable cluster -EHOSTUNREACH; any other refusal -EPROTO. On failure conn->error says
 * why (the real cause: refused, unknown host, timeout, TLS), member by member. */
int etcd_call(const struct etcd_client *c, struct etcd_conn *conn, const char *path, cJSON *body, cJSON **json,
	      size_t reply_max);

/* Forget the token so that the next call authenticates again (an expired token). */
void etcd_conn_reauth(struct etcd_conn *conn);

/* The gateway's JSON carries keys and values (bytes in gRPC) as base64. etcd_b64(): @len
 * bytes of @s encoded, malloc'd (NULL: out of memory). etcd_unb64(): @in decoded into a
 * malloc'd, NUL-terminated *out of *out_len bytes (@out_len may be NULL); -EBADMSG when @in
 * is not base64. etcd_prefix_end_b64(): the range_end of every key starting with @prefix
 * ([prefix, prefix+1), etcd's convention), encoded. etcd_add_b64(): @s encoded as @obj's
 * member @name; 0 or -ENOMEM. */
char *etcd_b64(const char *s, size_t len);
int etcd_unb64(const char *in, char **out, size_t *out_len);
char *etcd_prefix_end_b64(const char *prefix);
int etcd_add_b64(cJSON *obj, const char *name, const char *s);

#endif
