/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * OAuth2 client credentials (RFC 6749 4.4): one POST to the token endpoint
 * with the client's id and secret in HTTP Basic, and the JSON reply parsed
 * with json-c. Blocking; the caller's thread.
 */
#ifndef RC_OAUTH_H
#define RC_OAUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "options.h"

struct rc_oauth_token {
	char *access_token; /* malloc'd; wiped by rc_oauth_token_clear */
	long expires_in;    /* seconds, -1 when the reply gave none */
	char error[64];	    /* "error" of a refusal, printable, or "" */
};

/* Parses a token endpoint's JSON reply body[0..n). Returns true when it
 * holds a usable access_token (token_type absent or Bearer); otherwise
 * *why is a static message, and t->error holds any "error" member. */
bool rc_oauth_parse(const char *body, size_t n, struct rc_oauth_token *t,
		    const char **why);

/* Asks url for a token. RC_OK with *t filled; RC_E_REMOTE when refused,
 * RC_E_NETWORK when unreachable or the reply is unusable, with why (no
 * secret in it). */
enum rc_err rc_oauth_fetch(const char *url, const char *client_id,
			   const char *client_secret, const char *scope,
			   const struct rc_opts *o, struct rc_oauth_token *t,
			   char *why, size_t whylen);

/* Wipes and frees the token. */
void rc_oauth_token_clear(struct rc_oauth_token *t);

#endif
