package main

import (
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
	ev, nl, closeWatch, err := openWatch(sc, unix.RTMGRP_IPV6_ROUTE|unix.RTMGRP_LINK)
	if err != nil {
		return err
	}
	defer closeWatch()
	w := &autoWatch{rtnlWatch: rtnlWatch{d: d, cfg: cfg, nl: nl, up: up}}
	w.start(w.publish, w.resync)
	defer w.stop()
	// One callback for every batch of events, so that waiting makes no
	// garbage.
	apply := w.apply
	for {
		w.changed, w.gone, w.again = false, false, false
		overrun, err := ev.Next(apply)
		if err != nil {
			return watchEnded(sc, "following routes", err)
		}
		w.mu.Lock()
		switch {
		case overrun || w.again:
			w.resync()
		case w.changed:
			w.th.kick(w.gone)
		}
		w.mu.Unlock()
	}
}

// autoWatch is what auto keeps between batches of events.
type autoWatch struct {
	rtnlWatch

	// Under mu: the throttle's timer reads them.
	t      *autoRoutes
	uplink int
	warned bool // that routes were dropped

	// What the batch of events being read changed.
	changed, gone, again bool
}

// publish hands what the routes make live to the publisher; the caller
// holds mu.
func (w *autoWatch) publish() {
	hosts, routes := w.t.snapshot(w.uplink)
	w.d.live.setRoutes(liveAuto, hosts, routes)
	w.d.c.auto.Store(uint64(len(hosts)))
	if w.t.dropped > 0 && !w.warned {
		warnf("auto: more than %d routes in the ranges, or %d other than host routes; the rest are not followed", maxAutoRoutes, maxAutoPrefixes)
		w.warned = true
	}
}

// resync reads the links and the routes anew and publishes; the caller
// holds mu.
func (w *autoWatch) resync() {
	links, err := w.nl.Links()
	if err != nil {
		warnf("auto: %v", err)
		return
	}
	w.uplink = 0
	for _, l := range links {
		if l.Name == w.cfg.iface {
			w.uplink = l.Index
		}
	}
	routes, err := w.nl.Routes()
	if err != nil {
		warnf("auto: %v", err)
		return
	}
	w.t = newAutoRoutes(w.cfg.ranges, uint32(w.cfg.table))
	for _, r := range routes {
		w.t.apply(r, false)
	}
	if w.up() {
		infof("auto: following the routes of table %d again", w.cfg.table)
	}
	w.publish()
}

// apply takes one event into the routes.
func (w *autoWatch) apply(m rtnl.Msg) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.t == nil {
		w.again = true // the last dump failed: dump again
		return
	}
	switch m.Type {
	case rtnl.RtmNewRoute, rtmDelRoute:
		// A route of another family is refused by parseRoute.
		if r, err := rtnl.ParseRoute(m.Data); err == nil && w.t.apply(r, m.Type == rtmDelRoute) {
			w.changed = true
			w.gone = w.gone || m.Type == rtmDelRoute
		}
	case rtnl.RtmNewLink:
		if l, err := rtnl.ParseLink(m.Data); err == nil && l.Name == w.cfg.iface && l.Index != w.uplink {
			w.uplink, w.changed = l.Index, true
		}
	case rtnl.RtmDelLink:
		if l, err := rtnl.ParseLink(m.Data); err == nil {
			if l.Index == w.uplink {
				w.uplink, w.changed = 0, true
			}
			if w.t.dropLink(l.Index) {
				w.changed, w.gone = true, true
			}
		}
	}
}
