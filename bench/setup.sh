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
# peak_kb PID [LOG]: the process's peak memory in kB. That is VmHWM, or,
# if more, what ndpresponder logged in LOG as resident at start, before it
# let go of its binary's pages: the kernel records the high-water mark from
# per-CPU counters that lag by up to a few hundred kB, and a peak that
# lasted only until that moment may not be in VmHWM whole.
peak_kb() {
	local hwm start
	hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status")
	start=
	[ ! -r "${2:-}" ] || start=$(sed -n 's/.*memory: \([0-9]*\) kB resident at start.*/\1/p' "$2" | tail -n 1)
	echo $((hwm > ${start:-0} ? hwm : ${start:-0}))
}
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; testnet_down; rm -rf "$work"; }
trap cleanup EXIT
testnet_up
