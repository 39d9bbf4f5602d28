#!/usr/bin/env bash
# Runs every test: the unit tests, and the integration tests that build
# network namespaces with the kernel as every peer (they need root,
# iproute2, nftables and ping). Fails when a test fails or is skipped.
set -euo pipefail
cd "$(dirname "$0")"
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
if [ "$(id -u)" != 0 ]; then
	echo "test.sh: run as root: the integration tests build network namespaces" >&2
	exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
go vet ./...
go test -count=1 -v ./... 2>&1 | tee "$log"
if grep -q -- '--- SKIP' "$log"; then
	echo "test.sh: some tests were skipped; every test must run:" >&2
	grep -- '--- SKIP' "$log" >&2
	exit 1
fi
