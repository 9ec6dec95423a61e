/* SQLite-backed store: schema migrations, relations, users, audit and uploads.
 * Prepared statements with bound parameters only; extended result codes on. */
#include "store.h"

#include "policy.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A writer waits this long for another process's transaction (daemon monitors,
 * ingest and the admin tool share the database). */
#define STORE_BUSY_TIMEOUT_MS 5000

/* While waiting, a writer looks again after this long at first, doubling up
 * to STORE_BUSY_MAX_SLEEP_US. SQLite's own handler sleeps 1 ms at least, which
 * is longer than most transactions here (one upload row, one ingest step). */
#define STORE_BUSY_FIRST_SLEEP_US 50
#define STORE_BUSY_MAX_SLEEP_US 250

struct store {
	sqlite3 *db;
	struct timespec busy_since;
	bool batch; /* inside store_batch_begin(): steps are savepoints */
	/* Prepared once: the daemon records every upload with it, and parsing
	 * the statement each time was a fifth of the cost. */
	sqlite3_stmt *upload_insert;
};

static int64_t elapsed_us(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - since->tv_sec) * 1000000 +
	       (now.tv_nsec - since->tv_nsec) / 1000;
}

/* sqlite3_busy_handler callback: n is the number of earlier calls for this
 * wait. Returns 0 (give up, SQLITE_BUSY) after STORE_BUSY_TIMEOUT_MS. */
static int busy_wait(void *ud, int n)
{
	struct store *s = ud;
	int64_t us = STORE_BUSY_FIRST_SLEEP_US;
	struct timespec d;

	if (n == 0)
		clock_gettime(CLOCK_MONOTONIC, &s->busy_since);
	else if (elapsed_us(&s->busy_since) >= (int64_t)STORE_BUSY_TIMEOUT_MS * 1000)
		return 0;
	for (int i = 0; i < n && us < STORE_BUSY_MAX_SLEEP_US; i++)
		us *= 2;
	if (us > STORE_BUSY_MAX_SLEEP_US)
		us = STORE_BUSY_MAX_SLEEP_US;
	d.tv_sec = 0;
	d.tv_nsec = (long)us * 1000;
	nanosleep(&d, NULL);
	return 1;
}

/* Schema steps; index i migrates user_version i to i+1. Never edit a step that
 * has shipped: add a new one. */
static const char *const migrations[] = {
	"CREATE TABLE relations ("
	" id INTEGER PRIMARY KEY,"
	" number TEXT NOT NULL UNIQUE,"
	" name TEXT NOT NULL,"
	" disabled INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL);"
	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY,"
	" relation_id INTEGER NOT NULL REFERENCES relations(id),"
	" username TEXT NOT NULL,"
	" full_name TEXT NOT NULL,"
	" email TEXT NOT NULL,"
	" batch INTEGER NOT NULL DEFAULT 0,"
	" disabled INTEGER NOT NULL DEFAULT 0,"
	" password_hash TEXT NOT NULL,"
	" must_change INTEGER NOT NULL DEFAULT 1,"
	" password_changed_at INTEGER NOT NULL,"
	" totp_secret BLOB,"
	" totp_last_step INTEGER NOT NULL DEFAULT -1,"
	" created_at INTEGER NOT NULL,"
	" last_login_at INTEGER NOT NULL DEFAULT 0,"
	" last_login_src TEXT NOT NULL DEFAULT '',"
	" UNIQUE (relation_id, username));"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY,"
	" at INTEGER NOT NULL,"
	" relation TEXT, username TEXT, src TEXT,"
	" event TEXT NOT NULL, outcome TEXT, detail TEXT);"
	"CREATE INDEX audit_at ON audit(at);"
	"CREATE TABLE uploads ("
	" id INTEGER PRIMARY KEY,"
	" relation TEXT NOT NULL,"
	" username TEXT,"
	" name TEXT NOT NULL,"
	" size INTEGER NOT NULL,"
	" dev INTEGER NOT NULL,"
	" ino INTEGER NOT NULL,"
	" received_at INTEGER NOT NULL,"
	" sha256 TEXT,"
	" ingested_at INTEGER,"
	" spool_path TEXT);"
	"CREATE INDEX uploads_inode ON uploads(relation, dev, ino);",
	/* 2: the portal's account lifecycle (activation, history, lockout, bans). */
	"ALTER TABLE users ADD COLUMN activation_hash TEXT;"
	"ALTER TABLE users ADD COLUMN failed_count INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN locked_until INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN expiry_notified_for INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE password_history ("
	" id INTEGER PRIMARY KEY,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" hash TEXT NOT NULL,"
	" set_at INTEGER NOT NULL);"
	"CREATE INDEX password_history_user ON password_history(user_id, id);"
	"INSERT INTO password_history(user_id, hash, set_at)"
	" SELECT id, password_hash, password_changed_at FROM users;"
	"CREATE TABLE bans ("
	" src TEXT PRIMARY KEY,"
	" failures INTEGER NOT NULL,"
	" window_start INTEGER NOT NULL,"
	" banned_until INTEGER NOT NULL);",
	/* 3: an upload's whole life: source, the identity ingest saw (birth
	 * time), receipt, hook, retention (docs/ingest.md). */
	"ALTER TABLE uploads ADD COLUMN src TEXT;"
	"ALTER TABLE uploads ADD COLUMN btime INTEGER;"
	"ALTER TABLE uploads ADD COLUMN claimed_at INTEGER;"
	"ALTER TABLE uploads ADD COLUMN cur_name TEXT;"
	"ALTER TABLE uploads ADD COLUMN receipt_at INTEGER;"
	"ALTER TABLE uploads ADD COLUMN receipt_name TEXT;"
	"ALTER TABLE uploads ADD COLUMN hook_state TEXT;"
	"ALTER TABLE uploads ADD COLUMN hook_attempts INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE uploads ADD COLUMN hook_at INTEGER;"
	"ALTER TABLE uploads ADD COLUMN hook_error TEXT;"
	"ALTER TABLE uploads ADD COLUMN removed_at INTEGER;"
	"ALTER TABLE uploads ADD COLUMN receipt_removed_at INTEGER;"
	"ALTER TABLE uploads ADD COLUMN vanished_at INTEGER;"
	"CREATE INDEX uploads_unfinished ON uploads(id) WHERE ingested_at IS NULL;"
	"CREATE INDEX uploads_noreceipt ON uploads(id)"
	" WHERE ingested_at IS NOT NULL AND receipt_at IS NULL;"
	"CREATE INDEX uploads_hook ON uploads(id) WHERE hook_state = 'pending';"
	"CREATE INDEX uploads_visible ON uploads(ingested_at)"
	" WHERE ingested_at IS NOT NULL AND removed_at IS NULL;"
	"CREATE INDEX uploads_receipted ON uploads(ingested_at)"
	" WHERE receipt_at IS NOT NULL AND receipt_removed_at IS NULL;",
	/* batch accounts: public keys, and the source ranges they may come from. */
	"ALTER TABLE users ADD COLUMN allowed_from TEXT;"
	"CREATE TABLE user_keys ("
	" id INTEGER PRIMARY KEY,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" key_type TEXT NOT NULL,"
	" key_blob TEXT NOT NULL,"
	" comment TEXT NOT NULL DEFAULT '',"
	" fingerprint TEXT NOT NULL,"
	" added_at INTEGER NOT NULL,"
	" UNIQUE (user_id, fingerprint));",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_FULL:
		return -ENOSPC;
	default:
		return -EIO;
	}
}

/* Step a listing: 1 when a row is ready, 0 at its end, or -errno. */
static int next_row(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : map_rc(rc);
}

/* Step a lookup: 0 when its row is ready, -ENOENT when there is none, or
 * -errno. */
static int first_row(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : map_rc(rc);
}

static int exec(struct store *s, const char *sql)
{
	return map_rc(sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

static int prepare(struct store *s, const char *sql, sqlite3_stmt **st)
{
	return map_rc(sqlite3_prepare_v2(s->db, sql, -1, st, NULL));
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void col_text(sqlite3_stmt *st, int i, char *out, size_t outsz)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	snprintf(out, outsz, "%s", v ? (const char *)v : "");
}

/* Run a statement that returns no rows; finalises it. */
static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE ? 0 : map_rc(rc);

	if (rc == SQLITE_ROW)
		r = 0;
	sqlite3_finalize(st);
	return r;
}

static int migrate(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int version;
	int r;

	r = prepare(s, "PRAGMA user_version", &st);
	if (r < 0)
		return r;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return -EIO;
	}
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > N_MIGRATIONS)
		return -EPROTO; /* written by a newer sftpdrop */
	for (int v = version; v < N_MIGRATIONS; v++) {
		char pragma[64];

		r = exec(s, "BEGIN IMMEDIATE");
		if (r < 0)
			return r;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		r = exec(s, migrations[v]);
		if (r == 0)
			r = exec(s, pragma);
		if (r == 0)
			r = exec(s, "COMMIT");
		if (r < 0) {
			exec(s, "ROLLBACK");
			return r;
		}
	}
	return 0;
}

int store_open(const char *path, bool create, struct store **out)
{
	struct store *s = calloc(1, sizeof(*s));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	int r;

	if (!s)
		return -ENOMEM;
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	r = map_rc(sqlite3_open_v2(path, &s->db, flags, NULL));
	if (r < 0)
		goto fail;
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_handler(s->db, busy_wait, s);
	r = exec(s, "PRAGMA journal_mode = WAL");
	if (r == 0)
		r = exec(s, "PRAGMA foreign_keys = ON");
	if (r == 0)
		r = exec(s, "PRAGMA synchronous = FULL");
	if (r == 0)
		r = migrate(s);
	if (r < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	store_close(s);
	return r;
}

int store_set_checkpoint_pages(struct store *s, int pages)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA wal_autocheckpoint = %d", pages);
	return exec(s, sql);
}

int store_set_durable(struct store *s, bool durable)
{
	return exec(s, durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
}

void store_close(struct store *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->upload_insert);
	sqlite3_close_v2(s->db);
	free(s);
}

int store_schema_version(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int v;

	if (prepare(s, "PRAGMA user_version", &st) < 0)
		return -EIO;
	v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -EIO;
	sqlite3_finalize(st);
	return v;
}

/* ---- relations ---- */

int store_relation_add(struct store *s, const char *number, const char *name, int64_t now)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "INSERT INTO relations(number, name, created_at) VALUES (?,?,?)",
			&st);

	if (r < 0)
		return r;
	bind_text(st, 1, number);
	bind_text(st, 2, name);
	sqlite3_bind_int64(st, 3, now);
	return step_done(st);
}

static void relation_row(sqlite3_stmt *st, struct store_relation *out)
{
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	col_text(st, 1, out->number, sizeof(out->number));
	col_text(st, 2, out->name, sizeof(out->name));
	out->disabled = sqlite3_column_int(st, 3) != 0;
	out->created_at = sqlite3_column_int64(st, 4);
}

#define RELATION_COLS "id, number, name, disabled, created_at"

int store_relation_get(struct store *s, const char *number, struct store_relation *out)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "SELECT " RELATION_COLS " FROM relations WHERE number = ?", &st);

	if (r < 0)
		return r;
	bind_text(st, 1, number);
	r = first_row(st);
	if (r == 0)
		relation_row(st, out);
	sqlite3_finalize(st);
	return r;
}

int store_relation_list(struct store *s, store_relation_cb cb, void *ud)
{
	sqlite3_stmt *st = NULL;
	struct store_relation rel;
	int r = prepare(s, "SELECT " RELATION_COLS " FROM relations ORDER BY number", &st);

	if (r < 0)
		return r;
	while ((r = next_row(st)) == 1) {
		relation_row(st, &rel);
		r = cb(&rel, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

/* ---- users ---- */

#define USER_COLS \
	"u.id, r.number, u.username, u.full_name, u.email, u.batch, u.disabled," \
	" u.password_hash, u.must_change, u.password_changed_at, u.totp_secret," \
	" u.totp_last_step, u.created_at, u.last_login_at, u.last_login_src," \
	" u.activation_hash, u.failed_count, u.locked_until, u.expiry_notified_for," \
	" u.allowed_from"

static void user_row(sqlite3_stmt *st, struct store_user *u, bool secrets)
{
	const void *blob;
	int bl;

	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(st, 0);
	col_text(st, 1, u->relation, sizeof(u->relation));
	col_text(st, 2, u->username, sizeof(u->username));
	col_text(st, 3, u->full_name, sizeof(u->full_name));
	col_text(st, 4, u->email, sizeof(u->email));
	u->batch = sqlite3_column_int(st, 5) != 0;
	u->disabled = sqlite3_column_int(st, 6) != 0;
	u->must_change = sqlite3_column_int(st, 8) != 0;
	u->password_changed_at = sqlite3_column_int64(st, 9);
	u->totp_last_step = sqlite3_column_int64(st, 11);
	u->created_at = sqlite3_column_int64(st, 12);
	u->last_login_at = sqlite3_column_int64(st, 13);
	col_text(st, 14, u->last_login_src, sizeof(u->last_login_src));
	u->activated = sqlite3_column_type(st, 15) == SQLITE_NULL;
	u->failed_count = sqlite3_column_int64(st, 16);
	u->locked_until = sqlite3_column_int64(st, 17);
	u->expiry_notified_for = sqlite3_column_int64(st, 18);
	col_text(st, 19, u->allowed_from, sizeof(u->allowed_from));
	blob = sqlite3_column_blob(st, 10);
	bl = sqlite3_column_bytes(st, 10);
	if (secrets) {
		col_text(st, 7, u->password_hash, sizeof(u->password_hash));
		col_text(st, 15, u->activation_hash, sizeof(u->activation_hash));
		if (blob && bl > 0 && (size_t)bl <= sizeof(u->totp_secret)) {
			memcpy(u->totp_secret, blob, (size_t)bl);
			u->totp_secret_len = (size_t)bl;
		}
	} else {
		/* Listing callers learn whether TOTP is set up, never the seed. */
		u->totp_secret_len = blob && bl > 0 ? (size_t)bl : 0;
	}
}

/* Append a password to the history and keep only the newest depth entries. */
static int history_add(struct store *s, int64_t user_id, const char *phc, int64_t now,
		       unsigned depth)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "INSERT INTO password_history(user_id, hash, set_at) VALUES (?,?,?)",
			&st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, user_id);
	bind_text(st, 2, phc);
	sqlite3_bind_int64(st, 3, now);
	r = step_done(st);
	if (r < 0 || depth == UINT32_MAX)
		return r;
	r = prepare(s,
		    "DELETE FROM password_history WHERE user_id = ?1 AND id NOT IN"
		    " (SELECT id FROM password_history WHERE user_id = ?1"
		    "  ORDER BY id DESC LIMIT ?2)",
		    &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, depth);
	return step_done(st);
}

int store_user_add(struct store *s, struct store_user *u)
{
	sqlite3_stmt *st = NULL;
	struct store_relation rel;
	int r = store_relation_get(s, u->relation, &rel);

	if (r < 0)
		return r;
	r = exec(s, "BEGIN IMMEDIATE");
	if (r < 0)
		return r;
	r = prepare(s,
		    "INSERT INTO users(relation_id, username, full_name, email, batch,"
		    " disabled, password_hash, must_change, password_changed_at,"
		    " totp_secret, totp_last_step, created_at, activation_hash, allowed_from)"
		    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		    &st);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(st, 1, rel.id);
	bind_text(st, 2, u->username);
	bind_text(st, 3, u->full_name);
	bind_text(st, 4, u->email);
	sqlite3_bind_int(st, 5, u->batch);
	sqlite3_bind_int(st, 6, u->disabled);
	bind_text(st, 7, u->password_hash);
	sqlite3_bind_int(st, 8, u->must_change);
	sqlite3_bind_int64(st, 9, u->password_changed_at);
	if (u->totp_secret_len > 0)
		sqlite3_bind_blob(st, 10, u->totp_secret, (int)u->totp_secret_len,
				  SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 10);
	sqlite3_bind_int64(st, 11, u->totp_last_step);
	sqlite3_bind_int64(st, 12, u->created_at);
	bind_text(st, 13, u->activation_hash[0] ? u->activation_hash : NULL);
	bind_text(st, 14, u->allowed_from[0] ? u->allowed_from : NULL);
	r = step_done(st);
	if (r < 0)
		goto out;
	u->id = sqlite3_last_insert_rowid(s->db);
	r = history_add(s, u->id, u->password_hash, u->password_changed_at, UINT32_MAX);
	if (r == 0)
		r = exec(s, "COMMIT");
out:
	if (r < 0)
		exec(s, "ROLLBACK");
	return r;
}

int store_user_get(struct store *s, const char *relation, const char *username,
		   struct store_user *out)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s,
			"SELECT " USER_COLS " FROM users u JOIN relations r ON r.id = u.relation_id"
			" WHERE r.number = ? AND u.username = ?",
			&st);

	if (r < 0)
		return r;
	bind_text(st, 1, relation);
	bind_text(st, 2, username);
	r = first_row(st);
	if (r == 0)
		user_row(st, out, true);
	sqlite3_finalize(st);
	return r;
}

int store_user_list(struct store *s, const char *relation, store_user_cb cb, void *ud)
{
	sqlite3_stmt *st = NULL;
	struct store_user u;
	int r = prepare(s,
			"SELECT " USER_COLS " FROM users u JOIN relations r ON r.id = u.relation_id"
			" WHERE ?1 IS NULL OR r.number = ?1 ORDER BY r.number, u.username",
			&st);

	if (r < 0)
		return r;
	bind_text(st, 1, relation);
	while ((r = next_row(st)) == 1) {
		user_row(st, &u, false);
		r = cb(&u, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

int store_user_use_totp_step(struct store *s, int64_t user_id, int64_t step)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?",
			&st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, step);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_int64(st, 3, step);
	r = step_done(st);
	if (r < 0)
		return r;
	/* The guarded UPDATE is the check: one row changed = step not used before. */
	return sqlite3_changes(s->db) == 1 ? 1 : 0;
}

int store_user_record_login(struct store *s, int64_t user_id, int64_t now, const char *src)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "UPDATE users SET last_login_at = ?, last_login_src = ? WHERE id = ?",
			&st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, now);
	bind_text(st, 2, src ? src : "");
	sqlite3_bind_int64(st, 3, user_id);
	return step_done(st);
}

void store_user_wipe(struct store_user *u)
{
	if (u)
		explicit_bzero(u, sizeof(*u));
}

/* ---- account lifecycle ---- */

/* Run sql with one int64 and two text parameters (NULL allowed); changes()
 * must be 1, else -ENOENT. */
static int update_user(struct store *s, const char *sql, const char *relation,
		       const char *username, const char *text, int64_t v1, int64_t v2)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, sql, &st);

	if (r < 0)
		return r;
	bind_text(st, 1, relation);
	bind_text(st, 2, username);
	bind_text(st, 3, text);
	sqlite3_bind_int64(st, 4, v1);
	sqlite3_bind_int64(st, 5, v2);
	r = step_done(st);
	if (r == 0 && sqlite3_changes(s->db) != 1)
		r = -ENOENT;
	return r;
}

#define WHERE_USER \
	" WHERE id = (SELECT u.id FROM users u JOIN relations r ON r.id = u.relation_id" \
	" WHERE r.number = ?1 AND u.username = ?2)"

static int commit_login_locked(struct store *s, int64_t user_id,
			       const struct store_login_commit *c)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (c->activate) {
		r = prepare(s, "UPDATE users SET activation_hash = NULL WHERE id = ?", &st);
		if (r < 0)
			return r;
		sqlite3_bind_int64(st, 1, user_id);
		if ((r = step_done(st)) < 0)
			return r;
	}
	if (c->new_hash || c->rehash) {
		r = prepare(s,
			    "UPDATE users SET password_hash = ?,"
			    " must_change = CASE WHEN ?3 THEN 0 ELSE must_change END,"
			    " password_changed_at = CASE WHEN ?3 THEN ?4 ELSE password_changed_at END"
			    " WHERE id = ?2",
			    &st);
		if (r < 0)
			return r;
		bind_text(st, 1, c->new_hash ? c->new_hash : c->rehash);
		sqlite3_bind_int64(st, 2, user_id);
		sqlite3_bind_int(st, 3, c->new_hash != NULL);
		sqlite3_bind_int64(st, 4, c->now);
		if ((r = step_done(st)) < 0)
			return r;
		if (c->new_hash) {
			r = history_add(s, user_id, c->new_hash, c->now, c->history_depth);
		} else {
			/* Same password, new cost: the newest history entry follows. */
			r = prepare(s,
				    "UPDATE password_history SET hash = ?1 WHERE id ="
				    " (SELECT MAX(id) FROM password_history WHERE user_id = ?2)",
				    &st);
			if (r < 0)
				return r;
			bind_text(st, 1, c->rehash);
			sqlite3_bind_int64(st, 2, user_id);
			r = step_done(st);
		}
		if (r < 0)
			return r;
	}
	if (c->totp_secret) {
		r = prepare(s, "UPDATE users SET totp_secret = ?, totp_last_step = ? WHERE id = ?",
			    &st);
		if (r < 0)
			return r;
		sqlite3_bind_blob(st, 1, c->totp_secret, (int)c->totp_secret_len,
				  SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, c->totp_step);
		sqlite3_bind_int64(st, 3, user_id);
		if ((r = step_done(st)) < 0)
			return r;
	}
	r = prepare(s,
		    "UPDATE users SET failed_count = 0, locked_until = 0, last_login_at = ?,"
		    " last_login_src = ? WHERE id = ?",
		    &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, c->now);
	bind_text(st, 2, c->src ? c->src : "");
	sqlite3_bind_int64(st, 3, user_id);
	r = step_done(st);
	if (r == 0 && sqlite3_changes(s->db) != 1)
		r = -ENOENT;
	return r;
}

int store_user_commit_login(struct store *s, int64_t user_id,
			    const struct store_login_commit *c)
{
	int r = exec(s, "BEGIN IMMEDIATE");

	if (r < 0)
		return r;
	r = commit_login_locked(s, user_id, c);
	if (r == 0)
		r = exec(s, "COMMIT");
	if (r < 0)
		exec(s, "ROLLBACK");
	return r;
}

int store_user_history(struct store *s, int64_t user_id, unsigned depth, store_hash_cb cb,
		       void *ud)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s,
			"SELECT hash FROM password_history WHERE user_id = ?"
			" ORDER BY id DESC LIMIT ?",
			&st);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, depth);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = cb((const char *)sqlite3_column_text(st, 0), ud);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = map_rc(rc);
	sqlite3_finalize(st);
	return r;
}

int store_user_fail(struct store *s, int64_t user_id, int64_t now, int64_t threshold,
		    int64_t lock_seconds)
{
	struct policy_lock l = { 0 };
	sqlite3_stmt *st = NULL;
	bool locked = false;
	int r = exec(s, "BEGIN IMMEDIATE");

	if (r < 0)
		return r;
	r = prepare(s, "SELECT failed_count, locked_until FROM users WHERE id = ?", &st);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(st, 1, user_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		l.failures = sqlite3_column_int64(st, 0);
		l.locked_until = sqlite3_column_int64(st, 1);
	} else {
		r = -ENOENT;
	}
	sqlite3_finalize(st);
	if (r < 0)
		goto out;
	locked = policy_lock_fail(&l, now, threshold, lock_seconds);
	r = prepare(s, "UPDATE users SET failed_count = ?, locked_until = ? WHERE id = ?", &st);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(st, 1, l.failures);
	sqlite3_bind_int64(st, 2, l.locked_until);
	sqlite3_bind_int64(st, 3, user_id);
	r = step_done(st);
	if (r == 0)
		r = exec(s, "COMMIT");
out:
	if (r < 0)
		exec(s, "ROLLBACK");
	return r < 0 ? r : locked ? 1 : 0;
}

int store_user_unlock(struct store *s, const char *relation, const char *username)
{
	return update_user(s, "UPDATE users SET failed_count = 0, locked_until = 0" WHERE_USER,
			   relation, username, NULL, 0, 0);
}

int store_user_set_disabled(struct store *s, const char *relation, const char *username,
			    bool disabled)
{
	return update_user(s, "UPDATE users SET disabled = ?4" WHERE_USER, relation, username,
			   NULL, disabled, 0);
}

int store_user_reset_password(struct store *s, const char *relation, const char *username,
			      const char *phc, unsigned history_depth, int64_t now)
{
	struct store_user u;
	int r = store_user_get(s, relation, username, &u);
	int64_t id;

	if (r < 0)
		return r;
	id = u.id;
	store_user_wipe(&u);
	r = exec(s, "BEGIN IMMEDIATE");
	if (r < 0)
		return r;
	r = update_user(s,
			"UPDATE users SET password_hash = ?3, must_change = 1,"
			" password_changed_at = ?4, failed_count = 0, locked_until = 0" WHERE_USER,
			relation, username, phc, now, 0);
	if (r == 0)
		r = history_add(s, id, phc, now, history_depth);
	if (r == 0)
		r = exec(s, "COMMIT");
	if (r < 0)
		exec(s, "ROLLBACK");
	return r;
}

int store_user_reset_activation(struct store *s, const char *relation, const char *username,
				const char *phc)
{
	struct store_user u;
	int r = store_user_get(s, relation, username, &u);
	bool activated;

	if (r < 0)
		return r;
	activated = u.activated;
	store_user_wipe(&u);
	if (activated)
		return -EALREADY;
	/* The guard repeats the check, for a first login that just completed. */
	r = update_user(s, "UPDATE users SET activation_hash = ?3" WHERE_USER
			   " AND activation_hash IS NOT NULL",
			relation, username, phc, 0, 0);
	return r == -ENOENT ? -EALREADY : r;
}

int store_user_reset_totp(struct store *s, const char *relation, const char *username)
{
	return update_user(s, "UPDATE users SET totp_secret = NULL, totp_last_step = -1" WHERE_USER,
			   relation, username, NULL, 0, 0);
}

int store_user_mark_notified(struct store *s, int64_t user_id, int64_t changed_at)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "UPDATE users SET expiry_notified_for = ? WHERE id = ?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, changed_at);
	sqlite3_bind_int64(st, 2, user_id);
	return step_done(st);
}

/* ---- source bans ---- */

static void ban_row(sqlite3_stmt *st, struct store_ban *b)
{
	memset(b, 0, sizeof(*b));
	col_text(st, 0, b->src, sizeof(b->src));
	b->failures = sqlite3_column_int64(st, 1);
	b->window_start = sqlite3_column_int64(st, 2);
	b->banned_until = sqlite3_column_int64(st, 3);
}

int store_ban_get(struct store *s, const char *src, struct store_ban *out)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "SELECT src, failures, window_start, banned_until FROM bans WHERE src = ?",
			&st);

	if (r < 0)
		return r;
	bind_text(st, 1, src);
	r = first_row(st);
	if (r == 0)
		ban_row(st, out);
	sqlite3_finalize(st);
	return r;
}

int store_ban_fail(struct store *s, const char *src, int64_t now, int64_t window_seconds,
		   int64_t threshold, int64_t ban_seconds)
{
	struct store_ban b;
	struct policy_ban pb = { 0 };
	sqlite3_stmt *st = NULL;
	bool banned = false;
	int r = exec(s, "BEGIN IMMEDIATE");

	if (r < 0)
		return r;
	r = store_ban_get(s, src, &b);
	if (r == 0) {
		pb.failures = b.failures;
		pb.window_start = b.window_start;
		pb.banned_until = b.banned_until;
	} else if (r != -ENOENT) {
		goto out;
	} else {
		pb.window_start = now;
	}
	banned = policy_ban_fail(&pb, now, window_seconds, threshold, ban_seconds);
	r = prepare(s,
		    "INSERT INTO bans(src, failures, window_start, banned_until) VALUES (?,?,?,?)"
		    " ON CONFLICT(src) DO UPDATE SET failures = excluded.failures,"
		    " window_start = excluded.window_start, banned_until = excluded.banned_until",
		    &st);
	if (r < 0)
		goto out;
	bind_text(st, 1, src);
	sqlite3_bind_int64(st, 2, pb.failures);
	sqlite3_bind_int64(st, 3, pb.window_start);
	sqlite3_bind_int64(st, 4, pb.banned_until);
	r = step_done(st);
	if (r == 0)
		r = exec(s, "COMMIT");
out:
	if (r < 0) {
		exec(s, "ROLLBACK");
		return r;
	}
	return banned ? 1 : 0;
}

int store_ban_list(struct store *s, int64_t now, store_ban_cb cb, void *ud)
{
	sqlite3_stmt *st = NULL;
	struct store_ban b;
	int r = prepare(s,
			"SELECT src, failures, window_start, banned_until FROM bans"
			" WHERE ?1 = 0 OR banned_until > ?1 ORDER BY src",
			&st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, now);
	while ((r = next_row(st)) == 1) {
		ban_row(st, &b);
		r = cb(&b, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

int store_ban_lift(struct store *s, const char *src)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "DELETE FROM bans WHERE src = ?", &st);

	if (r < 0)
		return r;
	bind_text(st, 1, src);
	r = step_done(st);
	if (r == 0 && sqlite3_changes(s->db) != 1)
		r = -ENOENT;
	return r;
}

/* ---- audit ---- */

int store_audit(struct store *s, int64_t now, const char *relation, const char *username,
		const char *src, const char *event, const char *outcome, const char *detail)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s,
			"INSERT INTO audit(at, relation, username, src, event, outcome, detail)"
			" VALUES (?,?,?,?,?,?,?)",
			&st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, now);
	bind_text(st, 2, relation);
	bind_text(st, 3, username);
	bind_text(st, 4, src);
	bind_text(st, 5, event);
	bind_text(st, 6, outcome);
	bind_text(st, 7, detail);
	return step_done(st);
}

int store_audit_list(struct store *s, const char *relation, const char *username,
		     int64_t since, store_audit_cb cb, void *ud)
{
	sqlite3_stmt *st = NULL;
	struct store_audit_row a;
	int r = prepare(s,
			"SELECT id, at, relation, username, src, event, outcome, detail FROM audit"
			" WHERE (?1 IS NULL OR relation = ?1) AND (?2 IS NULL OR username = ?2)"
			" AND at >= ?3 ORDER BY at, id",
			&st);

	if (r < 0)
		return r;
	bind_text(st, 1, relation);
	bind_text(st, 2, username);
	sqlite3_bind_int64(st, 3, since);
	while ((r = next_row(st)) == 1) {
		memset(&a, 0, sizeof(a));
		a.id = sqlite3_column_int64(st, 0);
		a.at = sqlite3_column_int64(st, 1);
		col_text(st, 2, a.relation, sizeof(a.relation));
		col_text(st, 3, a.username, sizeof(a.username));
		col_text(st, 4, a.src, sizeof(a.src));
		col_text(st, 5, a.event, sizeof(a.event));
		col_text(st, 6, a.outcome, sizeof(a.outcome));
		col_text(st, 7, a.detail, sizeof(a.detail));
		r = cb(&a, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

/* ---- uploads ---- */

int store_upload_received(struct store *s, const char *relation, const char *username,
			  const char *name, uint64_t size, uint64_t dev, uint64_t ino,
			  int64_t now)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s,
			"INSERT INTO uploads(relation, username, name, size, dev, ino, received_at)"
			" VALUES (?,?,?,?,?,?,?)",
			&st);

	if (r < 0)
		return r;
	bind_text(st, 1, relation);
	bind_text(st, 2, username);
	bind_text(st, 3, name);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)size);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)dev);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)ino);
	sqlite3_bind_int64(st, 7, now);
	return step_done(st);
}

int store_upload_forget(struct store *s, const char *relation, uint64_t dev, uint64_t ino)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s,
			"DELETE FROM uploads WHERE id = (SELECT MAX(id) FROM uploads"
			" WHERE relation = ? AND dev = ? AND ino = ? AND ingested_at IS NULL)",
			&st);

	if (r < 0)
		return r;
	bind_text(st, 1, relation);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)dev);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)ino);
	return step_done(st);
}

/* Body of store_upload_claim, inside its transaction. */
static int claim_locked(struct store *s, const char *relation, const char *name,
			uint64_t size, uint64_t dev, uint64_t ino, int64_t now, int64_t *id,
			bool *already)
{
	sqlite3_stmt *st = NULL;
	int64_t found = 0;
	bool done = false;
	int rc;
	int r;

	r = prepare(s,
		    "SELECT id, ingested_at IS NOT NULL FROM uploads"
		    " WHERE relation = ? AND dev = ? AND ino = ?"
		    /* The newest row decides: a freed inode reused by a new
		     * upload comes with a newer received row. */
		    " ORDER BY id DESC LIMIT 1",
		    &st);
	if (r < 0)
		return r;
	bind_text(st, 1, relation);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)dev);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)ino);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		found = sqlite3_column_int64(st, 0);
		done = sqlite3_column_int(st, 1) != 0;
	} else if (rc != SQLITE_DONE) {
		r = map_rc(rc);
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	if (done) {
		*already = true;
		*id = found;
		return 0;
	}
	if (found) {
		r = prepare(s, "UPDATE uploads SET name = ?, size = ? WHERE id = ?", &st);
		if (r < 0)
			return r;
		bind_text(st, 1, name);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
		sqlite3_bind_int64(st, 3, found);
		r = step_done(st);
	} else {
		r = store_upload_received(s, relation, NULL, name, size, dev, ino, now);
		found = sqlite3_last_insert_rowid(s->db);
	}
	if (r < 0)
		return r;
	*already = false;
	*id = found;
	return 0;
}

int store_upload_claim(struct store *s, const char *relation, const char *name,
		       uint64_t size, uint64_t dev, uint64_t ino, int64_t now,
		       int64_t *id, bool *already)
{
	int r = exec(s, "BEGIN IMMEDIATE");

	if (r < 0)
		return r;
	r = claim_locked(s, relation, name, size, dev, ino, now, id, already);
	if (r == 0)
		r = exec(s, "COMMIT");
	if (r < 0)
		exec(s, "ROLLBACK");
	return r;
}

int store_upload_done(struct store *s, int64_t id, const char *sha256_hex,
		      const char *spool_path, int64_t now)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s,
			"UPDATE uploads SET sha256 = ?, spool_path = ?, ingested_at = ?"
			" WHERE id = ? AND ingested_at IS NULL",
			&st);

	if (r < 0)
		return r;
	bind_text(st, 1, sha256_hex);
	bind_text(st, 2, spool_path);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, id);
	r = step_done(st);
	if (r == 0 && sqlite3_changes(s->db) != 1)
		r = -ENOENT;
	return r;
}

int store_upload_list(struct store *s, const char *relation, store_upload_cb cb, void *ud)
{
	sqlite3_stmt *st = NULL;
	struct store_upload *u = malloc(sizeof(*u));
	int r;

	if (!u)
		return -ENOMEM;
	r = prepare(s,
		    "SELECT id, relation, username, name, size, sha256, dev, ino,"
		    " received_at, ingested_at, spool_path FROM uploads"
		    " WHERE ?1 IS NULL OR relation = ?1 ORDER BY id",
		    &st);
	if (r < 0)
		goto out;
	bind_text(st, 1, relation);
	while ((r = next_row(st)) == 1) {
		memset(u, 0, sizeof(*u));
		u->id = sqlite3_column_int64(st, 0);
		col_text(st, 1, u->relation, sizeof(u->relation));
		col_text(st, 2, u->username, sizeof(u->username));
		col_text(st, 3, u->name, sizeof(u->name));
		u->size = (uint64_t)sqlite3_column_int64(st, 4);
		col_text(st, 5, u->sha256, sizeof(u->sha256));
		u->dev = (uint64_t)sqlite3_column_int64(st, 6);
		u->ino = (uint64_t)sqlite3_column_int64(st, 7);
		u->received_at = sqlite3_column_int64(st, 8);
		u->ingested_at = sqlite3_column_int64(st, 9);
		col_text(st, 10, u->spool_path, sizeof(u->spool_path));
		r = cb(u, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
out:
	free(u);
	return r < 0 ? r : 0;
}

/* ---- receipts / partials ---- */

/* Run body inside BEGIN IMMEDIATE ... COMMIT (ROLLBACK on failure), or
 * inside a batch in a savepoint, so that a failing step undoes itself and
 * leaves the batch's other steps in place. */
static int in_transaction(struct store *s, int (*body)(struct store *s, void *ud), void *ud)
{
	int r;

	/* SQLite rolls a whole transaction back by itself after some errors
	 * (disk full, I/O); a batch must not then go on step by step outside
	 * any transaction, each step committed on its own. */
	if (s->batch && sqlite3_get_autocommit(s->db))
		return -EIO;
	r = exec(s, s->batch ? "SAVEPOINT step" : "BEGIN IMMEDIATE");
	if (r < 0)
		return r;
	r = body(s, ud);
	if (r >= 0) {
		int c = exec(s, s->batch ? "RELEASE step" : "COMMIT");

		if (c < 0)
			r = c;
	}
	if (r < 0)
		exec(s, s->batch ? "ROLLBACK TO step; RELEASE step" : "ROLLBACK");
	return r;
}

int store_batch_begin(struct store *s)
{
	int r;

	if (s->batch)
		return -EINVAL;
	r = exec(s, "BEGIN IMMEDIATE");
	if (r == 0)
		s->batch = true;
	return r;
}

int store_batch_end(struct store *s, bool commit)
{
	int r;

	if (!s->batch)
		return -EINVAL;
	s->batch = false;
	if (sqlite3_get_autocommit(s->db))
		return -EIO; /* rolled back by SQLite meanwhile: nothing kept */
	r = commit ? exec(s, "COMMIT") : -ECANCELED;
	if (r < 0)
		exec(s, "ROLLBACK");
	return commit ? r : 0;
}

int store_upload_received_from(struct store *s, const char *relation, const char *username,
			       const char *src, const char *name, uint64_t size, uint64_t dev,
			       uint64_t ino, int64_t now)
{
	sqlite3_stmt *st = s->upload_insert;
	int r = 0;

	if (!st) {
		r = prepare(s,
			    "INSERT INTO uploads(relation, username, src, name, size, dev, ino,"
			    " received_at) VALUES (?,?,?,?,?,?,?,?)",
			    &s->upload_insert);
		if (r < 0)
			return r;
		st = s->upload_insert;
	}
	bind_text(st, 1, relation);
	bind_text(st, 2, username);
	bind_text(st, 3, src);
	bind_text(st, 4, name);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)size);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)dev);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)ino);
	sqlite3_bind_int64(st, 8, now);
	r = sqlite3_step(st);
	r = r == SQLITE_DONE ? 0 : map_rc(r);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

struct claim_args {
	const char *relation, *name;
	uint64_t size, dev, ino;
	int64_t btime, now;
	int64_t id;
	bool already;
};

/* Run an UPDATE of one row by id with the claim's values bound by name. */
static int claim_update(struct store *s, const char *sql, const struct claim_args *a,
			int64_t id)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, sql, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":id"), id);
	if (sqlite3_bind_parameter_index(st, ":btime"))
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":btime"), a->btime);
	if (sqlite3_bind_parameter_index(st, ":now"))
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":now"), a->now);
	if (sqlite3_bind_parameter_index(st, ":name"))
		bind_text(st, sqlite3_bind_parameter_index(st, ":name"), a->name);
	if (sqlite3_bind_parameter_index(st, ":size"))
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":size"),
				   (sqlite3_int64)a->size);
	return step_done(st);
}

static int claim_file_body(struct store *s, void *ud)
{
	struct claim_args *a = ud;
	sqlite3_stmt *st = NULL;
	int64_t found = 0, row_btime = 0;
	bool done = false, claimed = false;
	int rc;
	int r;

	r = prepare(s,
		    "SELECT id, ingested_at IS NOT NULL, btime FROM uploads"
		    " WHERE relation = ? AND dev = ? AND ino = ? ORDER BY id DESC LIMIT 1",
		    &st);
	if (r < 0)
		return r;
	bind_text(st, 1, a->relation);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)a->dev);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)a->ino);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		found = sqlite3_column_int64(st, 0);
		done = sqlite3_column_int(st, 1) != 0;
		claimed = sqlite3_column_type(st, 2) != SQLITE_NULL;
		row_btime = sqlite3_column_int64(st, 2);
	} else if (rc != SQLITE_DONE) {
		r = map_rc(rc);
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	a->already = false;
	if (found && !claimed) {
		/* The daemon's row, recorded before the file got its name (or
		 * a row from before birth times were kept): this file. */
		a->id = found;
		a->already = done;
		if (done)
			return claim_update(s,
					    "UPDATE uploads SET btime = :btime, cur_name = :name"
					    " WHERE id = :id",
					    a, found);
		return claim_update(s,
				    "UPDATE uploads SET btime = :btime, claimed_at = :now,"
				    " name = :name, cur_name = :name, size = :size,"
				    " vanished_at = NULL WHERE id = :id",
				    a, found);
	}
	if (found && (row_btime == 0 || a->btime == 0 || row_btime == a->btime)) {
		/* Seen before. Its name stays what it was at the first claim
		 * (the spool name is made from it); only where it is now
		 * changes. */
		a->id = found;
		a->already = done;
		if (done)
			return claim_update(s, "UPDATE uploads SET cur_name = :name WHERE id = :id",
					    a, found);
		return claim_update(s,
				    "UPDATE uploads SET claimed_at = :now, cur_name = :name,"
				    " vanished_at = NULL WHERE id = :id",
				    a, found);
	}
	/* Unknown inode, or a new file on a reused inode that the daemon did
	 * not report: an upload of its own, user unknown. */
	r = prepare(s,
		    "INSERT INTO uploads(relation, name, cur_name, size, dev, ino, received_at,"
		    " btime, claimed_at) VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?6)",
		    &st);
	if (r < 0)
		return r;
	bind_text(st, 1, a->relation);
	bind_text(st, 2, a->name);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)a->size);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)a->dev);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)a->ino);
	sqlite3_bind_int64(st, 6, a->now);
	sqlite3_bind_int64(st, 7, a->btime);
	r = step_done(st);
	if (r == 0)
		a->id = sqlite3_last_insert_rowid(s->db);
	return r;
}

int store_upload_claim_file(struct store *s, const char *relation, const char *name,
			    uint64_t size, uint64_t dev, uint64_t ino, int64_t btime, int64_t now,
			    int64_t *id, bool *already)
{
	struct claim_args a = { .relation = relation, .name = name, .size = size, .dev = dev,
				.ino = ino, .btime = btime, .now = now };
	int r = in_transaction(s, claim_file_body, &a);

	if (r < 0)
		return r;
	*id = a.id;
	*already = a.already;
	return 0;
}

struct record_args {
	int64_t id;
	const char *sha256, *spool_path, *detail, *event, *error;
	uint64_t size;
	int64_t now;
	bool flag; /* record: a hook is due; hook result: it succeeded */
};

static int audit_of_upload(struct store *s, const struct record_args *a, const char *outcome)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s,
			"INSERT INTO audit(at, relation, username, src, event, outcome, detail)"
			" SELECT ?, relation, username, src, ?, ?, ? FROM uploads WHERE id = ?",
			&st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, a->now);
	bind_text(st, 2, a->event);
	bind_text(st, 3, outcome);
	bind_text(st, 4, a->detail);
	sqlite3_bind_int64(st, 5, a->id);
	return step_done(st);
}

static int record_body(struct store *s, void *ud)
{
	struct record_args *a = ud;
	sqlite3_stmt *st = NULL;
	int r = prepare(s,
			"UPDATE uploads SET sha256 = ?, spool_path = ?, ingested_at = ?, size = ?,"
			" hook_state = ?, vanished_at = NULL WHERE id = ? AND ingested_at IS NULL",
			&st);

	if (r < 0)
		return r;
	bind_text(st, 1, a->sha256);
	bind_text(st, 2, a->spool_path);
	sqlite3_bind_int64(st, 3, a->now);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)a->size);
	bind_text(st, 5, a->flag ? "pending" : NULL);
	sqlite3_bind_int64(st, 6, a->id);
	r = step_done(st);
	if (r == 0 && sqlite3_changes(s->db) != 1)
		r = -ENOENT;
	if (r == 0)
		r = audit_of_upload(s, a, "ok");
	return r;
}

int store_upload_record(struct store *s, int64_t id, const char *sha256_hex, uint64_t size,
			const char *spool_path, int64_t now, bool hook, const char *detail)
{
	struct record_args a = { .id = id, .sha256 = sha256_hex, .spool_path = spool_path,
				 .size = size, .now = now, .flag = hook, .detail = detail,
				 .event = "upload_ingested" };

	return in_transaction(s, record_body, &a);
}

static int hook_body(struct store *s, void *ud)
{
	struct record_args *a = ud;
	sqlite3_stmt *st = NULL;
	int r = prepare(s,
			"UPDATE uploads SET hook_attempts = hook_attempts + 1, hook_at = ?,"
			" hook_state = CASE WHEN ? THEN 'done' ELSE hook_state END, hook_error = ?"
			" WHERE id = ? AND hook_state = 'pending'",
			&st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, a->now);
	sqlite3_bind_int(st, 2, a->flag);
	bind_text(st, 3, a->error);
	sqlite3_bind_int64(st, 4, a->id);
	r = step_done(st);
	if (r == 0 && sqlite3_changes(s->db) != 1)
		r = -ENOENT;
	if (r == 0)
		r = audit_of_upload(s, a, a->flag ? "ok" : "failed");
	return r;
}

int store_upload_hook_result(struct store *s, int64_t id, bool ok, const char *error,
			     int64_t now, const char *detail)
{
	struct record_args a = { .id = id, .flag = ok, .error = ok ? NULL : error, .now = now,
				 .detail = detail, .event = ok ? "hook_done" : "hook_failed" };

	return in_transaction(s, hook_body, &a);
}

/* UPDATE uploads SET <column> = now WHERE id = id AND <column> IS NULL. */
static int set_time(struct store *s, const char *sql, int64_t id, int64_t now)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, sql, &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, id);
	return step_done(st);
}

int store_upload_receipt_written(struct store *s, int64_t id, const char *name, int64_t now)
{
	sqlite3_stmt *st = NULL;
	int r = s->batch && sqlite3_get_autocommit(s->db) ? -EIO : 0;

	if (r < 0)
		return r;
	r = prepare(s,
			"UPDATE uploads SET receipt_at = ?, receipt_name = ?"
			" WHERE id = ? AND receipt_at IS NULL",
			&st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, now);
	bind_text(st, 2, name);
	sqlite3_bind_int64(st, 3, id);
	return step_done(st);
}

int store_upload_removed(struct store *s, int64_t id, int64_t now)
{
	return set_time(s, "UPDATE uploads SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
			id, now);
}

int store_upload_receipt_removed(struct store *s, int64_t id, int64_t now)
{
	return set_time(s,
			"UPDATE uploads SET receipt_removed_at = ?"
			" WHERE id = ? AND receipt_removed_at IS NULL",
			id, now);
}

int store_upload_mark_vanished(struct store *s, int64_t before, int64_t now)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s,
			"UPDATE uploads SET vanished_at = ? WHERE ingested_at IS NULL"
			" AND vanished_at IS NULL AND COALESCE(claimed_at, received_at) < ?",
			&st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, before);
	r = step_done(st);
	return r < 0 ? r : sqlite3_changes(s->db);
}

int store_upload_todo(struct store *s, enum store_todo what, int64_t before, int64_t after_id,
		      int64_t *ids, size_t max)
{
	static const char *const where[] = {
		[STORE_TODO_UNRECORDED] = "ingested_at IS NULL AND btime IS NOT NULL"
					  " AND vanished_at IS NULL",
		[STORE_TODO_RECEIPT] = "ingested_at IS NOT NULL AND receipt_at IS NULL",
		[STORE_TODO_HOOK] = "hook_state = 'pending'",
		[STORE_TODO_EXPIRE_FILE] = "ingested_at IS NOT NULL AND removed_at IS NULL"
					   " AND ingested_at <= ?2",
		[STORE_TODO_EXPIRE_RECEIPT] = "receipt_at IS NOT NULL AND receipt_removed_at IS NULL"
					      " AND ingested_at <= ?2",
	};
	sqlite3_stmt *st = NULL;
	char sql[256];
	size_t n = 0;
	int rc;
	int r;

	if ((unsigned)what >= sizeof(where) / sizeof(where[0]) || max > INT32_MAX)
		return -EINVAL;
	snprintf(sql, sizeof(sql), "SELECT id FROM uploads WHERE id > ?1 AND %s ORDER BY id LIMIT ?3",
		 where[what]);
	r = prepare(s, sql, &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, after_id);
	sqlite3_bind_int64(st, 2, before);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max)
		ids[n++] = sqlite3_column_int64(st, 0);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = map_rc(rc);
	sqlite3_finalize(st);
	return r < 0 ? r : (int)n;
}

#define RECEIPT_COLS \
	"id, relation, username, src, name, cur_name, size, sha256, dev, ino, btime," \
	" received_at, claimed_at, ingested_at, receipt_at, removed_at, receipt_removed_at," \
	" vanished_at, spool_path, hook_state, hook_attempts, hook_at, hook_error, receipt_name"

static void receipt_row(sqlite3_stmt *st, struct store_receipt *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	col_text(st, 1, r->relation, sizeof(r->relation));
	col_text(st, 2, r->username, sizeof(r->username));
	col_text(st, 3, r->src, sizeof(r->src));
	col_text(st, 4, r->name, sizeof(r->name));
	col_text(st, 5, r->cur_name, sizeof(r->cur_name));
	if (!r->cur_name[0])
		memcpy(r->cur_name, r->name, sizeof(r->cur_name));
	r->size = (uint64_t)sqlite3_column_int64(st, 6);
	col_text(st, 7, r->sha256, sizeof(r->sha256));
	r->dev = (uint64_t)sqlite3_column_int64(st, 8);
	r->ino = (uint64_t)sqlite3_column_int64(st, 9);
	r->btime = sqlite3_column_type(st, 10) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 10);
	r->received_at = sqlite3_column_int64(st, 11);
	r->claimed_at = sqlite3_column_int64(st, 12);
	r->ingested_at = sqlite3_column_int64(st, 13);
	r->receipt_at = sqlite3_column_int64(st, 14);
	r->removed_at = sqlite3_column_int64(st, 15);
	r->receipt_removed_at = sqlite3_column_int64(st, 16);
	r->vanished_at = sqlite3_column_int64(st, 17);
	col_text(st, 18, r->spool_path, sizeof(r->spool_path));
	col_text(st, 19, r->hook_state, sizeof(r->hook_state));
	r->hook_attempts = (unsigned)sqlite3_column_int(st, 20);
	r->hook_at = sqlite3_column_int64(st, 21);
	col_text(st, 22, r->hook_error, sizeof(r->hook_error));
	col_text(st, 23, r->receipt_name, sizeof(r->receipt_name));
}

int store_upload_get(struct store *s, int64_t id, struct store_receipt *out)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "SELECT " RECEIPT_COLS " FROM uploads WHERE id = ?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	r = first_row(st);
	if (r == 0)
		receipt_row(st, out);
	sqlite3_finalize(st);
	return r;
}

int store_receipt_list(struct store *s, const char *relation, store_receipt_cb cb, void *ud)
{
	struct store_receipt *row = malloc(sizeof(*row));
	sqlite3_stmt *st = NULL;
	int r;

	if (!row)
		return -ENOMEM;
	r = prepare(s,
		    "SELECT " RECEIPT_COLS " FROM uploads WHERE ?1 IS NULL OR relation = ?1"
		    " ORDER BY id",
		    &st);
	if (r < 0)
		goto out;
	bind_text(st, 1, relation);
	while ((r = next_row(st)) == 1) {
		receipt_row(st, row);
		r = cb(row, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
out:
	free(row);
	return r < 0 ? r : 0;
}

/* ---- public keys of batch accounts ---- */

#define KEY_COLS "id, user_id, key_type, key_blob, comment, fingerprint, added_at"

static void key_row(sqlite3_stmt *st, struct store_key *k)
{
	memset(k, 0, sizeof(*k));
	k->id = sqlite3_column_int64(st, 0);
	k->user_id = sqlite3_column_int64(st, 1);
	col_text(st, 2, k->type, sizeof(k->type));
	col_text(st, 3, k->blob, sizeof(k->blob));
	col_text(st, 4, k->comment, sizeof(k->comment));
	col_text(st, 5, k->fingerprint, sizeof(k->fingerprint));
	k->added_at = sqlite3_column_int64(st, 6);
}

int store_key_add(struct store *s, const struct store_key *k)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s,
			"INSERT INTO user_keys(user_id, key_type, key_blob, comment, fingerprint,"
			" added_at) VALUES (?,?,?,?,?,?)",
			&st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, k->user_id);
	bind_text(st, 2, k->type);
	bind_text(st, 3, k->blob);
	bind_text(st, 4, k->comment);
	bind_text(st, 5, k->fingerprint);
	sqlite3_bind_int64(st, 6, k->added_at);
	return step_done(st);
}

int store_key_find(struct store *s, int64_t user_id, const char *fingerprint,
		   struct store_key *out)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "SELECT " KEY_COLS " FROM user_keys WHERE user_id = ? AND fingerprint = ?",
			&st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, user_id);
	bind_text(st, 2, fingerprint);
	r = first_row(st);
	if (r == 0)
		key_row(st, out);
	sqlite3_finalize(st);
	return r;
}

int store_key_list(struct store *s, int64_t user_id, store_key_cb cb, void *ud)
{
	struct store_key *k = malloc(sizeof(*k));
	sqlite3_stmt *st = NULL;
	int r;

	if (!k)
		return -ENOMEM;
	r = prepare(s, "SELECT " KEY_COLS " FROM user_keys WHERE user_id = ? ORDER BY id", &st);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(st, 1, user_id);
	while ((r = next_row(st)) == 1) {
		key_row(st, k);
		r = cb(k, ud);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
out:
	free(k);
	return r < 0 ? r : 0;
}

int store_key_count(struct store *s, int64_t user_id)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "SELECT COUNT(*) FROM user_keys WHERE user_id = ?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, user_id);
	r = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -EIO;
	sqlite3_finalize(st);
	return r;
}

int store_key_remove(struct store *s, int64_t user_id, const char *fingerprint)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "DELETE FROM user_keys WHERE user_id = ? AND fingerprint = ?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, user_id);
	bind_text(st, 2, fingerprint);
	r = step_done(st);
	if (r == 0 && sqlite3_changes(s->db) != 1)
		r = -ENOENT;
	return r;
}
