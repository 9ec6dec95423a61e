/* The store's side of an upload's life (in-memory database): who an upload
 * is (relation, dev, ino, birth time), the one-transaction record with its
 * audit row, hook results, work lists for recovery and retention, and the
 * receipts listing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

static int setup(void **st)
{
	struct store *s = NULL;

	if (store_open(":memory:", true, &s) < 0)
		return -1;
	*st = s;
	return 0;
}

static int teardown(void **st)
{
	store_close(*st);
	return 0;
}

static struct store_receipt *get(struct store *s, int64_t id)
{
	static struct store_receipt r;

	assert_int_equal(store_upload_get(s, id, &r), 0);
	return &r;
}

static int count_cb(const struct store_receipt *r, void *ud)
{
	(void)r;
	++*(int *)ud;
	return 0;
}

static void daemon_row_is_claimed_by_its_file_then_ingested_once(void **st)
{
	struct store *s = *st;
	struct store_receipt *r;
	bool already = true;
	int64_t id = 0, id2 = 0;

	assert_int_equal(store_upload_received_from(s, "123456", "anna", "192.0.2.7",
						    "a.filepart", 5, 7, 42, 100),
			 0);
	r = get(s, 1);
	assert_int_equal(r->btime, -1); /* not claimed */
	assert_string_equal(r->src, "192.0.2.7");
	/* Renamed by the client before ingest: the claim takes the new name. */
	assert_int_equal(store_upload_claim_file(s, "123456", "a.txt", 5, 7, 42, 555, 101, &id,
						 &already),
			 0);
	assert_int_equal(id, 1);
	assert_false(already);
	r = get(s, 1);
	assert_string_equal(r->name, "a.txt");
	assert_string_equal(r->username, "anna");
	assert_int_equal(r->btime, 555);
	assert_int_equal(store_upload_record(s, id, "ab", 5, "/spool/1-a.txt", 102, true,
					     "id=1 name=\"a.txt\""),
			 0);
	assert_int_equal(store_upload_record(s, id, "ab", 5, "/spool/x", 103, true, "again"),
			 -ENOENT);
	/* The same file again, also under a new name: nothing to do, and the
	 * name it was ingested under stays. */
	assert_int_equal(store_upload_claim_file(s, "123456", "b.txt", 5, 7, 42, 555, 104, &id2,
						 &already),
			 0);
	assert_true(already);
	assert_int_equal(id2, 1);
	r = get(s, 1);
	assert_string_equal(r->name, "a.txt");
	assert_string_equal(r->cur_name, "b.txt");
	assert_string_equal(r->hook_state, "pending");
	assert_int_equal(r->ingested_at, 102);
}

static int audit_cb(const struct store_audit_row *a, void *ud)
{
	struct store_audit_row *out = ud;

	if (!strcmp(a->event, "upload_ingested")) {
		assert_int_equal(out->id, 0); /* exactly one */
		*out = *a;
	}
	return 0;
}

static void record_writes_its_audit_row_in_the_same_transaction(void **st)
{
	struct store *s = *st;
	struct store_audit_row a = { 0 };
	bool already;
	int64_t id;

	assert_int_equal(store_upload_received_from(s, "1", "anna", "192.0.2.7", "x", 1, 1, 1, 10),
			 0);
	assert_int_equal(store_upload_claim_file(s, "1", "x", 1, 1, 1, 9, 11, &id, &already), 0);
	assert_int_equal(store_upload_record(s, id, "cd", 1, "/s/1-x", 12, false, "id=1 x"), 0);
	assert_int_equal(store_upload_record(s, id, "cd", 1, "/s/1-x", 13, false, "id=1 x"),
			 -ENOENT);
	/* One audit row, with the upload's user and source. */
	assert_int_equal(store_audit_list(s, "1", NULL, 0, audit_cb, &a), 0);
	assert_true(a.id > 0);
	assert_string_equal(a.username, "anna");
	assert_string_equal(a.src, "192.0.2.7");
	assert_string_equal(a.outcome, "ok");
	assert_string_equal(a.detail, "id=1 x");
	assert_int_equal(a.at, 12);
	assert_string_equal(get(s, id)->hook_state, "");
}

static void a_reused_inode_is_a_new_upload_even_without_a_daemon_row(void **st)
{
	struct store *s = *st;
	bool already = true;
	int64_t id1, id2, id3;

	/* Ingested, then (spool copy removed by the back office) the inode is
	 * freed and reused by a file the daemon never reported. */
	assert_int_equal(store_upload_claim_file(s, "1", "a", 1, 7, 42, 1000, 10, &id1, &already),
			 0);
	assert_int_equal(store_upload_record(s, id1, "aa", 1, "/s/1-a", 11, false, "a"), 0);
	assert_int_equal(store_upload_claim_file(s, "1", "b", 2, 7, 42, 2000, 20, &id2, &already),
			 0);
	assert_false(already);
	assert_true(id2 != id1);
	assert_string_equal(get(s, id2)->username, "");
	/* The new one again: the same row. */
	assert_int_equal(store_upload_claim_file(s, "1", "b", 2, 7, 42, 2000, 21, &id3, &already),
			 0);
	assert_int_equal(id3, id2);
	assert_false(already);
	/* And with a daemon row for a third file on the inode, that row. */
	assert_int_equal(store_upload_record(s, id2, "bb", 2, "/s/2-b", 22, false, "b"), 0);
	assert_int_equal(store_upload_received_from(s, "1", "anna", "::1", "c", 3, 7, 42, 30), 0);
	assert_int_equal(store_upload_claim_file(s, "1", "c", 3, 7, 42, 3000, 31, &id3, &already),
			 0);
	assert_false(already);
	assert_string_equal(get(s, id3)->username, "anna");
}

static void without_birth_times_the_newest_row_decides(void **st)
{
	struct store *s = *st;
	bool already = false;
	int64_t id, id2;

	assert_int_equal(store_upload_claim_file(s, "1", "a", 1, 7, 42, 0, 10, &id, &already), 0);
	assert_int_equal(store_upload_record(s, id, "aa", 1, "/s/1-a", 11, false, "a"), 0);
	assert_int_equal(store_upload_claim_file(s, "1", "a2", 1, 7, 42, 0, 12, &id2, &already),
			 0);
	assert_true(already);
	assert_int_equal(id2, id);
}

static void hook_results_count_and_end_when_done(void **st)
{
	struct store *s = *st;
	struct store_receipt *r;
	bool already;
	int64_t id, ids[4];

	assert_int_equal(store_upload_claim_file(s, "1", "h", 1, 1, 5, 9, 10, &id, &already), 0);
	assert_int_equal(store_upload_todo(s, STORE_TODO_UNRECORDED, 0, 0, ids, 4), 1);
	assert_int_equal(store_upload_record(s, id, "ee", 1, "/s/1-h", 11, true, "h"), 0);
	assert_int_equal(store_upload_todo(s, STORE_TODO_UNRECORDED, 0, 0, ids, 4), 0);
	assert_int_equal(store_upload_todo(s, STORE_TODO_HOOK, 0, 0, ids, 4), 1);
	assert_int_equal(store_upload_hook_result(s, id, false, "exit status 3", 12, "x"), 0);
	assert_int_equal(store_upload_hook_result(s, id, false, "timeout", 13, "x"), 0);
	r = get(s, id);
	assert_string_equal(r->hook_state, "pending");
	assert_int_equal(r->hook_attempts, 2);
	assert_string_equal(r->hook_error, "timeout");
	assert_int_equal(store_upload_hook_result(s, id, true, NULL, 14, "x"), 0);
	r = get(s, id);
	assert_string_equal(r->hook_state, "done");
	assert_int_equal(r->hook_attempts, 3);
	assert_int_equal(store_upload_todo(s, STORE_TODO_HOOK, 0, 0, ids, 4), 0);
	assert_int_equal(store_upload_hook_result(s, id, true, NULL, 15, "x"), -ENOENT);
}

static void work_lists_follow_receipts_and_retention(void **st)
{
	struct store *s = *st;
	struct store_receipt *r;
	int64_t ids[8], id;
	bool already;
	int n = 0;

	for (int i = 0; i < 3; i++) {
		assert_int_equal(store_upload_claim_file(s, "1", "f", 1, 1, (uint64_t)(10 + i), 5,
							 100, &id, &already),
				 0);
		assert_int_equal(store_upload_record(s, id, "ff", 1, "/s", 100 + i, false, "f"), 0);
	}
	assert_int_equal(store_upload_todo(s, STORE_TODO_RECEIPT, 0, 0, ids, 8), 3);
	assert_int_equal(store_upload_todo(s, STORE_TODO_RECEIPT, 0, ids[0], ids, 8), 2);
	assert_int_equal(store_upload_receipt_written(s, 1, "1-f.json", 110), 0);
	assert_int_equal(store_upload_todo(s, STORE_TODO_RECEIPT, 0, 0, ids, 8), 2);
	assert_string_equal(get(s, 1)->receipt_name, "1-f.json");
	/* Ingested at 100, 101, 102: due by "ingested at or before". */
	assert_int_equal(store_upload_todo(s, STORE_TODO_EXPIRE_FILE, 101, 0, ids, 8), 2);
	assert_int_equal(store_upload_removed(s, ids[0], 200), 0);
	assert_int_equal(store_upload_todo(s, STORE_TODO_EXPIRE_FILE, 101, 0, ids, 8), 1);
	assert_int_equal(store_upload_todo(s, STORE_TODO_EXPIRE_RECEIPT, 500, 0, ids, 8), 1);
	assert_int_equal(store_upload_receipt_removed(s, 1, 201), 0);
	assert_int_equal(store_upload_todo(s, STORE_TODO_EXPIRE_RECEIPT, 500, 0, ids, 8), 0);
	r = get(s, 1);
	assert_int_equal(r->removed_at, 200);
	assert_int_equal(r->receipt_removed_at, 201);
	assert_int_equal(store_receipt_list(s, "1", count_cb, &n), 0);
	assert_int_equal(n, 3);
}

static void rows_a_full_scan_did_not_find_are_marked_vanished_but_stay_claimable(void **st)
{
	struct store *s = *st;
	bool already;
	int64_t id;

	assert_int_equal(store_upload_received_from(s, "1", "anna", "::1", "gone", 1, 1, 77, 50),
			 0);
	assert_int_equal(store_upload_received_from(s, "1", "anna", "::1", "new", 1, 1, 78, 60),
			 0);
	assert_int_equal(store_upload_mark_vanished(s, 60, 61), 1);
	assert_int_equal(get(s, 1)->vanished_at, 61);
	assert_int_equal(get(s, 2)->vanished_at, 0);
	/* Found after all: claimed like any received row, no longer vanished. */
	assert_int_equal(store_upload_claim_file(s, "1", "gone", 1, 1, 77, 9, 70, &id, &already),
			 0);
	assert_int_equal(id, 1);
	assert_int_equal(get(s, 1)->vanished_at, 0);
	assert_int_equal(store_upload_mark_vanished(s, 60, 71), 0);
}


static int64_t claim(struct store *s, const char *name, uint64_t ino)
{
	bool already = true;
	int64_t id = 0;

	assert_int_equal(store_upload_claim_file(s, "123456", name, 1, 1, ino, 5, 10, &id,
						 &already),
			 0);
	assert_false(already);
	return id;
}

static int rows(struct store *s)
{
	int n = 0;

	assert_int_equal(store_receipt_list(s, NULL, count_cb, &n), 0);
	return n;
}

static void a_batch_keeps_its_good_steps_and_drops_a_failed_one(void **st)
{
	struct store *s = *st;
	int64_t a, b;

	assert_int_equal(store_batch_begin(s), 0);
	assert_int_equal(store_batch_begin(s), -EINVAL); /* not nestable */
	a = claim(s, "a", 11);
	/* A step that fails (no such row) undoes itself only. */
	assert_int_equal(store_upload_record(s, 99, "ee", 1, "/s/99-x", 11, false, "x"), -ENOENT);
	b = claim(s, "b", 12);
	assert_int_equal(store_upload_record(s, a, "aa", 1, "/s/1-a", 12, false, "a"), 0);
	assert_int_equal(store_batch_end(s, true), 0);
	assert_int_equal(store_batch_end(s, true), -EINVAL); /* none open */
	assert_int_equal(rows(s), 2);
	assert_string_equal(get(s, a)->sha256, "aa");
	assert_int_equal(get(s, b)->ingested_at, 0);
}

static void a_batch_ended_without_commit_leaves_nothing(void **st)
{
	struct store *s = *st;

	assert_int_equal(store_batch_begin(s), 0);
	claim(s, "a", 11);
	claim(s, "b", 12);
	assert_int_equal(store_batch_end(s, false), 0);
	assert_int_equal(rows(s), 0);
	/* And the store takes a single write again afterwards. */
	claim(s, "c", 13);
	assert_int_equal(rows(s), 1);
}

static void the_daemon_records_upload_after_upload_with_its_own_values(void **st)
{
	struct store *s = *st;

	/* One prepared statement serves every record: nothing of one row may
	 * stay bound for the next. */
	assert_int_equal(store_upload_received_from(s, "123456", "anna", "192.0.2.7", "a.csv", 5,
						    7, 42, 100),
			 0);
	assert_int_equal(store_upload_received_from(s, "654321", NULL, NULL, "b.csv", 6, 7, 43,
						    101),
			 0);
	assert_int_equal(store_upload_received_from(s, "123456", "anna", "192.0.2.7", "a.csv", 5,
						    7, 42, 100),
			 0);
	assert_string_equal(get(s, 2)->relation, "654321");
	assert_string_equal(get(s, 2)->username, "");
	assert_string_equal(get(s, 2)->src, "");
	assert_string_equal(get(s, 2)->name, "b.csv");
	assert_int_equal(get(s, 2)->size, 6);
	assert_int_equal(get(s, 2)->received_at, 101);
	assert_string_equal(get(s, 3)->username, "anna");
	assert_int_equal(rows(s), 3);
}

struct holder {
	const char *path;
	int hold_ms;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool holding;
};

/* Another process's writer: takes the write lock, says so, holds it for
 * hold_ms, commits. */
static void *hold_lock(void *ud)
{
	struct holder *h = ud;
	struct timespec d = { h->hold_ms / 1000, (long)(h->hold_ms % 1000) * 1000000 };
	struct store *o = NULL;

	assert_int_equal(store_open(h->path, false, &o), 0);
	assert_int_equal(store_batch_begin(o), 0);
	claim(o, "held", 21);
	pthread_mutex_lock(&h->mu);
	h->holding = true;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	nanosleep(&d, NULL);
	assert_int_equal(store_batch_end(o, true), 0);
	store_close(o);
	return NULL;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void remove_db(const char *path)
{
	char p[64];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static void a_writer_waits_for_another_writer_and_then_goes_on(void **st)
{
	char path[] = "/tmp/sftpdrop-store-XXXXXX";
	struct holder h = { .path = path, .hold_ms = 200, .mu = PTHREAD_MUTEX_INITIALIZER,
			    .cv = PTHREAD_COND_INITIALIZER };
	struct store *s = NULL;
	struct timespec t0;
	pthread_t t;
	int fd = mkstemp(path);
	double ms;

	(void)st;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	assert_int_equal(store_open(path, true, &s), 0);
	assert_int_equal(pthread_create(&t, NULL, hold_lock, &h), 0);
	pthread_mutex_lock(&h.mu);
	while (!h.holding)
		pthread_cond_wait(&h.cv, &h.mu);
	pthread_mutex_unlock(&h.mu);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	claim(s, "waited", 22);
	ms = ms_since(&t0);
	/* It waited for the other commit (not failing at once with busy)
	 * and went on well before the 5 s timeout. */
	assert_true(ms > 100);
	assert_true(ms < 3000);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(rows(s), 2);
	store_close(s);
	remove_db(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(daemon_row_is_claimed_by_its_file_then_ingested_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(record_writes_its_audit_row_in_the_same_transaction,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_reused_inode_is_a_new_upload_even_without_a_daemon_row,
						setup, teardown),
		cmocka_unit_test_setup_teardown(without_birth_times_the_newest_row_decides, setup,
						teardown),
		cmocka_unit_test_setup_teardown(hook_results_count_and_end_when_done, setup,
						teardown),
		cmocka_unit_test_setup_teardown(work_lists_follow_receipts_and_retention, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			rows_a_full_scan_did_not_find_are_marked_vanished_but_stay_claimable, setup,
			teardown),
		cmocka_unit_test_setup_teardown(a_batch_keeps_its_good_steps_and_drops_a_failed_one,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_batch_ended_without_commit_leaves_nothing, setup,
						teardown),
		cmocka_unit_test(a_writer_waits_for_another_writer_and_then_goes_on),
		cmocka_unit_test_setup_teardown(
			the_daemon_records_upload_after_upload_with_its_own_values, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
