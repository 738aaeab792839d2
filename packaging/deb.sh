#!/usr/bin/env bash
# Builds the Debian package OUTDIR/coecho_VERSION_ARCH.deb from the distribution tarball
# (packaging/dist.sh) and deploy/:
#
#   /usr/lib/coecho/                  the distribution: bin/coecho, lib/, runtime/ (no JDK needed)
#   /usr/bin/coecho                   a link to /usr/lib/coecho/bin/coecho
#   /lib/systemd/system/coecho.service   deploy/systemd/coecho.service
#   /etc/default/coecho               deploy/default/coecho, a conffile: the service's options
#   /usr/share/doc/coecho/README.md
#   control, conffiles, postinst, prerm, postrm from deploy/debian/
#
# Usage: packaging/deb.sh TARBALL OUTDIR      (./coecho deb builds the tarball, then runs this)
# Needs dpkg-deb and fakeroot. Prints the package's path on stdout; what it does on stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
deploy="$(dirname "$here")/deploy"
if [ $# -ne 2 ]; then
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
tarball="$1" out="$2"
for tool in dpkg-deb fakeroot; do
  command -v "$tool" >/dev/null 2>&1 || { echo "deb: $tool is needed (apt-get install dpkg-dev fakeroot)" >&2; exit 2; }
done
base="$(basename "$tarball")"
if [[ ! "$base" =~ ^coecho-([0-9][A-Za-z0-9.+~-]*)-linux-(x64|aarch64)\.tar\.gz$ ]] || [ ! -f "$tarball" ]; then
  echo "deb: expected a tarball made by packaging/dist.sh (coecho-VERSION-linux-ARCH.tar.gz), got '$tarball'" >&2
  exit 2
fi
version="${BASH_REMATCH[1]}"
case "${BASH_REMATCH[2]}" in x64) arch=amd64 ;; aarch64) arch=arm64 ;; esac

mkdir -p "$out"
stage="$(mktemp -d "$out/.deb.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/coecho"
mkdir -p "$pkg/usr/lib" "$pkg/usr/bin" "$pkg/lib/systemd/system" "$pkg/etc/default" \
  "$pkg/usr/share/doc/coecho" "$pkg/DEBIAN"
tar -xzf "$tarball" -C "$stage"
mv "$stage/coecho-$version/README.md" "$pkg/usr/share/doc/coecho/README.md"
mv "$stage/coecho-$version" "$pkg/usr/lib/coecho"
ln -s ../lib/coecho/bin/coecho "$pkg/usr/bin/coecho"
install -m 0644 "$deploy/systemd/coecho.service" "$pkg/lib/systemd/system/coecho.service"
install -m 0644 "$deploy/default/coecho" "$pkg/etc/default/coecho"
install -m 0644 "$deploy/debian/conffiles" "$pkg/DEBIAN/conffiles"
for script in postinst prerm postrm; do
  install -m 0755 "$deploy/debian/$script" "$pkg/DEBIAN/$script"
done
size="$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
  "$deploy/debian/control" >"$pkg/DEBIAN/control"

deb="$out/coecho_${version}_$arch.deb"
# fakeroot: every file belongs to root in the package, whoever builds it. gzip rather than xz: a
# third of the time, for a package 15% larger.
fakeroot dpkg-deb -Zgzip --build "$pkg" "$deb.part" >/dev/null
mv "$deb.part" "$deb"
echo "deb: $deb ($(du -k "$deb" | cut -f1) KiB; $size KiB installed)" >&2
echo "$deb"
