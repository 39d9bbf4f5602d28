# shellcheck shell=bash
# What bench.sh and compare.sh share: the daemon and the flood tool built,
# the test network up, and everything removed on exit. Sourced.
# shellcheck disable=SC2034 # FLOOD_RANGE and work are the sourcing script's
FLOOD_RANGE=2001:db8:1:2:646f:636b::/96 # room for more distinct targets than a /112
. scripts/need.sh
need iproute2:ip nftables:nft iputils-ping:ping procps:sysctl
if [ -n "${MEMPROF:-}" ]; then
	# The profiling build (memprof_debug.go): every allocation recorded,
	# the profile written on SIGUSR2. Its memory figures are not the
	# shipped binary's.
	CGO_ENABLED=0 go build -tags memprof -trimpath -o ndpresponder .
else
	./build.sh >/dev/null
fi
work=$(mktemp -d)
go test -tags floodtool -c -o "$work/nsflood.test" .
. scripts/testnet.sh
pid=
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; testnet_down; rm -rf "$work"; }
trap cleanup EXIT
testnet_up
