#!/usr/bin/env bash
# Measures ndpresponder against its budgets, on this machine, in network
# namespaces it makes and removes (scripts/testnet.sh):
#   - the stripped static amd64 binary's size (budget 2,500,000 bytes);
#   - the daemon's own memory, RssAnon from /proc/PID/status, idle and
#     after a flood of COUNT solicitations for distinct targets, and the
#     largest seen, sampled every 0.15 s through the whole run (budget
#     1,024 kB); VmRSS, VmHWM and RssFile (the binary's pages, which are
#     the page cache's) only for information;
#   - CPU time used while idle (budget: none);
#   - answered/sent, NA per second, latency from NS sent to NA seen;
#   - with CHURN=N, the same after N container starts and stops (see
#     churn below), and the CPU time they took.
# Usage: bench/bench.sh [COUNT [RATE [DAEMON-FLAG...]]]
#   RATE 0: as fast as the sender goes. The daemon runs with -rate 0 (no NA
#   budget) unless flags are given: bench/bench.sh 1000000 0 -rate 1000
#   floods a million NS against the default budget.
#   CHURN=300 bench/bench.sh 100000 0 -rate 0 -learn br0 -keepalive 1s
#   floods, then starts and stops 300 containers on the VPS's bridge;
#   with RESIDENT=N, N containers start first and stay through the churn.
#   MEMPROF=DIR runs the profiling build (go build -tags memprof) and
#   writes its allocation profile to DIR/before.memprof and
#   DIR/after.memprof, around the churn (or the flood without CHURN); what
#   happened between them: go tool pprof -sample_index=alloc_space
#   -diff_base DIR/before.memprof -ignore 'pprof|flate|gzip' -top
#   ndpresponder DIR/after.memprof
#   and the runtime's memory classes to DIR/before.metrics and
#   DIR/after.metrics (diff them to see which grew); NDPR_MEMPROF_RATE=0
#   turns the recording off, so that the classes are near the plain build's.
#   LOG=FILE keeps the daemon's log in FILE.
#   PERF=FILE records where the daemon's CPU goes during the first 2 s of
#   the flood (perf record -g, Debian's linux-perf) into FILE; then
#   perf report -i FILE --no-children --sort dso,sym
# Needs root, iproute2, nftables.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
[ "$(id -u)" = 0 ] || { echo "bench.sh: run as root" >&2; exit 1; }
COUNT=${1:-100000}
RATE=${2:-0}
CHURN=${CHURN:-0}
RESIDENT=${RESIDENT:-0}
shift $(( $# < 2 ? $# : 2 ))
[ $# -gt 0 ] || set -- -rate 0

. bench/setup.sh

# churn N starts and stops N containers as Docker and LXC do: a veth pair
# whose one end joins the VPS's bridge and whose other end, in the
# container's namespace, gets an address from the container range and
# pings the bridge, so that the VPS's kernel learns a neighbour on br0;
# then the VPS's end is deleted, which takes the pair with it. Each start
# and stop brings the daemon link, address, route and neighbour events.
churn() {
	local i
	for i in $(seq "$1"); do
		start_container "vc$i" eth1 "${CONTAINER_RANGE%::/112}:$(printf '%x' $((0x100 + i % 0xfe00)))"
		in_ns "$VPS" ip link del "vc$i"
	done
}

# start_container PORT IFACE ADDR: a veth whose end PORT joins the VPS's
# bridge and whose end IFACE, in the container's namespace, gets ADDR and
# pings the bridge, so that the VPS's kernel learns a neighbour on br0.
start_container() {
	ip link add "$1" netns "$VPS" type veth peer name "$2" netns "$C1"
	in_ns "$VPS" ip link set "$1" master br0 up
	in_ns "$C1" ip -6 addr add "$3/112" dev "$2" nodad
	in_ns "$C1" ip link set "$2" up
	in_ns "$C1" ping -6 -c 1 -W 1 -I "$2" "$BRIDGE_ADDR" >/dev/null || true
}

# resident N starts N containers that stay through the churn, as on a host
# that runs others: each change of the live set then concerns a set of
# N+1 addresses, not of one.
resident() {
	local i
	for i in $(seq "$1"); do
		start_container "vr$i" "r$i" "${CONTAINER_RANGE%::/112}:$(printf '%x' $((0xf000 + i)))"
	done
}

NDPR_MEMPROF=$work/memprof ip netns exec "$VPS" ./ndpresponder -i eth0 -n $FLOOD_RANGE -log info "$@" 2>"$work/daemon.log" &
pid=$!
sample_anon "$pid" "$work/anon" & # from the start: its peak counts too
sampler=$!
sleep 1
status() { awk -v k="$1:" '$1 == k { print $2 }' /proc/$pid/status; }
# mem: what the daemon owns now (RssAnon) and the most it owned so far,
# sampled (the budget's figure); then, for information, VmRSS, VmHWM and
# RssFile: the binary's pages, which the kernel maps from the page cache
# and may keep or drop; on kernels that map whole large folios that is
# nearly the whole file, whatever the daemon runs.
mem() { echo "RssAnon $(status RssAnon) kB, peak $(anon_peak "$pid" "$work/anon") kB sampled (VmRSS $(status VmRSS) kB, VmHWM $(status VmHWM) kB, RssFile $(status RssFile) kB, $(status Threads) threads)"; }
# profile NAME has the profiling build write its allocations so far to
# $MEMPROF/NAME.memprof; nothing without MEMPROF.
profile() {
	[ -n "${MEMPROF:-}" ] || return 0
	mkdir -p "$MEMPROF"
	rm -f "$work/memprof" "$work/memprof.metrics"
	kill -USR2 "$pid"
	# The classes are written last, whole: then the profile is there too.
	for _ in $(seq 50); do [ -e "$work/memprof.metrics" ] && break; sleep 0.1; done
	touch "$work/memprof" # none when NDPR_MEMPROF_RATE=0
	mv "$work/memprof" "$MEMPROF/$1.memprof"
	mv "$work/memprof.metrics" "$MEMPROF/$1.metrics"
}
cputicks() { awk '{ print $14 + $15 }' /proc/$pid/stat; }
mem_idle=$(mem)
t0=$(cputicks); sleep 5; idle_ticks=$(( $(cputicks) - t0 ))

[ "$CHURN" -gt 0 ] || profile before
perfpid=
if [ -n "${PERF:-}" ]; then
	command -v perf >/dev/null || { echo "bench.sh: PERF needs perf (Debian: apt-get install linux-perf)" >&2; exit 1; }
	perf record -q -F 2000 -g -p "$pid" -o "$PERF" -- sleep 2 &
	perfpid=$!
	sleep 0.5 # attached before the flood starts
fi
flood=$(ip netns exec "$RT" "$work/nsflood.test" -test.run '^TestFloodTool$' \
	-iface rt0 -range $FLOOD_RANGE -count "$COUNT" -rate "$RATE" | grep '^sent=')
mem_after=$(mem)
[ -z "$perfpid" ] || wait "$perfpid"
if [ "$CHURN" -gt 0 ]; then
	resident "$RESIDENT"
	sleep 1
	mem_resident=$(mem)
	profile before
	t0=$(cputicks) s0=$(date +%s)
	churn "$CHURN"
	sleep 2
	churn_ticks=$(( $(cputicks) - t0 )) churn_s=$(( $(date +%s) - s0 ))
	mem_churn=$(mem)
	profile after
else
	profile after
fi
anon=$(anon_peak "$pid" "$work/anon") mem_end=$(mem)
kill -TERM "$pid"; wait "$pid" || true; pid=
kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; sampler=

echo "machine:          $(nproc) cores, $(awk '/model name/ { $1=$2=$3=""; print; exit }' /proc/cpuinfo | sed 's/^ *//'), Linux $(uname -r)"
if [ -n "${MEMPROF:-}" ]; then
	echo "binary:           the profiling build, $(stat -c %s ndpresponder) bytes; its memory is not the shipped binary's; profiles in $MEMPROF"
else
	echo "binary:           $(stat -c %s ndpresponder) bytes stripped, static ($(./ndpresponder -version))"
fi
echo "idle:             $mem_idle, CPU ${idle_ticks} ticks in 5 s"
echo "flood:            $COUNT NS for distinct targets, rate ${RATE:-0}/s (0 = as fast as possible); daemon flags: $*"
echo "                  $flood"
echo "after the flood:  $mem_after"
if [ "$CHURN" -gt 0 ]; then
	[ "$RESIDENT" = 0 ] || echo "$RESIDENT resident:      $mem_resident"
	echo "after the churn:  $mem_churn; $CHURN container starts and stops in ${churn_s} s took ${churn_ticks} ticks of CPU"
fi
echo "end of the run:   $mem_end"
echo "RssAnon peak:     $anon kB, sampled every 0.15 s through the run (budget 1,024 kB)"
echo "daemon counters:  $(grep 'counters:' "$work/daemon.log" | sed 's/^info: counters: //')"
[ -z "${LOG:-}" ] || cp "$work/daemon.log" "$LOG"
