/* Userspace link impairment: a forwarder thread between two interfaces.
 *
 * Frames are read and written with AF_PACKET raw sockets bound to each
 * interface, with PACKET_VNET_HDR so that offloaded frames (GSO, checksum
 * left to the hardware) pass through unchanged instead of being cut at the
 * MTU. Frames this process sent itself show up again as PACKET_OUTGOING
 * and are skipped. Frames leaving the node wait in a min-heap ordered by
 * release time, then arrival (so equal delays keep FIFO order). */
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#include <sodium.h>

#include "common/util.h"
#include "sim/impair.h"

#define FRAME_MAX (65536 + 64)	/* a GSO frame, its Ethernet and vnet headers */
#define BATCH 64		/* frames read from one socket per wakeup */

struct held {
	uint64_t due;		/* mono_ns() at which to send */
	uint64_t seq;
	size_t len;
	uint8_t *data;
};

struct impair {
	int fd_node, fd_net;
	int wake[2];		/* a byte on wake[1] asks the thread to look at stop */
	pthread_t thread;
	pthread_mutex_t mu;	/* guards the settings below */
	uint64_t delay_ns, jitter_ns;
	uint32_t loss_ppm;	/* per million */
	bool stop;		/* written under mu */
	struct held *heap;	/* node -> network frames waiting */
	size_t n, bytes;
	uint64_t seq;
	struct impair_stats st;	/* written by the thread only */
	uint8_t *buf;
};

static void
stat_add(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static bool
before(const struct held *a, const struct held *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void
heap_push(struct impair *im, struct held h)
{
	size_t i = im->n++;

	im->heap[i] = h;
	while (i > 0 && before(&im->heap[i], &im->heap[(i - 1) / 2])) {
		struct held t = im->heap[i];

		im->heap[i] = im->heap[(i - 1) / 2];
		im->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	im->bytes += h.len;
}

static struct held
heap_pop(struct impair *im)
{
	struct held top = im->heap[0];
	size_t i = 0;

	im->heap[0] = im->heap[--im->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < im->n && before(&im->heap[l], &im->heap[m]))
			m = l;
		if (r < im->n && before(&im->heap[r], &im->heap[m]))
			m = r;
		if (m == i)
			break;
		struct held t = im->heap[i];

		im->heap[i] = im->heap[m];
		im->heap[m] = t;
		i = m;
	}
	im->bytes -= top.len;
	return top;
}

static void
clear_error(int fd)
{
	int e = 0;
	socklen_t l = sizeof(e);

	/* A packet socket reports ENETDOWN when its link goes down (a `cut`);
	 * reading the error clears it, and the socket works again once the
	 * link is back up. */
	(void)getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
}

static void
send_frame(struct impair *im, int fd, const uint8_t *p, size_t len)
{
	if (send(fd, p, len, MSG_DONTWAIT) != (ssize_t)len)
		stat_add(&im->st.send_errors);
}

/* Read up to BATCH frames from fd; frames from the node are delayed or
 * lost, frames towards it are passed on at once. */
static void
pump(struct impair *im, int fd, bool from_node)
{
	for (int k = 0; k < BATCH; k++) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(fd, im->buf, FRAME_MAX, MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from, &fl);

		if (r < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				clear_error(fd);
			return;
		}
		if (from.sll_pkttype == PACKET_OUTGOING || r == 0)
			continue;
		if ((size_t)r > FRAME_MAX) {
			stat_add(&im->st.dropped_full);
			continue;
		}
		if (!from_node) {
			send_frame(im, im->fd_node, im->buf, (size_t)r);
			stat_add(&im->st.in_frames);
			continue;
		}

		uint64_t delay, jitter;
		uint32_t loss;

		pthread_mutex_lock(&im->mu);
		delay = im->delay_ns;
		jitter = im->jitter_ns;
		loss = im->loss_ppm;
		pthread_mutex_unlock(&im->mu);
		if (loss && randombytes_uniform(1000000) < loss) {
			stat_add(&im->st.out_lost);
			continue;
		}
		if (jitter) {
			/* Uniform over [delay - jitter, delay + jitter], in µs. */
			uint64_t j_us = jitter / 1000;
			uint64_t span = 2 * j_us + 1;
			uint64_t pick = span > UINT32_MAX ? j_us : randombytes_uniform((uint32_t)span);
			int64_t d = (int64_t)delay + ((int64_t)pick - (int64_t)j_us) * 1000;

			delay = d < 0 ? 0 : (uint64_t)d;
		}
		if (im->n >= IMPAIR_QUEUE_FRAMES || im->bytes + (size_t)r > IMPAIR_QUEUE_BYTES) {
			stat_add(&im->st.dropped_full);
			continue;
		}
		struct held h = { mono_ns() + delay, im->seq++, (size_t)r, xmalloc((size_t)r) };

		memcpy(h.data, im->buf, h.len);
		heap_push(im, h);
	}
}

static void
release_due(struct impair *im)
{
	uint64_t now = mono_ns();

	while (im->n && im->heap[0].due <= now) {
		struct held h = heap_pop(im);

		send_frame(im, im->fd_net, h.data, h.len);
		stat_add(&im->st.out_frames);
		free(h.data);
	}
}

static bool
stopping(struct impair *im)
{
	bool s;

	pthread_mutex_lock(&im->mu);
	s = im->stop;
	pthread_mutex_unlock(&im->mu);
	return s;
}

static void *
run(void *arg)
{
	struct impair *im = arg;

	while (!stopping(im)) {
		struct pollfd pf[3] = {
			{ .fd = im->wake[0], .events = POLLIN },
			{ .fd = im->fd_node, .events = POLLIN },
			{ .fd = im->fd_net, .events = POLLIN },
		};
		int timeout = 1000;

		if (im->n) {
			uint64_t now = mono_ns(), due = im->heap[0].due;
			uint64_t ms = due > now ? (due - now + 999999) / 1000000 : 0;

			timeout = ms < 1000 ? (int)ms : 1000;
		}
		if (poll(pf, 3, timeout) < 0 && errno != EINTR)
			break;
		if (pf[0].revents) {
			char c[16];

			while (read(im->wake[0], c, sizeof(c)) > 0)
				;
		}
		if (pf[1].revents & POLLERR)
			clear_error(im->fd_node);
		if (pf[2].revents & POLLERR)
			clear_error(im->fd_net);
		if (pf[1].revents & POLLIN)
			pump(im, im->fd_node, true);
		if (pf[2].revents & POLLIN)
			pump(im, im->fd_net, false);
		release_due(im);
	}
	return NULL;
}

static int
open_if(const char *name, int *fd)
{
	struct sockaddr_ll sll;
	unsigned idx = if_nametoindex(name);
	int one = 1, rcv = 4 << 20;

	*fd = -1;
	if (idx == 0)
		return ERR_NOT_FOUND;
	/* Protocol 0 receives nothing until bind names the interface, so no
	 * frame of another interface slips in between. */
	*fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (*fd < 0)
		return errno == EPERM || errno == EACCES ? ERR_PERM : ERR_IO;
	if (setsockopt(*fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0)
		return ERR_IO;
#ifdef PACKET_IGNORE_OUTGOING
	(void)setsockopt(*fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
#endif
	if (setsockopt(*fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		(void)setsockopt(*fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)idx;
	if (bind(*fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return ERR_IO;
	return 0;
}

static void
settings(struct impair *im, unsigned delay_ms, unsigned jitter_ms, double loss_pct)
{
	if (loss_pct < 0)
		loss_pct = 0;
	if (loss_pct > 100)
		loss_pct = 100;
	im->delay_ns = (uint64_t)delay_ms * 1000000;
	im->jitter_ns = (uint64_t)jitter_ms * 1000000;
	im->loss_ppm = (uint32_t)(loss_pct * 10000.0 + 0.5);
}

int
impair_new(struct impair **out, const char *node_if, const char *net_if, unsigned delay_ms,
	   unsigned jitter_ms, double loss_pct)
{
	struct impair *im = xcalloc(1, sizeof(*im));
	int rc;

	*out = NULL;
	im->fd_node = im->fd_net = im->wake[0] = im->wake[1] = -1;
	pthread_mutex_init(&im->mu, NULL);
	settings(im, delay_ms, jitter_ms, loss_pct);
	im->heap = xcalloc(IMPAIR_QUEUE_FRAMES, sizeof(*im->heap));
	im->buf = xmalloc(FRAME_MAX + 1);
	if ((rc = open_if(node_if, &im->fd_node)) < 0 || (rc = open_if(net_if, &im->fd_net)) < 0)
		goto fail;
	rc = ERR_IO;
	if (pipe2(im->wake, O_CLOEXEC | O_NONBLOCK) < 0)
		goto fail;
	if (pthread_create(&im->thread, NULL, run, im) != 0)
		goto fail;
	*out = im;
	return 0;
fail:
	if (im->fd_node >= 0)
		close(im->fd_node);
	if (im->fd_net >= 0)
		close(im->fd_net);
	if (im->wake[0] >= 0) {
		close(im->wake[0]);
		close(im->wake[1]);
	}
	pthread_mutex_destroy(&im->mu);
	free(im->heap);
	free(im->buf);
	free(im);
	return rc;
}

void
impair_set(struct impair *im, unsigned delay_ms, unsigned jitter_ms, double loss_pct)
{
	pthread_mutex_lock(&im->mu);
	settings(im, delay_ms, jitter_ms, loss_pct);
	pthread_mutex_unlock(&im->mu);
}

void
impair_stats(const struct impair *im, struct impair_stats *st)
{
	st->out_frames = __atomic_load_n(&im->st.out_frames, __ATOMIC_RELAXED);
	st->out_lost = __atomic_load_n(&im->st.out_lost, __ATOMIC_RELAXED);
	st->in_frames = __atomic_load_n(&im->st.in_frames, __ATOMIC_RELAXED);
	st->dropped_full = __atomic_load_n(&im->st.dropped_full, __ATOMIC_RELAXED);
	st->send_errors = __atomic_load_n(&im->st.send_errors, __ATOMIC_RELAXED);
}

void
impair_free(struct impair *im)
{
	if (!im)
		return;
	pthread_mutex_lock(&im->mu);
	im->stop = true;
	pthread_mutex_unlock(&im->mu);
	if (write(im->wake[1], "x", 1) < 0) {
		/* The thread still sees stop within its 1 s poll bound. */
	}
	pthread_join(im->thread, NULL);
	while (im->n)
		free(heap_pop(im).data);
	close(im->fd_node);
	close(im->fd_net);
	close(im->wake[0]);
	close(im->wake[1]);
	pthread_mutex_destroy(&im->mu);
	free(im->heap);
	free(im->buf);
	free(im);
}
