#!/usr/bin/env bash
# Builds an AOT cache for coecho (JDK 25, JEP 483/514/515): a training run of `coecho serve` under
# -XX:AOTCacheOutput, driven by `coecho bench` over loopback, then stopped with SIGTERM; on its way out
# the JVM starts a second one that writes the cache: the classes it loaded, parsed and linked, its heap
# objects, and the method profiles of the echo path.
#
#   packaging/aot.sh JAVA JVM_OPTIONS JAR CACHE
#
# The cache is only good for the same java (the same JDK build), the same jar (path, size and time
# stamp), and compatible JVM options: run it with exactly what will run the server. A JVM given a cache
# that does not match starts without it. dist.sh runs this on the distribution it is building.
# Prints what it does on stderr; the training's output goes to CACHE.log, kept on failure only.
set -euo pipefail
if [ $# -ne 4 ]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
java="$1" options="$2" jar="$3" cache="$4"
log="$cache.log"
rm -f "$cache" "$cache.config" "$log"
# Only the options given here: none from the builder's environment, in training or in assembly.
unset JAVA_TOOL_OPTIONS JDK_JAVA_OPTIONS _JAVA_OPTIONS JDK_AOT_VM_OPTIONS

# The server, on an ephemeral port it names in its log. One loop: the classes are the same for any
# number of them.
"$java" "@$options" -XX:AOTCacheOutput="$cache" -jar "$jar" serve --port 0 --bind 127.0.0.1 --threads 1 \
  --log-level info >"$log" 2>&1 &
pid=$!
trap 'kill -KILL $pid 2>/dev/null || true' EXIT
port=""
for _ in $(seq 600); do # up to 60 s for the JVM to start on a busy machine
  port="$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$log" | head -1)"
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "aot: the training server did not start; its output:" >&2
  cat "$log" >&2
  exit 1
fi

# The echo path as it runs in production: one connection, many connections, small and large
# messages, connections that close. Enough turns for the JIT's profiles (JEP 515) to be worth keeping.
bench() {
  timeout 60 "$java" "@$options" -jar "$jar" bench 127.0.0.1 "$port" --warmup 0 "$@" >>"$log" 2>&1
}
bench --connections 1 --size 32 --duration 2s
bench --connections 32 --size 4KiB --duration 2s

kill -TERM "$pid"
# The server drains and exits; the JVM then writes the configuration and forks the assembly JVM,
# which writes the cache: seconds on two busy cores, so up to 5 minutes.
status=0
for _ in $(seq 3000); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -KILL "$pid" 2>/dev/null && echo "aot: the training run did not end in 5 minutes" >&2
wait "$pid" || status=$?
trap - EXIT
if [ "$status" != 0 ] || [ ! -s "$cache" ]; then
  echo "aot: the training run exited with $status and wrote no cache; its output:" >&2
  cat "$log" >&2
  exit 1
fi
rm -f "$log" "$cache.config"
echo "aot: $cache ($(du -k "$cache" | cut -f1) KiB)" >&2
