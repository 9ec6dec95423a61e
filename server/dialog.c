/* Builds the user-facing texts of the login dialogue with gettext; the
 * Dutch wording follows the portal's manual ("Mijn CAK Zakelijk"). */
#include "dialog.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "i18n.h"
#include "policy.h"

const char *dialog_prompt(enum dialog_prompt p)
{
	switch (p) {
	case DIALOG_ACTIVATION:
		return _("Activation code: ");
	case DIALOG_NEW_PASSWORD:
		return _("New password: ");
	case DIALOG_REPEAT_PASSWORD:
		return _("Repeat new password: ");
	case DIALOG_CODE:
		break;
	}
	return _("Verification code: ");
}

/* Append a formatted line to out (bounded). */
static void add(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(char *out, const char *fmt, ...)
{
	size_t used = strlen(out);
	va_list ap;

	if (used >= DIALOG_TEXT_MAX - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(out + used, DIALOG_TEXT_MAX - used, fmt, ap);
	va_end(ap);
}

/* fmt comes from the catalog (a translated date format), hence the pragma. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void local_time(int64_t t, const char *fmt, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	if (strftime(out, outsz, fmt, &tm) == 0)
		out[0] = '\0';
}
#pragma GCC diagnostic pop

void dialog_activation(char *out)
{
	out[0] = '\0';
	add(out, "%s", _("This is your first login. Enter the activation code from the letter "
			 "you received."));
}

static void policy_lines(char *out, const struct conf *c)
{
	add(out, "%s\n", _("A password must meet these requirements:"));
	add(out, _("- It has at least %u characters\n"), (unsigned)c->password_min_length);
	add(out, "%s\n", _("- It does not contain your user name"));
	add(out, _("- It is not one of your last %u passwords\n"), (unsigned)c->password_history);
	add(out, _("- It contains at least %u of: lower-case letters, upper-case letters, "
		   "digits, punctuation"),
	    (unsigned)c->password_min_classes);
}

void dialog_change_intro(char *out, enum dialog_change_why why, const struct conf *c)
{
	out[0] = '\0';
	if (why == DIALOG_CHANGE_EXPIRED)
		add(out, "%s\n", _("Your password has expired. Choose a new password now."));
	else
		add(out, "%s\n", _("You logged in with a one-time password. Choose your own "
				   "password now."));
	policy_lines(out, c);
}

void dialog_change_rejected(char *out, unsigned broken, bool mismatch, unsigned tries_left,
			    const struct conf *c)
{
	out[0] = '\0';
	if (mismatch) {
		add(out, "%s\n", _("The two passwords are not the same."));
	} else {
		add(out, "%s\n", _("The new password was not accepted:"));
		if (broken & POLICY_PW_TOO_SHORT)
			add(out, _("- It is shorter than %u characters\n"),
			    (unsigned)c->password_min_length);
		if (broken & POLICY_PW_TOO_LONG)
			add(out, _("- It is longer than %u bytes\n"), (unsigned)SD_PASSWORD_MAX);
		if (broken & POLICY_PW_HAS_USERNAME)
			add(out, "%s\n", _("- It contains your user name"));
		if (broken & POLICY_PW_REUSED)
			add(out, _("- It is one of your last %u passwords\n"),
			    (unsigned)c->password_history);
		if (broken & POLICY_PW_FEW_CLASSES)
			add(out, _("- It contains fewer than %u of: lower-case letters, upper-case "
				   "letters, digits, punctuation\n"),
			    (unsigned)c->password_min_classes);
	}
	add(out, dngettext(SD_TEXT_DOMAIN, "Try again (%u attempt left).",
			   "Try again (%u attempts left).", tries_left),
	    tries_left);
	add(out, "\n\n");
	policy_lines(out, c);
}

void dialog_enrol(char *out, const char *secret_b32, const char *uri, bool retry)
{
	out[0] = '\0';
	if (retry)
		add(out, "%s\n\n", _("The code was not correct. Enter the current code from the "
				     "app."));
	add(out, "%s\n", _("Set up two-step verification. Add this key to your authenticator "
			   "app:"));
	add(out, "    %s\n", secret_b32);
	add(out, "%s\n", _("or open this link (as a QR code):"));
	add(out, "    %s\n", uri);
	add(out, "%s", _("Then enter the 6-digit code the app shows."));
}

void dialog_final(char *out, const struct dialog_final *f)
{
	time_t tt = (time_t)f->now;
	char when[64];
	struct tm tm;

	out[0] = '\0';
	localtime_r(&tt, &tm);
	switch (policy_daypart(tm.tm_hour)) {
	case POLICY_MORNING:
		add(out, _("Good morning, %s."), f->full_name);
		break;
	case POLICY_AFTERNOON:
		add(out, _("Good afternoon, %s."), f->full_name);
		break;
	case POLICY_EVENING:
		add(out, _("Good evening, %s."), f->full_name);
		break;
	case POLICY_NIGHT:
		add(out, _("Good night, %s."), f->full_name);
		break;
	}
	add(out, "\n");
	if (f->prev_login_at > 0) {
		local_time(f->prev_login_at, _("%Y-%m-%d at %H:%M"), when, sizeof(when));
		add(out, _("Your previous login was on %s from %s."), when, f->prev_login_src);
	} else {
		add(out, "%s", _("This is your first login."));
	}
	if (f->enrolled)
		add(out, "\n%s", _("Two-step verification is set up."));
	local_time(f->expires_at, _("%Y-%m-%d"), when, sizeof(when));
	if (f->password_changed) {
		add(out, "\n");
		add(out, _("Your new password is valid until %s."), when);
	} else if (f->days_left > 0) {
		add(out, "\n");
		add(out,
		    dngettext(SD_TEXT_DOMAIN,
			      "Your password expires in %lld day, on %s. After that you will be "
			      "asked to choose a new password when you log in.",
			      "Your password expires in %lld days, on %s. After that you will be "
			      "asked to choose a new password when you log in.",
			      (unsigned long)f->days_left),
		    (long long)f->days_left, when);
	}
}
