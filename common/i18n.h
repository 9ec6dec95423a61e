/* Texts shown to users (login dialogue, e-mails) in the configured language,
 * through gettext catalogs (common/po/LANG.po). English is the source text. */
#ifndef SFTPDROP_I18N_H
#define SFTPDROP_I18N_H

#include <libintl.h>

#define SD_TEXT_DOMAIN "sftpdrop"
/* Translate a user-facing text. */
#define _(s) dgettext(SD_TEXT_DOMAIN, s)
/* Mark a text for extraction without translating it here. */
#define N_(s) (s)

/* Select the language ("nl" or "en") for this process. Finds the catalogs in
 * the installed locale directory or, for a build tree, beside the binaries.
 * 0, or -ENOENT if the catalog for a non-English language was not found (the
 * English texts are then used). */
int i18n_init(const char *language);

#endif
