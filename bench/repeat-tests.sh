#!/usr/bin/env bash
# Runs the test suite, or one test class, N times on a fresh clone of this repository's HEAD and
# prints, per test, how many runs failed. A test that fails in any run is flaky, and a flaky test is
# a failing test (README, "Tests").
#
#   bench/repeat-tests.sh                       the whole suite, 10 times
#   bench/repeat-tests.sh -n 20 GracefulShutdownIT
#   bench/repeat-tests.sh -n 5 -k               the whole suite 5 times with both cores kept busy
#
# Options:
#   -n N      runs (default 10)
#   -k        keep every core busy with a CPU hog (one spinning process per core, at the same
#             priority as the tests) while the tests run, so that timing assumptions show up
#   -o DIR    keep the clone and each run's reports and log in DIR (default: a temporary folder,
#             removed at the end unless a run failed)
#   TEST      a test class (EchoIT, TimerQueueTest) or method (EchoIT#everyByteValueSurvives); the
#             whole suite when omitted
# Exit status: 0 when every run passed, 1 when any failed, 2 for bad usage.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"

runs=10 hog=0 out="" test=""
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    -n) [ $# -ge 2 ] && [[ "$2" =~ ^[1-9][0-9]*$ ]] || usage; runs="$2"; shift 2 ;;
    -k) hog=1; shift ;;
    -o) [ $# -ge 2 ] || usage; out="$2"; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "repeat-tests: unknown option $1" >&2; usage ;;
    *) [ -z "$test" ] || usage; test="$1"; shift ;;
  esac
done
py="$(bench_python)" || { echo "repeat-tests: python3 is needed to read the test reports" >&2; exit 2; }

keep=0
if [ -z "$out" ]; then
  out="$(mktemp -d /tmp/coecho-repeat.XXXXXX)"
else
  keep=1; mkdir -p "$out"
fi
hogs=()
cleanup() {
  for p in "${hogs[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # exit, so that the EXIT trap stops the hogs and nothing runs on

# A fresh clone: what CI sees, without build output or uncommitted files of the working tree.
git clone -q --no-hardlinks "$root" "$out/clone"
echo "repeat-tests: $(git -C "$out/clone" log -1 --format='%h %s'), ${test:-the whole suite}, $runs runs$([ $hog = 1 ] && echo ', cores kept busy')" >&2

if [ $hog = 1 ]; then
  for _ in $(seq "$(nproc)"); do
    # Bounded: a hog outlives neither this script nor two hours.
    timeout 7200 sh -c 'while :; do :; done' &
    hogs+=("$!")
  done
fi

select=()
if [ -n "$test" ]; then
  # Failsafe runs the *IT classes after the jar is built, surefire the others before it; surefire
  # would run a class named to it whatever its name, so name the test to its own plugin only.
  if [[ "${test%%#*}" == *IT ]]; then
    select=(-Dtest=none -Dit.test="$test")
  else
    select=(-Dtest="$test" -Dit.test=none)
  fi
  select+=(-Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false)
fi
failed_runs=0
for i in $(seq "$runs"); do
  start=$(date +%s)
  status=passed
  # --fail-at-end: a module whose tests fail does not stop the others' tests from running and reporting.
  if ! (cd "$out/clone" && ./coecho test --fail-at-end "${select[@]}") >"$out/run-$i.log" 2>&1; then
    status=FAILED; failed_runs=$((failed_runs + 1))
  fi
  mkdir -p "$out/run-$i"
  cp "$out"/clone/*/target/surefire-reports/TEST-*.xml "$out"/clone/*/target/failsafe-reports/TEST-*.xml "$out/run-$i/" 2>/dev/null || true
  rm -rf "$out"/clone/*/target/surefire-reports "$out"/clone/*/target/failsafe-reports
  echo "repeat-tests: run $i/$runs $status in $(( $(date +%s) - start )) s" >&2
done

"$py" "$here/lib/test_failures.py" "$out" "$runs"
if [ $failed_runs -gt 0 ]; then
  echo "repeat-tests: $failed_runs of $runs runs failed; logs and reports in $out" >&2
  exit 1
fi
[ $keep = 1 ] || rm -rf "$out"
exit 0
