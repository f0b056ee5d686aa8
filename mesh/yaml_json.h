/* yaml_json.h — one YAML document as a cJSON tree, so that a file Kubernetes tools write in
 * YAML (a kubeconfig, as kubectl and kind write it) is read by the same code as its JSON
 * form. libyaml parses; the conversion is YAML 1.2's JSON-compatible reading:
 *   mappings → objects (keys must be scalars; a key given twice is an error), sequences →
 *   arrays; quoted and block scalars → strings; plain scalars by YAML 1.2's core schema:
 *   null, Null, NULL, ~ and empty → null; true, True, TRUE, false, False, FALSE → booleans;
 *   decimal integers and floats → numbers, anything else → string. Tags are not read.
 * So a value that must stay a string but looks like a number is quoted, as in JSON.
 * Aliases are expanded, within limits that stop a "billion laughs" document: at most
 * YAML_JSON_MAX_NODES values in the tree and YAML_JSON_MAX_DEPTH levels of nesting.
 * Only the first document of a stream is read. The parser's buffers and the scalars' text
 * are zeroed before libyaml frees them (a kubeconfig holds tokens and private keys). */
#ifndef PODWIRE_MESH_YAML_JSON_H
#define PODWIRE_MESH_YAML_JSON_H

#include <stddef.h>

#include <cJSON.h>

#define YAML_JSON_MAX_NODES 100000
#define YAML_JSON_MAX_DEPTH 64

/* Parse @len bytes of @text. 0 and *@out (free with cJSON_Delete); -EINVAL with the reason
 * in @err ("line L column C: what"), -E2BIG past the limits, -ENOMEM. An empty document
 * is -EINVAL. */
int yaml_json_parse(const char *text, size_t len, cJSON **out, char *err, size_t err_len);

#endif
