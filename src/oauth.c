/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The OAuth2 client-credentials grant. The client authenticates with HTTP
 * Basic over its form-encoded id and secret (RFC 6749 2.3.1), the request
 * body names the grant and the scope, and the reply is JSON: access_token,
 * token_type, expires_in. json-c parses it; nothing here walks JSON by
 * hand. Redirects are not followed: a token endpoint that moves is a
 * configuration error, and following it could send the secret elsewhere.
 */
#include "oauth.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>

#include "handle.h"
#include "log.h"

#define MAX_REPLY (64u << 10)

static void copy_printable(char *out, size_t outlen, const char *s)
{
	size_t o = 0;

	for (; s && *s && o + 1 < outlen; s++)
		out[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	out[o] = '\0';
}

bool rc_oauth_parse(const char *body, size_t n, struct rc_oauth_token *t,
		    const char **why)
{
	struct json_tokener *tok = json_tokener_new_ex(16);
	struct json_object *j = NULL, *v;
	bool ok = false;

	t->access_token = NULL;
	t->expires_in = -1;
	t->error[0] = '\0';
	if (tok == NULL) {
		*why = "out of memory";
		return false;
	}
	if (n > MAX_REPLY) {
		*why = "the reply is over 64 KiB";
		goto done;
	}
	j = json_tokener_parse_ex(tok, body, (int)n);
	if (j == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    tok->char_offset != (int)n) {
		/* Trailing blanks after the object are fine. */
		size_t at = j ? (size_t)tok->char_offset : 0;
		while (j && at < n &&
		       (body[at] == ' ' || body[at] == '\n' ||
			body[at] == '\r' || body[at] == '\t'))
			at++;
		if (j == NULL || at != n) {
			*why = "the reply is not JSON";
			goto done;
		}
	}
	if (!json_object_is_type(j, json_type_object)) {
		*why = "the reply is not a JSON object";
		goto done;
	}
	if (json_object_object_get_ex(j, "error", &v) &&
	    json_object_is_type(v, json_type_string))
		copy_printable(t->error, sizeof t->error,
			       json_object_get_string(v));
	if (!json_object_object_get_ex(j, "access_token", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0) {
		*why = "the reply has no access_token";
		goto done;
	}
	const char *at = json_object_get_string(v);
	for (const char *p = at; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f) {
			*why = "the access_token holds characters a header "
			       "cannot carry";
			goto done;
		}
	if (json_object_object_get_ex(j, "token_type", &v) &&
	    (!json_object_is_type(v, json_type_string) ||
	     strcasecmp(json_object_get_string(v), "bearer") != 0)) {
		*why = "the token_type is not Bearer";
		goto done;
	}
	if (json_object_object_get_ex(j, "expires_in", &v)) {
		/* A number, or (some servers) a string of digits. */
		int64_t e = json_object_get_int64(v);
		bool num = json_object_is_type(v, json_type_int) ||
			   json_object_is_type(v, json_type_double);
		if (json_object_is_type(v, json_type_string)) {
			const char *s = json_object_get_string(v);
			num =
			    *s != '\0' && strspn(s, "0123456789") == strlen(s);
		}
		if (!num || e < 0) {
			*why = "the expires_in is not a number of seconds";
			goto done;
		}
		t->expires_in = e > 100000000 ? 100000000 : (long)e;
	}
	t->access_token = strdup(at);
	if (t->access_token == NULL) {
		*why = "out of memory";
		goto done;
	}
	ok = true;
done:
	/* json-c's strings are freed with j; the token's copy is ours. */
	if (j) {
		if (json_object_object_get_ex(j, "access_token", &v) &&
		    json_object_is_type(v, json_type_string))
			mbedtls_platform_zeroize(
			    (char *)json_object_get_string(v),
			    (size_t)json_object_get_string_len(v));
		json_object_put(j);
	}
	json_tokener_free(tok);
	return ok;
}

void rc_oauth_token_clear(struct rc_oauth_token *t)
{
	if (t->access_token) {
		mbedtls_platform_zeroize(t->access_token,
					 strlen(t->access_token));
		free(t->access_token);
	}
	t->access_token = NULL;
	t->expires_in = -1;
	t->error[0] = '\0';
}

/* Appends the form encoding of s to out. */
static bool form_encode(const char *s, char *out, size_t outlen)
{
	char *e = curl_easy_escape(NULL, s, 0);
	bool ok = e && strlen(out) + strlen(e) < outlen;

	if (ok)
		strcat(out, e);
	if (e) {
		mbedtls_platform_zeroize(e, strlen(e));
		curl_free(e);
	}
	return ok;
}

enum rc_err rc_oauth_fetch(const char *url, const char *client_id,
			   const char *client_secret, const char *scope,
			   const struct rc_opts *o, struct rc_oauth_token *t,
			   char *why, size_t whylen)
{
	char pair[2048] = "", b64[2900], auth[3000], form[2048];
	struct rc_handle_body r = {.cap = MAX_REPLY};
	struct curl_slist *hdrs = NULL;
	enum rc_err err = RC_E_NETWORK;
	CURL *h = NULL;
	size_t olen = 0;
	long status = 0;

	t->access_token = NULL;
	t->expires_in = -1;
	t->error[0] = '\0';
	if (!form_encode(client_id, pair, sizeof pair) ||
	    strlen(pair) + 1 >= sizeof pair ||
	    !form_encode(client_secret, strcat(pair, ":"), sizeof pair)) {
		snprintf(why, whylen,
			 "RANGECAT_OAUTH_CLIENT_ID or _SECRET is too long");
		err = RC_E_USAGE;
		goto done;
	}
	if (mbedtls_base64_encode((unsigned char *)b64, sizeof b64, &olen,
				  (const unsigned char *)pair,
				  strlen(pair)) != 0) {
		snprintf(why, whylen, "out of memory");
		err = RC_E_NOMEM;
		goto done;
	}
	snprintf(auth, sizeof auth, "Authorization: Basic %s", b64);
	snprintf(form, sizeof form, "grant_type=client_credentials");
	if (scope && *scope) {
		strcat(form, "&scope=");
		if (!form_encode(scope, form, sizeof form)) {
			snprintf(why, whylen,
				 "RANGECAT_OAUTH_SCOPE is too long");
			err = RC_E_USAGE;
			goto done;
		}
	}
	r.buf = malloc(MAX_REPLY + 1);
	h = curl_easy_init();
	hdrs = curl_slist_append(NULL, auth);
	/* Appending to a list returns its head, or NULL when it failed. */
	if (r.buf == NULL || h == NULL || hdrs == NULL ||
	    curl_slist_append(hdrs, "Accept: application/json") == NULL) {
		snprintf(why, whylen, "out of memory");
		err = RC_E_NOMEM;
		goto done;
	}
	rc_handle_setup_easy(h, o);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
	rc_handle_collect_body(h, &r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT,
			 o->connect_timeout + o->stall_timeout);
	rc_handle_setup_blocking(h, o);
	CURLcode res = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (res != CURLE_OK && !(r.too_big && status != 0)) {
		snprintf(why, whylen,
			 "the token endpoint (RANGECAT_OAUTH_TOKEN_URL) could "
			 "not be reached: %s",
			 curl_easy_strerror(res));
		goto done;
	}
	const char *pwhy = "";
	bool parsed = !r.too_big && rc_oauth_parse(r.buf, r.n, t, &pwhy);
	if (status == 200 && parsed) {
		rc_log("OAuth token fetched%s%ld%s",
		       t->expires_in >= 0 ? ", expires in " : "",
		       t->expires_in >= 0 ? t->expires_in : 0L,
		       t->expires_in >= 0 ? " s" : "");
		err = RC_OK;
		goto done;
	}
	if (parsed)
		rc_oauth_token_clear(t);
	if (status == 200) {
		snprintf(why, whylen,
			 "the token endpoint (RANGECAT_OAUTH_TOKEN_URL) "
			 "answered 200, but %s",
			 r.too_big ? "the reply is over 64 KiB" : pwhy);
	} else {
		err =
		    status >= 500 || status == 429 ? RC_E_NETWORK : RC_E_REMOTE;
		snprintf(why, whylen,
			 "the token endpoint (RANGECAT_OAUTH_TOKEN_URL) "
			 "answered HTTP %ld%s%s%s%s",
			 status, t->error[0] ? " (" : "", t->error,
			 t->error[0] ? ")" : "",
			 status == 400 || status == 401
			     ? ": check RANGECAT_OAUTH_CLIENT_ID and "
			       "RANGECAT_OAUTH_CLIENT_SECRET"
			     : "");
	}
done:
	mbedtls_platform_zeroize(pair, sizeof pair);
	mbedtls_platform_zeroize(b64, sizeof b64);
	mbedtls_platform_zeroize(auth, sizeof auth);
	for (struct curl_slist *l = hdrs; l; l = l->next)
		mbedtls_platform_zeroize(l->data, strlen(l->data));
	curl_slist_free_all(hdrs);
	if (h)
		curl_easy_cleanup(h);
	rc_handle_body_free(&r);
	return err;
}
