/* cookie.c — WireGuard's DoS mitigation (paper §5.3, §5.4.7). */
#include "datapath/userspace/cookie.h"

#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <string.h>

#include "datapath/userspace/blake2s.h"

/* Paper §5.4: LABEL-MAC1 and LABEL-COOKIE. */
static const uint8_t label_mac1[] = "mac1----";
static const uint8_t label_cookie[] = "cookie--";

static void derive_key(uint8_t key[NOISE_SYMMETRIC_KEY_LEN], const uint8_t *label,
		       const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	struct blake2s_state s;

	blake2s_init(&s, NOISE_SYMMETRIC_KEY_LEN, NULL, 0);
	blake2s_update(&s, label, 8);
	blake2s_update(&s, pub, NOISE_PUBLIC_KEY_LEN);
	blake2s_final(&s, key);
}

void cookie_checker_init(struct cookie_checker *c, const uint8_t our_public[NOISE_PUBLIC_KEY_LEN])
{
	memset(c, 0, sizeof(*c));
	derive_key(c->cookie_encryption_key, label_cookie, our_public);
	derive_key(c->message_mac1_key, label_mac1, our_public);
}

void cookie_init(struct cookie *c, const uint8_t peer_public[NOISE_PUBLIC_KEY_LEN])
{
	memset(c, 0, sizeof(*c));
	derive_key(c->cookie_decryption_key, label_cookie, peer_public);
	derive_key(c->message_mac1_key, label_mac1, peer_public);
}

/* mac1 covers everything before it; mac2 everything before mac2. */
static void compute_mac1(uint8_t mac[COOKIE_LEN], const uint8_t *msg, size_t len,
			 const uint8_t key[NOISE_SYMMETRIC_KEY_LEN])
{
	blake2s(mac, COOKIE_LEN, msg, len - sizeof(struct message_macs), key, NOISE_SYMMETRIC_KEY_LEN);
}

static void compute_mac2(uint8_t mac[COOKIE_LEN], const uint8_t *msg, size_t len,
			 const uint8_t cookie[COOKIE_LEN])
{
	blake2s(mac, COOKIE_LEN, msg, len - COOKIE_LEN, cookie, COOKIE_LEN);
}

/* Paper §5.4.7: cookie = MAC(R_m, A) with A the sender's IP address and UDP port. */
static void make_cookie(uint8_t cookie[COOKIE_LEN], struct cookie_checker *c,
			const struct sockaddr *src, uint64_t now, const struct wg_random *rng)
{
	struct blake2s_state s;

	if (c->secret_birthdate == 0 || c->secret_birthdate + COOKIE_SECRET_MAX_AGE <= now) {
		rng->fill(rng->ctx, c->secret, sizeof(c->secret));
		c->secret_birthdate = now;
	}
	blake2s_init(&s, COOKIE_LEN, c->secret, sizeof(c->secret));
	if (src->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)src;

		blake2s_update(&s, (const uint8_t *)&in->sin_addr, 4);
		blake2s_update(&s, (const uint8_t *)&in->sin_port, 2);
	} else if (src->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)src;

		blake2s_update(&s, (const uint8_t *)&in6->sin6_addr, 16);
		blake2s_update(&s, (const uint8_t *)&in6->sin6_port, 2);
	}
	blake2s_final(&s, cookie);
}

void cookie_add_macs(uint8_t *msg, size_t len, struct cookie *c, uint64_t now)
{
	struct message_macs *macs = (struct message_macs *)(msg + len - sizeof(struct message_macs));

	compute_mac1(macs->mac1, msg, len, c->message_mac1_key);
	memcpy(c->last_mac1_sent, macs->mac1, COOKIE_LEN);
	c->have_sent_mac1 = true;
	if (c->is_valid && c->birthdate + COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY > now)
		compute_mac2(macs->mac2, msg, len, c->cookie);
	else
		memset(macs->mac2, 0, COOKIE_LEN);
}

bool cookie_mac2_valid(struct cookie_checker *c, const uint8_t *msg, size_t len,
		       const struct sockaddr *src, uint64_t now, const struct wg_random *rng)
{
	const struct message_macs *macs = (const struct message_macs *)(msg + len - sizeof(struct message_macs));
	uint8_t computed[COOKIE_LEN], cookie[COOKIE_LEN];
	bool ok;

	/* An initiator without a cookie sends mac2 as zeros (paper §5.4.4); a real mac2 is
	 * zero with probability 2^-128. Such a message, the whole of a flood, costs no cookie
	 * derivation and no mac2 here: only the cookie reply's. */
	if (sodium_is_zero(macs->mac2, COOKIE_LEN))
		return false;
	make_cookie(cookie, c, src, now, rng);
	compute_mac2(computed, msg, len, cookie);
	ok = sodium_memcmp(computed, macs->mac2, COOKIE_LEN) == 0;
	sodium_memzero(cookie, sizeof(cookie));
	return ok;
}

enum cookie_mac_state cookie_validate(struct cookie_checker *c, const uint8_t *msg, size_t len,
				      const struct sockaddr *src, bool check_cookie, uint64_t now,
				      const struct wg_random *rng)
{
	const struct message_macs *macs = (const struct message_macs *)(msg + len - sizeof(struct message_macs));
	uint8_t computed[COOKIE_LEN];

	compute_mac1(computed, msg, len, c->message_mac1_key);
	if (sodium_memcmp(computed, macs->mac1, COOKIE_LEN))
		return COOKIE_INVALID_MAC;
	if (check_cookie && cookie_mac2_valid(c, msg, len, src, now, rng))
		return COOKIE_VALID_MAC_WITH_COOKIE;
	return COOKIE_VALID_MAC_BUT_NO_COOKIE;
}

void cookie_reply_create(struct message_handshake_cookie *reply, struct cookie_checker *c,
			 const uint8_t *msg, size_t len, uint32_t index,
			 const struct sockaddr *src, uint64_t now, const struct wg_random *rng)
{
	const struct message_macs *macs = (const struct message_macs *)(msg + len - sizeof(struct message_macs));
	uint8_t cookie[COOKIE_LEN];

	memset(reply, 0, sizeof(*reply));
	reply->type = htole32(MESSAGE_HANDSHAKE_COOKIE);
	reply->receiver_index = htole32(index);
	rng->fill(rng->ctx, reply->nonce, COOKIE_NONCE_LEN);
	make_cookie(cookie, c, src, now, rng);
	crypto_aead_xchacha20poly1305_ietf_encrypt(reply->encrypted_cookie, NULL, cookie, COOKIE_LEN,
						   macs->mac1, COOKIE_LEN, NULL, reply->nonce,
						   c->cookie_encryption_key);
	sodium_memzero(cookie, sizeof(cookie));
}

int cookie_reply_consume(const struct message_handshake_cookie *reply, struct cookie *c,
			 uint64_t now)
{
	uint8_t cookie[COOKIE_LEN];

	if (!c->have_sent_mac1)
		return -EINVAL;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(cookie, NULL, NULL, reply->encrypted_cookie,
						       sizeof(reply->encrypted_cookie),
						       c->last_mac1_sent, COOKIE_LEN, reply->nonce,
						       c->cookie_decryption_key))
		return -EBADMSG;
	memcpy(c->cookie, cookie, COOKIE_LEN);
	c->birthdate = now;
	c->is_valid = true;
	c->have_sent_mac1 = false;
	sodium_memzero(cookie, sizeof(cookie));
	return 0;
}
