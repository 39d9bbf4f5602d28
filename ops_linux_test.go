package main

// What an operator sees and controls: counters on SIGUSR1, the -from guard.

import (
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCountersOnSIGUSR1 sends a known mix of solicitations and checks that
// SIGUSR1 makes the daemon log counters that match it.
func TestCountersOnSIGUSR1(t *testing.T) {
	n := newTestNet(t, true)
	d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-pin-gateway=false")
	w := n.openWire("rt", "rt0")
	send := func(target netip.Addr) {
		w.send(appendNS(nil, w.mac, multicastMAC(solicitedNode(target)), routerLL, solicitedNode(target), target, [6]byte{}))
	}
	inRange := []netip.Addr{container, bridgeAddr, netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:c2")}
	for _, a := range inRange {
		send(a)
		if got := w.nas(a, 2*time.Second, 1); len(got) != 1 {
			t.Fatalf("NS for %v got %d NA, want 1", a, len(got))
		}
	}
	send(netip.MustParseAddr("2001:db8:1:2::99"))
	send(netip.MustParseAddr("2001:db8:1:2::98"))
	time.Sleep(300 * time.Millisecond)
	d.cmd.Process.Signal(syscall.SIGUSR1)
	if !d.waitLog("counters:", 1, 2*time.Second) {
		t.Fatalf("no counters after SIGUSR1:\n%s", d.logText())
	}
	log := d.logText()
	for name, want := range map[string]int{"seen": 5, "answered": 3, "ignored.out-of-range": 2, "send-errors": 0} {
		if got := counter(log, name); got != want {
			t.Errorf("counter %s = %d, want %d\n%s", name, got, want, log)
		}
	}
	if !strings.Contains(log, "gateway=") {
		t.Errorf("counters do not show the gateway's state:\n%s", log)
	}
	d.stop()
}

// TestFromGuard: with -from, only solicitations from those sources are
// answered.
func TestFromGuard(t *testing.T) {
	t.Run("router not allowed", func(t *testing.T) {
		n := newTestNet(t, true)
		d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-from", "2001:db8:ffff::/48")
		if n.ping(container) {
			t.Errorf("router reaches the container although its source is not allowed")
		}
		if log := d.stop(); counter(log, "ignored.source-not-allowed") < 1 || counter(log, "answered") != 0 {
			t.Errorf("daemon did not refuse the router's NS for its source:\n%s", log)
		}
	})
	t.Run("router allowed", func(t *testing.T) {
		n := newTestNet(t, true)
		d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-from", routerLL.String()+"/128")
		if !n.ping(container) {
			t.Errorf("router cannot reach the container although its source is allowed")
		}
		d.stop()
	})
}

// TestRateBudget: a burst of solicitations for one target gets no more NAs
// than the per-target budget, and the rest are counted as rate-limited.
func TestRateBudget(t *testing.T) {
	n := newTestNet(t, true)
	d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-pin-gateway=false", "-rate-target", "5")
	w := n.openWire("rt", "rt0")
	ns := appendNS(nil, w.mac, multicastMAC(solicitedNode(container)), routerLL, solicitedNode(container), container, [6]byte{})
	for i := 0; i < 30; i++ {
		w.send(ns)
	}
	got := w.nas(container, time.Second, 100)
	if len(got) < 5 || len(got) > 6 {
		t.Errorf("30 NS for one target in a burst got %d NAs, want the budget of 5 (6 with a refill)", len(got))
	}
	log := d.stop()
	if limited := counter(log, "ignored.rate-limited"); limited+counter(log, "answered") != 30 || limited < 24 {
		t.Errorf("counters do not add up to the 30 NS sent:\n%s", log)
	}
}
