/* yaml_json.c — one YAML document as a cJSON tree (see yaml_json.h). */
#include "mesh/yaml_json.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <yaml.h>

struct conv {
	yaml_document_t *doc;
	size_t made;		/* values created so far, aliases counted each time */
	char *err;
	size_t err_len;
};

static int conv_fail(struct conv *c, const yaml_node_t *n, int ret, const char *what)
{
	snprintf(c->err, c->err_len, "line %zu column %zu: %s", n->start_mark.line + 1, n->start_mark.column + 1, what);
	return ret;
}

static bool one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

/* A decimal number of the core schema: [-+]? ( digits [. digits*]? | . digits ) ([eE] [-+]? digits)? */
static bool core_number(const char *s)
{
	bool digits = false;

	if (*s == '-' || *s == '+')
		s++;
	while (*s >= '0' && *s <= '9')
		s++, digits = true;
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9')
			s++, digits = true;
	}
	if (!digits)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return !*s;
}

static cJSON *scalar(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const trues[] = { "true", "True", "TRUE", NULL };
	static const char *const falses[] = { "false", "False", "FALSE", NULL };
	const char *s = (const char *)n->data.scalar.value;

	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		if (one_of(s, nulls))
			return cJSON_CreateNull();
		if (one_of(s, trues))
			return cJSON_CreateTrue();
		if (one_of(s, falses))
			return cJSON_CreateFalse();
		if (core_number(s)) {
			double d = strtod(s, NULL);

			if (isfinite(d))
				return cJSON_CreateNumber(d);
		}
	}
	return cJSON_CreateString(s);
}

static int convert(struct conv *c, const yaml_node_t *n, int depth, cJSON **out)
{
	cJSON *v = NULL;
	int ret;

	*out = NULL;
	if (depth > YAML_JSON_MAX_DEPTH)
		return conv_fail(c, n, -E2BIG, "nested too deeply");
	if (++c->made > YAML_JSON_MAX_NODES)
		return conv_fail(c, n, -E2BIG, "too many values (aliases expanded)");
	switch (n->type) {
	case YAML_SCALAR_NODE:
		if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
			return conv_fail(c, n, -EINVAL, "a NUL character in a scalar");
		v = scalar(n);
		break;
	case YAML_SEQUENCE_NODE:
		v = cJSON_CreateArray();
		for (yaml_node_item_t *i = n->data.sequence.items.start; v && i < n->data.sequence.items.top; i++) {
			cJSON *item;

			ret = convert(c, yaml_document_get_node(c->doc, *i), depth + 1, &item);
			if (ret) {
				cJSON_Delete(v);
				return ret;
			}
			cJSON_AddItemToArray(v, item);
		}
		break;
	case YAML_MAPPING_NODE:
		v = cJSON_CreateObject();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; v && p < n->data.mapping.pairs.top; p++) {
			const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
			const char *key;
			cJSON *item;

			if (k->type != YAML_SCALAR_NODE) {
				cJSON_Delete(v);
				return conv_fail(c, k, -EINVAL, "a mapping key that is not a scalar");
			}
			key = (const char *)k->data.scalar.value;
			if (cJSON_GetObjectItemCaseSensitive(v, key)) {
				char what[160];

				snprintf(what, sizeof(what), "key '%.100s' given twice", key);
				cJSON_Delete(v);
				return conv_fail(c, k, -EINVAL, what);
			}
			ret = convert(c, yaml_document_get_node(c->doc, p->value), depth + 1, &item);
			if (ret) {
				cJSON_Delete(v);
				return ret;
			}
			cJSON_AddItemToObject(v, key, item);
		}
		break;
	default:
		return conv_fail(c, n, -EINVAL, "an empty node");
	}
	if (!v)
		return -ENOMEM;
	*out = v;
	return 0;
}

/* Zero what libyaml holds of the input: its buffers and every scalar of the document. */
static void scrub(yaml_parser_t *p, yaml_document_t *doc)
{
	if (p->buffer.start)
		sodium_memzero(p->buffer.start, (size_t)(p->buffer.end - p->buffer.start));
	if (p->raw_buffer.start)
		sodium_memzero(p->raw_buffer.start, (size_t)(p->raw_buffer.end - p->raw_buffer.start));
	if (!doc)
		return;
	for (yaml_node_t *n = doc->nodes.start; n && n < doc->nodes.top; n++)
		if (n->type == YAML_SCALAR_NODE && n->data.scalar.value)
			sodium_memzero(n->data.scalar.value, n->data.scalar.length);
}

int yaml_json_parse(const char *text, size_t len, cJSON **out, char *err, size_t err_len)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct conv c = { .doc = &doc, .err = err, .err_len = err_len };
	const yaml_node_t *root;
	int ret;

	*out = NULL;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		ret = parser.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
		snprintf(err, err_len, "line %zu column %zu: %s%s%s", parser.problem_mark.line + 1,
			 parser.problem_mark.column + 1, parser.problem ? parser.problem : "not YAML",
			 parser.context ? " " : "", parser.context ? parser.context : "");
		scrub(&parser, NULL);
		yaml_parser_delete(&parser);
		return ret;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		snprintf(err, err_len, "no YAML document");
		ret = -EINVAL;
	} else {
		ret = convert(&c, root, 0, out);
	}
	scrub(&parser, &doc);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return ret;
}
