/* Output of the admin tool: error messages on stderr, aligned plain-text tables
 * and one JSON document on stdout. */
#ifndef SFTPDROP_ADMIN_OUTPUT_H
#define SFTPDROP_ADMIN_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* "sftpdrop-admin: MESSAGE\n" on stderr. */
void admin_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* s quoted for a message: "...", with control characters, invalid UTF-8 and
 * quotes escaped, cut after 64 characters. Points into one of 4 rotating
 * static buffers (valid for the next 3 calls); NULL gives "-". */
const char *admin_q(const char *s);

/* A table of text cells, printed with columns padded to the widest cell.
 * Cells are copied; control characters are shown escaped so that stored
 * values cannot drive the operator's terminal. */
struct admin_out_table;

/* headers: ncols strings (static). *out owned by the caller:
 * admin_out_table_free(). */
int admin_out_table_new(const char *const *headers, size_t ncols,
			struct admin_out_table **out);
/* Append one row of ncols cells (NULL prints as "-"). 0 or -ENOMEM. */
int admin_out_table_add(struct admin_out_table *t, const char *const *cells);
/* Print header and rows to stdout. 0 or -EIO. */
int admin_out_table_print(const struct admin_out_table *t);
void admin_out_table_free(struct admin_out_table *t);

/* One record as "key:   value" lines, the values aligned and escaped like
 * table cells (NULL prints as "-"). keys and values hold n strings each.
 * 0, -ENOMEM or -EIO. */
int admin_out_fields_print(const char *const *keys, const char *const *values, size_t n);

/* Indented for people reading --json output; slashes in paths left alone. */
#define ADMIN_OUT_JSON_FLAGS \
	(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Print o as one JSON document and a newline on stdout. 0 or -EIO. Does not
 * take o. */
int admin_out_json_print(struct json_object *o);
/* Write len bytes to stdout directly, bypassing stdio so that no copy stays in
 * a buffer we cannot wipe (for generated secrets). 0 or -errno. */
int admin_out_write_direct(const char *buf, size_t len);

/* Members of a JSON object. Each records the first failure in *r (-ENOMEM),
 * so that a builder adds all members and checks once. */
void admin_out_json_add_str(struct json_object *obj, const char *key, const char *s, int *r);
/* A string, or JSON null for NULL or "" ("not known yet"). */
void admin_out_json_add_opt_str(struct json_object *obj, const char *key, const char *s,
				int *r);
void admin_out_json_add_int(struct json_object *obj, const char *key, int64_t v, int *r);
void admin_out_json_add_bool(struct json_object *obj, const char *key, bool v, int *r);
/* ISO-8601 UTC time, or JSON null for t == 0 ("never"). */
void admin_out_json_add_time(struct json_object *obj, const char *key, int64_t t, int *r);
/* Append obj to the array arr (taking obj even on failure). */
void admin_out_json_append(struct json_object *arr, struct json_object *obj, int *r);

/* A result that shows generated secrets (user add, user reset-password):
 * printed once, as "label: value" lines and a note, or as one JSON object.
 * No copy is left in stdio's buffers, and json-c's copies are wiped. */
struct admin_secret_item {
	const char *key;   /* JSON member */
	const char *label; /* human output; NULL: JSON only */
	const char *value; /* NULL: JSON null, and no human line */
	bool is_bool;      /* a JSON boolean (flag) instead of value */
	bool flag;
	bool secret;       /* wipe json-c's copy */
};

/* Print items (n of them) and, for people, note after a blank line. buf
 * (bufsz bytes) is the caller's, for the text: the caller wipes it.
 * 0 or -errno (-ENOSPC: buf too small). */
int admin_out_secrets(bool json, const struct admin_secret_item *items, size_t n,
		      const char *note, char *buf, size_t bufsz);

/* A listing command's output: a table, or with --json one array of objects. */
struct admin_out_list {
	bool json;
	struct admin_out_table *table;
	struct json_object *array;
};

/* Start a listing; headers (static, ncols of them) are used for the table. */
int admin_out_list_begin(struct admin_out_list *l, bool json, const char *const *headers,
			 size_t ncols);
/* Add one table row (human mode). */
int admin_out_list_row(struct admin_out_list *l, const char *const *cells);
/* Add one object (JSON mode); takes obj, which may be NULL after a failed
 * allocation (then -ENOMEM). */
int admin_out_list_object(struct admin_out_list *l, struct json_object *obj);
/* Print the listing. 0 or -errno. */
int admin_out_list_print(const struct admin_out_list *l);
void admin_out_list_free(struct admin_out_list *l);

#endif
