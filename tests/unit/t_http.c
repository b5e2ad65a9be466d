/* Content-Range, Retry-After, ETag and header-line parsing. */
#include <string.h>

#include "harness.h"
#include "http.h"

static void feed(struct rc_resp *r, const char *line)
{
	rc_resp_header(r, line, strlen(line), 1000000000);
}

int main(void)
{
	struct rc_crange c;
	long s;
	bool weak;
	struct rc_resp r;

	CHECK(rc_http_content_range("bytes 0-99/100", &c) && c.first == 0 &&
	      c.last == 99 && c.total == 100 && !c.unsatisfied);
	CHECK(rc_http_content_range("bytes 5-9/*", &c) &&
	      c.total == RC_UNKNOWN);
	CHECK(rc_http_content_range("bytes */42", &c) && c.unsatisfied &&
	      c.total == 42);
	CHECK(rc_http_content_range("BYTES 0-0/1", &c));
	CHECK(rc_http_content_range("bytes 0-0/1  ", &c));
	CHECK(!rc_http_content_range("bytes 0-100/100", &c));
	CHECK(!rc_http_content_range("bytes 9-5/100", &c));
	CHECK(!rc_http_content_range("bytes 0-99", &c));
	CHECK(!rc_http_content_range("items 0-9/10", &c));
	CHECK(!rc_http_content_range("bytes -1-5/10", &c));
	CHECK(!rc_http_content_range("bytes 0-5/10x", &c));
	CHECK(!rc_http_content_range("bytes 0-5/99999999999999999999", &c));
	CHECK(!rc_http_content_range("bytes 0-9223372036854775808/"
				     "9223372036854775809",
				     &c));
	CHECK(rc_http_content_range("bytes 0-9223372036854775806/"
				    "9223372036854775807",
				    &c));
	CHECK(!rc_http_content_range("", &c));
	CHECK(!rc_http_content_range("bytes ", &c));

	CHECK(rc_http_retry_after("120", 0, &s) && s == 120);
	CHECK(rc_http_retry_after(" 0 ", 0, &s) && s == 0);
	CHECK(!rc_http_retry_after("-5", 0, &s));
	CHECK(!rc_http_retry_after("soon", 0, &s));
	/* 1000000030 is Sun, 09 Sep 2001 01:47:10 GMT */
	CHECK(rc_http_retry_after("Sun, 09 Sep 2001 01:47:10 GMT", 1000000000,
				  &s) &&
	      s == 30);
	CHECK(rc_http_retry_after("Sun, 09 Sep 2001 01:46:00 GMT", 1000000000,
				  &s) &&
	      s == 0);

	CHECK(rc_http_etag("\"abc\"", &weak) && !weak);
	CHECK(rc_http_etag("W/\"abc\"", &weak) && weak);
	CHECK(rc_http_etag("\"\"", &weak));
	CHECK(!rc_http_etag("abc", &weak));
	CHECK(!rc_http_etag("\"a\"b\"", &weak));
	CHECK(!rc_http_etag("\"a b\"", &weak));
	CHECK(!rc_http_etag("\"", &weak));

	rc_resp_reset(&r);
	feed(&r, "HTTP/1.1 302 Found\r\n");
	feed(&r, "Content-Range: bytes 0-1/2\r\n");
	feed(&r, "HTTP/1.1 206 Partial Content\r\n");
	CHECK(r.status == 206 && !r.has_crange);
	feed(&r, "content-range: bytes 10-19/100\r\n");
	feed(&r, "Content-Length: 10\r\n");
	feed(&r, "ETag: \"v1\"\r\n");
	feed(&r, "Retry-After: 7\r\n");
	feed(&r, "Last-Modified: Sun, 09 Sep 2001 01:46:40 GMT\r\n");
	CHECK(r.has_crange && !r.bad_crange && r.crange.first == 10 &&
	      r.crange.total == 100);
	CHECK(r.clen == 10 && !r.clen_conflict);
	CHECK(strcmp(r.etag, "\"v1\"") == 0 && !r.etag_weak);
	CHECK(r.retry_after == 7);
	CHECK(r.last_modified[0] != '\0');
	feed(&r, "Content-Length: 10\r\n");
	CHECK(!r.clen_conflict);
	CHECK(r.malformed == NULL);
	feed(&r, "Content-Length: 11\r\n");
	CHECK(r.clen_conflict);
	CHECK(r.malformed && strstr(r.malformed, "two different"));

	/* A Retry-After date counts from the reply's Date (our clock, the
	 * feed's now 1000000000, is 100 s behind here, or the second has
	 * turned since the server wrote it), in either order. */
	rc_resp_reset(&r);
	feed(&r, "HTTP/1.1 503 Service Unavailable\r\n");
	feed(&r, "Date: Sun, 09 Sep 2001 01:48:20 GMT\r\n");
	feed(&r, "Retry-After: Sun, 09 Sep 2001 01:48:21 GMT\r\n");
	CHECK(r.retry_after == 1);
	rc_resp_reset(&r);
	feed(&r, "HTTP/1.1 503 Service Unavailable\r\n");
	feed(&r, "Retry-After: Sun, 09 Sep 2001 01:48:30 GMT\r\n");
	CHECK(r.retry_after == 110); /* from now until the Date comes */
	feed(&r, "Date: Sun, 09 Sep 2001 01:48:20 GMT\r\n");
	CHECK(r.retry_after == 10);
	/* A date at or before the Date: at once. Seconds need no Date. */
	feed(&r, "Retry-After: Sun, 09 Sep 2001 01:48:00 GMT\r\n");
	CHECK(r.retry_after == 0);
	feed(&r, "Retry-After: 5\r\n");
	feed(&r, "Date: Sun, 09 Sep 2001 01:48:21 GMT\r\n");
	CHECK(r.retry_after == 5);
	/* Our clock ahead of the server's: the date alone would be past. */
	rc_resp_reset(&r);
	feed(&r, "HTTP/1.1 429 Too Many Requests\r\n");
	feed(&r, "Date: Sun, 09 Sep 2001 01:45:00 GMT\r\n");
	feed(&r, "Retry-After: Sun, 09 Sep 2001 01:45:03 GMT\r\n");
	CHECK(r.retry_after == 3);
	/* A Date over a day from the Retry-After date is a broken clock:
	 * from now, in either order. */
	rc_resp_reset(&r);
	feed(&r, "HTTP/1.1 503 Service Unavailable\r\n");
	feed(&r, "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n");
	feed(&r, "Retry-After: Sun, 09 Sep 2001 01:46:50 GMT\r\n");
	CHECK(r.retry_after == 10);
	feed(&r, "Date: Tue, 11 Sep 2001 01:46:50 GMT\r\n");
	CHECK(r.retry_after == 10);
	/* Our clock two days behind a server that agrees with itself. */
	rc_resp_reset(&r);
	feed(&r, "HTTP/1.1 503 Service Unavailable\r\n");
	feed(&r, "Date: Tue, 11 Sep 2001 01:46:40 GMT\r\n");
	feed(&r, "Retry-After: Tue, 11 Sep 2001 01:46:43 GMT\r\n");
	CHECK(r.retry_after == 3);

	rc_resp_reset(&r);
	feed(&r, "HTTP/2 206\r\n");
	CHECK(r.status == 206);
	feed(&r, "Content-Length: 99999999999999999999\r\n");
	CHECK(r.clen_conflict);
	CHECK(r.malformed && strstr(r.malformed, "too large"));
	rc_resp_reset(&r);
	feed(&r, "Content-Length: 12x\r\n");
	CHECK(r.malformed && strstr(r.malformed, "unparseable"));
	rc_resp_reset(&r);
	feed(&r, "Content-Length: 12\r\n");
	feed(&r, "Transfer-Encoding: chunked\r\n");
	CHECK(r.malformed && strstr(r.malformed, "chunked"));
	rc_resp_reset(&r);
	feed(&r, "Transfer-Encoding: chunked\r\n");
	CHECK(r.malformed == NULL);
	feed(&r, "Content-Length: 12\r\n");
	CHECK(r.malformed && strstr(r.malformed, "chunked"));
	rc_resp_reset(&r);
	feed(&r, "HTTP/2 206\r\n");
	feed(&r, "Content-Encoding: gzip\r\n");
	CHECK(r.encoded);
	feed(&r, "Content-Type: multipart/byteranges; boundary=x\r\n");
	CHECK(r.multipart);
	feed(&r, "ETag: W/\"x\"\r\n");
	CHECK(r.etag_weak);
	feed(&r, "ETag: garbage\r\n");
	CHECK(r.bad_etag && strcmp(r.etag, "garbage") == 0);
	CHECK(r.malformed && strstr(r.malformed, "ETags"));
	feed(&r, "Content-Range: bytes 5-1/10\r\n");
	CHECK(r.bad_crange);
	feed(&r, "Last-Modified: not a date\r\n");
	CHECK(r.last_modified[0] == '\0');
	feed(&r, "Date: garbage\r\n");
	CHECK(r.date == -1);
	feed(&r, "Date: Sun, 09 Sep 2001 01:46:41 GMT\r\n");
	feed(&r, "Last-Modified: Sun, 09 Sep 2001 01:46:40 GMT\r\n");
	CHECK(r.date == 1000000001 && r.lm_time == 1000000000);
	feed(&r, "HTTP/1.1 200 OK\r\n");
	CHECK(r.date == -1 && r.lm_time == -1);

	/* Entity-tags: W/ and Apache's -gzip suffix set aside. */
	/* Replies against the first reply: the same bytes only. */
	CHECK(rc_http_etag_same("\"a\"", "\"a\""));
	CHECK(!rc_http_etag_same("\"a\"", "\"a-gzip\""));
	CHECK(!rc_http_etag_same("\"a-gzip\"", "\"a\""));
	CHECK(!rc_http_etag_same("W/\"a\"", "\"a\""));
	CHECK(!rc_http_etag_same("\"a\"", "W/\"a\""));
	CHECK(!rc_http_etag_same("\"a\"", "\"b\""));
	/* A reply against a tag given: strong, "-gzip" of the given only. */
	/* Apache mod_deflate's mark, after something */
	CHECK(rc_http_etag_gzip("\"a-gzip\""));
	CHECK(!rc_http_etag_gzip("\"a\""));
	CHECK(!rc_http_etag_gzip("\"-gzip\""));
	CHECK(!rc_http_etag_gzip("\"a-gzip"));
	CHECK(rc_http_etag_matches("\"a\"", "\"a\""));
	CHECK(rc_http_etag_matches("\"a\"", "\"a-gzip\""));
	CHECK(!rc_http_etag_matches("\"a-gzip\"", "\"a\""));
	CHECK(!rc_http_etag_matches("W/\"a\"", "\"a\""));
	CHECK(!rc_http_etag_matches("\"a\"", "W/\"a\""));
	CHECK(!rc_http_etag_matches("W/\"a\"", "W/\"a\""));
	CHECK(!rc_http_etag_matches("\"a\"", "\"ab\""));
	CHECK(!rc_http_etag_matches("\"a\"", "\"b-gzip\""));
	CHECK(!rc_http_etag_matches("\"\"", "\"-gzip\""));
	CHECK(!rc_http_etag_matches("\"a\"", "\"a-br\""));
	CHECK(!rc_http_etag_matches("\"a", "\"a-gzip\""));
	feed(&r, "HTTP/1.1 xyz\r\n");
	CHECK(r.status == 0);
	/* Content-Encoding in a form strcmp compares: lower case, one list
	 * without spaces, identity dropped. */
	{
		static const struct {
			const char *v, *want;
		} ce[] = {
		    {"gzip", "gzip"},
		    {" GZip ", "gzip"},
		    {"identity", ""},
		    {"IDENTITY", ""},
		    {"", ""},
		    {"gzip ,BR", "gzip,br"},
		    {" , identity, x-gzip,,", "x-gzip"},
		};
		for (size_t i = 0; i < sizeof ce / sizeof ce[0]; i++) {
			char out[RC_CODING_MAX] = "";
			CHECK(rc_http_coding(ce[i].v, out, sizeof out) &&
			      strcmp(out, ce[i].want) == 0);
		}
		char small[8] = "gzip";
		CHECK(rc_http_coding("br", small, sizeof small) &&
		      strcmp(small, "gzip,br") == 0);
		CHECK(!rc_http_coding("zstd", small, sizeof small) &&
		      strcmp(small, "gzip,br") == 0);
	}
	rc_resp_reset(&r);
	feed(&r, "HTTP/1.1 206 Partial Content\r\n");
	feed(&r, "Content-Encoding: identity\r\n");
	CHECK(!r.encoded && r.coding[0] == '\0');
	feed(&r, "content-encoding:  GZIP \r\n");
	CHECK(r.encoded && strcmp(r.coding, "gzip") == 0);
	/* a field on two lines is one list (RFC 9110 5.3) */
	feed(&r, "Content-Encoding: br\r\n");
	CHECK(r.encoded && strcmp(r.coding, "gzip,br") == 0 && !r.long_coding);
	feed(&r, "HTTP/1.1 206 Partial Content\r\n");
	CHECK(!r.encoded && r.coding[0] == '\0');
	{
		char line[400] = "Content-Encoding: ";
		memset(line + strlen(line), 'a', 300);
		feed(&r, line);
		CHECK(r.encoded && r.long_coding);
		rc_resp_reset(&r);
		line[18 + RC_CODING_MAX] = '\0';
		feed(&r, line);
		CHECK(r.encoded && r.long_coding && r.coding[0] == '\0');
	}
	/* Cache-Control: no-store is a directive, not a substring. */
	{
		static const struct {
			const char *line;
			bool no_store;
		} cc[] = {
		    {"Cache-Control: no-store\r\n", true},
		    {"cache-control: private, NO-STORE\r\n", true},
		    {"Cache-Control: max-age=0,no-store=\"x\"\r\n", true},
		    {"Cache-Control: private, max-age=60\r\n", false},
		    {"Cache-Control: no-storex\r\n", false},
		    {"Cache-Control: x=\"a, no-store\"\r\n", false},
		    {"X-Cache-Control: no-store\r\n", false},
		};
		for (size_t i = 0; i < sizeof cc / sizeof cc[0]; i++) {
			rc_resp_reset(&r);
			feed(&r, "HTTP/1.1 200 OK\r\n");
			feed(&r, cc[i].line);
			CHECK(r.no_store == cc[i].no_store);
		}
	}
	return DONE();
}
