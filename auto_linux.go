package main

import (
	"sync"

	"ndpresponder/internal/rtnl"
	"ndpresponder/internal/scope"

	"golang.org/x/sys/unix"
)

// auto follows the kernel's IPv6 routes of cfg's table until sc ends: a
// dump at start and after lost events, then RTM_NEWROUTE and RTM_DELROUTE
// events, and the uplink's ifindex from link events. Each change of what
// the routes make live is published; a route that goes stops being
// answered at once, a new one within publishEvery. It returns when sc
// ends, or with the error that made it fail; up is called before each dump
// is published (see superviseWatcher).
func (d *daemon) auto(sc *scope.Scope, cfg *config, up func() bool) error {
	ev, err := openWatchEvents(unix.RTMGRP_IPV6_ROUTE | unix.RTMGRP_LINK)
	if err != nil {
		return err
	}
	defer ev.Close()
	stop := sc.OnEnd(func() { ev.Close() })
	defer stop()
	nl, err := openRtnl()
	if err != nil {
		return err
	}
	defer nl.Close()

	var (
		mu     sync.Mutex // t and uplink: the throttle's timer reads them
		t      *autoRoutes
		uplink int
		warned bool // that routes were dropped
	)
	publish := func() {
		hosts, routes := t.snapshot(uplink)
		d.live.setRoutes(liveAuto, hosts, routes)
		d.c.auto.Store(uint64(len(hosts)))
		if t.dropped > 0 && !warned {
			warnf("auto: more than %d routes in the ranges, or %d other than host routes; the rest are not followed", maxAutoRoutes, maxAutoPrefixes)
			warned = true
		}
	}
	resync := func() {
		links, err := nl.Links()
		if err != nil {
			warnf("auto: %v", err)
			return
		}
		uplink = 0
		for _, l := range links {
			if l.Name == cfg.iface {
				uplink = l.Index
			}
		}
		routes, err := nl.Routes()
		if err != nil {
			warnf("auto: %v", err)
			return
		}
		t = newAutoRoutes(cfg.ranges, uint32(cfg.table))
		for _, r := range routes {
			t.apply(r, false)
		}
		if up() {
			infof("auto: following the routes of table %d again", cfg.table)
		}
		publish()
	}
	th := &throttle{mu: &mu, publish: publish}
	defer func() {
		mu.Lock()
		th.stop()
		mu.Unlock()
	}()
	mu.Lock()
	resync()
	mu.Unlock()
	// One callback for every batch of events, so that waiting makes no
	// garbage.
	var changed, gone, again bool
	apply := func(m rtnl.Msg) {
		mu.Lock()
		defer mu.Unlock()
		if t == nil {
			again = true // the last dump failed: dump again
			return
		}
		switch m.Type {
		case rtnl.RtmNewRoute, rtmDelRoute:
			// A route of another family is refused by parseRoute.
			if r, err := rtnl.ParseRoute(m.Data); err == nil && t.apply(r, m.Type == rtmDelRoute) {
				changed = true
				gone = gone || m.Type == rtmDelRoute
			}
		case rtnl.RtmNewLink:
			if l, err := rtnl.ParseLink(m.Data); err == nil && l.Name == cfg.iface && l.Index != uplink {
				uplink, changed = l.Index, true
			}
		case rtnl.RtmDelLink:
			if l, err := rtnl.ParseLink(m.Data); err == nil {
				if l.Index == uplink {
					uplink, changed = 0, true
				}
				if t.dropLink(l.Index) {
					changed, gone = true, true
				}
			}
		}
	}
	for {
		changed, gone, again = false, false, false
		overrun, err := ev.Next(apply)
		if err != nil {
			if sc.Ended() {
				return nil
			}
			return errf("following routes: %w", err)
		}
		mu.Lock()
		switch {
		case overrun || again:
			resync()
		case changed:
			th.kick(gone)
		}
		mu.Unlock()
	}
}
