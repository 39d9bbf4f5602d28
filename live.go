package main

// The live addresses: what -learn, -N and -auto say is alive behind the
// VPS. Each source hands its whole set to one publisher, which keeps the
// union, changed in place, and tells its followers that it changed: the
// responder answers for it, the gateway keeper announces the new
// addresses, and the MLD memberships join their solicited-node groups.

import (
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Where live addresses come from.
const (
	liveLearn = iota
	liveDocker
	liveAuto
	numLiveSources
)

// liveAddrs is the addresses known alive behind the VPS. The publisher's
// one is changed in place, under mu, and only by the publisher; everyone
// else reads it through Has, Len, Range and RangeLivePrefixes, which hold
// mu for reading, and briefly: a writer waiting for it holds up the packet
// loop's Has too. A new set at each change was garbage that waited for the
// collector: the size of the set, at every container start and stop.
type liveAddrs struct {
	mu sync.RWMutex
	// m holds each live address with the sources that say so, a bit for
	// each (1<<liveLearn, ...): the union and what each source said in
	// one map, instead of a copy for each source and another for the
	// union. Readers need only its keys.
	m map[netip.Addr]uint8
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

// Has reports whether a is live: named by a source, or inside a live
// route of -auto's.
func (l *liveAddrs) Has(a netip.Addr) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
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

// Len is how many addresses the sources name.
func (l *liveAddrs) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.m)
}

// Range calls yield with each address a source names, in no order, until
// yield returns false. The set is held for reading meanwhile, so yield
// must be short and must not call l's methods: a writer waiting in between
// would deadlock them. Its callers call it with a func literal: ranging
// over it (`for a := range l.Range`) cost a kilobyte of binary more.
func (l *liveAddrs) Range(yield func(netip.Addr) bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for a := range l.m {
		if !yield(a) {
			return
		}
	}
}

// RangeLivePrefixes is Range for the prefixes of -auto's live routes.
func (l *liveAddrs) RangeLivePrefixes(yield func(netip.Prefix) bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, r := range l.routes {
		if r.live && !yield(r.dst) {
			return
		}
	}
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
	mu   sync.Mutex                         // one change at a time
	live liveAddrs                          // what the sources said, inside the scope; m is nil until the first publication
	r    *responder                         // answers for live
	out  [numFollowers]*mailbox[*liveAddrs] // to the followers of the moment

	// The scope: with -n, the ranges; without, the uplink's on-link
	// prefixes. What a source says outside it is held, not published:
	// without -n, an engine's network with a neighbour's prefix must not
	// make the VPS claim the neighbour's addresses. Until setRanges, all
	// is published.
	scoped  bool
	ranges  []netip.Prefix
	onLink  []netip.Prefix
	held    map[netip.Addr]uint8 // what the sources said outside the scope, as in live.m
	refused *atomic.Uint64       // counts the addresses held, each once as it comes; may be nil
	warned  bool                 // said that addresses are held
}

// inScope says whether a may be published.
func (p *livePublisher) inScope(a netip.Addr) bool {
	switch {
	case !p.scoped:
		return true
	case len(p.ranges) > 0:
		return contains(p.ranges, a)
	}
	return contains(p.onLink, a)
}

// setRanges sets the scope's ranges (-n; none: the on-link prefixes
// bound it), and setOnLink the uplink's on-link prefixes. What the sources
// said is sorted again, published or held.
func (p *livePublisher) setRanges(ranges []netip.Prefix) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.scoped && slices.Equal(p.ranges, ranges) {
		return
	}
	p.scoped, p.ranges = true, ranges
	p.rescope()
}

func (p *livePublisher) setOnLink(onLink []netip.Prefix) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if slices.Equal(p.onLink, onLink) {
		return
	}
	p.onLink = slices.Clone(onLink)
	p.rescope()
}

// rescope moves what the sources said between live.m and held as the
// scope says, and publishes if anything moved; the caller holds mu.
func (p *livePublisher) rescope() {
	if p.live.m == nil {
		return
	}
	moved := false
	p.live.mu.Lock()
	for a, said := range p.live.m {
		if !p.inScope(a) {
			delete(p.live.m, a)
			p.hold(a, said)
			moved = true
		}
	}
	for a, said := range p.held {
		if p.inScope(a) {
			delete(p.held, a)
			p.live.m[a] = said
			moved = true
		}
	}
	p.live.mu.Unlock()
	if moved {
		p.publish()
	}
}

// hold keeps what the sources said of a outside the scope, and says so
// once.
func (p *livePublisher) hold(a netip.Addr, said uint8) {
	if p.held == nil {
		p.held = map[netip.Addr]uint8{}
	}
	if _, ok := p.held[a]; !ok && p.refused != nil {
		p.refused.Add(1)
	}
	p.held[a] |= said
	if !p.warned {
		p.warned = true
		if len(p.ranges) > 0 {
			warnf("live: %v is outside the ranges %v; not answering or announcing such addresses (counted as live-out-of-scope)", a, p.ranges)
		} else {
			warnf("live: %v is outside the uplink's on-link prefixes %v; without -n, not answering or announcing such addresses (counted as live-out-of-scope)", a, p.onLink)
		}
	}
}

// sweepHeld takes the source's bit off what is held before its new set is
// sorted (done false), and then forgets what no source says (done true):
// an address held before and after is not counted again. It is apart from
// publishSet so that each of publishSet's instances does not carry it.
func (p *livePublisher) sweepHeld(bit uint8, done bool) {
	for a, said := range p.held {
		switch {
		case !done:
			p.held[a] = said &^ bit
		case said == 0:
			delete(p.held, a)
		}
	}
}

// publish hands the live set to the responder and the followers; the
// caller holds mu.
func (p *livePublisher) publish() {
	if p.r != nil {
		p.r.live.Store(&p.live)
	}
	for _, o := range p.out {
		o.put(&p.live)
	}
}

// newLivePublisher makes the publisher that tells r (nil: no responder,
// as for -check) and the followers.
func newLivePublisher(r *responder) *livePublisher {
	p := &livePublisher{r: r}
	for i := range p.out {
		p.out[i] = newMailbox[*liveAddrs]()
	}
	return p
}

// set replaces what one source says is alive (nil: nothing, as when the
// source stops) and publishes the union. addrs is read during the call
// only: it is copied, so a source may hand the set it keeps changing.
func (p *livePublisher) set(source int, addrs map[netip.Addr]struct{}) {
	p.setRoutes(source, addrs, nil)
}

// setRoutes is set with -auto's routes, which only liveAuto has.
func (p *livePublisher) setRoutes(source int, addrs map[netip.Addr]struct{}, routes []liveRoute) {
	publishSet(p, source, addrs, routes)
}

// publishSet is setRoutes for a source that keeps more than the addresses
// (the learner keeps where each was seen): only the keys are read. The set
// is changed in place: once it has grown, a container's start or stop
// makes no garbage here.
func publishSet[V any](p *livePublisher, source int, addrs map[netip.Addr]V, routes []liveRoute) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.live.mu.Lock()
	if p.live.m == nil {
		p.live.m = map[netip.Addr]uint8{}
	}
	bit := uint8(1) << source
	for a, said := range p.live.m {
		if _, ok := addrs[a]; !ok && said&bit != 0 {
			if said &^= bit; said == 0 {
				delete(p.live.m, a)
			} else {
				p.live.m[a] = said
			}
		}
	}
	p.sweepHeld(bit, false)
	for a := range addrs {
		if p.inScope(a) {
			p.live.m[a] |= bit
		} else {
			p.hold(a, bit)
		}
	}
	p.sweepHeld(bit, true)
	if source == liveAuto {
		p.live.routes = routes
	}
	p.live.mu.Unlock()
	p.publish()
}

// current is the live set as published last; nil before the first
// publication.
func (p *livePublisher) current() *liveAddrs {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live.m == nil {
		return nil
	}
	return &p.live
}

// follow returns the channel on which a follower is told of changes, with
// the live set waiting in it once something was published, so that a
// follower started later begins from what is alive now.
func (p *livePublisher) follow(f int) <-chan *liveAddrs {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live.m != nil {
		p.out[f].put(&p.live)
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
