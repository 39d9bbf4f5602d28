package main

import (
	"net/netip"
	"strings"
	"testing"
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
