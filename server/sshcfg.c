/* The SSH algorithm policy (see ../shared/notes/libssh-0.10-server.md §5). */
#include "sshcfg.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <libssh/libssh.h>

#define SD_KEX "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256," \
	       "ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group16-sha512," \
	       "diffie-hellman-group18-sha512,diffie-hellman-group14-sha256"
#define SD_CIPHERS "aes256-gcm@openssh.com,aes128-gcm@openssh.com," \
		   "chacha20-poly1305@openssh.com,aes256-ctr,aes128-ctr"
#define SD_MACS "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com," \
		"hmac-sha2-256,hmac-sha2-512"
#define SD_HOSTKEY_ALGS "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384," \
			"ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256"
/* No SHA-1 "ssh-rsa" signatures; also sent to clients as server-sig-algs. */
#define SD_PUBKEY_ALGS "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384," \
		       "ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256"
/* The version string: SSH-2.0-sftpdrop, no library version. */
#define SD_BANNER "sftpdrop"
#define SD_RSA_MIN_BITS 2048

int srv_check_host_key(const char *path, char *err, size_t errlen)
{
	ssh_key key = NULL;
	FILE *f = fopen(path, "re");

	/* libssh says nothing useful when a key cannot be loaded: find out first. */
	if (!f) {
		int e = errno;

		snprintf(err, errlen, "%s", strerror(e));
		return -e;
	}
	fclose(f);
	if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) != SSH_OK) {
		snprintf(err, errlen, "not a private key libssh can use (or it has a passphrase)");
		return -EINVAL;
	}
	ssh_key_free(key);
	return 0;
}

int srv_ssh_bind_new(const struct conf *c, int lfd, ssh_bind *out)
{
	ssh_bind b = ssh_bind_new();
	bool no = false;
	int min_rsa = SD_RSA_MIN_BITS;
	struct {
		enum ssh_bind_options_e opt;
		const void *val;
		const char *what;
	} opts[] = {
		/* Must come first: otherwise /etc/ssh/libssh_server_config
		 * would override what follows at the first accept. */
		{ SSH_BIND_OPTIONS_PROCESS_CONFIG, &no, "process_config" },
		{ SSH_BIND_OPTIONS_KEY_EXCHANGE, SD_KEX, "kex" },
		{ SSH_BIND_OPTIONS_CIPHERS_C_S, SD_CIPHERS, "ciphers" },
		{ SSH_BIND_OPTIONS_CIPHERS_S_C, SD_CIPHERS, "ciphers" },
		{ SSH_BIND_OPTIONS_HMAC_C_S, SD_MACS, "macs" },
		{ SSH_BIND_OPTIONS_HMAC_S_C, SD_MACS, "macs" },
		{ SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES, SD_PUBKEY_ALGS, "pubkey types" },
		{ SSH_BIND_OPTIONS_RSA_MIN_SIZE, &min_rsa, "rsa min size" },
		{ SSH_BIND_OPTIONS_BANNER, SD_BANNER, "banner" },
	};

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (ssh_bind_options_set(b, opts[i].opt, opts[i].val) < 0) {
			fprintf(stderr, "sftpdropd: libssh option %s: %s\n", opts[i].what,
				ssh_get_error(b));
			goto fail;
		}
	}
	for (unsigned i = 0; i < c->n_host_key; i++) {
		char why[128];

		if (srv_check_host_key(c->host_key[i], why, sizeof(why)) < 0) {
			fprintf(stderr, "sftpdropd: host_key %s: %s\n", c->host_key[i], why);
			goto fail;
		}
		if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_HOSTKEY, c->host_key[i]) < 0) {
			fprintf(stderr, "sftpdropd: host_key %s: %s\n", c->host_key[i],
				ssh_get_error(b));
			goto fail;
		}
	}
	/* Host key algorithms after the keys: libssh checks them against them. */
	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, SD_HOSTKEY_ALGS) < 0) {
		fprintf(stderr, "sftpdropd: libssh option hostkey algorithms: %s\n",
			ssh_get_error(b));
		goto fail;
	}
	ssh_bind_set_fd(b, lfd);
	/* With our fd set this only loads the host keys. */
	if (ssh_bind_listen(b) < 0) {
		fprintf(stderr, "sftpdropd: host keys: %s\n", ssh_get_error(b));
		goto fail;
	}
	*out = b;
	return 0;
fail:
	ssh_bind_set_fd(b, SSH_INVALID_SOCKET);
	ssh_bind_free(b);
	return -EINVAL;
}
