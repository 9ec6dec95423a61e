/* The monitor protocol: the fixed set of questions the network-facing worker
 * may ask its monitor, as bounded messages over a SOCK_SEQPACKET socketpair.
 * Anything outside this table ends the connection. */
#ifndef SFTPDROP_MONPROTO_H
#define SFTPDROP_MONPROTO_H

#include <stddef.h>
#include <stdint.h>

/* A reply with status MON_ST_CONTINUE carries the next keyboard-interactive
 * round: str instruction, str prompt, u8 number of prompts (0 or 1), u8 echo. */
enum mon_type {
	MON_AUTH_PASSWORD = 1, /* str login, str password          -> u8 status [round] */
	MON_AUTH_ANSWER = 2,   /* u8 answered, str answer          -> u8 status [round] */
	MON_OPEN_ROOT = 3,     /* -                 -> u8 status, str relation, str user + fd */
	MON_UPLOAD = 4,        /* str name, u64 size, u64 dev, u64 ino -> u8 status */
	MON_UPLOAD_ABORT = 5,  /* u64 dev, u64 ino: the announced upload was not published */
	MON_AUTH_PUBKEY = 6,   /* str login, str key type, str base64 key, u8 signature_verified
				* -> u8 status (OK: key acceptable, or logged in if verified) */
};

enum mon_status {
	MON_ST_CONTINUE = 0,     /* go on with the round that follows */
	MON_ST_OK = 1,           /* authenticated / done */
	MON_ST_DENIED = 2,       /* refused; the client may try again */
	MON_ST_DENIED_FINAL = 3, /* refused; disconnect */
};

/* Largest message either side sends: a login, a password and framing. */
#define MON_MSG_MAX 8192

struct mon_buf {
	uint8_t data[MON_MSG_MAX];
	size_t len;
	size_t pos;
};

/* Start a message of the given type. */
void mon_buf_init(struct mon_buf *b, uint8_t type);
int mon_put_u8(struct mon_buf *b, uint8_t v);
int mon_put_u64(struct mon_buf *b, uint64_t v);
/* A string: u32 length, bytes, and a NUL so that readers get a C string. */
int mon_put_str(struct mon_buf *b, const char *s, size_t len);
int mon_put_cstr(struct mon_buf *b, const char *s);

int mon_get_u8(struct mon_buf *b, uint8_t *v);
int mon_get_u64(struct mon_buf *b, uint64_t *v);
/* *s points into b (NUL-terminated); strings with embedded NULs are refused. */
int mon_get_str(struct mon_buf *b, const char **s, size_t *len);
/* All bytes consumed? -EBADMSG if not. */
int mon_get_end(const struct mon_buf *b);

/* Send one message, with passfd (>= 0) attached by SCM_RIGHTS. 0 or -errno. */
int mon_send(int sock, const struct mon_buf *b, int passfd);
/* Receive one message; if passfd is not NULL, an attached fd (or -1). The
 * message type is read first (b->pos = 1). 0, -EPIPE on EOF, or -errno. */
int mon_recv(int sock, struct mon_buf *b, int *passfd);
/* Wipe a buffer that carried a secret. */
void mon_buf_wipe(struct mon_buf *b);

#endif
