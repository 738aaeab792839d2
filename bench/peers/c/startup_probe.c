/*
 * Start-up probe for bench/startup.sh: watches one echo server that was just started and prints one
 * JSON line about it.
 *
 *   gcc -O2 -Wall -o startup_probe bench/peers/c/startup_probe.c
 *   startup_probe --port P --pid PID --t0 EPOCH_SECONDS.MICROS [--steady S] [--idle N] [--timeout S]
 *
 * 1. first echo: connects to 127.0.0.1:P every millisecond until the port listens, sends 32 bytes and
 *    reads them back, compared; first_echo_ms counts from --t0 (the instant the caller started the
 *    server: bash's $EPOCHREALTIME just before the command), listen_ms until the connect went through.
 * 2. steady: one connection, send 32 bytes, read the echo, again, for --steady seconds (default 10);
 *    echoes are counted per 100 ms window from the first echo on. The final rate is the median of the
 *    last 2 s of windows; steady_ms is the first window from which the median of 5 (500 ms) reaches
 *    90 % of it (-1: never, within the run).
 *    The same for CPU, which a busy machine disturbs less: the loop thread's CPU per echo in each window
 *    (windows with under 20 echoes left out) against the median of the last 2 s: steady_cpu_ms, where
 *    the median of 5 comes within 10 %. And the server's CPU (all threads, and the JIT compilers') at
 *    the first echo and after the run.
 * 3. RSS of PID (VmRSS, RssAnon, RssFile from /proc/PID/status, KiB): at the first echo, after the
 *    steady run and 1 s idle, and with --idle N more connections open (default 10000), each having
 *    echoed one byte, after 1 s idle.
 *
 * Every wait is bounded: --timeout seconds (default 30) to the first echo, 10 s per read, 120 s for
 * the N connections. Loopback only. Exit status 0 when every step succeeded; on a failure the JSON line
 * still comes, with "error".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MSG 32
#define WINDOW_NS 100000000LL /* 100 ms */
#define MAX_WINDOWS 1200      /* 120 s */

static int port, pid, steady_s = 10, idle_n = 10000, timeout_s = 30;
static double t0; /* seconds since the epoch, the server's start */

static double now_real(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long) t.tv_sec * 1000000000LL + t.tv_nsec;
}

struct rss { long vm, anon, file; };

static struct rss read_rss(void) {
    struct rss r = {-1, -1, -1};
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return r;
    while (fgets(line, sizeof line, f)) {
        sscanf(line, "VmRSS: %ld", &r.vm);
        sscanf(line, "RssAnon: %ld", &r.anon);
        sscanf(line, "RssFile: %ld", &r.file);
    }
    fclose(f);
    return r;
}

/* CPU time of the server's threads in ns (/proc/PID/task/TID/schedstat: exact, unlike the 10 ms
 * ticks of /proc/PID/stat): all of them, the event loops' (coecho-loop-N), the JIT compilers'. */
struct cpu { long long all, loop, jit; };

static struct cpu read_cpu(void) {
    struct cpu c = {0, 0, 0};
    char path[320], comm[64];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d) return c;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        long long ns = 0;
        snprintf(path, sizeof path, "/proc/%d/task/%s/schedstat", pid, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fscanf(f, "%lld", &ns) != 1) ns = 0;
        fclose(f);
        snprintf(path, sizeof path, "/proc/%d/task/%s/comm", pid, e->d_name);
        comm[0] = 0;
        f = fopen(path, "r");
        if (f) {
            if (!fgets(comm, sizeof comm, f)) comm[0] = 0;
            fclose(f);
        }
        c.all += ns;
        if (!strncmp(comm, "coecho-loop", 11)) c.loop += ns;
        if (!strncmp(comm, "C1 Compiler", 11) || !strncmp(comm, "C2 Compiler", 11)) c.jit += ns;
    }
    closedir(d);
    return c;
}

static int alive(void) { return kill(pid, 0) == 0 || errno == EPERM; }

/* A connected socket to the server, or -1 (errno from connect). */
static int dial(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short) port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *) &a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {10, 0}; /* no read waits longer than 10 s */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

/* Sends len bytes and reads them back, compared: 0, or -1. */
static int echo(int fd, const char *out, int len) {
    char in[MSG];
    if (send(fd, out, (size_t) len, MSG_NOSIGNAL) != len) return -1;
    for (int got = 0; got < len;) {
        ssize_t r = recv(fd, in + got, (size_t) (len - got), 0);
        if (r <= 0) return -1;
        got += (int) r;
    }
    return memcmp(in, out, (size_t) len) == 0 ? 0 : -1;
}

static const char *error = NULL;
static double listen_ms = -1, first_echo_ms = -1;
static struct rss rss_first = {-1, -1, -1}, rss_warm = {-1, -1, -1}, rss_idle = {-1, -1, -1};
static int windows[MAX_WINDOWS], n_windows = 0, idle_open = 0;
static long long loop_ns[MAX_WINDOWS]; /* the loop threads' CPU in each window */
static struct cpu cpu_first, cpu_steady;

static void print_rss(const char *name, struct rss r) {
    printf(",\"%s_kib\":%ld,\"%s_anon_kib\":%ld,\"%s_file_kib\":%ld", name, r.vm, name, r.anon, name, r.file);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* Windows with fewer echoes than this say little about the CPU per echo (a stall of the machine). */
#define MIN_ECHOES 20

/* The median of the values of windows i..i+4 that had at least MIN_ECHOES echoes (per_echo: the loop's
 * µs per echo; else echoes per second), or -1 when fewer than 3 of them did. */
static double smoothed(int i, int per_echo) {
    double v[5];
    int n = 0;
    for (int j = i; j < i + 5 && j < n_windows; j++) {
        if (windows[j] < MIN_ECHOES) continue;
        v[n++] = per_echo ? loop_ns[j] / 1000.0 / windows[j] : windows[j] * 10.0;
    }
    if (n < 3) return -1;
    qsort(v, (size_t) n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void report(void) {
    double final_rate = -1, steady_ms = -1, first_s = 0, final_us = -1, steady_cpu_ms = -1, first_us = -1;
    if (n_windows >= 25) {
        /* final: the median over the last 2 s (20 windows; for the CPU, those with MIN_ECHOES echoes) */
        double rate[20], us[20];
        int nr = 0, nu = 0;
        for (int i = n_windows - 20; i < n_windows; i++) {
            rate[nr++] = windows[i] * 10.0;
            if (windows[i] >= MIN_ECHOES) us[nu++] = loop_ns[i] / 1000.0 / windows[i];
        }
        qsort(rate, (size_t) nr, sizeof rate[0], cmp_double);
        final_rate = (rate[9] + rate[10]) / 2;
        if (nu >= 5) {
            qsort(us, (size_t) nu, sizeof us[0], cmp_double);
            final_us = nu % 2 ? us[nu / 2] : (us[nu / 2 - 1] + us[nu / 2]) / 2;
        }
        /* steady: the first window from which the median of 5 (500 ms) is within 10 % of final; a
         * median, so that one window the machine disturbed neither ends nor fakes the warm-up */
        for (int i = 0; i + 5 <= n_windows; i++) {
            double r = smoothed(i, 0);
            if (r >= 0.9 * final_rate) { steady_ms = i * 100.0; break; }
        }
        for (int i = 0; final_us > 0 && i + 5 <= n_windows; i++) {
            double u = smoothed(i, 1);
            if (u > 0 && u <= 1.1 * final_us) { steady_cpu_ms = i * 100.0; break; }
        }
        for (int i = 0; i < n_windows; i++) {
            if (windows[i] >= MIN_ECHOES) { first_us = loop_ns[i] / 1000.0 / windows[i]; break; }
        }
    }
    for (int i = 0; i < n_windows && i < 10; i++) first_s += windows[i];
    printf("{\"listen_ms\":%.1f,\"first_echo_ms\":%.1f,\"steady_ms\":%.0f,\"final_rate\":%.0f,"
           "\"first_window_rate\":%d,\"echoes_first_s\":%.0f,\"steady_cpu_ms\":%.0f,\"loop_us_first\":%.1f,"
           "\"loop_us_final\":%.2f,\"cpu_first_ms\":%.1f,\"jit_first_ms\":%.1f,\"cpu_steady_ms\":%.1f,\"jit_steady_ms\":%.1f,"
           "\"idle_connections\":%d",
           listen_ms, first_echo_ms, steady_ms, final_rate, n_windows > 0 ? windows[0] * 10 : -1, first_s,
           steady_cpu_ms, first_us, final_us, cpu_first.all / 1e6, cpu_first.jit / 1e6, cpu_steady.all / 1e6, cpu_steady.jit / 1e6,
           idle_open);
    print_rss("rss_first", rss_first);
    print_rss("rss_warm", rss_warm);
    print_rss("rss_idle", rss_idle);
    printf(",\"windows\":[");
    for (int i = 0; i < n_windows; i++) printf(i ? ",%d" : "%d", windows[i]);
    printf("],\"loop_ns\":[");
    for (int i = 0; i < n_windows; i++) printf(i ? ",%lld" : "%lld", loop_ns[i]);
    printf("]");
    if (error) printf(",\"error\":\"%s\"", error);
    printf("}\n");
    fflush(stdout);
}

static int fail(const char *what) {
    error = what;
    report();
    return 1;
}

int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--pid")) pid = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--t0")) t0 = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--steady")) steady_s = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--idle")) idle_n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--timeout")) timeout_s = atoi(argv[i + 1]);
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    if (port <= 0 || port > 65535 || pid <= 0 || t0 <= 0 || steady_s < 3 || steady_s > 120 || idle_n < 0
        || timeout_s <= 0) {
        fprintf(stderr, "usage: %s --port P --pid PID --t0 EPOCH_SECONDS [--steady S] [--idle N] [--timeout S]\n", argv[0]);
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    char msg[MSG];
    for (int i = 0; i < MSG; i++) msg[i] = (char) ('a' + i % 26);

    /* 1. the first echo */
    int fd = -1;
    for (;;) {
        if (now_real() - t0 > timeout_s) return fail("no echo within the timeout");
        if (!alive()) return fail("the server exited before its first echo");
        fd = dial();
        if (fd >= 0) break;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    listen_ms = (now_real() - t0) * 1000;
    if (echo(fd, msg, MSG) != 0) return fail("first echo failed");
    first_echo_ms = (now_real() - t0) * 1000;
    long long start = now_ns();
    cpu_first = read_cpu();
    rss_first = read_rss();

    /* 2. one connection, as fast as it goes, counted per 100 ms window */
    long long end = start + steady_s * 1000000000LL;
    int current = 0;
    long long loop_at = cpu_first.loop;
    for (long long t = now_ns(); t < end; t = now_ns()) {
        if (echo(fd, msg, MSG) != 0) return fail("echo failed during the steady run");
        t = now_ns();
        if (t >= end) break;
        int w = (int) ((t - start) / WINDOW_NS);
        if (w >= MAX_WINDOWS) break;
        if (w != current) { /* a window closed: charge the loop's CPU since the last one to it */
            long long loop = read_cpu().loop;
            loop_ns[current] = loop - loop_at;
            loop_at = loop;
            current = w;
        }
        windows[w]++;
        if (w + 1 > n_windows) n_windows = w + 1;
    }
    cpu_steady = read_cpu();
    loop_ns[current] = cpu_steady.loop - loop_at;
    sleep(1);
    rss_warm = read_rss();

    /* 3. N idle connections, each having echoed one byte */
    if (idle_n > 0) {
        int *fds = calloc((size_t) idle_n, sizeof *fds);
        if (!fds) return fail("out of memory");
        long long deadline = now_ns() + 120 * 1000000000LL;
        for (int i = 0; i < idle_n; i++) {
            if (now_ns() > deadline) { error = "idle connections: timed out"; break; }
            int c = dial();
            if (c < 0 || echo(c, "x", 1) != 0) {
                error = c < 0 && errno == EMFILE ? "idle connections: out of descriptors (ulimit -n)"
                                                 : "idle connections: connect or echo failed";
                if (c >= 0) close(c);
                break;
            }
            fds[idle_open++] = c;
        }
        sleep(1);
        rss_idle = read_rss();
        for (int i = 0; i < idle_open; i++) close(fds[i]);
        free(fds);
    }
    close(fd);
    report();
    return error ? 1 : 0;
}
