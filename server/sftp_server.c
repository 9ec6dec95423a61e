/* SFTP session: reads the client stream in large chunks, frames and decodes
 * every complete request in it, sends each through one const dispatch table
 * with a single permission check in front (deny by default), and writes the
 * queued replies back once per batch. Also owns the handle table. */
#include "sftp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sftp_handlers.h"
#include "util.h"

/* The draft requires servers to take packets of at least 34000 bytes;
 * clients size their 32 KiB writes on that. */
#define SFTP_MIN_PACKET 34000u
/* Upper bound on the configured packet size: keeps the buffers of one
 * session within a few tens of MiB whatever the config says. */
#define SFTP_MAX_PACKET (16u * 1024 * 1024)
/* Upper bound on handles per session (config sanity). */
#define SFTP_MAX_HANDLES 4096u
/* Bytes asked from the transport per read: large, so that one read carries
 * many pipelined 32 KiB WRITEs. */
#define SFTP_READ_CHUNK (256u * 1024)
/* Queued replies are written out once they exceed this, or before the next
 * read, whichever comes first. */
#define SFTP_OUT_FLUSH (256u * 1024)
/* Room reserved in a packet for the fields around READ/WRITE data. */
#define SFTP_DATA_OVERHEAD 1024u

/* Who may run a request. PERM_DENY is 0 so that a table row without an
 * explicit permission refuses. */
enum sftp_perm {
	PERM_DENY = 0,
	PERM_META,     /* look around: stat, list, realpath, limits */
	PERM_WRITE,    /* change the tree: upload, rename, remove, mkdir */
	PERM_DOWNLOAD, /* read file contents: only with allow_download */
	PERM_OPEN,     /* PERM_WRITE or PERM_DOWNLOAD by OPEN's pflags */
};

struct sftp_op {
	uint8_t type;
	const char *name;
	enum sftp_perm perm;
	int (*fn)(struct sftp_session *s, const struct srv_sftp_req *q);
	const char *deny_msg; /* why a PERM_DENY request is refused */
};

static int h_extended(struct sftp_session *s, const struct srv_sftp_req *q);

static const struct sftp_op sftp_ops[] = {
	{ SRV_FXP_OPEN, "open", PERM_OPEN, sftp_h_open, NULL },
	{ SRV_FXP_CLOSE, "close", PERM_META, sftp_h_close, NULL },
	{ SRV_FXP_READ, "read", PERM_DOWNLOAD, sftp_h_read, NULL },
	{ SRV_FXP_WRITE, "write", PERM_WRITE, sftp_h_write, NULL },
	{ SRV_FXP_LSTAT, "lstat", PERM_META, sftp_h_lstat, NULL },
	{ SRV_FXP_FSTAT, "fstat", PERM_META, sftp_h_fstat, NULL },
	{ SRV_FXP_SETSTAT, "setstat", PERM_WRITE, sftp_h_setstat, NULL },
	{ SRV_FXP_FSETSTAT, "fsetstat", PERM_WRITE, sftp_h_fsetstat, NULL },
	{ SRV_FXP_OPENDIR, "opendir", PERM_META, sftp_h_opendir, NULL },
	{ SRV_FXP_READDIR, "readdir", PERM_META, sftp_h_readdir, NULL },
	{ SRV_FXP_REMOVE, "remove", PERM_WRITE, sftp_h_remove, NULL },
	{ SRV_FXP_MKDIR, "mkdir", PERM_WRITE, sftp_h_mkdir, NULL },
	{ SRV_FXP_RMDIR, "rmdir", PERM_WRITE, sftp_h_rmdir, NULL },
	{ SRV_FXP_REALPATH, "realpath", PERM_META, sftp_h_realpath, NULL },
	{ SRV_FXP_STAT, "stat", PERM_META, sftp_h_stat, NULL },
	{ SRV_FXP_RENAME, "rename", PERM_WRITE, sftp_h_rename, NULL },
	{ SRV_FXP_READLINK, "readlink", PERM_DENY, NULL,
	  "symbolic links are not supported" },
	{ SRV_FXP_SYMLINK, "symlink", PERM_DENY, NULL,
	  "symbolic links are not allowed" },
	/* The extension is checked again against sftp_exts below. */
	{ SRV_FXP_EXTENDED, "extended", PERM_META, h_extended, NULL },
};

struct sftp_ext_op {
	const char *name;
	const char *version; /* advertised in VERSION; NULL: not advertised */
	enum sftp_perm perm;
	size_t nargs; /* strings in the request remainder */
	int (*fn)(struct sftp_session *s, const struct srv_sftp_req *q,
		  const struct srv_sftp_str *args);
	const char *deny_msg;
};

/* VERSION is built from this table, so only what is implemented (and
 * permitted) is ever advertised. */
static const struct sftp_ext_op sftp_exts[] = {
	{ "posix-rename@openssh.com", "1", PERM_WRITE, 2, sftp_x_posix_rename, NULL },
	{ "statvfs@openssh.com", "2", PERM_META, 1, sftp_x_statvfs, NULL },
	{ "fstatvfs@openssh.com", "2", PERM_META, 1, sftp_x_fstatvfs, NULL },
	{ "fsync@openssh.com", "1", PERM_META, 1, sftp_x_fsync, NULL },
	{ "limits@openssh.com", "1", PERM_META, 0, sftp_x_limits, NULL },
	{ "hardlink@openssh.com", NULL, PERM_DENY, 0, NULL,
	  "hard links are not allowed" },
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- replies ---------------------------------------------------------- */

int sftp_status(struct sftp_session *s, uint32_t id, uint32_t code,
		const char *msg)
{
	int r = srv_sftp_put_status(&s->out, id, code, msg);

	if (r == 0)
		s->replies++;
	return r;
}

int sftp_sent(struct sftp_session *s, uint32_t id, int r)
{
	if (r == 0) {
		s->replies++;
		return 0;
	}
	log_event(LOG_ERR, "sftp_error", "op=reply reason=\"cannot encode reply\" errno=%s",
		  strerrorname_np(-r) ? strerrorname_np(-r) : "?");
	return sftp_status(s, id, SRV_FX_FAILURE, "reply too large");
}

enum err_log { ELOG_NONE, ELOG_DENIED, ELOG_ERROR };

struct err_map {
	int err;
	uint32_t code;
	const char *msg;
	enum err_log log;
};

/* One place for errno -> SFTP v3 status. Expected outcomes (no such file,
 * exists) are not logged; refusals are sftp_denied, the rest sftp_error.
 * EXDEV from openat2 means a path tried to leave the root: reported as a
 * permission problem, because that is what it is for the client. */
static const struct err_map err_maps[] = {
	{ ENOENT, SRV_FX_NO_SUCH_FILE, "no such file or directory", ELOG_NONE },
	{ ENOTDIR, SRV_FX_NO_SUCH_FILE, "not a directory", ELOG_NONE },
	{ EACCES, SRV_FX_PERMISSION_DENIED, "permission denied", ELOG_DENIED },
	{ EPERM, SRV_FX_PERMISSION_DENIED, "permission denied", ELOG_DENIED },
	{ EROFS, SRV_FX_PERMISSION_DENIED, "read-only file system", ELOG_DENIED },
	{ EXDEV, SRV_FX_PERMISSION_DENIED, "path leaves the upload directory", ELOG_DENIED },
	{ ELOOP, SRV_FX_PERMISSION_DENIED, "symbolic link not followed", ELOG_DENIED },
	{ EEXIST, SRV_FX_FAILURE, "file exists", ELOG_NONE },
	{ ENOTEMPTY, SRV_FX_FAILURE, "directory not empty", ELOG_NONE },
	{ EISDIR, SRV_FX_FAILURE, "is a directory", ELOG_NONE },
	{ ENOSPC, SRV_FX_FAILURE, "disk full", ELOG_ERROR },
	{ EDQUOT, SRV_FX_FAILURE, "quota exceeded", ELOG_DENIED },
	{ EFBIG, SRV_FX_FAILURE, "file too large", ELOG_ERROR },
	{ ENAMETOOLONG, SRV_FX_FAILURE, "name too long", ELOG_NONE },
	{ EMFILE, SRV_FX_FAILURE, "too many open files", ELOG_ERROR },
	{ ENFILE, SRV_FX_FAILURE, "too many open files", ELOG_ERROR },
	{ EBUSY, SRV_FX_FAILURE, "resource busy", ELOG_ERROR },
	{ EINVAL, SRV_FX_FAILURE, "invalid argument", ELOG_ERROR },
	{ EIO, SRV_FX_FAILURE, "i/o error", ELOG_ERROR },
	{ ENOSYS, SRV_FX_OP_UNSUPPORTED, "operation not supported", ELOG_NONE },
	{ EOPNOTSUPP, SRV_FX_OP_UNSUPPORTED, "operation not supported", ELOG_NONE },
	{ SFTP_E_RESERVED, SRV_FX_PERMISSION_DENIED, "name is reserved", ELOG_DENIED },
	{ SFTP_E_CTRLCHAR, SRV_FX_FAILURE, "name contains control characters", ELOG_DENIED },
	{ SFTP_E_ROOT, SRV_FX_PERMISSION_DENIED,
	  "not allowed on the upload directory itself", ELOG_DENIED },
	{ SFTP_E_NOTREG, SRV_FX_FAILURE, "not a regular file", ELOG_NONE },
	{ SFTP_E_HANDLE, SRV_FX_FAILURE, "invalid handle", ELOG_ERROR },
	{ SFTP_E_HKIND, SRV_FX_FAILURE, "handle not valid for this request", ELOG_ERROR },
	{ SFTP_E_PARTIAL, SRV_FX_FAILURE, "upload incomplete: an earlier write failed", ELOG_ERROR },
	{ SFTP_E_XDEV, SRV_FX_FAILURE, "cannot move across file systems", ELOG_ERROR },
	{ SFTP_E_NHANDLES, SRV_FX_FAILURE, "too many open handles", ELOG_DENIED },
	{ SFTP_E_OWNER, SRV_FX_PERMISSION_DENIED, "changing the owner is not allowed", ELOG_DENIED },
	{ SFTP_E_INPLACE, SRV_FX_PERMISSION_DENIED, "published files cannot be resized", ELOG_DENIED },
	{ SFTP_E_DEPTH, SRV_FX_FAILURE, "too many directory levels", ELOG_DENIED },
	{ SFTP_E_RECORD, SRV_FX_FAILURE, "upload could not be recorded; try again", ELOG_ERROR },
	{ SFTP_E_READONLY, SRV_FX_PERMISSION_DENIED, "receipts are read-only", ELOG_DENIED },
};

static const char *err_name(int err)
{
	const char *n;

	switch (err) {
	case SFTP_E_RESERVED: return "reserved_name";
	case SFTP_E_CTRLCHAR: return "control_character";
	case SFTP_E_ROOT: return "root_dir";
	case SFTP_E_NOTREG: return "not_regular";
	case SFTP_E_HANDLE: return "bad_handle";
	case SFTP_E_HKIND: return "handle_kind";
	case SFTP_E_PARTIAL: return "partial_upload";
	case SFTP_E_XDEV: return "EXDEV";
	case SFTP_E_NHANDLES: return "handle_limit";
	case SFTP_E_OWNER: return "owner_change";
	case SFTP_E_INPLACE: return "resize_published";
	case SFTP_E_DEPTH: return "too_deep";
	case SFTP_E_RECORD: return "not_recorded";
	case SFTP_E_READONLY: return "receipts_read_only";
	default:
		n = strerrorname_np(err);
		return n ? n : "unknown";
	}
}

/* qpath: the path already quoted for the log, or "-". */
static int fail_common(struct sftp_session *s, uint32_t id, int err,
		       const char *op, const char *qpath)
{
	const struct err_map *m = NULL;
	uint32_t code = SRV_FX_FAILURE;
	const char *msg = "operation failed";
	enum err_log lg = ELOG_ERROR;
	int e = err < 0 ? -err : err;

	for (size_t i = 0; i < ARRAY_LEN(err_maps); i++) {
		if (err_maps[i].err == e) {
			m = &err_maps[i];
			break;
		}
	}
	if (m) {
		code = m->code;
		msg = m->msg;
		lg = m->log;
	}
	if (lg != ELOG_NONE)
		log_event(lg == ELOG_DENIED ? LOG_NOTICE : LOG_WARNING,
			  lg == ELOG_DENIED ? "sftp_denied" : "sftp_error",
			  "op=%s path=%s reason=%s errno=%s", op, qpath,
			  log_q(msg), err_name(e));
	return sftp_status(s, id, code, msg);
}

int sftp_fail(struct sftp_session *s, uint32_t id, int err, const char *op,
	      const char *path)
{
	return fail_common(s, id, err, op, path ? log_q(path) : "-");
}

int sftp_fail_str(struct sftp_session *s, uint32_t id, int err, const char *op,
		  const struct srv_sftp_str *raw)
{
	return fail_common(s, id, err, op,
			   raw && raw->p ? log_qn((const char *)raw->p, raw->len) :
					   "-");
}

int sftp_flush(struct sftp_session *s)
{
	int r;

	if (s->out.len == 0)
		return 0;
	r = s->io->write(s->io->ctx, s->out.p, s->out.len);
	s->out.len = 0;
	return r < 0 ? r : 0;
}

/* ---- handle table ----------------------------------------------------- */

struct sftp_handle *sftp_handle_new(struct sftp_session *s, int *err)
{
	struct sftp_handle *h = NULL;
	int r;

	for (uint32_t i = 0; i < s->lim->max_handles; i++) {
		if (s->handles[i].kind == SFTP_H_FREE) {
			h = &s->handles[i];
			break;
		}
	}
	if (!h) {
		*err = -SFTP_E_NHANDLES;
		return NULL;
	}
	/* 128 random bits cannot collide in practice; the loop makes
	 * "cannot" literal. */
	do {
		r = util_random(h->id, sizeof(h->id));
		if (r < 0) {
			*err = r;
			return NULL;
		}
	} while (sftp_handle_get(s, &(struct srv_sftp_str){ h->id, SFTP_HANDLE_LEN }));
	h->fd = -1;
	h->parentfd = -1;
	h->dir = NULL;
	h->path = NULL;
	h->name = NULL;
	h->staging[0] = '\0';
	h->pflags = 0;
	h->size = 0;
	h->failed = false;
	h->times_set = false;
	h->readonly = false;
	return h;
}

struct sftp_handle *sftp_handle_get(struct sftp_session *s,
				    const struct srv_sftp_str *hs)
{
	if (hs->len != SFTP_HANDLE_LEN)
		return NULL;
	if (s->last && s->last->kind != SFTP_H_FREE &&
	    memcmp(s->last->id, hs->p, SFTP_HANDLE_LEN) == 0)
		return s->last;
	for (uint32_t i = 0; i < s->lim->max_handles; i++) {
		struct sftp_handle *h = &s->handles[i];

		if (h->kind != SFTP_H_FREE &&
		    memcmp(h->id, hs->p, SFTP_HANDLE_LEN) == 0) {
			s->last = h;
			return h;
		}
	}
	return NULL;
}

void sftp_handle_release(struct sftp_session *s, struct sftp_handle *h,
			 const char *why)
{
	if (!h || h->kind == SFTP_H_FREE)
		return;
	if (h->kind == SFTP_H_WRITE && h->staging[0] && h->parentfd >= 0) {
		/* Never cleanly closed: nothing is published. What arrived is
		 * kept for resume when the session just ended (the client may
		 * come back; sftpdrop-ingest removes it after
		 * partial_retention), unless a write failed (it may have a
		 * hole), the publish itself failed, or there is nothing. */
		struct stat st;
		bool keep = !h->failed && !s->lim->discard_partials &&
			    strcmp(why, "session_end") == 0 && fstat(h->fd, &st) == 0 &&
			    st.st_size > 0;

		if (keep) {
			log_event(LOG_INFO, "sftp_partial", "path=%s size=%lld",
				  log_q(h->path), (long long)st.st_size);
		} else {
			/* Unlinked before the fd (and its lock) goes, so that
			 * nobody resumes what is being removed. */
			if (unlinkat(h->parentfd, h->staging, 0) < 0)
				log_event(LOG_WARNING, "sftp_error",
					  "op=discard path=%s errno=%s", log_q(h->path),
					  err_name(errno));
			else
				sftp_quota_free(s, h->size);
			log_event(LOG_INFO, "sftp_discard", "path=%s reason=%s",
				  log_q(h->path), why);
		}
	}
	if (h->dir)
		closedir(h->dir);
	else if (h->fd >= 0)
		close(h->fd);
	if (h->parentfd >= 0)
		close(h->parentfd);
	free(h->path);
	explicit_bzero(h->id, sizeof(h->id));
	memset(h, 0, sizeof(*h));
	h->fd = -1;
	h->parentfd = -1;
	h->kind = SFTP_H_FREE;
	if (s->last == h)
		s->last = NULL;
}

/* ---- dispatch --------------------------------------------------------- */

/* Does the request name the receipts window: a path of it (args: the path
 * arguments of an extension), or a handle opened there? */
static bool touches_receipts(struct sftp_session *s, const struct srv_sftp_req *q,
			     const struct srv_sftp_str *args, size_t nargs)
{
	struct sftp_handle *h;

	if (sftp_path_in_receipts(&q->path) || sftp_path_in_receipts(&q->path2))
		return true;
	for (size_t i = 0; i < nargs; i++)
		if (sftp_path_in_receipts(&args[i]))
			return true;
	h = q->handle.p ? sftp_handle_get(s, &q->handle) : NULL;
	return h && h->readonly;
}

/* The single permission check. Returns true if the request may run, else
 * false and, where the table's message is not the whole story, *why. */
static bool permitted(struct sftp_session *s, enum sftp_perm perm,
		      const struct srv_sftp_req *q, const struct srv_sftp_str *args,
		      size_t nargs, const char **why)
{
	if (perm == PERM_OPEN)
		perm = (q->pflags & SRV_FXF_WRITE) ? PERM_WRITE : PERM_DOWNLOAD;
	switch (perm) {
	case PERM_META:
		return true;
	case PERM_WRITE:
		/* Uploading is what every drop box account is for; the
		 * receipts are the service's word and nobody changes them. */
		if (touches_receipts(s, q, args, nargs)) {
			*why = "receipts are read-only";
			return false;
		}
		return true;
	case PERM_DOWNLOAD:
		/* Receipts are readable even with downloads off: they are
		 * what the service says about the relation's own uploads. */
		return s->lim->allow_download || touches_receipts(s, q, args, nargs);
	case PERM_OPEN:
	case PERM_DENY:
	default:
		return false;
	}
}

static int deny(struct sftp_session *s, const struct srv_sftp_req *q,
		const char *op, enum sftp_perm perm, const char *msg)
{
	if (!msg)
		msg = (perm == PERM_DOWNLOAD || perm == PERM_OPEN) ?
			      "downloads are disabled" :
			      "permission denied";
	log_event(LOG_NOTICE, "sftp_denied", "op=%s path=%s reason=%s", op,
		  q->path.p ? log_qn((const char *)q->path.p, q->path.len) : "-",
		  log_q(msg));
	return sftp_status(s, q->id, SRV_FX_PERMISSION_DENIED, msg);
}

static int h_extended(struct sftp_session *s, const struct srv_sftp_req *q)
{
	const struct sftp_ext_op *x = NULL;
	struct srv_sftp_str args[4];
	const char *why = NULL;

	for (size_t i = 0; i < ARRAY_LEN(sftp_exts); i++) {
		if (strlen(sftp_exts[i].name) == q->ext_name.len &&
		    memcmp(sftp_exts[i].name, q->ext_name.p, q->ext_name.len) == 0) {
			x = &sftp_exts[i];
			break;
		}
	}
	if (!x) {
		log_event(LOG_DEBUG, "sftp_unsupported", "extension=%s",
			  log_qn((const char *)q->ext_name.p, q->ext_name.len));
		return sftp_status(s, q->id, SRV_FX_OP_UNSUPPORTED,
				   "unsupported extension");
	}
	/* Decoded first: the permission check looks at path arguments. */
	if (x->fn && srv_sftp_decode_strings(&q->data, x->nargs, args) < 0)
		return sftp_status(s, q->id, SRV_FX_BAD_MESSAGE,
				   "malformed request");
	if (!x->fn || !permitted(s, x->perm, q, args, x->nargs, &why))
		return deny(s, q, x->name, x->perm, why ? why : x->deny_msg);
	return x->fn(s, q, args);
}

static int do_init(struct sftp_session *s, const struct srv_sftp_req *q)
{
	struct srv_sftp_ext ext[ARRAY_LEN(sftp_exts)];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_LEN(sftp_exts); i++) {
		if (!sftp_exts[i].version || !sftp_exts[i].fn ||
		    sftp_exts[i].perm == PERM_DENY)
			continue;
		ext[n].name = sftp_exts[i].name;
		ext[n].data = sftp_exts[i].version;
		n++;
	}
	s->inited = true;
	log_event(LOG_INFO, "sftp_init", "client_version=%u", q->version);
	/* We speak 3 only; OpenSSH answers 3 whatever the client offers. */
	return srv_sftp_put_version(&s->out, 3, ext, n);
}

/* One request payload. Returns 0 to go on, or -errno to end the session. */
static int handle_request(struct sftp_session *s, const uint8_t *p, size_t len)
{
	struct srv_sftp_req q;
	const struct sftp_op *op = NULL;
	const char *why = NULL;
	unsigned before;
	uint8_t type;
	uint32_t id;
	int r;

	if (srv_sftp_decode(p, len, &q) < 0) {
		/* Answerable only if we know the id and the session is set
		 * up; otherwise the client would wait forever: end it. */
		if (!s->inited || srv_sftp_peek(p, len, &type, &id) < 0) {
			log_event(LOG_WARNING, "sftp_error",
				  "op=decode reason=\"malformed packet\"");
			return -EBADMSG;
		}
		log_event(LOG_WARNING, "sftp_error",
			  "op=decode type=%u reason=\"malformed request\"", type);
		return sftp_status(s, id, SRV_FX_BAD_MESSAGE, "malformed request");
	}
	if (!s->inited) {
		if (q.type != SRV_FXP_INIT) {
			log_event(LOG_WARNING, "sftp_error",
				  "op=init type=%u reason=\"request before INIT\"",
				  q.type);
			return -EPROTO;
		}
		return do_init(s, &q);
	}
	if (q.type == SRV_FXP_INIT) {
		log_event(LOG_WARNING, "sftp_error",
			  "op=init reason=\"second INIT\"");
		return -EPROTO;
	}
	for (size_t i = 0; i < ARRAY_LEN(sftp_ops); i++) {
		if (sftp_ops[i].type == q.type) {
			op = &sftp_ops[i];
			break;
		}
	}
	if (!op) {
		log_event(LOG_DEBUG, "sftp_unsupported", "type=%u", q.type);
		return sftp_status(s, q.id, SRV_FX_OP_UNSUPPORTED,
				   "unsupported request type");
	}
	if (!op->fn || !permitted(s, op->perm, &q, NULL, 0, &why))
		return deny(s, &q, op->name, op->perm, why ? why : op->deny_msg);
	before = s->replies;
	r = op->fn(s, &q);
	if (r < 0)
		return r;
	if (s->replies != before + 1) {
		/* A handler bug must not leave the client waiting (or
		 * confuse it with two answers); the latter cannot be undone. */
		log_event(LOG_ERR, "sftp_error", "op=%s reason=\"%u replies\"",
			  op->name, s->replies - before);
		if (s->replies == before)
			return sftp_status(s, q.id, SRV_FX_FAILURE,
					   "internal error");
		return -EPROTO;
	}
	return 0;
}

static int check_limits(const struct srv_sftp_limits *lim)
{
	if (!lim || lim->max_packet < SFTP_MIN_PACKET ||
	    lim->max_packet > SFTP_MAX_PACKET || lim->max_handles == 0 ||
	    lim->max_handles > SFTP_MAX_HANDLES)
		return -EINVAL;
	return 0;
}

/* The public session: the engine's state and the client's unprocessed
 * bytes, in[start, end). */
struct srv_sftp_session {
	struct sftp_session *s;
	uint8_t *in;
	size_t in_cap, start, end;
};

static void session_free(struct sftp_session *s)
{
	if (!s)
		return;
	if (s->handles)
		for (uint32_t i = 0; i < s->lim->max_handles; i++)
			sftp_handle_release(s, &s->handles[i], "session_end");
	srv_sftp_buf_free(&s->out);
	free(s->handles);
	free(s);
}

int srv_sftp_open(int rootfd, const struct srv_sftp_limits *lim,
		  const struct srv_sftp_io *io, struct srv_sftp_session **out)
{
	struct srv_sftp_session *ss = NULL;
	struct sftp_session *s = NULL;
	int r;

	if (rootfd < 0 || !io || !io->write || !out)
		return -EINVAL;
	r = check_limits(lim);
	if (r < 0)
		return r;
	ss = calloc(1, sizeof(*ss));
	s = calloc(1, sizeof(*s));
	if (!ss || !s) {
		r = -ENOMEM;
		goto fail;
	}
	s->rootfd = rootfd;
	s->lim = lim;
	s->io = io;
	s->max_read = lim->max_packet - SFTP_DATA_OVERHEAD;
	s->max_write = lim->max_packet - SFTP_DATA_OVERHEAD;
	s->handles = calloc(lim->max_handles, sizeof(*s->handles));
	/* A frame never straddles more than max_packet + 4 bytes, and there
	 * is always a full chunk of room left for the next read. */
	ss->in_cap = (size_t)lim->max_packet + SRV_SFTP_FRAME_HDR + SFTP_READ_CHUNK;
	ss->in = malloc(ss->in_cap);
	if (!s->handles || !ss->in) {
		r = -ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < lim->max_handles; i++) {
		s->handles[i].fd = -1;
		s->handles[i].parentfd = -1;
	}
	/* One reply is at most a frame (DATA) or a 64 KiB NAME batch; plus
	 * what is queued below the flush mark. */
	r = srv_sftp_buf_init(&s->out, SFTP_OUT_FLUSH + 64 * 1024,
			      SFTP_OUT_FLUSH + (size_t)lim->max_packet +
				      SRV_SFTP_FRAME_HDR + 128 * 1024);
	if (r < 0)
		goto fail;
	/* Longnames use local time; load the zone before any lock-down
	 * hides /etc/localtime from us. */
	tzset();
	s->usage = io->usage ? io->usage : &s->own_usage;
	if (lim->quota && !s->usage->known) {
		r = sftp_quota_scan(rootfd, lim->max_depth, &s->usage->used);
		if (r < 0) {
			log_event(LOG_ERR, "sftp_error", "op=quota reason=\"cannot count usage\" errno=%s",
				  err_name(-r));
			goto fail;
		}
		log_event(LOG_DEBUG, "sftp_quota", "used=%llu quota=%llu",
			  (unsigned long long)s->usage->used, (unsigned long long)lim->quota);
		s->usage->known = true;
	}
	ss->s = s;
	*out = ss;
	return 0;
fail:
	session_free(s);
	if (ss)
		free(ss->in);
	free(ss);
	return r;
}

void srv_sftp_inbuf(struct srv_sftp_session *ss, void **buf, size_t *room)
{
	/* Move a partial frame to the front only when the tail gets short:
	 * then a whole frame and a full chunk fit again. */
	if (ss->start == ss->end) {
		ss->start = ss->end = 0;
	} else if (ss->in_cap - ss->end < SFTP_READ_CHUNK) {
		memmove(ss->in, ss->in + ss->start, ss->end - ss->start);
		ss->end -= ss->start;
		ss->start = 0;
	}
	*buf = ss->in + ss->end;
	*room = ss->in_cap - ss->end;
}

int srv_sftp_input(struct srv_sftp_session *ss, size_t n)
{
	struct sftp_session *s = ss->s;
	size_t flen = 0;
	int r;

	if (n > ss->in_cap - ss->end)
		return -EIO;
	ss->end += n;
	for (;;) {
		r = srv_sftp_frame(ss->in + ss->start, ss->end - ss->start,
				   s->lim->max_packet, &flen);
		if (r == 0)
			break;
		if (r < 0) {
			log_event(LOG_WARNING, "sftp_error", "op=frame reason=%s",
				  r == -EMSGSIZE ? "\"packet too large\"" : "\"bad length\"");
			return r;
		}
		r = handle_request(s, ss->in + ss->start + SRV_SFTP_FRAME_HDR,
				   flen - SRV_SFTP_FRAME_HDR);
		ss->start += flen;
		if (r < 0)
			return r;
		if (s->out.len >= SFTP_OUT_FLUSH) {
			r = sftp_flush(s);
			if (r < 0)
				return r;
		}
	}
	/* Answer everything we have before waiting for the client. */
	return sftp_flush(s);
}

int srv_sftp_close(struct srv_sftp_session *ss, bool eof)
{
	int r = 0;

	if (!ss)
		return 0;
	if (eof && ss->start != ss->end)
		r = -ECONNABORTED;
	session_free(ss->s);
	free(ss->in);
	free(ss);
	return r;
}

int srv_sftp_serve(int rootfd, const struct srv_sftp_limits *lim,
		   const struct srv_sftp_io *io)
{
	struct srv_sftp_session *ss = NULL;
	int r;

	if (!io || !io->read)
		return -EINVAL;
	r = srv_sftp_open(rootfd, lim, io, &ss);
	if (r < 0)
		return r;
	for (;;) {
		void *buf;
		size_t room;
		ssize_t n;

		srv_sftp_inbuf(ss, &buf, &room);
		n = io->read(io->ctx, buf, room);
		if (n < 0) {
			srv_sftp_close(ss, false);
			return (int)n;
		}
		if (n == 0)
			return srv_sftp_close(ss, true);
		r = srv_sftp_input(ss, (size_t)n);
		if (r < 0) {
			srv_sftp_close(ss, false);
			return r;
		}
	}
}
