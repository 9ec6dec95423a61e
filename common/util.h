/* Small utilities shared by all programs: randomness, encodings, constant-time
 * comparison, SHA-256 of a file, directory creation. */
#ifndef SFTPDROP_UTIL_H
#define SFTPDROP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UTIL_SHA256_LEN 32
#define UTIL_SHA256_HEX (UTIL_SHA256_LEN * 2 + 1)

/* Fill buf with n bytes from the kernel CSPRNG. 0 or -errno. */
int util_random(void *buf, size_t n);
/* Uniform random integer in [0, bound), bound > 0. 0 or -errno. */
int util_random_below(uint32_t bound, uint32_t *out);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void util_hex(const uint8_t *in, size_t len, char *out);

/* RFC 4648 base32 without padding into out; -ENOSPC if outsz is too small. */
int util_base32_encode(const uint8_t *in, size_t len, char *out, size_t outsz);

/* Constant-time equality of two buffers of the same length. */
bool util_ct_equal(const void *a, const void *b, size_t len);

/* SHA-256 of everything readable from fd (read from its current offset), and
 * the number of bytes read. Output written only on success. 0 or -errno. */
int util_sha256_fd(int fd, uint8_t out[UTIL_SHA256_LEN], uint64_t *size);

/* Write all len bytes to fd, retrying on EINTR and short writes. 0 or -errno. */
int util_write_all(int fd, const void *buf, size_t len);

/* Create path and its missing parents with mode. 0 or -errno. */
int util_mkdir_p(const char *path, unsigned mode);

/* Strict decimal parse of a whole string into [min, max]. 0 or -EINVAL/-ERANGE. */
int util_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/* UTC ISO-8601 "YYYY-MM-DDTHH:MM:SSZ" of t into out (at least 21 bytes). */
void util_iso8601(int64_t t, char *out, size_t outsz);

#endif
