/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The AWS credential chain for s3:// URLs when the environment holds no
 * keys: web identity (STS AssumeRoleWithWebIdentity), the shared profile
 * files (keys, credential_process), the container credentials endpoint
 * and EC2 instance metadata (IMDSv2), in the AWS CLI's order. Temporary
 * credentials are fetched again before they expire. Nothing is written
 * anywhere; messages name variables and files, never values.
 *
 * main builds the chain (rc_awscreds_new) and makes the first fetch
 * (rc_awscreds_start); afterwards any thread may take the current
 * credentials (rc_awscreds_lock/unlock), which a mutex guards.
 */
#ifndef RC_AWSCREDS_H
#define RC_AWSCREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "err.h"
#include "options.h"

/* One set of credentials. Strings malloc'd, wiped by rc_aws_cred_clear. */
struct rc_aws_cred {
	char *access_key;
	char *secret_key;
	char *session_token; /* NULL when none */
	time_t expires;	     /* wall-clock expiry, 0 = does not expire */
};

/* Wipes and frees c's strings; c stays usable (all NULL). */
void rc_aws_cred_clear(struct rc_aws_cred *c);

/* ------------------------------------------------------------ parsers */

/* A parsed INI file (the AWS shared config and credentials files). */
struct rc_aws_ini;

/*
 * Parses text[0..n) in the AWS files' INI dialect: "[section]" headers,
 * "key = value" lines (keys case-insensitive, both sides trimmed), full
 * line comments starting with '#' or ';', and lines indented deeper than
 * a key with an empty value (a nested block such as "s3 =", kept as
 * "key.sub"); keys indented alike are keys, as for the AWS CLI. Returns the
 * parsed file in *out (free it with rc_aws_ini_free), or NULL with *line set to
 * the first bad line and *why to a static message (*line 0 and "out of memory"
 * when allocation failed). A key outside any section, a line that is neither,
 * and a section or key given twice are errors, as in the AWS CLI.
 */
struct rc_aws_ini *rc_aws_ini_parse(const char *text, size_t n, unsigned *line,
				    const char **why);

/* The value of key in section, or NULL. Owned by ini. */
const char *rc_aws_ini_get(const struct rc_aws_ini *ini, const char *section,
			   const char *key);

/* True when section exists (even empty). */
bool rc_aws_ini_has(const struct rc_aws_ini *ini, const char *section);

/* Wipes (values may be secrets) and frees ini. Accepts NULL. */
void rc_aws_ini_free(struct rc_aws_ini *ini);

/* Parses an ISO 8601 time ("2026-11-30T08:40:00Z", fractions allowed,
 * "Z" or an offset such as "+02:00" or "-0500") into *out, UTC. */
bool rc_aws_parse_time(const char *s, time_t *out);

/*
 * Parses the JSON credentials of the container endpoint, IMDS (Token)
 * and credential_process (SessionToken, "Version": 1) into *c. Returns
 * false with *why a static message when the reply is unusable.
 */
bool rc_aws_parse_json(const char *body, size_t n, struct rc_aws_cred *c,
		       const char **why);

/*
 * Parses an STS AssumeRoleWithWebIdentity XML reply into *c. When it is
 * an error reply, code gets its <Code> (letters and digits only) and
 * false is returned with *why set.
 */
bool rc_aws_parse_sts(const char *body, size_t n, struct rc_aws_cred *c,
		      char *code, size_t codelen, const char **why);

/*
 * When to fetch new credentials: expiry minus 5 minutes, or for
 * credentials that live under 10 minutes from their fetch (at fetched),
 * half-way through their life. 0 when they do not expire.
 */
time_t rc_aws_refresh_at(time_t fetched, time_t expires);

/* ------------------------------------------------------------ the chain */

struct rc_awscreds;

/*
 * Reads the environment (get) and the profile files: the profile's
 * region and endpoint_url, and, when want_creds, which source will give
 * the credentials (no network yet). RC_OK with *out set (a chain that
 * may have no source: see rc_awscreds_source), or RC_E_USAGE with why
 * naming the variable or file at fault (bad INI, a missing profile that
 * AWS_PROFILE names, a half-set web identity, a refused container URL).
 */
enum rc_err rc_awscreds_new(const struct rc_opts *o, rc_getenv_fn get,
			    bool want_creds, struct rc_awscreds **out,
			    char *why, size_t whylen);

/* The profile's region / endpoint_url, or NULL. Owned by c. */
const char *rc_awscreds_region(const struct rc_awscreds *c);
const char *rc_awscreds_endpoint(const struct rc_awscreds *c);

/* The source in use, for -v and hints ("web identity
 * (AWS_WEB_IDENTITY_TOKEN_FILE)"), or NULL when there is none. */
const char *rc_awscreds_source(const struct rc_awscreds *c);

/*
 * Sets the region STS is reached in, then fetches the first credentials
 * (blocking; transient failures retried with the run's policy). When the
 * only candidate was EC2 instance metadata and it does not answer, the
 * chain has no source afterwards and RC_OK is returned. Otherwise
 * RC_E_REMOTE (refused), RC_E_NETWORK (unreachable) or RC_E_USAGE (an
 * unreadable token file, a failing credential_process), with why.
 */
enum rc_err rc_awscreds_start(struct rc_awscreds *c, const char *region,
			      char *why, size_t whylen);

/*
 * Takes the lock and hands out the current credentials in *cur,
 * fetching new ones first when they are due (a failed refresh keeps the
 * old ones while they are valid). Call rc_awscreds_unlock after use,
 * also on error. On error *cur is NULL and why is set.
 */
enum rc_err rc_awscreds_lock(struct rc_awscreds *c,
			     const struct rc_aws_cred **cur, char *why,
			     size_t whylen);
void rc_awscreds_unlock(struct rc_awscreds *c);

/* Frees c, wiping every secret. Accepts NULL. */
void rc_awscreds_free(struct rc_awscreds *c);

#endif
