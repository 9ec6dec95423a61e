/* Configuration: a flat "key = value" file (parsed by Debian's inih), turned
 * into a validated, frozen struct. One table row per key: type, default, bounds. */
#ifndef SFTPDROP_CONF_H
#define SFTPDROP_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define CONF_MAX_LISTEN 8   /* listening sockets; more is a configuration error */
#define CONF_MAX_HOSTKEYS 4 /* one per key type is all SSH can use */

struct conf {
	char *listen[CONF_MAX_LISTEN];
	unsigned n_listen;
	char *host_key[CONF_MAX_HOSTKEYS];
	unsigned n_host_key;
	char *database;
	char *upload_root;
	char *spool_dir;

	int64_t argon2_t_cost;
	int64_t argon2_m_cost_kib;
	int64_t argon2_parallelism;
	int64_t totp_window;

	int64_t login_grace_time;   /* seconds from accept to authenticated */
	int64_t idle_timeout;       /* seconds without client traffic */
	int64_t auth_fail_delay_ms; /* every failed auth step answered after this */
	int64_t max_auth_tries;     /* failed steps per connection */
	int64_t max_connections;    /* all connections */
	int64_t max_unauthenticated;
	int64_t max_unauthenticated_per_source;

	int64_t sftp_max_packet;
	int64_t sftp_max_handles;
	int64_t sftp_max_path;  /* bytes of a path below the relation directory */
	int64_t sftp_max_depth; /* path components below the relation directory */
	int64_t max_file_size;  /* bytes; no upload grows beyond it */
	int64_t relation_quota; /* bytes of a relation's files (staging too); 0: none */
	int64_t max_sessions_per_connection; /* SFTP channels served at once */
	bool allow_download;
	bool sync_on_close;

	/* The portal's account policy. */
	char *language;                /* nl | en: texts of the login dialogue */
	int64_t password_min_length;
	int64_t password_min_classes;
	int64_t password_history;      /* the last N passwords may not be reused */
	int64_t password_max_age_days;
	int64_t password_warn_days;
	int64_t password_change_tries; /* new-password attempts per login */
	int64_t lockout_threshold;     /* consecutive failures that lock an account */
	int64_t lockout_seconds;
	int64_t ban_threshold;         /* failures from one source within ban_window */
	int64_t ban_window;
	int64_t ban_seconds;
	char *sendmail_command;        /* argv, split on spaces; message on stdin */
	char *mail_from;

	int64_t ingest_settle_ms;
	char *ingest_skip_patterns; /* comma-separated fnmatch globs */
	int64_t partial_retention;   /* seconds an interrupted upload is kept for resume */
	int64_t upload_retention;    /* seconds an ingested file stays visible; 0: always */
	int64_t receipt_retention;   /* seconds a receipt stays in /.receipts; 0: always */
	char *ingest_hook;           /* program run per ingested upload; "": none */
	int64_t ingest_hook_timeout; /* seconds before a hook run is killed */
	bool debug;
};

/* Parse the file at path. On failure returns -errno (-EINVAL for content
 * errors) and writes "FILE:LINE: key 'K': what" into err. On success *c holds
 * every key with defaults filled; free with conf_free(). */
int conf_load(const char *path, struct conf *c, char *err, size_t errlen);
/* Same over a string; name is used in messages. */
int conf_load_string(const char *text, const char *name, struct conf *c,
		     char *err, size_t errlen);
/* Free the strings of c (NULL-safe; c itself is the caller's). */
void conf_free(struct conf *c);
/* Print the effective configuration, every key, in file syntax. */
void conf_print(const struct conf *c, FILE *f);

/* Parse "ADDR:PORT" / "[ADDR6]:PORT" into a socket address. 0 or -EINVAL. */
int conf_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len);

/* Does name match one of the comma-separated globs? (basename match) */
bool conf_name_matches(const char *patterns, const char *name);

#endif
