#!/usr/bin/env bash
# Side-by-side echo benchmarks: the same matrix of loads against coecho and its peers, one fresh
# server per case, repeated in rounds, results and a chart in bench/out/<timestamp>/. docs/BENCHMARKS.md
# explains the columns and how to read them.
#
#   bench/run.sh                 the full matrix, both modes, 3 rounds (hours: narrow it, see below)
#   bench/run.sh --smoke         four servers, two cases, pinned mode, 1+2 s loads, 1 round (about a minute)
#   bench/run.sh --servers coecho-epoll,netty --cases c100-32,c1000-4k --modes pinned --duration 5
#
# Rounds: every (mode, case) is measured once per round for each server, the servers of a case back
# to back, in an order that rotates by one each round (round 1: A B C, round 2: B C A, round 3: C A B),
# so drift on a shared machine spreads over all servers. The report gives every figure as the median
# across rounds with its min-max, and takes ratios between medians.
#
# Options:
#   --rounds N       rounds (default 3; 1 with --smoke)
#   --client KIND    load generator: c (bench/peers/c/loadgen.c, default: cheap enough not to be the
#                    bottleneck) or java (`coecho bench`, the product's own load generator)
#   --servers LIST   comma list of: coecho-epoll coecho-epoll-alt coecho-epoll-alt2 coecho-epoll-base coecho-uring coecho-uring-alt coecho-uring-alt2 coecho-uring-base coecho-uring-plain coecho-uring-nopf coecho-uring-ds coecho-nio coecho-vthreads coecho-threads netty netty-uring asio
#                    seed c-epoll c-uring (default: all but the -alt ones, which need COECHO_ALT*_JAVA_OPTS,
#                    and the -base ones, which need COECHO_BASE)
#   --cases LIST     comma list of cN-SIZE[-pP]: N connections, SIZE bytes (32, 4k, ...), P messages in
#                    flight per connection (default: c1,c100,c1000,c10000 x 32,4k, and c100-32-p16)
#   --modes LIST     pinned (server on CPU 0, load generator on CPU 1) and/or shared (both on both
#                    CPUs, servers with 2 threads, asio and the C servers 1). Default: pinned,shared
#   --duration S     measured seconds per case (default 10)      --warmup S   seconds before (default 2)
#   --port P         port for every server (default 8080; the seed's server can only use 8080)
#   --out DIR        results folder (default bench/out/<timestamp>)
#   --chart FILE     chart path (default: benchmarks.png in the results folder; pass
#                    docs/benchmarks.png to replace the documented chart)
#   --no-chart       skip the chart
#   --netns          run in a private network namespace (root; unshare -n, loopback only): no clash
#                    with whatever else listens on the port on a shared machine
# Environment: SERVER_JAVA_OPTS (Netty's JVM), COECHO_JAVA_OPTS (coecho's, via ./coecho),
#              COECHO_ALT_JAVA_OPTS / COECHO_ALT2_JAVA_OPTS (added for coecho-epoll-alt / -alt2 and coecho-uring-alt / -alt2),
#              COECHO_BASE (a checkout of another commit, for coecho-epoll-base / coecho-uring-base: a change measured
#              against its parent in the same rounds; make one with `git worktree add /tmp/base HEAD~1`),
#              LOADGEN_JAVA_OPTS, SEED_DIR (see build.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"

all_servers="coecho-epoll,coecho-uring,coecho-uring-plain,coecho-uring-nopf,coecho-uring-ds,coecho-nio,coecho-vthreads,coecho-threads,netty,netty-uring,asio,seed,c-epoll,c-uring"
all_cases="c1-32,c100-32,c1000-32,c10000-32,c1-4k,c100-4k,c1000-4k,c10000-4k,c100-32-p16"
servers="$all_servers" cases="$all_cases" modes="pinned,shared"
duration=10 warmup=2 port=8080 outdir="" chart="" no_chart=0 smoke=0 netns=0 rounds="" client=c
args_given=("$@")

die() { echo "bench/run: $*" >&2; exit 2; }
say() { echo "bench/run: $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --client) client="$2"; shift 2 ;;
    --servers) servers="$2"; shift 2 ;;
    --cases) cases="$2"; shift 2 ;;
    --modes) modes="$2"; shift 2 ;;
    --duration) duration="${2%s}"; shift 2 ;;
    --warmup) warmup="${2%s}"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --out) outdir="$2"; shift 2 ;;
    --chart) chart="$2"; shift 2 ;;
    --no-chart) no_chart=1; shift ;;
    --netns) netns=1; shift ;;
    --smoke) smoke=1; servers="coecho-epoll,netty,asio,c-epoll"; cases="c1-32,c100-32"; modes="pinned"
             duration=2; warmup=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (--help lists them)" ;;
  esac
done

if [ "$netns" = 1 ] && [ "${BENCH_IN_NETNS:-}" != 1 ]; then
  command -v unshare >/dev/null && command -v ip >/dev/null || die "--netns needs unshare and ip (util-linux, iproute2)"
  rest=()
  for a in "${args_given[@]}"; do [ "$a" = --netns ] || rest+=("$a"); done
  # The namespace has only a loopback interface, down until we raise it; results stay on disk.
  exec env BENCH_IN_NETNS=1 unshare -n -- bash -c 'ip link set lo up && exec "$0" "$@"' "$0" "${rest[@]}"
fi

[ -n "$rounds" ] || { if [ "$smoke" = 1 ]; then rounds=1; else rounds=3; fi; }
[[ "$rounds" =~ ^[0-9]+$ && "$rounds" -ge 1 && "$rounds" -le 50 ]] || die "--rounds must be 1..50: '$rounds'"
[[ "$client" == c || "$client" == java ]] || die "--client must be c or java: '$client'"
[[ "$duration" =~ ^[0-9]+$ && "$duration" -ge 2 ]] || die "--duration must be whole seconds, at least 2: '$duration'"
[[ "$warmup" =~ ^[0-9]+$ ]] || die "--warmup must be whole seconds: '$warmup'"
[[ "$port" =~ ^[0-9]+$ && "$port" -ge 1 && "$port" -le 65535 ]] || die "--port must be 1..65535: '$port'"
IFS=, read -r -a server_list <<<"$servers"
IFS=, read -r -a case_list <<<"$cases"
IFS=, read -r -a mode_list <<<"$modes"
for s in "${server_list[@]}"; do
  [[ ",$all_servers,coecho-epoll-alt,coecho-epoll-alt2,coecho-uring-alt,coecho-uring-alt2,coecho-epoll-base,coecho-uring-base," == *",$s,"* ]] \
    || die "unknown server '$s' (one of $all_servers, coecho-epoll-alt, coecho-epoll-alt2, coecho-uring-alt, coecho-uring-alt2, coecho-epoll-base, coecho-uring-base)"
  case "$s" in
    coecho-*-base) [ -x "${COECHO_BASE:-}/coecho" ] || die "$s needs COECHO_BASE, a checkout with its launcher (git worktree add /tmp/base HEAD~1)" ;;
    coecho-*-alt) [ -n "${COECHO_ALT_JAVA_OPTS:-}" ] || die "$s needs COECHO_ALT_JAVA_OPTS (the JVM options it adds)" ;;
    coecho-*-alt2) [ -n "${COECHO_ALT2_JAVA_OPTS:-}" ] || die "$s needs COECHO_ALT2_JAVA_OPTS" ;;
  esac
done
for m in "${mode_list[@]}"; do [[ "$m" == pinned || "$m" == shared ]] || die "unknown mode '$m' (pinned, shared)"; done
for c in "${case_list[@]}"; do [[ "$c" =~ ^c[0-9]+-[0-9]+[kK]?(-p[0-9]+)?$ ]] || die "bad case '$c' (cN-SIZE[-pP], e.g. c100-4k-p16)"; done
[ "$(nproc)" -ge 2 ] || die "needs at least 2 CPUs (server on one, load generator on the other)"
command -v taskset >/dev/null || die "taskset is needed (apt-get install util-linux)"

JAVA_HOME="$(bench_find_jdk)" || die "no JDK 25 found (set JAVA_HOME)"
export JAVA_HOME
java="$JAVA_HOME/bin/java"
python="$(bench_python)" || die "python3 is needed for the report"

# --- build what is missing --------------------------------------------------------------------
need=()
[ "$client" = java ] && need+=(coecho)
[ "$client" = c ] && need+=(c)
for s in "${server_list[@]}"; do
  case "$s" in coecho-*) need+=(coecho) ;; netty|netty-uring) need+=(netty) ;; asio) need+=(asio) ;; seed) need+=(seed) ;;
    c-epoll|c-uring) need+=(c) ;; esac
done
# shellcheck disable=SC2207
need=($(printf '%s\n' "${need[@]}" | awk '!seen[$0]++'))
"$here/build.sh" "${need[@]}"

if [[ " ${server_list[*]} " == *" seed "* && "$port" != 8080 ]]; then
  die "the seed's server listens on 8080 only: use --port 8080 or leave seed out of --servers"
fi


# 10,000 connections need 10,000 descriptors in the server and in the load generator, plus slack.
want_fds=$((12000))
for c in "${case_list[@]}"; do n="${c#c}"; n="${n%%-*}"; [ $((n + 2000)) -le "$want_fds" ] || want_fds=$((n + 2000)); done
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want_fds" ]; then
  hard="$(ulimit -Hn)"
  if [ "$hard" = unlimited ] || [ "$hard" -ge "$want_fds" ]; then ulimit -n "$want_fds"; else ulimit -n "$hard"; fi
  [ "$(ulimit -n)" -ge "$want_fds" ] || say "WARNING: open-files limit is $(ulimit -n) (< $want_fds): large cases may fail to connect"
fi

if [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]; then
  die "port $port is already in use by another program: stop it, or pick --port (the seed needs 8080)"
fi

stamp="$(date +%Y%m%d-%H%M%S)"
out="${outdir:-$here/out/$stamp}"
mkdir -p "$out/logs"
results="$out/results.jsonl"
: >"$results"
# The chart stays in the results folder unless --chart names another path (docs/benchmarks.png is
# only replaced on purpose: --chart docs/benchmarks.png).
[ -n "$chart" ] || chart="$out/benchmarks.png"
clk_tck="$(getconf CLK_TCK)"

"$python" - "$out/meta.json" <<EOF
import json, os, sys
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
json.dump({"timestamp": "$stamp", "git": os.popen("git -C '$root' describe --always --dirty 2>/dev/null").read().strip(),
           "cpu": cpu, "cpus": os.cpu_count(), "kernel": os.uname().release,
           "loadgen": "C loadgen (bench/peers/c/loadgen.c)" if "$client" == "c" else "coecho bench",
           "client": "$client", "rounds": $rounds,
           "order": "round r starts at server (r-1) mod S of --servers and wraps around",
           "duration_s": $duration, "warmup_s": $warmup, "servers": "$servers".split(","),
           "cases": "$cases".split(","), "modes": "$modes".split(","),
           "coecho_java_opts": os.environ.get("COECHO_JAVA_OPTS", ""),
           "coecho_alt_java_opts": os.environ.get("COECHO_ALT_JAVA_OPTS", ""),
           "coecho_alt2_java_opts": os.environ.get("COECHO_ALT2_JAVA_OPTS", ""),
           "coecho_base": os.popen("git -C '${COECHO_BASE:-/nonexistent}' describe --always --dirty 2>/dev/null").read().strip()},
          open(sys.argv[1], "w"), indent=1)
EOF

# --- one case ---------------------------------------------------------------------------------
server_pid="" sampler_pid="" load_pid=""
cleanup() {
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
  [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null || true
  if [ -n "$server_pid" ]; then stop_server; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# server_cmd NAME THREADS: the command line that runs server NAME in the foreground.
server_cmd() {
  local name="$1" threads="$2"
  local co=("$root/coecho" serve --bind 127.0.0.1 --port "$port" --threads "$threads" --max-connections 0 --log-level warn)
  case "$name" in
    coecho-epoll) cmd=("${co[@]}" --transport epoll) ;;
    coecho-uring) cmd=("${co[@]}" --transport io_uring) ;;
    # io_uring without SINGLE_ISSUER + DEFER_TASKRUN: that pair measured on and off.
    coecho-uring-plain) cmd=(env "COECHO_JAVA_OPTS=${COECHO_JAVA_OPTS:-} -Dcoecho.uring.singleIssuer=false"
                             "${co[@]}" --transport io_uring) ;;
    # io_uring with every recv trying the socket before it arms its poll (no RECVSEND_POLL_FIRST).
    coecho-uring-nopf) cmd=(env "COECHO_JAVA_OPTS=${COECHO_JAVA_OPTS:-} -Dcoecho.uring.pollFirst=false"
                            "${co[@]}" --transport io_uring) ;;
    # io_uring with send(2) first and ring SENDs only for what the socket did not take.
    coecho-uring-ds) cmd=(env "COECHO_JAVA_OPTS=${COECHO_JAVA_OPTS:-} -Dcoecho.uring.directSend=true"
                          "${co[@]}" --transport io_uring) ;;
    # coecho-epoll with more JVM options (COECHO_ALT_JAVA_OPTS, COECHO_ALT2_JAVA_OPTS, after
    # COECHO_JAVA_OPTS): JVM options measured on and off in the same rounds, e.g. COECHO_ALT_JAVA_OPTS=-Xmn32m.
    coecho-epoll-alt) cmd=(env "COECHO_JAVA_OPTS=${COECHO_JAVA_OPTS:-} ${COECHO_ALT_JAVA_OPTS}"
                           "${co[@]}" --transport epoll) ;;
    coecho-epoll-alt2) cmd=(env "COECHO_JAVA_OPTS=${COECHO_JAVA_OPTS:-} ${COECHO_ALT2_JAVA_OPTS}"
                            "${co[@]}" --transport epoll) ;;
    # The same for io_uring: its switches (-Dcoecho.uring.*) measured on and off in the same rounds.
    coecho-uring-alt) cmd=(env "COECHO_JAVA_OPTS=${COECHO_JAVA_OPTS:-} ${COECHO_ALT_JAVA_OPTS}"
                           "${co[@]}" --transport io_uring) ;;
    coecho-uring-alt2) cmd=(env "COECHO_JAVA_OPTS=${COECHO_JAVA_OPTS:-} ${COECHO_ALT2_JAVA_OPTS}"
                            "${co[@]}" --transport io_uring) ;;
    # The same server from another checkout (COECHO_BASE): this commit against its parent, alternating.
    coecho-epoll-base) cmd=("$COECHO_BASE/coecho" "${co[@]:1}" --transport epoll) ;;
    coecho-uring-base) cmd=("$COECHO_BASE/coecho" "${co[@]:1}" --transport io_uring) ;;
    coecho-nio) cmd=("${co[@]}" --transport nio) ;;
    coecho-vthreads) cmd=("${co[@]}" --engine virtual-threads) ;;
    coecho-threads) cmd=("${co[@]}" --engine threads) ;;
    # shellcheck disable=SC2086
    netty) cmd=("$java" --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED ${SERVER_JAVA_OPTS:-}
                -jar "$here/peers/netty/target/netty-echo.jar" "$port" "$threads") ;;
    # Netty 4.2's own io_uring transport (IoUringIoHandler), its defaults.
    # shellcheck disable=SC2086
    netty-uring) cmd=("$java" --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED ${SERVER_JAVA_OPTS:-}
                      -jar "$here/peers/netty/target/netty-echo.jar" "$port" "$threads" io_uring) ;;
    seed) cmd=("$here/build/seed_echo") ;;
    c-epoll) cmd=("$here/build/epoll_echo" "$port") ;;
    c-uring) cmd=("$here/build/uring_echo" "$port") ;;
    asio) cmd=("$here/build/asio_echo" "$port") ;;
  esac
}

listening() { [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]; }

cpu_ticks() { # utime + stime of the whole process (all threads), in clock ticks
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  awk '{print $12 + $13}' <<<"$stat"
}

stop_server() {
  local pid="$server_pid"
  server_pid=""
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

run_case() {
  local round="$1" mode="$2" name="$3" case="$4"
  local conns size pipeline threads server_cpus load_cpus load_threads
  conns="${case#c}"; conns="${conns%%-*}"
  size="${case#c*-}"; size="${size%%-*}"
  [[ "$size" == *[kK] ]] && size=$(( ${size%[kK]} * 1024 ))
  pipeline=1; [[ "$case" == *-p* ]] && pipeline="${case##*-p}"
  if [ "$mode" = pinned ]; then threads=1 server_cpus=0 load_cpus=1 load_threads=1
  else threads=2 server_cpus=0,1 load_cpus=0,1 load_threads=2; fi
  local tag="r$round-$mode-$name-$case" note="" rc=0
  say "round $round/$rounds  $mode  $name  $case ($conns connections, $size B, pipeline $pipeline)"

  for _ in $(seq 50); do listening || break; sleep 0.1; done
  if listening; then
    note="port $port busy before start"
    "$python" "$here/lib/record.py" "$results" round="$round" client="$client" mode="$mode" server="$name" case="$case" connections="$conns" \
      size="$size" pipeline="$pipeline" note="$note"
    say "  skipped: $note"; return 0
  fi

  local cmd=()
  server_cmd "$name" "$threads"
  if [ "$name" = seed ]; then
    taskset -c "$server_cpus" "${cmd[@]}" >/dev/null 2>"$out/logs/$tag.server.log" &
  else
    taskset -c "$server_cpus" "${cmd[@]}" >"$out/logs/$tag.server.log" 2>&1 &
  fi
  server_pid=$!
  local ready=0
  for _ in $(seq 300); do
    kill -0 "$server_pid" 2>/dev/null || break
    if listening; then ready=1; break; fi
    sleep 0.1
  done
  if [ "$ready" != 1 ]; then
    note="server did not start (see logs/$tag.server.log)"
    stop_server
    "$python" "$here/lib/record.py" "$results" round="$round" client="$client" mode="$mode" server="$name" case="$case" connections="$conns" \
      size="$size" pipeline="$pipeline" note="$note"
    say "  failed: $note"; return 0
  fi

  local load=()
  local args=(127.0.0.1 "$port" --connections "$conns" --duration "${duration}s" --warmup "${warmup}s"
              --size "$size" --pipeline "$pipeline" --threads "$load_threads" --json)
  if [ "$client" = c ]; then
    load=("$here/build/loadgen" "${args[@]}" --cpu-pid "$server_pid")
  else
    # shellcheck disable=SC2086
    load=("$java" ${LOADGEN_JAVA_OPTS:-} -jar "$root/target/coecho.jar" bench "${args[@]}")
  fi
  # Bounded: connects, warmup, the run, and a generous margin for 10,000 connections to close.
  local load_start
  load_start="$(date +%s.%N)"
  timeout -k 5 $((warmup + duration + 60)) taskset -c "$load_cpus" "${load[@]}" \
    >"$out/logs/$tag.load.json" 2>"$out/logs/$tag.load.log" &
  load_pid=$!
  # timeout forks the load generator (taskset execs it): its pid is timeout's child.
  local client_pid=""
  for _ in $(seq 40); do
    client_pid="$(pgrep -P "$load_pid" 2>/dev/null | head -1 || true)"
    [ -n "$client_pid" ] && break
    sleep 0.025
  done

  # Server and client CPU are sampled inside the measured window only: after the warmup (and the
  # connects), before the load generator stops. The window's messages are its length times the
  # measured rate.
  local margin
  margin="$(awk -v d="$duration" 'BEGIN { m = d / 4; if (m > 0.5) m = 0.5; print m }')"
  # Deadlines count from the load's start, not from here (finding its pid can take a while when
  # the machine is loaded). With --client c the load generator reads the server's CPU at the
  # edges of its own window (--cpu-pid), and record.py prefers that.
  (
    sleep "$(awk -v s="$load_start" -v now="$(date +%s.%N)" -v w="$warmup" -v m="$margin" \
      'BEGIN { d = s + w + m - now; print (d > 0 ? d : 0) }')"
    echo "$(date +%s.%N) $(cpu_ticks "$server_pid") $(cpu_ticks "$client_pid")"
    sleep "$(awk -v d="$duration" -v m="$margin" 'BEGIN { print d - 2 * m }')"
    echo "$(date +%s.%N) $(cpu_ticks "$server_pid") $(cpu_ticks "$client_pid")"
  ) >"$out/logs/$tag.cpu" 2>/dev/null &
  sampler_pid=$!

  wait "$load_pid" || rc=$?
  load_pid=""
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then note="load generator timed out"; fi

  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=""
  local hwm loadavg
  loadavg="$(cut -d' ' -f1 /proc/loadavg)"  # the machine's 1-minute load at the end of the case
  hwm="$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status" 2>/dev/null || true)"
  kill -0 "$server_pid" 2>/dev/null || note="${note:+$note; }server died during the run"
  stop_server

  "$python" "$here/lib/record.py" "$results" round="$round" client="$client" mode="$mode" server="$name" case="$case" connections="$conns" \
    size="$size" pipeline="$pipeline" loadgen_json="$out/logs/$tag.load.json" loadgen_rc="$rc" \
    cpu_file="$out/logs/$tag.cpu" clk_tck="$clk_tck" rss_kib="${hwm:-}" loadavg="$loadavg" note="$note"
}

# --- the matrix -------------------------------------------------------------------------------
# Per round: each mode, each case, every server back to back, the server order rotated by one per
# round (round 1 starts at the first server of --servers, round 2 at the second, ...).
n_servers=${#server_list[@]}
total=$(( rounds * ${#mode_list[@]} * n_servers * ${#case_list[@]} ))
say "$total runs ($rounds rounds) of ${warmup}+${duration} s, load generator: $client;" \
    "about $(( total * (warmup + duration + 4) / 60 + 1 )) minutes; results in $out"
for round in $(seq "$rounds"); do
  order=()
  for i in $(seq 0 $((n_servers - 1))); do order+=("${server_list[$(( (i + round - 1) % n_servers ))]}"); done
  say "round $round of $rounds: server order ${order[*]}"
  for mode in "${mode_list[@]}"; do
    for case in "${case_list[@]}"; do
      for name in "${order[@]}"; do
        run_case "$round" "$mode" "$name" "$case"
      done
    done
  done
done

chart_args=()
[ "$no_chart" = 1 ] || chart_args=(--chart "$chart")
"$python" "$here/lib/report.py" "$out" "${chart_args[@]}" | tee "$out/table.txt"
