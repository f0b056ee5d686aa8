/* cidr.c — claiming cluster CIDR blocks with compare-and-swap (see cidr.h). */
#include "mesh/cidr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Blocks tried per allocation: enough for a /16 of /24s or a /16 of addresses. */
#define CIDR_MAX_BLOCKS (1U << 16)

int cidr_block_key(const struct ip_prefix *block, char *key, size_t len)
{
	char addr[IP_ADDR_STRLEN];
	int n;

	ip_addr_format(&block->addr, addr, sizeof(addr));
	n = snprintf(key, len, STORE_ALLOC_PREFIX "%s_%u", addr, block->cidr);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Add 2^@bit to a big-endian number of @n bytes (bit 0 = least significant). */
static void add_power_of_two(uint8_t *bytes, unsigned int n, unsigned int bit)
{
	unsigned int carry = 1U << (bit % 8);

	for (int i = (int)n - 1 - (int)(bit / 8); i >= 0 && carry; i--) {
		unsigned int sum = bytes[i] + carry;

		bytes[i] = (uint8_t)sum;
		carry = sum >> 8;
	}
}

int cidr_block_nth(const struct ip_prefix *pool, uint8_t block_len, uint64_t index, struct ip_prefix *out)
{
	unsigned int bits = ip_addr_bits(&pool->addr), width;

	if (block_len < pool->cidr || block_len > bits)
		return -EINVAL;
	width = block_len - pool->cidr;
	if (width < 64 && index >> width)
		return -ERANGE;
	*out = *pool;
	out->cidr = block_len;
	ip_prefix_mask(out);
	for (unsigned int j = 0; j < 64; j++)
		if (index >> j & 1)
			add_power_of_two(out->addr.bytes, bits / 8, bits - block_len + j);
	return 0;
}

static int parse_block_key(const char *key, struct ip_prefix *out)
{
	char buf[IP_PREFIX_STRLEN];
	char *us;

	if (strncmp(key, STORE_ALLOC_PREFIX, strlen(STORE_ALLOC_PREFIX)))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", key + strlen(STORE_ALLOC_PREFIX));
	us = strrchr(buf, '_');
	if (!us)
		return -EINVAL;
	*us = '/';
	return ip_prefix_parse(out, buf);
}

/* After a create that reported -ECANCELED: is @key ours all the same? It is when an earlier
 * attempt of the same create committed before the store's answer was lost (an etcd client
 * that retries on another member sees its own write as a lost race). */
static int claimed_by(struct store *s, const char *key, const char *owner)
{
	char *value = NULL;
	int ret = store_get(s, key, &value, NULL);

	if (!ret)
		ret = strcmp(value, owner) ? -EADDRINUSE : 0;
	else if (ret == -ENOENT)
		ret = -EAGAIN; /* released meanwhile */
	free(value);
	return ret;
}

int cidr_claim(struct store *s, const struct ip_prefix *block, const char *owner)
{
	struct store_kv *kvs = NULL;
	char key[128];
	size_t n = 0;
	int ret = cidr_block_key(block, key, sizeof(key));

	if (ret)
		return ret;
	ret = store_list(s, STORE_ALLOC_PREFIX, &kvs, &n);
	if (ret)
		return ret;
	for (size_t i = 0; i < n && !ret; i++) {
		struct ip_prefix p;

		if (!parse_block_key(kvs[i].key, &p) && ip_prefix_overlaps(&p, block) && strcmp(kvs[i].value, owner))
			ret = -EADDRINUSE;
	}
	store_kvs_free(kvs, n);
	if (ret)
		return ret;
	ret = store_cas(s, key, NULL, owner);
	return ret == -ECANCELED ? claimed_by(s, key, owner) : ret;
}

int cidr_allocate(struct store *s, const struct ip_prefix *pool, uint8_t block_len, uint64_t skip_first,
		  const char *owner, struct ip_prefix *out)
{
	struct store_kv *kvs = NULL;
	struct ip_prefix *held;
	size_t n = 0, n_held = 0;
	uint64_t count;
	int ret;

	if (block_len < pool->cidr || block_len > ip_addr_bits(&pool->addr))
		return -EINVAL;
	ret = store_list(s, STORE_ALLOC_PREFIX, &kvs, &n);
	if (ret)
		return ret;
	held = calloc(n + 1, sizeof(*held));
	if (!held) {
		store_kvs_free(kvs, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct ip_prefix p;

		if (parse_block_key(kvs[i].key, &p))
			continue;
		/* Already ours (a restart): keep it, so pods keep their addresses. */
		if (!strcmp(kvs[i].value, owner) && p.cidr == block_len && ip_prefix_contains(pool, &p.addr)) {
			*out = p;
			goto out;
		}
		held[n_held++] = p;
	}
	count = block_len - pool->cidr >= 32 ? CIDR_MAX_BLOCKS : 1ULL << (block_len - pool->cidr);
	if (count > CIDR_MAX_BLOCKS)
		count = CIDR_MAX_BLOCKS;
	ret = -ENOSPC;
	for (uint64_t i = skip_first; i < count; i++) {
		struct ip_prefix block;
		char key[128];
		bool taken = false;

		if (cidr_block_nth(pool, block_len, i, &block) || cidr_block_key(&block, key, sizeof(key)))
			continue;
		/* Overlap, not equality: a node given a fixed block of another size holds it too. */
		for (size_t j = 0; j < n_held && !taken; j++)
			taken = ip_prefix_overlaps(&held[j], &block);
		if (taken)
			continue;
		ret = store_cas(s, key, NULL, owner);
		if (ret == -ECANCELED)
			ret = claimed_by(s, key, owner);
		if (ret == -EADDRINUSE || ret == -EAGAIN)
			continue; /* someone else was faster: try the next block */
		if (!ret)
			*out = block;
		break;
	}
out:
	free(held);
	store_kvs_free(kvs, n);
	return ret;
}

int cidr_release(struct store *s, const struct ip_prefix *block, const char *owner)
{
	char key[128];
	int ret = cidr_block_key(block, key, sizeof(key));

	if (ret)
		return ret;
	ret = store_cas(s, key, owner, NULL);
	return ret == -ECANCELED ? 0 : ret;
}
