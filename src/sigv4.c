/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * AWS Signature Version 4 (GET only: the payload hash is the caller's).
 * Canonical request = method, canonical URI, canonical query, canonical
 * headers, signed header names and payload hash, one per line; the string
 * to sign hashes it under a date/region/service scope, and a key derived
 * from the secret by four HMACs signs that. S3 signs the path exactly as
 * sent (no dot-segment removal, "//" kept); other services normalise it,
 * which only AWS's published test vectors need here.
 *
 * Pure functions; any thread. Derived keys are wiped before returning.
 */
#include "sigv4.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

/* A growing string; oom sticks, so callers check once at the end. */
struct sb {
	char *p;
	size_t n, cap;
	bool oom;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (p == NULL) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_chr(struct sb *b, char c)
{
	sb_add(b, &c, 1);
}

static char *sb_done(struct sb *b)
{
	if (b->oom || b->p == NULL) {
		free(b->p);
		b->p = NULL;
		return b->oom ? NULL : strdup("");
	}
	return b->p;
}

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Appends s[0..n) encoded the S3 way: every byte but unreserved ones
 * (and '/' when keep_slash) as %XX. With decode, %XX escapes in s are
 * decoded first, so an encoded path comes out encoded once. */
static void sb_encode(struct sb *b, const char *s, size_t n, bool keep_slash,
		      bool decode)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (decode && c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			c = (unsigned char)(hexval(s[i + 1]) * 16 +
					    hexval(s[i + 2]));
			i += 2;
		}
		if (unreserved(c) || (keep_slash && c == '/')) {
			sb_chr(b, (char)c);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			sb_add(b, e, 3);
		}
	}
}

static void sb_reencode(struct sb *b, const char *s, size_t n, bool keep_slash)
{
	sb_encode(b, s, n, keep_slash, true);
}

bool rc_sigv4_encode(const char *s, size_t n, bool keep_slash, char *out,
		     size_t outlen)
{
	struct sb b = {0};
	size_t o = strlen(out);

	sb_encode(&b, s, n, keep_slash, false);
	bool ok = !b.oom && o + b.n < outlen;
	if (ok && b.p)
		memcpy(out + o, b.p, b.n + 1);
	free(b.p);
	return ok;
}

/* The canonical URI. With normalize, "." and ".." segments and empty
 * segments go (RFC 3986 5.2.4, as AWS's vectors for other services want);
 * a trailing '/' stays. */
static void canonical_uri(struct sb *b, const char *path, bool normalize)
{
	if (path == NULL || *path == '\0') {
		sb_chr(b, '/');
		return;
	}
	if (!normalize) {
		if (*path != '/')
			sb_chr(b, '/');
		sb_reencode(b, path, strlen(path), true);
		return;
	}
	/* Segment start offsets in b, so ".." can pop one. */
	size_t n = strlen(path), depth = 0, base = b->n;
	size_t *starts = malloc((n + 1) * sizeof *starts);
	if (starts == NULL) {
		b->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) { /* i: where a segment starts */
		size_t len = strcspn(path + i, "/");
		if (len == 2 && strncmp(path + i, "..", 2) == 0) {
			if (depth > 0) {
				b->n = starts[--depth];
				if (b->p) /* NULL only after running out of
					     memory */
					b->p[b->n] = '\0';
			}
		} else if (len > 0 && !(len == 1 && path[i] == '.')) {
			starts[depth++] = b->n;
			sb_chr(b, '/');
			sb_reencode(b, path + i, len, false);
		}
		i += len; /* at the '/' after it, which the loop skips */
	}
	if (b->n == base || path[n - 1] == '/')
		sb_chr(b, '/');
	free(starts);
}

struct param {
	char *k, *v; /* encoded */
};

static int param_cmp(const void *a, const void *b)
{
	const struct param *x = a, *y = b;
	int c = strcmp(x->k, y->k);
	return c ? c : strcmp(x->v, y->v);
}

/* The canonical query: each name and value decoded and re-encoded, sorted
 * by name then value in byte order, "name=value" joined by '&'. */
static void canonical_query(struct sb *b, const char *q)
{
	if (q == NULL || *q == '\0')
		return;
	size_t cnt = 1;
	for (const char *p = q; *p; p++)
		cnt += *p == '&';
	struct param *ps = calloc(cnt, sizeof *ps);
	if (ps == NULL) {
		b->oom = true;
		return;
	}
	size_t np = 0;
	for (const char *p = q; *p;) {
		size_t len = strcspn(p, "&");
		if (len > 0) {
			const char *eq = memchr(p, '=', len);
			size_t kl = eq ? (size_t)(eq - p) : len;
			struct sb k = {0}, v = {0};
			sb_reencode(&k, p, kl, false);
			if (eq)
				sb_reencode(&v, eq + 1, len - kl - 1, false);
			ps[np].k = sb_done(&k);
			ps[np].v = sb_done(&v);
			if (ps[np].k == NULL || ps[np].v == NULL)
				b->oom = true;
			np++;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	if (!b->oom) {
		qsort(ps, np, sizeof *ps, param_cmp);
		for (size_t i = 0; i < np; i++) {
			if (i)
				sb_chr(b, '&');
			sb_str(b, ps[i].k);
			sb_chr(b, '=');
			sb_str(b, ps[i].v);
		}
	}
	for (size_t i = 0; i < np; i++) {
		free(ps[i].k);
		free(ps[i].v);
	}
	free(ps);
}

struct hdr {
	char *name;  /* lowercase */
	char *value; /* trimmed, inner runs of spaces collapsed */
	size_t order;
};

static int hdr_cmp(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Appends value v trimmed, with runs of blanks collapsed to one space and
 * folded lines joined by ','. */
static void canonical_value(struct sb *b, const char *v)
{
	bool first_line = true;

	while (*v) {
		size_t len = strcspn(v, "\n");
		size_t i = 0, e = len;
		while (i < e && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r'))
			i++;
		while (e > i && (v[e - 1] == ' ' || v[e - 1] == '\t' ||
				 v[e - 1] == '\r'))
			e--;
		if (!first_line)
			sb_chr(b, ',');
		first_line = false;
		bool blank = false;
		for (; i < e; i++) {
			if (v[i] == ' ' || v[i] == '\t') {
				blank = true;
				continue;
			}
			if (blank)
				sb_chr(b, ' ');
			blank = false;
			sb_chr(b, v[i]);
		}
		v += len;
		if (*v == '\n')
			v++;
	}
}

char *rc_sigv4_canonical(const struct rc_sigv4_req *r, char **signed_headers)
{
	struct sb b = {0}, sh = {0};
	struct hdr *hs = calloc(r->nheaders ? r->nheaders : 1, sizeof *hs);
	size_t nh = 0;

	*signed_headers = NULL;
	if (hs == NULL)
		return NULL;
	for (size_t i = 0; i < r->nheaders; i++) {
		const char *line = r->headers[i];
		const char *colon = strchr(line, ':');
		if (colon == NULL)
			continue;
		struct sb nm = {0}, vl = {0};
		for (const char *p = line; p < colon; p++) {
			char c = *p;
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (c != ' ' && c != '\t')
				sb_chr(&nm, c);
		}
		canonical_value(&vl, colon + 1);
		hs[nh].name = sb_done(&nm);
		hs[nh].value = sb_done(&vl);
		hs[nh].order = i;
		if (hs[nh].name == NULL || hs[nh].value == NULL)
			b.oom = true;
		nh++;
	}
	if (!b.oom)
		qsort(hs, nh, sizeof *hs, hdr_cmp);

	sb_str(&b, r->method);
	sb_chr(&b, '\n');
	canonical_uri(&b, r->path, r->normalize);
	sb_chr(&b, '\n');
	canonical_query(&b, r->query);
	sb_chr(&b, '\n');
	for (size_t i = 0; i < nh && !b.oom; i++) {
		bool same = i > 0 && strcmp(hs[i].name, hs[i - 1].name) == 0;
		if (same) {
			sb_chr(&b, ',');
		} else {
			if (i > 0) {
				sb_chr(&b, '\n');
				sb_chr(&sh, ';');
			}
			sb_str(&b, hs[i].name);
			sb_chr(&b, ':');
			sb_str(&sh, hs[i].name);
		}
		sb_str(&b, hs[i].value);
	}
	sb_str(&b, "\n\n");
	if (sh.p)
		sb_str(&b, sh.p);
	sb_chr(&b, '\n');
	sb_str(&b, r->payload_hash);
	for (size_t i = 0; i < nh; i++) {
		free(hs[i].name);
		free(hs[i].value);
	}
	free(hs);
	if (sh.oom)
		b.oom = true;
	char *out = sb_done(&b);
	*signed_headers = out ? sb_done(&sh) : (free(sh.p), NULL);
	if (out && *signed_headers == NULL) {
		free(out);
		return NULL;
	}
	return out;
}

void rc_sigv4_hex(const unsigned char *d, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * n] = '\0';
}

void rc_sigv4_sha256_hex(const void *data, size_t n, char out[65])
{
	unsigned char d[32];

	mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), data, n, d);
	rc_sigv4_hex(d, sizeof d, out);
}

static void hmac(const unsigned char *key, size_t kl, const char *msg,
		 unsigned char out[32])
{
	mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, kl,
			(const unsigned char *)msg, strlen(msg), out);
}

char *rc_sigv4_string_to_sign(const struct rc_sigv4_req *r,
			      const struct rc_sigv4_cred *c, const char *creq)
{
	struct sb b = {0};
	char h[65];

	rc_sigv4_sha256_hex(creq, strlen(creq), h);
	sb_str(&b, "AWS4-HMAC-SHA256\n");
	sb_str(&b, r->amz_date);
	sb_chr(&b, '\n');
	sb_add(&b, r->amz_date, 8);
	sb_chr(&b, '/');
	sb_str(&b, c->region);
	sb_chr(&b, '/');
	sb_str(&b, c->service);
	sb_str(&b, "/aws4_request\n");
	sb_str(&b, h);
	return sb_done(&b);
}

char *rc_sigv4_authorization(const struct rc_sigv4_req *r,
			     const struct rc_sigv4_cred *c)
{
	char *sh = NULL, *creq = NULL, *sts = NULL, *out = NULL;
	unsigned char k[32], k2[32];
	char date[9], sig[65];

	if (strlen(r->amz_date) < 8)
		return NULL;
	creq = rc_sigv4_canonical(r, &sh);
	if (creq == NULL)
		goto done;
	sts = rc_sigv4_string_to_sign(r, c, creq);
	if (sts == NULL)
		goto done;

	/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region),
	 * service), "aws4_request") */
	size_t sl = strlen(c->secret_key);
	unsigned char *k0 = malloc(sl + 4);
	if (k0 == NULL)
		goto done;
	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, c->secret_key, sl);
	memcpy(date, r->amz_date, 8);
	date[8] = '\0';
	hmac(k0, sl + 4, date, k);
	mbedtls_platform_zeroize(k0, sl + 4);
	free(k0);
	hmac(k, 32, c->region, k2);
	hmac(k2, 32, c->service, k);
	hmac(k, 32, "aws4_request", k2);
	hmac(k2, 32, sts, k);
	rc_sigv4_hex(k, sizeof k, sig);

	struct sb b = {0};
	sb_str(&b, "AWS4-HMAC-SHA256 Credential=");
	sb_str(&b, c->access_key);
	sb_chr(&b, '/');
	sb_str(&b, date);
	sb_chr(&b, '/');
	sb_str(&b, c->region);
	sb_chr(&b, '/');
	sb_str(&b, c->service);
	sb_str(&b, "/aws4_request, SignedHeaders=");
	sb_str(&b, sh);
	sb_str(&b, ", Signature=");
	sb_str(&b, sig);
	out = sb_done(&b);
done:
	mbedtls_platform_zeroize(k, sizeof k);
	mbedtls_platform_zeroize(k2, sizeof k2);
	free(sh);
	free(creq);
	free(sts);
	return out;
}
