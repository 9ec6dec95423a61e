/* `uploads --partial`: uploads that never had a clean CLOSE, found on disk
 * (their staging files) rather than in the store, because nothing about
 * them is on record until they are published. */
#ifndef SFTPDROP_ADMIN_PARTIALS_H
#define SFTPDROP_ADMIN_PARTIALS_H

#include "admin.h"

/* List the partials under upload_root (of one relation when relation is
 * not NULL). Prints its own errors. 0 or -errno. */
int admin_uploads_partial(struct admin_ctx *ctx, const char *relation);

#endif
