package main

import (
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"ndpresponder/internal/rtnl"
)

func sysctlOn(path string) bool {
	b, err := readFile(path, 64<<10)
	return err == nil && strings.TrimSpace(string(b)) == "1"
}

// sysctlInt reads a number from a sysctl file, or def.
func sysctlInt(path string, def int) int {
	b, err := readFile(path, 64<<10)
	if err != nil {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return def
	}
	return n
}

// runCheck gathers the facts of -check, prints the findings, and says
// whether nothing is wrong.
func runCheck(cfg *config, w io.Writer) bool {
	f := &checkFacts{Iface: cfg.iface, ListenFor: cfg.checkListen.String(), Auto: cfg.auto, AcceptRA: -1}
	fail := func(err error) bool {
		io.WriteString(w, sprintf("PROBLEM %v\n", err))
		return false
	}
	nl, err := openRtnl()
	if err != nil {
		return fail(err)
	}
	defer nl.Close()
	l, ok, err := nl.LinkByName(cfg.iface)
	f.IfaceExists, f.IfaceErr = ok, err
	if !ok && err == nil {
		f.IfaceErr = errors.New("no such interface")
	}
	if !ok {
		return printFindings(w, checkFindings(f))
	}
	checkSysctls(f, cfg)
	links, err := nl.Links()
	if err != nil {
		return fail(err)
	}
	live := newLivePublisher(nil) // the sources' sets, unscoped as before the uplink is known
	checkRoutes(f, cfg, nl, links, l.Index, live)
	if len(cfg.learn) > 0 {
		checkLearned(cfg, nl, links, live)
	}
	f.Live = len(cfg.announce)
	if l := live.current(); l != nil {
		f.Live += l.Len()
	}
	_, f.MLDOver = mldGroups(cfg, live.current())
	if f.Gateway.IsValid() {
		if e, ok, err := nl.neigh(l.Index, f.Gateway); err == nil && ok {
			f.GatewayState, f.GatewayMAC = rtnl.NUDString(e.State), e.MAC
		}
	}
	if err := checkListen(f, cfg, nl, l.Index, w); err != nil {
		return fail(err)
	}
	return printFindings(w, checkFindings(f))
}

// checkSysctls reads the kernel's settings that -check judges.
func checkSysctls(f *checkFacts, cfg *config) {
	f.Forwarding = sysctlOn("/proc/sys/net/ipv6/conf/all/forwarding")
	f.ProxyNDP = sysctlOn("/proc/sys/net/ipv6/conf/all/proxy_ndp") || sysctlOn("/proc/sys/net/ipv6/conf/"+cfg.iface+"/proxy_ndp")
	f.AcceptRA = sysctlInt("/proc/sys/net/ipv6/conf/"+cfg.iface+"/accept_ra", -1)
	// Not in a network namespace other than the first: the host's holds.
	f.GCThresh3 = sysctlInt("/proc/sys/net/ipv6/neigh/default/gc_thresh3", 0)
	f.ForwardDrop = forwardDrops()
}

// checkRoutes finds where each range is routed, the layer-3 routes into
// the ranges, the default gateway through the uplink (index) and its
// protocol, and, with -auto, what the routes make live.
func checkRoutes(f *checkFacts, cfg *config, nl *rtnlConn, links []rtnl.Link, index int, live *livePublisher) {
	names := map[int]string{}
	for _, l := range links {
		names[l.Index] = l.Name
	}
	for _, p := range cfg.ranges {
		rr := rangeRoute{Range: p, Sample: lastAddr(p)}
		if r, err := nl.RouteTo(rr.Sample); err == nil && r.Type == rtnl.RtnUnicast {
			rr.Iface = names[r.OIF]
		}
		f.Routes = append(f.Routes, rr)
	}
	msgs, err := nl.RequestAll(rtnl.AppendRouteDump)
	if err != nil {
		return
	}
	var routes []rtnl.Route
	types := linkTypes(nl)
	for _, m := range msgs {
		r, err := rtnl.ParseRoute(m.Data)
		if m.Type != rtnl.RtmNewRoute || err != nil {
			continue
		}
		routes = append(routes, r)
		if t := types[r.OIF]; (t == arphrdNone || t == arphrdPPP) && r.Table == uint32(cfg.table) && r.Dst.Bits() > 0 {
			for _, p := range cfg.ranges {
				if p.Overlaps(r.Dst) {
					f.L3Routes = append(f.L3Routes, l3Route{Range: p, Iface: names[r.OIF]})
				}
			}
		}
	}
	f.Gateway, _ = rtnl.DefaultGateway(routes, index)
	for _, m := range msgs {
		// The protocol of the default route chosen.
		if r, err := rtnl.ParseRoute(m.Data); err == nil && m.Type == rtnl.RtmNewRoute && r.Dst.Bits() == 0 && r.Table == rtnl.RtTableMain && r.OIF == index && r.Gateway == f.Gateway {
			f.GatewayProto, _ = routeProtocol(m.Data)
		}
	}
	if cfg.auto {
		t := newAutoRoutes(cfg.ranges, uint32(cfg.table))
		for _, r := range routes {
			t.apply(r, false)
		}
		hosts, routes := t.snapshot(index)
		live.setRoutes(liveAuto, hosts, routes)
	}
}

// checkLearned publishes what -learn would learn from the neighbour
// tables of its bridges now.
func checkLearned(cfg *config, nl *rtnlConn, links []rtnl.Link, live *livePublisher) {
	entries, err := nl.neighs()
	if err != nil {
		return
	}
	bridges := map[int]bool{}
	for _, lk := range links {
		bridges[lk.Index] = slices.Contains(cfg.learn, lk.Name)
	}
	ln := newLearner(cfg.ranges, int(cfg.maxPerMAC))
	for _, e := range entries {
		ln.apply(e, false, bridges)
	}
	publishSet(live, liveLearn, ln.addrs, nil)
}

// checkListen solicits the gateway and listens on the uplink (index) for
// -check-listen: for the gateway's answer and for solicitations of the
// ranges.
func checkListen(f *checkFacts, cfg *config, nl *rtnlConn, index int, w io.Writer) error {
	u, err := readUplink(nl, index)
	if err != nil {
		return err
	}
	if len(u.Global) > 0 {
		f.SolicitFrom = u.Global[0]
	}
	sock, err := openPacketSocket(index, ndFilterProgram)
	if err != nil {
		return err
	}
	defer sock.Close()
	groups, all := solicitedNodeGroups(cfg.ranges)
	if err := sock.setGroups(index, groups, all); err != nil {
		return err
	}
	if f.Gateway.IsValid() && f.SolicitFrom.IsValid() {
		if err := sock.write(appendGatewayNS(nil, u.MAC, mac{}, f.SolicitFrom, f.Gateway)); err != nil {
			return err
		}
	}
	io.WriteString(w, sprintf("listening %v for solicitations on %s...\n", cfg.checkListen, cfg.iface))
	sock.f.SetReadDeadline(time.Now().Add(cfg.checkListen))
	var (
		ns neighborSolicitation
		na neighborAdvertisement
	)
	for {
		b, err := sock.read()
		if err != nil {
			return nil
		}
		if parseNA(b, &na) == nil && na.Target == f.Gateway && na.Dst == f.SolicitFrom {
			f.GatewayNA, f.GatewayNAMAC = true, na.TargetLLA
		}
		if parseNS(b, &ns) == nil && contains(cfg.ranges, ns.Target) && !ns.Src.IsUnspecified() && len(f.Heard) < 1000 {
			f.Heard = append(f.Heard, heardNS{Src: ns.Src, Target: ns.Target})
		}
	}
}

// linkTypes reads each interface's ARPHRD type.
func linkTypes(nl *rtnlConn) map[int]uint16 {
	types := map[int]uint16{}
	msgs, err := nl.RequestAll(rtnl.LinkDump)
	if err != nil {
		return types
	}
	for _, m := range msgs {
		if i, t, ok := linkType(m.Data); ok && m.Type == rtnl.RtmNewLink {
			types[i] = t
		}
	}
	return types
}
