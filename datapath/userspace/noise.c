/* noise.c — Noise_IKpsk2 for WireGuard (paper §5.4.2–§5.4.5). Symbol names follow the
 * paper: C_i chaining key, H_i hash, E ephemeral, S static, Q preshared key. */
#include "datapath/userspace/noise.h"

#include <endian.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "datapath/userspace/blake2s.h"

/* Paper §5.4: Construction and Identifier strings. */
static const uint8_t noise_construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const uint8_t noise_identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";

static void mix_hash(uint8_t hash[NOISE_HASH_LEN], const uint8_t *src, size_t len)
{
	struct blake2s_state s;

	blake2s_init(&s, NOISE_HASH_LEN, NULL, 0);
	blake2s_update(&s, hash, NOISE_HASH_LEN);
	blake2s_update(&s, src, len);
	blake2s_final(&s, hash);
}

/* C_0 = HASH(Construction), H_0 = HASH(C_0 || Identifier), H_1 = HASH(H_0 || S_r). */
static void handshake_start(uint8_t ck[NOISE_HASH_LEN], uint8_t hash[NOISE_HASH_LEN],
			    const uint8_t responder_static[NOISE_PUBLIC_KEY_LEN])
{
	blake2s(ck, NOISE_HASH_LEN, noise_construction, sizeof(noise_construction) - 1, NULL, 0);
	memcpy(hash, ck, NOISE_HASH_LEN);
	mix_hash(hash, noise_identifier, sizeof(noise_identifier) - 1);
	mix_hash(hash, responder_static, NOISE_PUBLIC_KEY_LEN);
}

/* X25519; rejects the all-zero result of low-order points (paper §5.4, RFC 7748 §6.1). */
static int dh(uint8_t out[NOISE_PUBLIC_KEY_LEN], const uint8_t priv[NOISE_PUBLIC_KEY_LEN],
	      const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	return crypto_scalarmult_curve25519(out, priv, pub) ? -EINVAL : 0;
}

/* (C, k) = KDF2(C, DH(priv, pub)); k may be NULL when only the chaining key moves. */
static int mix_dh(uint8_t ck[NOISE_HASH_LEN], uint8_t key[NOISE_SYMMETRIC_KEY_LEN],
		  const uint8_t priv[NOISE_PUBLIC_KEY_LEN], const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	uint8_t shared[NOISE_PUBLIC_KEY_LEN];

	if (dh(shared, priv, pub))
		return -EINVAL;
	blake2s_hkdf(ck, key, NULL, ck, shared, sizeof(shared));
	sodium_memzero(shared, sizeof(shared));
	return 0;
}

/* E: H = HASH(H || E_pub), C = KDF1(C, E_pub). */
static void mix_ephemeral(uint8_t ck[NOISE_HASH_LEN], uint8_t hash[NOISE_HASH_LEN],
			  const uint8_t ephemeral_public[NOISE_PUBLIC_KEY_LEN])
{
	mix_hash(hash, ephemeral_public, NOISE_PUBLIC_KEY_LEN);
	blake2s_hkdf(ck, NULL, NULL, ck, ephemeral_public, NOISE_PUBLIC_KEY_LEN);
}

/* psk2: (C, tau, k) = KDF3(C, Q); H = HASH(H || tau). */
static void mix_psk(uint8_t ck[NOISE_HASH_LEN], uint8_t hash[NOISE_HASH_LEN],
		    uint8_t key[NOISE_SYMMETRIC_KEY_LEN], const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN])
{
	uint8_t tau[NOISE_HASH_LEN];

	blake2s_hkdf(ck, tau, key, ck, psk, NOISE_SYMMETRIC_KEY_LEN);
	mix_hash(hash, tau, sizeof(tau));
	sodium_memzero(tau, sizeof(tau));
}

/* AEAD(k, 0, plain, H), then H = HASH(H || cipher). */
static void encrypt_and_hash(uint8_t *dst, const uint8_t *src, size_t len,
			     const uint8_t key[NOISE_SYMMETRIC_KEY_LEN], uint8_t hash[NOISE_HASH_LEN])
{
	static const uint8_t zero_nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

	crypto_aead_chacha20poly1305_ietf_encrypt(dst, NULL, src, len, hash, NOISE_HASH_LEN,
						  NULL, zero_nonce, key);
	mix_hash(hash, dst, len + NOISE_AUTHTAG_LEN);
}

static int decrypt_and_hash(uint8_t *dst, const uint8_t *src, size_t len,
			    const uint8_t key[NOISE_SYMMETRIC_KEY_LEN], uint8_t hash[NOISE_HASH_LEN])
{
	static const uint8_t zero_nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

	if (crypto_aead_chacha20poly1305_ietf_decrypt(dst, NULL, NULL, src, len, hash,
						      NOISE_HASH_LEN, zero_nonce, key))
		return -EBADMSG;
	mix_hash(hash, src, len);
	return 0;
}

int noise_identity_set(struct noise_static_identity *id, const uint8_t private_key[NOISE_PUBLIC_KEY_LEN])
{
	uint8_t zero[NOISE_PUBLIC_KEY_LEN] = { 0 };

	if (!sodium_memcmp(private_key, zero, NOISE_PUBLIC_KEY_LEN)) {
		sodium_memzero(id, sizeof(*id));
		return 0;
	}
	memcpy(id->private_key, private_key, NOISE_PUBLIC_KEY_LEN);
	/* RFC 7748 §5 clamping, as wg and the kernel do on set. */
	id->private_key[0] &= 248;
	id->private_key[31] = (id->private_key[31] & 127) | 64;
	if (crypto_scalarmult_curve25519_base(id->public_key, id->private_key)) {
		sodium_memzero(id, sizeof(*id));
		return -EINVAL;
	}
	id->has_identity = true;
	return 0;
}

void noise_handshake_precompute(struct noise_handshake *hs, const struct noise_static_identity *id)
{
	hs->static_static_valid = id->has_identity &&
		!dh(hs->precomputed_static_static, id->private_key, hs->remote_static);
	if (!hs->static_static_valid)
		sodium_memzero(hs->precomputed_static_static, NOISE_PUBLIC_KEY_LEN);
}

void noise_handshake_init(struct noise_handshake *hs, const struct noise_static_identity *id,
			  const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN])
{
	memset(hs, 0, sizeof(*hs));
	memcpy(hs->remote_static, remote_static, NOISE_PUBLIC_KEY_LEN);
	noise_handshake_precompute(hs, id);
}

void noise_handshake_clear(struct noise_handshake *hs)
{
	hs->state = HANDSHAKE_ZEROED;
	sodium_memzero(hs->ephemeral_private, sizeof(hs->ephemeral_private));
	sodium_memzero(hs->remote_ephemeral, sizeof(hs->remote_ephemeral));
	sodium_memzero(hs->hash, sizeof(hs->hash));
	sodium_memzero(hs->chaining_key, sizeof(hs->chaining_key));
	hs->remote_index = 0;
}

void noise_tai64n(uint8_t out[NOISE_TIMESTAMP_LEN], const struct timespec *now)
{
	/* TAI64 label: 2^62 + 10 (TAI-UTC offset at the epoch, as every WireGuard does). */
	uint64_t secs = htobe64(0x400000000000000aULL + (uint64_t)now->tv_sec);
	uint32_t nsec = htobe32((uint32_t)now->tv_nsec & ~((1U << 24) - 1));

	memcpy(out, &secs, 8);
	memcpy(out + 8, &nsec, 4);
}

int noise_handshake_create_initiation(struct message_handshake_initiation *msg,
				      struct noise_handshake *hs,
				      const struct noise_static_identity *id,
				      uint32_t local_index,
				      const uint8_t ephemeral_private[NOISE_PUBLIC_KEY_LEN],
				      const uint8_t timestamp[NOISE_TIMESTAMP_LEN])
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	int ret = -EINVAL;

	if (!id->has_identity || !hs->static_static_valid)
		return -EINVAL;
	memset(msg, 0, sizeof(*msg));
	msg->type = htole32(MESSAGE_HANDSHAKE_INITIATION);
	handshake_start(hs->chaining_key, hs->hash, hs->remote_static);

	memcpy(hs->ephemeral_private, ephemeral_private, NOISE_PUBLIC_KEY_LEN);
	if (crypto_scalarmult_curve25519_base(msg->unencrypted_ephemeral, hs->ephemeral_private))
		goto out;
	mix_ephemeral(hs->chaining_key, hs->hash, msg->unencrypted_ephemeral);
	/* es */
	if (mix_dh(hs->chaining_key, key, hs->ephemeral_private, hs->remote_static))
		goto out;
	encrypt_and_hash(msg->encrypted_static, id->public_key, NOISE_PUBLIC_KEY_LEN, key, hs->hash);
	/* ss */
	blake2s_hkdf(hs->chaining_key, key, NULL, hs->chaining_key,
		     hs->precomputed_static_static, NOISE_PUBLIC_KEY_LEN);
	encrypt_and_hash(msg->encrypted_timestamp, timestamp, NOISE_TIMESTAMP_LEN, key, hs->hash);

	msg->sender_index = htole32(local_index);
	hs->local_index = local_index;
	hs->state = HANDSHAKE_CREATED_INITIATION;
	ret = 0;
out:
	if (ret)
		noise_handshake_clear(hs);
	sodium_memzero(key, sizeof(key));
	return ret;
}

struct noise_handshake *noise_handshake_consume_initiation(
	const struct message_handshake_initiation *msg, const struct noise_static_identity *id,
	struct noise_handshake *(*lookup)(void *ctx, const uint8_t public_key[NOISE_PUBLIC_KEY_LEN]),
	void *ctx, uint64_t now)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN], ck[NOISE_HASH_LEN], hash[NOISE_HASH_LEN];
	uint8_t s[NOISE_PUBLIC_KEY_LEN], t[NOISE_TIMESTAMP_LEN];
	struct noise_handshake *hs = NULL, *ret = NULL;
	bool replay, flood;

	if (!id->has_identity)
		return NULL;
	handshake_start(ck, hash, id->public_key);
	mix_ephemeral(ck, hash, msg->unencrypted_ephemeral);
	/* es */
	if (mix_dh(ck, key, id->private_key, msg->unencrypted_ephemeral))
		goto out;
	if (decrypt_and_hash(s, msg->encrypted_static, sizeof(msg->encrypted_static), key, hash))
		goto out;
	hs = lookup(ctx, s);
	if (!hs || !hs->static_static_valid)
		goto out;
	/* ss */
	blake2s_hkdf(ck, key, NULL, ck, hs->precomputed_static_static, NOISE_PUBLIC_KEY_LEN);
	if (decrypt_and_hash(t, msg->encrypted_timestamp, sizeof(msg->encrypted_timestamp), key, hash))
		goto out;
	/* Paper §5.1: a timestamp not greater than the last one is a replay; big-endian
	 * TAI64N compares as bytes. */
	replay = memcmp(t, hs->latest_timestamp, NOISE_TIMESTAMP_LEN) <= 0;
	flood = hs->last_initiation_consumption &&
		hs->last_initiation_consumption + NSEC_PER_SEC / INITIATIONS_PER_SECOND > now;
	if (replay || flood)
		goto out;

	memcpy(hs->remote_ephemeral, msg->unencrypted_ephemeral, NOISE_PUBLIC_KEY_LEN);
	memcpy(hs->latest_timestamp, t, NOISE_TIMESTAMP_LEN);
	memcpy(hs->hash, hash, NOISE_HASH_LEN);
	memcpy(hs->chaining_key, ck, NOISE_HASH_LEN);
	hs->remote_index = le32toh(msg->sender_index);
	hs->last_initiation_consumption = now;
	hs->state = HANDSHAKE_CONSUMED_INITIATION;
	ret = hs;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(hash, sizeof(hash));
	return ret;
}

int noise_handshake_create_response(struct message_handshake_response *msg,
				    struct noise_handshake *hs, uint32_t local_index,
				    const uint8_t ephemeral_private[NOISE_PUBLIC_KEY_LEN])
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	int ret = -EINVAL;

	if (hs->state != HANDSHAKE_CONSUMED_INITIATION)
		return -EINVAL;
	memset(msg, 0, sizeof(*msg));
	msg->type = htole32(MESSAGE_HANDSHAKE_RESPONSE);
	msg->receiver_index = htole32(hs->remote_index);

	memcpy(hs->ephemeral_private, ephemeral_private, NOISE_PUBLIC_KEY_LEN);
	if (crypto_scalarmult_curve25519_base(msg->unencrypted_ephemeral, hs->ephemeral_private))
		goto out;
	mix_ephemeral(hs->chaining_key, hs->hash, msg->unencrypted_ephemeral);
	/* ee, se */
	if (mix_dh(hs->chaining_key, NULL, hs->ephemeral_private, hs->remote_ephemeral) ||
	    mix_dh(hs->chaining_key, NULL, hs->ephemeral_private, hs->remote_static))
		goto out;
	mix_psk(hs->chaining_key, hs->hash, key, hs->preshared_key);
	encrypt_and_hash(msg->encrypted_nothing, NULL, 0, key, hs->hash);

	msg->sender_index = htole32(local_index);
	hs->local_index = local_index;
	hs->state = HANDSHAKE_CREATED_RESPONSE;
	ret = 0;
out:
	if (ret)
		noise_handshake_clear(hs);
	sodium_memzero(key, sizeof(key));
	return ret;
}

int noise_handshake_consume_response(const struct message_handshake_response *msg,
				     struct noise_handshake *hs,
				     const struct noise_static_identity *id)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN], ck[NOISE_HASH_LEN], hash[NOISE_HASH_LEN];
	int ret = -EBADMSG;

	if (hs->state != HANDSHAKE_CREATED_INITIATION || !id->has_identity ||
	    hs->local_index != le32toh(msg->receiver_index))
		return -EINVAL;
	/* Work on copies: a forged response must not disturb the pending initiation. */
	memcpy(ck, hs->chaining_key, sizeof(ck));
	memcpy(hash, hs->hash, sizeof(hash));
	mix_ephemeral(ck, hash, msg->unencrypted_ephemeral);
	/* ee, se */
	if (mix_dh(ck, NULL, hs->ephemeral_private, msg->unencrypted_ephemeral) ||
	    mix_dh(ck, NULL, id->private_key, msg->unencrypted_ephemeral))
		goto out;
	mix_psk(ck, hash, key, hs->preshared_key);
	if (decrypt_and_hash(NULL, msg->encrypted_nothing, sizeof(msg->encrypted_nothing), key, hash))
		goto out;

	memcpy(hs->remote_ephemeral, msg->unencrypted_ephemeral, NOISE_PUBLIC_KEY_LEN);
	memcpy(hs->chaining_key, ck, sizeof(ck));
	memcpy(hs->hash, hash, sizeof(hash));
	hs->remote_index = le32toh(msg->sender_index);
	hs->state = HANDSHAKE_CONSUMED_RESPONSE;
	ret = 0;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(hash, sizeof(hash));
	return ret;
}

int noise_handshake_begin_session(struct noise_handshake *hs, struct noise_keypair *kp,
				  uint64_t now)
{
	bool initiator;

	if (hs->state != HANDSHAKE_CONSUMED_RESPONSE && hs->state != HANDSHAKE_CREATED_RESPONSE)
		return -EINVAL;
	initiator = hs->state == HANDSHAKE_CONSUMED_RESPONSE;
	memset(kp, 0, sizeof(*kp));
	/* Paper §5.4.5: (T_send, T_recv) = KDF2(C, empty) for the initiator, swapped for
	 * the responder. */
	if (initiator)
		blake2s_hkdf(kp->send_key, kp->recv_key, NULL, hs->chaining_key, NULL, 0);
	else
		blake2s_hkdf(kp->recv_key, kp->send_key, NULL, hs->chaining_key, NULL, 0);
	kp->i_am_the_initiator = initiator;
	kp->birthdate = now;
	kp->local_index = hs->local_index;
	kp->remote_index = hs->remote_index;
	kp->send_valid = kp->recv_valid = true;
	replay_init(&kp->replay);
	noise_handshake_clear(hs);
	return 0;
}

void noise_keypair_wipe(struct noise_keypair *kp)
{
	sodium_memzero(kp->send_key, sizeof(kp->send_key));
	sodium_memzero(kp->recv_key, sizeof(kp->recv_key));
	kp->send_valid = kp->recv_valid = false;
}
