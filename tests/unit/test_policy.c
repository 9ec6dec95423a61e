/* Login-name parsing and the password rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "policy.h"

static void login_splits_at_first_dot_user_may_contain_dots(void **st)
{
	char rel[SD_RELATION_MAX + 1], user[SD_USERNAME_MAX + 1];

	(void)st;
	assert_int_equal(policy_parse_login("123456.j.jansen", rel, user), 0);
	assert_string_equal(rel, "123456");
	assert_string_equal(user, "j.jansen");
}

static void login_folds_user_to_lower_case(void **st)
{
	char rel[SD_RELATION_MAX + 1], user[SD_USERNAME_MAX + 1];

	(void)st;
	assert_int_equal(policy_parse_login("42.JJansen", rel, user), 0);
	assert_string_equal(user, "jjansen");
}

static void login_rejects_missing_or_empty_parts(void **st)
{
	char rel[SD_RELATION_MAX + 1] = "x", user[SD_USERNAME_MAX + 1] = "y";
	const char *bad[] = { "", "123456", "123456.", ".jansen", ".", "..", "123456..x",
			      "123456.-x", "123456._x" };

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(policy_parse_login(bad[i], rel, user), -22);
		/* out-parameters untouched on failure */
		assert_string_equal(rel, "x");
		assert_string_equal(user, "y");
	}
	assert_int_equal(policy_parse_login(NULL, rel, user), -22);
}

static void login_rejects_non_digit_relation(void **st)
{
	char rel[SD_RELATION_MAX + 1], user[SD_USERNAME_MAX + 1];

	(void)st;
	assert_int_equal(policy_parse_login("12a456.jansen", rel, user), -22);
	assert_int_equal(policy_parse_login("-1.jansen", rel, user), -22);
	assert_int_equal(policy_parse_login(" 1.jansen", rel, user), -22);
	assert_int_equal(policy_parse_login("１２.jansen", rel, user), -22); /* full-width */
}

static void login_rejects_bad_user_characters(void **st)
{
	char rel[SD_RELATION_MAX + 1], user[SD_USERNAME_MAX + 1];

	(void)st;
	assert_int_equal(policy_parse_login("1.jan sen", rel, user), -22);
	assert_int_equal(policy_parse_login("1.jan/sen", rel, user), -22);
	assert_int_equal(policy_parse_login("1.jan\nsen", rel, user), -22);
	assert_int_equal(policy_parse_login("1.jänsen", rel, user), -22);
}

static void login_length_bounds(void **st)
{
	char rel[SD_RELATION_MAX + 1], user[SD_USERNAME_MAX + 1];
	char login[256];

	(void)st;
	/* relation: 12 digits ok, 13 too long */
	assert_int_equal(policy_parse_login("123456789012.a", rel, user), 0);
	assert_int_equal(policy_parse_login("1234567890123.a", rel, user), -22);
	/* user: 64 ok, 65 too long */
	memset(login, 'a', sizeof(login));
	memcpy(login, "1.", 2);
	login[2 + 64] = '\0';
	assert_int_equal(policy_parse_login(login, rel, user), 0);
	assert_int_equal(strlen(user), 64);
	login[2 + 64] = 'a';
	login[2 + 65] = '\0';
	assert_int_equal(policy_parse_login(login, rel, user), -22);
}

static void password_rules_each_broken_rule_is_named(void **st)
{
	struct policy_password_params p = POLICY_PASSWORD_DEFAULTS;

	(void)st;
	assert_int_equal(policy_password_check("Abcdefgh1234", "jjansen", &p), 0);
	assert_int_equal(policy_password_check("Abcdefgh123", "jjansen", &p),
			 POLICY_PW_TOO_SHORT);
	assert_int_equal(policy_password_check("abcdefgh1234", "jjansen", &p),
			 POLICY_PW_FEW_CLASSES);
	assert_int_equal(policy_password_check("abcdefgh123!", "jjansen", &p), 0);
	assert_int_equal(policy_password_check("xJJansen123!", "jjansen", &p),
			 POLICY_PW_HAS_USERNAME);
	assert_int_equal(policy_password_check("aaaa", "jjansen", &p),
			 POLICY_PW_TOO_SHORT | POLICY_PW_FEW_CLASSES);
}

#define DAY 86400

static void password_length_boundary_11_12(void **st)
{
	struct policy_password_params p = POLICY_PASSWORD_DEFAULTS;

	(void)st;
	assert_int_equal(policy_password_check("Abcdefghij1", "x", &p), POLICY_PW_TOO_SHORT);
	assert_int_equal(policy_password_check("Abcdefghij12", "x", &p), 0);
	/* characters, not bytes: 12 accented letters are 12 characters */
	assert_int_equal(policy_password_check("Ééééééééé1a!", "x", &p), 0);
}

static void password_classes_boundary_2_3(void **st)
{
	struct policy_password_params p = POLICY_PASSWORD_DEFAULTS;

	(void)st;
	assert_int_equal(policy_password_check("abcdefghijkl", "x", &p), POLICY_PW_FEW_CLASSES);
	assert_int_equal(policy_password_check("abcdefABCDEF", "x", &p), POLICY_PW_FEW_CLASSES);
	assert_int_equal(policy_password_check("abcdefABCDE1", "x", &p), 0);
	assert_int_equal(policy_password_check("abcdef12345!", "x", &p), 0);
	assert_int_equal(policy_password_check("ABCDEF12345!", "x", &p), 0);
	assert_int_equal(policy_password_check("aB1!aB1!aB1!", "x", &p), 0);
}

static void password_username_anywhere_any_case(void **st)
{
	struct policy_password_params p = POLICY_PASSWORD_DEFAULTS;

	(void)st;
	assert_int_equal(policy_password_check("jjansenAB12!x", "jjansen", &p),
			 POLICY_PW_HAS_USERNAME);
	assert_int_equal(policy_password_check("AB12!jjansenx", "jjansen", &p),
			 POLICY_PW_HAS_USERNAME);
	assert_int_equal(policy_password_check("AB12!xJJANSEN", "jjansen", &p),
			 POLICY_PW_HAS_USERNAME);
	assert_int_equal(policy_password_check("AB12!xJJansen", "jjansen", &p),
			 POLICY_PW_HAS_USERNAME);
	assert_int_equal(policy_password_check("AB12!xJJanse", "jjansen", &p), 0);
}

static void password_rules_are_configurable(void **st)
{
	struct policy_password_params p = { 16, 4 };

	(void)st;
	assert_int_equal(policy_password_check("Abcdefghij12!", "x", &p), POLICY_PW_TOO_SHORT);
	assert_int_equal(policy_password_check("Abcdefghijklmno12", "x", &p),
			 POLICY_PW_FEW_CLASSES);
	assert_int_equal(policy_password_check("Abcdefghijklmn1!", "x", &p), 0);
}

static void expiry_days_149_150_151_179_180(void **st)
{
	struct policy_expiry e;
	int64_t t0 = 1700000000;

	(void)st;
	e = policy_password_expiry(t0, t0 + 149 * DAY, 180, 30);
	assert_int_equal(e.state, POLICY_PW_VALID);
	assert_int_equal(e.days_left, 31);
	e = policy_password_expiry(t0, t0 + 150 * DAY, 180, 30);
	assert_int_equal(e.state, POLICY_PW_EXPIRING);
	assert_int_equal(e.days_left, 30);
	e = policy_password_expiry(t0, t0 + 151 * DAY, 180, 30);
	assert_int_equal(e.state, POLICY_PW_EXPIRING);
	assert_int_equal(e.days_left, 29);
	e = policy_password_expiry(t0, t0 + 180 * DAY - 1, 180, 30);
	assert_int_equal(e.state, POLICY_PW_EXPIRING);
	assert_int_equal(e.days_left, 1);
	e = policy_password_expiry(t0, t0 + 180 * DAY, 180, 30);
	assert_int_equal(e.state, POLICY_PW_EXPIRED);
	assert_int_equal(e.expires_at, t0 + 180 * DAY);
	e = policy_password_expiry(t0, t0 + 400 * DAY, 180, 30);
	assert_int_equal(e.state, POLICY_PW_EXPIRED);
}

static void lockout_at_5th_failure_not_extended_by_6th(void **st)
{
	struct policy_lock l = { 0 };
	int64_t now = 1000;

	(void)st;
	for (int i = 1; i <= 4; i++) {
		assert_false(policy_lock_fail(&l, now + i, 5, 900));
		assert_false(policy_is_locked(&l, now + i));
	}
	assert_true(policy_lock_fail(&l, now + 5, 5, 900)); /* 5th failure locks */
	assert_true(policy_is_locked(&l, now + 5));
	assert_int_equal(l.locked_until, now + 5 + 900);
	assert_false(policy_lock_fail(&l, now + 6, 5, 900)); /* 6th: no extension */
	assert_int_equal(l.locked_until, now + 5 + 900);
	assert_true(policy_is_locked(&l, now + 5 + 899));
	assert_false(policy_is_locked(&l, now + 5 + 900)); /* expired */
	/* after expiry, counting starts again */
	assert_false(policy_lock_fail(&l, now + 1000, 5, 900));
	assert_int_equal(l.failures, 1);
	assert_int_equal(l.locked_until, 0);
}

static void ban_counts_within_window_only(void **st)
{
	struct policy_ban b = { 0 };

	(void)st;
	for (int i = 0; i < 2; i++)
		assert_false(policy_ban_fail(&b, 100 + i, 60, 3, 600));
	/* the window has passed: the count starts again */
	assert_false(policy_ban_fail(&b, 200, 60, 3, 600));
	assert_int_equal(b.failures, 1);
	assert_false(policy_ban_fail(&b, 201, 60, 3, 600));
	assert_true(policy_ban_fail(&b, 202, 60, 3, 600));
	assert_true(policy_is_banned(&b, 202));
	assert_false(policy_ban_fail(&b, 300, 60, 3, 600)); /* never extended */
	assert_int_equal(b.banned_until, 802);
	assert_false(policy_is_banned(&b, 802));
}

static void daypart_boundaries(void **st)
{
	(void)st;
	assert_int_equal(policy_daypart(5), POLICY_NIGHT);
	assert_int_equal(policy_daypart(6), POLICY_MORNING);
	assert_int_equal(policy_daypart(11), POLICY_MORNING);
	assert_int_equal(policy_daypart(12), POLICY_AFTERNOON);
	assert_int_equal(policy_daypart(17), POLICY_AFTERNOON);
	assert_int_equal(policy_daypart(18), POLICY_EVENING);
	assert_int_equal(policy_daypart(23), POLICY_EVENING);
	assert_int_equal(policy_daypart(0), POLICY_NIGHT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(login_splits_at_first_dot_user_may_contain_dots),
		cmocka_unit_test(login_folds_user_to_lower_case),
		cmocka_unit_test(login_rejects_missing_or_empty_parts),
		cmocka_unit_test(login_rejects_non_digit_relation),
		cmocka_unit_test(login_rejects_bad_user_characters),
		cmocka_unit_test(login_length_bounds),
		cmocka_unit_test(password_rules_each_broken_rule_is_named),
		cmocka_unit_test(password_length_boundary_11_12),
		cmocka_unit_test(password_classes_boundary_2_3),
		cmocka_unit_test(password_username_anywhere_any_case),
		cmocka_unit_test(password_rules_are_configurable),
		cmocka_unit_test(expiry_days_149_150_151_179_180),
		cmocka_unit_test(lockout_at_5th_failure_not_extended_by_6th),
		cmocka_unit_test(ban_counts_within_window_only),
		cmocka_unit_test(daypart_boundaries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
