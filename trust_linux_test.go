//go:build !nonetns

package main

// Another customer on the hypervisor's bridge, outside the VPS's filter,
// forging NDP: it must not move the VPS's gateway pin, and must not make
// the daemon send an NA to the broadcast or the zero address.

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	tenantAddr = netip.MustParseAddr("2001:db8:1:2::66")
	broadcast  = mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

// addTenant plugs another customer into the hypervisor's bridge, with an
// address in the VPS's /64 and no filter on its port, and returns a packet
// socket on its interface. The hypervisor counts (and drops) every NA from
// the VPS to the broadcast or the zero address.
func (n *testNet) addTenant() *wire {
	n.t.Helper()
	n.run("ip", "netns", "add", n.ns("evil"))
	n.t.Cleanup(func() { n.try("ip", "netns", "del", n.ns("evil")) })
	n.in("evil", "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
	n.run("ip", "link", "add", "evil0", "netns", n.ns("evil"), "address", evilMAC.String(), "type", "veth", "peer", "name", "hv-evil", "netns", n.ns("hv"))
	n.in("hv", "ip", "link", "set", "hv-evil", "master", "hvbr", "up")
	n.in("evil", "ip", "link", "set", "lo", "up")
	n.in("evil", "ip", "link", "set", "evil0", "up")
	n.in("evil", "ip", "-6", "addr", "add", tenantAddr.String()+"/64", "dev", "evil0")
	n.in("hv", "nft", "add", "table", "bridge", "watch")
	n.in("hv", "nft", "add", "chain", "bridge", "watch", "forwarding", "{ type filter hook forward priority -20; }")
	n.in("hv", "nft", "add", "rule", "bridge", "watch", "forwarding", "iifname", "hv-vps", "ether", "daddr",
		"{ ff:ff:ff:ff:ff:ff, 00:00:00:00:00:00 }", "icmpv6", "type", "nd-neighbor-advert", "counter", "drop")
	return n.openWire("evil", "evil0")
}

var watchCounter = regexp.MustCompile(`counter packets (\d+)`)

// nasToNobody is how many NAs the VPS sent to the broadcast or the zero
// address, as the hypervisor counted them.
func (n *testNet) nasToNobody() int {
	n.t.Helper()
	m := watchCounter.FindStringSubmatch(n.in("hv", "nft", "list", "chain", "bridge", "watch", "forwarding"))
	if m == nil {
		n.t.Fatal("no counter in the hypervisor's watch chain")
	}
	v, _ := strconv.Atoi(m[1])
	return v
}

// gatewayNA is an NA for the router's address from it, as the tenant
// forges it: from its own MAC to ethDst/dst, naming tlla.
func gatewayNAFrame(ethDst mac, dst netip.Addr, flags uint8, tlla mac) []byte {
	var f [naFrameLen]byte
	buildNA(&f, evilMAC, ethDst, routerLL, dst, routerLL, flags, tlla)
	return f[:]
}

// TestForgingTenant: the tenant's forged NAs for the gateway, and its
// solicitations from group and zero link-layer addresses, change nothing:
// the VPS's gateway entry keeps the router's MAC throughout and seconds
// later, no NA leaves toward the broadcast or zero address, and the router
// still reaches the container.
func TestForgingTenant(t *testing.T) {
	for _, keepalive := range []string{"0", "2s"} {
		t.Run("-keepalive "+keepalive, func(t *testing.T) {
			n := newTestNetWith(t, netOpts{hypervisor: hvSpoof})
			evil := n.addTenant()
			d := n.startDaemon("-i", "eth0", "-n", rangeArg, "-keepalive", keepalive)
			n.requirePinned()
			want := "lladdr " + routerMAC.String()
			check := func(step string) {
				t.Helper()
				if e := n.gatewayEntry(); !strings.Contains(e, want) || !strings.Contains(e, "NOARP") {
					t.Fatalf("%s: the VPS's gateway entry is %q, want NOARP at %v\n%s", step, e, routerMAC, d.logText())
				}
			}
			so := uint8(naFlagSolicited | naFlagOverride | naFlagRouter)
			allNodes := netip.MustParseAddr("ff02::1")
			evil.send(gatewayNAFrame(multicastMAC(allNodes), allNodes, naFlagOverride|naFlagRouter, evilMAC))
			check("an unsolicited NA naming the tenant")
			evil.send(gatewayNAFrame(vpsMAC, vpsAddr, so, broadcast))
			check("a solicited NA naming the broadcast address")
			// A thousand answers naming the tenant, over five seconds,
			// so that keepalive probes fall among them.
			for i := range 1000 {
				evil.send(gatewayNAFrame(vpsMAC, vpsAddr, so, evilMAC))
				if i%200 == 199 {
					check("a burst of NAs naming the tenant")
					time.Sleep(time.Second) // spreads the flood over the probes
				}
			}
			// Solicitations for the container from nobody. A Linux bridge
			// drops frames whose source is a group or zero address before
			// they reach the VPS; those with such an option in them arrive.
			g := solicitedNode(container)
			for _, from := range []struct{ eth, slla mac }{{broadcast, evilMAC}, {mac{}, evilMAC}, {evilMAC, broadcast}, {evilMAC, mac{}}} {
				ns := appendNS(nil, from.slla, multicastMAC(g), tenantAddr, g, container, [6]byte{})
				copy(ns[ethOffSrc:], from.eth[:])
				evil.send(ns)
			}
			if got := evil.nas(container, time.Second, 10); len(got) != 0 {
				t.Errorf("the tenant's solicitations from nobody got %d NAs: %+v", len(got), got)
			}
			time.Sleep(3 * time.Second) // seconds later, the pin still holds
			check("seconds after the forgeries")
			if c := n.nasToNobody(); c != 0 {
				t.Errorf("the VPS sent %d NAs to the broadcast or the zero address", c)
			}
			n.flushRouterNeigh()
			if !n.ping(container) {
				t.Errorf("the router cannot reach the container after the forgeries\n%s", d.logText())
			}
			log := d.stop()
			for name, least := range map[string]int{"refused.na-unsolicited": 1, "refused.na-bad-mac": 1,
				"refused.na-other-mac": 1000, "ignored.bad-link-address": 2} {
				if got := counter(log, name); got < least {
					t.Errorf("counter %s = %d, want at least %d\n%s", name, got, least, log)
				}
			}
		})
	}
}
