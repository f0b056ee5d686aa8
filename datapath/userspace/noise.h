/* noise.h — the Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s handshake (WireGuard paper §5.4) and
 * the transport keypairs it yields. Pure protocol: no sockets, no clocks read here — the
 * caller passes times, ephemeral keys and indices in, so tests can pin every input. */
#ifndef PODWIRE_US_NOISE_H
#define PODWIRE_US_NOISE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "datapath/userspace/messages.h"
#include "datapath/userspace/replay.h"

struct noise_static_identity {
	uint8_t private_key[NOISE_PUBLIC_KEY_LEN];
	uint8_t public_key[NOISE_PUBLIC_KEY_LEN];
	bool has_identity;
};

enum noise_handshake_state {
	HANDSHAKE_ZEROED,
	HANDSHAKE_CREATED_INITIATION,
	HANDSHAKE_CONSUMED_INITIATION,
	HANDSHAKE_CREATED_RESPONSE,
	HANDSHAKE_CONSUMED_RESPONSE,
};

struct noise_handshake {
	enum noise_handshake_state state;
	uint8_t remote_static[NOISE_PUBLIC_KEY_LEN];
	uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t precomputed_static_static[NOISE_PUBLIC_KEY_LEN]; /* DH(s_local, S_remote) */
	bool static_static_valid;
	uint8_t ephemeral_private[NOISE_PUBLIC_KEY_LEN];
	uint8_t remote_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t hash[NOISE_HASH_LEN];
	uint8_t chaining_key[NOISE_HASH_LEN];
	uint8_t latest_timestamp[NOISE_TIMESTAMP_LEN];
	uint64_t last_initiation_consumption; /* monotonic ns */
	uint32_t local_index, remote_index;
};

struct noise_keypair {
	uint8_t send_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t recv_key[NOISE_SYMMETRIC_KEY_LEN];
	uint64_t send_counter; /* next nonce to use */
	struct replay_window replay;
	uint64_t birthdate; /* monotonic ns */
	uint32_t local_index, remote_index;
	bool i_am_the_initiator;
	bool send_valid, recv_valid;
	void *peer;
};

/* Set the device's private key (public key derived); a zero key clears the identity.
 * Returns 0 or -EINVAL. */
int noise_identity_set(struct noise_static_identity *id, const uint8_t private_key[NOISE_PUBLIC_KEY_LEN]);
/* Prepare a peer's handshake for @remote_static; recompute DH(s, S) after identity changes. */
void noise_handshake_init(struct noise_handshake *hs, const struct noise_static_identity *id,
			  const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN]);
void noise_handshake_precompute(struct noise_handshake *hs, const struct noise_static_identity *id);
/* Forget any handshake in progress (keys wiped), keeping the peer's static/psk. */
void noise_handshake_clear(struct noise_handshake *hs);

/* TAI64N timestamp (paper §5.4.2), nanoseconds rounded down to 2^24 so the timestamp does
 * not leak precise timing (kernel noise.c). */
void noise_tai64n(uint8_t out[NOISE_TIMESTAMP_LEN], const struct timespec *now);

/* Initiator, message 1. @ephemeral_private is fresh randomness. Fills all but the MACs.
 * Returns 0 or -EINVAL (no identity, or the static-static DH is zero). */
int noise_handshake_create_initiation(struct message_handshake_initiation *msg,
				      struct noise_handshake *hs,
				      const struct noise_static_identity *id,
				      uint32_t local_index,
				      const uint8_t ephemeral_private[NOISE_PUBLIC_KEY_LEN],
				      const uint8_t timestamp[NOISE_TIMESTAMP_LEN]);

/* Responder, message 1: decrypt the initiator's static key, ask @lookup for that peer's
 * handshake, authenticate the timestamp (must grow: replay protection) and flood-limit.
 * Returns the handshake now in CONSUMED_INITIATION, or NULL. */
struct noise_handshake *noise_handshake_consume_initiation(
	const struct message_handshake_initiation *msg, const struct noise_static_identity *id,
	struct noise_handshake *(*lookup)(void *ctx, const uint8_t public_key[NOISE_PUBLIC_KEY_LEN]),
	void *ctx, uint64_t now);

/* Responder, message 2. Returns 0 or -EINVAL (wrong state). */
int noise_handshake_create_response(struct message_handshake_response *msg,
				    struct noise_handshake *hs, uint32_t local_index,
				    const uint8_t ephemeral_private[NOISE_PUBLIC_KEY_LEN]);

/* Initiator, message 2: @hs is the handshake whose local index the response names.
 * Returns 0 (hs now CONSUMED_RESPONSE) or -EINVAL / -EBADMSG. */
int noise_handshake_consume_response(const struct message_handshake_response *msg,
				     struct noise_handshake *hs,
				     const struct noise_static_identity *id);

/* Derive the transport keypair from a completed handshake (paper §5.4.5) and wipe the
 * handshake's ephemeral state. Returns 0 or -EINVAL if the handshake is not complete. */
int noise_handshake_begin_session(struct noise_handshake *hs, struct noise_keypair *kp,
				  uint64_t now);

void noise_keypair_wipe(struct noise_keypair *kp);

#endif
