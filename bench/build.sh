#!/usr/bin/env bash
# Builds what the benchmarks need and is missing or older than its sources. Bench-only: nothing here
# is part of the coecho build or CI.
#
#   bench/build.sh [coecho|netty|seed|c|asio|jmh|all]...   (default: coecho netty seed c asio)
#
# Outputs: target/coecho.jar, bench/peers/netty/target/netty-echo.jar, bench/build/seed_echo,
# bench/build/epoll_echo, bench/build/uring_echo, bench/build/loadgen (the C load generator), bench/build/asio_echo,
# bench/jmh/target/benchmarks.jar. Everything comes from Maven Central, Debian packages (g++, gcc,
# libboost-dev) and the seed listing (SEED_DIR, else the first shared/seed found in the
# repository root's parent folders).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
out="$here/build"
mkdir -p "$out"

say() { echo "bench/build: $*" >&2; }

# shellcheck source=lib/common.sh
. "$here/lib/common.sh"
JAVA_HOME="$(bench_find_jdk)" || { say "no JDK 25 found (set JAVA_HOME)"; exit 2; }
export JAVA_HOME
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"

# stale OUTPUT SOURCE...: true when OUTPUT is missing or older than any file under the SOURCEs.
stale() {
  local target="$1"; shift
  [ ! -e "$target" ] || [ -n "$(find "$@" -newer "$target" -type f -print -quit 2>/dev/null)" ]
}

seed_dir() {
  if [ -n "${SEED_DIR:-}" ]; then echo "$SEED_DIR"; return 0; fi
  local d="$root"
  while [ "$d" != "/" ]; do
    d="$(dirname "$d")"
    if [ -f "$d/shared/seed/echo_server.cpp" ]; then echo "$d/shared/seed"; return 0; fi
  done
  return 1
}

build_coecho() {
  if stale "$root/target/coecho.jar" "$root/pom.xml" "$root/coecho-runtime/pom.xml" "$root/coecho-runtime/src/main" \
      "$root/coecho-app/pom.xml" "$root/coecho-app/src/main"; then
    say "building target/coecho.jar"
    (cd "$root" && mvn -B -q -DskipTests -pl coecho-app -am package)
  fi
}

build_netty() {
  local jar="$here/peers/netty/target/netty-echo.jar"
  if stale "$jar" "$here/peers/netty/pom.xml" "$here/peers/netty/src"; then
    say "building the Netty peer"
    (cd "$here/peers/netty" && mvn -B -q package)
  fi
}

build_seed() {
  local src
  if ! src="$(seed_dir)"; then
    say "seed listing not found (set SEED_DIR to the folder holding echo_server.cpp)"; return 1
  fi
  if stale "$out/seed_echo" "$src/echo_server.cpp"; then
    say "building the seed's C++ server from $src/echo_server.cpp"
    command -v g++ >/dev/null || { say "g++ is needed: apt-get install g++"; return 1; }
    g++ -std=c++20 -O2 -include exception -o "$out/seed_echo" "$src/echo_server.cpp"
  fi
}

build_c() {
  if stale "$out/epoll_echo" "$here/peers/c/epoll_echo.c"; then
    say "building the C epoll floor"
    command -v gcc >/dev/null || { say "gcc is needed: apt-get install gcc"; return 1; }
    gcc -O2 -Wall -o "$out/epoll_echo" "$here/peers/c/epoll_echo.c"
  fi
  if stale "$out/uring_echo" "$here/peers/c/uring_echo.c"; then
    if [ -f /usr/include/liburing.h ]; then
      say "building the C io_uring floor"
      gcc -O2 -Wall -o "$out/uring_echo" "$here/peers/c/uring_echo.c" -luring
    else
      say "skipping the C io_uring floor (c-uring): apt-get install liburing-dev"
    fi
  fi
  if stale "$out/loadgen" "$here/peers/c/loadgen.c"; then
    say "building the C load generator"
    command -v gcc >/dev/null || { say "gcc is needed: apt-get install gcc"; return 1; }
    gcc -O2 -Wall -pthread -o "$out/loadgen" "$here/peers/c/loadgen.c"
  fi
}

build_asio() {
  if stale "$out/asio_echo" "$here/peers/asio/asio_echo.cpp"; then
    say "building the Boost.Asio C++20 coroutine peer"
    command -v g++ >/dev/null || { say "g++ is needed: apt-get install g++"; return 1; }
    [ -f /usr/include/boost/asio.hpp ] || { say "Boost.Asio is needed: apt-get install libboost-dev"; return 1; }
    g++ -std=c++20 -O2 -Wall -o "$out/asio_echo" "$here/peers/asio/asio_echo.cpp"
  fi
}

build_jmh() {
  build_coecho
  local jar="$here/jmh/target/benchmarks.jar"
  if stale "$jar" "$here/jmh/pom.xml" "$here/jmh/src" "$root/target/coecho.jar"; then
    say "installing target/coecho.jar as io.coecho.bench:coecho:local and building the JMH jar"
    (cd "$here/jmh" && mvn -B -q install:install-file -Dfile="$root/target/coecho.jar" \
        -DgroupId=io.coecho.bench -DartifactId=coecho -Dversion=local -Dpackaging=jar -DgeneratePom=true \
      && mvn -B -q package)
  fi
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(coecho netty seed c asio)
for t in "${targets[@]}"; do
  case "$t" in
    coecho) build_coecho ;;
    netty) build_netty ;;
    seed) build_seed ;;
    c) build_c ;;
    asio) build_asio ;;
    jmh) build_jmh ;;
    all) build_coecho; build_netty; build_seed; build_c; build_asio; build_jmh ;;
    *) say "unknown target '$t' (coecho, netty, seed, c, jmh, all)"; exit 2 ;;
  esac
done
