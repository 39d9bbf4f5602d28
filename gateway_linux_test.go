//go:build !nonetns

package main

// End-to-end tests of the gateway keeper and the announcements, in the test
// network, proven by the kernels' neighbour tables and pings.

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// gatewayEntry is the VPS's neighbour entry for its gateway, as ip prints
// it; "nud all", since ip hides NOARP entries otherwise.
func (n *testNet) gatewayEntry() string {
	n.t.Helper()
	return strings.TrimSpace(n.in("vps", "ip", "-6", "neigh", "show", routerLL.String(), "dev", "eth0", "nud", "all"))
}

// waitGateway waits up to d for the VPS's gateway entry to contain want.
func (n *testNet) waitGateway(want string, d time.Duration) string {
	n.t.Helper()
	deadline := time.Now().Add(d)
	e := n.gatewayEntry()
	for !strings.Contains(e, want) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		e = n.gatewayEntry()
	}
	return e
}

// pingSeq matches a reply, not an error such as "Destination unreachable".
// requirePinned waits for the daemon to pin the gateway, and fails the test
// if it does not within 5 s.
func (n *testNet) requirePinned() {
	n.t.Helper()
	if e := n.waitGateway("NOARP", 5*time.Second); !strings.Contains(e, "NOARP") {
		n.t.Fatalf("gateway not pinned: %q", e)
	}
}

var pingSeq = regexp.MustCompile(`bytes from .* icmp_seq=(\d+)`)

// containerPings pings the router's outside address from the container,
// count times at interval, and returns the sequence numbers answered. With
// -w, ping waits for late replies up to 2 s past the last request; without
// it, ping left one interval (or twice the longest round trip) after the
// last request, so a last reply slowed by a loaded machine counted as lost.
func (n *testNet) containerPings(count int, interval string) map[int]bool {
	n.t.Helper()
	every, err := strconv.ParseFloat(interval, 64)
	if err != nil {
		n.t.Fatalf("ping interval %q: %v", interval, err)
	}
	deadline := strconv.Itoa(int(float64(count)*every) + 2)
	out, _ := n.tryIn("c1", "ping", "-n", "-c", strconv.Itoa(count), "-i", interval, "-W", "1", "-w", deadline, outsideAddr.String())
	got := map[int]bool{}
	for _, m := range pingSeq.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.Atoi(m[1])
		got[v] = true
	}
	return got
}

// TestAnnounceRequired: behind a hypervisor that delivers nothing for an
// address until the VPS has sent from it, -a makes the container reachable;
// without it, the router's NS never arrives.
func TestAnnounceRequired(t *testing.T) {
	t.Run("without -a", func(t *testing.T) {
		n := newTestNetWith(t, netOpts{hypervisor: hvAnnounce})
		d := n.startDaemon("-i", "eth0", "-n", rangeArg)
		n.requirePinned()
		if n.ping(container) {
			t.Errorf("router reaches an unannounced container")
		}
		if log := d.stop(); counter(log, "answered") != 0 {
			t.Errorf("daemon answered an NS that the hypervisor should have dropped:\n%s", log)
		}
	})
	t.Run("with -a", func(t *testing.T) {
		n := newTestNetWith(t, netOpts{hypervisor: hvAnnounce})
		d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-a", container.String())
		n.requirePinned()
		if !n.ping(container) {
			t.Errorf("router cannot reach the announced container")
		}
		// The router learned the container from our NS before it ever
		// solicited it.
		if e := n.routerNeigh(container); !strings.Contains(e, "lladdr "+vpsMAC.String()) {
			t.Errorf("router's entry for the container = %q, want lladdr %v", e, vpsMAC)
		}
		log := d.stop()
		if counter(log, "announced") < 1 || counter(log, "ns-sent") < 2 {
			t.Errorf("daemon counted no announcement:\n%s", log)
		}
	})
}

// TestStaleGateway: with short neighbour timers and every entry the kernel
// can expire flushed, the VPS cannot resolve its gateway again (it solicits
// from link-local, which the hypervisor drops), so a container's pings out
// get no reply; with the daemon's pin they get replies for 30 s.
//
// This kernel confirms the gateway's entry from forwarded traffic while
// replies flow, so an entry that is merely STALE recovers; the failure users
// see is an entry that has gone FAILED or been removed, and the flush stands
// for that.
func TestStaleGateway(t *testing.T) {
	setup := func(t *testing.T) *testNet {
		n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
		n.in("vps", "sysctl", "-qw",
			"net.ipv6.neigh.eth0.base_reachable_time_ms=1000",
			"net.ipv6.neigh.eth0.delay_first_probe_time=1",
			"net.ipv6.neigh.eth0.retrans_time_ms=300",
			"net.ipv6.neigh.eth0.ucast_solicit=1",
			"net.ipv6.neigh.eth0.mcast_solicit=1",
			"net.ipv6.neigh.eth0.gc_stale_time=2")
		n.in("vps", "ip", "-6", "neigh", "flush", "dev", "eth0")
		return n
	}
	t.Run("without the pin", func(t *testing.T) {
		n := setup(t)
		d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-pin-gateway=false")
		if got := n.containerPings(10, "0.5"); len(got) != 0 {
			t.Errorf("%d of 10 pings got replies without the pin (entry %q); the test network lets link-local NS through", len(got), n.gatewayEntry())
		}
		// The inbound half works: the router's NS for the container is
		// answered (its echo requests get through; the replies do not).
		n.ping(container)
		if log := d.stop(); counter(log, "answered") < 1 {
			t.Errorf("the daemon answered no NS, so the test proves nothing about the gateway:\n%s", log)
		}
	})
	t.Run("with the pin", func(t *testing.T) {
		n := setup(t)
		n.startDaemon("-i", "eth0", "-n", rangeArg)
		n.requirePinned()
		if got := n.containerPings(30, "1"); len(got) != 30 {
			t.Errorf("%d of 30 pings over 30 s got replies with the pin; entry %q", len(got), n.gatewayEntry())
		}
	})
}

// TestGatewayMACChange: when the router's MAC changes, the keepalive's
// answers move the VPS's pinned entry to the new MAC within a few intervals.
func TestGatewayMACChange(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
	d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-keepalive", "2s")
	if e := n.waitGateway("NOARP", 5*time.Second); !strings.Contains(e, "lladdr "+routerMAC.String()) || !strings.Contains(e, "NOARP") {
		t.Fatalf("gateway not pinned at %v: %q", routerMAC, e)
	}
	newMAC := mac{0x02, 0, 0, 0, 0, 0x11}
	n.in("rt", "ip", "link", "set", "rt0", "address", newMAC.String())
	e := n.waitGateway("lladdr "+newMAC.String(), 10*time.Second)
	if !strings.Contains(e, "lladdr "+newMAC.String()) || !strings.Contains(e, "NOARP") {
		t.Fatalf("after the router's MAC changed, the VPS's entry is %q, want NOARP at %v", e, newMAC)
	}
	if got := n.containerPings(3, "0.3"); len(got) == 0 {
		t.Errorf("container cannot reach the router after its MAC changed")
	}
	if log := d.stop(); !strings.Contains(log, "moved from "+routerMAC.String()+" to "+newMAC.String()) {
		t.Errorf("daemon did not say the gateway moved:\n%s", log)
	}
}

// TestUnpinOnExit: after SIGTERM the VPS's neighbour table holds no entry
// the daemon made; an entry the administrator pinned before it started is
// untouched, even when the gateway's NAs say otherwise.
func TestUnpinOnExit(t *testing.T) {
	t.Run("ours", func(t *testing.T) {
		n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
		d := n.startDaemon("-i", "eth0", "-n", rangeArg)
		n.requirePinned()
		d.stop()
		if e := n.gatewayEntry(); e != "" {
			t.Errorf("after SIGTERM the VPS's gateway entry is %q, want none", e)
		}
	})
	t.Run("the administrator's", func(t *testing.T) {
		n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
		adminMAC := "02:00:00:00:00:99"
		n.in("vps", "ip", "-6", "neigh", "replace", routerLL.String(), "lladdr", adminMAC, "dev", "eth0", "nud", "permanent")
		before := n.gatewayEntry()
		d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-keepalive", "1s")
		if !d.waitLog("set by the administrator; leaving it alone", 1, 5*time.Second) {
			t.Errorf("the daemon did not see the administrator's entry once the gateway answered:\n%s", d.logText())
		}
		if e := n.gatewayEntry(); e != before {
			t.Errorf("while running, the administrator's entry became %q, was %q", e, before)
		}
		log := d.stop()
		if e := n.gatewayEntry(); e != before {
			t.Errorf("after SIGTERM, the administrator's entry is %q, was %q", e, before)
		}
		if counter(log, "na-seen") < 1 {
			t.Errorf("the gateway never answered, so the test proves nothing:\n%s", log)
		}
	})
}

// TestGatewaySilent: when the gateway stops answering the keepalives, the
// pin stays and the daemon warns once, not every interval; when it answers
// again, the daemon says so.
func TestGatewaySilent(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
	d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-keepalive", "1s")
	n.requirePinned()
	// The hypervisor stops passing anything from the router.
	n.in("hv", "nft", "add", "table", "bridge", "mute")
	n.in("hv", "nft", "add", "chain", "bridge", "mute", "forwarding", "{ type filter hook forward priority -10; }")
	n.in("hv", "nft", "add", "rule", "bridge", "mute", "forwarding", "iifname", "hv-rt", "drop")
	// Silence is told after two intervals and a second; then three more
	// intervals must pass without another warning.
	if !d.waitLog("has not answered", 1, 5*time.Second) {
		t.Fatalf("daemon did not warn about the silent gateway:\n%s", d.logText())
	}
	time.Sleep(3 * time.Second)
	if e := n.gatewayEntry(); !strings.Contains(e, "lladdr "+routerMAC.String()) || !strings.Contains(e, "NOARP") {
		t.Errorf("while the gateway was silent the entry became %q, want it kept", e)
	}
	if c := strings.Count(d.logText(), "has not answered"); c != 1 {
		t.Errorf("daemon warned %d times about the silent gateway, want once:\n%s", c, d.logText())
	}
	n.in("hv", "nft", "delete", "table", "bridge", "mute")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(d.logText(), "answers again") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(d.logText(), "answers again") {
		t.Errorf("daemon did not notice the gateway answering again:\n%s", d.logText())
	}
	d.stop()
}

// TestGatewaySilentMACChange: with the default flags (the seed's usage),
// the router's MAC changes without a word (no unsolicited NA, Linux's
// default), on an open network and behind the anti-spoofing filter. The
// kernel never checks the NOARP pin, so before the pin was checked the
// containers' egress was gone for good; the keeper's check must follow the
// change and bring it back within 60 s.
func TestGatewaySilentMACChange(t *testing.T) {
	for _, hv := range []struct {
		name string
		kind int
	}{{"open", hvOpen}, {"anti-spoofing", hvSpoof}} {
		t.Run(hv.name, func(t *testing.T) {
			n := newTestNetWith(t, netOpts{hypervisor: hv.kind})
			n.in("rt", "sysctl", "-qw", "net.ipv6.conf.rt0.ndisc_notify=0")
			d := n.startDaemon("-i", "eth0", "-n", rangeArg)
			n.requirePinned()
			if got := n.containerPings(2, "0.3"); len(got) == 0 {
				t.Fatalf("no egress before the change; entry %q", n.gatewayEntry())
			}
			newMAC := mac{0x02, 0, 0, 0, 0, 0x11}
			n.in("rt", "ip", "link", "set", "rt0", "address", newMAC.String())
			changed := time.Now()
			back := time.Duration(0)
			for time.Since(changed) < 60*time.Second {
				if len(n.containerPings(1, "1")) > 0 {
					back = time.Since(changed)
					break
				}
			}
			if back == 0 {
				t.Fatalf("no egress within 60 s of the router's MAC change; entry %q", n.gatewayEntry())
			}
			t.Logf("egress back %v after the change", back.Round(100*time.Millisecond))
			if e := n.gatewayEntry(); !strings.Contains(e, "lladdr "+newMAC.String()) || !strings.Contains(e, "NOARP") {
				t.Errorf("entry %q, want NOARP at %v", e, newMAC)
			}
			if log := d.stop(); !strings.Contains(log, "moved from "+routerMAC.String()+" to "+newMAC.String()) {
				t.Errorf("daemon did not say the gateway moved:\n%s", log)
			}
		})
	}
}

// TestGatewayLeftPins: a daemon killed with SIGKILL (or by the OOM killer)
// cannot unpin. The pin carries the daemon's mark; the next start takes it
// over and removes a stale one of another address, and -unpin removes
// what is left; entries without the mark are not touched.
func TestGatewayLeftPins(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
	d := n.startDaemon("-i", "eth0", "-n", rangeArg)
	n.requirePinned()
	d.cmd.Process.Kill()
	<-d.done
	e := n.gatewayEntry()
	if !strings.Contains(e, "NOARP") || !strings.Contains(e, "proto 110") {
		t.Fatalf("after SIGKILL the entry is %q, want the daemon's NOARP pin, marked proto 110", e)
	}
	stale, hand := "fe80::ff:fe00:99", "fe80::ff:fe00:98"
	n.in("vps", "ip", "-6", "neigh", "replace", stale, "lladdr", "02:00:00:00:00:99", "dev", "eth0", "nud", "noarp", "protocol", "110")
	n.in("vps", "ip", "-6", "neigh", "replace", hand, "lladdr", "02:00:00:00:00:98", "dev", "eth0", "nud", "noarp")
	entry := func(a string) string {
		return strings.TrimSpace(n.in("vps", "ip", "-6", "neigh", "show", a, "dev", "eth0", "nud", "all"))
	}
	d = n.startDaemon("-i", "eth0", "-n", rangeArg)
	if !d.waitLog("taking over the pin a previous run left for "+routerLL.String(), 1, 5*time.Second) {
		t.Errorf("the second run did not take the pin over:\n%s", d.logText())
	}
	if e := entry(stale); e != "" {
		t.Errorf("the stale pin of another address is still there: %q", e)
	}
	if e := entry(hand); !strings.Contains(e, "NOARP") {
		t.Errorf("an entry without the mark was changed: %q", e)
	}
	d.cmd.Process.Kill()
	<-d.done
	n.in("vps", "ip", "-6", "neigh", "replace", stale, "lladdr", "02:00:00:00:00:99", "dev", "eth0", "nud", "noarp", "protocol", "110")
	out := n.in("vps", daemonBinary(t), "-unpin", "-i", "eth0")
	if !strings.Contains(out, "removed 2 pin(s)") {
		t.Errorf("-unpin said %q, want 2 removed", out)
	}
	if e := n.gatewayEntry(); e != "" {
		t.Errorf("after -unpin the gateway's entry is %q, want none", e)
	}
	if e := entry(stale); e != "" {
		t.Errorf("after -unpin the stale pin is %q, want none", e)
	}
	if e := entry(hand); !strings.Contains(e, "NOARP") {
		t.Errorf("-unpin changed an entry without the mark: %q", e)
	}
}
