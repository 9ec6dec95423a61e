/* gettext set-up that does not depend on the system's locales: glibc honours
 * LANGUAGE for any LC_MESSAGES locale other than "C", and C.UTF-8 is always
 * there, so the configured language works on a minimal system. */
#include "i18n.h"

#include <errno.h>
#include <stdbool.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool catalog_in(const char *dir, const char *language)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s/LC_MESSAGES/%s.mo", dir, language, SD_TEXT_DOMAIN);
	return access(path, R_OK) == 0;
}

int i18n_init(const char *language)
{
	static const char *const dirs[] = { SFTPDROP_LOCALEDIR, SFTPDROP_BUILD_LOCALEDIR };
	const char *dir = NULL;

	setlocale(LC_MESSAGES, "C.UTF-8");
	setlocale(LC_CTYPE, "C.UTF-8");
	setenv("LANGUAGE", language, 1);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (catalog_in(dirs[i], language)) {
			dir = dirs[i];
			break;
		}
	}
	bind_textdomain_codeset(SD_TEXT_DOMAIN, "UTF-8");
	if (!dir) {
		bindtextdomain(SD_TEXT_DOMAIN, SFTPDROP_LOCALEDIR);
		return strcmp(language, "en") == 0 ? 0 : -ENOENT;
	}
	bindtextdomain(SD_TEXT_DOMAIN, dir);
	return 0;
}
