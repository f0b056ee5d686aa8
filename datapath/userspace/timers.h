/* timers.h — the per-peer timer state machine of the WireGuard paper §6 (kernel timers.c):
 * events from the send/receive paths arm or cancel deadlines; wg_timers_run() fires the
 * expired ones. All times come from the device's injectable clock. */
#ifndef PODWIRE_US_TIMERS_H
#define PODWIRE_US_TIMERS_H

#include <stdint.h>

struct wg_peer;

void wg_timers_data_sent(struct wg_peer *peer);
void wg_timers_data_received(struct wg_peer *peer);
void wg_timers_any_authenticated_packet_sent(struct wg_peer *peer);
void wg_timers_any_authenticated_packet_received(struct wg_peer *peer);
void wg_timers_any_authenticated_packet_traversal(struct wg_peer *peer);
void wg_timers_handshake_initiated(struct wg_peer *peer);
void wg_timers_handshake_complete(struct wg_peer *peer);
void wg_timers_session_derived(struct wg_peer *peer);
/* Cancel every deadline (peer removed or device down). */
void wg_timers_stop(struct wg_peer *peer);
/* Fire the peer's expired timers at @now; returns its nearest pending deadline (0: none). */
uint64_t wg_timers_run(struct wg_peer *peer, uint64_t now);

#endif
