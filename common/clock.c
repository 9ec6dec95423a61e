/* The clock, with the test-only override compiled in only when asked for. */
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef SFTPDROP_TEST_CLOCK
/* The file holds decimal epoch seconds; read at every call so that a test can
 * move time while the daemon runs. */
static bool fake_now(int64_t *out)
{
	const char *path = getenv("SFTPDROP_TEST_CLOCK_FILE");
	long long v;
	FILE *f;
	int n;

	if (!path || !*path)
		return false;
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fscanf(f, "%lld", &v);
	fclose(f);
	if (n != 1)
		return false;
	*out = v;
	return true;
}
#else
static bool fake_now(int64_t *out)
{
	(void)out;
	return false;
}
#endif

int64_t clock_now(void)
{
	int64_t t;

	if (fake_now(&t))
		return t;
	return (int64_t)time(NULL);
}

bool clock_is_fake(void)
{
	int64_t t;

	return fake_now(&t);
}
