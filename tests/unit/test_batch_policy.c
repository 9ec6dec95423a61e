/* Batch accounts: source ranges (policy/cidr.c) and authorized_keys lines
 * (policy/authkeys.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "policy.h"

static void cidr_ipv4_prefix_matches_inside_not_outside(void **st)
{
	(void)st;
	assert_int_equal(policy_cidr_list_match("10.0.0.0/8", "10.255.1.2"), 1);
	assert_int_equal(policy_cidr_list_match("10.0.0.0/8", "11.0.0.1"), 0);
	assert_int_equal(policy_cidr_list_match("127.0.0.0/8", "127.0.0.1"), 1);
	assert_int_equal(policy_cidr_list_match("192.168.1.128/25", "192.168.1.127"), 0);
	assert_int_equal(policy_cidr_list_match("192.168.1.128/25", "192.168.1.128"), 1);
	assert_int_equal(policy_cidr_list_match("192.168.1.128/25", "192.168.1.255"), 1);
	assert_int_equal(policy_cidr_list_match("192.0.2.7", "192.0.2.7"), 1);
	assert_int_equal(policy_cidr_list_match("192.0.2.7/32", "192.0.2.8"), 0);
	assert_int_equal(policy_cidr_list_match("0.0.0.0/0", "203.0.113.9"), 1);
}

static void cidr_ipv6_prefix_matches_inside_not_outside(void **st)
{
	(void)st;
	assert_int_equal(policy_cidr_list_match("2001:db8::/32", "2001:db8:1::5"), 1);
	assert_int_equal(policy_cidr_list_match("2001:db8::/32", "2001:db9::5"), 0);
	assert_int_equal(policy_cidr_list_match("::1/128", "::1"), 1);
	assert_int_equal(policy_cidr_list_match("2001:db8::/33", "2001:db8:8000::1"), 0);
	assert_int_equal(policy_cidr_list_match("2001:db8::/33", "2001:db8:7fff::1"), 1);
	assert_int_equal(policy_cidr_list_match("::/0", "fe80::1"), 1);
}

static void cidr_families_never_match_each_other(void **st)
{
	(void)st;
	assert_int_equal(policy_cidr_list_match("::/0", "127.0.0.1"), 0);
	assert_int_equal(policy_cidr_list_match("0.0.0.0/0", "::1"), 0);
}

static void cidr_list_matches_any_item(void **st)
{
	(void)st;
	assert_int_equal(policy_cidr_list_match("10.0.0.0/8,127.0.0.0/8", "127.0.0.1"), 1);
	assert_int_equal(policy_cidr_list_match("10.0.0.0/8,2001:db8::/32", "2001:db8::1"), 1);
	assert_int_equal(policy_cidr_list_match("10.0.0.0/8,172.16.0.0/12", "127.0.0.1"), 0);
}

static void cidr_malformed_lists_are_refused(void **st)
{
	const char *bad[] = { "",	     ",",	    "10.0.0.0/8,",   ",10.0.0.0/8",
			      "10.0.0.0/33", "10.0.0.0/",   "10.0.0.0/x",    "10.0.0/8",
			      "10.1.2.3/8",  "10.0.0.0/08", "::/129",	     "2001:db8::1/32",
			      "10.0.0.0 /8", " 10.0.0.0/8", "10.0.0.0/8 ",   "host.example",
			      "10.0.0.0/-1", "10.0.0.0/1000" };

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (policy_cidr_list_check(bad[i]) != -22)
			fail_msg("expected '%s' to be refused", bad[i]);
		assert_int_equal(policy_cidr_list_match(bad[i], "10.0.0.1"), -22);
	}
	assert_int_equal(policy_cidr_list_check(NULL), -22);
	assert_int_equal(policy_cidr_list_check("10.0.0.0/8,::1,2001:db8::/32"), 0);
}

static void cidr_malformed_address_is_an_error_not_a_match(void **st)
{
	(void)st;
	assert_int_equal(policy_cidr_list_match("0.0.0.0/0", "not-an-address"), -22);
	assert_int_equal(policy_cidr_list_match("0.0.0.0/0", ""), -22);
	assert_int_equal(policy_cidr_list_match("0.0.0.0/0", NULL), -22);
}

static void cidr_list_length_is_bounded(void **st)
{
	char list[2048] = "";

	(void)st;
	for (int i = 0; i < POLICY_CIDR_LIST_MAX + 1; i++)
		strcat(list, i ? ",10.0.0.0/8" : "10.0.0.0/8");
	assert_int_equal(policy_cidr_list_check(list), -22);
}

#define ED "AAAAC3NzaC1lZDI1NTE5AAAAIGbq2oN1/nU2MaJNNl2pVn5H7Cs0pdTtjjD1Jk1o2tYb"

static enum policy_authkey_status parse(const char *line, struct policy_authkey *k)
{
	return policy_authkey_parse(line, strlen(line), 0, k);
}

static void authkey_splits_type_key_and_comment(void **st)
{
	const char *line = "ssh-ed25519 " ED " batch@host  ";
	struct policy_authkey k;

	(void)st;
	assert_int_equal(parse(line, &k), POLICY_AUTHKEY_OK);
	assert_int_equal(k.type_len, strlen("ssh-ed25519"));
	assert_memory_equal(line + k.type_off, "ssh-ed25519", k.type_len);
	assert_int_equal(k.b64_len, strlen(ED));
	assert_memory_equal(line + k.b64_off, ED, k.b64_len);
	assert_int_equal(k.comment_len, strlen("batch@host"));
	assert_memory_equal(line + k.comment_off, "batch@host", k.comment_len);
}

static void authkey_comment_is_optional_and_may_have_spaces(void **st)
{
	struct policy_authkey k;
	const char *line = "ssh-rsa " ED "\t nightly job 3\r";

	(void)st;
	assert_int_equal(parse("ecdsa-sha2-nistp384 " ED, &k), POLICY_AUTHKEY_OK);
	assert_int_equal(k.comment_len, 0);
	assert_int_equal(parse(line, &k), POLICY_AUTHKEY_OK);
	assert_int_equal(k.comment_len, strlen("nightly job 3"));
	assert_memory_equal(line + k.comment_off, "nightly job 3", k.comment_len);
}

static void authkey_blank_and_comment_lines_are_empty(void **st)
{
	struct policy_authkey k;

	(void)st;
	assert_int_equal(parse("", &k), POLICY_AUTHKEY_EMPTY);
	assert_int_equal(parse("   \t", &k), POLICY_AUTHKEY_EMPTY);
	assert_int_equal(parse("# ssh-ed25519 " ED, &k), POLICY_AUTHKEY_EMPTY);
	assert_int_equal(parse("\r", &k), POLICY_AUTHKEY_EMPTY);
}

static void authkey_options_prefix_is_refused(void **st)
{
	struct policy_authkey k;

	(void)st;
	assert_int_equal(parse("from=\"10.0.0.0/8\" ssh-ed25519 " ED, &k),
			 POLICY_AUTHKEY_OPTIONS);
	assert_int_equal(parse("command=\"echo a b\",no-pty ssh-ed25519 " ED " c", &k),
			 POLICY_AUTHKEY_OPTIONS);
	assert_int_equal(parse("restrict ssh-rsa " ED, &k), POLICY_AUTHKEY_OPTIONS);
}

static void authkey_unsupported_types_are_refused(void **st)
{
	struct policy_authkey k;

	(void)st;
	assert_int_equal(parse("ssh-dss " ED, &k), POLICY_AUTHKEY_BAD_TYPE);
	assert_int_equal(parse("ssh-ed25519-cert-v01@openssh.com " ED, &k),
			 POLICY_AUTHKEY_BAD_TYPE);
	assert_int_equal(parse("sk-ssh-ed25519@openssh.com " ED, &k), POLICY_AUTHKEY_BAD_TYPE);
	assert_int_equal(parse("garbage", &k), POLICY_AUTHKEY_BAD_TYPE);
}

static void authkey_bad_base64_and_missing_key_are_refused(void **st)
{
	struct policy_authkey k;

	(void)st;
	assert_int_equal(parse("ssh-ed25519", &k), POLICY_AUTHKEY_NO_KEY);
	assert_int_equal(parse("ssh-ed25519   ", &k), POLICY_AUTHKEY_NO_KEY);
	assert_int_equal(parse("ssh-ed25519 AAA", &k), POLICY_AUTHKEY_BAD_BASE64);
	assert_int_equal(parse("ssh-ed25519 AA=A", &k), POLICY_AUTHKEY_BAD_BASE64);
	assert_int_equal(parse("ssh-ed25519 A===", &k), POLICY_AUTHKEY_BAD_BASE64);
	assert_int_equal(parse("ssh-ed25519 AA*A", &k), POLICY_AUTHKEY_BAD_BASE64);
	assert_int_equal(parse("ssh-ed25519 AA==", &k), POLICY_AUTHKEY_OK);
}

static void authkey_control_characters_are_refused(void **st)
{
	struct policy_authkey k;
	const char nul[] = "ssh-ed25519 AAAA a\0b";

	(void)st;
	assert_int_equal(parse("ssh-ed25519 AAAA evil\x1b[2J", &k), POLICY_AUTHKEY_BAD_COMMENT);
	assert_int_equal(policy_authkey_parse(nul, sizeof(nul) - 1, 0, &k),
			 POLICY_AUTHKEY_BAD_COMMENT);
}

static void authkey_lengths_are_bounded(void **st)
{
	static char line[POLICY_AUTHKEY_LINE_MAX + 64];
	struct policy_authkey k;

	(void)st;
	memset(line, 'A', sizeof(line) - 1);
	memcpy(line, "ssh-rsa ", 8);
	assert_int_equal(policy_authkey_parse(line, sizeof(line) - 1, 0, &k),
			 POLICY_AUTHKEY_TOO_LONG);
	memset(line, 0, sizeof(line));
	strcpy(line, "ssh-ed25519 AAAA ");
	memset(line + strlen(line), 'c', POLICY_AUTHKEY_COMMENT_MAX + 1);
	assert_int_equal(parse(line, &k), POLICY_AUTHKEY_TOO_LONG);
	/* a position past the end is nothing, not a read beyond it */
	assert_int_equal(policy_authkey_parse("ab", 2, 3, &k), POLICY_AUTHKEY_EMPTY);
}

static void authkey_errors_have_texts(void **st)
{
	(void)st;
	for (int i = POLICY_AUTHKEY_OK; i <= POLICY_AUTHKEY_TOO_LONG; i++)
		assert_non_null(strstr(policy_authkey_error((enum policy_authkey_status)i), ""));
	assert_non_null(strstr(policy_authkey_error(POLICY_AUTHKEY_OPTIONS), "--from"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cidr_ipv4_prefix_matches_inside_not_outside),
		cmocka_unit_test(cidr_ipv6_prefix_matches_inside_not_outside),
		cmocka_unit_test(cidr_families_never_match_each_other),
		cmocka_unit_test(cidr_list_matches_any_item),
		cmocka_unit_test(cidr_malformed_lists_are_refused),
		cmocka_unit_test(cidr_malformed_address_is_an_error_not_a_match),
		cmocka_unit_test(cidr_list_length_is_bounded),
		cmocka_unit_test(authkey_splits_type_key_and_comment),
		cmocka_unit_test(authkey_comment_is_optional_and_may_have_spaces),
		cmocka_unit_test(authkey_blank_and_comment_lines_are_empty),
		cmocka_unit_test(authkey_options_prefix_is_refused),
		cmocka_unit_test(authkey_unsupported_types_are_refused),
		cmocka_unit_test(authkey_bad_base64_and_missing_key_are_refused),
		cmocka_unit_test(authkey_control_characters_are_refused),
		cmocka_unit_test(authkey_lengths_are_bounded),
		cmocka_unit_test(authkey_errors_have_texts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
