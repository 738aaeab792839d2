/*
 * The simplest client there is: one blocking connection, send a message, read its echo back whole,
 * repeat N times; prints requests per second. The "simple client" of the seed chapter's own
 * benchmark, in C so that the client costs as little as possible.
 *
 *   gcc -O2 -o pingpong bench/peers/c/pingpong.c
 *   taskset -c 1 ./pingpong PORT [N=100000] [SIZE=29]          (loopback only)
 */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT [N] [SIZE]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    int n = argc > 2 ? atoi(argv[2]) : 100000;
    int size = argc > 3 ? atoi(argv[3]) : 29; /* the seed's "hello coroutine echo server!\n" */
    if (port <= 0 || port > 65535 || n <= 0 || size <= 0 || size > 65536) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short) port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *) &a, sizeof a) != 0) {
        perror("connect");
        return 1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    static char out[65536], in[65536];
    memset(out, 'x', (size_t) size);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        if (send(fd, out, (size_t) size, 0) != size) {
            perror("send");
            return 1;
        }
        for (int got = 0; got < size;) {
            ssize_t r = recv(fd, in + got, (size_t) (size - got), 0);
            if (r <= 0) {
                perror("recv");
                return 1;
            }
            got += (int) r;
        }
        if (memcmp(in, out, (size_t) size) != 0) {
            fprintf(stderr, "echo mismatch at request %d\n", i);
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%d requests in %.3f s: %.0f req/s, %.2f us per request\n", n, s, n / s, s * 1e6 / n);
    close(fd);
    return 0;
}
