/* The ingest watcher's only source of time: every deadline and every time
 * written to the store comes from ingest_now(), so a test can swap it. Wall
 * time is the shared clock (the injected one in -DTEST_CLOCK=ON builds, like
 * the daemon's); deadlines run on CLOCK_MONOTONIC, immune to clock steps. */
#include "ingest.h"

#include <time.h>

#include "clock.h"

static ingest_clock_fn clock_override;

static void system_clock(struct ingest_time *out)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	out->mono_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	out->wall = clock_now();
}

void ingest_now(struct ingest_time *out)
{
	if (clock_override)
		clock_override(out);
	else
		system_clock(out);
}

void ingest_set_clock(ingest_clock_fn fn)
{
	clock_override = fn;
}
