/* cni_version.h — the CNI spec versions podwire speaks and what each allows. */
#ifndef PODWIRE_CNI_VERSION_H
#define PODWIRE_CNI_VERSION_H

#include <cJSON.h>
#include <stdbool.h>

/* Ordered: comparisons between values mean "older/newer spec". */
enum cni_version { CNI_V030, CNI_V031, CNI_V040, CNI_V100, CNI_V110 };

#define CNI_VERSION_LATEST CNI_V110

/* Parse "0.3.0" … "1.1.0"; returns 0 or -EINVAL for a version we do not speak. */
int cni_version_parse(const char *s, enum cni_version *out);
const char *cni_version_str(enum cni_version v);
/* "0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0" for messages. */
const char *cni_version_list(void);
/* The VERSION verb's answer: {"cniVersion": latest, "supportedVersions": [...]}. */
cJSON *cni_version_info(void);
/* Print cni_version_info() to stdout: the whole VERSION verb. */
int cni_version_print(void);
/* Run by hand, CNI_COMMAND unset (the reference plugins' skel does the same): the about
 * text "CNI NAME plugin vX" and the versions spoken, on stdout when asked with --help or
 * --version, else on stderr. Returns true when it printed (main then exits 0). */
bool cni_about(const char *name, int argc, char *argv[]);
/* CHECK exists from 0.4.0, STATUS and GC from 1.1.0 (SPEC.md "CNI operations"). */
static inline bool cni_version_has_check(enum cni_version v) { return v >= CNI_V040; }
static inline bool cni_version_has_status_gc(enum cni_version v) { return v >= CNI_V110; }

#endif
