package main

// ndpresponder -check: a self-check for the person installing it. The
// facts are gathered by check_linux.go; what they mean, and what to do
// about them, is decided here in plain Go.

import (
	"io"
	"net/netip"
	"slices"
	"strings"

	"ndpresponder/internal/rtnl"
)

// checkFacts is what -check found on this host.
type checkFacts struct {
	Iface        string
	IfaceExists  bool
	IfaceErr     error
	Forwarding   bool // net.ipv6.conf.all.forwarding
	ProxyNDP     bool // net.ipv6.conf.{all,IFACE}.proxy_ndp
	Routes       []rangeRoute
	Gateway      netip.Addr
	GatewayState string // as ip(8) prints it; "" when there is no entry
	GatewayMAC   mac
	SolicitFrom  netip.Addr // the global source our NS to the gateway used
	GatewayNA    bool       // the gateway answered that NS
	GatewayNAMAC mac
	Heard        []heardNS // solicitations for the ranges seen while listening
	ListenFor    string

	Auto         bool      // -auto is given
	AcceptRA     int       // net.ipv6.conf.IFACE.accept_ra; -1: unknown
	GatewayProto uint8     // who made the default route: rtprotRA for router advertisements
	ForwardDrop  []string  // firewall chains that drop forwarded IPv6 by default
	Live         int       // addresses answered one by one: -a, those alive on the -learn bridges, -auto's host routes
	GCThresh3    int       // net.ipv6.neigh.default.gc_thresh3; 0: not visible here
	MLDOver      int       // solicited-node groups wanted past maxMLDGroups
	L3Routes     []l3Route // routes in the ranges by interfaces without a MAC
}

// l3Route is a route in a range that leaves by an interface without a
// MAC: tun, WireGuard, PPP.
type l3Route struct {
	Range netip.Prefix
	Iface string
}

// rtprotRA marks a route learned from router advertisements (RTPROT_RA).
const rtprotRA = 9

// Interface types without a MAC (ARPHRD_*, linux/if_arp.h): WireGuard
// and tun devices are NONE, PPP links PPP.
const (
	arphrdPPP  = 512
	arphrdNone = 0xfffe
)

// routeProtocol is who made a route, from an RTM_NEWROUTE message
// (struct rtmsg's protocol), which route does not keep.
func routeProtocol(data []byte) (uint8, bool) {
	if len(data) < rtnl.RtmsgLen {
		return 0, false
	}
	return data[5], true
}

// linkType is an interface's index and ARPHRD type, from an RTM_NEWLINK
// message (struct ifinfomsg), which link does not keep.
func linkType(data []byte) (index int, typ uint16, ok bool) {
	if len(data) < rtnl.IfinfomsgLen {
		return 0, 0, false
	}
	return int(int32(ne.Uint32(data[4:]))), ne.Uint16(data[2:]), true
}

// rangeRoute is where traffic to a range leaves by.
type rangeRoute struct {
	Range  netip.Prefix
	Sample netip.Addr
	Iface  string // "" when there is no route
}

// heardNS is one solicitation for a target in a range.
type heardNS struct {
	Src, Target netip.Addr
}

type finding struct {
	ok   bool
	text string
}

// checkFindings turns the facts into one finding per line.
func checkFindings(f *checkFacts) []finding {
	var out findings
	if !f.IfaceExists {
		out.add(false, "uplink %s: %v; give the uplink with -i", f.Iface, f.IfaceErr)
		return out
	}
	out.add(true, "uplink %s exists", f.Iface)
	out.host(f)
	out.ranges(f)
	out.limits(f)
	out.gateway(f)
	out.heard(f)
	return out
}

// findings are checkFindings' lines as they are made.
type findings []finding

func (out *findings) add(ok bool, format string, args ...any) {
	*out = append(*out, finding{ok, sprintf(format, args...)})
}

// host judges the host's forwarding and proxy_ndp.
func (out *findings) host(f *checkFacts) {
	if f.Forwarding {
		out.add(true, "IPv6 forwarding is on")
	} else {
		out.add(false, "IPv6 forwarding is off, so nothing reaches the containers: sysctl -w net.ipv6.conf.all.forwarding=1 (and accept_ra=2 on %s if it takes router advertisements)", f.Iface)
	}
	if f.ProxyNDP {
		out.add(false, "the kernel's proxy_ndp is on for %s: it answers too, from link-local; turn it off (sysctl -w net.ipv6.conf.all.proxy_ndp=0 net.ipv6.conf.%s.proxy_ndp=0)", f.Iface, f.Iface)
	} else {
		out.add(true, "proxy_ndp is off")
	}
}

// ranges judges where each range is routed.
func (out *findings) ranges(f *checkFacts) {
	for _, r := range f.Routes {
		switch r.Iface {
		case "":
			out.add(false, "range %v: no route for %v; route the range to the containers' bridge (ip -6 route add %v dev BRIDGE)", r.Range, r.Sample, r.Range)
		case f.Iface:
			if f.Auto {
				out.add(true, "range %v: %v leaves by the uplink %s; -auto answers the addresses routed elsewhere", r.Range, r.Sample, f.Iface)
				continue
			}
			out.add(false, "range %v: %v leaves by the uplink %s, so answered traffic would go back out; route the range to the containers' bridge", r.Range, r.Sample, f.Iface)
		default:
			out.add(true, "range %v leaves by %s", r.Range, r.Iface)
		}
	}
	for _, r := range f.Routes {
		var ifs []string
		for _, l := range f.L3Routes {
			if l.Range == r.Range && !slices.Contains(ifs, l.Iface) {
				ifs = append(ifs, l.Iface)
			}
		}
		if len(ifs) > 0 {
			do := "add -auto to answer their clients"
			if f.Auto {
				do = "-auto answers their clients"
			}
			out.add(f.Auto, "range %v: routes leave by %s, without a MAC or neighbours to learn (tun, WireGuard): %s", r.Range, strings.Join(ifs, ", "), do)
		}
	}
}

// limits judges what keeps answers from working: router advertisements
// ignored, forwarding dropped, the neighbour cache's size, MLD groups.
func (out *findings) limits(f *checkFacts) {
	// A static default route needs no router advertisements.
	if f.Forwarding && f.AcceptRA == 1 && (!f.Gateway.IsValid() || f.GatewayProto == rtprotRA) {
		out.add(false, "forwarding is on and accept_ra on %s is 1, so router advertisements are ignored and their default route expires: sysctl -w net.ipv6.conf.%s.accept_ra=2", f.Iface, f.Iface)
	}
	for _, c := range f.ForwardDrop {
		out.add(false, "%s drops forwarded IPv6 by default (Docker sets this): accept the ranges both ways (ip6tables -I FORWARD -d RANGE -j ACCEPT, and -s RANGE; with Docker, in DOCKER-USER)", c)
	}
	if f.GCThresh3 > 0 && f.Live > f.GCThresh3 {
		out.add(false, "%d live addresses, more than the neighbour cache holds (net.ipv6.neigh.default.gc_thresh3 = %d): raise it", f.Live, f.GCThresh3)
	}
	if f.MLDOver > 0 {
		// A problem only where solicitations do not arrive.
		out.add(len(f.Heard) > 0, "%d solicited-node groups are past the %d joined one by one: a switch that snoops MLD will not deliver their solicitations; -learn, -N or -auto join each live address's", f.MLDOver, maxMLDGroups)
	}
}

// gateway judges the gateway and whether it answers.
func (out *findings) gateway(f *checkFacts) {
	switch {
	case !f.Gateway.IsValid():
		out.add(false, "no IPv6 default route through %s; containers cannot reach out (ip -6 route add default via GATEWAY dev %s)", f.Iface, f.Iface)
	case f.GatewayState == "" || f.GatewayState == "FAILED" || f.GatewayState == "INCOMPLETE":
		out.add(false, "gateway %v: the kernel cannot resolve it (%s); its NS from link-local is probably filtered: keep -pin-gateway on (the default)", f.Gateway, orNone(f.GatewayState))
	default:
		out.add(true, "gateway %v is at %v (%s)", f.Gateway, f.GatewayMAC, f.GatewayState)
	}
	if f.Gateway.IsValid() {
		switch {
		case !f.SolicitFrom.IsValid():
			out.add(false, "%s has no usable global address to solicit the gateway from; the gateway cannot be pinned or kept alive", f.Iface)
		case f.GatewayNA:
			out.add(true, "the gateway answers an NS from %v (it is at %v)", f.SolicitFrom, f.GatewayNAMAC)
		default:
			out.add(false, "the gateway did not answer an NS from %v; check the uplink's address and the provider's filter", f.SolicitFrom)
		}
	}
}

// heard judges the solicitations that arrived while listening.
func (out *findings) heard(f *checkFacts) {
	if len(f.Heard) == 0 {
		out.add(false, "no solicitation for the ranges arrived in %s; if the router never asks, it may need -a to announce each address", f.ListenFor)
	}
	linkLocal := false
	for _, h := range f.Heard {
		linkLocal = linkLocal || h.Src.IsLinkLocalUnicast()
	}
	if len(f.Heard) > 0 {
		srcs := make([]string, 0, len(f.Heard))
		for _, h := range f.Heard {
			if s := h.Src.String(); !containsString(srcs, s) {
				srcs = append(srcs, s)
			}
		}
		out.add(true, "%d solicitation(s) for the ranges arrived, from %s", len(f.Heard), strings.Join(srcs, ", "))
		if linkLocal {
			out.add(true, "the router solicits from link-local: a filter on link-local replies is likely, which is what -source target (the default) gets through")
		}
	}
}

// lastAddr is the highest address of p, a sample unlikely to be one of
// the host's own (those route locally).
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As16()
	for i := p.Bits(); i < 128; i++ {
		a[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom16(a)
}

func orNone(s string) string {
	if s == "" {
		return "no entry"
	}
	return s
}

func containsString(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// printFindings writes one line per finding and says whether all are ok.
func printFindings(w io.Writer, fs []finding) bool {
	good := true
	for _, f := range fs {
		mark := "ok     "
		if !f.ok {
			mark, good = "PROBLEM", false
		}
		io.WriteString(w, mark+" "+f.text+"\n")
	}
	return good
}
