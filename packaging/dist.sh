#!/usr/bin/env bash
# Builds the self-contained distribution, OUTDIR/coecho-VERSION-linux-ARCH.tar.gz (ARCH: x64 or
# aarch64), which runs on a Linux host with nothing installed:
#
#   coecho-VERSION/bin/coecho        the launcher (packaging/bin/coecho): no JDK, Maven or network
#   coecho-VERSION/lib/coecho.jar    the application
#   coecho-VERSION/lib/jvm.options   the JVM options: packaging/jvm.options, the list ./coecho uses
#   coecho-VERSION/lib/coecho.aot    an AOT cache for this runtime and jar (packaging/aot.sh): the
#                                    classes loaded and linked, and the echo path profiled, at start
#   coecho-VERSION/runtime/          a Java runtime made by jlink from only the modules coecho uses,
#                                    as jdeps finds them in the jar
#   coecho-VERSION/README.md
#
# Usage: packaging/dist.sh JAR OUTDIR     (./coecho dist runs it with target/coecho.jar and target/)
# Environment: JAVA_HOME, a JDK 25 with jdeps and jlink (the launcher finds one).
# Prints the tarball's path on stdout; what it does on stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
if [ $# -ne 2 ]; then
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
jar="$1" out="$2"
[ -f "$jar" ] || { echo "dist: no jar at $jar (build it with ./coecho dist, or mvn package)" >&2; exit 2; }
for tool in java jdeps jlink; do
  [ -x "${JAVA_HOME:-}/bin/$tool" ] || { echo "dist: JAVA_HOME must be a JDK 25 with $tool, got '${JAVA_HOME:-}'" >&2; exit 2; }
done
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=aarch64 ;;
  *) echo "dist: unsupported machine $(uname -m) (x86_64 and aarch64 are)" >&2; exit 2 ;;
esac

# The version the jar reports ("coecho 0.1.0, Java 25..."), from its manifest.
version="$("$JAVA_HOME/bin/java" -jar "$jar" --version | sed -n 's/^coecho \([^ ,]*\),.*/\1/p')"
[ -n "$version" ] || { echo "dist: cannot read the version from $jar" >&2; exit 1; }
name="coecho-$version"

# The modules the jar needs (java.base, java.logging, jdk.httpserver, jdk.management,
# jdk.unsupported today; jlink adds what they require, java.management); --ignore-missing-deps:
# picocli, HdrHistogram and the Prometheus client refer to optional classes we never load.
modules="$("$JAVA_HOME/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 25 "$jar")"
[ -n "$modules" ] || { echo "dist: jdeps found no modules in $jar" >&2; exit 1; }
echo "dist: $name for linux-$arch, runtime modules $modules" >&2

mkdir -p "$out"
stage="$(mktemp -d "$out/.dist.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
dir="$stage/$name"
mkdir -p "$dir/bin" "$dir/lib"
# The modules stay uncompressed inside the image: the tarball's gzip packs them better (19 MiB
# rather than 23), and the installed runtime maps them without inflating.
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
  --output "$dir/runtime"
# Commands of the linked modules that coecho never runs.
rm -f "$dir/runtime/bin/jwebserver" "$dir/runtime/bin/keytool"
install -m 0755 "$here/bin/coecho" "$dir/bin/coecho"
install -m 0644 "$jar" "$dir/lib/coecho.jar"
install -m 0644 "$here/jvm.options" "$dir/lib/jvm.options"
install -m 0644 "$root/README.md" "$dir/README.md"
# The AOT cache (JDK 25): a short training run of this very runtime and jar (packaging/aot.sh).
# bin/coecho uses it when it is there and matches; a JVM that cannot use it starts without it.
"$here/aot.sh" "$dir/runtime/bin/java" "$dir/lib/jvm.options" "$dir/lib/coecho.jar" "$dir/lib/coecho.aot"
chmod 0644 "$dir/lib/coecho.aot"  # readable by the service's dynamic user, whatever the builder's umask

tarball="$out/$name-linux-$arch.tar.gz"
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$stage" -czf "$tarball.part" "$name"
mv "$tarball.part" "$tarball"
echo "dist: $tarball ($(du -k "$tarball" | cut -f1) KiB; $(du -sk "$dir" | cut -f1) KiB unpacked)" >&2
echo "$tarball"
