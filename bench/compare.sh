#!/usr/bin/env bash
# ndpresponder side by side with Debian's ndppd and npd6, in one run, on the
# same namespaces (scripts/testnet.sh, with the hypervisor's filter off so
# that the peers' link-local NAs count too). For each responder, in each of
# ROUNDS rounds (every second one in the reverse order, so that a drift of
# the machine's load shows as a difference between rounds), after a
# warm-up burst that is not counted: bursts of 10,000 NS
# for distinct targets as fast as the sender goes, at 20,000/s and at
# 5,000/s; answered/sent, NA per second, latency from NS sent to NA seen
# (p50, p99), the responder's CPU time (utime+stime from /proc/PID/stat, in
# ticks of 10 ms) per 10,000 NS answered, and its memory: the largest
# RssAnon (what it owns) sampled through the bursts, and VmHWM after them
# for information (it counts the binary's and libraries' pages too); then
# the ratios to each peer, round by round.
# Usage: sudo bench/compare.sh   (installs ndppd and npd6 with apt-get)
#   BURST=10000 ROUNDS=2 RESPONDERS="ndpresponder ndppd npd6" by default;
#   NDPR_FLAGS adds flags to ndpresponder's command line.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
[ "$(id -u)" = 0 ] || { echo "compare.sh: run as root" >&2; exit 1; }
if ! command -v ndppd >/dev/null || ! command -v npd6 >/dev/null; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ndppd npd6 >/dev/null
fi
BURST=${BURST:-10000}
ROUNDS=${ROUNDS:-2}
RESPONDERS=${RESPONDERS:-ndpresponder ndppd npd6}
MODES="max 20000 5000"

. bench/setup.sh
testnet_filter off

cat >"$work/ndppd.conf" <<CONF
proxy eth0 {
	router no
	rule $FLOOD_RANGE {
		static
	}
}
CONF
cat >"$work/npd6.conf" <<CONF
prefix=2001:0db8:0001:0002:
interface=eth0
collectTargets=0
CONF

# shellcheck disable=SC2086 # NDPR_FLAGS is a list of flags
start() {
	case $1 in
	ndpresponder) ip netns exec "$VPS" ./ndpresponder -i eth0 -n $FLOOD_RANGE -rate 0 -rate-target 0 -log info ${NDPR_FLAGS:-} 2>"$work/ndpresponder.log" & ;;
	ndppd) ip netns exec "$VPS" ndppd -c "$work/ndppd.conf" >/dev/null 2>&1 & ;;
	npd6) ip netns exec "$VPS" npd6 -f -c "$work/npd6.conf" -l "$work/npd6.log" >/dev/null 2>&1 & ;;
	esac
	pid=$!
	sample_anon "$pid" "$work/anon" &
	sampler=$!
	sleep 1
	kill -0 "$pid" || { echo "$1 did not start" >&2; exit 1; }
}
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# The figures of each burst, by responder, round and mode.
declare -A answered rate p50 p99 cpu hwm anon
first=1
printf '%-13s %5s %-6s %12s %8s %9s %9s %12s\n' responder round burst answered "NA/s" p50 p99 "CPU/10k NS"
for round in $(seq "$ROUNDS"); do
	order=$RESPONDERS
	[ $((round % 2)) = 1 ] || order=$(tr ' ' '\n' <<<"$RESPONDERS" | tac | tr '\n' ' ')
	for who in $order; do
		start "$who"
		# A warm-up burst, not counted: the first burst after a start (and
		# after the build) pays for caches and page faults the others do not.
		ip netns exec "$RT" "$work/nsflood.test" -test.run '^TestFloodTool$' -iface rt0 -range "$FLOOD_RANGE" \
			-count $((BURST / 10)) -rate 5000 -wait 500ms -first "$first" >/dev/null
		first=$((first + BURST / 10))
		for mode in $MODES; do
			r=$mode; [ "$mode" = max ] && r=0
			t0=$(cputicks "$pid")
			line=$(ip netns exec "$RT" "$work/nsflood.test" -test.run '^TestFloodTool$' \
				-iface rt0 -range "$FLOOD_RANGE" -count "$BURST" -rate "$r" -first "$first" | grep '^sent=')
			ticks=$(( $(cputicks "$pid") - t0 ))
			first=$((first + BURST))
			get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
			k=$who,$round,$mode
			answered[$k]=$(get answered) rate[$k]=$(get na-rate | tr -d '/s')
			p50[$k]=$(get p50) p99[$k]=$(get p99)
			cpu[$k]=$(awk -v t="$ticks" -v a="${answered[$k]}" 'BEGIN { print (a > 0 ? sprintf("%.1f", t * 10000 / a) : "n/a") }')
			printf '%-13s %5s %-6s %12s %8s %9s %9s %12s\n' "$who" "$round" "$mode" "${answered[$k]}/$BURST" \
				"${rate[$k]}" "${p50[$k]}" "${p99[$k]}" "${cpu[$k]}"
			sleep 1
		done
		hwm[$who,$round]=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$pid/status")
		anon[$who,$round]=$(anon_peak "$pid" "$work/anon")
		kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
		kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; sampler=
	done
done
echo
printf '%-13s %5s %14s %12s\n' responder round "RssAnon (kB)" "VmHWM (kB)"
for who in $RESPONDERS; do
	for round in $(seq "$ROUNDS"); do printf '%-13s %5s %14s %12s\n' "$who" "$round" "${anon[$who,$round]}" "${hwm[$who,$round]}"; done
done
echo
echo "ratios, ndpresponder / peer in the same round (answered and NA/s: higher is better; p50, p99, CPU, RssAnon and VmHWM: lower is better)"
ms() { # a Go duration in milliseconds
	awk -v d="$1" 'BEGIN { v = d + 0; if (d ~ /µs$/) v /= 1000; else if (d ~ /ns$/) v /= 1e6; else if (d ~ /[0-9]s$/ && d !~ /ms$/) v *= 1000; print v }'
}
for peer in $RESPONDERS; do
	[ "$peer" != ndpresponder ] || continue
	for round in $(seq "$ROUNDS"); do
		for mode in $MODES; do
			a=ndpresponder,$round,$mode b=$peer,$round,$mode
			awk -v a="${answered[$a]}" -v b="${answered[$b]}" -v ra="${rate[$a]}" -v rb="${rate[$b]}" \
				-v la="$(ms "${p50[$a]}")" -v lb="$(ms "${p50[$b]}")" \
				-v qa="$(ms "${p99[$a]}")" -v qb="$(ms "${p99[$b]}")" \
				-v ca="${cpu[$a]}" -v cb="${cpu[$b]}" \
				-v peer="$peer" -v round="$round" -v mode="$mode" 'function r(x, y) { return y > 0 ? sprintf("%.2f", x / y) : "n/a" }
				BEGIN { printf "vs %-6s round %s %-6s answered %s  NA/s %s  p50 %s  p99 %s  CPU %s\n", peer, round, mode, r(a, b), r(ra, rb), r(la, lb), r(qa, qb), r(ca, cb) }'
		done
		awk -v a="${anon[ndpresponder,$round]}" -v b="${anon[$peer,$round]}" -v ha="${hwm[ndpresponder,$round]}" -v hb="${hwm[$peer,$round]}" \
			-v peer="$peer" -v round="$round" 'BEGIN { printf "vs %-6s round %s RssAnon %.2f  VmHWM %.2f\n", peer, round, a / b, ha / hb }'
	done
done
echo "machine: $(nproc) cores, $(awk '/model name/ { $1=$2=$3=""; print; exit }' /proc/cpuinfo | sed 's/^ *//'), Linux $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg); $(ndppd 2>&1 | sed -n 's/.*\(version [0-9.]*\).*/ndppd \1/p' | head -1); npd6 $(dpkg-query -W -f='${Version}' npd6); ndpresponder $(./ndpresponder -version)"
