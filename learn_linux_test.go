//go:build !nonetns

package main

// -learn: answer only the addresses the kernel sees alive on the bridge.

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// addContainer plugs a new container namespace into the VPS's bridge.
func (n *testNet) addContainer(name string, addr netip.Addr) {
	n.t.Helper()
	n.run("ip", "netns", "add", n.ns(name))
	n.t.Cleanup(func() { n.try("ip", "netns", "del", n.ns(name)) })
	n.in(name, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
	n.run("ip", "link", "add", "vps-"+name, "netns", n.ns("vps"), "type", "veth", "peer", "name", "eth0", "netns", n.ns(name))
	n.in("vps", "ip", "link", "set", "vps-"+name, "master", "br0", "up")
	n.in(name, "ip", "link", "set", "lo", "up")
	n.in(name, "ip", "link", "set", "eth0", "up")
	n.in(name, "ip", "-6", "addr", "add", addr.String()+"/112", "dev", "eth0")
	n.in(name, "ip", "-6", "route", "add", "default", "via", bridgeAddr.String())
}

func TestLearn(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
	// A gone container's entry fails within a couple of seconds.
	n.in("vps", "sysctl", "-qw", "net.ipv6.neigh.br0.delay_first_probe_time=1",
		"net.ipv6.neigh.br0.retrans_time_ms=300", "net.ipv6.neigh.br0.ucast_solicit=1", "net.ipv6.neigh.br0.mcast_solicit=1")
	d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-learn", "br0")
	n.requirePinned()
	w := n.openWire("rt", "rt0")
	solicit := func(target netip.Addr) int { return w.solicit(target, 700*time.Millisecond) }

	// An address in the range with no container behind it.
	nobody := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:99")
	if got := solicit(nobody); got != 0 {
		t.Errorf("an address with no container got %d NA", got)
	}

	// From here the hypervisor delivers nothing for an address until the
	// VPS has sent from it: only the announcement can make c2 reachable.
	n.setHypervisor(hvAnnounce)

	// A container that appears after the daemon started, and says hello.
	c2 := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:c2")
	n.addContainer("c2", c2)
	n.speak("c2")
	if !d.waitLog("new live address", 1, 3*time.Second) {
		t.Fatalf("the daemon did not learn the new container:\n%s", d.logText())
	}
	if !n.reachable(c2, 5*time.Second) {
		t.Errorf("the router cannot reach the learned container behind the announce-required hypervisor\n%s", d.logText())
	}

	// The container goes; traffic to it makes the kernel probe, its entry
	// fails, and its address is no longer answered.
	n.run("ip", "netns", "del", n.ns("c2"))
	n.tryIn("rt", "ping", "-n", "-c", "2", "-W", "1", c2.String())
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(n.in("vps", "ip", "-6", "neigh", "show", c2.String(), "dev", "br0", "nud", "all"), "FAILED") {
		time.Sleep(200 * time.Millisecond)
	}
	// The daemon takes the failed entry in its next snapshot, at most
	// 200 ms later.
	deadline = time.Now().Add(2 * time.Second)
	got := solicit(c2)
	for got != 0 && time.Now().Before(deadline) {
		got = solicit(c2)
	}
	if got != 0 {
		t.Errorf("a removed container's address got %d NA (entry %q)", got, n.in("vps", "ip", "-6", "neigh", "show", c2.String(), "dev", "br0", "nud", "all"))
	}
	// And it stays unanswered: three more, spaced well within -rate-target,
	// so that one NA held back by the rate limit (the router's pings spent
	// the target's budget) cannot pass for an address no longer live.
	for i := 0; i < 3; i++ {
		if got := solicit(c2); got != 0 {
			t.Errorf("a removed container's address got %d NA after it was no longer answered", got)
		}
	}
	log := d.stop()
	// The first solicitation for a target not live probes the bridge.
	if counter(log, "ignored.not-live")+counter(log, "ignored.probing") < 2 {
		t.Errorf("the not-live solicitations were not counted:\n%s", log)
	}
}

// TestLearnPortGone: a container stops, its port leaves the bridge, and
// its address is no longer answered at once, although the kernel keeps its
// neighbour entry for a minute or more; the entry going STALE does not
// bring it back. The same MAC behind a new port (a container started again
// with the address and MAC it had) is answered again.
func TestLearnPortGone(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
	// REACHABLE turns STALE within 1.5 s instead of 45.
	n.in("vps", "sysctl", "-qw", "net.ipv6.neigh.br0.base_reachable_time_ms=1000")
	d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-learn", "br0")
	n.requirePinned()
	w := n.openWire("rt", "rt0")
	solicit := func(target netip.Addr) int { return w.solicit(target, 500*time.Millisecond) }
	entry := func(a netip.Addr) string {
		return strings.TrimSpace(n.in("vps", "ip", "-6", "neigh", "show", a.String(), "dev", "br0", "nud", "all"))
	}
	c2 := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:c2")
	const c2MAC = "02:42:ac:11:00:c2"
	start := func(name string, seen int) {
		n.addContainer(name, c2)
		n.in(name, "ip", "link", "set", "eth0", "address", c2MAC)
		n.speak(name)
		if !d.waitLog("new live address", seen, 3*time.Second) {
			t.Fatalf("the daemon did not learn %s:\n%s", name, d.logText())
		}
		if got := solicit(c2); got != 1 {
			t.Fatalf("the live container %s got %d NA, want 1", name, got)
		}
	}
	start("c2", 1)

	// The port goes; the container's namespace stays, cut off.
	n.in("vps", "ip", "link", "del", "vps-c2")
	if e := entry(c2); e == "" || strings.Contains(e, "FAILED") {
		t.Fatalf("the kernel's entry for the gone container is %q; the test needs it still there", e)
	}
	deadline := time.Now().Add(2 * time.Second)
	got := solicit(c2)
	for got != 0 && time.Now().Before(deadline) {
		got = solicit(c2)
	}
	if got != 0 {
		t.Errorf("the container whose port went got %d NA (entry %q)", got, entry(c2))
	}
	// Its entry ages: REACHABLE to STALE, or to DELAY and PROBE after the
	// solicitation's probe. None of it brings the address back.
	time.Sleep(2 * time.Second)
	if got := solicit(c2); got != 0 {
		t.Errorf("the gone container got %d NA once its entry aged (entry %q)", got, entry(c2))
	}

	// Back with the same MAC behind a new port.
	start("c3", 2)
	log := d.stop()
	if counter(log, "answered") < 2 {
		t.Errorf("answers not counted:\n%s", log)
	}
	// The router answers each announcement's NS from the new address:
	// expected answers, not refusals.
	if n := counter(log, "refused.na-not-asked"); n != 0 {
		t.Errorf("%d answers to announcements refused as unasked:\n%s", n, log)
	}
}
