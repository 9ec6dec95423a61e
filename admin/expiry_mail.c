/* Composition of the expiry warning. Every text is looked up with the gettext
 * context "expiry mail", so that its Dutch wording (which follows the portal's
 * letters) is kept apart from the login dialogue's texts with the same English
 * source. The message is plain UTF-8 text; a Subject with non-ASCII text is
 * encoded as RFC 2047 requires. */
#include "expiry_mail.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "i18n.h"

#define MAIL_CONTEXT "expiry mail"
/* RFC 5321: an address is at most 254 bytes. */
#define MAIL_ADDR_MAX 254

/* pgettext(): the msgid carries its context; untranslated, the plain text. */
static const char *mail_text(const char *with_context, const char *plain)
	__attribute__((format_arg(2)));
static const char *mail_text(const char *with_context, const char *plain)
{
	const char *t = dgettext(SD_TEXT_DOMAIN, with_context);

	return t == with_context ? plain : t;
}

static const char *mail_ntext(const char *with_context, const char *singular,
			      const char *plural, unsigned long n)
	__attribute__((format_arg(2))) __attribute__((format_arg(3)));
static const char *mail_ntext(const char *with_context, const char *singular,
			      const char *plural, unsigned long n)
{
	const char *t = dngettext(SD_TEXT_DOMAIN, with_context, plural, n);

	if (t == with_context || t == plural)
		return n == 1 ? singular : plural;
	return t;
}

#define M_(s) mail_text(MAIL_CONTEXT "\004" s, s)
#define MN_(s, p, n) mail_ntext(MAIL_CONTEXT "\004" s, s, p, n)

int admin_mail_header_safe(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAIL_ADDR_MAX)
		return -EINVAL;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return -EINVAL;
	return 0;
}

/* s as a header value: as it is when it is printable ASCII, otherwise one
 * RFC 2047 encoded word per chunk of whole UTF-8 characters. */
static void put_header_text(FILE *f, const char *s)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	/* 45 bytes become 60 characters: an encoded word stays under 75. */
	const size_t chunk = 45;
	bool plain = true;
	size_t len = strlen(s), off = 0;

	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			plain = false;
	if (plain) {
		fputs(s, f);
		return;
	}
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;
		const unsigned char *p = (const unsigned char *)s + off;

		/* Never split a UTF-8 sequence between two encoded words. */
		while (n < len - off && n > 0 && (p[n] & 0xc0) == 0x80)
			n--;
		fputs(off ? "\n =?UTF-8?B?" : "=?UTF-8?B?", f);
		for (size_t i = 0; i < n; i += 3) {
			uint32_t v = (uint32_t)p[i] << 16;

			if (i + 1 < n)
				v |= (uint32_t)p[i + 1] << 8;
			if (i + 2 < n)
				v |= p[i + 2];
			fputc(b64[(v >> 18) & 63], f);
			fputc(b64[(v >> 12) & 63], f);
			fputc(i + 1 < n ? b64[(v >> 6) & 63] : '=', f);
			fputc(i + 2 < n ? b64[v & 63] : '=', f);
		}
		fputs("?=", f);
		off += n;
	}
}

/* fmt comes from the catalog (a translated date format), hence the pragma;
 * the attribute still has callers' literals checked. */
static void local_date(int64_t t, const char *fmt, char *out, size_t outsz)
	__attribute__((format(strftime, 2, 0)));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void local_date(int64_t t, const char *fmt, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) || strftime(out, outsz, fmt, &tm) == 0)
		snprintf(out, outsz, "?");
}
#pragma GCC diagnostic pop

int admin_expiry_mail(const struct admin_expiry_mail *m, char **out, size_t *len)
{
	char date[64], when[64], subject[256];
	time_t now = (time_t)m->now;
	struct tm tm;
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	local_date(m->expires_at, M_("%Y-%m-%d"), when, sizeof(when));
	snprintf(subject, sizeof(subject), M_("Your sftpdrop password expires on %s"), when);
	/* RFC 5322 date; LC_TIME is "C" in this program, so the names are English
	 * as the RFC wants them. */
	if (!gmtime_r(&now, &tm) ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		date[0] = '\0';
	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	fprintf(f, "From: %s\n", m->from);
	fprintf(f, "To: %s\n", m->to);
	fputs("Subject: ", f);
	put_header_text(f, subject);
	fputc('\n', f);
	if (date[0])
		fprintf(f, "Date: %s\n", date);
	fputs("MIME-Version: 1.0\n"
	      "Content-Type: text/plain; charset=UTF-8\n"
	      "Content-Transfer-Encoding: 8bit\n"
	      "Auto-Submitted: auto-generated\n"
	      "\n",
	      f);
	fprintf(f, M_("Dear %s,"), m->full_name);
	fputs("\n\n", f);
	fprintf(f,
		MN_("Your password for sftpdrop expires in %lld day, on %s.",
		    "Your password for sftpdrop expires in %lld days, on %s.",
		    (unsigned long)m->days_left),
		(long long)m->days_left, when);
	fputc(' ', f);
	fprintf(f, M_("This concerns the login name %s."), m->login);
	fputs("\n\n", f);
	fputs(M_("When you log in after that date, you will be asked to choose a new "
		 "password. The new password must meet the password requirements and may "
		 "not be one of your previous passwords."),
	      f);
	fputs("\n\n", f);
	fputs(M_("This message was sent automatically. Please do not reply to it."), f);
	fputc('\n', f);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return -ENOMEM;
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	*len = size;
	return 0;
}
