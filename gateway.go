package main

// The gateway keeper: it finds the uplink's default gateway, learns its
// MAC with our own NS from a global source, pins the kernel's neighbour
// entry for it, keeps that pin true, and announces our addresses to it.
// A state machine in plain Go: it is handed snapshots (the uplink, the
// configuration, the live addresses) and the gateway's NAs, each with the
// time, and says when it next wants to be woken; what it does goes out
// through a frame writer and a neighbour table, so tests drive it without
// root or sleeps.

import (
	"context"
	"net/netip"
	"slices"
	"time"
)

// appendGatewayNS appends an NS for the gateway from src, to the gateway's
// solicited-node group, with our MAC in a source link-layer option: the
// router learns src is at our MAC, and answers with its own.
func appendGatewayNS(b []byte, self mac, src, gw netip.Addr) []byte {
	g := solicitedNode(gw)
	return appendNS(b, self, multicastMAC(g), src, g, gw, [6]byte{})
}

// solicitSources are the addresses we solicit the gateway from: every
// announced address, and the uplink's first global address, which passes
// a filter that drops link-local sources. Only with neither is the
// link-local address used.
func solicitSources(u *uplink, announce []netip.Addr) []netip.Addr {
	srcs := append([]netip.Addr(nil), announce...)
	if len(u.Global) > 0 && !slices.Contains(srcs, u.Global[0]) {
		srcs = append(srcs, u.Global[0])
	}
	if len(srcs) == 0 && u.LinkLocal.IsValid() {
		srcs = append(srcs, u.LinkLocal)
	}
	return srcs
}

// gatewayState follows what the gateway's NAs tell us.
type gatewayState struct {
	Addr     netip.Addr
	MAC      mac
	Known    bool
	LastSeen time.Time
	Silent   bool // warned that it stopped answering
}

// seen records an NA from the gateway at now carrying m, and says whether
// the MAC is new or changed (and so the pin must follow) and whether the
// gateway had been silent.
func (g *gatewayState) seen(m mac, now time.Time) (changed, wasSilent bool) {
	changed = !g.Known || g.MAC != m
	wasSilent = g.Silent
	g.MAC, g.Known, g.LastSeen, g.Silent = m, true, now, false
	return changed, wasSilent
}

// silent says, once, that the gateway has not answered for more than two
// keepalive intervals.
func (g *gatewayState) silent(now time.Time, interval time.Duration) bool {
	if !g.Known || g.Silent || now.Sub(g.LastSeen) <= 2*interval+time.Second {
		return false
	}
	g.Silent = true
	return true
}

// neighTable is the kernel's neighbour table as the keeper uses it.
type neighTable interface {
	neigh(ifindex int, addr netip.Addr) (e neighEntry, ok bool, err error)
	setNeigh(ifindex int, addr netip.Addr, state uint16, m mac) error
	delNeigh(ifindex int, addr netip.Addr) error
}

// frameWriter sends whole Ethernet frames out of the uplink.
type frameWriter interface {
	write(frame []byte) error
}

// gatewayKeeper is the keeper's state. Only its own goroutine (run) calls
// its methods.
type gatewayKeeper struct {
	ifindex int
	cfg     *config
	link    *uplink
	neigh   neighTable
	out     frameWriter
	c       *counters

	live     map[netip.Addr]bool // live addresses, announced and solicited from too
	st       gatewayState
	pinned   bool // the entry is ours
	pinMAC   mac
	adminPin bool // the administrator's PERMANENT entry, left alone
	noRoute  bool // warned that there is no default route

	solicitAt   time.Time     // the next NS while the gateway's MAC is unknown; zero: none
	retry       time.Duration // the interval after that one
	keepaliveAt time.Time     // the next keepalive; zero: off
	announce    announceQueue
	buf         []byte
}

func newGatewayKeeper(ifindex int, cfg *config, link *uplink, neigh neighTable, out frameWriter, c *counters) *gatewayKeeper {
	return &gatewayKeeper{ifindex: ifindex, cfg: cfg, link: link, neigh: neigh, out: out, c: c,
		live: map[netip.Addr]bool{}, announce: announceQueue{jitter: jitter}}
}

// start begins at now: it looks for the gateway and schedules the first
// solicitation and announcements.
func (k *gatewayKeeper) start(now time.Time) {
	k.findGateway(now)
	k.setKeepalive(now)
	k.announce.add(k.cfg.announce, now)
}

// wantMAC says whether the gateway's MAC is needed: for a pin, or for a
// keepalive that follows it.
func (k *gatewayKeeper) wantMAC() bool { return k.cfg.pinGateway || k.cfg.keepalive > 0 }

// findGateway takes the gateway from the uplink's snapshot. A new gateway
// starts over: the old one's pin goes, the new one is solicited at once.
func (k *gatewayKeeper) findGateway(now time.Time) {
	gw := k.link.Gateway
	if !gw.IsValid() {
		if !k.noRoute {
			warnf("gateway: no IPv6 default route through the uplink; waiting for one")
			k.noRoute = true
		}
		return
	}
	k.noRoute = false
	if gw == k.st.Addr {
		return
	}
	if k.st.Addr.IsValid() {
		infof("gateway: default route now via %v (was %v)", gw, k.st.Addr)
		k.unpin()
	}
	k.st = gatewayState{Addr: gw}
	k.adminPin = false
	k.solicitAt, k.retry = time.Time{}, time.Second
	if k.wantMAC() {
		k.solicitAt = now
	}
}

func (k *gatewayKeeper) setKeepalive(now time.Time) {
	k.keepaliveAt = time.Time{}
	if k.cfg.keepalive > 0 {
		k.keepaliveAt = now.Add(k.cfg.keepalive)
	}
}

// setUplink takes a new snapshot of the uplink: its gateway may have
// changed, and a link that went down lost our pin with its other entries.
func (k *gatewayKeeper) setUplink(u *uplink, now time.Time) {
	k.link = u
	k.findGateway(now)
	k.ensurePin()
}

// setConfig takes a reloaded configuration.
func (k *gatewayKeeper) setConfig(cfg *config, now time.Time) {
	old := k.cfg
	k.cfg = cfg
	if cfg.keepalive != old.keepalive {
		k.setKeepalive(now)
	}
	if old.pinGateway && !cfg.pinGateway {
		k.unpin()
	}
	if k.wantMAC() && k.st.Addr.IsValid() && !k.st.Known && k.solicitAt.IsZero() {
		k.solicitAt, k.retry = now, time.Second
	}
	k.ensurePin()
	var fresh []netip.Addr
	for _, a := range cfg.announce {
		if !slices.Contains(old.announce, a) {
			fresh = append(fresh, a)
		}
	}
	k.announce.add(fresh, now)
}

// setLive takes the live addresses: the new ones are announced, the gone
// ones forgotten.
func (k *gatewayKeeper) setLive(l *liveAddrs, now time.Time) {
	for a := range k.live {
		if l == nil || !l.has(a) {
			delete(k.live, a)
		}
	}
	var fresh []netip.Addr
	if l != nil {
		for a := range l.m {
			if !k.live[a] {
				k.live[a] = true
				fresh = append(fresh, a)
			}
		}
	}
	if len(fresh) > 0 {
		slices.SortFunc(fresh, netip.Addr.Compare)
		infof("announce: %d new live address(es), %v first", len(fresh), fresh[0])
	}
	k.announce.add(fresh, now)
}

// next is when the keeper next has something to do; zero when nothing is
// scheduled.
func (k *gatewayKeeper) next() time.Time {
	t := k.announce.next()
	for _, u := range []time.Time{k.solicitAt, k.keepaliveAt} {
		if !u.IsZero() && (t.IsZero() || u.Before(t)) {
			t = u
		}
	}
	return t
}

// tick does what is due at now.
func (k *gatewayKeeper) tick(now time.Time) {
	if !k.solicitAt.IsZero() && !now.Before(k.solicitAt) {
		k.solicitAt = time.Time{}
		if k.st.Addr.IsValid() && !k.st.Known && k.wantMAC() {
			k.solicit()
			k.solicitAt = now.Add(k.retry)
			k.retry = min(2*k.retry, time.Minute)
		}
	}
	if !k.keepaliveAt.IsZero() && !now.Before(k.keepaliveAt) {
		k.keepaliveAt = now.Add(k.cfg.keepalive)
		if k.st.Addr.IsValid() {
			k.solicit()
		}
		if k.st.silent(now, k.cfg.keepalive) {
			warnf("gateway: %v has not answered for %v; keeping the entry at %v", k.st.Addr, now.Sub(k.st.LastSeen).Round(time.Second), k.st.MAC)
		}
	}
	for _, b := range k.announce.due(now) {
		k.announceAll(b.addrs)
	}
}

// onNA handles an NA that the packet loop saw.
func (k *gatewayKeeper) onNA(na *neighborAdvertisement, now time.Time) {
	if !k.st.Addr.IsValid() || na.Target != k.st.Addr {
		return
	}
	m := na.EthSrc
	if na.HasTargetLLA {
		m = na.TargetLLA
	}
	was := k.st
	changed, wasSilent := k.st.seen(m, now)
	switch {
	case !was.Known:
		infof("gateway: %v is at %v", k.st.Addr, m)
		k.solicitAt = time.Time{}
		// Addresses announced before the gateway was known still owe it
		// their NS.
		for _, a := range k.announced() {
			k.send(appendGatewayNS(k.buf[:0], k.link.MAC, a, k.st.Addr), &k.c.nsSent)
		}
	case changed:
		infof("gateway: %v moved from %v to %v", k.st.Addr, was.MAC, m)
	case wasSilent:
		infof("gateway: %v answers again", k.st.Addr)
	}
	if changed && k.cfg.pinGateway {
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
	e, ok, err := k.neigh.neigh(k.ifindex, k.st.Addr)
	if err != nil {
		warnf("gateway: %v", err)
		return
	}
	if ok && e.State&nudPermanent != 0 {
		k.adminPin = true
		infof("gateway: the entry for %v is PERMANENT at %v, set by the administrator; leaving it alone", k.st.Addr, e.MAC)
		return
	}
	if err := k.neigh.setNeigh(k.ifindex, k.st.Addr, nudNoARP, m); err != nil {
		warnf("gateway: %v", err)
		return
	}
	k.pinned, k.pinMAC = true, m
	infof("gateway: pinned %v at %v", k.st.Addr, m)
}

// ensurePin pins the gateway again if its entry is no longer ours: the
// kernel flushes a device's entries, pins too, when it goes down.
func (k *gatewayKeeper) ensurePin() {
	if !k.cfg.pinGateway || !k.st.Known || k.adminPin {
		return
	}
	e, ok, err := k.neigh.neigh(k.ifindex, k.st.Addr)
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
	e, ok, err := k.neigh.neigh(k.ifindex, k.st.Addr)
	if err != nil {
		warnf("gateway: %v", err)
		return
	}
	if !ok || e.State&nudNoARP == 0 || e.MAC != k.pinMAC {
		return // someone else's now
	}
	if err := k.neigh.delNeigh(k.ifindex, k.st.Addr); err != nil {
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

// solicit sends an NS to the gateway from each of our sources.
func (k *gatewayKeeper) solicit() {
	for _, src := range solicitSources(k.link, k.announced()) {
		k.send(appendGatewayNS(k.buf[:0], k.link.MAC, src, k.st.Addr), &k.c.nsSent)
	}
}

// announced is every address we announce: those of -a, and the live ones,
// in order.
func (k *gatewayKeeper) announced() []netip.Addr {
	all := slices.Clone(k.cfg.announce)
	for a := range k.live {
		if !slices.Contains(all, a) {
			all = append(all, a)
		}
	}
	slices.SortFunc(all[len(k.cfg.announce):], netip.Addr.Compare)
	return all
}

// announceAll sends, for each address, the DAD-style NS and then the NS
// from the address to the gateway.
func (k *gatewayKeeper) announceAll(addrs []netip.Addr) {
	for _, a := range addrs {
		k.send(appendDADProbe(k.buf[:0], k.link.MAC, a), &k.c.announced)
		if k.st.Addr.IsValid() {
			k.send(appendGatewayNS(k.buf[:0], k.link.MAC, a, k.st.Addr), &k.c.nsSent)
		}
	}
}

func (k *gatewayKeeper) send(frame []byte, counter interface{ Add(uint64) uint64 }) {
	k.buf = frame
	if err := k.out.write(frame); err != nil {
		k.c.sendErrors.Add(1)
		warnf("gateway: sending: %v", err)
		return
	}
	counter.Add(1)
}

// keeperInputs are what the keeper is handed while it runs; each channel
// has this keeper as its one reader.
type keeperInputs struct {
	nas     <-chan neighborAdvertisement // from the packet loop
	uplinks <-chan *uplink               // new snapshots of the uplink
	configs <-chan *config               // reloads
	live    <-chan *liveAddrs            // the live addresses
}

// run drives the keeper with the real clock until ctx ends, then removes
// the pin it made.
func (k *gatewayKeeper) run(ctx context.Context, in keeperInputs) {
	defer k.unpin()
	k.start(time.Now())
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		k.report()
		var wake <-chan time.Time
		if t := k.next(); !t.IsZero() {
			timer.Reset(time.Until(t))
			wake = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case na := <-in.nas:
			k.onNA(&na, time.Now())
		case u := <-in.uplinks:
			k.setUplink(u, time.Now())
		case cfg := <-in.configs:
			k.setConfig(cfg, time.Now())
		case l := <-in.live:
			k.setLive(l, time.Now())
		case now := <-wake:
			k.tick(now)
		}
	}
}
