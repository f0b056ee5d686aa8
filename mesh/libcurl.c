/* libcurl.c — libcurl loaded on first use (see libcurl.h). */
#include "mesh/libcurl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

/* Debian ships libcurl in two flavours with the same API: libcurl4 (OpenSSL) and
 * libcurl3-gnutls. Either will do. */
static const char *const sonames[] = { "libcurl.so.4", "libcurl-gnutls.so.4" };

static struct libcurl api;
static char load_error[256];
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = NULL;
	size_t i;
	struct { void **slot; const char *name; } syms[] = {
		{ (void **)&api.global_init, "curl_global_init" },
		{ (void **)&api.easy_init, "curl_easy_init" },
		{ (void **)&api.easy_cleanup, "curl_easy_cleanup" },
		{ (void **)&api.easy_reset, "curl_easy_reset" },
		{ (void **)&api.easy_setopt, "curl_easy_setopt" },
		{ (void **)&api.easy_perform, "curl_easy_perform" },
		{ (void **)&api.easy_getinfo, "curl_easy_getinfo" },
		{ (void **)&api.easy_strerror, "curl_easy_strerror" },
		{ (void **)&api.slist_append, "curl_slist_append" },
		{ (void **)&api.slist_free_all, "curl_slist_free_all" },
	};

	for (i = 0; i < sizeof(sonames) / sizeof(sonames[0]) && !h; i++)
		h = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(load_error, sizeof(load_error), "cannot load %s (install libcurl4): %s", sonames[0],
			 dlerror());
		return;
	}
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(load_error, sizeof(load_error), "libcurl has no %s", syms[i].name);
			return;
		}
	}
	/* Once per process, before any thread uses libcurl (curl_global_init is not thread-safe). */
	if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		snprintf(load_error, sizeof(load_error), "curl_global_init failed");
}

const struct libcurl *libcurl_get(char *err, size_t err_len)
{
	pthread_once(&load_once, load);
	if (load_error[0]) {
		snprintf(err, err_len, "%s", load_error);
		return NULL;
	}
	return &api;
}
