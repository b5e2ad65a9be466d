/* Fuzz target: redaction and the resume command. The input split at NUL
 * bytes is argv; "SECRET" planted in a credential place must never come
 * out. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "http.h"
#include "log.h"
#include "resume.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *buf = malloc(n + 1);
	char *argv[34];
	int argc;
	static char out[65536];
	char red[1024];

	if (buf == NULL)
		return 0;
	memcpy(buf, d, n);
	buf[n] = '\0';
	argc = split_argv(buf, n, argv, 33);
	rc_resume_command(argc, argv, 12345, RC_UNKNOWN, "\"e\"", out,
			  sizeof out);
	if (strlen(out) >= sizeof out)
		abort();
	for (int i = 1; i < argc; i++) {
		rc_log_redact_url(argv[i], red, sizeof red);
		rc_log_redact_header(argv[i], red, sizeof red);
	}
	/* A planted token in a secret header never survives. */
	char hdr[600];
	size_t k = n < 200 ? n : 200;
	memcpy(hdr, "Authorization: ", 15);
	memcpy(hdr + 15, d, k);
	memcpy(hdr + 15 + k, "SECRET", 7);
	if (memchr(d, '\0', k) == NULL && memchr(d, ':', k) == NULL) {
		rc_log_redact_header(hdr, red, sizeof red);
		if (strstr(red, "SECRET"))
			abort();
	}
	free(buf);
	return 0;
}
