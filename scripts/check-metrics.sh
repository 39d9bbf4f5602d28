#!/usr/bin/env bash
# Checks -metrics with Prometheus's own parser, promtool: the golden file of
# metrics_test.go, a file the real daemon wrote in the test network
# (TestMetricsFile), and the alert rule of init/ndpresponder.rules.yml with
# its unit tests. promtool comes from Debian's prometheus package, unpacked
# rather than installed: installing it would start a Prometheus server.
# As root (the test network). Usage: scripts/check-metrics.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/need.sh
need_go
need dpkg:dpkg-deb

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
promtool=$(command -v promtool || true)
if [ -z "$promtool" ]; then
	need apt:apt-get
	echo "check-metrics.sh: unpacking promtool from Debian's prometheus package" >&2
	# apt-get download, as root, says it downloads unsandboxed; it may.
	download() { (cd "$work" && apt-get download -qq prometheus 2>&1) | grep -v unsandboxed || true; }
	download
	if ! ls "$work"/prometheus_*.deb >/dev/null 2>&1; then
		apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
		download
	fi
	dpkg-deb -x "$work"/prometheus_*.deb "$work/prometheus"
	promtool=$work/prometheus/usr/bin/promtool
fi
"$promtool" --version | head -1

echo "== promtool check metrics: the golden file"
"$promtool" check metrics <testdata/metrics.prom

echo "== promtool check metrics: a file the daemon wrote in the test network"
NDPR_METRICS_SAMPLE=$work/daemon.prom go test -count=1 -run '^TestMetricsFile$' . >"$work/test.log" 2>&1 ||
	{ cat "$work/test.log" >&2; exit 1; }
grep -q '^ndpresponder_build_info' "$work/daemon.prom"
"$promtool" check metrics <"$work/daemon.prom"

echo "== promtool: the alert rule and its tests"
"$promtool" check rules init/ndpresponder.rules.yml
"$promtool" test rules testdata/alerts_test.yml
