/* Test-only crash points. A build with -DTEST_CLOCK=ON kills the process
 * with SIGKILL at a named point when SFTPDROP_TEST_FAULT (a comma-separated
 * list) names it, so that tests can prove every step of an upload's life is
 * recovered after a crash there. In other builds fault_point() does nothing
 * and the variable is never read. */
#ifndef SFTPDROP_FAULT_H
#define SFTPDROP_FAULT_H

#include <stdbool.h>

/* Crash here (SIGKILL, no clean-up) if the test switch names point. Logs
 * event=test_fault first. */
void fault_point(const char *point);
/* Is the switch compiled in and set at all? (programs log it at start) */
bool fault_enabled(void);

#endif
