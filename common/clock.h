/* Wall-clock time for decisions (TOTP steps, expiry, timestamps). Test builds
 * (-DTEST_CLOCK=ON) let a test set "now" through the file named by
 * SFTPDROP_TEST_CLOCK_FILE, so that time is injected, never slept. */
#ifndef SFTPDROP_CLOCK_H
#define SFTPDROP_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Seconds since the epoch (or the test clock). */
int64_t clock_now(void);
/* Is the test clock in force? (programs log a warning at start) */
bool clock_is_fake(void);

#endif
