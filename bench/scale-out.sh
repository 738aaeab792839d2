#!/usr/bin/env bash
# Scale-out, proven on one machine: three coecho instances behind HAProxy (mode tcp, balance
# leastconn, a health check that sends a line and expects its echo; PROXY protocol v2 on every
# connection to an instance, checks included, so that each instance sees its clients' addresses), in
# a private network namespace (unshare -n: loopback only, so fixed ports collide with nothing; needs
# root). While `coecho bench --reconnect` runs through HAProxy, each instance in turn gets SIGTERM (it
# drains and exits 0) and is started again; the next one is stopped only once HAProxy routes to it
# again.
#
#   bench/scale-out.sh                       100 connections, until the three restarts are over
#   bench/scale-out.sh -c 50 -o out/         50 connections, keeping every log in out/
#
# Options:
#   -d TIME       the longest the bench may run (default 5m). Its window ends when the last
#                 instance is back UP in HAProxy (SIGTERM to the bench, which then reports), so
#                 the run takes as long as the restarts do; -d only bounds a run that hangs
#   -c N          bench connections (default 100)
#   -s BYTES      message size (default 64: each message arrives in one piece, so that a drain
#                 finds connections between messages; the echo protocol has no framing)
#   -o DIR        keep the logs, HAProxy's config and the results in DIR (default: a temporary
#                 folder, removed unless the run failed)
#   --coecho CMD  the coecho command (default: the repository's ./coecho; an unpacked distribution's
#                 bin/coecho works too)
# Pass: the bench verified every echoed byte with zero errors (no connection refused, reset, early
# EOF or mismatch) and counted reconnects; every drained instance exited 0; HAProxy sent client
# sessions to every instance and none of them failed to connect; every instance read PROXY v2
# headers (its clients', HAProxy's LOCAL checks) and refused none. It prints a summary, and as its
# last line on stdout "scale-out: {...}", the results as one JSON object.
# Exit status: 0 pass, 1 fail, 2 bad usage or a missing tool (haproxy, unshare, ip, root).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"

duration=5m connections=100 size=64 out="" coecho="$root/coecho"
usage() { sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    -d) [ $# -ge 2 ] || usage; duration="$2"; shift 2 ;;
    -c) [ $# -ge 2 ] && [[ "$2" =~ ^[1-9][0-9]*$ ]] || usage; connections="$2"; shift 2 ;;
    -s) [ $# -ge 2 ] && [[ "$2" =~ ^[1-9][0-9]*$ ]] || usage; size="$2"; shift 2 ;;
    -o) [ $# -ge 2 ] || usage; out="$2"; shift 2 ;;
    --coecho) [ $# -ge 2 ] || usage; coecho="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "scale-out: unknown argument $1" >&2; usage ;;
  esac
done
say() { echo "scale-out: $*" >&2; }
die() { say "$*"; exit 2; }

# Outside the namespace: check what it needs, build the jar (Maven may need the network, which the
# namespace has none of), then run this script again inside a network namespace of its own.
if [ -z "${COECHO_SCALE_OUT_NS:-}" ]; then
  [ "$(id -u)" = 0 ] || die "needs root, for a private network namespace (unshare -n)"
  for tool in haproxy unshare ip python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is needed (apt-get install haproxy util-linux iproute2 python3)"
  done
  [ -x "$coecho" ] || die "no coecho command at $coecho"
  "$coecho" --version >/dev/null || die "$coecho --version failed"
  unshare -n true 2>/dev/null || die "unshare -n is not permitted here (a container without CAP_SYS_ADMIN?)"
  args=(-d "$duration" -c "$connections" -s "$size" --coecho "$coecho")
  [ -z "$out" ] || args+=(-o "$out")
  COECHO_SCALE_OUT_NS=1 exec unshare -n "$0" "${args[@]}"
fi

ip link set lo up
keep=0
if [ -z "$out" ]; then out="$(mktemp -d /tmp/coecho-scale-out.XXXXXX)"; else keep=1; mkdir -p "$out"; fi
front=7000 stats=7404
ports=(7001 7002 7003)
pids=() bench_pid="" haproxy_pid=""
cleanup() {
  local rc=$? p
  for p in "${pids[@]}" "$bench_pid" "$haproxy_pid"; do
    [ -z "$p" ] || kill -KILL "$p" 2>/dev/null || true
  done
  [ "$rc" = 0 ] || say "logs kept in $out"
}
trap cleanup EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Polls a condition every 20 ms until it holds or the deadline passes: waits for what a process
# reports (a log line, HAProxy's view), never for a guessed time.
await() { # await SECONDS DESCRIPTION COMMAND...
  local limit=$(( $(now_ms) + $1 * 1000 )) what="$2"; shift 2
  until "$@"; do
    if [ "$(now_ms)" -ge "$limit" ]; then say "FAILED: no $what within the deadline"; return 1; fi
    sleep 0.02
  done
}

# HAProxy's statistics as CSV, through its HTTP stats page (bash's /dev/tcp: no client needed).
stats_csv() {
  local csv
  exec 3<>"/dev/tcp/127.0.0.1/$stats" || return 1
  printf 'GET /stats;csv HTTP/1.0\r\n\r\n' >&3
  csv="$(cat <&3)"
  exec 3<&-
  printf '%s\n' "$csv" | sed -n '/^# pxname/,$p'
}
# hastat PROXY SERVER FIELD: one field of one row (FRONTEND/BACKEND rows too).
hastat() {
  stats_csv 2>/dev/null | awk -F, -v px="$1" -v sv="$2" -v f="$3" '
    NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
    $1 == px && $2 == sv { print $col[f] }'
}
server_up() { [ "$(hastat coecho "s$1" status)" = "UP" ]; }
all_up() { server_up 1 && server_up 2 && server_up 3; }
bench_connected() { [ "$(hastat echo FRONTEND scur)" -ge "$connections" ] 2>/dev/null; }

start_instance() { # start_instance N GENERATION
  local i="$1" log="$out/coecho-$1-$2.log"
  # --proxy-protocol: HAProxy (send-proxy-v2) is on loopback, the default --proxy-trusted. Debug
  # logging: a line per connection saying whose it is and what header it came with.
  "$coecho" serve --port "${ports[$((i - 1))]}" --bind 127.0.0.1 --threads 1 --shutdown-timeout 10s \
    --proxy-protocol --log-level debug >"$log" 2>&1 </dev/null &
  pids[$((i - 1))]=$!
  await 60 "start-up line from instance $i" grep -q "listening on" "$log"
}

cat >"$out/haproxy.cfg" <<EOF
global
  maxconn 4000
  log stdout format raw local0

defaults
  mode tcp
  log global
  option tcplog
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  # A connection refused by a stopping instance is tried again, on another instance each time.
  retries 3
  option redispatch 1

frontend echo
  bind 127.0.0.1:$front
  default_backend coecho

backend coecho
  balance leastconn
  # Healthy means it echoes: send a line, expect the same line back.
  option tcp-check
  # The check opens its connection with a PROXY header as the traffic does (v2 LOCAL: the
  # balancer's own connection).
  tcp-check connect send-proxy
  tcp-check send "coecho-health-check\\n"
  tcp-check expect string coecho-health-check
  # Check often; one failed check or one refused connection takes an instance out, one good
  # check puts it back.
  default-server check inter 100ms fall 1 rise 1 observe layer4 error-limit 1 on-error mark-down send-proxy-v2
  server s1 127.0.0.1:${ports[0]}
  server s2 127.0.0.1:${ports[1]}
  server s3 127.0.0.1:${ports[2]}

listen stats
  bind 127.0.0.1:$stats
  mode http
  no log
  stats enable
  stats uri /stats
EOF

say "$("$coecho" --version | head -1); $(haproxy -v | head -1); logs in $out"
for i in 1 2 3; do start_instance "$i" 1; done
haproxy -f "$out/haproxy.cfg" -db >"$out/haproxy.log" 2>&1 </dev/null &
haproxy_pid=$!
await 30 "HAProxy with all three instances UP" all_up

# -w 1s: a warm-up before the window; --reconnect: a drained connection is opened again. -d is only
# the cap: the window ends with SIGTERM once the restarts are over (SIGINT would not do: a background
# job of a script starts with SIGINT ignored).
"$coecho" bench 127.0.0.1 "$front" -c "$connections" -d "$duration" -w 1s -s "$size" --reconnect --json \
  >"$out/bench.json" 2>"$out/bench.err" </dev/null &
bench_pid=$!
await 60 "$connections bench connections through HAProxy" bench_connected
say "bench running: $connections connections through HAProxy to 3 instances"

restarts=()
for i in 1 2 3; do
  kill -0 "$bench_pid" 2>/dev/null || { say "FAILED: the bench ended before restart $i (its -d $duration ran out?)"; exit 1; }
  t0=$(now_ms)
  kill -TERM "${pids[$((i - 1))]}"
  rc=0; wait "${pids[$((i - 1))]}" || rc=$?
  t1=$(now_ms)
  [ "$rc" = 0 ] || { say "FAILED: instance $i exited $rc after SIGTERM (0 is a clean drain)"; exit 1; }
  start_instance "$i" 2
  t2=$(now_ms)
  await 30 "instance $i back UP in HAProxy" server_up "$i"
  t3=$(now_ms)
  drained="$(sed -n 's/.*stopped: \([0-9]*\) connections drained, \([0-9]*\) cut.*/\1 \2/p' "$out/coecho-$i-1.log")"
  restarts+=("{\"instance\":$i,\"drain_ms\":$((t1 - t0)),\"start_ms\":$((t2 - t1)),\"back_in_haproxy_ms\":$((t3 - t0)),\"drained\":${drained% *},\"cut\":${drained#* }}")
  say "instance $i: drained ${drained% *} connections (${drained#* } cut) in $((t1 - t0)) ms, listening again $((t2 - t1)) ms later, UP in HAProxy $((t3 - t0)) ms after SIGTERM"
done
kill -0 "$bench_pid" 2>/dev/null || { say "FAILED: the bench ended before the last restart was over (its -d $duration ran out?)"; exit 1; }

kill -TERM "$bench_pid"
brc=0; wait "$bench_pid" || brc=$?
bench_pid=""
stats_csv >"$out/haproxy-stats.csv"
# Stop the second generation too: their logs then say how many connections each served.
for i in 1 2 3; do kill -TERM "${pids[$((i - 1))]}"; done
for i in 1 2 3; do wait "${pids[$((i - 1))]}" || true; done
pids=()
kill -TERM "$haproxy_pid"; wait "$haproxy_pid" || true; haproxy_pid=""

restarts_json="[$(IFS=,; echo "${restarts[*]}")]"
set +e
python3 - "$out" "$brc" "$restarts_json" "$size" <<'EOF'
import csv, json, re, sys
out, brc, restarts, size = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4])
problems = []
try:
    bench = json.loads(open(f"{out}/bench.json").read().strip().splitlines()[-1])
except (OSError, ValueError, IndexError):
    bench = {"errors": {}, "ok": False}
    problems.append("no JSON report from the bench: " + open(f"{out}/bench.err").read().strip()[:400])
rows = list(csv.DictReader(line.lstrip("# ") if i == 0 else line
                           for i, line in enumerate(open(f"{out}/haproxy-stats.csv"))))
server = {r["svname"]: r for r in rows if r["pxname"] == "coecho" and r["svname"].startswith("s")}
front = next(r for r in rows if r["pxname"] == "echo" and r["svname"] == "FRONTEND")
backend = next(r for r in rows if r["pxname"] == "coecho" and r["svname"] == "BACKEND")
# HAProxy's log: one line per client session, with its termination state (tcplog's %ts): "--" is a
# normal end; a first letter S with a second C means no instance took the connection.
sessions, refused = 0, 0
for line in open(f"{out}/haproxy.log"):
    m = re.search(r" echo coecho/\S+ -?\d+/-?\d+/-?\d+ \d+ (\S\S) ", line)
    if m:
        sessions += 1
        refused += m.group(1)[1] == "C"
served = {}
# What each instance's debug lines say about the PROXY headers it read: client sessions (the
# bench's connections, through HAProxy), HAProxy's own checks (LOCAL), and refusals (none).
proxied = {}
for i in (1, 2, 3):
    served[i] = []
    proxied[f"s{i}"] = {"client": 0, "local": 0, "refused": 0}
    for gen in (1, 2):
        text = open(f"{out}/coecho-{i}-{gen}.log").read()
        m = re.search(r"(\d+) served in all", text)
        served[i].append(int(m.group(1)) if m else None)
        proxied[f"s{i}"]["client"] += len(re.findall(r"accepted from \S+ \(PROXY v2 via ", text))
        proxied[f"s{i}"]["local"] += len(re.findall(r"accepted from \S+ \(PROXY v2 LOCAL via ", text))
        proxied[f"s{i}"]["refused"] += len(re.findall(r"refused, PROXY header", text))
if brc != 0:
    problems.append(f"the bench exited {brc}: " + open(f"{out}/bench.err").read().strip()[:400])
errors = bench.get("errors", {})
if any(errors.values()) or not bench.get("ok"):
    problems.append(f"bench errors: {errors}")
if bench and not bench.get("stopped_early"):
    problems.append("the bench's window was not ended by the script after the restarts")
if bench.get("reconnects", 0) == 0:
    problems.append("no reconnect counted: the drains closed no bench connection?")
for name, r in sorted(server.items()):
    if int(r["stot"]) == 0:
        problems.append(f"HAProxy sent no client session to {name}")
if refused:
    problems.append(f"{refused} client session(s) found no instance to connect to (HAProxy log)")
for name, p in sorted(proxied.items()):
    if p["client"] == 0 or p["local"] == 0 or p["refused"] > 0:
        problems.append(f"{name} read PROXY headers: {p} (expected client sessions, LOCAL checks, no refusal)")
result = {
    "ok": not problems,
    "problems": problems,
    "bench": {k: bench.get(k) for k in ("connections", "reconnects", "size", "duration_s", "stopped_early", "messages",
                                        "msgs_per_s", "errors", "ok")},
    "echoed_bytes": bench.get("messages", 0) * size,
    "haproxy": {"client_sessions": int(front["stot"]), "logged_sessions": sessions,
                "bytes_in": int(front["bin"]), "bytes_out": int(front["bout"]),
                "sessions_per_instance": {n: int(r["stot"]) for n, r in sorted(server.items())},
                "connect_retries": int(backend["wretr"]), "redispatches": int(backend["wredis"]),
                "instance_down_events": {n: int(r["chkdown"]) for n, r in sorted(server.items())}},
    "served_per_instance_process": {f"s{i}": v for i, v in served.items()},
    "proxy_headers_per_instance": proxied,
    "restarts": restarts,
}
print(f"scale-out: {result['haproxy']['client_sessions']} client sessions "
      f"({bench.get('connections')} connections, {bench.get('reconnects')} reconnects), "
      f"{result['echoed_bytes']:,} bytes echoed and verified in the window, "
      f"{bench.get('messages', 0):,} messages; sessions per instance "
      f"{result['haproxy']['sessions_per_instance']}", file=sys.stderr)
for p in problems:
    print(f"scale-out: FAILED: {p}", file=sys.stderr)
print("scale-out: " + json.dumps(result, separators=(",", ":")))
sys.exit(0 if not problems else 1)
EOF
status=$?
set -e
if [ "$status" = 0 ]; then
  say "PASSED"
  [ $keep = 1 ] || rm -rf "$out"
fi
exit "$status"
