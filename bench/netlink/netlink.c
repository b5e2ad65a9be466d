/*
 * netlink: a userspace link emulator between two network namespaces, for
 * the latency benchmarks (this kernel has no sch_netem).
 *
 * It opens one TUN device in each namespace (entering them with setns, so
 * each device lives in its namespace while this process holds both file
 * descriptors) and forwards every packet from one to the other after a
 * one-way delay, through an optional bottleneck (a serialising link of
 * RATE bit/s with a queue of QLIMIT bytes, tail drop) and optional random
 * loss from a seeded generator. The devices vanish when the process exits.
 *
 * With -g the devices carry virtio-net headers and accept TSO/GSO
 * superpackets (up to 64 KiB), so the forwarder moves one buffer where the
 * stack would send 45 segments; TCP still sees a 1500-byte MTU. Loss then
 * would drop whole bursts, so -l requires plain packets (no -g).
 *
 * One thread, ppoll on both devices; packets wait in a byte arena per
 * direction in arrival order (the delay is constant, so due times are
 * monotonic). It prints "ready" on stdout once both devices exist.
 *
 *   netlink -a NS -A DEV -b NS -B DEV [-d MS] [-r MBIT] [-q BYTES]
 *           [-l LOSS] [-s SEED] [-g]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define ARENA (96u << 20) /* bytes of queued packets per direction */
#define MAXPKT (65536u + 64u)
#define VNET_HDR 10 /* struct virtio_net_hdr */

struct entry {
	uint32_t len; /* packet bytes after the entry */
	uint32_t pad;
	uint64_t due; /* ns, CLOCK_MONOTONIC */
};

struct dir {
	int in, out;
	unsigned char *arena;
	size_t head, tail; /* oldest entry, where the next is written */
	size_t wrap;	   /* where tail wrapped to 0, SIZE_MAX none */
	size_t used;	   /* bytes of queued entries */
	uint64_t tx_end;   /* when the bottleneck is free again, ns */
	uint64_t fwd, lost, qdrop, pkts;
};

static volatile sig_atomic_t stop;
static uint64_t delay_ns, rate_bps, qlimit;
static double loss;
static uint64_t rng = 88172645463325252ull;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static void die(const char *what)
{
	fprintf(stderr, "netlink: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Opens TUN device dev inside namespace ns (a name under /run/netns). */
static int open_tun(const char *ns, const char *dev, int home, bool gso)
{
	char path[256];
	struct ifreq ifr;

	snprintf(path, sizeof path, "/run/netns/%s", ns);
	int nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		die(path);
	if (setns(nsfd, CLONE_NEWNET) < 0)
		die("setns");
	close(nsfd);
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		die("/dev/net/tun");
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (gso ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", dev);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die("TUNSETIFF");
	if (gso &&
	    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0)
		die("TUNSETOFFLOAD");
	if (setns(home, CLONE_NEWNET) < 0)
		die("setns home");
	return fd;
}

static struct entry *at(struct dir *d, size_t off)
{
	return (struct entry *)(d->arena + off);
}

/* Whether the arena has room for one more packet at tail (wrapping tail
 * to the start when the end is too close). */
static bool room(struct dir *d)
{
	const size_t need = sizeof(struct entry) + MAXPKT;

	if (d->used == 0) {
		d->head = d->tail = 0;
		d->wrap = SIZE_MAX;
	} else if (d->wrap == SIZE_MAX && d->tail + need > ARENA) {
		if (d->head < need)
			return false;
		d->wrap = d->tail;
		d->tail = 0;
	}
	return d->wrap == SIZE_MAX || d->head - d->tail >= need;
}

/* Reads every packet waiting on d->in into the arena. While it is full,
 * the device's queue holds them (and main stops polling for them). */
static void take(struct dir *d)
{
	while (room(d)) {
		struct entry *e = at(d, d->tail);
		ssize_t n = read(d->in, (unsigned char *)(e + 1), MAXPKT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			die("read");
		}
		d->pkts++;
		uint64_t t = now_ns();
		if (loss > 0 && rnd() < loss) {
			d->lost++;
			continue;
		}
		uint64_t due = t + delay_ns;
		if (rate_bps) {
			uint64_t start = d->tx_end > t ? d->tx_end : t;
			/* bytes queued at the bottleneck ahead of this one */
			uint64_t backlog =
			    (uint64_t)((double)(start - t) * rate_bps / 8e9);
			if (qlimit && backlog > qlimit) {
				d->qdrop++;
				continue;
			}
			d->tx_end = start + (uint64_t)((double)n * 8e9 /
						       (double)rate_bps);
			due = d->tx_end + delay_ns;
		}
		e->len = (uint32_t)n;
		e->due = due;
		size_t sz = (sizeof *e + (size_t)n + 7) & ~(size_t)7;
		d->tail += sz;
		d->used += sz;
	}
}

/* Sends the packets that are due; returns ns until the next one, or -1. */
static int64_t give(struct dir *d, uint64_t t)
{
	while (d->used) {
		if (d->head == d->wrap) {
			d->head = 0;
			d->wrap = SIZE_MAX;
		}
		struct entry *e = at(d, d->head);
		if (e->due > t)
			return (int64_t)(e->due - t);
		ssize_t w = write(d->out, (unsigned char *)(e + 1), e->len);
		if (w < 0 && errno == EAGAIN)
			return 100000; /* the device is busy: 0.1 ms */
		if (w >= 0)
			d->fwd++;
		size_t sz = (sizeof *e + e->len + 7) & ~(size_t)7;
		d->head += sz;
		d->used -= sz;
	}
	return -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: netlink -a NS -A DEV -b NS -B DEV [-d MS] "
			"[-r MBIT] [-q BYTES] [-l LOSS] [-s SEED] [-g]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *ns_a = NULL, *ns_b = NULL, *dev_a = NULL, *dev_b = NULL;
	bool gso = false;
	int c;

	while ((c = getopt(argc, argv, "a:A:b:B:d:r:q:l:s:g")) != -1) {
		switch (c) {
		case 'a': ns_a = optarg; break;
		case 'A': dev_a = optarg; break;
		case 'b': ns_b = optarg; break;
		case 'B': dev_b = optarg; break;
		case 'd': delay_ns = (uint64_t)(atof(optarg) * 1e6); break;
		case 'r': rate_bps = (uint64_t)(atof(optarg) * 1e6); break;
		case 'q': qlimit = strtoull(optarg, NULL, 10); break;
		case 'l': loss = atof(optarg); break;
		case 's':
			rng = strtoull(optarg, NULL, 10) * 2654435761u + 1;
			break;
		case 'g': gso = true; break;
		default: usage();
		}
	}
	if (!ns_a || !ns_b || !dev_a || !dev_b)
		usage();
	if (gso && loss > 0) {
		fprintf(stderr, "netlink: -l needs plain packets (no -g)\n");
		return 2;
	}
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		die("/proc/self/ns/net");
	struct dir d[2];
	memset(d, 0, sizeof d);
	int fa = open_tun(ns_a, dev_a, home, gso);
	int fb = open_tun(ns_b, dev_b, home, gso);
	d[0].in = fa, d[0].out = fb;
	d[1].in = fb, d[1].out = fa;
	for (int i = 0; i < 2; i++) {
		d[i].arena = malloc(ARENA);
		if (d[i].arena == NULL)
			die("malloc");
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("ready\n");
	fflush(stdout);

	struct pollfd pf[2] = {{fa, POLLIN, 0}, {fb, POLLIN, 0}};
	while (!stop) {
		uint64_t t = now_ns();
		int64_t wait = -1;
		for (int i = 0; i < 2; i++) {
			int64_t w = give(&d[i], t);
			if (w >= 0 && (wait < 0 || w < wait))
				wait = w;
		}
		pf[0].events = room(&d[0]) ? POLLIN : 0;
		pf[1].events = room(&d[1]) ? POLLIN : 0;
		struct timespec ts = {(time_t)(wait / 1000000000),
				      (long)(wait % 1000000000)};
		int n = ppoll(pf, 2, wait < 0 ? NULL : &ts, NULL);
		if (n < 0 && errno != EINTR)
			die("ppoll");
		if (n > 0) {
			if (pf[0].revents & POLLIN)
				take(&d[0]);
			if (pf[1].revents & POLLIN)
				take(&d[1]);
		}
	}
	fprintf(stderr,
		"netlink: a->b %" PRIu64 " packets, %" PRIu64 " lost, %" PRIu64
		" queue drops; b->a %" PRIu64 " packets, %" PRIu64
		" lost, %" PRIu64 " queue drops\n",
		d[0].pkts, d[0].lost, d[0].qdrop, d[1].pkts, d[1].lost,
		d[1].qdrop);
	return 0;
}
