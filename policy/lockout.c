/* Account lockout after consecutive failures, and source-address bans over a
 * window. Both never extend themselves while in force. */
#include "policy.h"

bool policy_is_locked(const struct policy_lock *l, int64_t now)
{
	return l->locked_until > now;
}

bool policy_lock_fail(struct policy_lock *l, int64_t now, int64_t threshold,
		      int64_t lock_seconds)
{
	if (policy_is_locked(l, now))
		return false;
	if (l->locked_until != 0) {
		/* An expired lock starts a fresh count. */
		l->locked_until = 0;
		l->failures = 0;
	}
	l->failures++;
	if (l->failures < threshold)
		return false;
	l->failures = 0;
	l->locked_until = now + lock_seconds;
	return true;
}

bool policy_is_banned(const struct policy_ban *b, int64_t now)
{
	return b->banned_until > now;
}

bool policy_ban_fail(struct policy_ban *b, int64_t now, int64_t window_seconds,
		     int64_t threshold, int64_t ban_seconds)
{
	if (policy_is_banned(b, now))
		return false;
	if (b->banned_until != 0 || now - b->window_start >= window_seconds) {
		b->banned_until = 0;
		b->failures = 0;
		b->window_start = now;
	}
	b->failures++;
	if (b->failures < threshold)
		return false;
	b->failures = 0;
	b->banned_until = now + ban_seconds;
	return true;
}
