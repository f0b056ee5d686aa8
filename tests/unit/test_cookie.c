/* test_cookie.c — MAC1/MAC2 and cookie replies (paper §5.4.4, §5.4.7): mac1 binds a
 * message to the responder's key, a cookie reply decrypts only for the mac1 it answers,
 * mac2 is valid only from the address the cookie was made for and only while the secret
 * lives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>

#include "datapath/userspace/cookie.h"

static struct sockaddr_in addr(uint32_t ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(ip);
	return a;
}

static void test_mac1(void **state)
{
	uint8_t resp_pub[32], other_pub[32];
	struct message_handshake_initiation msg;
	struct cookie_checker checker, wrong;
	struct cookie c;
	struct sockaddr_in src = addr(0x0a000001, 1000);

	randombytes_buf(resp_pub, 32);
	randombytes_buf(other_pub, 32);
	randombytes_buf(&msg, sizeof(msg));
	cookie_checker_init(&checker, resp_pub);
	cookie_checker_init(&wrong, other_pub);
	cookie_init(&c, resp_pub);
	cookie_add_macs((uint8_t *)&msg, sizeof(msg), &c, 1);
	assert_true(c.have_sent_mac1);
	assert_int_equal(cookie_validate(&checker, (uint8_t *)&msg, sizeof(msg), (struct sockaddr *)&src,
					 false, 1, &wg_random_system), COOKIE_VALID_MAC_BUT_NO_COOKIE);
	assert_int_equal(cookie_validate(&wrong, (uint8_t *)&msg, sizeof(msg), (struct sockaddr *)&src,
					 false, 1, &wg_random_system), COOKIE_INVALID_MAC);
	msg.sender_index ^= 1;
	assert_int_equal(cookie_validate(&checker, (uint8_t *)&msg, sizeof(msg), (struct sockaddr *)&src,
					 false, 1, &wg_random_system), COOKIE_INVALID_MAC);
}

static void test_cookie_round_trip(void **state)
{
	const uint64_t t0 = 1000 * NSEC_PER_SEC;
	struct message_handshake_initiation msg;
	struct message_handshake_cookie reply;
	struct cookie_checker checker;
	uint8_t resp_pub[32];
	struct cookie c;
	struct sockaddr_in src = addr(0x0a000001, 1000), other = addr(0x0a000001, 1001);

	randombytes_buf(resp_pub, 32);
	randombytes_buf(&msg, sizeof(msg));
	cookie_checker_init(&checker, resp_pub);
	cookie_init(&c, resp_pub);

	/* Consuming a reply before sending anything is refused. */
	memset(&reply, 0, sizeof(reply));
	assert_int_equal(cookie_reply_consume(&reply, &c, t0), -EINVAL);

	cookie_add_macs((uint8_t *)&msg, sizeof(msg), &c, t0);
	assert_int_equal(cookie_validate(&checker, (uint8_t *)&msg, sizeof(msg), (struct sockaddr *)&src,
					 true, t0, &wg_random_system), COOKIE_VALID_MAC_BUT_NO_COOKIE);
	cookie_reply_create(&reply, &checker, (uint8_t *)&msg, sizeof(msg), 42, (struct sockaddr *)&src,
			    t0, &wg_random_system);
	assert_int_equal(reply.type, MESSAGE_HANDSHAKE_COOKIE);
	assert_int_equal(reply.receiver_index, 42);

	/* A tampered reply does not decrypt. */
	reply.encrypted_cookie[0] ^= 1;
	assert_int_equal(cookie_reply_consume(&reply, &c, t0), -EBADMSG);
	reply.encrypted_cookie[0] ^= 1;
	assert_int_equal(cookie_reply_consume(&reply, &c, t0), 0);
	assert_true(c.is_valid);

	/* The retry carries mac2: valid from the same address only. */
	cookie_add_macs((uint8_t *)&msg, sizeof(msg), &c, t0 + NSEC_PER_SEC);
	assert_int_equal(cookie_validate(&checker, (uint8_t *)&msg, sizeof(msg), (struct sockaddr *)&src,
					 true, t0 + NSEC_PER_SEC, &wg_random_system), COOKIE_VALID_MAC_WITH_COOKIE);
	assert_int_equal(cookie_validate(&checker, (uint8_t *)&msg, sizeof(msg), (struct sockaddr *)&other,
					 true, t0 + NSEC_PER_SEC, &wg_random_system), COOKIE_VALID_MAC_BUT_NO_COOKIE);
	assert_true(cookie_mac2_valid(&checker, (uint8_t *)&msg, sizeof(msg), (struct sockaddr *)&src,
				      t0 + NSEC_PER_SEC, &wg_random_system));
	assert_false(cookie_mac2_valid(&checker, (uint8_t *)&msg, sizeof(msg), (struct sockaddr *)&other,
				       t0 + NSEC_PER_SEC, &wg_random_system));

	/* After COOKIE_SECRET_MAX_AGE - LATENCY the initiator stops using it (mac2 zero), and
	 * the responder's secret has rotated by MAX_AGE anyway. */
	cookie_add_macs((uint8_t *)&msg, sizeof(msg), &c, t0 + COOKIE_SECRET_MAX_AGE);
	assert_true(sodium_is_zero(msg.macs.mac2, sizeof(msg.macs.mac2)));
	assert_false(cookie_mac2_valid(&checker, (uint8_t *)&msg, sizeof(msg), (struct sockaddr *)&src,
				       t0 + COOKIE_SECRET_MAX_AGE, &wg_random_system));
	assert_int_equal(cookie_validate(&checker, (uint8_t *)&msg, sizeof(msg), (struct sockaddr *)&src,
					 true, t0 + COOKIE_SECRET_MAX_AGE, &wg_random_system),
			 COOKIE_VALID_MAC_BUT_NO_COOKIE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac1),
		cmocka_unit_test(test_cookie_round_trip),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
