/* decimal.h — unsigned decimal numbers as machine-written text carries them (UAPI replies,
 * store records): digits only, no sign, no spaces, no base prefix (Go's
 * strconv.ParseUint(s, 10, bits)). Human-facing parsers (wg set, wg-quick configs) keep
 * the looser rules of the tools they mirror. */
#ifndef PODWIRE_DECIMAL_H
#define PODWIRE_DECIMAL_H

#include <stdint.h>

/* Parse all of @s into *out; -EINVAL when it is not such a number or exceeds @max. */
int decimal_parse(const char *s, uint64_t max, uint64_t *out);

#endif
