/* Tables, JSON documents and error messages of the admin tool. Everything a
 * command prints goes through here, so the escaping of stored values and the
 * detection of write errors (a full disk, a closed pipe) live in one place. */
#include "output.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "utf8.h"
#include "util.h"

/* admin_q(): values in messages are cut after this many characters; a few
 * calls may be used in one message. */
#define OUT_Q_CHARS 64
#define OUT_Q_BUFS 4

struct admin_out_table {
	size_t ncols;
	const char *const *headers;
	char **cells; /* rows * ncols, row-major */
	size_t rows, cap;
};

void admin_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout); /* keep the order of what a terminal shows */
	fputs("sftpdrop-admin: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int admin_out_table_new(const char *const *headers, size_t ncols, struct admin_out_table **out)
{
	struct admin_out_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->headers = headers;
	t->ncols = ncols;
	*out = t;
	return 0;
}

/* Display form of s into out (4 * strlen(s) + 1 bytes): printable UTF-8 as
 * it is; control characters (C0, DEL, C1), invalid bytes and the backslash
 * escaped as \xNN / \\, and with quote also '"'. At most max_chars
 * characters when max_chars > 0, then "..." (out needs 3 more bytes). */
static size_t escape_into(const char *s, size_t max_chars, bool quote, char *out)
{
	size_t o = 0;
	size_t chars = 0;

	while (*s) {
		uint32_t cp = 0;
		size_t n = admin_utf8_next(s, &cp);

		if (max_chars && chars++ == max_chars) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			if (n == 0)
				n = 1;
			for (size_t i = 0; i < n; i++)
				o += (size_t)snprintf(out + o, 5, "\\x%02x", (unsigned char)s[i]);
		} else if (cp == '\\' || (quote && cp == '"')) {
			out[o++] = '\\';
			out[o++] = (char)cp;
		} else {
			memcpy(out + o, s, n);
			o += n;
		}
		s += n;
	}
	out[o] = '\0';
	return o;
}

static char *escape_cell(const char *s)
{
	char *out = malloc(strlen(s) * 4 + 1);

	if (out)
		escape_into(s, 0, false, out);
	return out;
}

const char *admin_q(const char *s)
{
	static char bufs[OUT_Q_BUFS][OUT_Q_CHARS * 16 + 8];
	static unsigned next;
	char *out = bufs[next++ % OUT_Q_BUFS];
	char cut[OUT_Q_CHARS * 4 + 1];
	size_t len;

	if (!s)
		return "-";
	/* Only the first characters are shown: copy at most as many bytes as
	 * OUT_Q_CHARS + 1 four-byte characters need, so the "..." still shows. */
	len = strnlen(s, sizeof(cut) - 1);
	memcpy(cut, s, len);
	cut[len] = '\0';
	out[0] = '"';
	len = 1 + escape_into(cut, OUT_Q_CHARS, true, out + 1);
	out[len++] = '"';
	out[len] = '\0';
	return out;
}

int admin_out_table_add(struct admin_out_table *t, const char *const *cells)
{
	size_t base;

	if (t->rows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		char **n = reallocarray(t->cells, ncap * t->ncols, sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->cells = n;
		t->cap = ncap;
	}
	base = t->rows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++) {
		t->cells[base + i] = escape_cell(cells[i] ? cells[i] : "-");
		if (!t->cells[base + i]) {
			while (i-- > 0)
				free(t->cells[base + i]);
			return -ENOMEM;
		}
	}
	t->rows++;
	return 0;
}

/* Width on a terminal, counted in UTF-8 code points (good enough for names). */
static size_t display_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void print_row(const char *const *cells, const size_t *width, size_t ncols)
{
	for (size_t i = 0; i < ncols; i++) {
		bool last = i + 1 == ncols;

		fputs(cells[i], stdout);
		if (!last)
			printf("%*s", (int)(width[i] - display_width(cells[i]) + 2), "");
	}
	putchar('\n');
}

int admin_out_table_print(const struct admin_out_table *t)
{
	size_t *width = calloc(t->ncols, sizeof(*width));

	if (!width)
		return -ENOMEM;
	for (size_t c = 0; c < t->ncols; c++) {
		width[c] = display_width(t->headers[c]);
		for (size_t r = 0; r < t->rows; r++) {
			size_t w = display_width(t->cells[r * t->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	}
	print_row(t->headers, width, t->ncols);
	for (size_t r = 0; r < t->rows; r++)
		print_row((const char *const *)&t->cells[r * t->ncols], width, t->ncols);
	free(width);
	if (fflush(stdout) != 0 || ferror(stdout))
		return -EIO;
	return 0;
}

int admin_out_fields_print(const char *const *keys, const char *const *values, size_t n)
{
	size_t width = 0;

	for (size_t i = 0; i < n; i++)
		if (display_width(keys[i]) > width)
			width = display_width(keys[i]);
	for (size_t i = 0; i < n; i++) {
		char *v = escape_cell(values[i] ? values[i] : "-");

		if (!v)
			return -ENOMEM;
		printf("%s:%*s%s\n", keys[i], (int)(width - display_width(keys[i]) + 2), "", v);
		free(v);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		return -EIO;
	return 0;
}

void admin_out_table_free(struct admin_out_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

int admin_out_json_print(struct json_object *o)
{
	const char *s;

	/* json-c prints an empty array as "[\n]" when pretty; "[]" is what a
	 * reader (and a script comparing text) expects. */
	if (json_object_is_type(o, json_type_array) && json_object_array_length(o) == 0)
		s = "[]";
	else
		s = json_object_to_json_string_ext(o, ADMIN_OUT_JSON_FLAGS);
	if (!s)
		return -ENOMEM;
	if (fputs(s, stdout) == EOF || putchar('\n') == EOF || fflush(stdout) != 0)
		return -EIO;
	return 0;
}

int admin_out_write_direct(const char *buf, size_t len)
{
	if (fflush(stdout) != 0)
		return -EIO;
	return util_write_all(STDOUT_FILENO, buf, len);
}

/* Add val (NULL: JSON null) under key; takes val. */
static void add(struct json_object *obj, const char *key, struct json_object *val,
		bool want_value, int *r)
{
	if (want_value && !val) {
		*r = -ENOMEM;
		return;
	}
	if (json_object_object_add(obj, key, val) != 0) {
		json_object_put(val);
		*r = -ENOMEM;
	}
}

/* A JSON string of s. json-c copies bytes unchecked, and one invalid byte
 * (say, in an upload name) would make the whole document unreadable: such
 * bytes become U+FFFD. */
static struct json_object *json_text(const char *s)
{
	struct json_object *o;
	char *fixed;
	size_t f = 0;

	if (admin_utf8_valid(s))
		return json_object_new_string(s);
	fixed = malloc(strlen(s) * 3 + 1);
	if (!fixed)
		return NULL;
	while (*s) {
		uint32_t cp;
		size_t n = admin_utf8_next(s, &cp);

		if (n == 0) {
			memcpy(fixed + f, "\xef\xbf\xbd", 3);
			f += 3;
			s++;
		} else {
			memcpy(fixed + f, s, n);
			f += n;
			s += n;
		}
	}
	fixed[f] = '\0';
	o = json_object_new_string(fixed);
	free(fixed);
	return o;
}

void admin_out_json_add_str(struct json_object *obj, const char *key, const char *s, int *r)
{
	add(obj, key, json_text(s), true, r);
}

void admin_out_json_add_opt_str(struct json_object *obj, const char *key, const char *s,
				int *r)
{
	if (s && *s)
		add(obj, key, json_text(s), true, r);
	else
		add(obj, key, NULL, false, r);
}

void admin_out_json_add_int(struct json_object *obj, const char *key, int64_t v, int *r)
{
	add(obj, key, json_object_new_int64(v), true, r);
}

void admin_out_json_add_bool(struct json_object *obj, const char *key, bool v, int *r)
{
	add(obj, key, json_object_new_boolean(v), true, r);
}

void admin_out_json_add_time(struct json_object *obj, const char *key, int64_t t, int *r)
{
	char iso[32];

	if (t == 0) {
		add(obj, key, NULL, false, r);
		return;
	}
	util_iso8601(t, iso, sizeof(iso));
	add(obj, key, json_object_new_string(iso), true, r);
}

/* Wipe what json-c holds of a secret string (it offers no wiping free). */
static void wipe_json_string(struct json_object *o)
{
	if (o && json_object_is_type(o, json_type_string))
		explicit_bzero((char *)json_object_get_string(o),
			       (size_t)json_object_get_string_len(o));
}

/* Secret strings are kept by pointer (an extra reference) so that their text
 * can be wiped before the document is freed. */
#define OUT_MAX_SECRETS 8

static int secrets_json(const struct admin_secret_item *items, size_t n)
{
	struct json_object *o = json_object_new_object();
	struct json_object *kept[OUT_MAX_SECRETS] = { 0 };
	size_t n_kept = 0;
	const char *doc;
	int r = 0;

	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++) {
		const struct admin_secret_item *it = &items[i];
		struct json_object *v;

		if (it->is_bool) {
			admin_out_json_add_bool(o, it->key, it->flag, &r);
			continue;
		}
		if (!it->value) {
			add(o, it->key, NULL, false, &r);
			continue;
		}
		if (!it->secret) {
			admin_out_json_add_str(o, it->key, it->value, &r);
			continue;
		}
		if (n_kept == OUT_MAX_SECRETS) {
			r = -ENOSPC;
			break;
		}
		/* Generated secrets are ASCII: no U+FFFD repair copy is made. */
		v = json_object_new_string(it->value);
		if (!v) {
			r = -ENOMEM;
			break;
		}
		kept[n_kept++] = v;
		add(o, it->key, json_object_get(v), true, &r);
	}
	if (r < 0)
		goto out;
	doc = json_object_to_json_string_ext(o, ADMIN_OUT_JSON_FLAGS);
	if (!doc) {
		r = -ENOMEM;
		goto out;
	}
	r = admin_out_write_direct(doc, strlen(doc));
	if (r == 0)
		r = admin_out_write_direct("\n", 1);
	/* The serialised document lives in the object's print buffer. */
	explicit_bzero((char *)doc, strlen(doc));
out:
	for (size_t i = 0; i < n_kept; i++) {
		wipe_json_string(kept[i]);
		json_object_put(kept[i]);
	}
	json_object_put(o);
	return r;
}

int admin_out_secrets(bool json, const struct admin_secret_item *items, size_t n,
		      const char *note, char *buf, size_t bufsz)
{
	size_t width = 0, o = 0;
	int k;

	if (json)
		return secrets_json(items, n);
	for (size_t i = 0; i < n; i++)
		if (items[i].label && strlen(items[i].label) > width)
			width = strlen(items[i].label);
	/* Formatted into the caller's buffer and written with write(2): stdio
	 * would keep a copy of the secrets in a buffer nobody can wipe. Values
	 * are generated or already checked, so they are printed as they are. */
	for (size_t i = 0; i < n; i++) {
		const struct admin_secret_item *it = &items[i];

		if (!it->label || (!it->is_bool && !it->value))
			continue;
		k = snprintf(buf + o, bufsz - o, "%s:%*s%s\n", it->label,
			     (int)(width - strlen(it->label) + 1), "",
			     it->is_bool ? (it->flag ? "yes" : "no") : it->value);
		if (k < 0 || (size_t)k >= bufsz - o)
			return -ENOSPC;
		o += (size_t)k;
	}
	if (note) {
		k = snprintf(buf + o, bufsz - o, "\n%s", note);
		if (k < 0 || (size_t)k >= bufsz - o)
			return -ENOSPC;
		o += (size_t)k;
	}
	return admin_out_write_direct(buf, o);
}

void admin_out_json_append(struct json_object *arr, struct json_object *obj, int *r)
{
	if (!obj) {
		*r = -ENOMEM;
		return;
	}
	if (json_object_array_add(arr, obj) != 0) {
		json_object_put(obj);
		*r = -ENOMEM;
	}
}

int admin_out_list_begin(struct admin_out_list *l, bool json, const char *const *headers,
			 size_t ncols)
{
	l->json = json;
	l->table = NULL;
	l->array = NULL;
	if (!json)
		return admin_out_table_new(headers, ncols, &l->table);
	l->array = json_object_new_array();
	return l->array ? 0 : -ENOMEM;
}

int admin_out_list_row(struct admin_out_list *l, const char *const *cells)
{
	return admin_out_table_add(l->table, cells);
}

int admin_out_list_object(struct admin_out_list *l, struct json_object *obj)
{
	int r = 0;

	admin_out_json_append(l->array, obj, &r);
	return r;
}

int admin_out_list_print(const struct admin_out_list *l)
{
	return l->json ? admin_out_json_print(l->array) : admin_out_table_print(l->table);
}

void admin_out_list_free(struct admin_out_list *l)
{
	admin_out_table_free(l->table);
	json_object_put(l->array);
	l->table = NULL;
	l->array = NULL;
}
