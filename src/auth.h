/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * Credentials from the environment, and what each request carries. One
 * scheme per run: a bearer token, Basic (from RANGECAT_USER/_PASSWORD or
 * the URL's user:password), secret headers, netrc, S3 SigV4, OAuth2
 * client credentials or HMAC request signing. Credentials go only to the
 * origin they were given for (rc_auth_headers checks every URL).
 *
 * The fetcher thread builds headers while it runs; main builds the object
 * and frees it after the fetcher has ended. The OAuth token is refreshed
 * under a mutex, so any thread may ask for headers.
 */
#ifndef RC_AUTH_H
#define RC_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "err.h"
#include "options.h"

enum rc_auth_kind {
	RC_AUTH_NONE,
	RC_AUTH_BEARER,
	RC_AUTH_BASIC,
	RC_AUTH_HEADERS,
	RC_AUTH_NETRC,
	RC_AUTH_S3,
	RC_AUTH_OAUTH,
	RC_AUTH_HMAC,
};

struct rc_auth;

/*
 * Reads the credentials for o->url from the environment (get), picks the
 * one scheme, and turns an s3:// URL into the https:// (or endpoint) URL
 * to fetch. On RC_OK *out is set; otherwise why says which variables are
 * at fault (never their values): RC_E_USAGE for conflicts and half-set
 * schemes.
 */
enum rc_err rc_auth_new(const struct rc_opts *o, rc_getenv_fn get,
			struct rc_auth **out, char *why, size_t whylen);

/*
 * Once rc_auth_new has copied them, wipes the secrets from where
 * /proc/PID/environ and /proc/PID/cmdline show them: the secret variables
 * (removed), a password in a proxy variable (the variable stays, on the
 * heap, for libcurl) and a password in a URL in argv (the URL stays,
 * without it). Returns true when a proxy or URL password was found.
 */
bool rc_auth_scrub(int argc, char *argv[]);

/* True when a holds a credential, or -H gave a secret-looking header. */
bool rc_auth_holds_secret(const struct rc_auth *a);

/* The URL to fetch (s3:// resolved, userinfo removed); owned by a. */
const char *rc_auth_url(const struct rc_auth *a);

enum rc_auth_kind rc_auth_kind(const struct rc_auth *a);

/* Fetches what must exist before the first request (the OAuth token).
 * RC_E_REMOTE when the token endpoint refuses, RC_E_NETWORK when it cannot
 * be reached; why names the variables and what the endpoint answered. */
enum rc_err rc_auth_start(struct rc_auth *a, const struct rc_opts *o, char *why,
			  size_t whylen);

/* Whether url is on the origin the credentials were given for: same host
 * and port and scheme, or the same host moving from http to https. */
bool rc_auth_same_origin(const struct rc_auth *a, const char *url);

/* Applies what a handle needs for every request of this run (S3's
 * unnormalised paths). */
void rc_auth_setup_easy(const struct rc_auth *a, CURL *h);

/*
 * The headers of one GET of url with CURLOPT_RANGE range (NULL for none):
 * the -H headers (less secret ones on another origin), extra (a pinning
 * header or NULL), then the credentials when url is on their origin, with
 * a fresh signature and an OAuth token refreshed when due. *gen is set to
 * the token generation used. Returns a new list (free it with
 * rc_auth_free_list; NULL when empty) with *err RC_OK, or NULL with *err
 * RC_E_NOMEM or the token endpoint's error, and why set.
 */
struct curl_slist *rc_auth_headers(struct rc_auth *a, const char *url,
				   const char *range, const char *extra,
				   unsigned *gen, enum rc_err *err, char *why,
				   size_t whylen);

/* Wipes and frees a list from rc_auth_headers. */
void rc_auth_free_list(struct curl_slist *l);

/* A request sent with token generation gen got a 401. Refreshes the OAuth
 * token unless that happened since gen. Returns false when the scheme has
 * nothing to refresh, or the refresh failed (why says how). */
bool rc_auth_refresh(struct rc_auth *a, unsigned gen, enum rc_err *err,
		     char *why, size_t whylen);

/* A redirect from -> to: RC_OK, or RC_E_REMOTE with why set when it must
 * not be followed (a scheme other than http/https, or https to http while
 * credentials are in use). */
enum rc_err rc_auth_redirect_ok(const struct rc_auth *a, const char *from,
				const char *to, char *why, size_t whylen);

/* Appends to out a hint for a 401/403 (or any refusal): which variables
 * were used or could be set. s3code is the S3 <Code> or "". */
void rc_auth_hint(const struct rc_auth *a, long status, const char *s3code,
		  char *out, size_t outlen);

/* Writes to out the proxy curl uses for url, as "URL (VARIABLE)" with
 * any password redacted; false (and "the proxy") when none is set. */
bool rc_auth_proxy_name(const char *url, char *out, size_t outlen);

/* Writes to out the <Code> of an S3 error reply body (NUL-terminated), or
 * "" when there is none; only letters and digits are kept. */
void rc_auth_s3_code(const char *body, char *out, size_t outlen);

/* Frees a, wiping every secret. Accepts NULL. */
void rc_auth_free(struct rc_auth *a);

#endif
