#!/usr/bin/env bash
# ndpresponder side by side with Debian's ndppd and npd6, in one run, on the
# same namespaces (scripts/testnet.sh, with the hypervisor's filter off so
# that the peers' link-local NAs count too). For each responder: bursts of
# 10,000 NS for distinct targets as fast as the sender goes, at 20,000/s and
# at 5,000/s; answered/sent, NA per second, latency from NS sent to NA seen
# (p50, p99), and VmHWM after the three bursts; then the ratios to each peer.
# Usage: sudo bench/compare.sh   (installs ndppd and npd6 with apt-get)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
[ "$(id -u)" = 0 ] || { echo "compare.sh: run as root" >&2; exit 1; }
if ! command -v ndppd >/dev/null || ! command -v npd6 >/dev/null; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ndppd npd6 >/dev/null
fi
BURST=${BURST:-10000}

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

start() {
	case $1 in
	ndpresponder) ip netns exec "$VPS" ./ndpresponder -i eth0 -n $FLOOD_RANGE -rate 0 -rate-target 0 -log warn 2>/dev/null & ;;
	ndppd) ip netns exec "$VPS" ndppd -c "$work/ndppd.conf" >/dev/null 2>&1 & ;;
	npd6) ip netns exec "$VPS" npd6 -f -c "$work/npd6.conf" -l "$work/npd6.log" >/dev/null 2>&1 & ;;
	esac
	pid=$!
	sleep 1
	kill -0 "$pid" || { echo "$1 did not start" >&2; exit 1; }
}

# result NAME MODE LINE: keep the figures of one burst.
declare -A answered rate p50 p99 hwm
first=1
printf '%-13s %-9s %10s %10s %10s %10s\n' responder burst answered "NA/s" p50 p99
for who in ndpresponder ndppd npd6; do
	start "$who"
	for mode in max 20000 5000; do
		r=$mode; [ "$mode" = max ] && r=0
		line=$(ip netns exec "$RT" "$work/nsflood.test" -test.run '^TestFloodTool$' \
			-iface rt0 -range $FLOOD_RANGE -count "$BURST" -rate "$r" -first "$first" | grep '^sent=')
		first=$((first + BURST))
		get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
		answered[$who,$mode]=$(get answered) rate[$who,$mode]=$(get na-rate | tr -d '/s')
		p50[$who,$mode]=$(get p50) p99[$who,$mode]=$(get p99)
		printf '%-13s %-9s %10s %10s %10s %10s\n' "$who" "$mode" "${answered[$who,$mode]}/$BURST" \
			"${rate[$who,$mode]}" "${p50[$who,$mode]}" "${p99[$who,$mode]}"
		sleep 1
	done
	hwm[$who]=$(awk '$1 == "VmHWM:" { print $2 }' /proc/$pid/status)
	kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
echo
printf '%-13s %12s\n' responder "VmHWM (kB)"
for who in ndpresponder ndppd npd6; do printf '%-13s %12s\n' "$who" "${hwm[$who]}"; done
echo
echo "ratios, ndpresponder / peer (answered and NA/s: higher is better; p50 and VmHWM: lower is better)"
ms() { # a Go duration in milliseconds
	awk -v d="$1" 'BEGIN { v = d + 0; if (d ~ /µs$/) v /= 1000; else if (d ~ /ns$/) v /= 1e6; else if (d ~ /[0-9]s$/ && d !~ /ms$/) v *= 1000; print v }'
}
for peer in ndppd npd6; do
	for mode in max 20000 5000; do
		awk -v a="${answered[ndpresponder,$mode]}" -v b="${answered[$peer,$mode]}" \
			-v ra="${rate[ndpresponder,$mode]}" -v rb="${rate[$peer,$mode]}" \
			-v la="$(ms "${p50[ndpresponder,$mode]}")" -v lb="$(ms "${p50[$peer,$mode]}")" \
			-v peer="$peer" -v mode="$mode" 'function r(x, y) { return y > 0 ? sprintf("%.2f", x / y) : "n/a" }
			BEGIN { printf "vs %-6s %-6s answered %s  NA/s %s  p50 %s\n", peer, mode, r(a, b), r(ra, rb), r(la, lb) }'
	done
	awk -v a="${hwm[ndpresponder]}" -v b="${hwm[$peer]}" -v peer="$peer" \
		'BEGIN { printf "vs %-6s VmHWM %.2f\n", peer, a / b }'
done
echo "machine: $(nproc) cores, $(awk '/model name/ { $1=$2=$3=""; print; exit }' /proc/cpuinfo | sed 's/^ *//'), Linux $(uname -r); $(ndppd 2>&1 | sed -n 's/.*\(version [0-9.]*\).*/ndppd \1/p' | head -1); npd6 $(dpkg-query -W -f='${Version}' npd6)"
