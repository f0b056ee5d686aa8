/* decimal.c — strict unsigned decimal numbers (see decimal.h). */
#include "lib/decimal.h"

#include <errno.h>
#include <stdlib.h>

int decimal_parse(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}
