/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * AWS Signature Version 4 for GET requests: the canonical request, the
 * string to sign and the Authorization header value, on mbedTLS's SHA-256
 * and HMAC-SHA256. Pure functions over their arguments; any thread.
 */
#ifndef RC_SIGV4_H
#define RC_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

/* The empty body's SHA-256, which every GET signs as its payload hash. */
#define RC_SIGV4_EMPTY_SHA256                                                  \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* One request to sign. */
struct rc_sigv4_req {
	const char *method;
	const char *path;  /* as sent; percent-escapes are decoded, then
			    * every byte but unreserved ones and '/' is
			    * encoded once */
	const char *query; /* without '?'; NULL or "" for none */
	const char *const *headers; /* "Name:value" lines to sign; a value
				     * may hold "\n"-folded lines */
	size_t nheaders;
	const char *payload_hash; /* lowercase hex */
	const char *amz_date;	  /* "YYYYMMDDTHHMMSSZ" */
	bool normalize;		  /* other services than S3: drop "." and ".."
				   * segments and empty ones; S3 signs the path as
				   * it is */
};

struct rc_sigv4_cred {
	const char *access_key;
	const char *secret_key;
	const char *region;
	const char *service; /* "s3" */
};

/* The canonical request, and in *signed_headers the ';'-joined list of
 * header names it signs. Both malloc'd (the caller frees); NULL when out
 * of memory. */
char *rc_sigv4_canonical(const struct rc_sigv4_req *r, char **signed_headers);

/* The string to sign for canonical request creq. malloc'd, or NULL. */
char *rc_sigv4_string_to_sign(const struct rc_sigv4_req *r,
			      const struct rc_sigv4_cred *c, const char *creq);

/* The Authorization header's value ("AWS4-HMAC-SHA256 Credential=...").
 * malloc'd, or NULL when out of memory. */
char *rc_sigv4_authorization(const struct rc_sigv4_req *r,
			     const struct rc_sigv4_cred *c);

/* Writes n bytes as lowercase hex to out (2n + 1 bytes with the NUL). */
void rc_sigv4_hex(const unsigned char *d, size_t n, char *out);

/* Writes the lowercase hex SHA-256 of data (65 bytes with the NUL). */
void rc_sigv4_sha256_hex(const void *data, size_t n, char out[65]);

/* Appends to out (outlen bytes) the S3 encoding of s: every byte but
 * A-Z a-z 0-9 - . _ ~ as %XX, and '/' too unless keep_slash. Returns
 * false when out is too small. */
bool rc_sigv4_encode(const char *s, size_t n, bool keep_slash, char *out,
		     size_t outlen);

#endif
