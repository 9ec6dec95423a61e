/* Path decisions of the ingest watcher: where a path sits under the upload
 * root (relation number, name inside the relation dir), which names are never
 * ingested, and what a spool file is called. String work only, no I/O. */
#include "ingest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "store.h"

int ingest_path_relative(const char *root, const char *path, const char **rel)
{
	size_t rl = strlen(root);

	/* "/srv/up/" and "/srv/up" are the same root; "/" becomes "". */
	while (rl > 0 && root[rl - 1] == '/')
		rl--;
	if (strncmp(path, root, rl) != 0 || path[rl] != '/' || path[rl + 1] == '\0' ||
	    path[rl + 1] == '/')
		return -EINVAL;
	*rel = path + rl + 1;
	return 0;
}

bool ingest_relation_valid(const char *s, size_t len)
{
	if (len == 0 || len > SD_RELATION_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

/* Every component non-empty and neither "." nor "..": the kernel never
 * reports such names, so seeing one means the path was not built by us. */
static bool components_valid(const char *p)
{
	for (;;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 0 || n > INGEST_NAME_MAX || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!end)
			return true;
		p = end + 1;
	}
}

int ingest_path_split(const char *rel, char relation[SD_RELATION_MAX + 1],
		      const char **name)
{
	const char *slash = strchr(rel, '/');
	size_t rlen;

	if (!slash)
		return -EINVAL;
	rlen = (size_t)(slash - rel);
	if (!ingest_relation_valid(rel, rlen) || !components_valid(slash + 1))
		return -EINVAL;
	if (strlen(slash + 1) >= STORE_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(relation, rel, rlen);
	relation[rlen] = '\0';
	*name = slash + 1;
	return 0;
}

unsigned ingest_path_depth(const char *rel)
{
	unsigned n = 0;

	if (*rel == '\0')
		return 0;
	for (const char *p = rel; *p; p++) {
		if (*p == '/')
			n++;
	}
	return n + 1;
}

const char *ingest_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

bool ingest_name_reserved(const char *basename)
{
	return !strncmp(basename, SD_RESERVED_PREFIX, strlen(SD_RESERVED_PREFIX));
}

bool ingest_name_skipped(const char *patterns, const char *basename)
{
	if (basename[0] == '\0' || !strcmp(basename, ".") || !strcmp(basename, ".."))
		return true;
	if (ingest_name_reserved(basename))
		return true;
	return conf_name_matches(patterns, basename);
}

int ingest_receipt_name(int64_t id, const char *name, char *out, size_t outsz)
{
	static const char ext[] = ".json";
	char base[INGEST_NAME_MAX + 1];
	int n;

	/* The spool rule with room kept for the extension. */
	n = ingest_spool_name(id, name, base, INGEST_NAME_MAX + 1 - (sizeof(ext) - 1));
	if (n < 0) {
		/* Too small only when cut: cut it the same way, shorter. */
		char full[INGEST_NAME_MAX + 1];
		size_t keep = INGEST_NAME_MAX - (sizeof(ext) - 1);

		n = ingest_spool_name(id, name, full, sizeof(full));
		if (n < 0)
			return n;
		while (keep > 0 && ((unsigned char)full[keep] & 0xc0) == 0x80)
			keep--;
		memcpy(base, full, keep);
		base[keep] = '\0';
		n = (int)keep;
	}
	if ((size_t)n + sizeof(ext) > outsz)
		return -ENAMETOOLONG;
	memcpy(out, base, (size_t)n);
	memcpy(out + n, ext, sizeof(ext));
	return n + (int)sizeof(ext) - 1;
}

int ingest_spool_name(int64_t id, const char *name, char *out, size_t outsz)
{
	const char *base = ingest_basename(name);
	char prefix[32];
	size_t plen, blen;
	int n;

	n = snprintf(prefix, sizeof(prefix), "%" PRId64 "-", id);
	if (n < 0 || (size_t)n >= sizeof(prefix))
		return -EINVAL;
	plen = (size_t)n;
	blen = strlen(base);
	if (plen + blen > INGEST_NAME_MAX) {
		blen = INGEST_NAME_MAX - plen;
		/* Back off to the start of a character: a UTF-8 continuation
		 * byte is 10xxxxxx. */
		while (blen > 0 && ((unsigned char)base[blen] & 0xc0) == 0x80)
			blen--;
	}
	if (plen + blen + 1 > outsz)
		return -ENAMETOOLONG;
	memcpy(out, prefix, plen);
	memcpy(out + plen, base, blen);
	out[plen + blen] = '\0';
	return (int)(plen + blen);
}
