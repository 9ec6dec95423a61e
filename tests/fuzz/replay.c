/* Replay driver: runs LLVMFuzzerTestOneInput over every file in the
 * directories (or files) named on the command line, so that a fuzz corpus
 * is a regression test under any compiler, without libFuzzer. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Corpus files are small; anything larger is a mistake, not an input. */
#define REPLAY_MAX_FILE (16u * 1024 * 1024)

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	struct stat st;
	size_t n;
	int r = -1;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) < 0 || st.st_size < 0 ||
	    (uint64_t)st.st_size > REPLAY_MAX_FILE) {
		fprintf(stderr, "replay: %s: unusable size\n", path);
		goto out;
	}
	/* Exact-size heap copy: an over-read by the target hits ASan. */
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf)
		goto out;
	n = fread(buf, 1, (size_t)st.st_size, f);
	if (n != (size_t)st.st_size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		goto out;
	}
	LLVMFuzzerTestOneInput(buf, n);
	r = 0;
out:
	free(buf);
	fclose(f);
	return r;
}

int main(int argc, char **argv)
{
	unsigned files = 0, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		if (!S_ISDIR(st.st_mode)) {
			files++;
			failed += run_file(argv[i]) < 0;
			continue;
		}
		d = opendir(argv[i]);
		if (!d) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		while ((de = readdir(d))) {
			char path[4096];
			struct stat fst;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
			if (stat(path, &fst) < 0 || !S_ISREG(fst.st_mode))
				continue;
			files++;
			failed += run_file(path) < 0;
		}
		closedir(d);
	}
	printf("replay: %u inputs, %u unreadable\n", files, failed);
	/* An empty corpus would make this test pass vacuously. */
	return (files == 0 || failed) ? 1 : 0;
}
