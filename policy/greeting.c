/* Which greeting fits the hour ("Goedemorgen", "Good afternoon", ...). */
#include "policy.h"

enum policy_daypart policy_daypart(int hour)
{
	if (hour >= 6 && hour < 12)
		return POLICY_MORNING;
	if (hour >= 12 && hour < 18)
		return POLICY_AFTERNOON;
	if (hour >= 18 && hour < 24)
		return POLICY_EVENING;
	return POLICY_NIGHT;
}
