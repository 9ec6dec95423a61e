/* Private to the SFTP engine: the session state shared by the dispatcher
 * (sftp_server.c: loop, dispatch table, permission check, handle table,
 * replies) and the request handlers (sftp_handlers.c). Not for other code. */
#ifndef SFTPDROP_SFTP_HANDLERS_H
#define SFTPDROP_SFTP_HANDLERS_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "sftp.h"
#include "sftp_codec.h"
#include "sftp_jail.h"
#include "staging.h"

/* Opaque handle bytes: random, so a handle cannot be guessed or reused
 * across open/close cycles the way libssh's slot numbers can. */
#define SFTP_HANDLE_LEN 16
/* Staging names carry the target's name (staging.h): NAME_MAX + NUL. */
#define SFTP_STAGING_NAME_MAX STAGING_NAME_MAX

/* Engine-private error codes, carried as negative values like errno so that
 * one mapping turns every failure into a status; above any real errno. */
#define SFTP_E_RESERVED 4096 /* a client named a staging file */
#define SFTP_E_CTRLCHAR 4097 /* control character in a name */
#define SFTP_E_ROOT 4098     /* name operation on the upload dir itself */
#define SFTP_E_NOTREG 4099   /* not a regular file */
#define SFTP_E_HANDLE 4100   /* unknown handle */
#define SFTP_E_HKIND 4101    /* handle of the wrong kind for the request */
#define SFTP_E_PARTIAL 4102  /* CLOSE after a failed WRITE: not published */
#define SFTP_E_XDEV 4103     /* rename across file systems */
#define SFTP_E_NHANDLES 4104 /* handle table full */
#define SFTP_E_OWNER 4105    /* SETSTAT would change the owner */
#define SFTP_E_INPLACE 4106  /* SETSTAT size on a published file */
#define SFTP_E_DEPTH 4107    /* too many directory levels */
#define SFTP_E_RECORD 4108   /* the upload could not be put on record */
#define SFTP_E_READONLY 4120 /* a change in the receipts window */

enum sftp_hkind {
	SFTP_H_FREE = 0,
	SFTP_H_READ,  /* download of a published file */
	SFTP_H_WRITE, /* upload into a staging file */
	SFTP_H_DIR,
};

struct sftp_handle {
	enum sftp_hkind kind;
	uint8_t id[SFTP_HANDLE_LEN];
	int fd;       /* file (the staging file for uploads); -1 if none */
	int parentfd; /* uploads: O_PATH fd of the target's directory */
	DIR *dir;     /* directory handles */
	char *path;   /* normalised client path, for logs and publish */
	const char *name; /* uploads: last component, points into path */
	char staging[SFTP_STAGING_NAME_MAX]; /* "" once renamed or removed */
	uint32_t pflags;
	uint64_t size;  /* uploads: apparent size of the staging file, for the quota */
	bool failed;    /* a WRITE failed: the upload must not be published */
	bool times_set; /* FSETSTAT times, re-applied just before publish */
	bool readonly;  /* opened in the receipts window: never changed */
	struct timespec times[2];
};

struct sftp_session {
	int rootfd;
	const struct srv_sftp_limits *lim;
	const struct srv_sftp_io *io;
	struct srv_sftp_buf out;
	struct sftp_handle *handles; /* lim->max_handles slots */
	struct sftp_handle *last;    /* most recently used, checked first */
	uint32_t max_read;           /* largest DATA payload we send */
	uint32_t max_write;          /* advertised WRITE payload size */
	unsigned replies;            /* replies queued, to check "exactly one" */
	struct srv_sftp_usage *usage; /* io->usage, or own_usage */
	struct srv_sftp_usage own_usage;
	bool inited;
	/* Scratch space for normalised client paths (two for RENAME). */
	char path_a[SRV_JAIL_PATH_MAX];
	char path_b[SRV_JAIL_PATH_MAX];
};

/* ---- provided by sftp_server.c ---- */

/* Queue a STATUS reply. 0 or a fatal -errno (output buffer). */
int sftp_status(struct sftp_session *s, uint32_t id, uint32_t code,
		const char *msg);
/* Queue the STATUS that describes err (a negative errno or -SFTP_E_*) and
 * log it as sftp_denied or sftp_error where it is worth a line. op and
 * path (may be NULL) describe the request for the log. */
int sftp_fail(struct sftp_session *s, uint32_t id, int err, const char *op,
	      const char *path);
/* Same for a raw client string (not NUL-terminated, any bytes). */
int sftp_fail_str(struct sftp_session *s, uint32_t id, int err, const char *op,
		  const struct srv_sftp_str *raw);
/* Account for a reply a handler encoded itself with srv_sftp_put_* (r is
 * its result); an encoding error becomes a FAILURE status instead. */
int sftp_sent(struct sftp_session *s, uint32_t id, int r);
/* Write everything queued to the client. 0 or -errno (fatal). */
int sftp_flush(struct sftp_session *s);

/* A free handle slot with a fresh random id, still SFTP_H_FREE: the caller
 * sets kind once the open succeeded. NULL when the table is full (or the
 * RNG failed, *err says which). */
struct sftp_handle *sftp_handle_new(struct sftp_session *s, int *err);
/* The open handle named by the client's handle string, or NULL. */
struct sftp_handle *sftp_handle_get(struct sftp_session *s,
				    const struct srv_sftp_str *h);
/* Close a handle's fds, remove an unpublished staging file, free the slot. */
void sftp_handle_release(struct sftp_session *s, struct sftp_handle *h,
			 const char *why);

/* Quota accounting (sftp_handlers.c). Grow an upload to end bytes: 0, or
 * -EDQUOT when that would take the relation past lim->quota (nothing is
 * counted then). */
int sftp_quota_grow(struct sftp_session *s, struct sftp_handle *h, uint64_t end);
/* n bytes left the tree (removed, truncated, replaced). */
void sftp_quota_free(struct sftp_session *s, uint64_t n);
/* Sum of the apparent sizes of the regular files below rootfd, at most
 * max_depth levels down, the receipts directory left out. 0 or -errno. */
int sftp_quota_scan(int rootfd, uint32_t max_depth, uint64_t *used);

/* Does the raw client path lead into the receipts window (/.receipts, which
 * is SD_RECEIPTS_DIR on disk)? For the permission check; in sftp_handlers.c. */
bool sftp_path_in_receipts(const struct srv_sftp_str *raw);

/* ---- handlers, in sftp_handlers.c; each queues exactly one reply and
 * returns 0, or a negative errno only when the session must end ---- */
int sftp_h_open(struct sftp_session *s, const struct srv_sftp_req *q);
int sftp_h_close(struct sftp_session *s, const struct srv_sftp_req *q);
int sftp_h_read(struct sftp_session *s, const struct srv_sftp_req *q);
int sftp_h_write(struct sftp_session *s, const struct srv_sftp_req *q);
int sftp_h_lstat(struct sftp_session *s, const struct srv_sftp_req *q);
int sftp_h_fstat(struct sftp_session *s, const struct srv_sftp_req *q);
int sftp_h_stat(struct sftp_session *s, const struct srv_sftp_req *q);
int sftp_h_setstat(struct sftp_session *s, const struct srv_sftp_req *q);
int sftp_h_fsetstat(struct sftp_session *s, const struct srv_sftp_req *q);
int sftp_h_opendir(struct sftp_session *s, const struct srv_sftp_req *q);
int sftp_h_readdir(struct sftp_session *s, const struct srv_sftp_req *q);
int sftp_h_remove(struct sftp_session *s, const struct srv_sftp_req *q);
int sftp_h_mkdir(struct sftp_session *s, const struct srv_sftp_req *q);
int sftp_h_rmdir(struct sftp_session *s, const struct srv_sftp_req *q);
int sftp_h_realpath(struct sftp_session *s, const struct srv_sftp_req *q);
int sftp_h_rename(struct sftp_session *s, const struct srv_sftp_req *q);
/* Extensions: args are the strings decoded from the request remainder. */
int sftp_x_posix_rename(struct sftp_session *s, const struct srv_sftp_req *q,
			const struct srv_sftp_str *args);
int sftp_x_statvfs(struct sftp_session *s, const struct srv_sftp_req *q,
		   const struct srv_sftp_str *args);
int sftp_x_fstatvfs(struct sftp_session *s, const struct srv_sftp_req *q,
		    const struct srv_sftp_str *args);
int sftp_x_fsync(struct sftp_session *s, const struct srv_sftp_req *q,
		 const struct srv_sftp_str *args);
int sftp_x_limits(struct sftp_session *s, const struct srv_sftp_req *q,
		  const struct srv_sftp_str *args);

#endif
