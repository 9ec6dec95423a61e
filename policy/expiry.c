/* Password ageing: valid for max_age_days, a warning from warn_days before. */
#include "policy.h"

#define DAY 86400

struct policy_expiry policy_password_expiry(int64_t changed_at, int64_t now,
					    int64_t max_age_days, int64_t warn_days)
{
	struct policy_expiry e = { .state = POLICY_PW_VALID };
	int64_t left;

	e.expires_at = changed_at + max_age_days * DAY;
	left = e.expires_at - now;
	if (left <= 0) {
		e.state = POLICY_PW_EXPIRED;
		e.days_left = 0;
		return e;
	}
	e.days_left = (left + DAY - 1) / DAY;
	if (e.days_left <= warn_days)
		e.state = POLICY_PW_EXPIRING;
	return e;
}
