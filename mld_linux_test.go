//go:build !nonetns

package main

// MLD in the test network: the hypervisor's bridge snoops MLD, is its own
// querier, and floods no unregistered multicast to the VPS's port, so a
// solicitation reaches the VPS only for a group the VPS has reported. The
// kernel's proxy_ndp, which joins the groups of its entries, shows the
// network delivers what is reported; the daemon must do as well.

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

// snoopMLD makes the hypervisor's bridge snoop MLD as a managed switch
// does: its own querier, no unregistered multicast to the VPS's port, and
// fast leave there. The querier sends from the bridge's link-local
// address, so that must exist first; and the bridge counts itself a
// querier only a query response interval (1 s here) after it starts:
// until then it floods, which the VPS's port refuses.
func (n *testNet) snoopMLD() {
	n.t.Helper()
	n.in("hv", "sysctl", "-qw", "net.ipv6.conf.hvbr.disable_ipv6=0")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(n.in("hv", "ip", "-6", "addr", "show", "dev", "hvbr"), "fe80::") {
		if time.Now().After(deadline) {
			n.t.Fatalf("the hypervisor's bridge has no link-local address")
		}
		time.Sleep(100 * time.Millisecond)
	}
	n.in("hv", "bridge", "link", "set", "dev", "hv-vps", "mcast_flood", "off", "fastleave", "on")
	// The response interval first: the querier takes the one set when
	// it starts.
	n.in("hv", "ip", "link", "set", "hvbr", "type", "bridge", "mcast_snooping", "1", "mcast_mld_version", "2",
		"mcast_query_response_interval", "100")
	n.in("hv", "ip", "link", "set", "hvbr", "type", "bridge", "mcast_querier", "1")
	time.Sleep(1500 * time.Millisecond)
}

// vpsGroup says whether the hypervisor's bridge has a's solicited-node
// group registered on the VPS's port.
func (n *testNet) vpsGroup(a netip.Addr) bool {
	n.t.Helper()
	for _, line := range strings.Split(n.in("hv", "bridge", "mdb", "show", "dev", "hvbr"), "\n") {
		if strings.Contains(line, "port hv-vps") && strings.Contains(line, " grp "+solicitedNode(a).String()+" ") {
			return true
		}
	}
	return false
}

// waitGroup waits up to d for a's group to be registered on the VPS's port
// (or, with !want, to be gone).
func (n *testNet) waitGroup(a netip.Addr, want bool, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for n.vpsGroup(a) != want {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

// vpsHears reports whether an NS for a from the router reaches the VPS's
// uplink within d.
func (n *testNet) vpsHears(w *wire, a netip.Addr, d time.Duration) bool {
	n.t.Helper()
	var sock *packetSocket
	inNetns(n.t, n.ns("vps"), func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		sock, err = openPacketSocket(ifi.Index, ndFilterProgram)
		return err
	})
	defer sock.Close()
	w.send(routerNS(a))
	sock.f.SetReadDeadline(time.Now().Add(d))
	var ns neighborSolicitation
	for {
		b, err := sock.read()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return false
		}
		if err != nil {
			n.t.Fatal(err)
		}
		if parseNS(b, &ns) == nil && ns.Target == a {
			return true
		}
	}
}

func TestMLDSnooping(t *testing.T) {
	n := newTestNetWith(t, netOpts{hypervisor: hvOpen})
	n.snoopMLD()
	w := n.openWire("rt", "rt0")
	n.speak("c1") // c1 has spoken

	// The network filters: a solicitation for a group nobody reported
	// does not reach the VPS.
	if n.vpsHears(w, container, time.Second) {
		t.Fatalf("the hypervisor delivered an NS for an unreported group to the VPS: it does not snoop MLD")
	}

	// The positive control: the kernel's proxy_ndp joins the group of its
	// entry, and the router reaches the container through it.
	n.in("vps", "sysctl", "-qw", "net.ipv6.conf.eth0.proxy_ndp=1")
	n.in("vps", "ip", "-6", "neigh", "add", "proxy", container.String(), "dev", "eth0")
	if !n.waitGroup(container, true, 3*time.Second) || !n.vpsHears(w, container, time.Second) || !n.reachable(container, 5*time.Second) {
		t.Fatalf("proxy_ndp's group is not registered, or the router cannot reach the container through it: the network does not deliver what is reported\n%s",
			n.in("hv", "bridge", "mdb", "show", "dev", "hvbr"))
	}
	n.in("vps", "ip", "-6", "neigh", "del", "proxy", container.String(), "dev", "eth0")
	n.in("vps", "sysctl", "-qw", "net.ipv6.conf.eth0.proxy_ndp=0")
	if !n.waitGroup(container, false, 3*time.Second) {
		t.Fatalf("the group stayed registered after proxy_ndp left it")
	}
	n.flushRouterNeigh()

	// The daemon joins the group of the container it learned, and the
	// router's solicitations for it arrive. (Its announcements teach the
	// router the address too, so reaching it proves less.)
	d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-learn", "br0")
	if !n.waitGroup(container, true, 3*time.Second) {
		t.Errorf("the daemon's group for %v is not registered:\n%s", container, n.in("hv", "bridge", "mdb", "show", "dev", "hvbr"))
	}
	if !n.vpsHears(w, container, time.Second) {
		t.Errorf("the router's solicitation for the existing container does not reach the VPS")
	}
	if !n.reachable(container, 5*time.Second) {
		t.Errorf("the router cannot reach the existing container through the snooping hypervisor\n%s", d.logText())
	}

	// A container plugged in later, once it speaks.
	c2 := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:c2")
	n.addContainer("c2", c2)
	n.speak("c2")
	if !n.waitGroup(c2, true, 3*time.Second) {
		t.Errorf("the daemon's group for the new %v is not registered:\n%s", c2, n.in("hv", "bridge", "mdb", "show", "dev", "hvbr"))
	}
	if !n.vpsHears(w, c2, time.Second) {
		t.Errorf("the router's solicitation for the hot-plugged container does not reach the VPS")
	}
	if !n.reachable(c2, 5*time.Second) {
		t.Errorf("the router cannot reach the hot-plugged container through the snooping hypervisor\n%s", d.logText())
	}

	// The container goes: its entry fails, and its group is left.
	n.in("vps", "sysctl", "-qw", "net.ipv6.neigh.br0.delay_first_probe_time=1",
		"net.ipv6.neigh.br0.retrans_time_ms=300", "net.ipv6.neigh.br0.ucast_solicit=1", "net.ipv6.neigh.br0.mcast_solicit=1")
	n.run("ip", "netns", "del", n.ns("c2"))
	n.tryIn("rt", "ping", "-n", "-c", "2", "-W", "1", c2.String())
	if !n.waitGroup(c2, false, 8*time.Second) {
		t.Errorf("the group of the removed %v is still registered:\n%s", c2, n.in("hv", "bridge", "mdb", "show", "dev", "hvbr"))
	}
	// Long after the announcements, the router forgets the container and
	// must solicit it by multicast: the group brings its NS in.
	n.flushRouterNeigh()
	if !n.reachable(container, 5*time.Second) {
		t.Errorf("the router cannot reach the container again by its multicast solicitation\n%s", d.logText())
	}
	d.checkHWM()
	// When the daemon stops, it leaves the rest.
	d.stop()
	if !n.waitGroup(container, false, 3*time.Second) {
		t.Errorf("the group of %v outlived the daemon", container)
	}
}
