#!/usr/bin/env bash
# The soak of issue 12: one server process, a mix of the fault scenarios' clients for DURATION, its
# RSS, open descriptors, threads, live heap after a full GC (jcmd) and the echo errors sampled every
# few seconds; after a warm-up, a line fitted to each. Fails on any echo error, on a slope above its
# bound with 95% confidence (RSS 8 MiB/h, heap 2 MiB/h, descriptors and threads 20/h) that amounts to
# more than noise over the run (RSS 4 MiB, heap 1 MiB, 16 descriptors, 4 threads: docs/FAULTS.md), or
# if the descriptors are not back to their count before the load once it stops. The test suite runs the
# same code for 25 s (SoakIT); this is SoakIT with a longer duration, then a plot.
#
#   bench/soak.sh 10m                      the default target (coroutines on epoll)
#   bench/soak.sh 1h -t threads -o /tmp/soak-threads
#
# Options:
#   -t TARGET   epoll, nio, virtual-threads or threads (default: epoll)
#   -o DIR      where samples.csv, summary.json and soak.png go (default: target/soak-DURATION)
# Needs python3 with matplotlib for the plot (Debian: apt-get install python3-matplotlib).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/common.sh
. "$here/bench/lib/common.sh"
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
duration="$1"; shift
[[ "$duration" =~ ^[0-9]+[smh]$ ]] || { echo "soak: DURATION is like 40s, 10m or 1h" >&2; usage; }
target=epoll out=""
while getopts "t:o:h" opt; do
  case "$opt" in
    t) target="$OPTARG" ;;
    o) out="$OPTARG" ;;
    *) usage ;;
  esac
done
out="$(mkdir -p "${out:-$here/target/soak-$duration}" && cd "${out:-$here/target/soak-$duration}" && pwd)"
py="$(bench_python)" || { echo "soak: python3 is needed for the plot" >&2; exit 2; }
log="$out/maven.log"
echo "soak: $duration against $target; samples in $out (log: $log)" >&2
status=0
"$here/coecho" test -pl coecho-app -am -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test=SoakIT -Dfailsafe.failIfNoSpecifiedTests=false -Djunit.jupiter.execution.timeout.mode=disabled \
  -Dcoecho.soak.duration="$duration" -Dcoecho.soak.target="$target" -Dcoecho.soak.out="$out" >"$log" 2>&1 || status=$?
if [ -f "$out/samples.csv" ]; then
  "$py" "$here/bench/lib/soak_plot.py" "$out/samples.csv" "$out/summary.json" "$out/soak.png" || true
fi
if [ -f "$out/summary.json" ]; then
  cat "$out/summary.json"
fi
if [ $status -ne 0 ]; then
  echo "soak: FAILED (see $log)" >&2
  exit 1
fi
echo "soak: passed; plot $out/soak.png" >&2
