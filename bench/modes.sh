#!/usr/bin/env bash
# The memory budget in every mode: bench.sh once per mode (a flood of COUNT
# NS for distinct targets), and the -learn mode with a churn of CHURN
# container starts and stops, alone and with RESIDENT containers that stay
# through it; one line per mode with the daemon's own memory (RssAnon) idle,
# after the flood and after the churn, and the largest sampled through the
# run: the budget's figure, 1,024 kB. VmHWM and RssFile (the binary's pages,
# the page cache's) at the end are for information. The last line is the
# same for a Go program that only waits for a signal, the floor of any Go
# daemon.
# Usage: sudo bench/modes.sh   (COUNT=100000 CHURN=300 RESIDENT=50 by default)
#   RAW=FILE adds each bench.sh run's whole output to FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
[ "$(id -u)" = 0 ] || { echo "modes.sh: run as root" >&2; exit 1; }
COUNT=${COUNT:-100000}
CHURN=${CHURN:-300}
RESIDENT=${RESIDENT:-50}
metrics=$(mktemp -d)
trap 'rm -rf "$metrics"' EXIT

# row NAME CHURN RESIDENT FLAG...: one bench.sh run, summed up.
row() {
	local name=$1 churn=$2 resident=$3 out
	shift 3
	out=$(CHURN=$churn RESIDENT=$resident bench/bench.sh "$COUNT" 0 "$@")
	printf '%-34s %s\n' "$name" "$(awk '
		function kb(s, k,   i, n) { n = split(s, f, " "); for (i = 1; i < n; i++) if (f[i] == k) return f[i+1]; return "-" }
		/^idle:/ { idle = kb($0, "RssAnon") }
		/^after the flood:/ { flood = kb($0, "RssAnon") }
		/^after the churn:/ { churn = kb($0, "RssAnon") }
		/^end of the run:/ { hwm = kb($0, "VmHWM"); file = kb($0, "RssFile") }
		/^RssAnon peak:/ { peak = $3 }
		END { printf "%8s %8s %8s %8s %8s %8s", idle, flood, (churn == "" ? "-" : churn), peak, hwm, file }' <<<"$out")"
	if [ -n "${RAW:-}" ]; then printf '%s\n' "$out" >>"$RAW"; fi
}

echo "machine: $(nproc) cores, $(awk '/model name/ { $1=$2=$3=""; print; exit }' /proc/cpuinfo | sed 's/^ *//'), Linux $(uname -r), $(go version | cut -d' ' -f3)"
./build.sh
echo "RssAnon in kB idle, after the flood of $COUNT NS, after the churn of $CHURN, and the peak sampled through the run (budget 1,024 kB);"
echo "VmHWM and RssFile in kB at the end, for information"
printf '%-34s %8s %8s %8s %8s %8s %8s\n' mode idle flood churn peak VmHWM RssFile
row "-n (static range)" 0 0 -rate 0
row "-learn br0" 0 0 -rate 0 -learn br0
row "-auto" 0 0 -rate 0 -auto
row "-keepalive 1s" 0 0 -rate 0 -keepalive 1s
row "-metrics FILE" 0 0 -rate 0 -metrics "$metrics/ndpresponder.prom"
row "-learn br0 -keepalive 1s" "$CHURN" 0 -rate 0 -learn br0 -keepalive 1s
row "-learn br0 -keepalive 1s, $RESIDENT resident" "$CHURN" "$RESIDENT" -rate 0 -learn br0 -keepalive 1s

# The floor: a Go program built as the daemon is that only waits for a
# signal, to tell the runtime's memory from the daemon's.
mkdir "$metrics/floor"
cat >"$metrics/floor/main.go" <<'GO'
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM)
	<-c
}
GO
printf 'module floor\n\ngo 1.21\n' >"$metrics/floor/go.mod"
(cd "$metrics/floor" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o floor .)
"$metrics/floor/floor" &
floor=$!
sleep 1
floor_kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/$floor/status; }
printf '%-34s %8s %8s %8s %8s %8s %8s   (a Go program that waits for a signal, %s bytes)\n' "Go's floor" \
	"$(floor_kb RssAnon)" - - - "$(floor_kb VmHWM)" "$(floor_kb RssFile)" "$(stat -c %s "$metrics/floor/floor")"
kill "$floor"
