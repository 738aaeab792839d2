# Sourced by the bench scripts: finds a JDK 25 and a Python with matplotlib.

# Prints the home of a JDK 25 or newer (JAVA_HOME first, then the usual places), or fails.
bench_find_jdk() {
  local cand
  for cand in "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/* /opt/jdk*; do
    [ -n "$cand" ] && [ -x "$cand/bin/javac" ] && [ -f "$cand/release" ] || continue
    if [ "$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$cand/release")" -ge 25 ] 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  return 1
}

# Prints a python3 to run the report with: Debian's (which has python3-matplotlib from apt) first.
bench_python() {
  local p
  for p in /usr/bin/python3 "$(command -v python3 2>/dev/null)"; do
    [ -n "$p" ] && [ -x "$p" ] && { echo "$p"; return 0; }
  done
  return 1
}
