package main

import (
	"errors"
	"io"
	"os"
	"strings"
	"time"
)

func sysctlOn(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.TrimSpace(string(b)) == "1"
}

// runCheck gathers the facts of -check, prints the findings, and says
// whether nothing is wrong.
func runCheck(cfg *config, w io.Writer) bool {
	f := &checkFacts{Iface: cfg.iface, ListenFor: cfg.checkListen.String()}
	fail := func(err error) bool {
		io.WriteString(w, sprintf("PROBLEM %v\n", err))
		return false
	}
	nl, err := openRtnl()
	if err != nil {
		return fail(err)
	}
	defer nl.Close()
	l, ok, err := nl.linkByName(cfg.iface)
	f.IfaceExists, f.IfaceErr = ok, err
	if !ok && err == nil {
		f.IfaceErr = errors.New("no such interface")
	}
	if !ok {
		return printFindings(w, checkFindings(f))
	}
	f.Forwarding = sysctlOn("/proc/sys/net/ipv6/conf/all/forwarding")
	f.ProxyNDP = sysctlOn("/proc/sys/net/ipv6/conf/all/proxy_ndp") || sysctlOn("/proc/sys/net/ipv6/conf/"+cfg.iface+"/proxy_ndp")

	links, err := nl.links()
	if err != nil {
		return fail(err)
	}
	names := map[int]string{}
	for _, l := range links {
		names[l.Index] = l.Name
	}
	for _, p := range cfg.ranges {
		rr := rangeRoute{Range: p, Sample: lastAddr(p)}
		if r, err := nl.routeTo(rr.Sample); err == nil && r.Type == rtnUnicast {
			rr.Iface = names[r.OIF]
		}
		f.Routes = append(f.Routes, rr)
	}
	if routes, err := nl.routes(); err == nil {
		f.Gateway, _ = defaultGateway(routes, l.Index)
	}
	if f.Gateway.IsValid() {
		if e, ok, err := nl.neigh(l.Index, f.Gateway); err == nil && ok {
			f.GatewayState, f.GatewayMAC = nudString(e.State), e.MAC
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
