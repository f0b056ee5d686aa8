/* replay_main.c — a fuzz target without libFuzzer: feeds it every file of its committed corpus,
 * so that the inputs the fuzzer found keep protecting the code in every test run (built with
 * the normal compiler and, in build-asan, ASan+UBSan). Linked as $(BUILD)/tests/test_fuzz_NAME
 * with tests/fuzz/fuzz_NAME.c; reads tests/fuzz/corpus/NAME/ (or the directories or files on
 * the command line). A target checks its invariants with abort(), which fails the test; an
 * empty or missing corpus fails too, as a replay of nothing proves nothing. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		fprintf(stderr, "replay: %s: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			uint8_t *grown = realloc(buf, cap = cap ? cap * 2 : 4096);

			if (!grown) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = grown;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every regular file of @dir, in name order; returns how many, or -1. */
static int replay_dir(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, by_name), done = 0;

	if (n < 0) {
		fprintf(stderr, "replay: %s: cannot read: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && !stat(path, &st) && S_ISREG(st.st_mode)) {
			if (replay_file(path))
				done = -1;
			else if (done >= 0)
				done++;
		}
		free(names[i]);
	}
	free(names);
	return done;
}

int main(int argc, char *argv[])
{
	const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	char corpus[256];
	int total = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			struct stat st;
			int n = !stat(argv[i], &st) && S_ISDIR(st.st_mode) ? replay_dir(argv[i]) :
									     (replay_file(argv[i]) ? -1 : 1);

			if (n < 0)
				return 1;
			total += n;
		}
	} else {
		/* test_fuzz_NAME replays tests/fuzz/corpus/NAME (tests/run runs from the top). */
		if (strncmp(prog, "test_fuzz_", 10)) {
			fprintf(stderr, "usage: test_fuzz_NAME [CORPUS_DIR_OR_FILE...]\n");
			return 2;
		}
		snprintf(corpus, sizeof(corpus), "tests/fuzz/corpus/%s", prog + 10);
		total = replay_dir(corpus);
		if (total < 0)
			return 1;
		printf("%s: replayed %d inputs from %s: no invariant broken\n", prog, total, corpus);
	}
	if (total == 0) {
		fprintf(stderr, "%s: no inputs to replay\n", prog);
		return 1;
	}
	return 0;
}
