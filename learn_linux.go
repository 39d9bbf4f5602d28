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
	ev, nl, closeWatch, err := openWatch(sc, unix.RTMGRP_NEIGH|unix.RTMGRP_LINK)
	if err != nil {
		return err
	}
	defer closeWatch()
	w := &learnWatch{rtnlWatch: rtnlWatch{d: d, cfg: cfg, nl: nl, up: up}}
	w.start(w.publish, w.resync)
	defer w.stop()
	stopProbing, err := w.startProbing(sc)
	if err != nil {
		return err
	}
	defer stopProbing()
	// One callback for every batch of events: a closure made in the loop
	// would be garbage at each batch (half a kilobyte a container).
	apply := w.apply
	for {
		w.changed, w.again = false, false
		w.woke = w.woke[:0]
		overrun, err := ev.Next(apply)
		if err != nil {
			return watchEnded(sc, "following neighbours", err)
		}
		w.afterBatch(overrun)
	}
}

// learnWatch is what learn keeps between batches of events.
type learnWatch struct {
	rtnlWatch

	// Under mu: l, bridges, probed: the throttle's timer and the prober
	// share them.
	l       *learner
	bridges map[int]bool
	counted uint64 // of this learner's held-back entries
	warned  [2]bool
	probed  pendingProbes
	ns      [maxProbeFrame]byte // a probed target's solicitation, answered late

	// What the batch of events being read changed.
	changed, again bool
	woke           []netip.Addr // probed targets that came alive
}

// publish hands the learned addresses to the publisher; the caller holds
// mu.
func (w *learnWatch) publish() {
	l := w.l
	publishSet(w.d.live, liveLearn, l.addrs, nil) // copied before it returns
	w.d.c.learned.Store(uint64(len(l.addrs)))
	if held := l.dropped + l.overMAC; held > w.counted {
		w.d.c.learnHeldBack.Add(held - w.counted)
		w.counted = held
	}
	// Said once; the counter tells the rest.
	if l.dropped > 0 && !w.warned[0] {
		warnf("learn: %d live addresses, the most kept; more are not answered (counted as learn-held-back)", maxLearned)
		w.warned[0] = true
	}
	if l.overMAC > 0 && !w.warned[1] {
		warnf("learn: more than %d addresses behind one MAC; the rest are not answered or announced (-max-per-mac; counted as learn-held-back)", w.cfg.maxPerMAC)
		w.warned[1] = true
	}
}

// resync reads the bridges and their neighbours anew and publishes; the
// caller holds mu.
func (w *learnWatch) resync() {
	links, err := w.nl.Links()
	if err != nil {
		warnf("learn: %v", err)
		return
	}
	w.bridges = map[int]bool{}
	for _, lk := range links {
		if slices.Contains(w.cfg.learn, lk.Name) {
			w.bridges[lk.Index] = true
		}
	}
	entries, err := w.nl.neighs()
	if err != nil {
		warnf("learn: %v", err)
		return
	}
	if w.l == nil {
		w.l = newLearner(w.cfg.ranges, int(w.cfg.maxPerMAC))
	} else {
		w.l.reset() // its maps kept: an overrun makes less garbage
	}
	w.counted = 0
	for _, e := range entries {
		w.l.apply(e, false, w.bridges)
	}
	if w.up() {
		infof("learn: following the neighbours of %v again", w.cfg.learn)
	}
	w.publish()
}

// startProbing probes the bridges for the targets the packet loop hands
// over until the returned stop is called or sc ends.
func (w *learnWatch) startProbing(sc *scope.Scope) (stop func(), err error) {
	prober, err := openNeighProber()
	if err != nil {
		return nil, err
	}
	probing := make(chan struct{})
	psc := sc.Sub()
	go func() {
		defer close(probing)
		w.d.probeBridges(psc, prober, func(req *probeRequest, probe func(ifindex int)) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.probed.add(req, time.Now())
			for b := range w.bridges {
				probe(b)
			}
		})
	}()
	return func() {
		psc.End()
		<-probing
		prober.Close()
	}, nil
}

// apply takes one event into the learner.
func (w *learnWatch) apply(m rtnl.Msg) {
	switch m.Type {
	case rtnl.RtmNewNeigh, rtnl.RtmDelNeigh:
		if e, err := rtnl.ParseNeigh(m.Data); err == nil {
			w.mu.Lock()
			if w.l == nil {
				w.again = true // the last dump failed: dump again
			} else {
				w.changed = w.l.apply(e, m.Type == rtnl.RtmDelNeigh, w.bridges) || w.changed
				if _, live := w.l.addrs[e.Addr]; live && w.probed.has(e.Addr) {
					w.woke = append(w.woke, e.Addr)
				}
			}
			w.mu.Unlock()
		}
	case rtnl.RtmNewLink, rtnl.RtmDelLink:
		// A bridge that appears (or is renamed to a -learn name) may
		// hold entries already: dump. One that goes takes its addresses
		// along.
		index, name, ok := linkName(m.Data)
		if !ok {
			break
		}
		w.mu.Lock()
		learned := slices.ContainsFunc(w.cfg.learn, func(s string) bool { return s == string(name) })
		switch {
		case m.Type == rtnl.RtmNewLink && learned && !w.bridges[index]:
			w.again = true
		case w.bridges[index] && (m.Type == rtnl.RtmDelLink || !learned):
			delete(w.bridges, index)
			if w.l != nil && w.l.dropLink(index) {
				w.changed = true
			}
		}
		w.mu.Unlock()
	}
}

// afterBatch acts on what a batch of events changed.
func (w *learnWatch) afterBatch(overrun bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case overrun || w.again:
		w.resync()
	case len(w.woke) > 0:
		// A probed target is alive: publish at once, and answer the
		// solicitation that asked for it.
		w.th.kick(true)
		for _, a := range w.woke {
			if n, ok := w.probed.take(a, time.Now(), &w.ns); ok {
				w.d.answerLate(w.ns[:n])
			}
		}
	case w.changed:
		w.th.kick(false)
	}
}

// watchEvents is what a watcher reads rtnetlink events from: the kernel's
// socket, which a test wraps to make it fail.
type watchEvents interface {
	Next(f func(rtnl.Msg)) (overrun bool, err error)
	Close() error
}

// rtnlWatch is what the -learn and -auto watchers share: the daemon they
// publish through, their configuration, the connection for dumps, the
// supervisor's up, and the throttle of their publications, whose timer
// takes mu as the event loop does.
type rtnlWatch struct {
	d   *daemon
	cfg *config
	nl  *rtnlConn
	up  func() bool
	th  *throttle
	mu  sync.Mutex
}

// start sets the throttle to publish and makes the first dump, under mu.
func (w *rtnlWatch) start(publish, resync func()) {
	w.th = &throttle{mu: &w.mu, publish: publish}
	w.mu.Lock()
	resync()
	w.mu.Unlock()
}

// stop ends the throttle: nothing is published once the watcher returns.
func (w *rtnlWatch) stop() {
	w.mu.Lock()
	w.th.stop()
	w.mu.Unlock()
}

// openWatch opens what a watcher of rtnetlink reads: the events of
// groups, closed when sc ends so that a wait for them ends too, and a
// connection for the dumps. closeWatch releases both.
func openWatch(sc *scope.Scope, groups uint32) (ev watchEvents, nl *rtnlConn, closeWatch func(), err error) {
	if ev, err = openWatchEvents(groups); err != nil {
		return nil, nil, nil, err
	}
	stop := sc.OnEnd(func() { ev.Close() })
	if nl, err = openRtnl(); err != nil {
		stop()
		ev.Close()
		return nil, nil, nil, err
	}
	return ev, nl, func() {
		nl.Close()
		stop()
		ev.Close()
	}, nil
}

// watchEnded is what a watcher returns once reading its events failed
// with err: nothing when sc ended, which closed them, else the error.
func watchEnded(sc *scope.Scope, what string, err error) error {
	if sc.Ended() {
		return nil
	}
	return errf("%s: %w", what, err)
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
