/* Configuration parsing: defaults, bounds, and errors that name file, line
 * and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

#define BASE "host_key = /k\ndatabase = /d.db\nupload_root = /u\nspool_dir = /s\n"

static void minimal_file_gets_defaults(void **st)
{
	struct conf c;
	char err[256];

	(void)st;
	assert_int_equal(conf_load_string(BASE, "t.conf", &c, err, sizeof(err)), 0);
	assert_int_equal(c.n_listen, 1);
	assert_string_equal(c.listen[0], "127.0.0.1:2222");
	assert_int_equal(c.argon2_t_cost, 3);
	assert_int_equal(c.totp_window, 1);
	assert_true(c.sync_on_close);
	assert_false(c.allow_download);
	conf_free(&c);
}

static void listen_is_repeatable_v4_and_v6(void **st)
{
	struct conf c;
	char err[256];

	(void)st;
	assert_int_equal(conf_load_string(BASE "listen = 127.0.0.1:22\nlisten = [::1]:22\n",
					  "t.conf", &c, err, sizeof(err)),
			 0);
	assert_int_equal(c.n_listen, 2);
	assert_string_equal(c.listen[1], "[::1]:22");
	conf_free(&c);
}

static void expect_error(const char *text, const char *want)
{
	struct conf c;
	char err[256];

	assert_int_equal(conf_load_string(text, "t.conf", &c, err, sizeof(err)), -22);
	if (!strstr(err, want))
		fail_msg("expected error containing \"%s\", got \"%s\"", want, err);
}

static void unknown_key_names_line_and_key(void **st)
{
	(void)st;
	expect_error(BASE "# comment\nbogus = 1\n", "t.conf:6: key 'bogus': unknown key");
}

static void bad_value_names_line_and_key(void **st)
{
	(void)st;
	expect_error(BASE "argon2_t_cost = abc\n", "t.conf:5: key 'argon2_t_cost'");
	expect_error(BASE "totp_window = 9\n", "t.conf:5: key 'totp_window'");
	expect_error(BASE "allow_download = maybe\n", "t.conf:5: key 'allow_download'");
	expect_error("listen = localhost\n" BASE, "t.conf:1: key 'listen'");
	expect_error("listen = [::1]22\n" BASE, "t.conf:1: key 'listen'");
	expect_error(BASE "language = fr\n", "t.conf:5: key 'language': 'fr': must be nl or en");
	expect_error(BASE "sendmail_command = sendmail\n", "t.conf:5: key 'sendmail_command'");
	expect_error(BASE "password_warn_days = 200\n", "key 'password_warn_days'");
}

static void duplicate_key_refused(void **st)
{
	(void)st;
	expect_error(BASE "database = /x\n", "t.conf:5: key 'database': given more than once");
}

static void syntax_error_names_line(void **st)
{
	(void)st;
	expect_error(BASE "\njust words\n", "t.conf:6: syntax error");
	expect_error(BASE "[main]\n", "t.conf:5: syntax error");
}

static void missing_required_key(void **st)
{
	(void)st;
	expect_error("database = /d\nupload_root = /u\nspool_dir = /s\n",
		     "key 'host_key': required but not set");
}

static void missing_file_is_reported(void **st)
{
	struct conf c;
	char err[256];

	(void)st;
	assert_int_equal(conf_load("/nonexistent/x.conf", &c, err, sizeof(err)), -2);
	assert_non_null(strstr(err, "/nonexistent/x.conf"));
}

static void file_errors_name_the_file(void **st)
{
	char path[] = "/tmp/sftpdrop-conf-XXXXXX";
	int fd = mkstemp(path);
	struct conf c;
	char err[512];
	char want[300];

	(void)st;
	assert_true(fd >= 0);
	assert_true(write(fd, BASE "idle_timeout = 1\n", strlen(BASE) + 17) > 0);
	close(fd);
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), -22);
	snprintf(want, sizeof(want), "%s:5: key 'idle_timeout'", path);
	if (!strstr(err, want))
		fail_msg("expected \"%s\" in \"%s\"", want, err);
	unlink(path);
}

static void print_shows_every_key(void **st)
{
	struct conf c;
	char err[256];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)st;
	assert_int_equal(conf_load_string(BASE, "t.conf", &c, err, sizeof(err)), 0);
	f = open_memstream(&buf, &len);
	conf_print(&c, f);
	fclose(f);
	assert_non_null(strstr(buf, "database = /d.db\n"));
	assert_non_null(strstr(buf, "ingest_settle_ms = 1000\n"));
	assert_non_null(strstr(buf, "sync_on_close = yes\n"));
	free(buf);
	conf_free(&c);
}

static void skip_patterns_match_basenames(void **st)
{
	(void)st;
	assert_true(conf_name_matches("*.filepart,*.part", "a.filepart"));
	assert_true(conf_name_matches("*.filepart,*.part", "x y.part"));
	assert_false(conf_name_matches("*.filepart,*.part", "a.txt"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(minimal_file_gets_defaults),
		cmocka_unit_test(listen_is_repeatable_v4_and_v6),
		cmocka_unit_test(unknown_key_names_line_and_key),
		cmocka_unit_test(bad_value_names_line_and_key),
		cmocka_unit_test(duplicate_key_refused),
		cmocka_unit_test(syntax_error_names_line),
		cmocka_unit_test(missing_required_key),
		cmocka_unit_test(missing_file_is_reported),
		cmocka_unit_test(file_errors_name_the_file),
		cmocka_unit_test(print_shows_every_key),
		cmocka_unit_test(skip_patterns_match_basenames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
