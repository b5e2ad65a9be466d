/* Fuzz target: SigV4 canonicalisation. The input split at NUL bytes is a
 * path, a query and header lines. The canonical request must have its
 * six lines' shape, an encoded path of unreserved bytes, '/' and %XX
 * only, and the same input must sign the same way twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static void check_uri(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= n ||
			    !strchr("0123456789ABCDEF", s[i + 1]) ||
			    !strchr("0123456789ABCDEF", s[i + 2]))
				abort();
			i += 2;
		} else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || strchr("-._~/", c))) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *buf = malloc(n + 1);
	char *parts[18];

	if (buf == NULL)
		return 0;
	memcpy(buf, d, n);
	buf[n] = '\0';
	int k = split_argv(buf, n, parts, 17); /* parts[0] is "rangecat" */
	struct rc_sigv4_req r = {
	    .method = "GET",
	    .path = k > 1 ? parts[1] : "/",
	    .query = k > 2 ? parts[2] : NULL,
	    .headers = (const char *const *)(parts + 3),
	    .nheaders = k > 3 ? (size_t)(k - 3) : 0,
	    .payload_hash = RC_SIGV4_EMPTY_SHA256,
	    .amz_date = "20150830T123600Z",
	    .normalize = n > 0 && (d[0] & 1),
	};
	/* Upper case: input reaches the Authorization value only as
	 * lower-cased header names. */
	struct rc_sigv4_cred c = {"AKID", "SECRETKEY", "us-east-1", "s3"};
	char *sh = NULL;
	char *creq = rc_sigv4_canonical(&r, &sh);
	char *a1 = rc_sigv4_authorization(&r, &c);
	char *a2 = rc_sigv4_authorization(&r, &c);
	if (creq == NULL || sh == NULL || a1 == NULL || a2 == NULL)
		abort();
	if (strcmp(a1, a2) != 0 || strstr(a1, "SECRETKEY") != NULL)
		abort();
	const char *l1 = strchr(creq, '\n');
	if (l1 == NULL || strncmp(creq, "GET\n", 4) != 0)
		abort();
	const char *l2 = strchr(l1 + 1, '\n');
	if (l2 == NULL || l1[1] != '/')
		abort();
	check_uri(l1 + 1, (size_t)(l2 - l1 - 1));
	size_t cl = strlen(creq);
	if (cl < 65 || strcmp(creq + cl - 64, RC_SIGV4_EMPTY_SHA256) != 0)
		abort();
	free(creq);
	free(sh);
	free(a1);
	free(a2);
	free(buf);
	return 0;
}
