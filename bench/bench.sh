#!/usr/bin/env bash
# Measures ndpresponder against its budgets, on this machine, in network
# namespaces it makes and removes (scripts/testnet.sh):
#   - the stripped static amd64 binary's size (budget 2,500,000 bytes);
#   - VmRSS and VmHWM from /proc idle and after a flood of COUNT
#     solicitations for distinct targets (budget VmHWM 3 MB);
#   - CPU time used while idle (budget: none);
#   - answered/sent, NA per second, latency from NS sent to NA seen.
# Usage: bench/bench.sh [COUNT [RATE [DAEMON-FLAG...]]]
#   RATE 0: as fast as the sender goes. The daemon runs with -rate 0 (no NA
#   budget) unless flags are given: bench/bench.sh 1000000 0 -rate 1000
#   floods a million NS against the default budget.
# Needs root, iproute2, nftables.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
[ "$(id -u)" = 0 ] || { echo "bench.sh: run as root" >&2; exit 1; }
COUNT=${1:-100000}
RATE=${2:-0}
shift $(( $# < 2 ? $# : 2 ))
[ $# -gt 0 ] || set -- -rate 0

. bench/setup.sh

ip netns exec "$VPS" ./ndpresponder -i eth0 -n $FLOOD_RANGE -log info "$@" 2>"$work/daemon.log" &
pid=$!
sleep 1
status() { awk -v k="$1:" '$1 == k { print $2 }' /proc/$pid/status; }
cputicks() { awk '{ print $14 + $15 }' /proc/$pid/stat; }
rss_idle=$(status VmRSS) hwm_idle=$(status VmHWM)
t0=$(cputicks); sleep 5; idle_ticks=$(( $(cputicks) - t0 ))

flood=$(ip netns exec "$RT" "$work/nsflood.test" -test.run '^TestFloodTool$' \
	-iface rt0 -range $FLOOD_RANGE -count "$COUNT" -rate "$RATE" | grep '^sent=')
rss_after=$(status VmRSS) hwm_after=$(status VmHWM)
kill -TERM "$pid"; wait "$pid" || true; pid=

echo "machine:          $(nproc) cores, $(awk '/model name/ { $1=$2=$3=""; print; exit }' /proc/cpuinfo | sed 's/^ *//'), Linux $(uname -r)"
echo "binary:           $(stat -c %s ndpresponder) bytes stripped, static ($(./ndpresponder -version))"
echo "idle:             VmRSS ${rss_idle} kB, VmHWM ${hwm_idle} kB, CPU ${idle_ticks} ticks in 5 s"
echo "flood:            $COUNT NS for distinct targets, rate ${RATE:-0}/s (0 = as fast as possible); daemon flags: $*"
echo "                  $flood"
echo "after the flood:  VmRSS ${rss_after} kB, VmHWM ${hwm_after} kB"
echo "daemon counters:  $(grep 'counters:' "$work/daemon.log" | sed 's/^info: counters: //')"
