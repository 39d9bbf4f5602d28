package main

// The live addresses: what -learn and -N say is alive behind the VPS. Each
// source hands its whole set to one publisher, which owns the union and
// hands snapshots on: to the responder, which answers for them, and to the
// gateway keeper, which announces the new ones.

import (
	"net/netip"
	"sync"
)

// Where live addresses come from.
const (
	liveLearn = iota
	liveDocker
	numLiveSources
)

// liveAddrs is a snapshot of the addresses known alive behind the VPS;
// it is never changed once published.
type liveAddrs struct{ m map[netip.Addr]struct{} }

func (l *liveAddrs) has(a netip.Addr) bool {
	_, ok := l.m[a]
	return ok
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

// livePublisher owns the live addresses.
type livePublisher struct {
	mu      sync.Mutex
	sources [numLiveSources]map[netip.Addr]struct{}
	cur     *liveAddrs
	r       *responder           // answers for the current snapshot
	out     *mailbox[*liveAddrs] // to the gateway keeper of the moment
}

func newLivePublisher(r *responder) *livePublisher {
	return &livePublisher{r: r, out: newMailbox[*liveAddrs]()}
}

// set replaces what one source says is alive (nil: nothing, as when the
// source stops) and publishes the union.
func (p *livePublisher) set(source int, addrs map[netip.Addr]struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sources[source] = addrs
	all := make(map[netip.Addr]struct{})
	for _, s := range p.sources {
		for a := range s {
			all[a] = struct{}{}
		}
	}
	p.cur = &liveAddrs{m: all}
	p.r.live.Store(p.cur)
	p.out.put(p.cur)
}

// follow returns the channel the keeper reads snapshots from, with the
// current one waiting in it, so that a keeper started later begins from
// what is alive now.
func (p *livePublisher) follow() <-chan *liveAddrs {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != nil {
		p.out.put(p.cur)
	}
	return p.out.c
}
