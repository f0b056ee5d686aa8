/* kube_client.h — talking to the Kubernetes API server: where it is, how to trust it, how
 * to authenticate (the Kubernetes store, store_kubernetes.c, is its only user).
 *
 * Configuration comes from one of two places, as client-go's rest.InClusterConfig() and
 * clientcmd do:
 *   in-cluster  https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, the service
 *               account's token, ca.crt and namespace under
 *               /var/run/secrets/kubernetes.io/serviceaccount/ (or $PODWIRE_SERVICEACCOUNT_DIR);
 *   kubeconfig  a kubeconfig file, YAML as kubectl and kind write it (yaml_json.h) or its
 *               JSON form (`kubectl config view --raw --flatten -o json`): the current
 *               context's cluster (server, certificate-authority[-data],
 *               insecure-skip-tls-verify) and user (token, tokenFile, client-certificate[-data]
 *               and client-key[-data]).
 * A token file is read again whenever it changes (projected service account tokens rotate
 * about hourly), and after a 401. Requests go through libcurl (loaded on first use,
 * libcurl.h) over HTTPS with the cluster's CA, HTTP/2 when the server offers it (ALPN), as
 * kube-apiserver does. */
#ifndef PODWIRE_MESH_KUBE_CLIENT_H
#define PODWIRE_MESH_KUBE_CLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <cJSON.h>

#include "mesh/libcurl.h"

#define KUBE_SERVICEACCOUNT_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
/* Tests point the in-cluster configuration at another directory with this variable. */
#define KUBE_SERVICEACCOUNT_DIR_ENV "PODWIRE_SERVICEACCOUNT_DIR"

struct kube_client {
	const struct libcurl *lc;
	char *server;			/* "https://host:port", no trailing slash */
	char *ca_file;			/* CA bundle path, or NULL */
	char *ca_data;			/* PEM, or NULL */
	char *cert_file, *key_file;	/* client certificate, or NULL */
	char *cert_data, *key_data;	/* PEM, or NULL */
	bool insecure;
	char *namespace;		/* in-cluster only; Nodes are cluster-scoped */
	char *source;			/* for messages: "in-cluster" or the kubeconfig path */
	pthread_mutex_t lock;		/* the token: the watch thread and the daemon share it */
	char *token_file;
	char *token;			/* secret: never logged, zeroed when replaced */
	dev_t token_dev;
	ino_t token_ino;
	struct timespec token_mtime;
	off_t token_size;
	bool token_missing_logged;
	struct timespec not_before;	/* a 429's Retry-After: no request before (CLOCK_MONOTONIC) */
};

struct kube_reply {
	long status;			/* HTTP status, 0 when no answer */
	cJSON *json;			/* parsed body (NULL if none or not JSON) */
	char *body;			/* raw body */
	size_t len;
	long retry_after;		/* seconds the server asked to wait (Retry-After), or 0 */
	char error[CURL_ERROR_SIZE];	/* libcurl's words when there was no complete answer */
	int curl_code;			/* and its CURLcode */
};

/* Load a configuration: @kubeconfig NULL means in-cluster. -EINVAL with the reason in @err. */
int kube_client_init(struct kube_client *c, const char *kubeconfig, char *err, size_t err_len);
void kube_client_free(struct kube_client *c);
/* Apply the server's URL + @path, TLS and the bearer token to @curl (after easy_reset).
 * The caller frees *hdrs with slist_free_all after the transfer. */
int kube_client_setup(struct kube_client *c, CURL *curl, const char *path, const char *content_type,
		      struct curl_slist **hdrs);
/* One request: @method "GET" or "PATCH" (@body with @content_type). 0 when the server
 * answered (any status: see r->status), -EHOSTUNREACH when it did not. A 401 makes the
 * next request read the token file again. After a 429 or 503 with Retry-After, requests
 * until then are not sent: they get status 429 and the time left in r->retry_after. */
int kube_client_request(struct kube_client *c, CURL *curl, const char *method, const char *path,
			const char *content_type, const char *body, struct kube_reply *r);
void kube_reply_free(struct kube_reply *r);
/* The Status message of an error reply, or the start of its body. */
const char *kube_reply_message(const struct kube_reply *r);
/* The server asked to wait @seconds (Retry-After): no request of this client before. */
void kube_client_retry_after(struct kube_client *c, long seconds);
/* Seconds left of the last Retry-After, 0 when none. */
long kube_client_retry_left(struct kube_client *c);
/* The token was refused (401): read the file again before the next request. */
void kube_client_token_refused(struct kube_client *c);

#endif
