/* Fuzz target: what the AWS credential chain reads from outside. The
 * first byte picks the parser: the profile files' INI, the JSON of the
 * container endpoint, IMDS and credential_process, or the STS XML reply.
 * Credentials accepted are non-empty and a header can carry them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "awscreds.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static void header_safe(const char *s, int may_be_null)
{
	if (s == NULL) {
		if (!may_be_null)
			abort();
		return;
	}
	if (*s == '\0')
		abort();
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct rc_aws_cred c;
	const char *why = NULL;
	char code[64];
	unsigned line = 0;

	if (n == 0)
		return 0;
	const char *s = (const char *)d + 1;
	n--;
	switch (d[0] % 3) {
	case 0: {
		struct rc_aws_ini *i = rc_aws_ini_parse(s, n, &line, &why);
		if (i == NULL && (why == NULL || line == 0))
			abort();
		if (i) {
			const char *v = rc_aws_ini_get(i, "default", "region");
			if (v && !rc_aws_ini_has(i, "default"))
				abort();
		}
		rc_aws_ini_free(i);
		break;
	}
	case 1:
	case 2:
		if (d[0] % 3 == 1
			? rc_aws_parse_json(s, n, &c, &why)
			: rc_aws_parse_sts(s, n, &c, code, sizeof code, &why)) {
			header_safe(c.access_key, 0);
			header_safe(c.secret_key, 0);
			header_safe(c.session_token, d[0] % 3 == 1);
		} else if (why == NULL || c.access_key != NULL) {
			abort();
		}
		rc_aws_cred_clear(&c);
		break;
	}
	return 0;
}
