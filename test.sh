#!/usr/bin/env bash
# Runs every test: the unit tests, and the integration tests that build
# network namespaces with the kernel as every peer. As root; on Debian and
# Ubuntu it installs what the tests run (iproute2, nftables, ping, and the
# real peers: dockerd, Podman, BusyBox, shellcheck, systemd-analyze,
# debootstrap for the Debian roots systemd and OpenRC boot in (Debian's
# openrc goes into that root, not onto the host), qemu-user for the
# router builds, ip6tables-legacy for -check, groff and man for the manual
# page) when missing.
# Fails when a test fails or is skipped.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/need.sh
need_go
if [ "$(id -u)" != 0 ]; then
	echo "test.sh: run as root: the integration tests build network namespaces" >&2
	exit 1
fi
need iproute2:ip nftables:nft iputils-ping:ping procps:sysctl util-linux:setpriv util-linux:nsenter \
	shellcheck:shellcheck busybox-static:need_static_busybox docker.io:dockerd podman:podman netavark:need_podman_network debootstrap:debootstrap systemd:systemd-analyze man-db:man mawk:awk \
	qemu-user-static:qemu-mips-static iptables:ip6tables-legacy groff-base:groff
log=$(mktemp)
trap 'rm -f "$log"' EXIT
go vet ./...
go test -count=1 -v ./... 2>&1 | tee "$log"
if grep -q -- '--- SKIP' "$log"; then
	echo "test.sh: some tests were skipped; every test must run:" >&2
	grep -- '--- SKIP' "$log" >&2
	exit 1
fi
