/* Receipts: for every ingested upload one small JSON file in the relation's
 * own upload directory (SD_RECEIPTS_DIR), which its clients read through
 * SFTP as /.receipts/ (read-only; the SFTP engine enforces that). Written
 * under a temporary reserved name, made durable, then renamed, so a reader
 * never sees half a receipt; writing one again gives the same file. */
#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

/* The receipts directory: the daemon's worker (same uid or group) reads it. */
#define RECEIPT_DIR_MODE 0750
#define RECEIPT_FILE_MODE 0440
/* Format version, first member of every receipt. */
#define RECEIPT_VERSION 1

/* A growing string; on allocation failure it stops growing and says so. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void put(struct sbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		char *np;

		while (b->len + n + 1 > cap)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct sbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if there is none. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned min;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A JSON string: quotes, backslashes and control characters escaped, what
 * is not UTF-8 replaced by U+FFFD (names are stored byte-exact). */
static void put_json_string(struct sbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	puts_(b, "\"");
	while (*p) {
		size_t n = utf8_len(p);
		char esc[8];

		if (n == 0) {
			puts_(b, "\\ufffd");
			p++;
		} else if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(b, esc, 2);
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			puts_(b, esc);
			p++;
		} else {
			put(b, (const char *)p, n);
			p += n;
		}
	}
	puts_(b, "\"");
}

static void member_str(struct sbuf *b, const char *key, const char *v, bool last)
{
	puts_(b, "  \"");
	puts_(b, key);
	puts_(b, "\": ");
	if (v && *v)
		put_json_string(b, v);
	else
		puts_(b, "null");
	puts_(b, last ? "\n" : ",\n");
}

static void member_num(struct sbuf *b, const char *key, long long v)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", v);
	puts_(b, "  \"");
	puts_(b, key);
	puts_(b, "\": ");
	puts_(b, num);
	puts_(b, ",\n");
}

static void member_time(struct sbuf *b, const char *key, int64_t t)
{
	char iso[32];

	util_iso8601(t, iso, sizeof(iso));
	member_str(b, key, t ? iso : NULL, false);
}

int ingest_receipt_json(const struct store_receipt *r, char **out)
{
	struct sbuf b = { 0 };

	puts_(&b, "{\n");
	member_num(&b, "receipt", RECEIPT_VERSION);
	member_num(&b, "id", (long long)r->id);
	member_str(&b, "relation", r->relation, false);
	member_str(&b, "user", r->username, false);
	member_str(&b, "name", r->name, false);
	member_num(&b, "size", (long long)r->size);
	member_str(&b, "sha256", r->sha256, false);
	member_time(&b, "received_at", r->received_at);
	member_time(&b, "ingested_at", r->ingested_at);
	member_str(&b, "source", r->src, true);
	puts_(&b, "}\n");
	if (b.failed) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	return (int)b.len;
}

/* The relation's receipts directory, created (durably) if needed. */
static int open_receipts_dir(const struct ingest_ctx *ctx, const char *relation, bool create,
			     const char **why)
{
	int rfd, dfd;

	rfd = ingest_open_beneath(ctx->root_fd, relation, O_RDONLY | O_DIRECTORY, 0);
	if (rfd == -ENOENT && create) {
		if (mkdirat(ctx->root_fd, relation, RECEIPT_DIR_MODE) < 0 && errno != EEXIST) {
			*why = "mkdir_relation_dir";
			return -errno;
		}
		rfd = ingest_open_beneath(ctx->root_fd, relation, O_RDONLY | O_DIRECTORY, 0);
	}
	if (rfd < 0) {
		*why = "open_relation_dir";
		return rfd;
	}
	/* Opened first: mkdir takes the relation directory's lock for writing,
	 * which the daemon needs for every upload it creates there. */
	dfd = ingest_open_beneath(rfd, SD_RECEIPTS_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (dfd == -ENOENT && create) {
		if (mkdirat(rfd, SD_RECEIPTS_DIR, RECEIPT_DIR_MODE) == 0 && fsync(rfd) < 0) {
			*why = "fsync_relation_dir";
			dfd = -errno;
			goto out;
		}
		dfd = ingest_open_beneath(rfd, SD_RECEIPTS_DIR, O_RDONLY | O_DIRECTORY, 0);
	}
	if (dfd < 0)
		*why = "open_receipts_dir";
out:
	close(rfd);
	return dfd;
}

int ingest_receipt_put(const struct ingest_ctx *ctx, int64_t id, bool sync_dir,
		       struct ingest_receipt_out *out, const char **why)
{
	struct store_receipt *row = malloc(sizeof(*row));
	char tmp[64];
	char *doc = NULL;
	int dfd = -1, fd = -1;
	int r, len;

	if (!row)
		return -ENOMEM;
	*why = "read_row";
	r = store_upload_get(ctx->store, id, row);
	if (r < 0)
		goto out;
	snprintf(out->relation, sizeof(out->relation), "%s", row->relation);
	*why = "receipt_name";
	r = ingest_receipt_name(id, row->name, out->name, sizeof(out->name));
	if (r < 0)
		goto out;
	len = ingest_receipt_json(row, &doc);
	if (len < 0) {
		r = len;
		goto out;
	}
	dfd = open_receipts_dir(ctx, row->relation, true, why);
	if (dfd < 0) {
		r = dfd;
		goto out;
	}
	/* Reserved, so hidden from the relation and never a receipt name. */
	snprintf(tmp, sizeof(tmp), "%stmp.%" PRId64, SD_RESERVED_PREFIX, id);
	if (unlinkat(dfd, tmp, 0) < 0 && errno != ENOENT) {
		r = -errno;
		*why = "unlink_tmp";
		goto out;
	}
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    RECEIPT_FILE_MODE);
	if (fd < 0) {
		r = -errno;
		*why = "create_tmp";
		goto out;
	}
	r = util_write_all(fd, doc, (size_t)len);
	if (r == 0 && (fchmod(fd, RECEIPT_FILE_MODE) < 0 || fsync(fd) < 0))
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	fd = -1;
	if (r == 0 && renameat(dfd, tmp, dfd, out->name) < 0)
		r = -errno;
	if (r == 0 && sync_dir && fsync(dfd) < 0)
		r = -errno;
	if (r < 0) {
		*why = "write_receipt";
		unlinkat(dfd, tmp, 0);
	}
out:
	if (dfd >= 0)
		close(dfd);
	free(doc);
	free(row);
	return r;
}

int ingest_receipt_sync_dir(const struct ingest_ctx *ctx, const char *relation)
{
	const char *why = "";
	int dfd = open_receipts_dir(ctx, relation, false, &why);
	int r = 0;

	if (dfd < 0)
		return dfd;
	if (fsync(dfd) < 0)
		r = -errno;
	close(dfd);
	return r;
}

int ingest_receipt_note(const struct ingest_ctx *ctx, int64_t id,
			const struct ingest_receipt_out *out, const char **why)
{
	struct ingest_time now;
	int r;

	ingest_now(&now);
	r = store_upload_receipt_written(ctx->store, id, out->name, now.wall);
	if (r < 0) {
		*why = "record_receipt";
		return r;
	}
	log_event(LOG_INFO, "ingest_receipt", "relation=%s id=%lld receipt=%s", out->relation,
		  (long long)id, log_q(out->name));
	return 0;
}

int ingest_receipt_write(const struct ingest_ctx *ctx, int64_t id, const char **why)
{
	struct ingest_receipt_out out;
	int r = ingest_receipt_put(ctx, id, true, &out, why);

	return r < 0 ? r : ingest_receipt_note(ctx, id, &out, why);
}

int ingest_receipt_remove(const struct ingest_ctx *ctx, const struct store_receipt *r,
			  const char **why)
{
	char name[INGEST_NAME_MAX + 1];
	struct ingest_time now;
	int dfd, ret;

	*why = "receipt_name";
	ret = ingest_receipt_name(r->id, r->name, name, sizeof(name));
	if (ret < 0)
		return ret;
	dfd = open_receipts_dir(ctx, r->relation, false, why);
	if (dfd >= 0) {
		ret = unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
		if (ret == 0)
			fsync(dfd);
		close(dfd);
		if (ret < 0) {
			*why = "unlink_receipt";
			return ret;
		}
	} else if (dfd != -ENOENT) {
		return dfd;
	}
	ingest_now(&now);
	ret = store_upload_receipt_removed(ctx->store, r->id, now.wall);
	if (ret < 0) {
		*why = "record_receipt_removed";
		return ret;
	}
	log_event(LOG_INFO, "receipt_expired", "relation=%s id=%lld receipt=%s", r->relation,
		  (long long)r->id, log_q(name));
	return 0;
}
