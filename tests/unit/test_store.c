/* Store round trips on an in-memory database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
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

static void schema_is_at_latest_version(void **st)
{
	assert_true(store_schema_version(*st) >= 1);
}

static void relation_round_trip_and_duplicate(void **st)
{
	struct store *s = *st;
	struct store_relation r;

	assert_int_equal(store_relation_add(s, "123456", "Gemeente X", 1000), 0);
	assert_int_equal(store_relation_add(s, "123456", "Again", 1000), -EEXIST);
	assert_int_equal(store_relation_get(s, "123456", &r), 0);
	assert_string_equal(r.name, "Gemeente X");
	assert_int_equal(r.created_at, 1000);
	assert_false(r.disabled);
	assert_int_equal(store_relation_get(s, "999", &r), -ENOENT);
}

static struct store_user sample_user(void)
{
	struct store_user u = { 0 };

	strcpy(u.relation, "123456");
	strcpy(u.username, "j.jansen");
	strcpy(u.full_name, "J. Jansen");
	strcpy(u.email, "j@example.org");
	strcpy(u.password_hash, "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA");
	u.must_change = true;
	u.password_changed_at = 2000;
	memset(u.totp_secret, 0xab, 20);
	u.totp_secret_len = 20;
	u.totp_last_step = -1;
	u.created_at = 2000;
	return u;
}

static void user_round_trip_keeps_secrets_and_fields(void **st)
{
	struct store *s = *st;
	struct store_user u = sample_user(), got;

	assert_int_equal(store_user_add(s, &u), -ENOENT); /* no relation yet */
	assert_int_equal(store_relation_add(s, "123456", "X", 1), 0);
	assert_int_equal(store_user_add(s, &u), 0);
	assert_true(u.id > 0);
	assert_int_equal(store_user_add(s, &u), -EEXIST);
	assert_int_equal(store_user_get(s, "123456", "j.jansen", &got), 0);
	assert_string_equal(got.full_name, "J. Jansen");
	assert_string_equal(got.password_hash, u.password_hash);
	assert_int_equal(got.totp_secret_len, 20);
	assert_memory_equal(got.totp_secret, u.totp_secret, 20);
	assert_true(got.must_change);
	assert_int_equal(got.totp_last_step, -1);
	assert_int_equal(store_user_get(s, "123456", "nobody", &got), -ENOENT);
	store_user_wipe(&got);
}

static int count_user(const struct store_user *u, void *ud)
{
	/* Listings never carry secrets. */
	assert_string_equal(u->password_hash, "");
	assert_int_equal(u->totp_secret[0], 0);
	(*(int *)ud)++;
	return 0;
}

static void user_list_has_no_secrets(void **st)
{
	struct store *s = *st;
	struct store_user u = sample_user();
	int n = 0;

	assert_int_equal(store_relation_add(s, "123456", "X", 1), 0);
	assert_int_equal(store_user_add(s, &u), 0);
	assert_int_equal(store_user_list(s, NULL, count_user, &n), 0);
	assert_int_equal(n, 1);
}

static void totp_step_is_used_once(void **st)
{
	struct store *s = *st;
	struct store_user u = sample_user();

	assert_int_equal(store_relation_add(s, "123456", "X", 1), 0);
	assert_int_equal(store_user_add(s, &u), 0);
	assert_int_equal(store_user_use_totp_step(s, u.id, 100), 1);
	assert_int_equal(store_user_use_totp_step(s, u.id, 100), 0);
	assert_int_equal(store_user_use_totp_step(s, u.id, 99), 0);
	assert_int_equal(store_user_use_totp_step(s, u.id, 101), 1);
}

static int collect(const struct store_upload *u, void *ud)
{
	memcpy(ud, u, sizeof(*u));
	return 0;
}

static void upload_received_claimed_done_once(void **st)
{
	struct store *s = *st;
	static struct store_upload got;
	int64_t id, id2;
	bool already;

	assert_int_equal(store_upload_received(s, "123456", "j.jansen", "a.filepart", 5, 7, 42,
					       100),
			 0);
	/* renamed to its final name before ingest saw it */
	assert_int_equal(store_upload_claim(s, "123456", "a.txt", 5, 7, 42, 101, &id, &already),
			 0);
	assert_false(already);
	assert_int_equal(store_upload_done(s, id, "ab", "/spool/123456/1-a.txt", 102), 0);
	assert_int_equal(store_upload_done(s, id, "ab", "/spool/x", 103), -ENOENT);
	assert_int_equal(store_upload_claim(s, "123456", "b.txt", 5, 7, 42, 104, &id2, &already),
			 0);
	assert_true(already);
	assert_int_equal(id2, id);
	assert_int_equal(store_upload_list(s, NULL, collect, &got), 0);
	assert_string_equal(got.name, "a.txt");
	assert_string_equal(got.username, "j.jansen");
	assert_string_equal(got.sha256, "ab");
	assert_int_equal(got.received_at, 100);
	assert_int_equal(got.ingested_at, 102);
}

static void upload_unknown_to_daemon_gets_a_row(void **st)
{
	struct store *s = *st;
	static struct store_upload got;
	int64_t id;
	bool already;

	assert_int_equal(store_upload_claim(s, "1", "x", 9, 1, 2, 50, &id, &already), 0);
	assert_false(already);
	assert_int_equal(store_upload_list(s, "1", collect, &got), 0);
	assert_string_equal(got.username, "");
	assert_int_equal(got.size, 9);
}

static void reused_inode_with_newer_upload_is_ingested_again(void **st)
{
	struct store *s = *st;
	int64_t id1, id2;
	bool already;

	assert_int_equal(store_upload_received(s, "1", "u", "a", 1, 7, 42, 10), 0);
	assert_int_equal(store_upload_claim(s, "1", "a", 1, 7, 42, 11, &id1, &already), 0);
	assert_int_equal(store_upload_done(s, id1, "aa", "/s/1", 12), 0);
	/* the inode was freed and reused by a later upload */
	assert_int_equal(store_upload_received(s, "1", "u", "b", 2, 7, 42, 20), 0);
	assert_int_equal(store_upload_claim(s, "1", "b", 2, 7, 42, 21, &id2, &already), 0);
	assert_false(already);
	assert_true(id2 > id1);
}

static void audit_row_is_written(void **st)
{
	assert_int_equal(store_audit(*st, 1, "1", "u", "127.0.0.1", "auth_ok", "ok", NULL), 0);
	assert_int_equal(store_audit(*st, 1, NULL, NULL, NULL, "x", NULL, NULL), 0);
}

static void file_database_reopens_at_same_version(void **st)
{
	char path[] = "/tmp/sftpdrop-store-XXXXXX";
	int fd = mkstemp(path);
	struct store *s = NULL;
	struct store_relation r;
	int v;

	(void)st;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(store_open(path, true, &s), 0);
	v = store_schema_version(s);
	assert_int_equal(store_relation_add(s, "7", "Seven", 1), 0);
	store_close(s);
	assert_int_equal(store_open(path, false, &s), 0);
	assert_int_equal(store_schema_version(s), v);
	assert_int_equal(store_relation_get(s, "7", &r), 0);
	store_close(s);
	assert_int_equal(store_open("/nonexistent/dir/x.db", false, &s), -ENOENT);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(schema_is_at_latest_version, setup, teardown),
		cmocka_unit_test_setup_teardown(relation_round_trip_and_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(user_round_trip_keeps_secrets_and_fields, setup,
						teardown),
		cmocka_unit_test_setup_teardown(user_list_has_no_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(totp_step_is_used_once, setup, teardown),
		cmocka_unit_test_setup_teardown(upload_received_claimed_done_once, setup, teardown),
		cmocka_unit_test_setup_teardown(upload_unknown_to_daemon_gets_a_row, setup,
						teardown),
		cmocka_unit_test_setup_teardown(reused_inode_with_newer_upload_is_ingested_again,
						setup, teardown),
		cmocka_unit_test_setup_teardown(audit_row_is_written, setup, teardown),
		cmocka_unit_test(file_database_reopens_at_same_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
