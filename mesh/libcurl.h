/* libcurl.h — libcurl, loaded when an etcd store is first opened rather than at program
 * start. podwirectl carries the etcd store for `status` and `peer add`; linked directly,
 * libcurl's ~30 transitive libraries (TLS, Kerberos, LDAP, ...) cost every podwirectl run,
 * `show` and `addconf` in a PostUp hook included, about 5 ms and 15 million instructions of
 * dynamic linking, 6 times what all of wg(8) takes. */
#ifndef PODWIRE_MESH_LIBCURL_H
#define PODWIRE_MESH_LIBCURL_H

#include <curl/curl.h>

/* The functions store_etcd.c uses, with libcurl's signatures. */
struct libcurl {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *curl);
	void (*easy_reset)(CURL *curl);
	CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
	CURLcode (*easy_perform)(CURL *curl);
	CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode code);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
	void (*slist_free_all)(struct curl_slist *list);
};

/* Load libcurl and run curl_global_init once per process (thread-safe). Returns the table,
 * or NULL with a reason in @err when libcurl is missing or too old. */
const struct libcurl *libcurl_get(char *err, size_t err_len);

#endif
