/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The raw sink. One write(2) per landed run of bytes (often megabytes), so
 * there is no syscall per small piece. A non-blocking stdout (inherited
 * from a parent that set O_NONBLOCK on a shared pipe) is waited on with
 * poll(2) instead of spinning.
 */
#include "sink_raw.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched.h"
#include "log.h"
#include "reader.h"

/* What fd 1 is called in messages: "stdout", or -o's FILE.part. */
static const char *target = "stdout";

void rc_sink_raw_name(const char *name)
{
	target = name;
}

static enum rc_err (*before_first)(void *arg, char *msg, size_t msglen);
static void *before_first_arg;

void rc_sink_raw_before_first(enum rc_err (*fn)(void *arg, char *msg,
						size_t msglen),
			      void *arg)
{
	before_first = fn;
	before_first_arg = arg;
}

void rc_sink_raw_prepare(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
		/* Fewer, larger writes; failure (a low pipe-max-size) is fine.
		 */
		(void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
	}
}

int rc_sink_raw_write(int fd, const void *p, size_t n, size_t *done,
		      volatile sig_atomic_t *stop)
{
	const char *b = p;
	size_t off = 0;

	while (off < n) {
		if (*stop) {
			*done = off;
			errno = EINTR;
			return -1;
		}
		ssize_t w = write(fd, b + off, n - off);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			(void)poll(&pfd, 1, 250);
			continue;
		}
		if (w == 0)
			errno = EIO;
		*done = off;
		return -1;
	}
	*done = off;
	return 0;
}

enum rc_err rc_sink_raw_emit(struct rc_reader *r, const void *p, size_t n,
			     uint64_t *delivered, bool *closed, char *msg,
			     size_t msglen)
{
	size_t w;

	if (before_first != NULL && n > 0) {
		enum rc_err (*fn)(void *, char *, size_t) = before_first;
		before_first = NULL;
		enum rc_err err = fn(before_first_arg, msg, msglen);
		if (err != RC_OK)
			return err;
	}
	int rc = rc_sink_raw_write(1, p, n, &w, r->sig);

	*delivered += w;
	if (rc == 0)
		return RC_OK;
	if (errno == EPIPE) {
		rc_log("reader closed the pipe");
		*closed = true; /* as cat would: quietly */
		return RC_OK;
	}
	if (errno == EINTR && *r->sig)
		return rc_sched_signal_err(*r->sig, msg, msglen);
	snprintf(msg, msglen, "write to %s: %s", target, strerror(errno));
	return RC_E_OUTPUT;
}

enum rc_err rc_sink_raw_run(struct rc_reader *r, uint64_t *delivered, char *msg,
			    size_t msglen)
{
	const unsigned char *p;
	bool closed = false;

	for (;;) {
		ssize_t n = rc_reader_next(r, &p);
		if (n == 0)
			return RC_OK;
		if (n < 0) {
			snprintf(msg, msglen, "%s", r->msg);
			return r->err;
		}
		uint64_t before = *delivered;
		enum rc_err err = rc_sink_raw_emit(r, p, (size_t)n, delivered,
						   &closed, msg, msglen);
		if (err != RC_OK || closed) {
			rc_reader_unread(r, (size_t)(*delivered - before));
			return err;
		}
	}
}
