/* Unit tests of the ingest watcher's pure parts: where a path sits under the
 * upload root, which names are never ingested, spool file names, the settle
 * queue's deadlines and ordering, the retry backoff and the clock hook;
 * receipt names and documents, hook arguments and staging names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "staging.h"
#include "store.h"

#define DEFAULT_SKIP "*.filepart,*.part,*.tmp,~*"

/* ---- path.c ---- */

static void relative_path_is_what_follows_the_root(void **state)
{
	const char *rel = NULL;

	(void)state;
	assert_int_equal(ingest_path_relative("/srv/up", "/srv/up/123/a.txt", &rel), 0);
	assert_string_equal(rel, "123/a.txt");
	assert_int_equal(ingest_path_relative("/srv/up/", "/srv/up/123/a.txt", &rel), 0);
	assert_string_equal(rel, "123/a.txt");
	assert_int_equal(ingest_path_relative("/", "/123/a", &rel), 0);
	assert_string_equal(rel, "123/a");
}

static void relative_path_refuses_paths_not_strictly_below_the_root(void **state)
{
	const char *rel = NULL;

	(void)state;
	/* A sibling sharing the root's spelling as a prefix is not below it. */
	assert_int_equal(ingest_path_relative("/srv/up", "/srv/up2/123/a", &rel), -EINVAL);
	assert_int_equal(ingest_path_relative("/srv/up", "/srv/up", &rel), -EINVAL);
	assert_int_equal(ingest_path_relative("/srv/up", "/srv/up/", &rel), -EINVAL);
	assert_int_equal(ingest_path_relative("/srv/up", "/srv/up//123", &rel), -EINVAL);
	assert_int_equal(ingest_path_relative("/srv/up", "/other/123/a", &rel), -EINVAL);
	assert_null(rel);
}

static void split_takes_relation_from_first_component_and_name_from_the_rest(void **state)
{
	char relation[SD_RELATION_MAX + 1] = "";
	const char *name = NULL;

	(void)state;
	assert_int_equal(ingest_path_split("123456/a.txt", relation, &name), 0);
	assert_string_equal(relation, "123456");
	assert_string_equal(name, "a.txt");
	assert_int_equal(ingest_path_split("7/in/2024/b c.csv", relation, &name), 0);
	assert_string_equal(relation, "7");
	assert_string_equal(name, "in/2024/b c.csv");
	assert_int_equal(ingest_path_split("123456789012/x", relation, &name), 0);
	assert_string_equal(relation, "123456789012");
}

static void split_refuses_what_is_not_an_upload_below_a_relation(void **state)
{
	char relation[SD_RELATION_MAX + 1] = "untouched";
	const char *name = NULL;
	static const char *const bad[] = {
		"123456",             /* the relation dir itself, or a file in the root */
		"a.txt",              /* a file in the root */
		"abc/a.txt",          /* not a relation number */
		"12a/a.txt",
		"/a.txt",             /* empty relation */
		"1234567890123/a",    /* 13 digits: longer than any relation number */
		"123/",               /* empty name */
		"123//a",             /* empty component */
		"123/a/",
		"123/../456/a",       /* dot components never come from the kernel */
		"123/./a",
		"123/sub/..",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ingest_path_split(bad[i], relation, &name) != -EINVAL)
			fail_msg("expected -EINVAL for \"%s\"", bad[i]);
	}
	assert_string_equal(relation, "untouched");
	assert_null(name);
}

static void split_refuses_names_longer_than_the_store_holds(void **state)
{
	char relation[SD_RELATION_MAX + 1];
	const char *name = NULL;
	char *p = malloc(4 + 21 * 201 + 1);
	size_t o = 0;

	(void)state;
	assert_non_null(p);
	memcpy(p, "123", 3);
	o = 3;
	/* 21 components of 200 bytes: each legal, together over 4096. */
	for (int i = 0; i < 21; i++) {
		p[o++] = '/';
		memset(p + o, 'x', 200);
		o += 200;
	}
	p[o] = '\0';
	assert_int_equal(ingest_path_split(p, relation, &name), -ENAMETOOLONG);
	free(p);
}

static void relation_numbers_are_one_to_twelve_digits(void **state)
{
	(void)state;
	assert_true(ingest_relation_valid("1", 1));
	assert_true(ingest_relation_valid("123456789012", 12));
	assert_true(ingest_relation_valid("123/abc", 3));
	assert_false(ingest_relation_valid("", 0));
	assert_false(ingest_relation_valid("1234567890123", 13));
	assert_false(ingest_relation_valid("12 3", 4));
	assert_false(ingest_relation_valid("-12", 3));
}

static void depth_counts_components(void **state)
{
	(void)state;
	assert_int_equal(ingest_path_depth(""), 0);
	assert_int_equal(ingest_path_depth("123"), 1);
	assert_int_equal(ingest_path_depth("123/a"), 2);
	assert_int_equal(ingest_path_depth("123/a/b/c"), 4);
}

static void staging_files_are_never_ingested(void **state)
{
	(void)state;
	assert_true(ingest_name_skipped(DEFAULT_SKIP, SD_STAGING_PREFIX "abc"));
	assert_true(ingest_name_skipped("", SD_STAGING_PREFIX "x"));
	assert_true(ingest_name_skipped(NULL, SD_STAGING_PREFIX "x"));
	/* Only the prefix counts, not a look-alike. */
	assert_false(ingest_name_skipped(DEFAULT_SKIP, "x" SD_STAGING_PREFIX));
}

static void client_temp_names_are_skipped_and_their_final_names_are_not(void **state)
{
	(void)state;
	assert_true(ingest_name_skipped(DEFAULT_SKIP, "report.pdf.filepart"));
	assert_true(ingest_name_skipped(DEFAULT_SKIP, "data.csv.part"));
	assert_true(ingest_name_skipped(DEFAULT_SKIP, "x.tmp"));
	assert_true(ingest_name_skipped(DEFAULT_SKIP, "~lock.docx"));
	assert_false(ingest_name_skipped(DEFAULT_SKIP, "report.pdf"));
	assert_false(ingest_name_skipped(DEFAULT_SKIP, "filepart"));
	assert_false(ingest_name_skipped(DEFAULT_SKIP, ".hidden"));
	assert_false(ingest_name_skipped(DEFAULT_SKIP, "part.csv"));
	/* The configured list is what counts. */
	assert_true(ingest_name_skipped("*.upload", "a.upload"));
	assert_false(ingest_name_skipped("*.upload", "a.filepart"));
}

static void empty_and_dot_names_are_skipped(void **state)
{
	(void)state;
	assert_true(ingest_name_skipped(DEFAULT_SKIP, ""));
	assert_true(ingest_name_skipped(DEFAULT_SKIP, "."));
	assert_true(ingest_name_skipped(DEFAULT_SKIP, ".."));
}

static void basename_is_the_last_component(void **state)
{
	(void)state;
	assert_string_equal(ingest_basename("a/b/c.txt"), "c.txt");
	assert_string_equal(ingest_basename("c.txt"), "c.txt");
}

static void spool_name_is_id_dash_basename(void **state)
{
	char out[INGEST_NAME_MAX + 1];

	(void)state;
	assert_int_equal(ingest_spool_name(42, "in/2024/a.csv", out, sizeof(out)), 8);
	assert_string_equal(out, "42-a.csv");
	assert_int_equal(ingest_spool_name(7, "b", out, sizeof(out)), 3);
	assert_string_equal(out, "7-b");
}

static void spool_name_is_cut_to_name_max_at_a_character_boundary(void **state)
{
	char name[300], out[INGEST_NAME_MAX + 1];
	int n;

	(void)state;
	memset(name, 'a', 250);
	name[250] = '\0';
	n = ingest_spool_name(123456, name, out, sizeof(out));
	assert_int_equal(n, INGEST_NAME_MAX);
	assert_int_equal(strlen(out), INGEST_NAME_MAX);
	assert_memory_equal(out, "123456-aaa", 10);

	/* "12-" then 'a' and then two-byte characters (é = c3 a9): a cut in the
	 * middle of one must back off to its start. */
	memset(name, 0, sizeof(name));
	name[0] = 'a';
	for (int i = 0; i < 140; i++)
		memcpy(name + 1 + 2 * i, "\xc3\xa9", 2);
	n = ingest_spool_name(12, name, out, sizeof(out));
	assert_int_equal(n, 254); /* 3 + 1 + 125 * 2; 255 would split a character */
	assert_int_equal((unsigned char)out[n - 2], 0xc3);
	assert_int_equal((unsigned char)out[n - 1], 0xa9);
}

static void spool_name_reports_a_short_buffer(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(ingest_spool_name(42, "abcdefgh", out, sizeof(out)), -ENAMETOOLONG);
}

/* ---- queue.c ---- */

static void pop_all(struct ingest_queue *q, int64_t now, const char **want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ingest_item *it = NULL;

		assert_int_equal(ingest_queue_pop_due(q, now, &it), 1);
		assert_string_equal(it->key, want[i]);
		ingest_item_free(it);
	}
}

static void nothing_is_due_before_its_settle_time(void **state)
{
	struct ingest_queue *q = NULL;
	struct ingest_item *it = NULL;
	int64_t due = 0;

	(void)state;
	assert_int_equal(ingest_queue_new(10, &q), 0);
	assert_false(ingest_queue_next_due(q, &due));
	assert_int_equal(ingest_queue_pop_due(q, 1000, &it), 0);
	assert_int_equal(ingest_queue_touch(q, "1/a", 1200), 1);
	assert_true(ingest_queue_next_due(q, &due));
	assert_int_equal(due, 1200);
	assert_int_equal(ingest_queue_pop_due(q, 1199, &it), 0);
	assert_null(it);
	assert_int_equal(ingest_queue_pop_due(q, 1200, &it), 1);
	assert_string_equal(it->key, "1/a");
	assert_int_equal(it->attempts, 0);
	ingest_item_free(it);
	assert_int_equal(ingest_queue_len(q), 0);
	ingest_queue_free(q);
}

static void candidates_come_out_in_deadline_order_ties_in_arrival_order(void **state)
{
	struct ingest_queue *q = NULL;
	const char *want[] = { "1/early", "1/tie-first", "1/tie-second", "1/late" };

	(void)state;
	assert_int_equal(ingest_queue_new(10, &q), 0);
	assert_int_equal(ingest_queue_touch(q, "1/late", 900), 1);
	assert_int_equal(ingest_queue_touch(q, "1/tie-first", 500), 1);
	assert_int_equal(ingest_queue_touch(q, "1/early", 100), 1);
	assert_int_equal(ingest_queue_touch(q, "1/tie-second", 500), 1);
	pop_all(q, 1000, want, 4);
	ingest_queue_free(q);
}

static void a_new_event_moves_the_deadline_later_never_earlier(void **state)
{
	struct ingest_queue *q = NULL;
	struct ingest_item *it = NULL;
	int64_t due = 0;

	(void)state;
	assert_int_equal(ingest_queue_new(10, &q), 0);
	assert_int_equal(ingest_queue_touch(q, "1/a", 1000), 1);
	assert_int_equal(ingest_queue_touch(q, "1/b", 1500), 1);
	/* Client SETSTAT after CLOSE: the newest event counts. */
	assert_int_equal(ingest_queue_touch(q, "1/a", 2000), 0);
	assert_int_equal(ingest_queue_len(q), 2);
	assert_true(ingest_queue_next_due(q, &due));
	assert_int_equal(due, 1500);
	/* An older event (rescan) does not pull it forward. */
	assert_int_equal(ingest_queue_touch(q, "1/a", 1100), 0);
	assert_int_equal(ingest_queue_pop_due(q, 1600, &it), 1);
	assert_string_equal(it->key, "1/b");
	ingest_item_free(it);
	assert_int_equal(ingest_queue_pop_due(q, 1999, &it), 0);
	assert_int_equal(ingest_queue_pop_due(q, 2000, &it), 1);
	assert_string_equal(it->key, "1/a");
	ingest_item_free(it);
	ingest_queue_free(q);
}

static void a_full_queue_refuses_new_paths_but_updates_known_ones(void **state)
{
	struct ingest_queue *q = NULL;

	(void)state;
	assert_int_equal(ingest_queue_new(2, &q), 0);
	assert_int_equal(ingest_queue_touch(q, "1/a", 10), 1);
	assert_false(ingest_queue_full(q));
	assert_int_equal(ingest_queue_touch(q, "1/b", 20), 1);
	assert_true(ingest_queue_full(q));
	assert_int_equal(ingest_queue_touch(q, "1/c", 30), -ENOSPC);
	assert_int_equal(ingest_queue_touch(q, "1/a", 40), 0);
	assert_int_equal(ingest_queue_len(q), 2);
	ingest_queue_free(q);
}

static void a_failed_candidate_comes_back_after_its_backoff(void **state)
{
	struct ingest_queue *q = NULL;
	struct ingest_item *it = NULL;

	(void)state;
	assert_int_equal(ingest_queue_new(1, &q), 0);
	assert_int_equal(ingest_queue_touch(q, "1/a", 100), 1);
	assert_int_equal(ingest_queue_pop_due(q, 100, &it), 1);
	/* While it is out, the queue fills up; putting it back still works. */
	assert_int_equal(ingest_queue_touch(q, "1/b", 150), 1);
	it->attempts = 1;
	assert_int_equal(ingest_queue_requeue(q, it, 100 + ingest_retry_delay_ms(1)), 0);
	assert_int_equal(ingest_queue_len(q), 2);
	assert_int_equal(ingest_queue_pop_due(q, 200, &it), 1);
	assert_string_equal(it->key, "1/b");
	ingest_item_free(it);
	assert_int_equal(ingest_queue_pop_due(q, 1099, &it), 0);
	assert_int_equal(ingest_queue_pop_due(q, 1100, &it), 1);
	assert_string_equal(it->key, "1/a");
	assert_int_equal(it->attempts, 1);
	ingest_item_free(it);
	ingest_queue_free(q);
}

static void requeue_merges_with_an_event_that_came_meanwhile(void **state)
{
	struct ingest_queue *q = NULL;
	struct ingest_item *it = NULL;

	(void)state;
	assert_int_equal(ingest_queue_new(4, &q), 0);
	assert_int_equal(ingest_queue_touch(q, "1/a", 100), 1);
	assert_int_equal(ingest_queue_pop_due(q, 100, &it), 1);
	assert_int_equal(ingest_queue_touch(q, "1/a", 300), 1);
	it->attempts = 3;
	assert_int_equal(ingest_queue_requeue(q, it, 5000), 0);
	assert_int_equal(ingest_queue_len(q), 1);
	assert_int_equal(ingest_queue_pop_due(q, 4999, &it), 0);
	assert_int_equal(ingest_queue_pop_due(q, 5000, &it), 1);
	/* The failure count survives, so the backoff keeps growing. */
	assert_int_equal(it->attempts, 3);
	ingest_item_free(it);
	ingest_queue_free(q);
}

static void many_candidates_come_out_sorted(void **state)
{
	struct ingest_queue *q = NULL;
	struct ingest_item *it = NULL;
	int64_t last = -1;
	char key[32];
	unsigned seed = 12345;
	size_t n = 0;

	(void)state;
	assert_int_equal(ingest_queue_new(5000, &q), 0);
	for (int i = 0; i < 5000; i++) {
		seed = seed * 1103515245u + 12345u;
		snprintf(key, sizeof(key), "1/f%d", i);
		assert_int_equal(ingest_queue_touch(q, key, (int64_t)(seed % 100000)), 1);
	}
	/* Half of them get a later event. */
	for (int i = 0; i < 5000; i += 2) {
		snprintf(key, sizeof(key), "1/f%d", i);
		assert_int_equal(ingest_queue_touch(q, key, 100000 + i), 0);
	}
	while (ingest_queue_pop_due(q, INT64_MAX, &it) == 1) {
		if (it->due_ms < last)
			fail_msg("popped %s due %lld after one due %lld", it->key,
				 (long long)it->due_ms, (long long)last);
		last = it->due_ms;
		ingest_item_free(it);
		n++;
	}
	assert_int_equal(n, 5000);
	ingest_queue_free(q);
}

static void freeing_a_queue_frees_what_is_still_queued(void **state)
{
	struct ingest_queue *q = NULL;

	(void)state;
	assert_int_equal(ingest_queue_new(100, &q), 0);
	assert_int_equal(ingest_queue_touch(q, "1/a", 1), 1);
	assert_int_equal(ingest_queue_touch(q, "1/b", 2), 1);
	ingest_queue_free(q);
	ingest_queue_free(NULL);
	assert_int_equal(ingest_queue_new(0, &q), -EINVAL);
}

static void retry_delay_doubles_up_to_a_bound(void **state)
{
	(void)state;
	assert_int_equal(ingest_retry_delay_ms(1), INGEST_RETRY_BASE_MS);
	assert_int_equal(ingest_retry_delay_ms(2), 2 * INGEST_RETRY_BASE_MS);
	assert_int_equal(ingest_retry_delay_ms(3), 4 * INGEST_RETRY_BASE_MS);
	assert_int_equal(ingest_retry_delay_ms(20), INGEST_RETRY_MAX_MS);
	assert_int_equal(ingest_retry_delay_ms(4000000000u), INGEST_RETRY_MAX_MS);
}

/* ---- clock.c ---- */

static void fixed_clock(struct ingest_time *out)
{
	out->mono_ms = 42;
	out->wall = 1700000000;
}

static void the_clock_can_be_replaced_and_restored(void **state)
{
	struct ingest_time t;

	(void)state;
	ingest_set_clock(fixed_clock);
	ingest_now(&t);
	assert_int_equal(t.mono_ms, 42);
	assert_int_equal(t.wall, 1700000000);
	ingest_set_clock(NULL);
	ingest_now(&t);
	assert_true(t.wall > 1700000000);
}

/* ---- receipts, hook arguments, staging names (issue 5) ---- */

static void reserved_names_are_never_ingested(void **state)
{
	(void)state;
	assert_true(ingest_name_reserved(SD_RECEIPTS_DIR));
	assert_true(ingest_name_reserved(".sftpdrop-tmp.1"));
	assert_true(ingest_name_skipped(DEFAULT_SKIP, ".sftpdrop-expire.3"));
	assert_false(ingest_name_reserved(".sftpdrop"));
	assert_false(ingest_name_reserved(".receipts"));
}

static void receipt_name_is_spool_name_plus_json_cut_to_name_max(void **state)
{
	char out[INGEST_NAME_MAX + 1], name[400];
	int n;

	(void)state;
	n = ingest_receipt_name(42, "dir/-rf $(x).csv", out, sizeof(out));
	assert_string_equal(out, "42--rf $(x).csv.json");
	assert_int_equal(n, (int)strlen(out));
	/* 2-byte characters: the cut never splits one, ".json" always stays. */
	for (size_t i = 0; i + 2 < sizeof(name); i += 2)
		memcpy(name + i, "\xc3\xa9", 2);
	name[sizeof(name) - 2] = '\0';
	n = ingest_receipt_name(7, name, out, sizeof(out));
	assert_true(n > 0 && n <= INGEST_NAME_MAX);
	assert_string_equal(out + n - 5, ".json");
	assert_int_equal(((n - 5 - 2) % 2), 0);
	assert_int_equal(ingest_receipt_name(7, "a", out, 8), -ENAMETOOLONG);
}

static struct store_receipt *sample_receipt(void)
{
	static struct store_receipt r;

	memset(&r, 0, sizeof(r));
	r.id = 9;
	snprintf(r.relation, sizeof(r.relation), "123456");
	snprintf(r.username, sizeof(r.username), "j.jansen");
	snprintf(r.src, sizeof(r.src), "192.0.2.7");
	snprintf(r.name, sizeof(r.name), "a \"q\"\\b\x01\xff\xc3\xa9.txt");
	r.size = 12;
	snprintf(r.sha256, sizeof(r.sha256), "%064d", 0);
	r.received_at = 1780308000;
	r.ingested_at = 1780308001;
	snprintf(r.spool_path, sizeof(r.spool_path), "/spool/123456/9-x");
	snprintf(r.receipt_name, sizeof(r.receipt_name), "9-x.json");
	return &r;
}

static void receipt_json_escapes_names_and_replaces_what_is_not_utf8(void **state)
{
	struct store_receipt *r = sample_receipt();
	char *doc = NULL;
	int n;

	(void)state;
	n = ingest_receipt_json(r, &doc);
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(doc));
	assert_non_null(strstr(doc, "\"receipt\": 1,\n"));
	assert_non_null(strstr(doc, "\"id\": 9,\n"));
	assert_non_null(strstr(doc, "\"name\": \"a \\\"q\\\"\\\\b\\u0001\\ufffd\xc3\xa9.txt\",\n"));
	assert_non_null(strstr(doc, "\"received_at\": \"2026-06-01T10:00:00Z\",\n"));
	assert_non_null(strstr(doc, "\"source\": \"192.0.2.7\"\n}\n"));
	free(doc);
	r->username[0] = '\0';
	r->src[0] = '\0';
	assert_true(ingest_receipt_json(r, &doc) > 0);
	assert_non_null(strstr(doc, "\"user\": null,"));
	assert_non_null(strstr(doc, "\"source\": null\n"));
	free(doc);
}

static void hook_gets_the_receipt_as_key_value_arguments_and_environment(void **state)
{
	struct store_receipt *r = sample_receipt();
	char **argv = NULL, **envp = NULL;
	size_t n = 0;

	(void)state;
	snprintf(r->name, sizeof(r->name), "-rf $(touch x) *");
	assert_int_equal(ingest_hook_args("/usr/local/bin/hook", r, 2, &argv, &envp), 0);
	assert_string_equal(argv[0], "/usr/local/bin/hook");
	for (n = 1; argv[n]; n++)
		assert_true(argv[n][0] != '-'); /* no argument can pass for an option */
	assert_int_equal(n, 13);
	assert_string_equal(argv[1], "id=9");
	assert_string_equal(argv[4], "name=-rf $(touch x) *");
	assert_string_equal(argv[11], "receipt=/.receipts/9--rf $(touch x) *.json");
	assert_string_equal(argv[12], "attempt=2");
	assert_string_equal(envp[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	assert_string_equal(envp[4], "SFTPDROP_NAME=-rf $(touch x) *");
	assert_string_equal(envp[7], "SFTPDROP_RECEIVED_AT=2026-06-01T10:00:00Z");
	assert_null(envp[13]);
	free(argv);
}

static void staging_names_carry_their_target_and_parse_back(void **state)
{
	uint8_t rnd[STAGING_RANDOM_LEN] = { 0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3 };
	char out[STAGING_NAME_MAX], longname[300];
	const char *target = NULL;
	bool resume = false, cut = true;

	(void)state;
	assert_true(staging_name_resume("big file.bin", out) > 0);
	assert_string_equal(out, SD_STAGING_PREFIX "resume.big file.bin");
	assert_true(staging_name_parse(out, &target, &resume, &cut));
	assert_string_equal(target, "big file.bin");
	assert_true(resume);
	assert_false(cut);
	assert_true(staging_name_random("x.csv", rnd, out) > 0);
	assert_string_equal(out, SD_STAGING_PREFIX "deadbeef00010203.x.csv");
	assert_true(staging_name_parse(out, &target, &resume, &cut));
	assert_string_equal(target, "x.csv");
	assert_false(resume);
	/* Too long for a resumable slot; a random name cuts the target. */
	memset(longname, 'n', 250);
	longname[250] = '\0';
	assert_int_equal(staging_name_resume(longname, out), -ENAMETOOLONG);
	assert_int_equal(staging_name_random(longname, rnd, out), STAGING_NAME_MAX - 1);
	assert_true(staging_name_parse(out, &target, &resume, &cut));
	assert_true(cut);
	/* An older format: a staging name without a target. */
	assert_true(staging_name_parse(SD_STAGING_PREFIX "0123", &target, &resume, &cut));
	assert_string_equal(target, "");
	assert_false(staging_name_parse("report.csv", &target, &resume, &cut));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(relative_path_is_what_follows_the_root),
		cmocka_unit_test(relative_path_refuses_paths_not_strictly_below_the_root),
		cmocka_unit_test(split_takes_relation_from_first_component_and_name_from_the_rest),
		cmocka_unit_test(split_refuses_what_is_not_an_upload_below_a_relation),
		cmocka_unit_test(split_refuses_names_longer_than_the_store_holds),
		cmocka_unit_test(relation_numbers_are_one_to_twelve_digits),
		cmocka_unit_test(depth_counts_components),
		cmocka_unit_test(staging_files_are_never_ingested),
		cmocka_unit_test(client_temp_names_are_skipped_and_their_final_names_are_not),
		cmocka_unit_test(empty_and_dot_names_are_skipped),
		cmocka_unit_test(basename_is_the_last_component),
		cmocka_unit_test(spool_name_is_id_dash_basename),
		cmocka_unit_test(spool_name_is_cut_to_name_max_at_a_character_boundary),
		cmocka_unit_test(spool_name_reports_a_short_buffer),
		cmocka_unit_test(nothing_is_due_before_its_settle_time),
		cmocka_unit_test(candidates_come_out_in_deadline_order_ties_in_arrival_order),
		cmocka_unit_test(a_new_event_moves_the_deadline_later_never_earlier),
		cmocka_unit_test(a_full_queue_refuses_new_paths_but_updates_known_ones),
		cmocka_unit_test(a_failed_candidate_comes_back_after_its_backoff),
		cmocka_unit_test(requeue_merges_with_an_event_that_came_meanwhile),
		cmocka_unit_test(many_candidates_come_out_sorted),
		cmocka_unit_test(freeing_a_queue_frees_what_is_still_queued),
		cmocka_unit_test(retry_delay_doubles_up_to_a_bound),
		cmocka_unit_test(the_clock_can_be_replaced_and_restored),
		cmocka_unit_test(reserved_names_are_never_ingested),
		cmocka_unit_test(receipt_name_is_spool_name_plus_json_cut_to_name_max),
		cmocka_unit_test(receipt_json_escapes_names_and_replaces_what_is_not_utf8),
		cmocka_unit_test(hook_gets_the_receipt_as_key_value_arguments_and_environment),
		cmocka_unit_test(staging_names_carry_their_target_and_parse_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
