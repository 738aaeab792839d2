#!/usr/bin/env bash
# Flow control soak: N clients each send 1 MiB and never read, while one well-behaved client keeps
# echoing and verifying. The server must keep serving the good client and stay within a memory bound
# (its connections stop reading while their echo cannot be written, and hold at most one buffer each).
#
#   bench/flow-control.sh [N] [SECONDS] [-- extra serve options]     (default 200 clients, 15 s)
#
# Prints the server's RSS and live heap before and while the bad clients sit there, and how many
# verified round trips the good client made. Loopback only; bounded in time.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-200}"; secs="${2:-15}"; shift $(( $# > 2 ? 2 : $# )) || true
[ "${1:-}" = "--" ] && shift
ulimit -n "$(ulimit -Hn)"
port=$(( 20000 + RANDOM % 20000 ))
"$here/coecho" serve --port "$port" --bind 127.0.0.1 --threads 1 --write-timeout 0 --idle-timeout 0 \
  --log-level warn "$@" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),timeout=0.2).close()" 2>/dev/null && break
  sleep 0.1
done
jcmd="$(dirname "$(readlink -f /proc/$pid/exe)")/jcmd"
measure() {
  "$jcmd" "$pid" GC.run >/dev/null
  local rss heap
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  heap=$("$jcmd" "$pid" GC.heap_info | awk '/total .*used/ { for (i=1;i<=NF;i++) if ($i=="used") { v=$(i+1); sub(/K,?$/,"",v); s+=v } } END { print s+0 }')
  echo "$rss $heap"
}
read -r rss0 heap0 < <(measure)
python3 - "$port" "$n" "$secs" "$pid" "$jcmd" <<'PY'
import os, socket, subprocess, sys, threading, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
mib = b"\xab" * (1 << 20)
bad = []
def flood(s):
    try:
        s.sendall(mib)          # blocks once both directions' buffers are full: that is the point
    except OSError:
        pass
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=secs + 30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    threading.Thread(target=flood, args=(s,), daemon=True).start()
    bad.append(s)
good = socket.create_connection(("127.0.0.1", port), timeout=10)
rounds, deadline = 0, time.monotonic() + secs
while time.monotonic() < deadline:
    msg = os.urandom(512)
    good.sendall(msg)
    got = b""
    while len(got) < len(msg):
        chunk = good.recv(len(msg) - len(got))
        if not chunk:
            sys.exit("good client: server closed the connection")
        got += chunk
    if got != msg:
        sys.exit("good client: echo mismatch")
    rounds += 1
print(f"{n} clients sent without reading; the good client made {rounds} verified round trips in {secs:.0f} s")
sys.stdout.flush()
open("/tmp/.coecho-flow-ready", "w").close()
PY
read -r rss1 heap1 < <(measure)
awk -v n="$n" -v r0="$rss0" -v r1="$rss1" -v h0="$heap0" -v h1="$heap1" 'BEGIN {
  printf "RSS:  %d KiB -> %d KiB (+%.1f KiB per non-reading client)\n", r0, r1, (r1-r0)/n
  printf "heap: %d KiB -> %d KiB (+%.1f KiB per non-reading client, live after full GC)\n", h0, h1, (h1-h0)/n }'
