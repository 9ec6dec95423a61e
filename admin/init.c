/* `sftpdrop-admin init --dir DIR`: a new installation in one directory — host
 * key, database with schema, upload and spool trees, and a config file naming
 * them by absolute path. Nothing that exists is overwritten, and a failed init
 * removes what it made, so that it can simply be run again. */
#include <errno.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "output.h"
#include "util.h"

#define INIT_CONF_NAME "sftpdrop.conf"
#define INIT_KEY_NAME "ssh_host_ed25519_key"
#define INIT_DB_NAME "sftpdrop.db"
#define INIT_DEFAULT_LISTEN "127.0.0.1:2222"
/* The config parser (Debian's inih) reads lines of at most 200 bytes; the
 * longest line we write is "host_key = DIR/ssh_host_ed25519_key". */
#define INIT_DIR_MAX 160

#define INIT_MODE_DIR 0750
#define INIT_MODE_SECRET 0600 /* host key and database (password hashes, TOTP seeds) */
#define INIT_MODE_PUBLIC 0644
#define INIT_MODE_CONF 0640

struct init_paths {
	char *dir, *conf, *key, *pub, *db, *db_wal, *db_shm, *upload, *spool;
	char tmp_conf[PATH_MAX];
};

/* What this run created, for the clean-up after a failure. */
struct init_made {
	bool key, pub, db, upload, spool, tmp_conf;
};

static void paths_free(struct init_paths *p)
{
	free(p->dir);
	free(p->conf);
	free(p->key);
	free(p->pub);
	free(p->db);
	free(p->db_wal);
	free(p->db_shm);
	free(p->upload);
	free(p->spool);
}

/* dir/name[suffix] in a new string, or NULL. */
static char *join(const char *dir, const char *name, const char *suffix)
{
	char *s = NULL;

	/* realpath() gives "/" for the root, the only result ending in a slash. */
	if (asprintf(&s, "%s/%s%s", strcmp(dir, "/") ? dir : "", name, suffix) < 0)
		return NULL; /* asprintf leaves s undefined on failure */
	return s;
}

static int paths_build(struct init_paths *p)
{
	p->conf = join(p->dir, INIT_CONF_NAME, "");
	p->key = join(p->dir, INIT_KEY_NAME, "");
	p->pub = join(p->dir, INIT_KEY_NAME, ".pub");
	p->db = join(p->dir, INIT_DB_NAME, "");
	p->db_wal = join(p->dir, INIT_DB_NAME, "-wal");
	p->db_shm = join(p->dir, INIT_DB_NAME, "-shm");
	p->upload = join(p->dir, "upload", "");
	p->spool = join(p->dir, "spool", "");
	if (!p->conf || !p->key || !p->pub || !p->db || !p->db_wal || !p->db_shm ||
	    !p->upload || !p->spool)
		return -ENOMEM;
	if ((size_t)snprintf(p->tmp_conf, sizeof(p->tmp_conf), "%s.XXXXXX", p->conf) >=
	    sizeof(p->tmp_conf))
		return -ENAMETOOLONG;
	return 0;
}

/* Refuse to replace anything: an existing key or database is someone's data. */
static int refuse_existing(const struct init_paths *p)
{
	const char *const files[] = { p->conf, p->key, p->pub, p->db, p->db_wal };
	struct stat st;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (lstat(files[i], &st) == 0) {
			admin_err("%s already exists; refusing to overwrite it", files[i]);
			return -EEXIST;
		}
		if (errno != ENOENT) {
			int r = -errno;

			admin_err("cannot check %s: %s", files[i], strerror(-r));
			return r;
		}
	}
	return 0;
}

/* Write data into the open fd with exactly mode (not what the umask leaves),
 * durably. Closes fd. */
static int finish_file(int fd, const char *data, size_t len, mode_t mode)
{
	int r = 0;

	if (fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0)
		r = util_write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* Create a new file (never through a symlink, never over an existing one). */
static int create_file(const char *path, const char *data, size_t len, mode_t mode,
		       bool *made)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	int r;

	if (fd < 0) {
		r = -errno;
		admin_err("cannot create %s: %s", path, strerror(-r));
		return r;
	}
	*made = true;
	r = finish_file(fd, data, len, mode);
	if (r < 0)
		admin_err("cannot write %s: %s", path, strerror(-r));
	return r;
}

static int create_dir(const char *path, bool *made)
{
	struct stat st;
	int r;

	if (mkdir(path, INIT_MODE_DIR) == 0) {
		*made = true;
		return 0;
	}
	r = -errno;
	if (r == -EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0; /* an existing tree is kept as it is */
	admin_err("cannot create directory %s: %s", path, strerror(-r));
	return r;
}

static int write_host_key(const struct init_paths *p, ssh_key key, struct init_made *made)
{
	char *priv = NULL;
	char *pub_b64 = NULL;
	char *pub_line = NULL;
	int r = -EIO;

	if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &priv) != SSH_OK ||
	    ssh_pki_export_pubkey_base64(key, &pub_b64) != SSH_OK) {
		admin_err("cannot encode the host key");
		goto out;
	}
	r = -ENOMEM;
	if (asprintf(&pub_line, "%s %s sftpdrop-host-key\n",
		     ssh_key_type_to_char(ssh_key_type(key)), pub_b64) < 0) {
		pub_line = NULL; /* undefined after a failure */
		admin_err("out of memory");
		goto out;
	}
	r = create_file(p->key, priv, strlen(priv), INIT_MODE_SECRET, &made->key);
	if (r == 0)
		r = create_file(p->pub, pub_line, strlen(pub_line), INIT_MODE_PUBLIC, &made->pub);
out:
	if (priv) {
		explicit_bzero(priv, strlen(priv));
		ssh_string_free_char(priv);
	}
	ssh_string_free_char(pub_b64);
	free(pub_line);
	return r;
}

/* The database is created empty with its final mode first: SQLite would make
 * it 0644, and it holds password hashes and TOTP seeds. */
static int create_database(const struct init_paths *p, struct init_made *made)
{
	struct store *s = NULL;
	int r;

	r = create_file(p->db, "", 0, INIT_MODE_SECRET, &made->db);
	if (r < 0)
		return r;
	r = store_open(p->db, true, &s);
	if (r < 0) {
		admin_err("cannot create the database %s: %s", p->db, strerror(-r));
		return r;
	}
	r = store_audit(s, admin_now(), NULL, NULL, "admin", "init", "ok", NULL);
	if (r < 0)
		admin_err("cannot write to the database %s: %s", p->db, strerror(-r));
	store_close(s);
	return r;
}

static char *conf_text(const struct init_paths *p, const char *listen)
{
	char when[32];
	char *text = NULL;

	util_iso8601(admin_now(), when, sizeof(when));
	if (asprintf(&text,
		     "# sftpdrop configuration, written by sftpdrop-admin init at %s.\n"
		     "# One \"key = value\" per line; lines starting with # are comments.\n"
		     "# Keys not named here keep their defaults; \"sftpdropd -t -c FILE\"\n"
		     "# prints every key with its effective value.\n"
		     "\n"
		     "# Address and port of the SFTP service (repeat the key for more).\n"
		     "listen = %s\n"
		     "# The server's identity: clients pin its fingerprint on first contact.\n"
		     "host_key = %s\n"
		     "# Relations, accounts, audit trail and upload records (SQLite).\n"
		     "database = %s\n"
		     "# Uploads land in upload_root/RELATIENUMMER/.\n"
		     "upload_root = %s\n"
		     "# Completed uploads are handed to the back office from here.\n"
		     "spool_dir = %s\n"
		     "\n"
		     "# Language of the login dialogue and the expiry e-mails: nl or en.\n"
		     "#language = nl\n"
		     "# Password expiry warnings (sftpdrop-admin notify-expiring, run daily by\n"
		     "# sftpdrop-notify.timer) are handed to this command, which reads the\n"
		     "# message and its recipient (the To: header) from its stdin.\n"
		     "#sendmail_command = /usr/sbin/sendmail -t -i\n"
		     "#mail_from = sftpdrop@localhost\n",
		     when, listen, p->key, p->db, p->upload, p->spool) < 0)
		return NULL; /* text is undefined after a failure */
	return text;
}

/* Read the file back through the real parser: a path the config syntax would
 * change (a " ;" comment, an over-long line) must not slip through. */
static int verify_conf(const char *path, const struct init_paths *p, const char *listen)
{
	struct conf c;
	char err[512];
	int r = conf_load(path, &c, err, sizeof(err));

	if (r < 0) {
		admin_err("the generated configuration does not parse (%s); "
			  "choose a directory with a plainer path",
			  err);
		return r;
	}
	if (c.n_listen != 1 || strcmp(c.listen[0], listen) || c.n_host_key != 1 ||
	    strcmp(c.host_key[0], p->key) || strcmp(c.database, p->db) ||
	    strcmp(c.upload_root, p->upload) || strcmp(c.spool_dir, p->spool)) {
		admin_err("the path %s does not survive the configuration syntax; "
			  "choose a directory with a plainer path",
			  p->dir);
		r = -EINVAL;
	}
	conf_free(&c);
	return r;
}

/* Write the config under a temporary name, check it, then link it into place:
 * sftpdrop.conf appears complete or not at all, and link() never replaces. */
static int write_conf(struct init_paths *p, const char *listen, struct init_made *made)
{
	char *text = conf_text(p, listen);
	int fd = -1;
	int dfd = -1;
	int r = -ENOMEM;

	if (!text) {
		admin_err("out of memory");
		goto out;
	}
	fd = mkostemp(p->tmp_conf, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		admin_err("cannot create a file in %s: %s", p->dir, strerror(-r));
		goto out;
	}
	made->tmp_conf = true;
	r = finish_file(fd, text, strlen(text), INIT_MODE_CONF);
	if (r < 0) {
		admin_err("cannot write %s: %s", p->tmp_conf, strerror(-r));
		goto out;
	}
	r = verify_conf(p->tmp_conf, p, listen);
	if (r < 0)
		goto out;
	if (link(p->tmp_conf, p->conf) < 0) {
		r = -errno;
		if (r == -EEXIST)
			admin_err("%s already exists; refusing to overwrite it", p->conf);
		else
			admin_err("cannot create %s: %s", p->conf, strerror(-r));
		goto out;
	}
	unlink(p->tmp_conf);
	made->tmp_conf = false;
	/* Make the new names durable, not only the data. */
	dfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	r = 0;
out:
	free(text);
	return r;
}

static void undo(const struct init_paths *p, const struct init_made *made)
{
	if (made->tmp_conf)
		unlink(p->tmp_conf);
	if (made->db) {
		unlink(p->db);
		unlink(p->db_wal);
		unlink(p->db_shm);
	}
	if (made->pub)
		unlink(p->pub);
	if (made->key)
		unlink(p->key);
	/* rmdir only removes them while still empty. */
	if (made->spool)
		rmdir(p->spool);
	if (made->upload)
		rmdir(p->upload);
}

static int fingerprint(ssh_key key, char **out)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0)
		return -EIO;
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	ssh_clean_pubkey_hash(&hash);
	if (!fp)
		return -ENOMEM;
	*out = fp;
	return 0;
}

static int print_result(const struct admin_ctx *ctx, const struct init_paths *p,
			const char *listen, const char *fp)
{
	struct json_object *o = NULL;
	int r = 0;

	if (!ctx->json) {
		printf("config:               %s\n"
		       "host key:             %s\n"
		       "host key fingerprint: %s\n"
		       "database:             %s\n"
		       "upload root:          %s\n"
		       "spool dir:            %s\n"
		       "listen:               %s\n",
		       p->conf, p->key, fp, p->db, p->upload, p->spool, listen);
		return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -EIO;
	}
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	admin_out_json_add_str(o, "config", p->conf, &r);
	admin_out_json_add_str(o, "host_key", p->key, &r);
	admin_out_json_add_str(o, "host_key_fingerprint", fp, &r);
	admin_out_json_add_str(o, "database", p->db, &r);
	admin_out_json_add_str(o, "upload_root", p->upload, &r);
	admin_out_json_add_str(o, "spool_dir", p->spool, &r);
	admin_out_json_add_str(o, "listen", listen, &r);
	if (r == 0)
		r = admin_out_json_print(o);
	json_object_put(o);
	return r;
}

int admin_cmd_init(struct admin_ctx *ctx)
{
	const char *listen = ctx->opt[ADMIN_OPT_LISTEN] ? ctx->opt[ADMIN_OPT_LISTEN]
							: INIT_DEFAULT_LISTEN;
	const char *dir_arg = ctx->opt[ADMIN_OPT_DIR];
	struct init_paths p = { 0 };
	struct init_made made = { 0 };
	ssh_key key = NULL;
	char *fp = NULL;
	int r;

	r = util_mkdir_p(dir_arg, INIT_MODE_DIR);
	if (r < 0) {
		admin_err("cannot create directory %s: %s", dir_arg, strerror(-r));
		goto out;
	}
	p.dir = realpath(dir_arg, NULL);
	if (!p.dir) {
		r = -errno;
		admin_err("cannot resolve %s: %s", dir_arg, strerror(-r));
		goto out;
	}
	if (strlen(p.dir) > INIT_DIR_MAX) {
		r = -ENAMETOOLONG;
		admin_err("%s: path longer than %d bytes does not fit the configuration file",
			  p.dir, INIT_DIR_MAX);
		goto out;
	}
	r = paths_build(&p);
	if (r < 0) {
		admin_err("cannot build paths under %s: %s", p.dir, strerror(-r));
		goto out;
	}
	r = refuse_existing(&p);
	if (r < 0)
		goto out;
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK) {
		r = -EIO;
		admin_err("cannot generate an Ed25519 host key");
		goto out;
	}
	r = fingerprint(key, &fp);
	if (r < 0) {
		admin_err("cannot compute the host key fingerprint");
		goto out;
	}
	r = write_host_key(&p, key, &made);
	if (r == 0)
		r = create_dir(p.upload, &made.upload);
	if (r == 0)
		r = create_dir(p.spool, &made.spool);
	if (r == 0)
		r = create_database(&p, &made);
	if (r == 0)
		r = write_conf(&p, listen, &made);
	if (r < 0) {
		undo(&p, &made);
		goto out;
	}
	r = print_result(ctx, &p, listen, fp);
	if (r < 0)
		admin_err("cannot write the result: %s", strerror(-r));
out:
	ssh_string_free_char(fp);
	ssh_key_free(key);
	paths_free(&p);
	return r;
}
