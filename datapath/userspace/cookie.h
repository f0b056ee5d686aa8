/* cookie.h — MAC1/MAC2 on handshake messages and cookie replies (WireGuard paper §5.4.4,
 * §5.4.7): under load a responder answers an initiation with an encrypted cookie bound to
 * the sender's address, and only processes messages whose MAC2 proves that address. */
#ifndef PODWIRE_US_COOKIE_H
#define PODWIRE_US_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "datapath/userspace/messages.h"
#include "datapath/userspace/random.h"

/* The responder side: keys derived from our own public key plus a rotating secret. */
struct cookie_checker {
	uint8_t secret[NOISE_HASH_LEN];
	uint64_t secret_birthdate;
	uint8_t cookie_encryption_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t message_mac1_key[NOISE_SYMMETRIC_KEY_LEN];
};

/* The initiator side, per peer: keys from the peer's public key and the last cookie. */
struct cookie {
	uint64_t birthdate;
	bool is_valid;
	uint8_t cookie[COOKIE_LEN];
	bool have_sent_mac1;
	uint8_t last_mac1_sent[COOKIE_LEN];
	uint8_t cookie_decryption_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t message_mac1_key[NOISE_SYMMETRIC_KEY_LEN];
};

enum cookie_mac_state {
	COOKIE_INVALID_MAC,
	COOKIE_VALID_MAC_BUT_NO_COOKIE,
	COOKIE_VALID_MAC_WITH_COOKIE,
};

/* Derive the checker's keys from our public key (all-zero key when there is none). */
void cookie_checker_init(struct cookie_checker *c, const uint8_t our_public[NOISE_PUBLIC_KEY_LEN]);
void cookie_init(struct cookie *c, const uint8_t peer_public[NOISE_PUBLIC_KEY_LEN]);

/* Fill mac1 (and mac2 when a fresh cookie is held) of a handshake message of @len bytes
 * whose last 32 bytes are struct message_macs. */
void cookie_add_macs(uint8_t *msg, size_t len, struct cookie *c, uint64_t now);

/* Check mac1, and mac2 against the cookie for @src when @check_cookie (under load). */
enum cookie_mac_state cookie_validate(struct cookie_checker *c, const uint8_t *msg, size_t len,
				      const struct sockaddr *src, bool check_cookie, uint64_t now,
				      const struct wg_random *rng);

/* Under load, for a message whose mac1 was found valid: does mac2 prove @src (made with the
 * cookie we would give @src now)? A zero mac2 (no cookie held) is refused without work. */
bool cookie_mac2_valid(struct cookie_checker *c, const uint8_t *msg, size_t len,
		       const struct sockaddr *src, uint64_t now, const struct wg_random *rng);

/* Build a cookie reply to handshake message @msg (its mac1 is the AEAD's associated data)
 * whose sender index is @index, for a sender at @src. */
void cookie_reply_create(struct message_handshake_cookie *reply, struct cookie_checker *c,
			 const uint8_t *msg, size_t len, uint32_t index,
			 const struct sockaddr *src, uint64_t now, const struct wg_random *rng);

/* Accept a cookie reply for a peer: it must decrypt under the mac1 we last sent.
 * Returns 0 or -EBADMSG / -EINVAL (nothing sent to answer). */
int cookie_reply_consume(const struct message_handshake_cookie *reply, struct cookie *c,
			 uint64_t now);

#endif
