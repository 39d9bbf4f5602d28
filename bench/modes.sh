#!/usr/bin/env bash
# The memory budget in every mode: bench.sh once per mode (a flood of COUNT
# NS for distinct targets), and the -learn mode with a churn of CHURN
# container starts and stops; one line per mode with VmHWM idle, after the
# flood and after the churn, and what is resident at the end: the daemon's
# own memory (RssAnon) and the binary's pages (RssFile); and the same for
# a Go program that only waits for a signal, the floor of any Go daemon.
# Usage: sudo bench/modes.sh   (COUNT=100000 CHURN=300 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "modes.sh: run as root" >&2; exit 1; }
COUNT=${COUNT:-100000}
CHURN=${CHURN:-300}
metrics=$(mktemp -d)
trap 'rm -rf "$metrics"' EXIT

# row NAME CHURN FLAG...: one bench.sh run, summed up.
row() {
	local name=$1 churn=$2 out
	shift 2
	out=$(CHURN=$churn bench/bench.sh "$COUNT" 0 "$@")
	printf '%-28s %s\n' "$name" "$(awk '
		function kb(s, k,   i, n) { n = split(s, f, " "); for (i = 1; i < n; i++) if (f[i] == k) return f[i+1]; return "-" }
		/^idle:/ { idle = kb($0, "VmHWM") }
		/^after the flood:/ { flood = kb($0, "VmHWM"); anon = kb($0, "RssAnon"); file = kb($0, "RssFile") }
		/^after the churn:/ { churn = kb($0, "VmHWM"); anon = kb($0, "RssAnon"); file = kb($0, "RssFile") }
		/^binary:/ { bin = $2 }
		END { printf "%8s %8s %8s %9s %9s", idle, flood, (churn == "" ? "-" : churn), anon, file }' <<<"$out")"
}

echo "machine: $(nproc) cores, $(awk '/model name/ { $1=$2=$3=""; print; exit }' /proc/cpuinfo | sed 's/^ *//'), Linux $(uname -r)"
./build.sh
echo "VmHWM in kB; RssAnon and RssFile in kB at the end of the run; $COUNT NS flood, churn of $CHURN"
printf '%-28s %8s %8s %8s %9s %9s\n' mode idle flood churn RssAnon RssFile
row "-n (static range)" 0 -rate 0
row "-learn br0" 0 -rate 0 -learn br0
row "-auto" 0 -rate 0 -auto
row "-keepalive 1s" 0 -rate 0 -keepalive 1s
row "-metrics FILE" 0 -rate 0 -metrics "$metrics/ndpresponder.prom"
row "-learn br0 -keepalive 1s" "$CHURN" -rate 0 -learn br0 -keepalive 1s

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
printf '%-28s %8s %8s %8s %9s %9s   (a Go program that waits for a signal, %s bytes)\n' "Go's floor" \
	"$(awk '$1 == "VmHWM:" { print $2 }' /proc/$floor/status)" - - \
	"$(awk '$1 == "RssAnon:" { print $2 }' /proc/$floor/status)" \
	"$(awk '$1 == "RssFile:" { print $2 }' /proc/$floor/status)" "$(stat -c %s "$metrics/floor/floor")"
kill "$floor"
