package main

// The live addresses: what -learn, -N and -auto say is alive behind the
// VPS. Each source hands its whole set to one publisher, which owns the
// union and hands snapshots on: to the responder, which answers for them,
// to the gateway keeper, which announces the new ones, and to the MLD
// memberships, which join their solicited-node groups.

import (
	"net/netip"
	"sync"
	"time"
)

// Where live addresses come from.
const (
	liveLearn = iota
	liveDocker
	liveAuto
	numLiveSources
)

// liveAddrs is a snapshot of the addresses known alive behind the VPS;
// it is never changed once published.
type liveAddrs struct {
	m map[netip.Addr]struct{}
	// routes are -auto's routes other than live host routes, the most
	// specific first: the first that holds an address says whether it is
	// live, unless m names it.
	routes []liveRoute
}

// liveRoute is a route -auto follows: the addresses it holds are live
// when it leaves by another interface than the uplink.
type liveRoute struct {
	dst  netip.Prefix
	live bool
}

func (l *liveAddrs) has(a netip.Addr) bool {
	if _, ok := l.m[a]; ok {
		return true
	}
	for i := range l.routes {
		if l.routes[i].dst.Contains(a) {
			return l.routes[i].live
		}
	}
	return false
}

// mailbox hands the latest of a series of values from any number of
// writers to one reader; a value not yet taken is replaced by a newer
// one, and put never blocks.
type mailbox[T any] struct {
	mu sync.Mutex
	c  chan T
}

func newMailbox[T any]() *mailbox[T] { return &mailbox[T]{c: make(chan T, 1)} }

func (m *mailbox[T]) put(v T) {
	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case <-m.c:
	default:
	}
	m.c <- v
}

// Who follows the live addresses besides the responder.
const (
	followKeeper = iota // the gateway keeper, which announces
	followMLD           // the MLD memberships
	numFollowers
)

// livePublisher owns the live addresses.
type livePublisher struct {
	mu      sync.Mutex
	sources [numLiveSources]map[netip.Addr]struct{}
	routes  []liveRoute // -auto's
	cur     *liveAddrs
	r       *responder                         // answers for the current snapshot
	out     [numFollowers]*mailbox[*liveAddrs] // to the followers of the moment
}

func newLivePublisher(r *responder) *livePublisher {
	p := &livePublisher{r: r}
	for i := range p.out {
		p.out[i] = newMailbox[*liveAddrs]()
	}
	return p
}

// set replaces what one source says is alive (nil: nothing, as when the
// source stops) and publishes the union.
func (p *livePublisher) set(source int, addrs map[netip.Addr]struct{}) {
	p.setRoutes(source, addrs, nil)
}

// setRoutes is set with -auto's routes, which only liveAuto has.
func (p *livePublisher) setRoutes(source int, addrs map[netip.Addr]struct{}, routes []liveRoute) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sources[source] = addrs
	if source == liveAuto {
		p.routes = routes
	}
	p.cur = &liveAddrs{m: union(p.sources[:]), routes: p.routes}
	p.r.live.Store(p.cur)
	for _, o := range p.out {
		o.put(p.cur)
	}
}

// union is the addresses of all the sets. The sources hand over a new map
// at each change and never write to it again, so the one non-empty set of
// a host with one source (the usual case) is shared, not copied: a copy at
// every container start and stop was garbage that waited for the
// collector, growing the daemon's memory.
func union(sets []map[netip.Addr]struct{}) map[netip.Addr]struct{} {
	var only map[netip.Addr]struct{}
	n := 0
	for _, s := range sets {
		if len(s) > 0 {
			only = s
			n++
		}
	}
	if n <= 1 {
		return only
	}
	all := make(map[netip.Addr]struct{})
	for _, s := range sets {
		for a := range s {
			all[a] = struct{}{}
		}
	}
	return all
}

// follow returns the channel a follower reads snapshots from, with the
// current one waiting in it, so that a follower started later begins from
// what is alive now.
func (p *livePublisher) follow(f int) <-chan *liveAddrs {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != nil {
		p.out[f].put(p.cur)
	}
	return p.out[f].c
}

// throttle spaces a source's snapshots: publish runs at most once in
// publishEvery, so that a storm of events does not make a snapshot of the
// live set for each one; a kick that comes sooner is put off to the end of
// the interval, where one run stands for all. A kick with now runs at
// once: a change that must not wait. Callers hold mu, which the put-off
// run takes too; after stop, nothing more runs, so that a watcher that
// ended publishes nothing after the daemon took its addresses away.
type throttle struct {
	mu      *sync.Mutex
	publish func()
	last    time.Time
	pending bool
	stopped bool
	timer   *time.Timer // the put-off run, made once and reset after
}

func (t *throttle) kick(now bool) {
	wait := publishEvery - time.Since(t.last)
	switch {
	case now || wait <= 0:
		t.last = time.Now()
		t.publish()
	case !t.pending:
		t.pending = true
		if t.timer == nil {
			t.timer = time.AfterFunc(wait, t.putOff)
		} else {
			t.timer.Reset(wait)
		}
	}
}

func (t *throttle) putOff() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending = false
	if !t.stopped {
		t.last = time.Now()
		t.publish()
	}
}

// stop ends the throttle; the caller holds mu.
func (t *throttle) stop() { t.stopped = true }
