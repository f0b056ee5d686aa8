#include "lib/cni_error.h"

#include <stdarg.h>
#include <string.h>

int cni_fail(struct cni_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -code;
}

void cni_error_print(FILE *f, const struct cni_error *e, const char *version)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "cniVersion", version);
	cJSON_AddNumberToObject(o, "code", e->code);
	cJSON_AddStringToObject(o, "msg", e->msg);
	if (e->details[0])
		cJSON_AddStringToObject(o, "details", e->details);
	s = cJSON_Print(o);
	if (s)
		fprintf(f, "%s\n", s);
	cJSON_free(s);
	cJSON_Delete(o);
}

int cni_error_from_json(const cJSON *json, struct cni_error *e)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(json, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(json, "msg");
	const cJSON *details = cJSON_GetObjectItemCaseSensitive(json, "details");

	if (!cJSON_IsNumber(code))
		return -1;
	e->code = code->valueint;
	snprintf(e->msg, sizeof(e->msg), "%s", cJSON_IsString(msg) ? msg->valuestring : "");
	snprintf(e->details, sizeof(e->details), "%s", cJSON_IsString(details) ? details->valuestring : "");
	return 0;
}
