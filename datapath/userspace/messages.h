/* messages.h — WireGuard's four message formats and protocol constants (paper §5.4, §6.1).
 * Multi-byte fields are little-endian on the wire. */
#ifndef PODWIRE_US_MESSAGES_H
#define PODWIRE_US_MESSAGES_H

#include <stddef.h>
#include <stdint.h>

#include "datapath/userspace/clock.h"

#define NOISE_PUBLIC_KEY_LEN 32
#define NOISE_SYMMETRIC_KEY_LEN 32
#define NOISE_TIMESTAMP_LEN 12
#define NOISE_AUTHTAG_LEN 16
#define NOISE_HASH_LEN 32
#define COOKIE_LEN 16
#define COOKIE_NONCE_LEN 24

/* WireGuard paper §6.1 timing constants. */
#define REKEY_AFTER_MESSAGES (1ULL << 60)
#define REKEY_AFTER_TIME (120 * NSEC_PER_SEC)
#define REJECT_AFTER_TIME (180 * NSEC_PER_SEC)
#define REKEY_ATTEMPT_TIME (90 * NSEC_PER_SEC)
#define REKEY_TIMEOUT (5 * NSEC_PER_SEC)
#define KEEPALIVE_TIMEOUT (10 * NSEC_PER_SEC)
#define MAX_TIMER_HANDSHAKES (REKEY_ATTEMPT_TIME / REKEY_TIMEOUT)
/* Paper §5.4.7: cookie secrets rotate every two minutes. */
#define COOKIE_SECRET_MAX_AGE (120 * NSEC_PER_SEC)
#define COOKIE_SECRET_LATENCY (5 * NSEC_PER_SEC)
/* Paper §5.1: at most one initiation per peer per 1/50 s is processed (flood protection). */
#define INITIATIONS_PER_SECOND 50
/* Kernel messages.h: packets queued per peer while a handshake is pending. */
#define MAX_STAGED_PACKETS 128
#define MESSAGE_PADDING_MULTIPLE 16

enum message_type {
	MESSAGE_INVALID = 0,
	MESSAGE_HANDSHAKE_INITIATION = 1,
	MESSAGE_HANDSHAKE_RESPONSE = 2,
	MESSAGE_HANDSHAKE_COOKIE = 3,
	MESSAGE_DATA = 4,
};

struct message_macs {
	uint8_t mac1[COOKIE_LEN];
	uint8_t mac2[COOKIE_LEN];
};

struct message_handshake_initiation {
	uint32_t type;
	uint32_t sender_index;
	uint8_t unencrypted_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t encrypted_static[NOISE_PUBLIC_KEY_LEN + NOISE_AUTHTAG_LEN];
	uint8_t encrypted_timestamp[NOISE_TIMESTAMP_LEN + NOISE_AUTHTAG_LEN];
	struct message_macs macs;
} __attribute__((packed));

struct message_handshake_response {
	uint32_t type;
	uint32_t sender_index;
	uint32_t receiver_index;
	uint8_t unencrypted_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t encrypted_nothing[NOISE_AUTHTAG_LEN];
	struct message_macs macs;
} __attribute__((packed));

struct message_handshake_cookie {
	uint32_t type;
	uint32_t receiver_index;
	uint8_t nonce[COOKIE_NONCE_LEN];
	uint8_t encrypted_cookie[COOKIE_LEN + NOISE_AUTHTAG_LEN];
} __attribute__((packed));

struct message_data {
	uint32_t type;
	uint32_t key_idx;
	uint64_t counter;
	uint8_t encrypted_data[];
} __attribute__((packed));

#define MESSAGE_DATA_HEADER_LEN 16
#define MESSAGE_MINIMUM_LENGTH (MESSAGE_DATA_HEADER_LEN + NOISE_AUTHTAG_LEN)

_Static_assert(sizeof(struct message_handshake_initiation) == 148, "initiation is 148 bytes");
_Static_assert(sizeof(struct message_handshake_response) == 92, "response is 92 bytes");
_Static_assert(sizeof(struct message_handshake_cookie) == 64, "cookie reply is 64 bytes");
_Static_assert(sizeof(struct message_data) == MESSAGE_DATA_HEADER_LEN, "data header is 16 bytes");

/* The message type, or MESSAGE_INVALID if @len does not fit it (paper §5.4: exact sizes for
 * handshake messages, at least header + tag for data). */
static inline enum message_type message_determine_type(const uint8_t *buf, size_t len)
{
	if (len < 4 || buf[1] || buf[2] || buf[3])
		return MESSAGE_INVALID;
	switch (buf[0]) {
	case MESSAGE_HANDSHAKE_INITIATION:
		return len == sizeof(struct message_handshake_initiation) ? MESSAGE_HANDSHAKE_INITIATION : MESSAGE_INVALID;
	case MESSAGE_HANDSHAKE_RESPONSE:
		return len == sizeof(struct message_handshake_response) ? MESSAGE_HANDSHAKE_RESPONSE : MESSAGE_INVALID;
	case MESSAGE_HANDSHAKE_COOKIE:
		return len == sizeof(struct message_handshake_cookie) ? MESSAGE_HANDSHAKE_COOKIE : MESSAGE_INVALID;
	case MESSAGE_DATA:
		return len >= MESSAGE_MINIMUM_LENGTH ? MESSAGE_DATA : MESSAGE_INVALID;
	}
	return MESSAGE_INVALID;
}

#endif
