#!/usr/bin/env bash
# The fault scenarios of issue 12 at full size: the same test classes the suite runs small
# (coecho-app/src/test/java/io/coecho/faults), with -Dcoecho.scale=full, against every transport and
# engine or those named. Prints each scenario's summary line; exits non-zero if any failed.
#
#   bench/faults.sh                                  every scenario, every target (an hour or so)
#   bench/faults.sh -t epoll,nio ProcessPauseIT      one scenario, two targets
#
# Options:
#   -t TARGETS   comma-separated: epoll, nio, virtual-threads, threads (default: all)
#   -o FILE      keep the whole Maven log in FILE (default: a temporary file, removed on success)
#   SCENARIO...  test classes (default: every *IT of io.coecho.faults)
#
# Full sizes: 200 connections and 64 MiB through latency+jitter+slicer; 100,000 connect/echo/close
# cycles at concurrency 500; 100 connections behind a blackhole; 5,000 tricklers beside 100 clients
# for 30 s; a 5 s SIGSTOP under 100 clients; 256 MiB read at 1 MiB/s (over four minutes per target);
# 5,000 cycles by 200 clients under ulimit -n 128. Each scenario bounds its own loops in count and
# time; JUnit's per-test timeouts, sized for the suite, are off, and the whole run is bounded here.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
targets="" log=""
usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "t:o:h" opt; do
  case "$opt" in
    t) targets="$OPTARG" ;;
    o) log="$OPTARG" ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
tests="io.coecho.faults.*IT"
if [ $# -gt 0 ]; then
  tests="$(printf 'io.coecho.faults.%s,' "$@")"; tests="${tests%,}"
fi
keep=1
if [ -z "$log" ]; then
  log="$(mktemp /tmp/coecho-faults.XXXXXX.log)"; keep=0
fi
# 5,000 tricklers and their server connections live in one JVM.
ulimit -n "$(ulimit -Hn)"
args=(-Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dit.test="$tests" -Dfailsafe.failIfNoSpecifiedTests=false
      -Dcoecho.scale=full -Djunit.jupiter.execution.timeout.mode=disabled)
[ -n "$targets" ] && args+=(-Dcoecho.targets="$targets")
echo "faults: full size, ${targets:-every target}, $tests (log: $log)" >&2
status=0
timeout 4h "$here/coecho" test -pl coecho-app -am "${args[@]}" >"$log" 2>&1 || status=$?
grep -E '^[A-Za-z]+IT [a-z-]+' "$log" || true
grep -E 'Tests run:.*Fail|FAILURE|<<< (FAIL|ERR)' "$log" | grep -v '^\[INFO\] Tests run: [0-9]*, Failures: 0, Errors: 0' || true
if [ $status -ne 0 ]; then
  echo "faults: FAILED (exit $status); the log is $log" >&2
  exit 1
fi
[ $keep = 1 ] || rm -f "$log"
echo "faults: passed" >&2
