package main

import (
	"context"
	"net/netip"
	"slices"
	"time"
)

// gatewayKeeper finds the uplink's default gateway, learns its MAC with our
// own NS from a global source, pins the kernel's neighbour entry for it,
// keeps that pin true, and announces our addresses to it.
type gatewayKeeper struct {
	ifindex   int
	pin       bool
	keepalive time.Duration
	announce  []netip.Addr
	r         *responder
	sock      *packetSocket
	nl        *rtnlConn
	c         *counters

	nas     chan neighborAdvertisement // from the packet loop
	changed chan struct{}              // routes or addresses changed
	reconf  chan *config               // a reload
	live    chan struct{}              // the responder's live addresses changed
	due     chan announceBatch         // the next round of announcements
	liveSet map[netip.Addr]bool        // live addresses, announced and kept alive too

	st        gatewayState
	pinned    bool // the entry is ours
	pinnedMAC mac
	adminPin  bool // the administrator's PERMANENT entry, left alone
	noRoute   bool // warned that there is no default route
	buf       []byte
}

func newGatewayKeeper(ifindex int, cfg *config, r *responder, sock *packetSocket, nl *rtnlConn, c *counters) *gatewayKeeper {
	return &gatewayKeeper{
		ifindex: ifindex, pin: cfg.pinGateway, keepalive: cfg.keepalive, announce: cfg.announce,
		r: r, sock: sock, nl: nl, c: c,
		nas:     make(chan neighborAdvertisement, 16),
		changed: make(chan struct{}, 1),
		reconf:  make(chan *config, 1),
		live:    make(chan struct{}, 1),
		due:     make(chan announceBatch, 16),
		liveSet: map[netip.Addr]bool{},
	}
}

// announceBatch is one round of announcements for some addresses.
type announceBatch struct {
	addrs []netip.Addr
	round int
}

// announceLater schedules round b.round of b after its jittered delay.
func (k *gatewayKeeper) announceLater(ctx context.Context, b announceBatch) {
	if len(b.addrs) == 0 || b.round >= len(announceRounds) {
		return
	}
	d := announceRounds[b.round]
	if b.round > 0 {
		d -= announceRounds[b.round-1]
	}
	time.AfterFunc(jitter(d), func() {
		select {
		case k.due <- b:
		case <-ctx.Done():
		}
	})
}

// reconfigure hands the keeper a reloaded configuration; it never blocks,
// and a newer one replaces one not yet taken.
func (k *gatewayKeeper) reconfigure(cfg *config) {
	for {
		select {
		case k.reconf <- cfg:
			return
		default:
		}
		select {
		case <-k.reconf:
		default:
		}
	}
}

// notify tells the keeper that routes or addresses changed; it never blocks.
func (k *gatewayKeeper) notify() {
	select {
	case k.changed <- struct{}{}:
	default:
	}
}

// run works until ctx ends, then removes the pin it made.
func (k *gatewayKeeper) run(ctx context.Context) {
	defer k.unpin()
	k.findGateway()

	// Until the gateway answers, solicit it with a growing interval, when
	// there is something to do with its MAC: a pin to set, or a keepalive
	// to follow it with.
	retry := time.Second
	solicit := time.NewTimer(0)
	if !k.pin && k.keepalive == 0 {
		solicit.Stop()
	}
	defer solicit.Stop()

	k.announceLater(ctx, announceBatch{addrs: k.announce})
	k.syncLive(ctx)

	var (
		ticker    *time.Ticker
		keepalive <-chan time.Time
	)
	setKeepalive := func(d time.Duration) {
		if ticker != nil {
			ticker.Stop()
			ticker, keepalive = nil, nil
		}
		if k.keepalive = d; d > 0 {
			ticker = time.NewTicker(d)
			keepalive = ticker.C
		}
	}
	setKeepalive(k.keepalive)
	defer setKeepalive(0)

	for {
		k.report()
		select {
		case <-ctx.Done():
			return
		case na := <-k.nas:
			k.onNA(na)
		case cfg := <-k.reconf:
			if cfg.keepalive != k.keepalive {
				setKeepalive(cfg.keepalive)
			}
			if k.pin != cfg.pinGateway {
				if k.pin = cfg.pinGateway; !k.pin {
					k.unpin()
				}
			}
			if k.pin && !k.st.Known {
				solicit.Reset(0)
			}
			k.ensurePin()
			var fresh []netip.Addr
			for _, a := range cfg.announce {
				if !slices.Contains(k.announce, a) {
					fresh = append(fresh, a)
				}
			}
			k.announce = cfg.announce
			k.announceLater(ctx, announceBatch{addrs: fresh})
		case <-k.live:
			k.syncLive(ctx)
		case <-k.changed:
			if old := k.st.Addr; k.findGateway() && k.st.Addr != old && (k.pin || k.keepalive > 0) {
				retry = time.Second
				solicit.Reset(0)
			}
			k.ensurePin()
		case <-solicit.C:
			if k.st.Addr.IsValid() && !k.st.Known {
				k.solicit()
				solicit.Reset(retry)
				retry = min(2*retry, time.Minute)
			}
		case b := <-k.due:
			k.announceAll(b.addrs)
			b.round++
			k.announceLater(ctx, b)
		case now := <-keepalive:
			if k.st.Addr.IsValid() {
				k.solicit()
			}
			if k.st.silent(now, k.keepalive) {
				warnf("gateway: %v has not answered for %v; keeping the entry at %v", k.st.Addr, now.Sub(k.st.LastSeen).Round(time.Second), k.st.MAC)
			}
		}
	}
}

// findGateway reads the default route through the uplink; it reports
// whether there is one. A new gateway starts over.
func (k *gatewayKeeper) findGateway() bool {
	routes, err := k.nl.routes()
	if err != nil {
		warnf("gateway: %v", err)
		return k.st.Addr.IsValid()
	}
	gw, ok := defaultGateway(routes, k.ifindex)
	if !ok {
		if !k.noRoute {
			warnf("gateway: no IPv6 default route through the uplink; waiting for one")
			k.noRoute = true
		}
		return false
	}
	k.noRoute = false
	if gw != k.st.Addr {
		if k.st.Addr.IsValid() {
			infof("gateway: default route now via %v (was %v)", gw, k.st.Addr)
			k.unpin()
		}
		k.st = gatewayState{Addr: gw}
		k.adminPin = false
	}
	return true
}

// onNA handles an NA that the packet loop saw.
func (k *gatewayKeeper) onNA(na neighborAdvertisement) {
	if na.Target != k.st.Addr {
		return
	}
	m := na.EthSrc
	if na.HasTargetLLA {
		m = na.TargetLLA
	}
	was := k.st
	changed, wasSilent := k.st.seen(m, time.Now())
	switch {
	case !was.Known:
		infof("gateway: %v is at %v", k.st.Addr, m)
		// Addresses announced before the gateway was known still owe it
		// their NS.
		for _, a := range k.announced() {
			k.send(appendGatewayNS(k.buf[:0], k.self(), a, k.st.Addr), &k.c.nsSent)
		}
	case changed:
		infof("gateway: %v moved from %v to %v", k.st.Addr, was.MAC, m)
	case wasSilent:
		infof("gateway: %v answers again", k.st.Addr)
	}
	if changed && k.pin {
		k.pinTo(m)
	}
}

// pinTo sets the kernel's entry for the gateway to m in NOARP state, which
// the kernel never expires and never changes on its own. An entry the
// administrator made PERMANENT is left alone.
func (k *gatewayKeeper) pinTo(m mac) {
	if k.adminPin {
		return
	}
	e, ok, err := k.nl.neigh(k.ifindex, k.st.Addr)
	if err != nil {
		warnf("gateway: %v", err)
		return
	}
	if ok && e.State&nudPermanent != 0 {
		k.adminPin = true
		infof("gateway: the entry for %v is PERMANENT at %v, set by the administrator; leaving it alone", k.st.Addr, e.MAC)
		return
	}
	if err := k.nl.setNeigh(k.ifindex, k.st.Addr, nudNoARP, m); err != nil {
		warnf("gateway: %v", err)
		return
	}
	k.pinned, k.pinnedMAC = true, m
	infof("gateway: pinned %v at %v", k.st.Addr, m)
}

// ensurePin pins the gateway again if its entry is no longer ours: the
// kernel flushes a device's entries, pins too, when it goes down.
func (k *gatewayKeeper) ensurePin() {
	if !k.pin || !k.st.Known || k.adminPin {
		return
	}
	e, ok, err := k.nl.neigh(k.ifindex, k.st.Addr)
	if err == nil && ok && e.State&nudNoARP != 0 && e.MAC == k.st.MAC {
		return
	}
	k.pinTo(k.st.MAC)
}

// unpin removes the entry we made, if it is still as we made it.
func (k *gatewayKeeper) unpin() {
	if !k.pinned {
		return
	}
	k.pinned = false
	e, ok, err := k.nl.neigh(k.ifindex, k.st.Addr)
	if err != nil {
		warnf("gateway: %v", err)
		return
	}
	if !ok || e.State&nudNoARP == 0 || e.MAC != k.pinnedMAC {
		return // someone else's now
	}
	if err := k.nl.delNeigh(k.ifindex, k.st.Addr); err != nil {
		warnf("gateway: %v", err)
		return
	}
	infof("gateway: unpinned %v", k.st.Addr)
}

// report puts the gateway's state where the counters show it.
func (k *gatewayKeeper) report() {
	s := "none"
	if k.st.Addr.IsValid() {
		s = k.st.Addr.String()
		if k.st.Known {
			s += "," + k.st.MAC.String()
		}
		switch {
		case k.adminPin:
			s += ",pinned-by-admin"
		case k.pinned:
			s += ",pinned"
		}
		if k.st.Silent {
			s += ",silent"
		}
	}
	if old := k.c.gateway.Load(); old == nil || *old != s {
		k.c.gateway.Store(&s)
	}
}

func (k *gatewayKeeper) self() mac { return k.r.link.Load().MAC }

// solicit sends an NS to the gateway from each of our sources.
func (k *gatewayKeeper) solicit() {
	for _, src := range solicitSources(k.r.link.Load(), k.announced()) {
		k.send(appendGatewayNS(k.buf[:0], k.self(), src, k.st.Addr), &k.c.nsSent)
	}
}

// announced is every address we announce: those of -a, and the live ones.
func (k *gatewayKeeper) announced() []netip.Addr {
	all := slices.Clone(k.announce)
	for a := range k.liveSet {
		if !slices.Contains(all, a) {
			all = append(all, a)
		}
	}
	return all
}

// liveChanged tells the keeper the responder's live addresses changed; it
// never blocks.
func (k *gatewayKeeper) liveChanged() {
	select {
	case k.live <- struct{}{}:
	default:
	}
}

// syncLive takes the responder's live addresses: the new ones are
// announced, the gone ones forgotten.
func (k *gatewayKeeper) syncLive(ctx context.Context) {
	now := k.r.live.Load()
	var fresh []netip.Addr
	for a := range k.liveSet {
		if now == nil || !now.has(a) {
			delete(k.liveSet, a)
		}
	}
	if now != nil {
		for a := range now.m {
			if !k.liveSet[a] {
				k.liveSet[a] = true
				fresh = append(fresh, a)
			}
		}
	}
	if len(fresh) > 0 {
		infof("announce: %d new live address(es), %v first", len(fresh), fresh[0])
	}
	k.announceLater(ctx, announceBatch{addrs: fresh})
}

// announceAll sends, for each address, the DAD-style NS and then the NS
// from the address to the gateway.
func (k *gatewayKeeper) announceAll(addrs []netip.Addr) {
	for _, a := range addrs {
		k.send(appendDADProbe(k.buf[:0], k.self(), a), &k.c.announced)
		if k.st.Addr.IsValid() {
			k.send(appendGatewayNS(k.buf[:0], k.self(), a, k.st.Addr), &k.c.nsSent)
		}
	}
}

func (k *gatewayKeeper) send(frame []byte, counter interface{ Add(uint64) uint64 }) {
	k.buf = frame
	if err := k.sock.write(frame); err != nil {
		k.c.sendErrors.Add(1)
		warnf("gateway: sending: %v", err)
		return
	}
	counter.Add(1)
}
