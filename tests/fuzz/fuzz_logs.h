/* fuzz_logs.h — for fuzz targets whose code logs what it refuses: the log lines are still
 * built (formatted and escaped, which is code under test too) but written to /dev/null. */
#ifndef PODWIRE_TESTS_FUZZ_LOGS_H
#define PODWIRE_TESTS_FUZZ_LOGS_H

#include <stdio.h>

#include "lib/log.h"

static inline void fuzz_logs_to_null(void)
{
	static FILE *null;

	null = fopen("/dev/null", "w");
	if (null)
		log_set_file(null);
}

#endif
