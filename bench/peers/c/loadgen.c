/*
 * A minimal TCP echo load generator for the server comparison: cheap enough per message that the
 * server, not the client, is the bottleneck when the two are pinned to one core each.
 *
 *   gcc -O2 -Wall -pthread -o loadgen bench/peers/c/loadgen.c
 *   loadgen 127.0.0.1 PORT [--connections N] [--size S] [--pipeline P] [--duration Ds] [--warmup Ws]
 *           [--threads T] [--cpu-pid PID] [--json]
 *
 * N connections (split over T threads, each with its own epoll set, edge-triggered), each keeps P
 * messages of S bytes in flight: closed loop, a new message as soon as one is fully echoed. Every
 * echoed byte is compared with what was sent (a per-connection pattern, so a byte from another
 * connection or offset is a mismatch). Latency is issue-to-last-echoed-byte, in a log-linear
 * histogram (1/32 relative precision). Only the measured window (after the warmup) is counted.
 * --json prints the same object as `coecho bench --json` (the fields bench/lib/record.py reads),
 * plus client_cpu_pct: this process's CPU over the measured window as a share of one core, and with
 * --cpu-pid, server_cpu_ticks: that process's utime + stime over the same window (clk_tck per s);
 * server_user_ticks: its utime alone (the server's own code, JIT and GC, without the kernel's part).
 * Loopback or any IPv4 address; the harness only ever points it at 127.0.0.1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PAT 251                /* pattern period: prime, so it does not line up with sizes */
#define MAX_SIZE (1 << 20)
#define HBUCKETS (64 + 40 * 32) /* ns: exact below 64, then 32 sub-buckets per power of two */

enum { E_MISMATCH, E_CONNECT, E_RESET, E_EOF, E_SILENT, E_KINDS };
static const char *err_names[E_KINDS] = {"mismatch", "connect", "reset", "eof", "silent"};

static int n_conns = 1, size = 32, pipeline = 1, n_threads = 1, json = 0, cpu_pid = 0;
static double duration = 10, warmup = 2;
static struct sockaddr_in target;
static unsigned char *pattern; /* PAT + MAX_SIZE bytes: pattern[i] = i % PAT */

/* 0 warming up, 1 measuring, 2 stopping: set by the main thread */
static _Atomic int phase = 0;

struct conn {
    int fd, dead;
    uint32_t seed;               /* stream offset o carries pattern[(o + seed) % PAT] */
    uint64_t sent, target_sent;  /* bytes written; bytes issued (messages issued x size) */
    uint64_t recvd;              /* bytes echoed and verified */
    uint64_t *issued_ns;         /* ring of P issue times, indexed by message number % P */
    uint64_t done_measured;      /* messages completed in the measured window */
};

struct worker {
    pthread_t tid;
    int ep, first, count;        /* connections [first, first + count) */
    struct conn *c;
    uint64_t hist[HBUCKETS];
    uint64_t messages, max_ns;
    uint64_t errors[E_KINDS];
};

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t) t.tv_sec * 1000000000u + (uint64_t) t.tv_nsec;
}

static int bucket(uint64_t v) {
    if (v < 64) return (int) v;
    int e = 63 - __builtin_clzll(v); /* >= 6 */
    if (e > 45) return HBUCKETS - 1;
    int shift = e - 5;
    return 64 + (e - 6) * 32 + (int) ((v >> shift) - 32);
}

static double bucket_mid(int i) { /* the middle of bucket i, in ns */
    if (i < 64) return i;
    int e = (i - 64) / 32 + 6, sub = (i - 64) % 32 + 32, shift = e - 5;
    return ((double) sub + 0.5) * (double) (1ull << shift);
}

static void fail(struct worker *w, struct conn *c, int kind) {
    if (c->dead) return;
    c->dead = 1;
    if (atomic_load(&phase) < 2) w->errors[kind]++;
    close(c->fd);
}

/* Writes what has been issued and not yet sent, until EAGAIN. */
static void flush(struct worker *w, struct conn *c) {
    while (!c->dead && c->sent < c->target_sent) {
        uint64_t want = c->target_sent - c->sent;
        if (want > MAX_SIZE) want = MAX_SIZE;
        ssize_t n = send(c->fd, pattern + (c->sent + c->seed) % PAT, want, MSG_NOSIGNAL);
        if (n > 0) { c->sent += (uint64_t) n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        fail(w, c, E_RESET); /* ECONNRESET, EPIPE, ... */
        return;
    }
}

static void issue(struct conn *c, uint64_t t) {
    uint64_t msg = c->target_sent / (uint64_t) size;
    c->issued_ns[msg % (uint64_t) pipeline] = t;
    c->target_sent += (uint64_t) size;
}

static void on_readable(struct worker *w, struct conn *c, unsigned char *buf, size_t cap) {
    while (!c->dead) {
        ssize_t n = recv(c->fd, buf, cap, 0);
        if (n == 0) { fail(w, c, E_EOF); return; }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            fail(w, c, E_RESET);
            return;
        }
        if (c->recvd + (uint64_t) n > c->sent ||
            memcmp(buf, pattern + (c->recvd + c->seed) % PAT, (size_t) n) != 0) {
            fail(w, c, E_MISMATCH);
            return;
        }
        uint64_t before = c->recvd / (uint64_t) size;
        c->recvd += (uint64_t) n;
        uint64_t after = c->recvd / (uint64_t) size;
        if (after > before) {
            uint64_t t = now_ns();
            int measuring = atomic_load_explicit(&phase, memory_order_relaxed) == 1;
            for (uint64_t m = before; m < after; m++) {
                if (measuring) {
                    uint64_t lat = t - c->issued_ns[m % (uint64_t) pipeline];
                    w->hist[bucket(lat)]++;
                    if (lat > w->max_ns) w->max_ns = lat;
                    w->messages++;
                    c->done_measured++;
                }
                issue(c, t);
            }
            flush(w, c);
        }
        /* A short read drained the socket: with edge triggering, more data (or EOF) is a new
         * event, so the recv that would return EAGAIN is saved (half the client's recv calls). */
        if ((size_t) n < cap) return;
    }
}

static void *run_worker(void *arg) {
    struct worker *w = arg;
    size_t cap = (size_t) size * (size_t) pipeline;
    if (cap < 65536) cap = 65536;
    if (cap > MAX_SIZE) cap = MAX_SIZE;
    unsigned char *buf = malloc(cap);
    struct epoll_event evs[512];
    uint64_t t = now_ns();
    for (int i = 0; i < w->count; i++) {
        struct conn *c = &w->c[i];
        if (c->dead) continue;
        for (int k = 0; k < pipeline; k++) issue(c, t);
        flush(w, c);
    }
    while (atomic_load(&phase) < 2) {
        int n = epoll_wait(w->ep, evs, 512, 50);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->dead) continue;
            if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(w, c, buf, cap);
            if (!c->dead && (evs[i].events & EPOLLOUT)) flush(w, c);
        }
    }
    free(buf);
    return NULL;
}

static double parse_seconds(const char *s) {
    char *end;
    double v = strtod(s, &end);
    if (*end == 's' && end[1] == 0) return v;
    if (strcmp(end, "ms") == 0) return v / 1000;
    if (*end == 0) return v;
    fprintf(stderr, "bad duration '%s'\n", s);
    exit(2);
}

static double cpu_seconds(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double) r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

/* utime + stime of process PID in clock ticks (all threads), or -1; its utime alone in *user. */
static long long proc_ticks(int pid, long long *user) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    unsigned long long ut = 0, st = 0;
    /* after "pid (comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return -1;
    *user = (long long) ut;
    return (long long) (ut + st);
}

static void sleep_s(double s) {
    struct timespec t = {(time_t) s, (long) ((s - (double) (time_t) s) * 1e9)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s HOST PORT [--connections N] [--size S] [--pipeline P] [--duration Ds] "
                        "[--warmup Ws] [--threads T] [--json]\n", argv[0]);
        return 2;
    }
    memset(&target, 0, sizeof target);
    target.sin_family = AF_INET;
    if (inet_pton(AF_INET, argv[1], &target.sin_addr) != 1) { fprintf(stderr, "bad IPv4 host '%s'\n", argv[1]); return 2; }
    int port = atoi(argv[2]);
    if (port <= 0 || port > 65535) { fprintf(stderr, "bad port\n"); return 2; }
    target.sin_port = htons((unsigned short) port);
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) { json = 1; continue; }
        if (!v) { fprintf(stderr, "%s needs a value\n", a); return 2; }
        if (strcmp(a, "--connections") == 0) n_conns = atoi(v);
        else if (strcmp(a, "--size") == 0) size = atoi(v);
        else if (strcmp(a, "--pipeline") == 0) pipeline = atoi(v);
        else if (strcmp(a, "--threads") == 0) n_threads = atoi(v);
        else if (strcmp(a, "--cpu-pid") == 0) cpu_pid = atoi(v);
        else if (strcmp(a, "--duration") == 0) duration = parse_seconds(v);
        else if (strcmp(a, "--warmup") == 0) warmup = parse_seconds(v);
        else { fprintf(stderr, "unknown option %s\n", a); return 2; }
        i++;
    }
    if (n_conns < 1 || size < 1 || size > MAX_SIZE / 2 || pipeline < 1 || pipeline > 1024 || n_threads < 1 ||
        n_threads > 64 || duration <= 0 || warmup < 0) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    if (n_threads > n_conns) n_threads = n_conns;
    pattern = malloc(PAT + MAX_SIZE);
    for (int i = 0; i < PAT + MAX_SIZE; i++) pattern[i] = (unsigned char) (i % PAT);

    struct conn *conns = calloc((size_t) n_conns, sizeof *conns);
    uint64_t *rings = calloc((size_t) n_conns * (size_t) pipeline, sizeof *rings);
    struct worker *ws = calloc((size_t) n_threads, sizeof *ws);
    for (int t = 0; t < n_threads; t++) {
        ws[t].first = (int) ((long) n_conns * t / n_threads);
        ws[t].count = (int) ((long) n_conns * (t + 1) / n_threads) - ws[t].first;
        ws[t].c = conns + ws[t].first;
        ws[t].ep = epoll_create1(EPOLL_CLOEXEC);
    }
    /* Blocking connects (loopback: microseconds each), then non-blocking for the run. */
    uint64_t connect_errors = 0;
    for (int i = 0; i < n_conns; i++) {
        struct conn *c = &conns[i];
        struct worker *w = &ws[0];
        for (int t = 0; t < n_threads; t++) if (i >= ws[t].first && i < ws[t].first + ws[t].count) w = &ws[t];
        c->issued_ns = rings + (size_t) i * (size_t) pipeline;
        c->seed = (uint32_t) ((i * 37u) % PAT);
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct timeval tv = {5, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *) &target, sizeof target) != 0) {
            if (i == 0 || connect_errors == 0) perror("connect");
            if (c->fd >= 0) close(c->fd);
            c->dead = 1;
            connect_errors++;
            continue;
        }
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
        epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev);
    }
    ws[0].errors[E_CONNECT] = connect_errors;

    for (int t = 0; t < n_threads; t++) pthread_create(&ws[t].tid, NULL, run_worker, &ws[t]);
    sleep_s(warmup);
    /* Measured window: the workers count completions while phase == 1. */
    /* --cpu-pid: the server's CPU over exactly this window (the harness's own sampler can drift
     * off the window on a loaded machine). */
    long long u0 = 0, u1 = 0;
    long long s0 = cpu_pid > 0 ? proc_ticks(cpu_pid, &u0) : -1;
    double cpu0 = cpu_seconds();
    uint64_t t0 = now_ns();
    atomic_store(&phase, 1);
    sleep_s(duration);
    atomic_store(&phase, 2);
    uint64_t t1 = now_ns();
    double cpu1 = cpu_seconds();
    long long s1 = cpu_pid > 0 ? proc_ticks(cpu_pid, &u1) : -1;
    for (int t = 0; t < n_threads; t++) pthread_join(ws[t].tid, NULL);

    /* Merge the workers. */
    static uint64_t hist[HBUCKETS];
    uint64_t messages = 0, max_ns = 0, errors[E_KINDS] = {0};
    for (int t = 0; t < n_threads; t++) {
        for (int i = 0; i < HBUCKETS; i++) hist[i] += ws[t].hist[i];
        messages += ws[t].messages;
        if (ws[t].max_ns > max_ns) max_ns = ws[t].max_ns;
        for (int k = 0; k < E_KINDS; k++) errors[k] += ws[t].errors[k];
    }
    for (int i = 0; i < n_conns; i++)
        if (!conns[i].dead && conns[i].done_measured == 0) errors[E_SILENT]++;
    double window = (double) (t1 - t0) / 1e9;
    double pct[4] = {0.50, 0.90, 0.99, 0.999}, val[4] = {0};
    for (int p = 0; p < 4 && messages > 0; p++) {
        uint64_t rank = (uint64_t) (pct[p] * (double) messages), seen = 0;
        if (rank >= messages) rank = messages - 1;
        for (int i = 0; i < HBUCKETS; i++) {
            seen += hist[i];
            if (seen > rank) { val[p] = bucket_mid(i) / 1000.0; break; }
        }
    }
    double msgs_per_s = (double) messages / window;
    uint64_t err_total = 0;
    for (int k = 0; k < E_KINDS; k++) err_total += errors[k];
    int ok = messages > 0 && err_total == 0;
    double client_cpu = 100.0 * (cpu1 - cpu0) / window;
    if (json) {
        printf("{\"host\":\"%s\",\"port\":%d,\"connections\":%d,\"reconnects\":0,\"size\":%d,\"pipeline\":%d,"
               "\"rate\":null,\"duration_s\":%.3f,\"messages\":%llu,\"msgs_per_s\":%.3f,\"mib_per_s\":%.3f,"
               "\"latency_us\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f},\"errors\":{",
               argv[1], port, n_conns, size, pipeline, window, (unsigned long long) messages, msgs_per_s,
               msgs_per_s * size / 1048576.0, val[0], val[1], val[2], val[3], (double) max_ns / 1000.0);
        for (int k = 0; k < E_KINDS; k++) printf("%s\"%s\":%llu", k ? "," : "", err_names[k], (unsigned long long) errors[k]);
        printf("},\"client\":\"c\",\"threads\":%d,\"client_cpu_pct\":%.1f", n_threads, client_cpu);
        if (s0 >= 0 && s1 >= s0)
            printf(",\"server_cpu_ticks\":%lld,\"server_user_ticks\":%lld,\"clk_tck\":%ld", s1 - s0, u1 - u0,
                   sysconf(_SC_CLK_TCK));
        printf(",\"ok\":%s}\n", ok ? "true" : "false");
    } else {
        printf("connections %d (%llu failed to connect), %d B, pipeline %d, %.2f s measured after %.2f s warmup\n",
               n_conns, (unsigned long long) errors[E_CONNECT], size, pipeline, window, warmup);
        printf("throughput  %.0f msg/s, %.2f MiB/s; client CPU %.1f%% of a core\n", msgs_per_s,
               msgs_per_s * size / 1048576.0, client_cpu);
        printf("latency us  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", val[0], val[1], val[2], val[3],
               (double) max_ns / 1000.0);
        printf("errors     ");
        for (int k = 0; k < E_KINDS; k++) printf(" %s %llu", err_names[k], (unsigned long long) errors[k]);
        printf("\nresult      %s\n", ok ? "OK: every echoed byte verified" : "FAILED");
    }
    for (int i = 0; i < n_conns; i++) if (!conns[i].dead) close(conns[i].fd);
    return ok ? 0 : 1;
}
