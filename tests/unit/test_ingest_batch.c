/* A batch of candidates through every ingest step on a temporary tree and
 * an in-memory store: each outcome on its own (done, gone, not a regular
 * file, already ingested), the spool copies and their SHA-256, the records
 * and the receipts, as one candidate at a time would leave them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "ingest.h"
#include "store.h"

struct tree {
	char dir[64];
	char path[192];
	struct conf conf;
	struct ingest_ctx ctx;
	struct store *store;
};

static void put(struct tree *t, const char *rel, const char *data)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/up/%s", t->dir, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(data, f);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **st)
{
	struct tree *t = calloc(1, sizeof(*t));
	char p[256];

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/sftpdrop-batch-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(p, sizeof(p), "%s/up", t->dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/up/123456", t->dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/spool", t->dir);
	mkdir(p, 0755);
	snprintf(t->path, sizeof(t->path), "%s/spool", t->dir);
	t->conf.ingest_skip_patterns = "*.filepart,*.part,*.tmp,~*";
	if (store_open(":memory:", true, &t->store) < 0)
		return -1;
	t->ctx.conf = &t->conf;
	t->ctx.store = t->store;
	snprintf(p, sizeof(p), "%s/up", t->dir);
	t->ctx.root_fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	t->ctx.spool_fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	t->ctx.spool_dir = t->path;
	*st = t;
	return t->ctx.root_fd >= 0 && t->ctx.spool_fd >= 0 ? 0 : -1;
}

static int teardown(void **st)
{
	struct tree *t = *st;
	char cmd[128];

	close(t->ctx.root_fd);
	close(t->ctx.spool_fd);
	store_close(t->store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static void run(struct tree *t, struct ingest_job *jobs, const char *const *keys, size_t n)
{
	memset(jobs, 0, n * sizeof(*jobs));
	for (size_t i = 0; i < n; i++)
		jobs[i].key = keys[i];
	ingest_process_batch(&t->ctx, jobs, n);
}

static void file_is(struct tree *t, const char *rel, const char *want)
{
	char p[256], got[64] = "";
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/%s", t->dir, rel);
	f = fopen(p, "r");
	assert_non_null(f);
	n = fread(got, 1, sizeof(got) - 1, f);
	fclose(f);
	got[n] = '\0';
	assert_string_equal(got, want);
}

static void each_candidate_gets_its_own_outcome_and_the_done_ones_everything(void **st)
{
	static const char *const keys[] = { "123456/a.txt", "123456/missing", "123456/pipe",
					    "123456/b.txt", "123456/skip.filepart" };
	struct tree *t = *st;
	struct ingest_job *jobs = calloc(5, sizeof(*jobs));
	struct store_receipt r;
	char p[256];

	assert_non_null(jobs);
	put(t, "123456/a.txt", "alpha");
	put(t, "123456/b.txt", "bravo!");
	put(t, "123456/skip.filepart", "half");
	snprintf(p, sizeof(p), "%s/up/123456/pipe", t->dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	run(t, jobs, keys, 5);
	assert_int_equal(jobs[0].r, INGEST_DONE);
	assert_int_equal(jobs[1].r, INGEST_GONE);
	assert_int_equal(jobs[2].r, INGEST_GONE);
	assert_int_equal(jobs[3].r, INGEST_DONE);
	assert_int_equal(jobs[4].r, INGEST_GONE);
	/* Ids in batch order; spool copies, records and receipts for both. */
	file_is(t, "spool/123456/1-a.txt", "alpha");
	file_is(t, "spool/123456/2-b.txt", "bravo!");
	assert_int_equal(store_upload_get(t->store, 1, &r), 0);
	assert_string_equal(r.sha256,
			    "8ed3f6ad685b959ead7022518e1af76cd816f8e8ec7ccdda1ed4018e8f2223f8");
	assert_true(r.ingested_at > 0);
	assert_string_equal(r.receipt_name, "1-a.txt.json");
	assert_int_equal(store_upload_get(t->store, 2, &r), 0);
	assert_string_equal(r.sha256,
			    "9b79d8af8bb7faa6c1f7f235d0ada0ac29a8edde346e181581ffc3c596eb62fb");
	assert_string_equal(r.receipt_name, "2-b.txt.json");
	snprintf(p, sizeof(p), "%s/up/123456/" SD_RECEIPTS_DIR "/2-b.txt.json", t->dir);
	assert_int_equal(access(p, R_OK), 0);
	assert_int_equal(store_upload_get(t->store, 3, &r), -ENOENT);

	/* Seen again (an event after the rescan): ingested once only. */
	run(t, jobs, keys, 5);
	assert_int_equal(jobs[0].r, INGEST_ALREADY);
	assert_int_equal(jobs[3].r, INGEST_ALREADY);
	assert_int_equal(store_upload_get(t->store, 3, &r), -ENOENT);
	free(jobs);
}

static void one_file_twice_in_a_batch_is_ingested_once(void **st)
{
	static const char *const keys[] = { "123456/c.txt", "123456/c.txt" };
	struct tree *t = *st;
	struct ingest_job *jobs = calloc(2, sizeof(*jobs));
	struct store_receipt r;

	assert_non_null(jobs);
	put(t, "123456/c.txt", "charlie");
	run(t, jobs, keys, 2);
	assert_int_equal(jobs[0].r, INGEST_DONE);
	assert_int_equal(jobs[1].r, INGEST_ALREADY);
	file_is(t, "spool/123456/1-c.txt", "charlie");
	assert_int_equal(store_upload_get(t->store, 2, &r), -ENOENT);
	free(jobs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			each_candidate_gets_its_own_outcome_and_the_done_ones_everything, setup,
			teardown),
		cmocka_unit_test_setup_teardown(one_file_twice_in_a_batch_is_ingested_once, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
