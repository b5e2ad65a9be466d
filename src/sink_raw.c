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
#include <sys/stat.h>
#include <unistd.h>

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
