#!/usr/bin/env bash
# Memory per idle connection: start a server, open N connections that each echo one byte and then sit
# idle, and report the growth of the server's RSS and of its live heap (after a full GC), per connection.
#
#   bench/idle-memory.sh [N] [-- extra serve options]      (default N=10000; loopback only)
#
# Needs python3 (client) and jcmd from the JDK 25 the launcher finds.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-10000}"; shift || true
[ "${1:-}" = "--" ] && shift
ulimit -n "$(ulimit -Hn)"  # 10,000 connections need more than the usual 1,024
port=$(( 20000 + RANDOM % 20000 ))
"$here/coecho" serve --port "$port" --bind 127.0.0.1 --threads 1 --idle-timeout 0 --log-level warn "$@" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
jcmd="$(dirname "$(readlink -f /proc/$pid/exe 2>/dev/null || true)")/jcmd"
for _ in $(seq 100); do
  if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),timeout=0.2).close()" 2>/dev/null; then break; fi
  sleep 0.1
done
jcmd="$(dirname "$(readlink -f /proc/$pid/exe)")/jcmd"
measure() { # prints "rss_kib live_heap_kib"
  "$jcmd" "$pid" GC.run >/dev/null
  local rss heap
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  # Sum the "used NNNK" of every generation (serial, parallel and G1 print them alike).
  heap=$("$jcmd" "$pid" GC.heap_info | awk '/total .*used/ {
      for (i=1;i<=NF;i++) if ($i=="used") { v=$(i+1); sub(/K,?$/,"",v); s+=v } } END { print s+0 }')
  echo "$rss $heap"
}
read -r rss0 heap0 < <(measure)
python3 - "$port" "$n" <<'PY' &
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
conns = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"x")
    if s.recv(1) != b"x":
        sys.exit("echo failed")
    conns.append(s)
print(f"{n} connections open and idle", flush=True)
sys.stdin = open("/dev/null")
time.sleep(600)
PY
client=$!
trap 'kill $client $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 600); do
  open=$(ls /proc/$pid/fd | wc -l)
  [ "$open" -ge "$n" ] && break
  sleep 0.2
done
sleep 1
read -r rss1 heap1 < <(measure)
awk -v n="$n" -v r0="$rss0" -v r1="$rss1" -v h0="$heap0" -v h1="$heap1" 'BEGIN {
  printf "connections: %d\nRSS:  %d KiB -> %d KiB  (+%.0f bytes per connection)\n", n, r0, r1, (r1-r0)*1024/n
  printf "heap: %d KiB -> %d KiB  (+%.0f bytes per connection, live after full GC)\n", h0, h1, (h1-h0)*1024/n }'
