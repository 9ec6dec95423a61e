/* The test fault switch: compiled to nothing unless the build has the test
 * clock (the same option that lets tests inject time). */
#include "fault.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#ifdef SFTPDROP_TEST_CLOCK
static bool listed(const char *list, const char *point)
{
	size_t n = strlen(point);

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && strncmp(p, point, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

void fault_point(const char *point)
{
	const char *list = getenv("SFTPDROP_TEST_FAULT");

	if (!list || !listed(list, point))
		return;
	log_event(LOG_WARNING, "test_fault", "point=%s pid=%d", point, (int)getpid());
	/* SIGKILL: no atexit, no destructors, no buffered output, like a crash
	 * or a power cut as far as this process's own state goes. */
	kill(getpid(), SIGKILL);
	_exit(137);
}

bool fault_enabled(void)
{
	const char *list = getenv("SFTPDROP_TEST_FAULT");

	return list && *list;
}
#else
void fault_point(const char *point)
{
	(void)point;
}

bool fault_enabled(void)
{
	return false;
}
#endif
