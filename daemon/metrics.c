/* metrics.c — the Prometheus endpoint (see metrics.h). Format: the text exposition format
 * 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/). */
#include "daemon/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "datapath/wgdevice.h"
#include "lib/ipaddr.h"
#include "mesh/mesh.h"

void metrics_init(struct metrics *m, const char *ifname, const char *datapath)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	snprintf(m->ifname, sizeof(m->ifname), "%s", ifname);
	snprintf(m->datapath, sizeof(m->datapath), "%s", datapath);
	m->store_up = 1;
}

static int cmp_peer_key(const void *a, const void *b)
{
	return strcmp(((const struct metrics_peer *)a)->public_key, ((const struct metrics_peer *)b)->public_key);
}

void metrics_set_peers(struct metrics *m, struct metrics_peer *peers, size_t n)
{
	/* Sorted by key, so that a scrape finds each device peer by binary search. */
	if (n)
		qsort(peers, n, sizeof(*peers), cmp_peer_key);
	pthread_mutex_lock(&m->lock);
	free(m->peers);
	m->peers = peers;
	m->n_peers = n;
	pthread_mutex_unlock(&m->lock);
}

struct metrics_peer *metrics_peers_build(const struct wgdevice *dev, const struct node *nodes,
					 const struct mesh_index *idx)
{
	struct metrics_peer *mp = calloc(idx->n + 1, sizeof(*mp));
	const struct wgpeer *p;

	if (!mp)
		return NULL;
	for (size_t i = 0; i < idx->n; i++) {
		key_to_base64(mp[i].public_key, nodes[i].public_key);
		snprintf(mp[i].name, sizeof(mp[i].name), "%s", nodes[i].name);
	}
	for_each_wgpeer(dev, p) {
		const struct node *node = mesh_index_find(idx, p->public_key);
		size_t i;

		if (!node)
			continue;
		i = (size_t)(node - nodes);
		mp[i].rx_bytes = p->rx_bytes;
		mp[i].tx_bytes = p->tx_bytes;
		mp[i].last_handshake = p->last_handshake_time.tv_sec;
	}
	return mp;
}

void metrics_update_counters(struct metrics *m, const struct wgdevice *dev)
{
	const struct wgpeer *p;

	pthread_mutex_lock(&m->lock);
	for_each_wgpeer(dev, p) {
		struct metrics_peer k, *mp;

		key_to_base64(k.public_key, p->public_key);
		mp = m->n_peers ? bsearch(&k, m->peers, m->n_peers, sizeof(k), cmp_peer_key) : NULL;
		if (!mp)
			continue;
		mp->rx_bytes = p->rx_bytes;
		mp->tx_bytes = p->tx_bytes;
		mp->last_handshake = p->last_handshake_time.tv_sec;
	}
	pthread_mutex_unlock(&m->lock);
}

char *metrics_render(struct metrics *m)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	if (!f)
		return NULL;
	pthread_mutex_lock(&m->lock);
	fprintf(f, "# HELP podwire_datapath_info The WireGuard datapath running the interface.\n"
		   "# TYPE podwire_datapath_info gauge\n"
		   "podwire_datapath_info{interface=\"%s\",datapath=\"%s\"} 1\n", m->ifname, m->datapath);
	fprintf(f, "# HELP podwire_reconcile_total Reconcile runs.\n# TYPE podwire_reconcile_total counter\n"
		   "podwire_reconcile_total %" PRIu64 "\n", m->reconcile_total);
	fprintf(f, "# HELP podwire_reconcile_errors_total Reconcile runs that failed.\n"
		   "# TYPE podwire_reconcile_errors_total counter\npodwire_reconcile_errors_total %" PRIu64 "\n",
		m->reconcile_errors);
	/* A summary without quantiles: rate(_sum)/rate(_count) is the mean reconcile time. */
	fprintf(f, "# HELP podwire_reconcile_duration_seconds Time spent in reconcile runs.\n"
		   "# TYPE podwire_reconcile_duration_seconds summary\n"
		   "podwire_reconcile_duration_seconds_sum %.6f\npodwire_reconcile_duration_seconds_count %" PRIu64 "\n",
		m->reconcile_seconds_sum, m->reconcile_total);
	fprintf(f, "# HELP podwire_reconcile_last_duration_seconds Time of the last reconcile run.\n"
		   "# TYPE podwire_reconcile_last_duration_seconds gauge\npodwire_reconcile_last_duration_seconds %.6f\n",
		m->reconcile_seconds_last);
	fprintf(f, "# HELP podwire_store_errors_total Failed store operations.\n"
		   "# TYPE podwire_store_errors_total counter\npodwire_store_errors_total %" PRIu64 "\n",
		m->store_errors);
	fprintf(f, "# HELP podwire_store_up Whether the last store operation succeeded.\n"
		   "# TYPE podwire_store_up gauge\npodwire_store_up %d\n", m->store_up);
	fprintf(f, "# HELP podwire_store_records_skipped Invalid store records skipped in the last reconcile.\n"
		   "# TYPE podwire_store_records_skipped gauge\npodwire_store_records_skipped %" PRIu64 "\n",
		m->records_skipped);
	fprintf(f, "# HELP podwire_peers Peers on the interface.\n# TYPE podwire_peers gauge\npodwire_peers %zu\n",
		m->n_peers);
	fprintf(f, "# HELP podwire_peer_receive_bytes_total Bytes received from the peer.\n"
		   "# TYPE podwire_peer_receive_bytes_total counter\n");
	for (size_t i = 0; i < m->n_peers; i++)
		fprintf(f, "podwire_peer_receive_bytes_total{interface=\"%s\",node=\"%s\",public_key=\"%s\"} %" PRIu64 "\n",
			m->ifname, m->peers[i].name, m->peers[i].public_key, m->peers[i].rx_bytes);
	fprintf(f, "# HELP podwire_peer_transmit_bytes_total Bytes sent to the peer.\n"
		   "# TYPE podwire_peer_transmit_bytes_total counter\n");
	for (size_t i = 0; i < m->n_peers; i++)
		fprintf(f, "podwire_peer_transmit_bytes_total{interface=\"%s\",node=\"%s\",public_key=\"%s\"} %" PRIu64 "\n",
			m->ifname, m->peers[i].name, m->peers[i].public_key, m->peers[i].tx_bytes);
	/* A Unix time, hence _timestamp_seconds; the age is time() minus it in PromQL. */
	fprintf(f, "# HELP podwire_peer_last_handshake_timestamp_seconds Unix time of the last handshake (0: never).\n"
		   "# TYPE podwire_peer_last_handshake_timestamp_seconds gauge\n");
	for (size_t i = 0; i < m->n_peers; i++)
		fprintf(f, "podwire_peer_last_handshake_timestamp_seconds{interface=\"%s\",node=\"%s\",public_key=\"%s\"} %" PRId64 "\n",
			m->ifname, m->peers[i].name, m->peers[i].public_key, m->peers[i].last_handshake);
	pthread_mutex_unlock(&m->lock);
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}

/* Probes: kubelet restarts a daemon whose loop is stuck, and keeps a node that is not up
 * out of service. */
static char *health(struct metrics *m, bool readiness, unsigned int *status)
{
	struct timespec ts;
	double now;
	char *body = NULL;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	pthread_mutex_lock(&m->lock);
	if (readiness && !m->ready)
		n = asprintf(&body, "not ready: %s\n", m->not_ready[0] ? m->not_ready : "starting");
	else if (!readiness && m->last_tick > 0 && m->live_seconds && now - m->last_tick > m->live_seconds)
		n = asprintf(&body, "not live: the daemon's loop last ran %.0f s ago\n", now - m->last_tick);
	else
		n = asprintf(&body, "ok\n");
	*status = strncmp(body ? body : "", "ok", 2) ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK;
	pthread_mutex_unlock(&m->lock);
	return n < 0 ? NULL : body;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			     const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned int status = MHD_HTTP_OK;
	char *body;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return MHD_NO;
	if (!strcmp(url, "/metrics")) {
		struct metrics *m = cls;

		if (m->refresh)
			m->refresh(m, m->refresh_ctx);
		body = metrics_render(m);
		if (!body)
			return MHD_NO;
	} else if (!strcmp(url, "/healthz") || !strcmp(url, "/readyz")) {
		body = health(cls, !strcmp(url, "/readyz"), &status);
		if (!body)
			return MHD_NO;
	} else {
		body = strdup("see /metrics, /healthz, /readyz\n");
		status = MHD_HTTP_NOT_FOUND;
		if (!body)
			return MHD_NO;
	}
	resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

int metrics_start(struct metrics *m, const char *listen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[IP_ADDR_STRLEN + 2];
	struct ip_addr a;
	uint16_t port;

	/* A literal address only: a metrics port is not something to resolve by DNS. */
	if (endpoint_split(listen, host, sizeof(host), &port) || ip_addr_parse(&a, host))
		return -EINVAL;
	if (endpoint_resolve(listen, &ss, &len, NULL, 0))
		return -EINVAL;
	m->httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
					    (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				    port, NULL, NULL, serve, m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				    MHD_OPTION_CONNECTION_TIMEOUT, 10U, MHD_OPTION_END);
	return m->httpd ? 0 : -EADDRINUSE;
}

void metrics_stop(struct metrics *m)
{
	if (m->httpd)
		MHD_stop_daemon(m->httpd);
	m->httpd = NULL;
	free(m->peers);
	m->peers = NULL;
	m->n_peers = 0;
	pthread_mutex_destroy(&m->lock);
}
