/* The monitor protocol: encoding bounds, and fd passing over SEQPACKET. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monproto.h"

static void round_trip_with_fd(void **st)
{
	struct mon_buf a, b;
	const char *s;
	size_t len;
	uint64_t v;
	int sv[2], fd = -1;

	(void)st;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	mon_buf_init(&a, MON_UPLOAD);
	assert_int_equal(mon_put_cstr(&a, "dir/name with spaces"), 0);
	assert_int_equal(mon_put_u64(&a, 5ULL << 32), 0);
	assert_int_equal(mon_send(sv[0], &a, open("/dev/null", O_RDONLY)), 0);
	assert_int_equal(mon_recv(sv[1], &b, &fd), 0);
	assert_true(fd >= 0);
	assert_int_equal(b.data[0], MON_UPLOAD);
	assert_int_equal(mon_get_str(&b, &s, &len), 0);
	assert_string_equal(s, "dir/name with spaces");
	assert_int_equal(mon_get_u64(&b, &v), 0);
	assert_int_equal(v, 5ULL << 32);
	assert_int_equal(mon_get_end(&b), 0);
	assert_int_equal(mon_get_u8(&b, &a.data[0]), -EBADMSG);
	close(fd);
	close(sv[0]);
	assert_int_equal(mon_recv(sv[1], &b, NULL), -EPIPE);
	close(sv[1]);
}

static void truncated_and_lying_strings_are_refused(void **st)
{
	struct mon_buf b;
	const char *s;

	(void)st;
	mon_buf_init(&b, 1);
	mon_put_cstr(&b, "abc");
	b.pos = 1;
	b.len = 1 + 4 + 2; /* cut inside the string */
	assert_int_equal(mon_get_str(&b, &s, NULL), -EBADMSG);
	mon_buf_init(&b, 1);
	mon_put_str(&b, "a\0b", 3); /* embedded NUL */
	b.pos = 1;
	assert_int_equal(mon_get_str(&b, &s, NULL), -EBADMSG);
	mon_buf_init(&b, 1);
	b.data[1] = 0xff; /* length 4 GiB */
	b.data[2] = b.data[3] = b.data[4] = 0xff;
	b.len = 5;
	b.pos = 1;
	assert_int_equal(mon_get_str(&b, &s, NULL), -EBADMSG);
}

static void oversized_string_is_refused_by_the_writer(void **st)
{
	static char big[MON_MSG_MAX];
	struct mon_buf b;

	(void)st;
	memset(big, 'x', sizeof(big));
	mon_buf_init(&b, 1);
	assert_int_equal(mon_put_str(&b, big, sizeof(big)), -EMSGSIZE);
	assert_int_equal(b.len, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_with_fd),
		cmocka_unit_test(truncated_and_lying_strings_are_refused),
		cmocka_unit_test(oversized_string_is_refused_by_the_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
