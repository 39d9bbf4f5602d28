package main

import (
	"net/netip"
	"strings"
	"testing"

	"ndpresponder/internal/rtnl"
	"ndpresponder/internal/rtnl/rtnltest"
)

func TestLastAddr(t *testing.T) {
	for in, want := range map[string]string{
		"2001:db8:1:2:646f:636b:6572::/112": "2001:db8:1:2:646f:636b:6572:ffff",
		"2001:db8::/64":                     "2001:db8::ffff:ffff:ffff:ffff",
		"2001:db8::5/128":                   "2001:db8::5",
		"2001:db8::/61":                     "2001:db8:0:7:ffff:ffff:ffff:ffff",
	} {
		if got := lastAddr(netip.MustParsePrefix(in)); got != netip.MustParseAddr(want) {
			t.Errorf("lastAddr(%s) = %v, want %s", in, got, want)
		}
	}
}

// TestCheckFindings drives the self-check's judgement without a host.
func TestCheckFindings(t *testing.T) {
	gw := netip.MustParseAddr("fe80::1")
	r := netip.MustParsePrefix("2001:db8:1:2::/112")
	healthy := func() *checkFacts {
		return &checkFacts{Iface: "eth0", IfaceExists: true, Forwarding: true,
			Routes: []rangeRoute{{Range: r, Sample: lastAddr(r), Iface: "br0"}}, Gateway: gw, GatewayState: "REACHABLE",
			SolicitFrom: netip.MustParseAddr("2001:db8:1:2::2"), GatewayNA: true,
			Heard: []heardNS{{Src: gw, Target: netip.MustParseAddr("2001:db8:1:2::5")}}, ListenFor: "5s"}
	}
	for _, c := range []struct {
		name  string
		fault func(f *checkFacts)
		want  string
	}{
		{"healthy", func(*checkFacts) {}, ""},
		{"forwarding", func(f *checkFacts) { f.Forwarding = false }, "forwarding is off"},
		{"proxy", func(f *checkFacts) { f.ProxyNDP = true }, "proxy_ndp is on"},
		{"route via uplink", func(f *checkFacts) { f.Routes[0].Iface = "eth0" }, "leaves by the uplink"},
		{"no route", func(f *checkFacts) { f.Routes[0].Iface = "" }, "no route"},
		{"gateway failed", func(f *checkFacts) { f.GatewayState = "FAILED" }, "cannot resolve"},
		{"no gateway", func(f *checkFacts) { f.Gateway = netip.Addr{} }, "no IPv6 default route"},
		{"no global", func(f *checkFacts) { f.SolicitFrom = netip.Addr{} }, "no usable global address"},
		{"gateway silent", func(f *checkFacts) { f.GatewayNA = false }, "did not answer"},
		{"nothing heard", func(f *checkFacts) { f.Heard = nil }, "no solicitation"},
		{"routes by tun", func(f *checkFacts) {
			f.L3Routes = []l3Route{{Range: r, Iface: "wg0"}}
		}, "add -auto"},
		{"routes by tun with -auto", func(f *checkFacts) {
			f.Auto = true
			f.L3Routes = []l3Route{{Range: r, Iface: "wg0"}}
			f.Routes[0].Iface = "eth0" // the rest of the range: by the uplink
		}, ""},
		{"accept_ra 1, default route from RAs", func(f *checkFacts) { f.AcceptRA, f.GatewayProto = 1, rtprotRA }, "accept_ra on eth0 is 1"},
		{"accept_ra 1, no default route", func(f *checkFacts) { f.AcceptRA, f.Gateway = 1, netip.Addr{} }, "accept_ra on eth0 is 1"},
		{"accept_ra 1, static default route", func(f *checkFacts) { f.AcceptRA, f.GatewayProto = 1, 4 }, ""},
		{"accept_ra 2", func(f *checkFacts) { f.AcceptRA, f.GatewayProto = 2, rtprotRA }, ""},
		{"accept_ra unknown", func(f *checkFacts) { f.AcceptRA, f.GatewayProto = -1, rtprotRA }, ""},
		{"forward policy drop", func(f *checkFacts) { f.ForwardDrop = []string{"nftables chain ip6 filter FORWARD"} }, "ip6 filter FORWARD drops forwarded IPv6"},
		{"neighbour cache too small", func(f *checkFacts) { f.Live, f.GCThresh3 = 1500, 1024 }, "gc_thresh3 = 1024"},
		{"neighbour cache big enough", func(f *checkFacts) { f.Live, f.GCThresh3 = 1000, 1024 }, ""},
		{"neighbour cache not visible", func(f *checkFacts) { f.Live, f.GCThresh3 = 5000, 0 }, ""},
		{"too many groups, solicitations arrive", func(f *checkFacts) { f.MLDOver = 65536 }, ""},
		{"too many groups, nothing heard", func(f *checkFacts) { f.MLDOver, f.Heard = 65536, nil }, "snoops MLD"},
	} {
		f := healthy()
		c.fault(f)
		var b strings.Builder
		good := printFindings(&b, checkFindings(f))
		if good != (c.want == "") || (c.want != "" && !problemLine(b.String(), c.want)) {
			t.Errorf("%s: good=%v\n%s", c.name, good, b.String())
		}
	}
}

func problemLine(out, want string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "PROBLEM") && strings.Contains(l, want) {
			return true
		}
	}
	return false
}

// TestRouteProtocolLinkType reads what route and link do not keep, from
// the kernel's messages in rtnl_test.go.
func TestRouteProtocolLinkType(t *testing.T) {
	msgs, err := rtnl.ParseNetlink(rtnltest.RouteDefault.Host(t))
	if err != nil || len(msgs) != 1 {
		t.Fatalf("parseNetlink = %v, %v", msgs, err)
	}
	if p, ok := routeProtocol(msgs[0].Data); !ok || p != rtprotRA {
		t.Errorf("routeProtocol(the default route) = %d, %v; want %d (RTPROT_RA)", p, ok, rtprotRA)
	}
	msgs, err = rtnl.ParseNetlink(rtnltest.LinkQemu.Host(t))
	if err != nil || len(msgs) != 1 {
		t.Fatalf("parseNetlink = %v, %v", msgs, err)
	}
	if i, typ, ok := linkType(msgs[0].Data); !ok || i != 2 || typ != 1 {
		t.Errorf("linkType(eth0) = %d, %d, %v; want 2, 1 (ARPHRD_ETHER)", i, typ, ok)
	}
	if _, ok := routeProtocol(make([]byte, rtnl.RtmsgLen-1)); ok {
		t.Errorf("routeProtocol of a short message: ok")
	}
	if _, _, ok := linkType(make([]byte, rtnl.IfinfomsgLen-1)); ok {
		t.Errorf("linkType of a short message: ok")
	}
}
