/* The admin tool's only source of the current time: every timestamp it stores
 * goes through admin_now(), which is the shared clock (so that test builds,
 * -DTEST_CLOCK=ON, give the admin tool the same injected time as the daemon). */
#include "admin.h"
#include "clock.h"

int64_t admin_now(void)
{
	return clock_now();
}
