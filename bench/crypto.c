/* bench/crypto.c — the single-core ceiling for podwire-wg's data path: ChaCha20-Poly1305
 * (libsodium, as podwire-wg uses it) sealing 1420-byte packets in place for about two
 * seconds. Prints packets/s and Gbit/s. Built and run by bench/crypto.sh. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	static unsigned char buf[1420 + crypto_aead_chacha20poly1305_IETF_ABYTES];
	unsigned char key[crypto_aead_chacha20poly1305_IETF_KEYBYTES];
	unsigned char nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES] = { 0 };
	unsigned long long n = 0, counter = 0;
	double t0, t;

	if (sodium_init() < 0)
		return 1;
	randombytes_buf(key, sizeof(key));
	randombytes_buf(buf, 1420);
	t0 = now();
	do {
		for (int i = 0; i < 1000; i++) {
			memcpy(nonce + 4, &counter, 8);
			counter++;
			crypto_aead_chacha20poly1305_ietf_encrypt(buf, NULL, buf, 1420, NULL, 0, NULL, nonce, key);
		}
		n += 1000;
		t = now() - t0;
	} while (t < 2.0);
	printf("ChaCha20-Poly1305 seal, 1420-byte packets, one core: %.0f kpps = %.2f Gbit/s\n",
	       n / t / 1e3, n * 1420 * 8 / t / 1e9);
	return 0;
}
