/*
 * The floor for "server CPU per message": a minimal edge-triggered epoll echo server, one thread.
 *
 *   cc -O2 -o epoll_echo epoll_echo.c && ./epoll_echo PORT
 *
 * Binds 127.0.0.1:PORT. Each readable connection is drained until EAGAIN and every chunk is written
 * straight back; if the peer does not read fast enough the unsent rest is kept in a per-connection
 * buffer and the connection stops reading until EPOLLOUT has flushed it (the flow control any echo
 * server needs). No timeouts, no limits: a floor, not a server. Runs until killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 16384
#define MAX_EVENTS 256

struct conn {
    int fd;
    size_t pending;          /* unsent bytes in out, from offset sent */
    size_t sent;
    char out[BUF_SIZE];
};

static void close_conn(struct conn *c) {
    close(c->fd);            /* closing removes it from the epoll set */
    free(c);
}

/* Writes what is pending; returns 0 when all is out, 1 when the socket is full, -1 on error. */
static int flush_pending(struct conn *c) {
    while (c->pending > 0) {
        ssize_t n = send(c->fd, c->out + c->sent, c->pending, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -1;
        }
        c->sent += (size_t)n;
        c->pending -= (size_t)n;
    }
    return 0;
}

/* Reads until EAGAIN (edge-triggered) and echoes each chunk. Returns -1 when the conn is done. */
static int on_readable(struct conn *c, char *buf) {
    for (;;) {
        if (c->pending > 0) return 0;    /* wait for EPOLLOUT before reading more */
        ssize_t n = recv(c->fd, buf, BUF_SIZE, 0);
        if (n == 0) return -1;
        if (n < 0) {
            if (errno == EINTR) continue;
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
        }
        size_t off = 0;
        while (off < (size_t)n) {
            ssize_t w = send(c->fd, buf + off, (size_t)n - off, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EINTR) continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
                memcpy(c->out, buf + off, (size_t)n - off);
                c->pending = (size_t)n - off;
                c->sent = 0;
                return 0;
            }
            off += (size_t)w;
        }
    }
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    signal(SIGPIPE, SIG_IGN);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 4096) < 0) {
        perror("epoll_echo: bind/listen");
        return 1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};   /* NULL marks the listener */
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    static char buf[BUF_SIZE];
    struct epoll_event events[MAX_EVENTS];
    fprintf(stderr, "epoll_echo: listening on 127.0.0.1:%d\n", port);
    for (;;) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_echo: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *nc = malloc(sizeof *nc);
                    if (nc == NULL) { close(fd); continue; }
                    nc->fd = fd;
                    nc->pending = 0;
                    nc->sent = 0;
                    struct epoll_event cev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = nc};
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) < 0) { close(fd); free(nc); }
                }
                continue;
            }
            uint32_t e = events[i].events;
            int done = (e & EPOLLERR) != 0;
            if (!done && (e & EPOLLOUT) && c->pending > 0) {
                int r = flush_pending(c);
                done = r < 0;
                /* Flushed: read what arrived meanwhile (its edge may have come and gone). */
                if (r == 0) e |= EPOLLIN;
            }
            if (!done && (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))) {
                done = on_readable(c, buf) < 0;
            }
            if (done) close_conn(c);
        }
    }
}
