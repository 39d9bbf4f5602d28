//go:build !nonetns

package main

// What an operator sees and controls: counters on SIGUSR1, the -from guard.

import (
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
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
	// One more in range: the daemon reads in order, so once it answers
	// this one it has seen the two before. It counts an answer just after
	// sending it, so the first line may miss that one: ask again, bounded.
	last := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:c3")
	send(last)
	if got := w.nas(last, 2*time.Second, 1); len(got) != 1 {
		t.Fatalf("NS for %v got %d NA, want 1", last, len(got))
	}
	var log string
	for i := 1; i <= 5; i++ {
		d.cmd.Process.Signal(syscall.SIGUSR1)
		if !d.waitLog("counters:", i, 2*time.Second) {
			t.Fatalf("no counters after SIGUSR1:\n%s", d.logText())
		}
		text := d.logText()
		if log = text[strings.LastIndex(text, "counters:"):]; counter(log, "answered") == 4 {
			break
		}
	}
	for name, want := range map[string]int{"seen": 6, "answered": 4, "ignored.out-of-range": 2, "send-errors": 0} {
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

// TestLeastPrivilege runs the daemon as an unprivileged user holding only
// CAP_NET_RAW and CAP_NET_ADMIN as ambient capabilities, and with one of
// them missing.
func TestLeastPrivilege(t *testing.T) {
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Fatalf("the test needs setpriv (util-linux): %v", err)
	}
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
	bin := daemonBinary(t)
	as := func(caps string, args ...string) *exec.Cmd {
		return exec.Command("ip", append([]string{"netns", "exec", n.ns("vps"),
			"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			"--inh-caps=-all," + caps, "--ambient-caps=-all," + caps, bin}, args...)...)
	}
	for _, c := range []struct{ caps, missing string }{
		{"+net_raw", "CAP_NET_ADMIN"},
		{"+net_admin", "CAP_NET_RAW"},
	} {
		out, err := as(c.caps, "-i", "eth0", "-n", rangeArg).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "missing capability "+c.missing) {
			t.Errorf("with only %s: %v, %q; want a failure naming %s", c.caps, err, out, c.missing)
		}
	}

	d := &daemonProc{t: t, done: make(chan struct{})}
	d.cmd = as("+net_raw,+net_admin", "-i", "eth0", "-n", rangeArg)
	d.start(n, "responder: answering on")
	if e := n.waitGateway("NOARP", 5*time.Second); !strings.Contains(e, "NOARP") {
		t.Errorf("unprivileged daemon did not pin the gateway: %q\n%s", e, d.logText())
	}
	if !n.ping(container) {
		t.Errorf("router cannot reach the container through the unprivileged daemon\n%s", d.logText())
	}
	if st, err := os.ReadFile("/proc/" + strconv.Itoa(d.cmd.Process.Pid) + "/status"); err != nil || !strings.Contains(string(st), "Uid:\t65534") {
		t.Errorf("the daemon does not run as uid 65534: %v\n%s", err, st)
	}
	d.stop()
}

// TestReload: SIGHUP re-reads the configuration file; a changed range takes
// effect without dropping the gateway's pin or the counters, and a broken
// file is rejected with its line number while the daemon keeps answering.
func TestReload(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
	file := t.TempDir() + "/ndpresponder.conf"
	write := func(text string) {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	otherRange := "2001:db8:1:2:ffff::/112"
	write("# the uplink\ni eth0\n-n " + otherRange + "\nkeepalive=5s\n")
	d := n.startDaemon("-c", file)
	n.requirePinned()
	if n.ping(container) {
		t.Fatalf("router reaches the container although its range is not configured yet")
	}
	hup := func(want string, count int) {
		t.Helper()
		d.cmd.Process.Signal(syscall.SIGHUP)
		if !d.waitLog(want, count, 3*time.Second) {
			t.Fatalf("after SIGHUP the daemon has not said %q:\n%s", want, d.logText())
		}
	}

	write("i eth0  # the uplink\nn " + rangeArg + "\nkeepalive 5s\n")
	hup("reload: answering for ["+rangeArg+"]", 1)
	n.flushRouterNeigh()
	if !n.ping(container) {
		t.Errorf("after reloading with the container's range, the router cannot reach it\n%s", d.logText())
	}
	if e := n.gatewayEntry(); !strings.Contains(e, "NOARP") {
		t.Errorf("the reload dropped the gateway's pin: %q", e)
	}

	write("i eth0\nn " + rangeArg + "\nn nonsense\n")
	hup(file+":3:", 1)
	if !strings.Contains(d.logText(), "keeping the running configuration") {
		t.Errorf("a broken file was not refused clearly:\n%s", d.logText())
	}
	n.flushRouterNeigh()
	if !n.ping(container) {
		t.Errorf("after a broken reload, the daemon no longer answers\n%s", d.logText())
	}
	log := d.stop()
	// Counters were kept across both reloads: the out-of-range NS before
	// the first, and the answers after it.
	if counter(log, "ignored.out-of-range") < 1 || counter(log, "answered") < 2 {
		t.Errorf("counters were reset by a reload:\n%s", log)
	}
}

// TestReloadWatchers: a SIGHUP that adds -learn or -N starts its watcher
// at once, and one that takes it away stops it: the answers follow each
// time. An address with no container behind it tells which is running.
func TestReloadWatchers(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
	nobody := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:99")
	e := startFakeEngine(t, func(path string, c net.Conn, done <-chan struct{}) {
		if strings.HasPrefix(path, "/events") {
			c.Write([]byte("HTTP/1.0 200 OK\r\n\r\n"))
			<-done
			return
		}
		c.Write([]byte("HTTP/1.0 200 OK\r\n\r\n" + fakeListing(container)))
	})
	n.daemonEnv = []string{"DOCKER_HOST=unix://" + e.sock}
	file := t.TempDir() + "/ndpresponder.conf"
	write := func(text string) {
		if err := os.WriteFile(file, []byte("i eth0\nn "+rangeArg+"\n"+text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	d := n.startDaemon("-c", file)
	n.requirePinned()
	n.ping(container) // the container has spoken, so the bridge's table knows it
	w := n.openWire("rt", "rt0")
	answered := func(target netip.Addr) bool { return w.solicit(target, 700*time.Millisecond) == 1 }
	reloads := 0
	for _, step := range []struct {
		name, file  string
		nobodyToo   bool // a static range answers every address
		containerOK bool
	}{
		{"static", "", true, true},
		{"-learn added", "learn br0\n", false, true},
		{"-learn taken away", "", true, true},
		{"-N added", "N ndpr6\n", false, true},
		{"-N and -learn", "N ndpr6\nlearn br0\n", false, true},
		{"both taken away", "", true, true},
	} {
		if step.name != "static" {
			write(step.file)
			reloads++
			d.cmd.Process.Signal(syscall.SIGHUP)
			if !d.waitLog("reload: answering for", reloads, 3*time.Second) {
				t.Fatalf("%s: the daemon did not reload:\n%s", step.name, d.logText())
			}
		}
		// The watcher's first listing is published within a moment.
		deadline := time.Now().Add(3 * time.Second)
		got := answered(container)
		for !got && step.containerOK && time.Now().Before(deadline) {
			got = answered(container)
		}
		if got != step.containerOK {
			t.Errorf("%s: the container's address answered %v, want %v\n%s", step.name, got, step.containerOK, d.logText())
		}
		if got := answered(nobody); got != step.nobodyToo {
			t.Errorf("%s: an address with no container answered %v, want %v", step.name, got, step.nobodyToo)
		}
	}
	d.stop()
}
