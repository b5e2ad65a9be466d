/* The body collector of handle.c, on real transfers of local files
 * (curl's file:// reader): bodies up to the cap kept whole and
 * NUL-terminated, one byte more refused, the buffer wiped and freed. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handle.h"
#include "harness.h"

/* Fetches a file of len bytes of 'x' through the collector into b.
 * Returns curl's result. */
static CURLcode fetch(size_t len, struct rc_handle_body *b)
{
	char path[] = "/tmp/t_handle.XXXXXX", url[64];
	int fd = mkstemp(path);
	char *data = malloc(len + 1);
	CURLcode res = CURLE_FAILED_INIT;
	CURL *h = curl_easy_init();

	if (fd < 0 || data == NULL || h == NULL)
		goto out;
	memset(data, 'x', len);
	if (write(fd, data, len) != (ssize_t)len)
		goto out;
	snprintf(url, sizeof url, "file://%s", path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	rc_handle_collect_body(h, b);
	res = curl_easy_perform(h);
out:
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	free(data);
	if (h)
		curl_easy_cleanup(h);
	return res;
}

int main(void)
{
	struct rc_handle_body b = {.cap = 1000};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	b.buf = malloc(b.cap + 1);
	CHECK(b.buf != NULL);
	if (b.buf == NULL)
		return DONE();

	/* At the cap: kept whole, NUL after the last byte. */
	CHECK(fetch(1000, &b) == CURLE_OK);
	CHECK(b.n == 1000 && !b.too_big && b.buf[1000] == '\0');
	CHECK(b.buf[0] == 'x' && b.buf[999] == 'x');

	/* One byte more: refused, and the transfer ends as a write error. */
	CHECK(fetch(1001, &b) == CURLE_WRITE_ERROR);
	CHECK(b.too_big && b.n <= 1000 && b.buf[b.n] == '\0');

	/* Collecting again starts empty: n and too_big reset. */
	CHECK(fetch(3, &b) == CURLE_OK);
	CHECK(b.n == 3 && !b.too_big && strcmp(b.buf, "xxx") == 0);

	/* Empty body: an empty string. */
	CHECK(fetch(0, &b) == CURLE_OK);
	CHECK(b.n == 0 && !b.too_big && b.buf[0] == '\0');

	/* Far over the cap, in several writes of curl's buffer. */
	CHECK(fetch(200000, &b) == CURLE_WRITE_ERROR);
	CHECK(b.too_big && b.n <= 1000);

	rc_handle_body_free(&b);
	CHECK(b.buf == NULL && b.n == 0);
	rc_handle_body_free(&b); /* twice is harmless */
	CHECK(b.buf == NULL);
	curl_global_cleanup();
	return DONE();
}
