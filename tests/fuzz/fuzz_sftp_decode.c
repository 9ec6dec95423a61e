/* libFuzzer target for the SFTP wire codec: the input is a client byte
 * stream, cut into frames exactly as the engine does, each frame decoded,
 * every decoded string touched (so ASan checks its bounds), extension
 * arguments and client paths run through their own parsers, and replies
 * re-encoded into a small fixed buffer. Nothing here may crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sftp_codec.h"
#include "sftp_jail.h"

/* The engine's default: frames above it end the session. */
#define FUZZ_MAX_PACKET (256u * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned fuzz_sink;

static void touch(const struct srv_sftp_str *s)
{
	unsigned acc = 0;

	for (uint32_t i = 0; i < s->len; i++)
		acc += s->p[i];
	fuzz_sink += acc;
}

static void exercise(const struct srv_sftp_req *q)
{
	static char path[SRV_JAIL_PATH_MAX];
	static uint8_t out[4096];
	struct srv_sftp_str args[4];
	struct srv_sftp_buf b;
	struct srv_sftp_names nm;

	touch(&q->path);
	touch(&q->path2);
	touch(&q->handle);
	touch(&q->data);
	touch(&q->ext_name);
	if (q->path.p && srv_jail_clean(q->path.p, q->path.len, path, sizeof(path)) >= 0)
		fuzz_sink += (unsigned)strlen(path);
	if (q->path2.p)
		(void)srv_jail_normalize((const char *)q->path2.p, q->path2.len, path,
					 sizeof(path));
	if (q->type == SRV_FXP_EXTENDED) {
		for (size_t n = 0; n <= 4; n++) {
			if (srv_sftp_decode_strings(&q->data, n, args) < 0)
				break;
			for (size_t i = 0; i < n; i++)
				touch(&args[i]);
		}
	}
	/* Replies built from hostile values must stay inside the buffer. */
	srv_sftp_buf_fixed(&b, out, sizeof(out));
	(void)srv_sftp_put_attrs(&b, q->id, &q->attrs);
	(void)srv_sftp_put_handle(&b, q->id, q->handle.p, q->handle.len);
	(void)srv_sftp_put_data(&b, q->id, q->data.p, q->data.len);
	srv_sftp_names_begin(&b, q->id, &nm);
	if (q->path.p)
		(void)srv_sftp_names_add(&b, &nm, (const char *)q->path.p, q->path.len,
					 "-", &q->attrs);
	(void)srv_sftp_names_end(&b, &nm);
	fuzz_sink += (unsigned)b.len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	while (pos < size) {
		struct srv_sftp_req q;
		size_t flen = 0;
		uint8_t type;
		uint32_t id;
		int r = srv_sftp_frame(data + pos, size - pos, FUZZ_MAX_PACKET, &flen);

		if (r <= 0)
			break; /* need more, or a session-ending frame */
		if (flen < SRV_SFTP_FRAME_HDR + 1 || flen > size - pos)
			__builtin_trap(); /* framing contract broken */
		r = srv_sftp_decode(data + pos + SRV_SFTP_FRAME_HDR,
				    flen - SRV_SFTP_FRAME_HDR, &q);
		if (r == 0)
			exercise(&q);
		else if (srv_sftp_peek(data + pos + SRV_SFTP_FRAME_HDR,
				       flen - SRV_SFTP_FRAME_HDR, &type, &id) == 0)
			fuzz_sink += id + type;
		pos += flen;
	}
	return 0;
}
