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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
