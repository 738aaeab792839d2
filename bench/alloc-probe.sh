#!/usr/bin/env bash
# Bytes allocated on the event loop's thread per echo (bench/probes/AllocProbe.java), for each
# transport given (default: epoll nio). Builds the runtime first. A count from ThreadMXBean, so it
# holds on a busy machine, unlike a timing.
#
#   bench/alloc-probe.sh [TRANSPORT...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"
JAVA_HOME="$(bench_find_jdk)" || { echo "alloc-probe: no JDK 25 found" >&2; exit 2; }
export JAVA_HOME
(cd "$root" && mvn -B -q -DskipTests -pl coecho-runtime -am package >/dev/null)
classes="$root/coecho-runtime/target/classes"
out="$(mktemp -d /tmp/coecho-alloc.XXXXXX)"
trap 'rm -rf "$out"' EXIT
"$JAVA_HOME/bin/javac" -cp "$classes" -d "$out" "$here/probes/AllocProbe.java"
for transport in "${@:-epoll nio}"; do
  for t in $transport; do
    timeout 300 "$JAVA_HOME/bin/java" --add-exports java.base/jdk.internal.vm=ALL-UNNAMED \
      --enable-native-access=ALL-UNNAMED -cp "$classes:$out" AllocProbe "$t"
  done
done
