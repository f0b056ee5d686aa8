/* The state directory's lock: one holder at a time, named in the lock file, released by
 * closing (as by the holder's death), the directory made 0700 only when asked, and a
 * symlink planted as the lock file refused. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/statelock.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/pn-unit-lock.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void test_one_holder(void **state)
{
	struct statelock_holder h;
	char sub[128], path[256], text[128] = "";
	struct stat st;
	int fd, fd2, tfd;

	snprintf(sub, sizeof(sub), "%s/state", dir);
	/* Missing and not to be created (--cleanup): -ENOENT, nothing made. */
	assert_int_equal(statelock_take(sub, "n1", false, &h, path, sizeof(path)), -ENOENT);
	assert_int_not_equal(stat(sub, &st), 0);

	fd = statelock_take(sub, "n1", true, &h, path, sizeof(path));
	assert_true(fd >= 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	tfd = open(path, O_RDONLY);
	assert_true(tfd >= 0);
	assert_true(read(tfd, text, sizeof(text) - 1) > 0);
	close(tfd);
	{
		char want[64];

		snprintf(want, sizeof(want), "%ld n1\n", (long)getpid());
		assert_string_equal(text, want);
	}

	/* A second taker (another open file description, as another process) is refused and
	 * told who holds it; the holder's text is left as it was. */
	assert_int_equal(statelock_take(sub, "n9", true, &h, path, sizeof(path)), -EBUSY);
	assert_int_equal(h.pid, getpid());
	assert_string_equal(h.node, "n1");

	/* Another process sees the same. */
	{
		pid_t child = fork();
		int status;

		assert_true(child >= 0);
		if (!child) {
			struct statelock_holder ch;
			char p[256];

			_exit(statelock_take(sub, "n2", true, &ch, p, sizeof(p)) == -EBUSY && ch.pid == getppid() ? 0 : 1);
		}
		assert_int_equal(waitpid(child, &status, 0), child);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}

	/* Released with its descriptor (the kernel does it when the holder dies): the file stays,
	 * the next holder takes it and writes its own name. */
	close(fd);
	fd2 = statelock_take(sub, "n2", true, &h, path, sizeof(path));
	assert_true(fd2 >= 0);
	tfd = open(path, O_RDONLY);
	memset(text, 0, sizeof(text));
	assert_true(read(tfd, text, sizeof(text) - 1) > 0);
	close(tfd);
	assert_non_null(strstr(text, " n2\n"));
	close(fd2);
}

static void test_symlink_refused(void **state)
{
	struct statelock_holder h;
	char sub[128], target[160], link_path[192], path[256];
	struct stat st;

	snprintf(sub, sizeof(sub), "%s/planted", dir);
	snprintf(target, sizeof(target), "%s/victim", dir);
	snprintf(link_path, sizeof(link_path), "%s/" STATELOCK_FILE, sub);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(symlink(target, link_path), 0);
	assert_int_equal(statelock_take(sub, "n1", true, &h, path, sizeof(path)), -ELOOP);
	assert_int_not_equal(stat(target, &st), 0); /* not created through the link */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_holder),
		cmocka_unit_test(test_symlink_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
