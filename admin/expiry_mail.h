/* The password expiry warning e-mail, in the configured language (gettext,
 * context "expiry mail" in common/po/LANG.po; i18n_init() selects it). */
#ifndef SFTPDROP_ADMIN_EXPIRY_MAIL_H
#define SFTPDROP_ADMIN_EXPIRY_MAIL_H

#include <stddef.h>
#include <stdint.h>

struct admin_expiry_mail {
	const char *from;      /* header-safe (admin_mail_header_safe) */
	const char *to;        /* a checked e-mail address */
	const char *full_name; /* UTF-8 text without control characters */
	const char *login;
	int64_t now;           /* the Date: header */
	int64_t expires_at;
	int64_t days_left;     /* > 0 */
};

/* Can s go into a header as it is: printable ASCII, no CR/LF, at most 254
 * bytes? (mail_from comes from the configuration, which does not check it.) */
int admin_mail_header_safe(const char *s);

/* The whole message, headers and body (LF line ends, as sendmail -t -i
 * reads it), into a malloc'd *out of *len bytes: the caller frees it.
 * Dates in the body are in local time. 0 or -ENOMEM. */
int admin_expiry_mail(const struct admin_expiry_mail *m, char **out, size_t *len);

#endif
