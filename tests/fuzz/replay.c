/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Runs a fuzz target's LLVMFuzzerTestOneInput() over every file of the corpus
 * directories (or single files) given as arguments, as libFuzzer would replay
 * them, so that `meson test --suite fuzz` checks the corpus with any compiler,
 * under ASan and UBSan in CI. Fails when an argument holds no input at all.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

/* Largest input replayed; every seed is far smaller. */
#define REPLAY_MAX_SIZE (4U << 20)

static int replay_file(int dir, const char *name, const char *shown)
{
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", shown, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)REPLAY_MAX_SIZE) {
		fprintf(stderr, "replay: %s: not a regular file of at most %u bytes\n", shown,
			REPLAY_MAX_SIZE);
		close(fd);
		return -1;
	}
	size_t size = (size_t)st.st_size;
	uint8_t *data = malloc(size ? size : 1);
	size_t done = 0;
	while (data && done < size) {
		ssize_t n = read(fd, data + done, size - done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	if (!data || done != size) {
		fprintf(stderr, "replay: %s: cannot read\n", shown);
		free(data);
		return -1;
	}
	/* An exact-size buffer: ASan sees a read past the input as it would under libFuzzer. */
	(void)LLVMFuzzerTestOneInput(data, size);
	free(data);
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *path, unsigned *count)
{
	DIR *d = opendir(path);
	char **names = NULL;
	size_t n = 0;
	int r = 0;

	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		char **grown = realloc(names, (n + 1) * sizeof(char *));
		if (!grown || !(grown[n] = strdup(de->d_name))) {
			names = grown ? grown : names;
			r = -1;
			break;
		}
		names = grown;
		n++;
	}
	qsort(names, n, sizeof(char *), compare_names);
	for (size_t i = 0; i < n; i++) {
		char shown[4096];
		snprintf(shown, sizeof(shown), "%s/%s", path, names[i]);
		if (r == 0 && replay_file(dirfd(d), names[i], shown) < 0)
			r = -1;
		else if (r == 0)
			(*count)++;
		free(names[i]);
	}
	free(names);
	closedir(d);
	return r;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS-DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		unsigned count = 0;
		int r;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (S_ISDIR(st.st_mode))
			r = replay_dir(argv[i], &count);
		else {
			r = replay_file(AT_FDCWD, argv[i], argv[i]);
			count = r == 0;
		}
		if (r < 0)
			return 1;
		if (count == 0) {
			fprintf(stderr, "replay: %s: no input\n", argv[i]);
			return 1;
		}
		printf("replay: %s: %u inputs\n", argv[i], count);
	}
	return 0;
}
