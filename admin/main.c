/* Entry point of sftpdrop-admin: parses the command line against one table of
 * commands (words, arguments, options), checks every value before anything is
 * opened, loads the configuration and the store, and runs one handler.
 * Exit status: 0 done, 1 could not be done, 2 wrong command line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "check.h"
#include "clock.h"
#include "log.h"
#include "output.h"

#define BIT(o) (1u << (o))

/* The options after the command words (global ones are handled by the parser). */
struct opt_def {
	const char *name; /* without the leading "--" */
	enum admin_opt id;
	enum admin_arg_kind kind;
	bool flag;        /* takes no value */
};

static const struct opt_def opt_defs[] = {
	{ "name", ADMIN_OPT_NAME, ADMIN_ARG_TEXT, false },
	{ "email", ADMIN_OPT_EMAIL, ADMIN_ARG_EMAIL, false },
	{ "dir", ADMIN_OPT_DIR, ADMIN_ARG_PATH, false },
	{ "listen", ADMIN_OPT_LISTEN, ADMIN_ARG_LISTEN, false },
	{ "relation", ADMIN_OPT_RELATION, ADMIN_ARG_RELATION, false },
	{ "user", ADMIN_OPT_USER, ADMIN_ARG_USERNAME, false },
	{ "since", ADMIN_OPT_SINCE, ADMIN_ARG_TIME, false },
	{ "totp", ADMIN_OPT_TOTP, ADMIN_ARG_TEXT, true },
	{ "partial", ADMIN_OPT_PARTIAL, ADMIN_ARG_TEXT, true },
	{ "batch", ADMIN_OPT_BATCH, ADMIN_ARG_TEXT, true },
	{ "from", ADMIN_OPT_FROM, ADMIN_ARG_CIDRS, false },
};

#define N_OPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))

struct cmd_def {
	const char *word1, *word2; /* word2 NULL: a one-word command */
	int (*run)(struct admin_ctx *ctx);
	unsigned min_args, max_args;
	enum admin_arg_kind arg_kind[ADMIN_MAX_ARGS];
	unsigned allowed, required; /* BIT(enum admin_opt) */
	bool needs_store;
	const char *synopsis;
};

#define USER_ARGS { ADMIN_ARG_RELATION, ADMIN_ARG_USERNAME }

/* A two-word command comes before a one-word command with the same first
 * word ("bans lift" before "bans"): the first match wins. */
static const struct cmd_def cmds[] = {
	{ "init", NULL, admin_cmd_init, 0, 0, { 0 }, BIT(ADMIN_OPT_DIR) | BIT(ADMIN_OPT_LISTEN),
	  BIT(ADMIN_OPT_DIR), false, "init --dir DIR [--listen ADDR:PORT]" },
	{ "relation", "add", admin_cmd_relation_add, 1, 1, { ADMIN_ARG_RELATION },
	  BIT(ADMIN_OPT_NAME), BIT(ADMIN_OPT_NAME), true, "relation add RELATIENUMMER --name NAME" },
	{ "relation", "list", admin_cmd_relation_list, 0, 0, { 0 }, 0, 0, true,
	  "relation list" },
	{ "user", "add", admin_cmd_user_add, 2, 2, USER_ARGS,
	  BIT(ADMIN_OPT_NAME) | BIT(ADMIN_OPT_EMAIL) | BIT(ADMIN_OPT_TOTP) |
		  BIT(ADMIN_OPT_BATCH) | BIT(ADMIN_OPT_FROM),
	  BIT(ADMIN_OPT_NAME) | BIT(ADMIN_OPT_EMAIL), true,
	  "user add RELATIENUMMER USERNAME --name FULLNAME --email EMAIL "
	  "[--totp | --batch [--from CIDR,...]]" },
	{ "user", "list", admin_cmd_user_list, 0, 1, { ADMIN_ARG_RELATION }, 0, 0, true,
	  "user list [RELATIENUMMER]" },
	{ "user", "show", admin_cmd_user_show, 2, 2, USER_ARGS, 0, 0, true,
	  "user show RELATIENUMMER USERNAME" },
	{ "user", "disable", admin_cmd_user_disable, 2, 2, USER_ARGS, 0, 0, true,
	  "user disable RELATIENUMMER USERNAME" },
	{ "user", "enable", admin_cmd_user_enable, 2, 2, USER_ARGS, 0, 0, true,
	  "user enable RELATIENUMMER USERNAME" },
	{ "user", "unlock", admin_cmd_user_unlock, 2, 2, USER_ARGS, 0, 0, true,
	  "user unlock RELATIENUMMER USERNAME" },
	{ "user", "reset-password", admin_cmd_user_reset_password, 2, 2, USER_ARGS, 0, 0, true,
	  "user reset-password RELATIENUMMER USERNAME" },
	{ "user", "reset-activation", admin_cmd_user_reset_activation, 2, 2, USER_ARGS, 0, 0,
	  true, "user reset-activation RELATIENUMMER USERNAME" },
	{ "user", "reset-totp", admin_cmd_user_reset_totp, 2, 2, USER_ARGS, 0, 0, true,
	  "user reset-totp RELATIENUMMER USERNAME" },
	{ "key", "add", admin_cmd_key_add, 2, 2, USER_ARGS, 0, 0, true,
	  "key add RELATIENUMMER USERNAME < authorized_keys lines" },
	{ "key", "list", admin_cmd_key_list, 2, 2, USER_ARGS, 0, 0, true,
	  "key list RELATIENUMMER USERNAME" },
	{ "key", "remove", admin_cmd_key_remove, 3, 3,
	  { ADMIN_ARG_RELATION, ADMIN_ARG_USERNAME, ADMIN_ARG_FINGERPRINT }, 0, 0, true,
	  "key remove RELATIENUMMER USERNAME SHA256:FINGERPRINT" },
	{ "bans", "lift", admin_cmd_bans_lift, 1, 1, { ADMIN_ARG_ADDRESS }, 0, 0, true,
	  "bans lift ADDRESS" },
	{ "bans", NULL, admin_cmd_bans, 0, 0, { 0 }, 0, 0, true, "bans" },
	{ "audit", NULL, admin_cmd_audit, 0, 0, { 0 },
	  BIT(ADMIN_OPT_RELATION) | BIT(ADMIN_OPT_USER) | BIT(ADMIN_OPT_SINCE), 0, true,
	  "audit [--relation RELATIENUMMER] [--user USERNAME] [--since TIME]" },
	{ "notify-expiring", NULL, admin_cmd_notify_expiring, 0, 0, { 0 }, 0, 0, true,
	  "notify-expiring" },
	{ "uploads", NULL, admin_cmd_uploads, 0, 0, { 0 },
	  BIT(ADMIN_OPT_RELATION) | BIT(ADMIN_OPT_PARTIAL), 0, true,
	  "uploads [--relation RELATIENUMMER] [--partial]" },
};

#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

/* What a value is called in messages. */
static const char *kind_name(enum admin_arg_kind kind)
{
	switch (kind) {
	case ADMIN_ARG_RELATION:
		return "relation number";
	case ADMIN_ARG_USERNAME:
		return "user name";
	case ADMIN_ARG_TEXT:
		return "name";
	case ADMIN_ARG_EMAIL:
		return "e-mail address";
	case ADMIN_ARG_LISTEN:
		return "listen address";
	case ADMIN_ARG_PATH:
		return "path";
	case ADMIN_ARG_TIME:
		return "time";
	case ADMIN_ARG_ADDRESS:
		return "address";
	case ADMIN_ARG_CIDRS:
		return "address ranges";
	case ADMIN_ARG_FINGERPRINT:
		return "fingerprint";
	}
	return "value";
}

static void usage(FILE *f)
{
	fputs("usage: sftpdrop-admin [-c FILE] [--json] COMMAND ...\n"
	      "\n"
	      "commands:\n",
	      f);
	for (size_t i = 0; i < N_CMDS; i++)
		fprintf(f, "  %s\n", cmds[i].synopsis);
	fputs("\n"
	      "options (also accepted after the command words):\n"
	      "  -c FILE, --config FILE  configuration file (default: $SFTPDROP_CONFIG)\n"
	      "  --json                  machine-readable output: one JSON document\n"
	      "  -h, --help              this text\n"
	      "\n"
	      "Exit status: 0 done, 1 not done (the message says why), 2 usage error.\n",
	      f);
}

/* Report a usage error; cmd (may be NULL) narrows the hint. Returns -EINVAL. */
static int usage_error(const struct cmd_def *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(const struct cmd_def *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("sftpdrop-admin: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd)
		fprintf(stderr, "usage: sftpdrop-admin %s\n", cmd->synopsis);
	else
		fputs("Try 'sftpdrop-admin --help'.\n", stderr);
	return -EINVAL;
}

static const struct opt_def *find_opt(const char *name, size_t len)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (strlen(opt_defs[i].name) == len && !strncmp(opt_defs[i].name, name, len))
			return &opt_defs[i];
	return NULL;
}

/* Command-line state before the command is known. */
struct parsed {
	const char *pos[ADMIN_MAX_ARGS + 2]; /* command words and arguments */
	unsigned n_pos;
	unsigned seen; /* BIT(enum admin_opt) */
	bool help;
};

/* Take the value of the option at argv[*i]: after '=' in it, or the next word. */
static int opt_value(int argc, char **argv, int *i, const char *eq, const char *shown,
		     const char **out)
{
	if (eq) {
		*out = eq + 1;
		return 0;
	}
	if (*i + 1 >= argc)
		return usage_error(NULL, "option %s needs a value", shown);
	*out = argv[++*i];
	return 0;
}

static int parse_words(int argc, char **argv, struct admin_ctx *ctx, struct parsed *p)
{
	bool options_done = false;
	int r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct opt_def *od;
		const char *eq, *name;
		size_t len;

		if (options_done || a[0] != '-' || a[1] == '\0') {
			if (p->n_pos == ADMIN_MAX_ARGS + 2)
				return usage_error(NULL, "too many arguments");
			p->pos[p->n_pos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			options_done = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			p->help = true;
		} else if (!strcmp(a, "--json")) {
			ctx->json = true;
		} else if (!strncmp(a, "-c", 2)) {
			if (ctx->config_path)
				return usage_error(NULL, "option -c given more than once");
			if (a[2]) {
				ctx->config_path = a + 2;
			} else {
				r = opt_value(argc, argv, &i, NULL, "-c", &ctx->config_path);
				if (r < 0)
					return r;
			}
		} else if (!strncmp(a, "--", 2)) {
			name = a + 2;
			eq = strchr(name, '=');
			len = eq ? (size_t)(eq - name) : strlen(name);
			if (len == 6 && !strncmp(name, "config", 6)) {
				if (ctx->config_path)
					return usage_error(NULL, "option -c given more than once");
				r = opt_value(argc, argv, &i, eq, "--config", &ctx->config_path);
				if (r < 0)
					return r;
				continue;
			}
			if (eq && ((len == 4 && !strncmp(name, "json", 4)) ||
				   (len == 4 && !strncmp(name, "help", 4))))
				return usage_error(NULL, "option --%.*s takes no value", (int)len,
						   name);
			od = find_opt(name, len);
			if (!od)
				return usage_error(NULL, "unknown option %s", admin_q(a));
			if (p->seen & BIT(od->id))
				return usage_error(NULL, "option --%s given more than once",
						   od->name);
			if (od->flag) {
				if (eq)
					return usage_error(NULL, "option --%s takes no value",
							   od->name);
				ctx->opt[od->id] = "";
			} else {
				r = opt_value(argc, argv, &i, eq, a, &ctx->opt[od->id]);
				if (r < 0)
					return r;
			}
			p->seen |= BIT(od->id);
		} else {
			return usage_error(NULL, "unknown option %s", admin_q(a));
		}
	}
	return 0;
}

static const struct cmd_def *find_cmd(const struct parsed *p, unsigned *words)
{
	bool word1_known = false;

	for (size_t i = 0; i < N_CMDS; i++) {
		const struct cmd_def *c = &cmds[i];

		if (strcmp(c->word1, p->pos[0]))
			continue;
		word1_known = true;
		if (!c->word2) {
			*words = 1;
			return c;
		}
		if (p->n_pos >= 2 && !strcmp(c->word2, p->pos[1])) {
			*words = 2;
			return c;
		}
	}
	if (!word1_known)
		usage_error(NULL, "unknown command %s", admin_q(p->pos[0]));
	else if (p->n_pos < 2)
		usage_error(NULL, "%s: missing subcommand", p->pos[0]);
	else
		usage_error(NULL, "unknown command %s: no subcommand %s", p->pos[0],
			    admin_q(p->pos[1]));
	return NULL;
}

/* Check the values of every argument and option the command takes. */
static int check_values(const struct cmd_def *cmd, struct admin_ctx *ctx)
{
	char why[160];

	for (unsigned i = 0; i < ctx->n_args; i++) {
		enum admin_arg_kind kind = cmd->arg_kind[i];

		if (admin_check_arg(kind, ctx->args[i], why, sizeof(why)) < 0)
			return usage_error(cmd, "invalid %s %s: %s", kind_name(kind),
					   admin_q(ctx->args[i]), why);
		if (kind == ADMIN_ARG_USERNAME &&
		    admin_fold_username(ctx->args[i], ctx->username, sizeof(ctx->username)) < 0)
			return usage_error(cmd, "user name too long");
		if (kind == ADMIN_ARG_ADDRESS &&
		    admin_canonical_address(ctx->args[i], ctx->address, sizeof(ctx->address)) < 0)
			return usage_error(cmd, "address too long");
	}
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt_def *od = &opt_defs[i];
		const char *v = ctx->opt[od->id];

		if (!v || od->flag)
			continue;
		if (admin_check_arg(od->kind, v, why, sizeof(why)) < 0)
			return usage_error(cmd, "invalid --%s %s: %s", od->name, admin_q(v), why);
		if (od->kind == ADMIN_ARG_USERNAME) {
			if (admin_fold_username(v, ctx->user_opt, sizeof(ctx->user_opt)) < 0)
				return usage_error(cmd, "user name too long");
			ctx->opt[od->id] = ctx->user_opt;
		}
	}
	return 0;
}

/* Parse argv into ctx. 0, 1 for --help, or -EINVAL after a usage message. */
static int parse(int argc, char **argv, struct admin_ctx *ctx, const struct cmd_def **out)
{
	struct parsed p = { 0 };
	const struct cmd_def *cmd;
	unsigned words = 0;
	unsigned extra;
	int r;

	r = parse_words(argc, argv, ctx, &p);
	if (r < 0)
		return r;
	if (p.help)
		return 1;
	if (p.n_pos == 0)
		return usage_error(NULL, "no command given");
	cmd = find_cmd(&p, &words);
	if (!cmd)
		return -EINVAL;
	ctx->n_args = p.n_pos - words;
	if (ctx->n_args < cmd->min_args)
		return usage_error(cmd, "missing argument");
	if (ctx->n_args > cmd->max_args)
		return usage_error(cmd, "unexpected argument %s",
				   admin_q(p.pos[words + cmd->max_args]));
	for (unsigned i = 0; i < ctx->n_args; i++)
		ctx->args[i] = p.pos[words + i];
	extra = p.seen & ~cmd->allowed;
	for (size_t i = 0; i < N_OPTS; i++) {
		if (extra & BIT(opt_defs[i].id))
			return usage_error(cmd, "option --%s does not apply here", opt_defs[i].name);
		if ((cmd->required & BIT(opt_defs[i].id)) && !(p.seen & BIT(opt_defs[i].id)))
			return usage_error(cmd, "option --%s is required", opt_defs[i].name);
	}
	r = check_values(cmd, ctx);
	if (r < 0)
		return r;
	*out = cmd;
	return 0;
}

/* Load the configuration and open the store. 0 or -errno; the message is
 * printed. */
static int open_store(struct admin_ctx *ctx)
{
	char err[512];
	int r;

	r = conf_load(ctx->config_path, &ctx->conf, err, sizeof(err));
	if (r < 0) {
		admin_err("%s", err);
		return r;
	}
	r = store_open(ctx->conf.database, false, &ctx->store);
	if (r == -ENOENT)
		admin_err("database %s does not exist (key 'database' in %s)", ctx->conf.database,
			  ctx->config_path);
	else if (r == -EPROTO)
		admin_err("database %s was written by a newer sftpdrop", ctx->conf.database);
	else if (r < 0)
		admin_err("cannot open database %s: %s", ctx->conf.database, strerror(-r));
	return r;
}

int main(int argc, char **argv)
{
	struct admin_ctx ctx = { 0 };
	const struct cmd_def *cmd = NULL;
	int status = ADMIN_EXIT_FAIL;
	int r;

	/* Changes are logged like the daemon's events, to syslog. */
	log_init("sftpdrop-admin", false, false);
	if (clock_is_fake())
		log_event(LOG_WARNING, "test_clock", "%s", "now=injected");
	r = parse(argc, argv, &ctx, &cmd);
	if (r == 1) {
		usage(stdout);
		status = fflush(stdout) == 0 ? 0 : ADMIN_EXIT_FAIL;
		goto out;
	}
	if (r < 0) {
		status = ADMIN_EXIT_USAGE;
		goto out;
	}
	if (cmd->needs_store) {
		const char *env = getenv("SFTPDROP_CONFIG");

		if (!ctx.config_path && env && *env)
			ctx.config_path = env;
		if (!ctx.config_path) {
			usage_error(NULL, "no configuration: use -c FILE");
			status = ADMIN_EXIT_USAGE;
			goto out;
		}
		if (open_store(&ctx) < 0)
			goto out;
	}
	r = cmd->run(&ctx);
	status = r < 0 ? ADMIN_EXIT_FAIL : 0;
out:
	store_close(ctx.store);
	conf_free(&ctx.conf); /* all-NULL when never loaded */
	return status;
}
