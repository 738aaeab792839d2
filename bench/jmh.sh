#!/usr/bin/env bash
# Runs the JMH benchmarks of the runtime's hot paths (bench/jmh), building them first if needed.
# Arguments go to JMH, e.g.  bench/jmh.sh Timer -p pending=1000   or   bench/jmh.sh -wi 1 -i 2 -f 1
# (JMH's -h lists them). The forks get --add-exports/--enable-native-access from @Fork.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"
JAVA_HOME="$(bench_find_jdk)" || { echo "bench/jmh: no JDK 25 found (set JAVA_HOME)" >&2; exit 2; }
export JAVA_HOME
"$here/build.sh" jmh
exec "$JAVA_HOME/bin/java" --sun-misc-unsafe-memory-access=allow --add-exports=java.base/jdk.internal.vm=ALL-UNNAMED \
  --enable-native-access=ALL-UNNAMED -jar "$here/jmh/target/benchmarks.jar" "$@"
