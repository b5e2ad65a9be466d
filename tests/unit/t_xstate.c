/* The transfer states of fetch.c: every pair of states against the table
 * docs/ARCHITECTURE.md ("The fetcher") documents, written out here
 * again, so a step added to or dropped from the code's table fails until
 * the document and this copy say the same. */
#include <string.h>

#include "fetch.h"
#include "harness.h"

static const struct {
	enum rc_xfer_state from, to;
} allowed[] = {
    {RC_XS_IDLE, RC_XS_CONNECTING},    /* launched */
    {RC_XS_CONNECTING, RC_XS_RUNNING}, /* the request went out */
    /* a spanning transfer and the full ring */
    {RC_XS_RUNNING, RC_XS_PAUSED},
    {RC_XS_PAUSED, RC_XS_RUNNING},
    /* curl ended it, it stalled, the run ended */
    {RC_XS_CONNECTING, RC_XS_DONE},
    {RC_XS_RUNNING, RC_XS_DONE},
    {RC_XS_PAUSED, RC_XS_DONE},
    {RC_XS_DONE, RC_XS_CONNECTING},    /* asked again at once */
    {RC_XS_DONE, RC_XS_WAITING},       /* a retry later */
    {RC_XS_DONE, RC_XS_PARKED},	       /* waits for a fresh redirect target */
    {RC_XS_DONE, RC_XS_IDLE},	       /* its range complete */
    {RC_XS_WAITING, RC_XS_CONNECTING}, /* its retry time came */
    {RC_XS_PARKED, RC_XS_WAITING},     /* the fresh target came */
};

static int listed(enum rc_xfer_state a, enum rc_xfer_state b)
{
	for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
		if (allowed[i].from == a && allowed[i].to == b)
			return 1;
	return 0;
}

int main(void)
{
	int ok = 0;

	for (enum rc_xfer_state a = 0; a < RC_XS__COUNT; a++)
		for (enum rc_xfer_state b = 0; b < RC_XS__COUNT; b++) {
			int got = rc_fetch_state_ok(a, b);
			if (got != listed(a, b))
				fprintf(stderr, "%s -> %s: %s, documented %s\n",
					rc_fetch_state_name(a),
					rc_fetch_state_name(b),
					got ? "allowed" : "refused",
					listed(a, b) ? "allowed" : "refused");
			CHECK(got == listed(a, b));
			ok += got;
		}
	CHECK(ok == (int)(sizeof allowed / sizeof *allowed));

	/* No state stays where it is by a "change", and nothing leaves
	 * the table's range. */
	for (enum rc_xfer_state a = 0; a < RC_XS__COUNT; a++)
		CHECK(!rc_fetch_state_ok(a, a));
	CHECK(!rc_fetch_state_ok(RC_XS__COUNT, RC_XS_IDLE));
	CHECK(!rc_fetch_state_ok(RC_XS_IDLE, RC_XS__COUNT));
	CHECK(!rc_fetch_state_ok((enum rc_xfer_state) - 1, RC_XS_IDLE));

	/* Forbidden steps a careless edit would take: running without a
	 * launch, a retry of a transfer curl still drives, leaving the
	 * multi handle straight to idle. */
	CHECK(!rc_fetch_state_ok(RC_XS_IDLE, RC_XS_RUNNING));
	CHECK(!rc_fetch_state_ok(RC_XS_IDLE, RC_XS_WAITING));
	CHECK(!rc_fetch_state_ok(RC_XS_RUNNING, RC_XS_WAITING));
	CHECK(!rc_fetch_state_ok(RC_XS_RUNNING, RC_XS_IDLE));
	CHECK(!rc_fetch_state_ok(RC_XS_PARKED, RC_XS_CONNECTING));
	CHECK(!rc_fetch_state_ok(RC_XS_WAITING, RC_XS_DONE));

	CHECK(strcmp(rc_fetch_state_name(RC_XS_IDLE), "idle") == 0);
	CHECK(strcmp(rc_fetch_state_name(RC_XS_CONNECTING), "connecting") == 0);
	CHECK(strcmp(rc_fetch_state_name(RC_XS_RUNNING), "running") == 0);
	CHECK(strcmp(rc_fetch_state_name(RC_XS_PAUSED), "paused") == 0);
	CHECK(strcmp(rc_fetch_state_name(RC_XS_DONE), "done") == 0);
	CHECK(strcmp(rc_fetch_state_name(RC_XS_WAITING), "waiting") == 0);
	CHECK(strcmp(rc_fetch_state_name(RC_XS_PARKED), "parked") == 0);
	CHECK(strcmp(rc_fetch_state_name(RC_XS__COUNT), "?") == 0);
	return DONE();
}
