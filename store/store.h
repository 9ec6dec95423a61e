/* The account and upload store: the only module that speaks SQL. SQLite in WAL
 * mode with a busy timeout; schema versions by PRAGMA user_version. Functions
 * return 0 (or a count) on success, -errno on failure: -ENOENT not found,
 * -EEXIST uniqueness clash, -EIO any other database error. */
#ifndef SFTPDROP_STORE_H
#define SFTPDROP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "defs.h"

struct store;

#define STORE_NAME_MAX 128
#define STORE_EMAIL_MAX 256
#define STORE_HASH_MAX 256
#define STORE_PATH_MAX 4096
#define STORE_SRC_MAX 64
/* A batch account's source ranges (policy_cidr_list_check; POLICY_CIDR_TEXT_MAX). */
#define STORE_ALLOWED_FROM_MAX 1025

struct store_relation {
	int64_t id;
	char number[SD_RELATION_MAX + 1];
	char name[STORE_NAME_MAX];
	bool disabled;
	int64_t created_at;
};

/* Holds secrets (hash, TOTP seed): wipe with store_user_wipe() after use. */
struct store_user {
	int64_t id;
	char relation[SD_RELATION_MAX + 1];
	char username[SD_USERNAME_MAX + 1];
	char full_name[STORE_NAME_MAX];
	char email[STORE_EMAIL_MAX];
	bool batch;    /* key-only account */
	bool disabled;
	char password_hash[STORE_HASH_MAX]; /* argon2id PHC string */
	bool must_change;
	int64_t password_changed_at;
	uint8_t totp_secret[64];
	size_t totp_secret_len;  /* 0: not enrolled */
	int64_t totp_last_step;  /* last accepted TOTP time step; -1: none */
	int64_t created_at;
	int64_t last_login_at;   /* 0: never */
	char last_login_src[STORE_SRC_MAX];
	char activation_hash[STORE_HASH_MAX]; /* "" once activated */
	bool activated;
	int64_t failed_count;    /* consecutive failed logins */
	int64_t locked_until;    /* 0: not locked */
	int64_t expiry_notified_for; /* password_changed_at whose warning was mailed */
	char allowed_from[STORE_ALLOWED_FROM_MAX]; /* batch: CIDR list; "": anywhere */
};

/* What a successful login saves, all in one transaction (nothing half-saved). */
struct store_login_commit {
	int64_t now;
	const char *src;
	bool activate;             /* clear the activation code */
	const char *new_hash;      /* a new password (forced change), or NULL */
	unsigned history_depth;    /* passwords kept in the history */
	const char *rehash;        /* same password, new argon2 cost, or NULL */
	const uint8_t *totp_secret; /* enrolment, or NULL */
	size_t totp_secret_len;
	int64_t totp_step;         /* step of the code just accepted (enrolment) */
};

struct store_ban {
	char src[STORE_SRC_MAX];
	int64_t failures;
	int64_t window_start;
	int64_t banned_until;
};

struct store_audit_row {
	int64_t id;
	int64_t at;
	char relation[SD_RELATION_MAX + 1];
	char username[SD_USERNAME_MAX + 1];
	char src[STORE_SRC_MAX];
	char event[64];
	char outcome[32];
	char detail[512];
};

struct store_upload {
	int64_t id;
	char relation[SD_RELATION_MAX + 1];
	char username[SD_USERNAME_MAX + 1]; /* "" if not known */
	char name[STORE_PATH_MAX];          /* path relative to the relation dir */
	uint64_t size;
	char sha256[65];                    /* "" until ingested */
	uint64_t dev, ino;
	int64_t received_at;
	int64_t ingested_at;                /* 0 until ingested */
	char spool_path[STORE_PATH_MAX];
};

/* Open (and with create, create) the database at path and migrate its schema.
 * ":memory:" works for tests. *out owned by the caller: store_close(). */
int store_open(const char *path, bool create, struct store **out);
void store_close(struct store *s);
/* Whether a commit waits until the database file is on disk (the default,
 * SQLite's synchronous = FULL) or only until it is in the write-ahead log
 * (NORMAL: never corrupt, but the last commits may be lost on power failure). */
int store_set_durable(struct store *s, bool durable);
/* Copy the write-ahead log into the database (a checkpoint, with its disk
 * syncs) when a commit of this connection finds it longer than pages
 * (SQLite's default: 1000). */
int store_set_checkpoint_pages(struct store *s, int pages);
/* Group the writes that follow into one transaction (one disk sync for all
 * of them), each multi-statement step in a savepoint of its own so that a
 * failing step undoes only itself. Not nestable. store_batch_end() commits
 * (commit true: 0 or -errno, and on failure nothing of the batch is kept)
 * or rolls everything back (commit false: 0). */
int store_batch_begin(struct store *s);
int store_batch_end(struct store *s, bool commit);
/* Current schema version of an open store. */
int store_schema_version(struct store *s);

int store_relation_add(struct store *s, const char *number, const char *name, int64_t now);
int store_relation_get(struct store *s, const char *number, struct store_relation *out);
typedef int (*store_relation_cb)(const struct store_relation *r, void *ud);
/* Calls cb for each relation in number order; a negative cb return stops and is
 * returned. */
int store_relation_list(struct store *s, store_relation_cb cb, void *ud);

/* Adds u (relation by number), with its password as the first history entry
 * and activation_hash ("" = already activated). Writes u->id on success.
 * -ENOENT: no relation. */
int store_user_add(struct store *s, struct store_user *u);
int store_user_get(struct store *s, const char *relation, const char *username,
		   struct store_user *out);
typedef int (*store_user_cb)(const struct store_user *u, void *ud);
/* Users of one relation (or all when relation is NULL); the struct passed to cb
 * has its secrets cleared. */
int store_user_list(struct store *s, const char *relation, store_user_cb cb, void *ud);
/* Accept TOTP step for user only if it is newer than the last accepted one.
 * Returns 1 if recorded, 0 if the step was already used (replay). */
int store_user_use_totp_step(struct store *s, int64_t user_id, int64_t step);
int store_user_record_login(struct store *s, int64_t user_id, int64_t now, const char *src);
void store_user_wipe(struct store_user *u);

/* Save a successful login (see struct store_login_commit): activation, new
 * password + history, rehash, enrolment, failure count reset, last login. */
int store_user_commit_login(struct store *s, int64_t user_id,
			    const struct store_login_commit *c);
/* The newest `depth` password hashes of the user (the current one first).
 * cb gets each PHC string; secrets: the caller wipes what it keeps. */
typedef int (*store_hash_cb)(const char *phc, void *ud);
int store_user_history(struct store *s, int64_t user_id, unsigned depth, store_hash_cb cb,
		       void *ud);
/* A failed login: count it, and lock the account at the threshold (policy
 * decides). Returns 1 if this failure locked the account, else 0. */
int store_user_fail(struct store *s, int64_t user_id, int64_t now, int64_t threshold,
		    int64_t lock_seconds);
/* Administrative changes (relation by number). -ENOENT: no such user. */
int store_user_unlock(struct store *s, const char *relation, const char *username);
int store_user_set_disabled(struct store *s, const char *relation, const char *username,
			    bool disabled);
/* New one-time password (must change at next login), history updated. */
int store_user_reset_password(struct store *s, const char *relation, const char *username,
			      const char *phc, unsigned history_depth, int64_t now);
/* A new activation code (PHC of it) for an account not activated yet: the
 * letter was lost. -ENOENT: no such user; -EALREADY: already activated. */
int store_user_reset_activation(struct store *s, const char *relation, const char *username,
				const char *phc);
/* Forget the TOTP secret: the user enrols again at the next login. */
int store_user_reset_totp(struct store *s, const char *relation, const char *username);
/* The expiry warning for the password set at changed_at was mailed. */
int store_user_mark_notified(struct store *s, int64_t user_id, int64_t changed_at);

/* Source-address bans. store_ban_get: -ENOENT if the source has no record. */
int store_ban_get(struct store *s, const char *src, struct store_ban *out);
/* A failed login from src; returns 1 if this failure banned the source. */
int store_ban_fail(struct store *s, const char *src, int64_t now, int64_t window_seconds,
		   int64_t threshold, int64_t ban_seconds);
typedef int (*store_ban_cb)(const struct store_ban *b, void *ud);
/* Sources that are banned at now (or all records when now is 0). */
int store_ban_list(struct store *s, int64_t now, store_ban_cb cb, void *ud);
/* Lift a ban (and forget its failures). -ENOENT if there was none. */
int store_ban_lift(struct store *s, const char *src);

typedef int (*store_audit_cb)(const struct store_audit_row *a, void *ud);
/* Audit rows in time order, filtered by relation, user and since (NULL/0: any). */
int store_audit_list(struct store *s, const char *relation, const char *username,
		     int64_t since, store_audit_cb cb, void *ud);

/* One audit row. Any string may be NULL. */
int store_audit(struct store *s, int64_t now, const char *relation, const char *username,
		const char *src, const char *event, const char *outcome, const char *detail);

/* The daemon saw a clean CLOSE publish this file. */
int store_upload_received(struct store *s, const char *relation, const char *username,
			  const char *name, uint64_t size, uint64_t dev, uint64_t ino,
			  int64_t now);
/* The daemon announced this upload but could not publish it after all: drop
 * the row (only while not ingested). */
int store_upload_forget(struct store *s, const char *relation, uint64_t dev, uint64_t ino);
/* Ingest claims the file with this identity. *already = true if the newest row
 * for this inode is ingested (nothing to do). Otherwise returns the row id to finish with
 * store_upload_done(): the newest received row for (relation, dev, ino), or a
 * new row (user unknown) if the daemon never reported it. Name and size are
 * updated to what ingest sees. */
int store_upload_claim(struct store *s, const char *relation, const char *name,
		       uint64_t size, uint64_t dev, uint64_t ino, int64_t now,
		       int64_t *id, bool *already);
int store_upload_done(struct store *s, int64_t id, const char *sha256_hex,
		      const char *spool_path, int64_t now);
typedef int (*store_upload_cb)(const struct store_upload *u, void *ud);
/* Uploads in id order, optionally of one relation. */
int store_upload_list(struct store *s, const char *relation, store_upload_cb cb, void *ud);

/* ---- receipts / partials ---- */

#define STORE_HOOK_ERROR_MAX 256

/* Everything known about one upload: what the daemon received and what
 * ingest made of it (docs/ingest.md has the states). Times are 0 when the
 * step has not happened. */
struct store_receipt {
	int64_t id;
	char relation[SD_RELATION_MAX + 1];
	char username[SD_USERNAME_MAX + 1]; /* "" if not known */
	char src[STORE_SRC_MAX];            /* source address; "" if not known */
	char name[STORE_PATH_MAX];          /* as ingested (as published until then) */
	char cur_name[STORE_PATH_MAX];      /* where ingest last saw it */
	uint64_t size;
	char sha256[65];                    /* "" until ingested */
	uint64_t dev, ino;
	int64_t btime;                      /* birth time (ns) at claim; -1 unclaimed, 0 unknown */
	int64_t received_at, claimed_at, ingested_at, receipt_at;
	int64_t removed_at;                 /* the published name removed (upload_retention) */
	int64_t receipt_removed_at;         /* the receipt file removed (receipt_retention) */
	int64_t vanished_at;                /* gone before it could be ingested */
	char spool_path[STORE_PATH_MAX];
	char hook_state[16];                /* "" no hook, "pending", "done" */
	unsigned hook_attempts;
	int64_t hook_at;                    /* last attempt */
	char hook_error[STORE_HOOK_ERROR_MAX]; /* why the last attempt failed */
	char receipt_name[256];             /* file name in the receipts directory */
};

/* The daemon is about to publish this file (called before its final name
 * exists, so that ingest never sees a file the store does not know). */
int store_upload_received_from(struct store *s, const char *relation, const char *username,
			       const char *src, const char *name, uint64_t size, uint64_t dev,
			       uint64_t ino, int64_t now);
/* Ingest claims the file it found at name with identity (dev, ino, btime;
 * btime 0 if the file system has none). The newest row for the inode
 * decides: a row nobody claimed yet is the daemon's record of this file; a
 * claimed row with the same birth time is this file again (*already if it
 * was ingested); otherwise the inode was reused by an upload of its own and
 * gets a new row (user unknown). *id: the row to finish. */
int store_upload_claim_file(struct store *s, const char *relation, const char *name,
			    uint64_t size, uint64_t dev, uint64_t ino, int64_t btime, int64_t now,
			    int64_t *id, bool *already);
/* The upload is in the spool: record hash, size and spool path, mark a hook
 * as due (hook), and write the audit row "upload_ingested" with detail, in
 * one transaction. -ENOENT if it was recorded already. */
int store_upload_record(struct store *s, int64_t id, const char *sha256_hex, uint64_t size,
			const char *spool_path, int64_t now, bool hook, const char *detail);
/* One hook run ended: count it; ok ends the hook's life ("done"), else
 * error is kept and it stays "pending". Audit row hook_done or hook_failed
 * with detail. -ENOENT if no hook is pending for id. */
int store_upload_hook_result(struct store *s, int64_t id, bool ok, const char *error,
			     int64_t now, const char *detail);
/* The receipt file name of upload id is written. */
int store_upload_receipt_written(struct store *s, int64_t id, const char *name, int64_t now);
int store_upload_removed(struct store *s, int64_t id, int64_t now);
int store_upload_receipt_removed(struct store *s, int64_t id, int64_t now);
/* Rows never ingested whose last sign of life (claim, else receipt by the
 * daemon) is older than before: the file is gone. Display only: a vanished
 * row is still claimed if the file turns up. Count of rows marked. */
int store_upload_mark_vanished(struct store *s, int64_t before, int64_t now);

/* Work lists for ingest's recovery and maintenance. */
enum store_todo {
	STORE_TODO_UNRECORDED,     /* claimed, not recorded, not vanished: maybe spooled */
	STORE_TODO_RECEIPT,        /* recorded, receipt file not written */
	STORE_TODO_HOOK,           /* hook pending */
	STORE_TODO_EXPIRE_FILE,    /* ingested at or before `before`, name not removed */
	STORE_TODO_EXPIRE_RECEIPT, /* ingested at or before `before`, receipt not removed */
};
/* Ids of up to max rows with id > after_id in id order. Count or -errno. */
int store_upload_todo(struct store *s, enum store_todo what, int64_t before, int64_t after_id,
		      int64_t *ids, size_t max);
/* One row. -ENOENT if there is none. */
int store_upload_get(struct store *s, int64_t id, struct store_receipt *out);
typedef int (*store_receipt_cb)(const struct store_receipt *r, void *ud);
/* All rows in id order, optionally of one relation. */
int store_receipt_list(struct store *s, const char *relation, store_receipt_cb cb, void *ud);

/* ---- public keys of batch accounts ---- */

/* Longest base64 key blob kept (an RSA 16384-bit key is about 2.8 KB). */
#define STORE_KEY_BLOB_MAX 4096
#define STORE_KEY_TYPE_MAX 32
#define STORE_KEY_COMMENT_MAX 257
/* "SHA256:" and 43 base64 characters, as OpenSSH prints it. */
#define STORE_FINGERPRINT_MAX 64

struct store_key {
	int64_t id;
	int64_t user_id;
	char type[STORE_KEY_TYPE_MAX];       /* "ssh-ed25519", "ssh-rsa", ... */
	char blob[STORE_KEY_BLOB_MAX];       /* base64 of the public key blob */
	char comment[STORE_KEY_COMMENT_MAX];
	char fingerprint[STORE_FINGERPRINT_MAX]; /* "SHA256:..." */
	int64_t added_at;
};

/* Add k (k->id is ignored). -EEXIST: the user already has this fingerprint;
 * -EEXIST also when user_id does not exist (foreign key). */
int store_key_add(struct store *s, const struct store_key *k);
/* The user's key with this fingerprint. -ENOENT if none. */
int store_key_find(struct store *s, int64_t user_id, const char *fingerprint,
		   struct store_key *out);
typedef int (*store_key_cb)(const struct store_key *k, void *ud);
/* The user's keys in the order they were added. */
int store_key_list(struct store *s, int64_t user_id, store_key_cb cb, void *ud);
/* Number of keys of the user, or -errno. */
int store_key_count(struct store *s, int64_t user_id);
/* -ENOENT if the user has no key with this fingerprint. */
int store_key_remove(struct store *s, int64_t user_id, const char *fingerprint);

#endif
