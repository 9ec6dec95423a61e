/* SFTP v3 wire codec (draft-ietf-secsh-filexfer-02): framing of the byte
 * stream, decoding of client requests and encoding of server replies. Pure
 * functions over caller buffers: no I/O, no logging, no exit, every read
 * bounds-checked, so the decoder can be fuzzed on its own. */
#ifndef SFTPDROP_SFTP_CODEC_H
#define SFTPDROP_SFTP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Own names instead of libssh's SSH_FXP_* so both headers can coexist. */
enum srv_fxp_type {
	SRV_FXP_INIT = 1,
	SRV_FXP_VERSION = 2,
	SRV_FXP_OPEN = 3,
	SRV_FXP_CLOSE = 4,
	SRV_FXP_READ = 5,
	SRV_FXP_WRITE = 6,
	SRV_FXP_LSTAT = 7,
	SRV_FXP_FSTAT = 8,
	SRV_FXP_SETSTAT = 9,
	SRV_FXP_FSETSTAT = 10,
	SRV_FXP_OPENDIR = 11,
	SRV_FXP_READDIR = 12,
	SRV_FXP_REMOVE = 13,
	SRV_FXP_MKDIR = 14,
	SRV_FXP_RMDIR = 15,
	SRV_FXP_REALPATH = 16,
	SRV_FXP_STAT = 17,
	SRV_FXP_RENAME = 18,
	SRV_FXP_READLINK = 19,
	SRV_FXP_SYMLINK = 20,
	SRV_FXP_STATUS = 101,
	SRV_FXP_HANDLE = 102,
	SRV_FXP_DATA = 103,
	SRV_FXP_NAME = 104,
	SRV_FXP_ATTRS = 105,
	SRV_FXP_EXTENDED = 200,
	SRV_FXP_EXTENDED_REPLY = 201,
};

/* Status codes: version 3 defines 0..8 only. */
enum srv_fx_status {
	SRV_FX_OK = 0,
	SRV_FX_EOF = 1,
	SRV_FX_NO_SUCH_FILE = 2,
	SRV_FX_PERMISSION_DENIED = 3,
	SRV_FX_FAILURE = 4,
	SRV_FX_BAD_MESSAGE = 5,
	SRV_FX_NO_CONNECTION = 6,
	SRV_FX_CONNECTION_LOST = 7,
	SRV_FX_OP_UNSUPPORTED = 8,
};

/* OPEN pflags */
#define SRV_FXF_READ 0x01u
#define SRV_FXF_WRITE 0x02u
#define SRV_FXF_APPEND 0x04u
#define SRV_FXF_CREAT 0x08u
#define SRV_FXF_TRUNC 0x10u
#define SRV_FXF_EXCL 0x20u

/* ATTRS flags */
#define SRV_ATTR_SIZE 0x00000001u
#define SRV_ATTR_UIDGID 0x00000002u
#define SRV_ATTR_PERMISSIONS 0x00000004u
#define SRV_ATTR_ACMODTIME 0x00000008u
#define SRV_ATTR_EXTENDED 0x80000000u

/* Extended attribute pairs accepted in one ATTRS: no client we know sends
 * any; the cap keeps a hostile count from costing more than a quick reject. */
#define SRV_SFTP_ATTR_EXT_MAX 64
/* A frame's length field must at least hold the type byte. */
#define SRV_SFTP_FRAME_HDR 4

/* A byte string inside a decoded buffer: NOT NUL-terminated, may contain
 * any byte; valid as long as the buffer it points into. */
struct srv_sftp_str {
	const uint8_t *p;
	uint32_t len;
};

struct srv_sftp_attrs {
	uint32_t flags; /* SRV_ATTR_*; only fields whose flag is set are valid */
	uint64_t size;
	uint32_t uid, gid;
	uint32_t perm;
	uint32_t atime, mtime;
	uint32_t ext_count; /* extended pairs skipped (decode only) */
};

/* One decoded request. Which fields are filled depends on type:
 *   INIT: version            OPEN: path, pflags, attrs
 *   CLOSE/FSTAT/READDIR: handle
 *   READ: handle, offset, len      WRITE: handle, offset, data
 *   LSTAT/STAT/OPENDIR/REMOVE/RMDIR/REALPATH/READLINK: path
 *   SETSTAT/MKDIR: path, attrs     FSETSTAT: handle, attrs
 *   RENAME: path (old), path2 (new)  SYMLINK: path, path2 (as sent)
 *   EXTENDED: ext_name, data (raw remainder, see srv_sftp_decode_strings)
 *   anything else: type and id only. */
struct srv_sftp_req {
	uint8_t type;
	uint32_t id;
	uint32_t version;
	struct srv_sftp_str path, path2, handle, data, ext_name;
	uint64_t offset;
	uint32_t len;
	uint32_t pflags;
	struct srv_sftp_attrs attrs;
};

/* Framing. buf holds len bytes received so far, starting at a frame
 * boundary. Returns 0: need more bytes; 1: a complete frame of *frame_len
 * bytes (4-byte length + payload) starts at buf; -EMSGSIZE: the length field
 * exceeds max_packet; -EBADMSG: the length field is 0. Errors end the
 * session because the stream cannot be resynchronised. */
int srv_sftp_frame(const uint8_t *buf, size_t len, uint32_t max_packet,
		   size_t *frame_len);

/* Decode one request payload (the bytes after the length field: type byte
 * first). Strings in *req point into buf. Trailing bytes after the known
 * fields are ignored, as OpenSSH does. Returns 0, or -EBADMSG for a
 * truncated or inconsistent request; *req is written only on success. */
int srv_sftp_decode(const uint8_t *buf, size_t len, struct srv_sftp_req *req);

/* Type and request id of a payload that srv_sftp_decode refused, so that
 * it can be answered with BAD_MESSAGE. 0, or -EBADMSG if there is no id
 * (payload shorter than 5 bytes, or INIT, which carries a version). */
int srv_sftp_peek(const uint8_t *buf, size_t len, uint8_t *type, uint32_t *id);

/* Decode exactly n strings from the start of an EXTENDED request's raw
 * remainder into out[0..n). 0 or -EBADMSG; out written only on success. */
int srv_sftp_decode_strings(const struct srv_sftp_str *data, size_t n,
			    struct srv_sftp_str *out);

/* Output buffer: either growable (heap, up to max) or fixed (caller memory).
 * Each srv_sftp_put_* appends one complete frame, or nothing on error. */
struct srv_sftp_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max;
	bool owned;
	int err; /* sticky error inside one frame under construction */
};

/* Growable buffer, initial capacity initial, never above max. 0 or -ENOMEM.
 * Free with srv_sftp_buf_free. */
int srv_sftp_buf_init(struct srv_sftp_buf *b, size_t initial, size_t max);
/* Fixed buffer over caller memory (not freed). */
void srv_sftp_buf_fixed(struct srv_sftp_buf *b, void *mem, size_t size);
/* Frees a growable buffer's memory; accepts a zeroed or fixed buffer. */
void srv_sftp_buf_free(struct srv_sftp_buf *b);
/* Drop the first n bytes (after they were sent). */
void srv_sftp_buf_consume(struct srv_sftp_buf *b, size_t n);

/* Low-level frame construction, for replies without a dedicated encoder
 * (EXTENDED_REPLY payloads). begin writes length placeholder, type and id
 * (omitted when has_id is false, for VERSION) and returns the frame start in
 * *mark; end patches the length and returns 0, or the first error of the
 * frame (-ENOSPC) after removing the partial frame. */
void srv_sftp_begin(struct srv_sftp_buf *b, uint8_t type, bool has_id,
		    uint32_t id, size_t *mark);
void srv_sftp_add_u32(struct srv_sftp_buf *b, uint32_t v);
void srv_sftp_add_u64(struct srv_sftp_buf *b, uint64_t v);
void srv_sftp_add_string(struct srv_sftp_buf *b, const void *s, size_t len);
void srv_sftp_add_attrs(struct srv_sftp_buf *b, const struct srv_sftp_attrs *a);
/* Reserve n bytes and return a pointer to them (NULL on error); valid until
 * the next add. */
uint8_t *srv_sftp_add_space(struct srv_sftp_buf *b, size_t n);
int srv_sftp_end(struct srv_sftp_buf *b, size_t mark);
/* Drop the frame under construction that begins at mark. */
void srv_sftp_cancel(struct srv_sftp_buf *b, size_t mark);

struct srv_sftp_ext {
	const char *name;
	const char *data;
};

/* Complete replies. Strings are copied. 0 or -ENOSPC/-ENOMEM. */
int srv_sftp_put_version(struct srv_sftp_buf *b, uint32_t version,
			 const struct srv_sftp_ext *ext, size_t n_ext);
int srv_sftp_put_status(struct srv_sftp_buf *b, uint32_t id, uint32_t code,
			const char *msg);
int srv_sftp_put_handle(struct srv_sftp_buf *b, uint32_t id, const void *h,
			size_t len);
int srv_sftp_put_data(struct srv_sftp_buf *b, uint32_t id, const void *data,
		      size_t len);
int srv_sftp_put_attrs(struct srv_sftp_buf *b, uint32_t id,
		       const struct srv_sftp_attrs *a);
int srv_sftp_put_ext_reply(struct srv_sftp_buf *b, uint32_t id,
			   const void *payload, size_t len);
/* NAME with a single entry (REALPATH). */
int srv_sftp_put_name1(struct srv_sftp_buf *b, uint32_t id, const char *name,
		       const char *longname, const struct srv_sftp_attrs *a);

/* DATA without a copy: reserve room for up to max bytes, let the caller
 * pread into *dst, then commit the n bytes really read (n <= max). */
int srv_sftp_data_begin(struct srv_sftp_buf *b, uint32_t id, size_t max,
			uint8_t **dst, size_t *mark);
int srv_sftp_data_commit(struct srv_sftp_buf *b, size_t mark, size_t n);

/* NAME with many entries (READDIR): begin, add entries, end. The count is
 * patched in by end. add fails (-ENOSPC) without changing the buffer when
 * the entry does not fit, so the caller can stop the batch there. */
struct srv_sftp_names {
	size_t mark;
	uint32_t count;
};
void srv_sftp_names_begin(struct srv_sftp_buf *b, uint32_t id,
			  struct srv_sftp_names *nm);
int srv_sftp_names_add(struct srv_sftp_buf *b, struct srv_sftp_names *nm,
		       const char *name, size_t name_len, const char *longname,
		       const struct srv_sftp_attrs *a);
int srv_sftp_names_end(struct srv_sftp_buf *b, const struct srv_sftp_names *nm);

#endif
