#!/usr/bin/env bash
# Packages the binaries build.sh put in dist/, into dist/ (build.sh runs it):
#   ndpresponder_VERSION_ARCH.deb  Debian and Ubuntu, built with dpkg-deb
#   ndpresponder_VERSION_ARCH.ipk  OpenWrt's opkg, built without an OpenWrt
#                                  tree, as its scripts/ipkg-build lays it out
# VERSION is the version stamp build.sh puts in the binary, as Debian and
# opkg compare versions. Two runs on one commit write the same bytes: every
# mtime is the commit's (SOURCE_DATE_EPOCH), owners are root, tar entries
# sorted, gzip without name or time.
# Usage: scripts/packages.sh STAMP
#        scripts/packages.sh --version STAMP   prints VERSION
# NDPR_DIST=DIR reads and writes DIR instead of dist/, and NDPR_DEBS and
# NDPR_IPKS narrow the lists below (the tests package one architecture).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/need.sh
need dpkg:dpkg-deb tar:tar gzip:gzip

# Debian architecture:binary, and OpenWrt architecture:binary. OpenWrt's
# arm_cortex-a7 has no FPU in its CPU type, so its Go packages are GOARM=5
# (golang-values.mk); its MIPS are soft float.
debs=${NDPR_DEBS-"amd64:amd64 arm64:arm64 armhf:armv7 i386:386"}
ipks=${NDPR_IPKS-"mips_24kc:mips mipsel_24kc:mipsle arm_cortex-a7:armv5 aarch64_generic:arm64 x86_64:amd64"}
dist=${NDPR_DIST:-dist}

maintainer="ndpresponder developers <ndpresponder@example.invalid>"
summary="IPv6 Neighbor Discovery responder for on-link prefixes"
description="Answers IPv6 Neighbor Solicitations for containers and VMs behind a
VPS that has only on-link IPv6, from the target address, so that
hypervisor anti-spoofing filters let the answers through; pins and keeps
alive the gateway's neighbour entry and announces addresses to routers
that need it."

# pkgversion STAMP: the stamp of `git describe --tags --always --dirty` as a
# version dpkg and opkg accept and order: v1.2 is 1.2; v1.2-5-gabc1234
# (5 commits after v1.2) is 1.2+git5.abc1234; before any tag, abc1234 is
# 0~git<commits>.abc1234, which sorts before every release; -dirty adds
# +dirty.
pkgversion() {
	local v=${1#v} extra=
	if [[ $v == *-dirty ]]; then
		v=${v%-dirty} extra=+dirty
	fi
	if [[ $v =~ ^([0-9][A-Za-z0-9.+~]*)-([0-9]+)-g([0-9a-f]+)$ ]]; then
		v="${BASH_REMATCH[1]}+git${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
	elif git rev-parse -q --verify "refs/tags/$1" >/dev/null || git rev-parse -q --verify "refs/tags/${1%-dirty}" >/dev/null; then
		: # a release tag
	elif [[ $v =~ ^[0-9a-f]{4,}$ ]]; then
		v="0~git$(git rev-list --count HEAD).$v"
	fi
	v+=$extra
	if ! [[ $v =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; then
		echo "packages.sh: version stamp $1 makes no package version (got $v)" >&2
		exit 1
	fi
	echo "$v"
}

if [ "${1:-}" = --version ]; then # print the package version of a stamp
	pkgversion "$2"
	exit 0
fi
stamp=$1
version=$(pkgversion "$stamp")
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
export SOURCE_DATE_EPOCH
export TZ=UTC LC_ALL=C
umask 022
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# touch_all DIR: every file's mtime is the commit's.
touch_all() { find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +; }

# tgz DIR FILE...: a gzip'd tar of FILEs (relative to DIR) as ipkg-build
# makes it, in the GNU format that opkg's own tar reader knows.
tgz() {
	local dir=$1
	shift
	tar -C "$dir" --format=gnu --numeric-owner --owner=0 --group=0 --sort=name \
		--mtime="@$SOURCE_DATE_EPOCH" -cf - "$@" | gzip -9n
}

# The installed paths: the binary in /usr/sbin, where the package's init
# files must point (init/ names /usr/local/bin, for the manual install).
to_sbin() { sed 's|/usr/local/bin/ndpresponder|/usr/sbin/ndpresponder|g' "$1"; }

# installed_size ROOT: KiB as dpkg-gencontrol counts them, each file
# rounded up and each directory one, so that the filesystem the package is
# built on (tmpfs or ext4 directories differ in size) changes nothing.
installed_size() {
	find "$1" -mindepth 1 -path "$1/DEBIAN" -prune -o \( -type f -printf '%s\n' -o -printf '1024\n' \) |
		awk '{ kib += int(($1 + 1023) / 1024) } END { print kib }'
}

deb() { # deb DEBARCH BINARY
	local arch=$1 bin=$2 root=$work/deb-$1 doc
	doc=$root/usr/share/doc/ndpresponder
	install -d -m 755 "$root/DEBIAN" "$root/usr/sbin" "$root/usr/lib/systemd/system" "$root/etc" "$doc/examples" \
		"$root/usr/share/lintian/overrides"
	install -m 755 "$bin" "$root/usr/sbin/ndpresponder"
	to_sbin init/ndpresponder.service >"$root/usr/lib/systemd/system/ndpresponder.service"
	to_sbin init/ndpresponder@.service >"$root/usr/lib/systemd/system/ndpresponder@.service"
	install -m 644 init/ndpresponder.conf "$root/etc/ndpresponder.conf"
	to_sbin init/ndpresponder.openrc >"$doc/examples/ndpresponder.openrc"
	to_sbin init/ndpresponder.sysv >"$doc/examples/ndpresponder.sysv"
	cp init/ndpresponder.rules.yml "$doc/examples/"
	cp init/debian/lintian-overrides "$root/usr/share/lintian/overrides/ndpresponder"
	install -d -m 755 "$root/usr/share/man/man8"
	gzip -9n <docs/ndpresponder.8 >"$root/usr/share/man/man8/ndpresponder.8.gz"
	{
		cat init/debian/copyright
		printf '\nFiles: *\nComment: The binary holds the Go standard library, golang.org/x/sys and\n golang.org/x/net, linked in.\nCopyright: The Go Authors\nLicense: BSD-3-Clause\n'
		sed -e 's/^/ /' -e 's/^ $/ ./' "$(go env GOROOT)/LICENSE"
	} >"$doc/copyright"
	{
		printf 'ndpresponder (%s) unstable; urgency=medium\n\n' "$version"
		printf '  * Built from commit %s (%s).\n\n' "$(git rev-parse HEAD)" "$stamp"
		printf ' -- %s  %s\n' "$maintainer" "$(date -R -d "@$SOURCE_DATE_EPOCH")"
	} | gzip -9n >"$doc/changelog.gz"
	find "$root" -type f -path "$root/usr/share/*" -exec chmod 644 {} +
	chmod 644 "$root/usr/lib/systemd/system/ndpresponder.service" "$root/usr/lib/systemd/system/ndpresponder@.service"
	install -m 755 init/debian/postinst init/debian/prerm init/debian/postrm "$root/DEBIAN/"
	echo /etc/ndpresponder.conf >"$root/DEBIAN/conffiles"
	(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
	{
		echo "Package: ndpresponder"
		echo "Version: $version"
		echo "Architecture: $arch"
		echo "Maintainer: $maintainer"
		echo "Installed-Size: $(installed_size "$root")"
		echo "Section: net"
		echo "Priority: optional"
		echo "Description: $summary"
		echo " ${description//$'\n'/$'\n' }"
	} >"$root/DEBIAN/control"
	chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
	touch_all "$root"
	dpkg-deb --root-owner-group -Zxz -z9 --build "$root" "$dist/ndpresponder_${version}_$arch.deb" >/dev/null
}

ipk() { # ipk OPENWRTARCH BINARY
	local arch=$1 bin=$2 dir=$work/ipk-$1
	local data=$dir/data control=$dir/control
	install -d -m 755 "$data/usr/sbin" "$data/etc/init.d" "$data/etc/config" "$data/usr/share/ndpresponder" "$control"
	# As the OpenWrt Makefile installs them (INSTALL_BIN, INSTALL_CONF, INSTALL_DATA).
	install -m 755 "$bin" "$data/usr/sbin/ndpresponder"
	install -m 755 init/openwrt/files/ndpresponder.init "$data/etc/init.d/ndpresponder"
	install -m 600 init/openwrt/files/ndpresponder.config "$data/etc/config/ndpresponder"
	install -m 644 init/openwrt/files/uci2conf.awk "$data/usr/share/ndpresponder/uci2conf.awk"
	touch_all "$data"
	tgz "$data" . >"$dir/data.tar.gz"
	{
		echo "Package: ndpresponder"
		echo "Version: $version"
		echo "License: ISC"
		echo "Section: net"
		echo "SourceDateEpoch: $SOURCE_DATE_EPOCH"
		echo "Maintainer: $maintainer"
		echo "Architecture: $arch"
		echo "Installed-Size: $(gzip -dc "$dir/data.tar.gz" | wc -c)"
		echo "Description: $summary"
		echo " ${description//$'\n'/$'\n' }"
	} >"$control/control"
	echo /etc/config/ndpresponder >"$control/conffiles"
	install -m 755 init/openwrt/ipk/postinst init/openwrt/ipk/prerm "$control/"
	chmod 644 "$control/control" "$control/conffiles"
	touch_all "$control"
	tgz "$control" . >"$dir/control.tar.gz"
	echo 2.0 >"$dir/debian-binary"
	chmod 644 "$dir/debian-binary" "$dir/data.tar.gz" "$dir/control.tar.gz"
	touch_all "$dir"
	# The outer archive is a gzip'd tar, not ar: opkg reads only that.
	tgz "$dir" ./debian-binary ./data.tar.gz ./control.tar.gz >"$dist/ndpresponder_${version}_$arch.ipk"
}

rm -f "$dist"/*.deb "$dist"/*.ipk
for p in $debs; do
	deb "${p%%:*}" "$dist/ndpresponder-linux-${p#*:}"
done
for p in $ipks; do
	ipk "${p%%:*}" "$dist/ndpresponder-linux-${p#*:}"
done
