//go:build !nonetns

package main

// End-to-end tests of the static responder in the test network: the
// router's kernel solicits, the daemon answers from the VPS, the
// hypervisor's filter judges, and the proof is what the kernels do.

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var rangeArg = containerRange.String()

// TestResponderPassesFilter: with the daemon, the router reaches the
// container through the hypervisor's filter, and the router's neighbour
// entry for the container points at the VPS.
func TestResponderPassesFilter(t *testing.T) {
	n := newTestNet(t, true)
	if n.ping(container) {
		t.Fatal("router reaches the container before the daemon runs; the test network is wrong")
	}
	n.flushRouterNeigh()
	before := n.drops()
	d := n.startDaemon("-i", "eth0", "-n", rangeArg)
	if !n.ping(container) {
		t.Errorf("router cannot ping the container with the daemon running")
	}
	if e := n.routerNeigh(container); !strings.Contains(e, "lladdr "+vpsMAC.String()) {
		t.Errorf("router's entry for the container = %q, want lladdr %v", e, vpsMAC)
	}
	if after := n.drops(); after != before {
		t.Errorf("hypervisor dropped %d frames from the VPS while the daemon answered", after-before)
	}
	log := d.stop()
	if counter(log, "answered") < 1 {
		t.Errorf("daemon counted no answer:\n%s", log)
	}
}

// TestKernelProxyNDPFails shows the filter means what it should: the
// kernel's own proxy_ndp answers from a link-local source, the hypervisor
// drops that, and the router never reaches the container.
func TestKernelProxyNDPFails(t *testing.T) {
	n := newTestNet(t, true)
	n.in("vps", "sysctl", "-qw", "net.ipv6.conf.eth0.proxy_ndp=1")
	n.in("vps", "ip", "-6", "neigh", "add", "proxy", container.String(), "dev", "eth0")
	before := n.drops()
	if n.ping(container) {
		t.Errorf("router reaches the container through kernel proxy_ndp under the filter")
	}
	if after := n.drops(); after <= before {
		t.Errorf("hypervisor drop counter stayed at %d; the kernel's NA should have been dropped", after)
	}
	if e := n.routerNeigh(container); strings.Contains(e, "lladdr") && !strings.Contains(e, "FAILED") && !strings.Contains(e, "INCOMPLETE") {
		t.Errorf("router's entry for the container = %q, want none", e)
	}
	// Without the filter, the same proxy works: the filter is what broke it.
	n.setFilter(false)
	n.flushRouterNeigh()
	if !n.ping(container) {
		t.Errorf("kernel proxy_ndp does not work even without the filter; the test network is wrong")
	}
}

// TestSourceLinkLocal: -source link-local fails under the filter and works
// without it.
func TestSourceLinkLocal(t *testing.T) {
	n := newTestNet(t, true)
	d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-source", "link-local")
	before := n.drops()
	if n.ping(container) {
		t.Errorf("router reaches the container with -source link-local under the filter")
	}
	if after := n.drops(); after <= before {
		t.Errorf("hypervisor drop counter stayed at %d with NAs from link-local", after)
	}
	n.setFilter(false)
	n.flushRouterNeigh()
	if !n.ping(container) {
		t.Errorf("router cannot reach the container with -source link-local and no filter")
	}
	if counter(d.stop(), "answered") < 2 {
		t.Errorf("daemon answered fewer than 2 solicitations")
	}
}

// TestNoAnswer sends solicitations that must get no NA at all, each
// alongside a good one that must, from the router's side of the wire.
func TestNoAnswer(t *testing.T) {
	n := newTestNet(t, true)
	d := n.startDaemon("-i", "eth0", "-n", rangeArg)
	w := n.openWire("rt", "rt0")
	good := container
	outside := netip.MustParseAddr("2001:db8:1:2::99")
	mcastNS := func(target netip.Addr) []byte {
		return appendNS(nil, w.mac, multicastMAC(solicitedNode(target)), routerLL, solicitedNode(target), target, [6]byte{})
	}
	mangle := func(b []byte, f func([]byte)) []byte { f(b); return b }
	cases := []struct {
		name   string
		target netip.Addr
		frame  []byte
		want   string // the counter the daemon must count it under
	}{
		{"outside the ranges", outside, mcastNS(outside), "ignored.out-of-range"},
		{"DAD probe", good, appendNS(nil, w.mac, multicastMAC(solicitedNode(good)), netip.IPv6Unspecified(), solicitedNode(good), good, [6]byte{1, 2, 3, 4, 5, 6}), "ignored.dad-probe"},
		{"hop limit 64", good, mangle(mcastNS(good), func(b []byte) { b[ethHdrLen+ip6OffHopLimit] = 64; fixChecksum(b) }), "ignored.hop-limit"},
		{"bad checksum", good, mangle(mcastNS(good), func(b []byte) { b[ethIP6Len+icmp6OffChecksum] ^= 0xff }), "ignored.checksum"},
		// Cut inside the target, with an IPv6 length that says so: the
		// hypervisor's bridge drops frames shorter than their IPv6
		// header claims before they reach the VPS.
		{"truncated", good, mangle(mcastNS(good), func(b []byte) {
			binary.BigEndian.PutUint16(b[ethHdrLen+ip6OffPayloadLen:], nsLen-4)
		})[:nsFrameMin-4], "ignored.truncated"},
	}
	for _, c := range cases {
		w.drain()
		w.send(c.frame)
		if got := w.nas(c.target, 700*time.Millisecond, 1); len(got) != 0 {
			t.Errorf("%s: got %d NA, want none: %+v", c.name, len(got), got[0])
		}
		// The control: a good NS right after gets its answer, so the
		// silence above was the daemon's decision.
		w.send(mcastNS(good))
		if got := w.nas(good, 2*time.Second, 1); len(got) != 1 {
			t.Fatalf("%s: control NS got %d NA, want 1", c.name, len(got))
		}
	}
	log := d.stop()
	for _, c := range cases {
		if c.want != "" && counter(log, c.want) != 1 {
			t.Errorf("%s: counter %s = %d, want 1\n%s", c.name, c.want, counter(log, c.want), log)
		}
	}
}

// TestUnicastProbe: a router's unicast reachability probe, sent to the
// VPS's MAC with the target as IPv6 destination, gets its NA, so the
// router's entry never falls to FAILED. The NA is checked field by field.
func TestUnicastProbe(t *testing.T) {
	n := newTestNet(t, true)
	n.startDaemon("-i", "eth0", "-n", rangeArg)
	w := n.openWire("rt", "rt0")
	w.send(appendNS(nil, w.mac, vpsMAC, routerLL, container, container, [6]byte{}))
	got := w.nas(container, time.Second, 2)
	if len(got) != 1 {
		t.Fatalf("unicast probe got %d NA, want 1", len(got))
	}
	want := neighborAdvertisement{EthDst: w.mac, EthSrc: vpsMAC, Src: container, Dst: routerLL,
		Flags: naFlagSolicited | naFlagOverride, Target: container, TargetLLA: vpsMAC, HasTargetLLA: true}
	if got[0] != want {
		t.Errorf("NA = %+v, want %+v", got[0], want)
	}
}

// TestKernelProbeKeepsEntry lets the router's kernel probe by itself: its
// entry for the container goes STALE, a ping sends it to PROBE, and the
// daemon's answer to the unicast probe brings it back to REACHABLE.
func TestKernelProbeKeepsEntry(t *testing.T) {
	n := newTestNet(t, true)
	n.in("rt", "sysctl", "-qw", "net.ipv6.neigh.rt0.delay_first_probe_time=1")
	d := n.startDaemon("-i", "eth0", "-n", rangeArg)
	if !n.ping(container) {
		t.Fatal("router cannot ping the container")
	}
	n.in("rt", "ip", "-6", "neigh", "replace", container.String(), "lladdr", vpsMAC.String(), "dev", "rt0", "nud", "stale")
	// One packet moves the entry from STALE to DELAY; a second later the
	// kernel probes by unicast.
	n.in("rt", "ping", "-n", "-c", "1", "-w", "2", container.String())
	deadline := time.Now().Add(5 * time.Second)
	e := n.routerNeigh(container)
	for !strings.Contains(e, "REACHABLE") && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		e = n.routerNeigh(container)
	}
	if !strings.Contains(e, "REACHABLE") {
		t.Errorf("router's entry after probing = %q, want REACHABLE", e)
	}
	log := d.stop()
	if counter(log, "answered") < 2 {
		t.Errorf("daemon answered %d solicitations, want the multicast one and a probe:\n%s", counter(log, "answered"), log)
	}
}
