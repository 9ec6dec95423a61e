/* Password history: the last N passwords (the current one first) are refused,
 * the (N+1)th is allowed again. Real argon2id hashes at a low cost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "login.h"
#include "store.h"

static const struct auth_argon2_cost cheap = { 1, 8192, 1 };

static void pw(int i, char *out, size_t n)
{
	snprintf(out, n, "Wachtwoord-%02d!", i);
}

static void twelfth_refused_thirteenth_allowed(void **st)
{
	struct store *s = NULL;
	struct store_user u = { 0 };
	char p[32], hash[STORE_HASH_MAX];

	(void)st;
	assert_int_equal(store_open(":memory:", true, &s), 0);
	assert_int_equal(store_relation_add(s, "1", "R", 1), 0);
	strcpy(u.relation, "1");
	strcpy(u.username, "jan");
	pw(0, p, sizeof(p));
	assert_int_equal(auth_password_hash(&cheap, p, strlen(p), u.password_hash,
					    sizeof(u.password_hash)),
			 0);
	assert_int_equal(store_user_add(s, &u), 0);
	/* 13 changes: passwords 1..13, 13 is the current one */
	for (int i = 1; i <= 13; i++) {
		struct store_login_commit c = { .now = 100 + i, .history_depth = 12 };

		pw(i, p, sizeof(p));
		assert_int_equal(auth_password_hash(&cheap, p, strlen(p), hash, sizeof(hash)), 0);
		c.new_hash = hash;
		assert_int_equal(store_user_commit_login(s, u.id, &c), 0);
	}
	for (int i = 13; i >= 2; i--) { /* the 1st (current) .. 12th previous */
		pw(i, p, sizeof(p));
		assert_int_equal(login_password_reused(s, u.id, 12, p), 1);
	}
	pw(1, p, sizeof(p)); /* the 13th previous */
	assert_int_equal(login_password_reused(s, u.id, 12, p), 0);
	pw(0, p, sizeof(p));
	assert_int_equal(login_password_reused(s, u.id, 12, p), 0);
	assert_int_equal(login_password_reused(s, u.id, 12, "Never-Used-1!"), 0);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(twelfth_refused_thirteenth_allowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
