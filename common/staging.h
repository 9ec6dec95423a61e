/* Names and locks of upload staging files, shared by the SFTP engine (which
 * writes them), sftpdrop-ingest (which expires interrupted ones) and
 * sftpdrop-admin (which lists them). A staging file is called
 *   SD_STAGING_PREFIX "resume." TARGET   the resumable slot of TARGET, or
 *   SD_STAGING_PREFIX HEX16 "." TARGET   a concurrent upload of TARGET,
 * beside TARGET in its directory (TARGET cut to fit NAME_MAX in the second
 * form). The writer holds an open-file-description write lock on it for as
 * long as its handle is open, so anyone can tell an upload in progress from
 * an interrupted one, also after the writer was killed. */
#ifndef SFTPDROP_STAGING_H
#define SFTPDROP_STAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "defs.h"

/* Linux NAME_MAX plus the NUL. */
#define STAGING_NAME_MAX 256
/* Random bytes in the name of a non-resumable staging file. */
#define STAGING_RANDOM_LEN 8

/* The resumable slot of target (a file name, no '/'). -ENAMETOOLONG when
 * target does not fit whole (such names have no resumable slot). */
int staging_name_resume(const char *target, char out[STAGING_NAME_MAX]);
/* A non-resumable staging name for target from rnd; target is cut at a UTF-8
 * character boundary if needed. Always succeeds for a valid target. */
int staging_name_random(const char *target, const uint8_t rnd[STAGING_RANDOM_LEN],
			char out[STAGING_NAME_MAX]);
/* Is name a staging name? Then *target points into name at the target (""
 * when the name has none: an older or foreign format), *resume says which
 * kind, and *cut whether target may have been shortened. */
bool staging_name_parse(const char *name, const char **target, bool *resume, bool *cut);

/* Lock an open staging file: exclusive (writer; fd must be open for writing)
 * or shared (someone about to remove it). wait: block until free. 0, -EAGAIN
 * when another open file description holds a conflicting lock, or -errno. */
int staging_lock(int fd, bool exclusive, bool wait);
/* Does another open file description hold a write lock on fd's file? 1 yes,
 * 0 no, -errno. Takes no lock itself. */
int staging_locked(int fd);

#endif
