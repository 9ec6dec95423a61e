/* Batch accounts in the store: source ranges and public keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "store.h"

static int setup(void **st)
{
	struct store *s = NULL;
	struct store_user u = { 0 };

	if (store_open(":memory:", true, &s) < 0)
		return -1;
	if (store_relation_add(s, "123456", "X", 1) < 0)
		return -1;
	strcpy(u.relation, "123456");
	strcpy(u.username, "batch");
	strcpy(u.full_name, "Nightly job");
	strcpy(u.password_hash, "!unusable");
	u.batch = true;
	u.created_at = u.password_changed_at = 10;
	u.totp_last_step = -1;
	strcpy(u.allowed_from, "10.0.0.0/8,2001:db8::/32");
	if (store_user_add(s, &u) < 0)
		return -1;
	*st = s;
	return 0;
}

static int teardown(void **st)
{
	store_close(*st);
	return 0;
}

static struct store_key key(int64_t user_id, const char *fp)
{
	struct store_key k = { .user_id = user_id, .added_at = 100 };

	strcpy(k.type, "ssh-ed25519");
	strcpy(k.blob, "AAAAC3NzaC1lZDI1NTE5AAAAIGbq2oN1");
	strcpy(k.comment, "job@host");
	strcpy(k.fingerprint, fp);
	return k;
}

static int64_t batch_id(struct store *s)
{
	struct store_user u;

	assert_int_equal(store_user_get(s, "123456", "batch", &u), 0);
	return u.id;
}

static void batch_user_keeps_kind_and_source_ranges(void **st)
{
	struct store_user u;

	assert_int_equal(store_user_get(*st, "123456", "batch", &u), 0);
	assert_true(u.batch);
	assert_string_equal(u.allowed_from, "10.0.0.0/8,2001:db8::/32");
}

static void key_round_trip_count_and_duplicate_fingerprint(void **st)
{
	struct store *s = *st;
	int64_t id = batch_id(s);
	struct store_key k = key(id, "SHA256:aaa"), got;

	assert_int_equal(store_key_count(s, id), 0);
	assert_int_equal(store_key_add(s, &k), 0);
	assert_int_equal(store_key_add(s, &k), -EEXIST);
	k = key(id, "SHA256:bbb");
	assert_int_equal(store_key_add(s, &k), 0);
	assert_int_equal(store_key_count(s, id), 2);
	assert_int_equal(store_key_find(s, id, "SHA256:aaa", &got), 0);
	assert_string_equal(got.type, "ssh-ed25519");
	assert_string_equal(got.comment, "job@host");
	assert_int_equal(got.added_at, 100);
	assert_int_equal(store_key_find(s, id, "SHA256:ccc", &got), -ENOENT);
	/* another user's fingerprint does not count */
	assert_int_equal(store_key_find(s, id + 1, "SHA256:aaa", &got), -ENOENT);
}

static int count_cb(const struct store_key *k, void *ud)
{
	(void)k;
	++*(int *)ud;
	return 0;
}

static void key_remove_only_that_key(void **st)
{
	struct store *s = *st;
	int64_t id = batch_id(s);
	struct store_key k = key(id, "SHA256:aaa");
	int n = 0;

	assert_int_equal(store_key_add(s, &k), 0);
	k = key(id, "SHA256:bbb");
	assert_int_equal(store_key_add(s, &k), 0);
	assert_int_equal(store_key_remove(s, id, "SHA256:aaa"), 0);
	assert_int_equal(store_key_remove(s, id, "SHA256:aaa"), -ENOENT);
	assert_int_equal(store_key_list(s, id, count_cb, &n), 0);
	assert_int_equal(n, 1);
}

static void key_of_missing_user_is_refused(void **st)
{
	struct store_key k = key(9999, "SHA256:aaa");

	assert_int_equal(store_key_add(*st, &k), -EEXIST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(batch_user_keeps_kind_and_source_ranges, setup,
						teardown),
		cmocka_unit_test_setup_teardown(key_round_trip_count_and_duplicate_fingerprint,
						setup, teardown),
		cmocka_unit_test_setup_teardown(key_remove_only_that_key, setup, teardown),
		cmocka_unit_test_setup_teardown(key_of_missing_user_is_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
