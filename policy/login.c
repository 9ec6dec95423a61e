/* Login name parsing: "<relatienummer>.<gebruikersnaam>"; the user name may
 * itself contain dots, so the split is at the first one. */
#include "policy.h"

#include <errno.h>
#include <string.h>

bool policy_relation_valid(const char *relation)
{
	size_t n = strlen(relation);

	if (n == 0 || n > SD_RELATION_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (relation[i] < '0' || relation[i] > '9')
			return false;
	return true;
}

static bool user_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-';
}

bool policy_username_valid(const char *user)
{
	size_t n = strlen(user);

	if (n == 0 || n > SD_USERNAME_MAX)
		return false;
	if (!((user[0] >= 'a' && user[0] <= 'z') || (user[0] >= '0' && user[0] <= '9')))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!user_char(user[i]))
			return false;
	return true;
}

int policy_parse_login(const char *login, char *relation, char *user)
{
	char rel[SD_RELATION_MAX + 1];
	char usr[SD_USERNAME_MAX + 1];
	const char *dot;
	size_t rl, ul;

	if (!login)
		return -EINVAL;
	dot = strchr(login, '.');
	if (!dot)
		return -EINVAL;
	rl = (size_t)(dot - login);
	ul = strlen(dot + 1);
	if (rl == 0 || rl > SD_RELATION_MAX || ul == 0 || ul > SD_USERNAME_MAX)
		return -EINVAL;
	memcpy(rel, login, rl);
	rel[rl] = '\0';
	for (size_t i = 0; i < ul; i++) {
		char c = dot[1 + i];

		usr[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	usr[ul] = '\0';
	if (!policy_relation_valid(rel) || !policy_username_valid(usr))
		return -EINVAL;
	memcpy(relation, rel, rl + 1);
	memcpy(user, usr, ul + 1);
	return 0;
}
