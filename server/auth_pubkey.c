/* Public-key login of batch accounts. libssh in the worker checks the
 * signature; this file, in the monitor, decides whether the key may log in:
 * a batch account (humans always need password and TOTP), enabled, not
 * locked, from an allowed source range, and the key is one of its own. */
#include "auth_pubkey.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/libssh.h>

#include "clock.h"
#include "log.h"
#include "policy.h"

int auth_pubkey_fingerprint(const char *type, const char *b64,
			    char fp[STORE_FINGERPRINT_MAX])
{
	enum ssh_keytypes_e kt = ssh_key_type_from_name(type);
	unsigned char *hash = NULL;
	ssh_key key = NULL;
	char *text = NULL;
	size_t hlen = 0;
	int r = -EINVAL;

	if (kt == SSH_KEYTYPE_UNKNOWN || strlen(b64) >= STORE_KEY_BLOB_MAX)
		goto out;
	if (ssh_pki_import_pubkey_base64(b64, kt, &key) != SSH_OK)
		goto out;
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0)
		goto out;
	text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	if (!text || strlen(text) >= STORE_FINGERPRINT_MAX)
		goto out;
	snprintf(fp, STORE_FINGERPRINT_MAX, "%s", text);
	r = 0;
out:
	ssh_string_free_char(text);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	return r;
}

/* Why this key may not log in now, or NULL if it may. */
static const char *refusal(struct login *l, const struct store_relation *rel,
			   const char *type, const char *b64, const char *fp)
{
	const struct policy_lock lock = { l->user.failed_count, l->user.locked_until };
	struct store_key k;
	int r;

	if (rel->disabled)
		return "relation_disabled";
	if (l->user.disabled)
		return "user_disabled";
	if (!l->user.batch)
		return "not_batch";
	if (policy_is_locked(&lock, clock_now()))
		return "account_locked";
	if (l->user.allowed_from[0] && policy_cidr_list_match(l->user.allowed_from, l->src) != 1)
		return "source_not_allowed";
	r = store_key_find(l->store, l->user.id, fp, &k);
	if (r == -ENOENT)
		return "unknown_key";
	if (r < 0)
		return "store_error";
	/* The fingerprint found it; the whole key must be the same too. */
	if (strcmp(k.type, type) != 0 || strcmp(k.blob, b64) != 0)
		return "unknown_key";
	return NULL;
}

enum login_result auth_pubkey_login(struct login *l, const char *login, const char *type,
				    const char *b64, bool verified,
				    char fp[STORE_FINGERPRINT_MAX])
{
	struct store_relation rel;
	char extra[160];
	const char *why = NULL;
	int r;

	login_reset(l);
	snprintf(fp, STORE_FINGERPRINT_MAX, "-");
	if (l->failures >= (unsigned)l->conf->max_auth_tries)
		return LOGIN_DENIED_FINAL;
	if (auth_pubkey_fingerprint(type, b64, fp) < 0) {
		snprintf(fp, STORE_FINGERPRINT_MAX, "-");
		why = "bad_key";
	}
	if (policy_parse_login(login, l->relation, l->username) < 0) {
		log_event(LOG_AUTHPRIV | LOG_INFO, "auth_login", "login=%s", log_q(login));
		l->relation[0] = l->username[0] = '\0';
		if (!why)
			why = "bad_login_syntax";
	} else {
		r = store_relation_get(l->store, l->relation, &rel);
		if (r == 0)
			r = store_user_get(l->store, l->relation, l->username, &l->user);
		if (r < 0) {
			l->user.id = 0;
			if (!why)
				why = r == -ENOENT ? "unknown_user" : "store_error";
		} else if (!why) {
			why = refusal(l, &rel, type, b64, fp);
		}
	}
	snprintf(extra, sizeof(extra), "method=publickey fingerprint=%s", fp);
	/* A key cannot be guessed, so a refused key never counts towards the
	 * account's lockout: that would let anyone lock a job out, even from
	 * outside its ranges, and lock out people whose OpenSSH offers its keys
	 * before the password. For the same reason a human account's key does
	 * not count towards the source ban; every other refusal does. */
	if (why)
		return login_refuse(l, why, extra,
				    strcmp(why, "not_batch") ? LOGIN_COUNT_SOURCE : 0);
	if (!verified)
		return LOGIN_OK; /* the key would do: the client signs next */
	{
		struct store_login_commit c = { .now = clock_now(), .src = l->src };

		r = store_user_commit_login(l->store, l->user.id, &c);
		if (r < 0) {
			log_event(LOG_ERR, "store_error", "op=commit_login err=%s", strerror(-r));
			return login_refuse(l, "store_error", extra, 0);
		}
	}
	r = store_audit(l->store, clock_now(), l->relation, l->username, l->src, "auth_ok", "ok",
			extra + strlen("method="));
	if (r < 0)
		log_event(LOG_ERR, "store_error", "op=audit err=%s", strerror(-r));
	l->step = LS_DONE;
	return LOGIN_OK;
}
