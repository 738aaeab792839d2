/*
 * The io_uring floor for "server CPU per message", beside epoll_echo.c: a minimal single-threaded
 * liburing echo loop (Debian's liburing-dev), with the techniques that give io_uring its lead:
 * SINGLE_ISSUER + DEFER_TASKRUN, multishot accept, multishot recv into a provided buffer ring shared
 * by all connections, and a plain send from the received buffer, submitted in the same enter.
 *
 *   cc -O2 -o uring_echo uring_echo.c -luring && ./uring_echo PORT
 *
 * Binds 127.0.0.1:PORT. A buffer goes back to the ring when its echo is sent (a short send sends the
 * rest first); when the ring runs dry (ENOBUFS ends a multishot recv) the recv is armed again as
 * buffers return. Request/response traffic has one message in flight per connection, so sends on a
 * connection do not overtake each other; a pipelining peer could see them reordered (no links):
 * a floor, not a server. No timeouts, no limits. Runs until killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ENTRIES 4096
#define CQ_ENTRIES 65536
#define BUF_COUNT 4096          /* a power of two */
#define BUF_SIZE 4096
#define GROUP 0

enum kind { ACCEPT = 1, RECV = 2, SEND = 3 };

struct send_op {                /* one echo in flight: which buffer, how much is sent */
    int fd;
    unsigned bid;
    unsigned off;
    unsigned len;
};

static struct io_uring ring;
static struct io_uring_buf_ring *bufs;
static char *buf_base;
static int *starved;            /* fds whose recv ended with ENOBUFS, to re-arm */
static int starved_count;
static int starved_cap;

static unsigned long long tag(enum kind k, int fd) { return ((unsigned long long) fd << 8) | k; }

static struct io_uring_sqe *sqe(void) {
    struct io_uring_sqe *s = io_uring_get_sqe(&ring);
    if (!s) {
        io_uring_submit(&ring);
        s = io_uring_get_sqe(&ring);
    }
    return s;
}

static void arm_recv(int fd) {
    struct io_uring_sqe *s = sqe();
    io_uring_prep_recv_multishot(s, fd, NULL, 0, 0);
    s->flags |= IOSQE_BUFFER_SELECT;
    s->buf_group = GROUP;
    io_uring_sqe_set_data64(s, tag(RECV, fd));
}

static void send_rest(struct send_op *op) {
    struct io_uring_sqe *s = sqe();
    io_uring_prep_send(s, op->fd, buf_base + (size_t) op->bid * BUF_SIZE + op->off, op->len - op->off, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(s, (unsigned long long) (uintptr_t) op | SEND); /* malloc aligns to 16 */
}

static void give_back(unsigned bid) {
    io_uring_buf_ring_add(bufs, buf_base + (size_t) bid * BUF_SIZE, BUF_SIZE, bid, io_uring_buf_ring_mask(BUF_COUNT), 0);
    io_uring_buf_ring_advance(bufs, 1);
    while (starved_count > 0) {   /* buffers are back: the recvs that ran dry go on */
        arm_recv(starved[--starved_count]);
    }
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    struct io_uring_params p = {0};
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    p.cq_entries = CQ_ENTRIES;
    int r = io_uring_queue_init_params(ENTRIES, &ring, &p);
    if (r < 0) {
        fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-r));
        return 1;
    }
    /* By hand, not io_uring_setup_buf_ring: Debian 12's liburing (2.3) predates it. */
    if (posix_memalign((void **) &bufs, 4096, BUF_COUNT * sizeof(struct io_uring_buf)) != 0) {
        return 1;
    }
    io_uring_buf_ring_init(bufs);
    struct io_uring_buf_reg reg = {.ring_addr = (unsigned long) bufs, .ring_entries = BUF_COUNT, .bgid = GROUP};
    r = io_uring_register_buf_ring(&ring, &reg, 0);
    if (r < 0) {
        fprintf(stderr, "io_uring_register_buf_ring: %s\n", strerror(-r));
        return 1;
    }
    buf_base = malloc((size_t) BUF_COUNT * BUF_SIZE);
    for (unsigned i = 0; i < BUF_COUNT; i++) {
        io_uring_buf_ring_add(bufs, buf_base + (size_t) i * BUF_SIZE, BUF_SIZE, i, io_uring_buf_ring_mask(BUF_COUNT), i);
    }
    io_uring_buf_ring_advance(bufs, BUF_COUNT);
    starved_cap = 1024;
    starved = malloc(sizeof(int) * starved_cap);

    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(lfd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen(lfd, 4096) < 0) {
        perror("bind/listen");
        return 1;
    }
    struct io_uring_sqe *s = sqe();
    io_uring_prep_multishot_accept(s, lfd, NULL, NULL, 0);
    io_uring_sqe_set_data64(s, tag(ACCEPT, lfd));

    for (;;) {
        io_uring_submit_and_wait(&ring, 1);
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            seen++;
            unsigned long long ud = cqe->user_data;
            int res = cqe->res;
            enum kind k = (enum kind) (ud & 0xf);
            if (k == ACCEPT) {
                if (res >= 0) {
                    setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    arm_recv(res);
                }
                if (!(cqe->flags & IORING_CQE_F_MORE)) {
                    s = sqe();
                    io_uring_prep_multishot_accept(s, lfd, NULL, NULL, 0);
                    io_uring_sqe_set_data64(s, tag(ACCEPT, lfd));
                }
            } else if (k == RECV) {
                int fd = (int) (ud >> 8);
                if (res > 0) {
                    struct send_op *op = malloc(sizeof *op);
                    *op = (struct send_op) {fd, cqe->flags >> IORING_CQE_BUFFER_SHIFT, 0, (unsigned) res};
                    send_rest(op);
                }
                if (!(cqe->flags & IORING_CQE_F_MORE)) {
                    if (res == -ENOBUFS) {
                        if (starved_count == starved_cap) {
                            starved = realloc(starved, sizeof(int) * (starved_cap *= 2));
                        }
                        starved[starved_count++] = fd;
                    } else if (res > 0) {
                        arm_recv(fd);
                    } else {
                        close(fd); /* EOF or error; a send in flight then fails and frees its op */
                    }
                }
            } else {
                struct send_op *op = (struct send_op *) (uintptr_t) (ud & ~0xfULL);
                if (res > 0 && op->off + (unsigned) res < op->len) {
                    op->off += res;
                    send_rest(op);
                } else {
                    give_back(op->bid);
                    free(op);
                }
            }
        }
        io_uring_cq_advance(&ring, seen);
    }
}
