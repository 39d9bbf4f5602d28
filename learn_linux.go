package main

import (
	"net/netip"
	"slices"
	"sync"
	"time"

	"ndpresponder/internal/rtnl"
	"ndpresponder/internal/scope"

	"golang.org/x/sys/unix"
)

// learn follows the kernel's neighbour tables of cfg's -learn bridges
// until sc ends: a dump at start, after lost events and when a bridge
// appears, then RTM_NEWNEIGH and RTM_DELNEIGH events, and RTM_DELLINK for
// a bridge that goes. Each change of the live addresses is published.
// Meanwhile it probes the bridges for the targets the packet loop hands
// over (probe.go), and answers a probed target's solicitation as soon as
// its entry comes alive. It returns when sc ends, or with the error that
// made it fail; up is called before each dump is published (see
// superviseWatcher).
func (d *daemon) learn(sc *scope.Scope, cfg *config, up func() bool) error {
	ev, err := openWatchEvents(unix.RTMGRP_NEIGH | unix.RTMGRP_LINK)
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
		mu      sync.Mutex // l, bridges, probed: the throttle's timer and the prober share them
		l       *learner
		bridges map[int]bool
		counted uint64 // of this learner's held-back entries
		warned  [2]bool
		probed  pendingProbes
		woke    []netip.Addr // probed targets that came alive
	)
	publish := func() {
		publishSet(d.live, liveLearn, l.addrs, nil) // copied before it returns
		d.c.learned.Store(uint64(len(l.addrs)))
		if held := l.dropped + l.overMAC; held > counted {
			d.c.learnHeldBack.Add(held - counted)
			counted = held
		}
		// Said once; the counter tells the rest.
		if l.dropped > 0 && !warned[0] {
			warnf("learn: %d live addresses, the most kept; more are not answered (counted as learn-held-back)", maxLearned)
			warned[0] = true
		}
		if l.overMAC > 0 && !warned[1] {
			warnf("learn: more than %d addresses behind one MAC; the rest are not answered or announced (-max-per-mac; counted as learn-held-back)", cfg.maxPerMAC)
			warned[1] = true
		}
	}
	resync := func() {
		links, err := nl.Links()
		if err != nil {
			warnf("learn: %v", err)
			return
		}
		bridges = map[int]bool{}
		for _, lk := range links {
			for _, name := range cfg.learn {
				if lk.Name == name {
					bridges[lk.Index] = true
				}
			}
		}
		entries, err := nl.neighs()
		if err != nil {
			warnf("learn: %v", err)
			return
		}
		if l == nil {
			l = newLearner(cfg.ranges, int(cfg.maxPerMAC))
		} else {
			l.reset() // its maps kept: an overrun makes less garbage
		}
		counted = 0
		for _, e := range entries {
			l.apply(e, false, bridges)
		}
		if up() {
			infof("learn: following the neighbours of %v again", cfg.learn)
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
	prober, err := openNeighProber()
	if err != nil {
		return err
	}
	defer prober.Close()
	probing := make(chan struct{})
	psc := sc.Sub()
	go func() {
		defer close(probing)
		d.probeBridges(psc, prober, func(req *probeRequest, probe func(ifindex int)) {
			mu.Lock()
			defer mu.Unlock()
			probed.add(req, time.Now())
			for b := range bridges {
				probe(b)
			}
		})
	}()
	defer func() {
		psc.End()
		<-probing
	}()
	var ns [maxProbeFrame]byte
	// One callback for every batch of events: a closure made in the loop
	// would be garbage at each batch (half a kilobyte a container).
	var changed, again bool
	apply := func(m rtnl.Msg) {
		switch m.Type {
		case rtnl.RtmNewNeigh, rtnl.RtmDelNeigh:
			if e, err := rtnl.ParseNeigh(m.Data); err == nil {
				mu.Lock()
				if l == nil {
					again = true // the last dump failed: dump again
				} else {
					changed = l.apply(e, m.Type == rtnl.RtmDelNeigh, bridges) || changed
					if _, live := l.addrs[e.Addr]; live && probed.has(e.Addr) {
						woke = append(woke, e.Addr)
					}
				}
				mu.Unlock()
			}
		case rtnl.RtmNewLink, rtnl.RtmDelLink:
			// A bridge that appears (or is renamed to a -learn
			// name) may hold entries already: dump. One that goes
			// takes its addresses along.
			index, name, ok := linkName(m.Data)
			if !ok {
				break
			}
			mu.Lock()
			learned := slices.ContainsFunc(cfg.learn, func(s string) bool { return s == string(name) })
			switch {
			case m.Type == rtnl.RtmNewLink && learned && !bridges[index]:
				again = true
			case bridges[index] && (m.Type == rtnl.RtmDelLink || !learned):
				delete(bridges, index)
				if l != nil && l.dropLink(index) {
					changed = true
				}
			}
			mu.Unlock()
		}
	}
	for {
		changed, again = false, false
		woke = woke[:0]
		overrun, err := ev.Next(apply)
		if err != nil {
			if sc.Ended() {
				return nil
			}
			return errf("following neighbours: %w", err)
		}
		switch {
		case overrun || again:
			mu.Lock()
			resync()
			mu.Unlock()
		case len(woke) > 0:
			// A probed target is alive: publish at once, and answer the
			// solicitation that asked for it.
			mu.Lock()
			th.kick(true)
			for _, a := range woke {
				if n, ok := probed.take(a, time.Now(), &ns); ok {
					d.answerLate(ns[:n])
				}
			}
			mu.Unlock()
		case changed:
			mu.Lock()
			th.kick(false)
			mu.Unlock()
		}
	}
}

// watchEvents is what a watcher reads rtnetlink events from: the kernel's
// socket, which a test wraps to make it fail.
type watchEvents interface {
	Next(f func(rtnl.Msg)) (overrun bool, err error)
	Close() error
}

// openWatchEvents subscribes a watcher to rtnetlink groups.
var openWatchEvents = func(groups uint32) (watchEvents, error) {
	e, err := rtnl.OpenEvents(groups)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// probeBridges asks the kernel to resolve each target the packet loop
// hands over on each -learn bridge (keep keeps the request and calls its
// probe for each), until sc ends. It allocates nothing: a scan goes on
// for as long as it likes.
func (d *daemon) probeBridges(sc *scope.Scope, p *neighProber, keep func(req *probeRequest, probe func(ifindex int))) {
	var (
		req    probeRequest
		failed = logLimiter{perSecond: 1, burst: 1}
	)
	probe := func(ifindex int) {
		if err := p.probe(ifindex, req.target); err != nil {
			d.probeFailed(&failed, err)
			return
		}
		d.c.probed.Add(1)
	}
	for {
		select {
		case <-sc.Done():
			return
		case req = <-d.r.probes:
		}
		keep(&req, probe)
		if err := p.refused(); err != nil {
			d.probeFailed(&failed, err)
		}
		if logEnabled(levelDebug) {
			debugf("probe: resolving %v on the -learn bridges", req.target)
		}
	}
}

// probeFailed says, rate-limited, that the kernel refused a probe.
func (d *daemon) probeFailed(l *logLimiter, err error) {
	if ok, _ := l.allow(time.Now()); ok {
		warnf("probe: asking the kernel to resolve a target: %v", err)
	}
}

// answerLate sends the NA for a solicitation kept while its target was
// probed, through the uplink's packet socket of the moment.
func (d *daemon) answerLate(frame []byte) {
	s := d.sock.Load()
	if s == nil {
		return
	}
	if why := d.r.answerLate(frame, &d.late.ns, &d.late.na); why != reasonNone {
		if logEnabled(levelDebug) {
			debugf("probe: %v came alive; its solicitation is not answered: %v", d.late.ns.Target, why)
		}
		return
	}
	if !d.c.sent("probe", s.write(d.late.na[:])) {
		return
	}
	d.c.answered.Add(1)
	if logEnabled(levelDebug) {
		debugf("probe: %v came alive; answered %v", d.late.ns.Target, d.late.ns.Src)
	}
}
