/* libFuzzer target for the wg-quick config parser: any bytes must give either a config
 * or a "PATH:LINE: reason" error, never a crash, leak or undefined behaviour; and whatever
 * parses must also strip and print. Seeds: tests/configs/{seed,valid,invalid}. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/device_config.h"
#include "lib/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *conf = NULL;
	char err[512], *text, *stripped = NULL;
	FILE *null;
	int ret;

	/* The parser takes a C string (config_read_file refuses NUL bytes before it). */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ret = config_parse(&conf, "fuzz.conf", text, err, sizeof(err));
	if (ret) {
		/* Every refusal names the file and a line. */
		if (conf || strncmp(err, "fuzz.conf:", 10))
			abort();
	} else {
		if (!conf)
			abort();
		null = fopen("/dev/null", "w");
		if (null) {
			device_config_print(null, conf);
			fclose(null);
		}
		if (config_strip(text, NULL, &stripped))
			abort();
		free(stripped);
		config_free(conf);
	}
	free(text);
	return 0;
}
