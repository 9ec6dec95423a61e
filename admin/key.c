/* `key add|list|remove`: the public keys of batch accounts. `key add` reads
 * OpenSSH authorized_keys lines from standard input, checks every line
 * before it adds any (so a typo never leaves half a set), and prints each
 * key's SHA256 fingerprint as ssh-keygen -l does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/libssh.h>

#include "admin.h"
#include "output.h"
#include "policy.h"
#include "util.h"

/* RSA keys shorter than this are refused (the daemon's RSA_MIN_SIZE too). */
#define KEY_RSA_MIN_BITS 2048
/* Keys read by one `key add`. */
#define KEY_ADD_MAX 64
/* Standard input read by one `key add`. */
#define KEY_INPUT_MAX (KEY_ADD_MAX * POLICY_AUTHKEY_LINE_MAX)

struct key_line {
	unsigned line;       /* 1-based line number in the input */
	struct store_key key;
	int bits;
};

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decode base64 (already checked by policy_authkey_parse) into out. The
 * length, or -EINVAL. */
static int b64_decode(const char *in, uint8_t *out, size_t outsz)
{
	uint32_t acc = 0;
	size_t n = 0;
	int bits = 0;

	for (; *in && *in != '='; in++) {
		int v = b64_value(*in);

		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == outsz)
				return -EINVAL;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return (int)n;
}

/* Next SSH string of blob[*pos..len): its bytes and length. */
static bool blob_string(const uint8_t *blob, size_t len, size_t *pos, const uint8_t **s,
			size_t *slen)
{
	uint32_t n;

	if (len - *pos < 4)
		return false;
	n = (uint32_t)blob[*pos] << 24 | (uint32_t)blob[*pos + 1] << 16 |
	    (uint32_t)blob[*pos + 2] << 8 | blob[*pos + 3];
	*pos += 4;
	if (n > len - *pos)
		return false;
	*s = blob + *pos;
	*slen = n;
	*pos += n;
	return true;
}

/* Bits of an RSA key's modulus from its base64 blob (string "ssh-rsa",
 * mpint e, mpint n); libssh 0.10 has no public call for it. -1 if unreadable. */
static int rsa_bits(const char *b64)
{
	uint8_t blob[STORE_KEY_BLOB_MAX];
	const uint8_t *s;
	size_t pos = 0, slen;
	int len = b64_decode(b64, blob, sizeof(blob));
	int bits;

	if (len < 0 || !blob_string(blob, (size_t)len, &pos, &s, &slen) ||
	    !blob_string(blob, (size_t)len, &pos, &s, &slen) ||
	    !blob_string(blob, (size_t)len, &pos, &s, &slen))
		return -1;
	while (slen > 0 && s[0] == 0) {
		s++;
		slen--;
	}
	if (slen == 0)
		return 0;
	bits = (int)slen * 8;
	for (uint8_t top = s[0]; !(top & 0x80); top <<= 1)
		bits--;
	return bits;
}

/* Size of a key in bits, as ssh-keygen -l shows it. */
static int key_bits(enum ssh_keytypes_e t, const char *canon_b64)
{
	switch (t) {
	case SSH_KEYTYPE_ED25519:
		return 256;
	case SSH_KEYTYPE_ECDSA_P256:
		return 256;
	case SSH_KEYTYPE_ECDSA_P384:
		return 384;
	case SSH_KEYTYPE_ECDSA_P521:
		return 521;
	case SSH_KEYTYPE_RSA:
		return rsa_bits(canon_b64);
	default:
		return -1;
	}
}

/* Import type+base64 with libssh: canonical base64, type name, bits and
 * fingerprint into k. NULL on success, else what is wrong. */
static const char *import_key(const char *type, const char *b64, struct store_key *k,
			      int *bits)
{
	enum ssh_keytypes_e kt = ssh_key_type_from_name(type);
	const char *why = NULL, *name;
	unsigned char *hash = NULL;
	char *canon = NULL, *fp = NULL;
	ssh_key key = NULL;
	size_t hlen = 0;

	if (kt == SSH_KEYTYPE_UNKNOWN)
		return "unsupported key type";
	if (ssh_pki_import_pubkey_base64(b64, kt, &key) != SSH_OK) {
		why = "the key cannot be read (damaged, or not of the type named)";
		goto out;
	}
	name = ssh_key_type_to_char(ssh_key_type(key));
	if (!name || strcmp(name, type) != 0) {
		why = "the key is not of the type named before it";
		goto out;
	}
	if (ssh_pki_export_pubkey_base64(key, &canon) != SSH_OK) {
		why = "the key cannot be read";
		goto out;
	}
	*bits = key_bits(ssh_key_type(key), canon);
	if (*bits < 0) {
		why = "the key cannot be read";
		goto out;
	}
	if (ssh_key_type(key) == SSH_KEYTYPE_RSA && *bits < KEY_RSA_MIN_BITS) {
		why = "RSA keys must have at least 2048 bits";
		goto out;
	}
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0 ||
	    !(fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen))) {
		why = "the key cannot be read";
		goto out;
	}
	if (strlen(canon) >= sizeof(k->blob) || strlen(fp) >= sizeof(k->fingerprint)) {
		why = "the key is too large";
		goto out;
	}
	snprintf(k->type, sizeof(k->type), "%s", name);
	snprintf(k->blob, sizeof(k->blob), "%s", canon);
	snprintf(k->fingerprint, sizeof(k->fingerprint), "%s", fp);
out:
	ssh_string_free_char(fp);
	ssh_string_free_char(canon);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	return why;
}

/* Parse one line into kl. 1 a key, 0 nothing on it, -EINVAL after saying why. */
static int parse_line(char *line, size_t len, unsigned n, struct key_line *kl)
{
	struct policy_authkey pk;
	enum policy_authkey_status st = policy_authkey_parse(line, len, 0, &pk);
	const char *why;

	if (st == POLICY_AUTHKEY_EMPTY)
		return 0;
	if (st != POLICY_AUTHKEY_OK) {
		admin_err("line %u: %s", n, policy_authkey_error(st));
		return -EINVAL;
	}
	line[pk.type_off + pk.type_len] = '\0';
	line[pk.b64_off + pk.b64_len] = '\0';
	memset(kl, 0, sizeof(*kl));
	kl->line = n;
	why = import_key(line + pk.type_off, line + pk.b64_off, &kl->key, &kl->bits);
	if (why) {
		admin_err("line %u: %s", n, why);
		return -EINVAL;
	}
	snprintf(kl->key.comment, sizeof(kl->key.comment), "%.*s", (int)pk.comment_len,
		 line + pk.comment_off);
	return 1;
}

/* Read standard input and parse every line; all must be good. */
static int read_keys(struct key_line *keys, unsigned *n_keys)
{
	char *buf = malloc(KEY_INPUT_MAX + 1);
	size_t len = 0, got;
	unsigned line = 0, bad = 0;
	int r = 0;

	if (!buf) {
		admin_err("out of memory");
		return -ENOMEM;
	}
	while ((got = fread(buf + len, 1, KEY_INPUT_MAX + 1 - len, stdin)) > 0) {
		len += got;
		if (len > KEY_INPUT_MAX) {
			admin_err("standard input is longer than %d bytes", KEY_INPUT_MAX);
			r = -EFBIG;
			goto out;
		}
	}
	if (ferror(stdin)) {
		admin_err("cannot read standard input");
		r = -EIO;
		goto out;
	}
	*n_keys = 0;
	for (size_t pos = 0; pos < len;) {
		char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len;
		int k;

		line++;
		if (*n_keys == KEY_ADD_MAX) {
			admin_err("line %u: at most %d keys at a time", line, KEY_ADD_MAX);
			r = -E2BIG;
			goto out;
		}
		k = parse_line(buf + pos, end - pos, line, &keys[*n_keys]);
		if (k < 0)
			bad++;
		else if (k == 1)
			(*n_keys)++;
		pos = end + 1;
	}
	if (bad) {
		admin_err("%u line%s refused; no key was added", bad, bad == 1 ? "" : "s");
		r = -EINVAL;
	} else if (*n_keys == 0) {
		admin_err("no key on standard input (give authorized_keys lines, e.g. "
			  "< id_ed25519.pub)");
		r = -EINVAL;
	}
out:
	free(buf);
	return r;
}

/* The batch account of the command's arguments, or -errno after saying why. */
static int need_batch_user(struct admin_ctx *ctx, struct store_user *u)
{
	int r = admin_need_user(ctx, u);

	if (r == 0 && !u->batch) {
		admin_err("user %s.%s is not a batch account: people log in with a password "
			  "and TOTP, never with a key",
			  u->relation, u->username);
		r = -EPERM;
	}
	return r;
}

static struct json_object *key_json(const struct store_key *k, int bits, const char *status)
{
	struct json_object *o = json_object_new_object();
	int r = 0;

	if (!o)
		return NULL;
	admin_out_json_add_str(o, "type", k->type, &r);
	if (bits > 0)
		admin_out_json_add_int(o, "bits", bits, &r);
	admin_out_json_add_str(o, "fingerprint", k->fingerprint, &r);
	admin_out_json_add_opt_str(o, "comment", k->comment, &r);
	admin_out_json_add_time(o, "added_at", k->added_at, &r);
	if (status)
		admin_out_json_add_str(o, "status", status, &r);
	if (r < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int admin_cmd_key_add(struct admin_ctx *ctx)
{
	const char *relation = ctx->args[0];
	struct json_object *arr = NULL;
	struct key_line *keys = NULL;
	int64_t now = admin_now();
	struct store_user u;
	unsigned n = 0;
	int r, jr = 0;

	r = need_batch_user(ctx, &u);
	if (r < 0)
		return r;
	keys = calloc(KEY_ADD_MAX, sizeof(*keys));
	arr = ctx->json ? json_object_new_array() : NULL;
	if (!keys || (ctx->json && !arr)) {
		admin_err("out of memory");
		r = -ENOMEM;
		goto out;
	}
	r = read_keys(keys, &n);
	if (r < 0)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		struct store_key *k = &keys[i].key;
		const char *status = "added";
		char extra[256];
		int ar;

		k->user_id = u.id;
		k->added_at = now;
		ar = store_key_add(ctx->store, k);
		if (ar == -EEXIST) {
			status = "already_present";
		} else if (ar < 0) {
			admin_err("line %u: cannot add the key: %s", keys[i].line, strerror(-ar));
			r = ar;
			continue;
		} else {
			snprintf(extra, sizeof(extra), "type=%s bits=%d fingerprint=%s", k->type,
				 keys[i].bits, k->fingerprint);
			if (admin_audit_ex(ctx, now, relation, u.username, "key_add", "ok", extra) < 0)
				r = -EIO;
		}
		if (ctx->json)
			admin_out_json_append(arr, key_json(k, keys[i].bits, status), &jr);
		else
			printf("%s %d %s %s%s%s\n", k->fingerprint, keys[i].bits, k->type, status,
			       k->comment[0] ? " " : "", k->comment[0] ? admin_q(k->comment) : "");
	}
	if (ctx->json) {
		if (jr == 0)
			jr = admin_out_json_print(arr);
	} else if (fflush(stdout) != 0) {
		jr = -EIO;
	}
	if (jr < 0) {
		admin_err("cannot write the result: %s", strerror(-jr));
		if (r == 0)
			r = jr;
	}
out:
	json_object_put(arr);
	free(keys);
	return r;
}

static int key_row(const struct store_key *k, void *ud)
{
	struct admin_out_list *l = ud;
	char added[32];

	if (l->json)
		return admin_out_list_object(l, key_json(k, 0, NULL));
	util_iso8601(k->added_at, added, sizeof(added));
	{
		const char *cells[4] = { k->type, k->fingerprint, k->comment, added };

		return admin_out_list_row(l, cells);
	}
}

int admin_cmd_key_list(struct admin_ctx *ctx)
{
	static const char *const headers[] = { "TYPE", "FINGERPRINT", "COMMENT", "ADDED" };
	struct admin_out_list l;
	struct store_user u;
	int r;

	r = admin_out_list_begin(&l, ctx->json, headers, 4);
	if (r < 0) {
		admin_err("out of memory");
		goto out;
	}
	r = admin_need_user(ctx, &u);
	if (r < 0)
		goto out;
	r = store_key_list(ctx->store, u.id, key_row, &l);
	if (r < 0) {
		admin_err("cannot list keys: %s", strerror(-r));
		goto out;
	}
	r = admin_out_list_print(&l);
	if (r < 0)
		admin_err("cannot write the list: %s", strerror(-r));
out:
	admin_out_list_free(&l);
	return r;
}

int admin_cmd_key_remove(struct admin_ctx *ctx)
{
	const char *relation = ctx->args[0], *fp = ctx->args[2];
	int64_t now = admin_now();
	struct store_user u;
	char extra[128];
	int r;

	r = admin_need_user(ctx, &u);
	if (r < 0)
		return r;
	r = store_key_remove(ctx->store, u.id, fp);
	if (r == -ENOENT) {
		admin_err("user %s.%s has no key %s", relation, u.username, fp);
		return r;
	}
	if (r < 0) {
		admin_err("cannot remove the key: %s", strerror(-r));
		return r;
	}
	snprintf(extra, sizeof(extra), "fingerprint=%s", fp);
	r = admin_audit_ex(ctx, now, relation, u.username, "key_remove", "ok", extra);
	if (!ctx->json) {
		printf("removed %s from %s.%s\n", fp, relation, u.username);
	} else {
		struct json_object *o = json_object_new_object();
		int jr = 0;

		admin_out_json_add_str(o, "fingerprint", fp, &jr);
		admin_out_json_add_str(o, "status", "removed", &jr);
		if (o && jr == 0)
			jr = admin_out_json_print(o);
		json_object_put(o);
		if (jr < 0 && r == 0)
			r = jr;
	}
	return r;
}
