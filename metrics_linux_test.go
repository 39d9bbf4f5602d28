//go:build !nonetns

package main

// -metrics end to end: the daemon in the test network writes its file at
// start and on SIGUSR1, and the figures in it are what happened on the wire.

import (
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestMetricsFile starts the daemon with -metrics, has the router ping the
// container and solicit two addresses out of range, and reads the file
// after SIGUSR1 with the test's own reader of the format. With
// NDPR_METRICS_SAMPLE set it copies the file there, for .ci/run to hand to
// promtool.
func TestMetricsFile(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof}) // the daemon pins the gateway
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	file := filepath.Join(dir, "ndpresponder.prom")
	start := time.Now()
	d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-keepalive", "1s", "-metrics", file)

	read := func() map[string]float64 {
		t.Helper()
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("the metrics file: %v", err)
		}
		return checkExposition(t, string(b))
	}
	// Written at start, before anything was answered.
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(file); err == nil {
			break
		}
	}
	if m := read(); m[`ndpresponder_build_info{version="devel"}`] != 1 || m[`ndpresponder_solicitations_received_total{outcome="answered"}`] != 0 {
		t.Errorf("the file at start: build info or answered count wrong: %v", m)
	}

	n.requirePinned()
	if !n.ping(container) {
		t.Fatal("the router cannot reach the container")
	}
	w := n.openWire("rt", "rt0")
	for _, a := range []netip.Addr{netip.MustParseAddr("2001:db8:1:2::99"), netip.MustParseAddr("2001:db8:1:2::98")} {
		w.send(appendNS(nil, w.mac, multicastMAC(solicitedNode(a)), routerLL, solicitedNode(a), a, [6]byte{}))
	}
	time.Sleep(300 * time.Millisecond)

	const outOfRange = `ndpresponder_solicitations_received_total{outcome="ignored",reason="out-of-range"}`
	d.cmd.Process.Signal(syscall.SIGUSR1)
	if !d.waitLog("counters:", 1, 2*time.Second) {
		t.Fatalf("no counters after SIGUSR1:\n%s", d.logText())
	}
	var m map[string]float64
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if m = read(); m[outOfRange] == 2 || time.Now().After(deadline) {
			break
		}
	}
	log := d.logText()
	answered := m[`ndpresponder_solicitations_received_total{outcome="answered"}`]
	for _, c := range []struct {
		series string
		ok     bool
		want   string
	}{
		{outOfRange, m[outOfRange] == 2, "2, the two NS sent for addresses out of range"},
		{"answered", answered >= 1 && answered == float64(counter(log, "answered")), "at least 1 (the ping), as the log's counters say"},
		{"ndpresponder_advertisements_sent_total", m["ndpresponder_advertisements_sent_total"] == answered, "the answered count"},
		{"ndpresponder_solicitations_sent_total", m["ndpresponder_solicitations_sent_total"] >= 1, "at least 1: the keepalive solicits the gateway"},
		{"ndpresponder_advertisements_received_total", m["ndpresponder_advertisements_received_total"] >= 1, "at least 1: the gateway's answer"},
		{"ndpresponder_send_errors_total", m["ndpresponder_send_errors_total"] == 0, "0"},
		{"ndpresponder_gateway_known", m["ndpresponder_gateway_known"] == 1, "1"},
		{"ndpresponder_gateway_pinned", m["ndpresponder_gateway_pinned"] == 1, "1: the gateway's entry is NOARP"},
		{`ndpresponder_live_addresses{source="learn"}`, m[`ndpresponder_live_addresses{source="learn"}`] == 0, "0: no -learn"},
	} {
		if !c.ok {
			t.Errorf("%s = %v, want %s", c.series, m[c.series], c.want)
		}
	}
	last := m["ndpresponder_gateway_last_answer_timestamp_seconds"]
	if sec := float64(start.UnixMilli()) / 1e3; last < sec-1 || last > float64(time.Now().UnixMilli())/1e3+1 {
		t.Errorf("the gateway's last answer at %v, want between the start %v and now", last, sec)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("the file's mode: %v, %v; want 0644", fi.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	if sample := os.Getenv("NDPR_METRICS_SAMPLE"); sample != "" {
		b, _ := os.ReadFile(file)
		if err := os.WriteFile(sample, b, 0o644); err != nil {
			t.Error(err)
		}
	}
	d.stop()
}
