/* The SFTP v3 engine: serves one SFTP session over an abstract byte stream,
 * confined beneath the relation directory's fd. It knows nothing of libssh or
 * of the monitor: the caller supplies I/O and a publish notification. */
#ifndef SFTPDROP_SFTP_H
#define SFTPDROP_SFTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct srv_sftp_limits {
	uint32_t max_packet;  /* largest SFTP frame (length field) accepted */
	uint32_t max_handles; /* open file + directory handles per session */
	bool allow_download;  /* OPEN for read allowed */
	bool sync_on_close;   /* fsync data + directory before CLOSE is answered */
	uint64_t max_file_size; /* no upload grows beyond this (holes included) */
	/* Bytes the relation may keep below the root, staging files included
	 * (apparent sizes, holes count); 0: no quota. Usage is counted by a
	 * walk at session start (see srv_sftp_io.usage) plus the changes
	 * made through the session. */
	uint64_t quota;
	uint32_t max_path;    /* longest path, in bytes after normalisation */
	uint32_t max_depth;   /* most path components below the root ("/a/f" is 2) */
	/* Remove the staging file of an upload that was never cleanly closed
	 * at once; by default it is kept for resume (sftpdrop-ingest removes
	 * it after partial_retention). */
	bool discard_partials;
};

/* What the relation keeps below the root, for the quota. */
struct srv_sftp_usage {
	uint64_t used; /* bytes (apparent sizes) */
	bool known;    /* counted: the next session need not walk the tree */
};

struct srv_sftp_io {
	void *ctx;
	/* Read up to len bytes from the client (srv_sftp_serve only). >0:
	 * bytes read; 0: clean EOF;
	 * <0: -errno (e.g. -ETIMEDOUT on idle timeout): the session ends. */
	ssize_t (*read)(void *ctx, void *buf, size_t len);
	/* Write all len bytes to the client. 0 or -errno. */
	int (*write)(void *ctx, const void *buf, size_t len);
	/* A clean CLOSE is about to publish a file (rename its staging file onto
	 * the final name). Called before the rename, so that the upload is on
	 * record before anyone can see the name. path is relative to the root,
	 * without a leading '/'. 0, or -errno: the upload is then not published. */
	int (*published)(void *ctx, const char *path, uint64_t size, uint64_t dev,
			 uint64_t ino);
	/* Optional: published() only sent the question, and this waits for
	 * its answer (0 or -errno, as published() would have returned), so
	 * that the data sync of a durable CLOSE runs while it is answered.
	 * Called once after each published() that returned 0. A published()
	 * that only sends needs this, or its answer stays unread. */
	int (*published_wait)(void *ctx);
	/* The publish announced by published() failed after all. */
	void (*unpublished)(void *ctx, uint64_t dev, uint64_t ino);
	/* Usage shared by the sessions of one connection (several channels),
	 * so that together they stay within the quota; the caller owns it and
	 * zeroes it once. NULL: each session counts its own. */
	struct srv_sftp_usage *usage;
};

/* One SFTP session driven by its caller, for several sessions in one
 * event loop: open, then for each batch of client bytes inbuf + input,
 * then close. Replies go out through io->write (io->read is not used). */
struct srv_sftp_session;

/* Start a session on rootfd (borrowed; lim and io must outlive it).
 * 0 and *out (free it with srv_sftp_close), or -errno. */
int srv_sftp_open(int rootfd, const struct srv_sftp_limits *lim,
		  const struct srv_sftp_io *io, struct srv_sftp_session **out);
/* Where the next client bytes go: *buf, at most *room (> 0) bytes. */
void srv_sftp_inbuf(struct srv_sftp_session *s, void **buf, size_t *room);
/* n bytes were put at *buf: every complete request in them is answered.
 * 0, or -errno: the session must end (srv_sftp_close). */
int srv_sftp_input(struct srv_sftp_session *s, size_t n);
/* End the session: release its handles (uploads never cleanly closed are
 * not published; what arrived is kept for resume) and free it. eof: the
 * client ended cleanly; then -ECONNABORTED if it left half a request,
 * else 0. NULL-safe. */
int srv_sftp_close(struct srv_sftp_session *s, bool eof);

/* Serve SFTP until EOF or a fatal error, reading with io->read. rootfd is an O_DIRECTORY fd of the
 * relation directory; it is borrowed (not closed). Staging files of uploads
 * that were never cleanly closed are removed before return.
 * Returns 0 on clean EOF, -errno otherwise. */
int srv_sftp_serve(int rootfd, const struct srv_sftp_limits *lim,
		   const struct srv_sftp_io *io);

#endif
