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
pid='' sampler=''
# sample_anon PID FILE keeps in FILE the largest RssAnon of PID seen so
# far, in kB: what the process owns, the figure of the memory budget (the
# binary's pages, RssFile, are the page cache's, which the kernel keeps or
# drops as it needs). It reads /proc/PID/status every 0.15 s until PID
# is gone, for at most an hour; run it in the background. VmHWM would not do:
# it counts the binary's pages too, and the kernel records it from
# per-CPU counters that lag by up to a few hundred kB.
sample_anon() {
	local p=$1 file=$2 max=0 k v i
	echo 0 >"$file"
	for ((i = 0; i < 24000; i++)); do
		v=
		{ while read -r k v _; do [ "$k" != RssAnon: ] || break; v=; done <"/proc/$p/status"; } 2>/dev/null || true
		[ -n "$v" ] || break # the process is gone
		if [ "$v" -gt "$max" ]; then
			max=$v
			echo "$max" >"$file.new" && mv "$file.new" "$file"
		fi
		sleep 0.15
	done
}
# anon_peak PID FILE: the largest RssAnon of PID in kB, sampled into FILE
# by sample_anon, or now if more.
anon_peak() {
	local now peak
	now=$(awk '$1 == "RssAnon:" { print $2 }' "/proc/$1/status")
	peak=$(cat "$2" 2>/dev/null || true)
	echo $((${now:-0} > ${peak:-0} ? ${now:-0} : ${peak:-0}))
}
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	[ -z "$sampler" ] || kill "$sampler" 2>/dev/null || true
	testnet_down
	rm -rf "$work"
}
trap cleanup EXIT
testnet_up
