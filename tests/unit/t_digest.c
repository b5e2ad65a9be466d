/* --sha256/--sha512: FIPS 180 example digests, split updates, and the
 * mismatch message naming both digests. */
#include <string.h>

#include "digest.h"
#include "harness.h"

#define ABC256                                                                 \
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define ABC512                                                                 \
	"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"     \
	"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"

static enum rc_err check(enum rc_digest_kind k, const char *data, size_t cut,
			 const char *want, char *msg)
{
	struct rc_digest *d = rc_digest_new(k);
	size_t n = strlen(data);

	rc_digest_update(d, data, cut);
	rc_digest_update(d, data + cut, 0);
	rc_digest_update(d, data + cut, n - cut);
	enum rc_err err = rc_digest_check(d, want, n, msg, 512);
	rc_digest_free(d);
	return err;
}

int main(void)
{
	char msg[512];
	/* 448 bits: the message of FIPS 180's two-block example */
	const char *two =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	CHECK(check(RC_DIGEST_SHA256, "abc", 1, ABC256, msg) == RC_OK);
	CHECK(check(RC_DIGEST_SHA512, "abc", 2, ABC512, msg) == RC_OK);
	CHECK(check(RC_DIGEST_SHA256, two, 13,
		    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419"
		    "db06c1",
		    msg) == RC_OK);
	CHECK(check(RC_DIGEST_SHA256, "", 0,
		    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b78"
		    "52b855",
		    msg) == RC_OK);
	/* One byte different: exit 7's error, naming both digests. */
	CHECK(check(RC_DIGEST_SHA256, "abd", 1, ABC256, msg) ==
		  RC_E_INTEGRITY &&
	      strstr(msg, "--sha256 mismatch over 3 downloaded bytes") &&
	      strstr(msg, "expected " ABC256 ", got ") &&
	      strlen(strstr(msg, ", got ") + 6) == 64);
	CHECK(check(RC_DIGEST_SHA512, "abc", 0, ABC256, msg) ==
		  RC_E_INTEGRITY &&
	      strstr(msg, "--sha512 mismatch") && strstr(msg, ABC512));
	CHECK(rc_err_exit_status(RC_E_INTEGRITY) == 7);
	CHECK(rc_digest_hexlen(RC_DIGEST_SHA512) == 128 &&
	      rc_digest_hexlen(RC_DIGEST_SHA256) == 64);
	return DONE();
}
