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
	f.Forwarding = sysctlOn("/proc/sys/net/ipv6/conf/all/forwarding")
	f.ProxyNDP = sysctlOn("/proc/sys/net/ipv6/conf/all/proxy_ndp") || sysctlOn("/proc/sys/net/ipv6/conf/"+cfg.iface+"/proxy_ndp")
	f.AcceptRA = sysctlInt("/proc/sys/net/ipv6/conf/"+cfg.iface+"/accept_ra", -1)
	// Not in a network namespace other than the first: the host's holds.
	f.GCThresh3 = sysctlInt("/proc/sys/net/ipv6/neigh/default/gc_thresh3", 0)
	f.ForwardDrop = forwardDrops()

	links, err := nl.Links()
	if err != nil {
		return fail(err)
	}
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
	live := newLivePublisher(nil) // the sources' sets, unscoped as before the uplink is known
	if msgs, err := nl.RequestAll(rtnl.AppendRouteDump); err == nil {
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
		f.Gateway, _ = rtnl.DefaultGateway(routes, l.Index)
		for _, m := range msgs {
			// The protocol of the default route chosen.
			if r, err := rtnl.ParseRoute(m.Data); err == nil && m.Type == rtnl.RtmNewRoute && r.Dst.Bits() == 0 && r.Table == rtnl.RtTableMain && r.OIF == l.Index && r.Gateway == f.Gateway {
				f.GatewayProto, _ = routeProtocol(m.Data)
			}
		}
		if cfg.auto {
			t := newAutoRoutes(cfg.ranges, uint32(cfg.table))
			for _, r := range routes {
				t.apply(r, false)
			}
			hosts, routes := t.snapshot(l.Index)
			live.setRoutes(liveAuto, hosts, routes)
		}
	}
	if len(cfg.learn) > 0 {
		if entries, err := nl.neighs(); err == nil {
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

	u, err := readUplink(nl, l.Index)
	if err != nil {
		return fail(err)
	}
	if len(u.Global) > 0 {
		f.SolicitFrom = u.Global[0]
	}
	sock, err := openPacketSocket(l.Index, ndFilterProgram)
	if err != nil {
		return fail(err)
	}
	defer sock.Close()
	groups, all := solicitedNodeGroups(cfg.ranges)
	if err := sock.setGroups(l.Index, groups, all); err != nil {
		return fail(err)
	}
	if f.Gateway.IsValid() && f.SolicitFrom.IsValid() {
		if err := sock.write(appendGatewayNS(nil, u.MAC, mac{}, f.SolicitFrom, f.Gateway)); err != nil {
			return fail(err)
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
			break
		}
		if parseNA(b, &na) == nil && na.Target == f.Gateway && na.Dst == f.SolicitFrom {
			f.GatewayNA, f.GatewayNAMAC = true, na.TargetLLA
		}
		if parseNS(b, &ns) == nil && contains(cfg.ranges, ns.Target) && !ns.Src.IsUnspecified() && len(f.Heard) < 1000 {
			f.Heard = append(f.Heard, heardNS{Src: ns.Src, Target: ns.Target})
		}
	}
	return printFindings(w, checkFindings(f))
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
