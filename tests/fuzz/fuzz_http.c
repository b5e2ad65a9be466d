/* Fuzz target: response header lines into rc_resp, then rc_judge against
 * a probe and a later range; and the single-value parsers on the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct rc_resp r;
	struct rc_verdict v;
	char *s = malloc(n + 1);

	if (s == NULL)
		return 0;
	memcpy(s, d, n);
	s[n] = '\0';
	rc_resp_reset(&r);
	for (size_t i = 0, start = 0; i <= n; i++) {
		if (i == n || d[i] == '\n') {
			rc_resp_header(&r, (const char *)d + start, i - start,
				       1000000000);
			start = i + 1;
		}
	}
	struct rc_want probe = {
	    .first = 0, .last = 262143, .total = RC_UNKNOWN};
	struct rc_want later = {.first = 100,
				.last = 199,
				.total = 1000,
				.etag = "\"v1\"",
				.lm = "Sun, 09 Sep 2001 01:46:40 GMT",
				.coding = "gzip",
				.later = true};
	struct rc_want suffix = {
	    .suffix = true, .last = 10, .total = RC_UNKNOWN};
	rc_judge(&r, &probe, &v);
	rc_judge(&r, &later, &v);
	rc_judge(&r, &suffix, &v);
	(void)rc_probe_validator(&r);
	(void)rc_probe_too_fresh(&r, 1000000000);
	if (r.etag[0] && !rc_http_etag_same(r.etag, r.etag))
		abort(); /* a tag is always the same version as itself */

	struct rc_crange c;
	long secs;
	bool weak;
	if (rc_http_content_range(s, &c) && !c.unsatisfied &&
	    (c.last < c.first || (c.total != RC_UNKNOWN && c.last >= c.total)))
		abort(); /* the parser promised ordered positions */
	(void)rc_http_retry_after(s, 1000000000, &secs);
	(void)rc_http_etag(s, &weak);
	char cod[RC_CODING_MAX] = "", again[RC_CODING_MAX] = "";
	if (rc_http_coding(s, cod, sizeof cod) &&
	    (!rc_http_coding(cod, again, sizeof again) ||
	     strcmp(cod, again) != 0))
		abort(); /* a normalised coding is its own normal form */
	free(s);
	return 0;
}
