/* Fuzz target: the OAuth2 token endpoint's JSON reply, as json-c parses
 * it and rc_oauth_parse judges it. A token accepted is a non-empty string
 * a header can carry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct rc_oauth_token t;
	const char *why = NULL;

	if (rc_oauth_parse((const char *)d, n, &t, &why)) {
		if (t.access_token == NULL || *t.access_token == '\0')
			abort();
		for (const char *p = t.access_token; *p; p++)
			if (*p <= 0x20 || *p >= 0x7f)
				abort();
		if (t.expires_in < -1)
			abort();
	} else if (why == NULL || t.access_token != NULL) {
		abort();
	}
	for (const char *p = t.error; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
	rc_oauth_token_clear(&t);
	return 0;
}
