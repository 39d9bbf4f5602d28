package main

import (
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ndpresponder/internal/rtnl"
)

func TestAppendGatewayNS(t *testing.T) {
	gua := netip.MustParseAddr("2001:db8:1:2::2")
	announced := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:10")
	tests := []struct {
		name    string
		to      mac // zero: multicast
		src, gw netip.Addr
	}{
		{"from the uplink's address", mac{}, gua, routerLL},
		{"from an announced address", mac{}, announced, routerLL},
		{"from link-local", mac{}, netip.MustParseAddr("fe80::ff:fe00:2"), routerLL},
		{"to a global gateway", mac{}, gua, netip.MustParseAddr("2001:db8:1:2::1")},
		{"a unicast probe", routerMAC, gua, routerLL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := appendGatewayNS(nil, vpsMAC, tt.to, tt.src, tt.gw)
			want := neighborSolicitation{
				EthDst: tt.to, EthSrc: vpsMAC, HopLimit: ndHopLimit,
				Src: tt.src, Dst: tt.gw, Target: tt.gw,
				SourceLLA: vpsMAC, HasSourceLLA: true,
			}
			if tt.to == (mac{}) {
				want.Dst = solicitedNode(tt.gw)
				want.EthDst = multicastMAC(want.Dst)
			}
			var got neighborSolicitation
			if err := parseNS(b, &got); err != nil || got != want {
				t.Errorf("parseNS(appendGatewayNS(nil, %v, %v, %v, %v)) = %+v, %v; want %+v", vpsMAC, tt.to, tt.src, tt.gw, got, err, want)
			}
			if len(b) != nsFrameMin+llaOptLen {
				t.Errorf("appendGatewayNS(nil, %v, %v, %v, %v) is %d bytes, want %d: no nonce", vpsMAC, tt.to, tt.src, tt.gw, len(b), nsFrameMin+llaOptLen)
			}
		})
	}
}

func TestAskSource(t *testing.T) {
	a := netip.MustParseAddr
	ll := a("fe80::ff:fe00:2")
	gua1, gua2 := a("2001:db8:1:2::2"), a("2001:db8:1:2::3")
	ann1, ann2 := a("2001:db8:1:2:646f:636b:6572:10"), a("2001:db8:1:2:646f:636b:6572:11")
	tests := []struct {
		name     string
		link     *uplink
		announce []netip.Addr
		want     netip.Addr
		asked    bool // whether the announced addresses were needed
	}{
		{"the first global, announced or not", &uplink{Addrs: []netip.Addr{ll, gua1, gua2}, LinkLocal: ll, Global: []netip.Addr{gua1, gua2}},
			[]netip.Addr{ann1, ann2}, gua1, false},
		{"the first global alone", &uplink{Addrs: []netip.Addr{ll, gua2, gua1}, LinkLocal: ll, Global: []netip.Addr{gua2, gua1}}, nil, gua2, false},
		{"announced, no global", &uplink{Addrs: []netip.Addr{ll}, LinkLocal: ll}, []netip.Addr{ann1, ann2}, ann1, true},
		{"link-local only when there is nothing else", &uplink{Addrs: []netip.Addr{ll}, LinkLocal: ll}, nil, ll, true},
		{"multicast and loopback are not global", &uplink{Addrs: []netip.Addr{a("ff02::1"), a("::1"), ll}, LinkLocal: ll}, nil, ll, true},
		{"nothing at all", &uplink{}, nil, netip.Addr{}, true},
		{"no link-local, no global", &uplink{Addrs: []netip.Addr{a("::1")}}, nil, netip.Addr{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asked := false
			got := askSource(tt.link, func() []netip.Addr { asked = true; return tt.announce })
			if got != tt.want || asked != tt.asked {
				t.Errorf("askSource(%+v, %v) = %v (announced asked: %v), want %v (%v)", *tt.link, tt.announce, got, asked, tt.want, tt.asked)
			}
		})
	}
}

func TestGatewayStateSeen(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	newMAC := mac{0x02, 0, 0, 0, 0, 0x09}
	g := &gatewayState{Addr: routerLL}
	steps := []struct {
		name                    string
		m                       mac
		at                      time.Duration
		wantChanged, wantSilent bool
	}{
		{"first NA", routerMAC, 0, true, false},
		{"same MAC", routerMAC, time.Second, false, false},
		{"same MAC again", routerMAC, 2 * time.Second, false, false},
		{"new MAC", newMAC, 3 * time.Second, true, false},
		{"back to the first", routerMAC, 4 * time.Second, true, false},
	}
	for _, s := range steps {
		changed, wasSilent := g.seen(s.m, t0.Add(s.at))
		if changed != s.wantChanged || wasSilent != s.wantSilent {
			t.Errorf("%s: seen(%v) = %v, %v; want %v, %v", s.name, s.m, changed, wasSilent, s.wantChanged, s.wantSilent)
		}
		if !g.Known || g.MAC != s.m || !g.LastSeen.Equal(t0.Add(s.at)) {
			t.Errorf("%s: after seen(%v), state = %+v", s.name, s.m, *g)
		}
	}
}

func TestGatewayStateSilent(t *testing.T) {
	const interval = 30 * time.Second
	limit := 2*interval + time.Second
	t0 := time.Unix(1_700_000_000, 0)

	g := &gatewayState{Addr: routerLL}
	if g.silent(t0.Add(time.Hour), interval) {
		t.Errorf("silent before any NA = true, want false")
	}
	g.seen(routerMAC, t0)
	steps := []struct {
		name string
		at   time.Duration
		want bool
	}{
		{"at once", 0, false},
		{"after one interval", interval, false},
		{"at 2*interval+1s", limit, false},
		{"just after 2*interval+1s", limit + time.Nanosecond, true},
		{"the next call", limit + time.Second, false},
		{"much later", time.Hour, false},
	}
	for _, s := range steps {
		if got := g.silent(t0.Add(s.at), interval); got != s.want {
			t.Errorf("%s: silent(t0+%v, %v) = %v, want %v", s.name, s.at, interval, got, s.want)
		}
	}

	// The gateway answers again: seen says it had been silent, once.
	back := t0.Add(2 * time.Hour)
	if changed, wasSilent := g.seen(routerMAC, back); changed || !wasSilent {
		t.Errorf("seen after silence = %v, %v; want false, true", changed, wasSilent)
	}
	if changed, wasSilent := g.seen(routerMAC, back.Add(time.Second)); changed || wasSilent {
		t.Errorf("seen again = %v, %v; want false, false", changed, wasSilent)
	}
	// And a new silence is reported anew, measured from the last NA.
	last := back.Add(time.Second)
	if g.silent(last.Add(limit), interval) {
		t.Errorf("silent(last+%v) = true, want false", limit)
	}
	if !g.silent(last.Add(limit+time.Millisecond), interval) {
		t.Errorf("silent(last+%v) = false, want true", limit+time.Millisecond)
	}
	// A new MAC after silence: changed and wasSilent both.
	if changed, wasSilent := g.seen(mac{0x02, 0, 0, 0, 0, 0x09}, last.Add(time.Hour)); !changed || !wasSilent {
		t.Errorf("seen(new MAC) after silence = %v, %v; want true, true", changed, wasSilent)
	}
}

// TestAppendProbeAllocs: the probes are built into a buffer the caller
// owns, without allocating.
func TestAppendProbeAllocs(t *testing.T) {
	b := make([]byte, 0, nsFrameMax)
	src := netip.MustParseAddr("2001:db8:1:2::2")
	for name, f := range map[string]func(){
		"appendDADProbe":  func() { b = appendDADProbe(b[:0], vpsMAC, dadTarget) },
		"appendGatewayNS": func() { b = appendGatewayNS(b[:0], vpsMAC, routerMAC, src, routerLL) },
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", name, n)
		}
	}
}

// fakeNeigh is a neighbour table for the keeper's tests: one interface's
// entries, and every change made to them.
type fakeNeigh struct {
	entries map[netip.Addr]rtnl.Neigh
	changes []string
}

func newFakeNeigh() *fakeNeigh { return &fakeNeigh{entries: map[netip.Addr]rtnl.Neigh{}} }

func (f *fakeNeigh) neigh(_ int, a netip.Addr) (rtnl.Neigh, bool, error) {
	e, ok := f.entries[a]
	return e, ok, nil
}

func (f *fakeNeigh) setNeigh(ifindex int, a netip.Addr, state uint16, m mac) error {
	f.entries[a] = rtnl.Neigh{Family: rtnl.AfInet6, Ifindex: ifindex, Addr: a, State: state, Proto: pinProtocol, MAC: m, HasMAC: true}
	f.changes = append(f.changes, "set "+a.String()+" "+rtnl.NUDString(state)+" "+m.String())
	return nil
}

func (f *fakeNeigh) neighs() ([]rtnl.Neigh, error) {
	var all []rtnl.Neigh
	for _, e := range f.entries {
		all = append(all, e)
	}
	slices.SortFunc(all, func(a, b rtnl.Neigh) int { return a.Addr.Compare(b.Addr) })
	return all, nil
}

func (f *fakeNeigh) delNeigh(_ int, a netip.Addr) error {
	delete(f.entries, a)
	f.changes = append(f.changes, "del "+a.String())
	return nil
}

// fakeWire records the frames the keeper sends, as one line each: "NS
// src -> group for target", "probe src -> gateway at MAC", "DAD for
// target".
type fakeWire struct{ sent []string }

func (w *fakeWire) write(frame []byte) error {
	var ns neighborSolicitation
	switch err := parseNS(frame, &ns); {
	case err != nil:
		w.sent = append(w.sent, "bad frame: "+err.Error())
	case ns.Src.IsUnspecified():
		w.sent = append(w.sent, "DAD for "+ns.Target.String())
	case ns.Dst == ns.Target:
		w.sent = append(w.sent, "probe "+ns.Src.String()+" -> "+ns.Dst.String()+" at "+ns.EthDst.String())
	default:
		w.sent = append(w.sent, "NS "+ns.Src.String()+" -> "+ns.Dst.String()+" for "+ns.Target.String())
	}
	return nil
}

func (w *fakeWire) take() []string {
	s := w.sent
	w.sent = nil
	return s
}

var (
	keeperT0  = time.Unix(1_700_000_000, 0)
	keeperGUA = netip.MustParseAddr("2001:db8:1:2::2")
	keeperAnn = netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:10")
	routerNew = mac{0x02, 0, 0, 0, 0, 0x09}
	evilMAC   = mac{0x02, 0, 0, 0, 0, 0x66}
	// What the keeper sends to the router's solicited-node group, and its
	// unicast probes of the router at routerMAC.
	solicitFromGUA = "NS " + keeperGUA.String() + " -> " + solicitedNode(routerLL).String() + " for " + routerLL.String()
	solicitFromAnn = "NS " + keeperAnn.String() + " -> " + solicitedNode(routerLL).String() + " for " + routerLL.String()
	probeFromGUA   = "probe " + keeperGUA.String() + " -> " + routerLL.String() + " at " + routerMAC.String()
)

func keeperUplink(gw netip.Addr) *uplink {
	ll := netip.MustParseAddr("fe80::ff:fe00:2")
	return &uplink{MAC: vpsMAC, Addrs: []netip.Addr{ll, keeperGUA}, LinkLocal: ll, Global: []netip.Addr{keeperGUA}, Gateway: gw}
}

// keeperRig is a keeper on fakes, with no jitter, started at keeperT0, and
// the packet loop's side of its inputs.
type keeperRig struct {
	*gatewayKeeper
	nt  *fakeNeigh
	w   *fakeWire
	tk  *toKeeper
	nas chan neighborAdvertisement
}

func newTestKeeper(cfg *config) *keeperRig {
	r := &keeperRig{nt: newFakeNeigh(), w: &fakeWire{}, nas: make(chan neighborAdvertisement, 16)}
	r.tk = &toKeeper{view: &atomic.Pointer[gatewayView]{}, nas: r.nas, claims: newMailbox[mac](),
		log: logLimiter{perSecond: 1, burst: 5}}
	r.gatewayKeeper = newGatewayKeeper(7, cfg, keeperUplink(routerLL), r.nt, r.w, &counters{}, r.tk.view)
	r.announce.jitter = func(d time.Duration) time.Duration { return d }
	r.start(keeperT0)
	return r
}

// hear passes an NA through the packet loop's sorting and hands the keeper
// what gets through, as run does.
func (r *keeperRig) hear(na *neighborAdvertisement, now time.Time) {
	r.tk.sortNA(na, r.c)
	for {
		select {
		case a := <-r.nas:
			r.onNA(&a, now)
		case m := <-r.tk.claims.c:
			r.claim(m, now)
		default:
			return
		}
	}
}

// answer is the router's NA for itself to the keeper's global address,
// naming m.
func answer(m mac) *neighborAdvertisement {
	return &neighborAdvertisement{EthDst: vpsMAC, EthSrc: m, Src: routerLL, Dst: keeperGUA,
		Flags: naFlagSolicited | naFlagRouter | naFlagOverride, Target: routerLL, TargetLLA: m, HasTargetLLA: true}
}

// at is keeperT0 plus d.
func at(d time.Duration) time.Time { return keeperT0.Add(d) }

func (r *keeperRig) wantSent(t *testing.T, step string, want ...string) {
	t.Helper()
	if got := r.w.take(); !slices.Equal(got, want) {
		t.Errorf("%s: sent %q, want %q", step, got, want)
	}
}

func (r *keeperRig) wantChanges(t *testing.T, step string, want ...string) {
	t.Helper()
	if !slices.Equal(r.nt.changes, want) {
		t.Errorf("%s: neighbour table changes %q, want %q", step, r.nt.changes, want)
	}
	r.nt.changes = nil
}

func (r *keeperRig) wantState(t *testing.T, step, want string) {
	t.Helper()
	r.report()
	if got := *r.c.gateway.Load(); got != want {
		t.Errorf("%s: gateway state %q, want %q", step, got, want)
	}
}

func pinned(m mac) string { return "set " + routerLL.String() + " NOARP " + m.String() }

// pinRouter runs the keeper to the point where it follows routerMAC: its
// first solicitation at t0, the router's answer, the window's close at
// t0+1s.
func (r *keeperRig) pinRouter(t *testing.T) {
	t.Helper()
	r.tick(at(0))
	r.hear(answer(routerMAC), at(100*time.Millisecond))
	r.tick(at(answerWindow))
	if !r.following() || r.st.MAC != routerMAC {
		t.Fatalf("after the router's answer the keeper follows %v (known %v), want %v", r.st.MAC, r.st.Known, routerMAC)
	}
	r.w.take()
	r.nt.changes = nil
}

// TestKeeperLearnsAndPins: the keeper solicits the gateway from the
// uplink's global address at once and then after 1, 2, 4... s, until an
// answer comes; it pins that MAC when the answer's window closes, and
// stops soliciting.
func TestKeeperLearnsAndPins(t *testing.T) {
	r := newTestKeeper(&config{pinGateway: true})
	if got := r.next(); !got.Equal(keeperT0) {
		t.Fatalf("next() after start = %v, want start", got)
	}
	r.tick(at(0))
	r.wantSent(t, "at start", solicitFromGUA)
	for _, d := range []time.Duration{time.Second, 3 * time.Second, 7 * time.Second} {
		// The previous question's window closes a second after it.
		if got := r.next(); got.After(at(d)) {
			t.Fatalf("next() = t0+%v, want t0+%v or before", got.Sub(keeperT0), d)
		}
		r.tick(at(d - 2*time.Millisecond))
		r.tick(at(d - time.Millisecond))
		r.wantSent(t, "just before the retry")
		r.tick(at(d))
		r.wantSent(t, "the retry at t0+"+d.String(), solicitFromGUA)
	}
	r.hear(answer(routerMAC), at(7500*time.Millisecond))
	r.wantChanges(t, "before the window closes")
	r.tick(at(8 * time.Second))
	r.wantChanges(t, "after the window", pinned(routerMAC))
	// Without -keepalive, the pin is checked every pinCheckEvery.
	if got := r.next(); !got.Equal(at(pinCheckEvery)) {
		t.Errorf("next() once the gateway is pinned = t0+%v, want the pin's check at t0+%v", got.Sub(keeperT0), pinCheckEvery)
	}
	r.tick(at(pinCheckEvery))
	r.wantSent(t, "the pin's check", probeFromGUA)
	r.hear(answer(routerMAC), at(pinCheckEvery+100*time.Millisecond))
	r.tick(at(pinCheckEvery + answerWindow))
	r.wantSent(t, "the check answered")
	if got := r.next(); !got.Equal(at(2 * pinCheckEvery)) {
		t.Errorf("next() after the check = t0+%v, want t0+%v", got.Sub(keeperT0), 2*pinCheckEvery)
	}
	r.wantState(t, "pinned", routerLL.String()+","+routerMAC.String()+",pinned")
	r.unpin()
	r.wantChanges(t, "unpin", "del "+routerLL.String())
}

// TestKeeperQuiet: with neither a pin nor a keepalive the keeper has no
// use for the gateway's MAC, sends nothing, and lets no NA through.
func TestKeeperQuiet(t *testing.T) {
	r := newTestKeeper(&config{})
	if !r.next().IsZero() {
		t.Errorf("next() = %v, want nothing scheduled", r.next())
	}
	r.tick(at(time.Hour))
	r.hear(answer(routerMAC), at(time.Hour))
	r.tick(at(2 * time.Hour))
	r.wantSent(t, "an hour on")
	r.wantChanges(t, "an hour on")
}

// TestKeeperAdminPin: an entry the administrator made PERMANENT is left
// as it is, also when the keeper stops.
func TestKeeperAdminPin(t *testing.T) {
	r := newTestKeeper(&config{pinGateway: true})
	r.nt.entries[routerLL] = rtnl.Neigh{Addr: routerLL, State: rtnl.NudPermanent, MAC: routerNew, HasMAC: true}
	r.tick(at(0))
	r.hear(answer(routerMAC), at(100*time.Millisecond))
	r.tick(at(time.Second))
	r.setUplink(keeperUplink(routerLL), at(2*time.Second))
	r.unpin()
	r.wantChanges(t, "with a PERMANENT entry")
	r.wantState(t, "with a PERMANENT entry", routerLL.String()+","+routerMAC.String()+",pinned-by-admin")
}

// TestKeeperRepins: the kernel flushes a device's entries when it goes
// down; the next snapshot of the uplink puts the pin back.
func TestKeeperRepins(t *testing.T) {
	r := newTestKeeper(&config{pinGateway: true})
	r.pinRouter(t)
	delete(r.nt.entries, routerLL)
	r.setUplink(keeperUplink(routerLL), at(5*time.Second))
	r.wantChanges(t, "after a flush", pinned(routerMAC))
	r.setUplink(keeperUplink(routerLL), at(6*time.Second))
	r.wantChanges(t, "with the pin in place")
}

// TestKeeperUnpinOnlyOurs: a pin someone else replaced is not removed.
func TestKeeperUnpinOnlyOurs(t *testing.T) {
	r := newTestKeeper(&config{pinGateway: true})
	r.pinRouter(t)
	r.nt.entries[routerLL] = rtnl.Neigh{Addr: routerLL, State: rtnl.NudReachable, MAC: routerMAC, HasMAC: true}
	r.unpin()
	r.wantChanges(t, "unpin of a replaced entry")
}

// TestKeeperGatewayMoves: a new default gateway in the uplink's snapshot
// unpins the old one and solicits the new one at once; a snapshot with no
// gateway leaves things as they are.
func TestKeeperGatewayMoves(t *testing.T) {
	r := newTestKeeper(&config{pinGateway: true})
	r.pinRouter(t)
	r.setUplink(keeperUplink(netip.Addr{}), at(2*time.Second))
	r.wantChanges(t, "no default route")
	gw2 := netip.MustParseAddr("fe80::2")
	r.setUplink(keeperUplink(gw2), at(3*time.Second))
	r.wantChanges(t, "a new gateway", "del "+routerLL.String())
	r.tick(at(3 * time.Second))
	r.wantSent(t, "a new gateway", "NS "+keeperGUA.String()+" -> "+solicitedNode(gw2).String()+" for "+gw2.String())
	r.hear(answer(routerMAC), at(3100*time.Millisecond))
	r.tick(at(4 * time.Second))
	r.wantChanges(t, "an NA for the old gateway")
}

// TestKeeperKeepalive: with -keepalive the followed MAC is probed every
// interval by unicast, from every announced address and the uplink's
// global one; silence is warned about once, after two intervals and a
// second, and the gateway is then solicited anew by multicast.
func TestKeeperKeepalive(t *testing.T) {
	r := newTestKeeper(&config{pinGateway: true, keepalive: 10 * time.Second, announce: []netip.Addr{keeperAnn}})
	r.tick(at(0))
	r.wantSent(t, "at start", solicitFromGUA, "DAD for "+keeperAnn.String(), solicitFromAnn)
	r.hear(answer(routerMAC), at(500*time.Millisecond))
	r.tick(at(time.Second))
	probeFromAnn := "probe " + keeperAnn.String() + " -> " + routerLL.String() + " at " + routerMAC.String()
	r.wantSent(t, "the window's close, the second announcement round, and the NS the announced address owes the gateway now known",
		"DAD for "+keeperAnn.String(), solicitFromAnn, probeFromAnn)
	r.wantChanges(t, "learned", pinned(routerMAC))
	r.tick(at(3 * time.Second))
	r.wantSent(t, "the third announcement round", "DAD for "+keeperAnn.String(), solicitFromAnn)
	// A keepalive asks from the uplink's address, and refreshes the
	// router's entry for each announced address at -announce-rate.
	if got := r.next(); !got.Equal(at(10 * time.Second)) {
		t.Fatalf("next() = t0+%v, want the keepalive at t0+10s", got.Sub(keeperT0))
	}
	r.tick(at(10 * time.Second))
	r.wantSent(t, "keepalive", probeFromGUA, probeFromAnn)
	r.hear(answer(routerMAC), at(10*time.Second+100*time.Millisecond))
	r.tick(at(11 * time.Second))
	r.wantSent(t, "keepalive answered")
	// Unanswered, the keepalive is followed by two more probes a window
	// apart, and then the gateway is solicited anew by multicast.
	r.tick(at(20 * time.Second))
	r.wantSent(t, "keepalive", probeFromGUA, probeFromAnn)
	r.tick(at(21 * time.Second))
	r.wantSent(t, "the keepalive unanswered", probeFromGUA)
	r.tick(at(22 * time.Second))
	r.wantSent(t, "two probes unanswered", probeFromGUA)
	r.tick(at(23 * time.Second))
	r.wantSent(t, "three probes unanswered", solicitFromGUA)
	r.wantState(t, "three probes unanswered", routerLL.String()+","+routerMAC.String()+",pinned,relearning")
	r.hear(answer(routerMAC), at(23*time.Second+100*time.Millisecond))
	r.tick(at(24 * time.Second))
	r.wantState(t, "answering again", routerLL.String()+","+routerMAC.String()+",pinned")
	r.wantChanges(t, "answering again")
}

// TestKeeperReconfigure: a reload that turns the pin off unpins; one that
// adds an address announces it; one that turns the keepalive on
// schedules it.
func TestKeeperReconfigure(t *testing.T) {
	r := newTestKeeper(&config{pinGateway: true})
	r.pinRouter(t)
	r.setConfig(&config{pinGateway: false, keepalive: 20 * time.Second, announce: []netip.Addr{keeperAnn}}, at(2*time.Second))
	r.wantChanges(t, "pin off", "del "+routerLL.String())
	if got := r.next(); !got.Equal(at(2 * time.Second)) {
		t.Errorf("next() after adding -a = t0+%v, want now", got.Sub(keeperT0))
	}
	r.tick(at(2 * time.Second))
	r.wantSent(t, "a new -a", "DAD for "+keeperAnn.String(), solicitFromAnn)
	r.tick(at(22 * time.Second))
	if got := r.w.take(); !slices.Contains(got, probeFromGUA) {
		t.Errorf("the keepalive turned on by the reload sent %q, want %q among them", got, probeFromGUA)
	}
}

// TestKeeperLive: new live addresses are announced in three rounds, at 0,
// 1 and 3 s; gone ones are forgotten and solicit no more.
func TestKeeperLive(t *testing.T) {
	r := newTestKeeper(&config{pinGateway: true, keepalive: time.Minute})
	r.pinRouter(t)
	live := &liveAddrs{m: map[netip.Addr]uint8{keeperAnn: 1}}
	r.setLive(live, at(time.Second))
	for _, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if got := r.next(); !got.Equal(at(d)) {
			t.Fatalf("next() = t0+%v, want t0+%v", got.Sub(keeperT0), d)
		}
		r.tick(at(d))
		r.wantSent(t, "announcement at t0+"+d.String(), "DAD for "+keeperAnn.String(), solicitFromAnn)
	}
	r.setLive(live, at(5*time.Second))
	r.tick(at(10 * time.Second))
	r.wantSent(t, "the same set again")
	r.setLive(&liveAddrs{m: map[netip.Addr]uint8{}}, at(20*time.Second))
	r.tick(at(time.Minute))
	r.wantSent(t, "the keepalive after the address went", probeFromGUA)
}

// keeperAnnouncing is a keeper that follows the router, with keeperAnn
// live since t0+1s and the first round of its announcement sent.
func keeperAnnouncing(t *testing.T) *keeperRig {
	t.Helper()
	r := newTestKeeper(&config{pinGateway: true, keepalive: time.Minute})
	r.pinRouter(t)
	r.setLive(&liveAddrs{m: map[netip.Addr]uint8{keeperAnn: 1}}, at(time.Second))
	r.tick(at(time.Second))
	r.wantSent(t, "the first round of the announcement", "DAD for "+keeperAnn.String(), solicitFromAnn)
	return r
}

// TestKeeperAnnounceAnswered: the router answers the NS an announcement
// sends from the new address; that answer is expected and neither refused
// nor taken, while the same NA long after the announcement is refused as
// unasked.
func TestKeeperAnnounceAnswered(t *testing.T) {
	r := keeperAnnouncing(t)
	toAnn := answer(routerMAC)
	toAnn.Dst = keeperAnn
	r.hear(toAnn, at(1100*time.Millisecond))
	if got := r.c.naRefused[reasonNANotAsked].Load(); got != 0 {
		t.Errorf("the router's answer to the announcement: refused.%v = %d, want 0", reasonNANotAsked, got)
	}
	r.tick(at(2 * time.Second))
	r.tick(at(4 * time.Second))
	r.w.take()
	r.hear(toAnn, at(6*time.Second))
	if got := r.c.naRefused[reasonNANotAsked].Load(); got != 1 {
		t.Errorf("the same NA 2 s after the last announcement: refused.%v = %d, want 1", reasonNANotAsked, got)
	}
	r.wantChanges(t, "answers to announcements")
	r.wantState(t, "answers to announcements", routerLL.String()+","+routerMAC.String()+",pinned")
}

// TestKeeperGoneNotAnnounced: an address that goes between two rounds of
// its announcement gets no more of them.
func TestKeeperGoneNotAnnounced(t *testing.T) {
	r := keeperAnnouncing(t)
	r.setLive(&liveAddrs{m: map[netip.Addr]uint8{}}, at(1500*time.Millisecond))
	r.tick(at(2 * time.Second))
	r.tick(at(4 * time.Second))
	r.wantSent(t, "the rounds after it went")
}

// TestKeeperNeverAnnouncesOwn: the uplink's own addresses and the
// gateway's are not announced, whatever says they are live.
func TestKeeperNeverAnnouncesOwn(t *testing.T) {
	r := newTestKeeper(&config{pinGateway: true})
	r.pinRouter(t)
	r.setLive(&liveAddrs{m: map[netip.Addr]uint8{keeperGUA: 1, routerLL: 1}}, at(2*time.Second))
	r.tick(at(10 * time.Second))
	r.wantSent(t, "own and gateway's addresses live")
}

// forged is an NA for the gateway from a neighbour: the router's as
// answer makes it, changed by f.
func forged(f func(na *neighborAdvertisement)) *neighborAdvertisement {
	na := answer(evilMAC)
	na.EthSrc = evilMAC
	f(na)
	return na
}

// TestKeeperRefusesForgeries: while the keeper follows the router, no NA
// that is not the router's answer to its question moves the pin; each is
// counted by why. A claim of another MAC makes the keeper probe the
// router, which answers, and the pin stays.
func TestKeeperRefusesForgeries(t *testing.T) {
	broadcast := mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	tests := []struct {
		name  string
		na    *neighborAdvertisement
		why   reason
		claim bool // the keeper probes the router to check
	}{
		{"unsolicited, naming the neighbour", forged(func(na *neighborAdvertisement) {
			na.Flags, na.Dst, na.EthDst = naFlagOverride, netip.MustParseAddr("ff02::1"), mac{0x33, 0x33, 0, 0, 0, 1}
		}), reasonNAUnsolicited, true},
		{"solicited, naming the neighbour", forged(func(*neighborAdvertisement) {}), reasonNAOtherMAC, true},
		{"solicited, naming the broadcast address", forged(func(na *neighborAdvertisement) { na.TargetLLA = broadcast }), reasonNABadMAC, false},
		{"solicited, naming the zero address", forged(func(na *neighborAdvertisement) { na.TargetLLA = mac{} }), reasonNABadMAC, false},
		{"from a group address", forged(func(na *neighborAdvertisement) { na.EthSrc, na.TargetLLA = broadcast, routerMAC }), reasonNABadMAC, false},
		{"from another address", forged(func(na *neighborAdvertisement) { na.Src = netip.MustParseAddr("fe80::66") }), reasonNAWrongSource, false},
		{"to another station", forged(func(na *neighborAdvertisement) { na.EthDst = routerNew }), reasonNANotToUs, true},
		{"naming the router, unasked", forged(func(na *neighborAdvertisement) { na.TargetLLA = routerMAC }), reasonNANotAsked, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestKeeper(&config{pinGateway: true})
			r.pinRouter(t)
			now := at(5 * time.Second) // before the pin's first check
			r.hear(tt.na, now)
			if got := r.c.naRefused[tt.why].Load(); got != 1 {
				t.Errorf("refused.%v = %d, want 1", tt.why, got)
			}
			if tt.claim {
				r.wantSent(t, "the claim", probeFromGUA)
				r.hear(answer(routerMAC), now.Add(10*time.Millisecond))
				r.tick(now.Add(5 * time.Second))
				r.wantSent(t, "once the router answered the probe")
			} else {
				r.tick(now.Add(5 * time.Second))
				r.wantSent(t, "no claim")
			}
			r.wantChanges(t, "a forged NA")
			r.wantState(t, "a forged NA", routerLL.String()+","+routerMAC.String()+",pinned")
		})
	}
}

// TestKeeperFloodInProbeWindow: a thousand NAs naming the neighbour, each
// a perfect answer to the keepalive probe but for its MAC, arrive in the
// probe's window; none reaches the keeper, the router's answer does, and
// the pin stays. They start one round of probes at most.
func TestKeeperFloodInProbeWindow(t *testing.T) {
	r := newTestKeeper(&config{pinGateway: true, keepalive: 2 * time.Second})
	r.pinRouter(t)
	for round := 1; round <= 5; round++ {
		probe := at(time.Duration(round) * 2 * time.Second)
		r.tick(probe)
		for i := range 1000 {
			r.hear(forged(func(*neighborAdvertisement) {}), probe.Add(time.Duration(i)*time.Microsecond))
		}
		r.hear(answer(routerMAC), probe.Add(5*time.Millisecond))
		r.tick(probe.Add(answerWindow))
	}
	if got := r.c.naRefused[reasonNAOtherMAC].Load(); got != 5000 {
		t.Errorf("refused.na-other-mac = %d, want 5000", got)
	}
	if r.unanswered != 0 {
		t.Errorf("%d probes counted unanswered, want 0", r.unanswered)
	}
	r.wantChanges(t, "the flood")
	r.wantState(t, "the flood", routerLL.String()+","+routerMAC.String()+",pinned")
}

// TestKeeperMovesAfterProbes: the router's MAC really changes, without a
// word. With the default flags the pin's check finds it: the pin stays
// until three probes of the old MAC, a window apart, go unanswered; then
// the gateway is solicited by multicast and its one answer moves the pin,
// a few seconds after the check.
func TestKeeperMovesAfterProbes(t *testing.T) {
	for _, keepalive := range []time.Duration{0, 2 * time.Second} {
		t.Run("keepalive "+keepalive.String(), func(t *testing.T) {
			r := newTestKeeper(&config{pinGateway: true, keepalive: keepalive})
			r.pinRouter(t)
			check := at(pinCheckEvery)
			if keepalive > 0 {
				check = at(keepalive)
			}
			r.tick(check)
			r.wantSent(t, "the check", probeFromGUA)
			for i := range maxUnanswered {
				r.tick(check.Add(time.Duration(i+1) * answerWindow))
				if i < maxUnanswered-1 {
					r.wantSent(t, "a probe unanswered", probeFromGUA)
					r.wantChanges(t, "before three probes went unanswered")
				}
			}
			r.wantSent(t, "after three unanswered probes", solicitFromGUA)
			moved := check.Add(time.Duration(maxUnanswered) * answerWindow)
			r.hear(answer(routerNew), moved.Add(100*time.Millisecond))
			r.tick(moved.Add(answerWindow))
			r.wantChanges(t, "the new MAC answered", pinned(routerNew))
			r.wantState(t, "moved", routerLL.String()+","+routerNew.String()+",pinned")
		})
	}
}

// TestKeeperVerifiesClaim: without -keepalive, the router's unsolicited NA
// after its MAC changed makes the keeper probe the pinned MAC three times;
// unanswered, it learns the new one. Another claim within 30 s starts no
// probes.
func TestKeeperVerifiesClaim(t *testing.T) {
	r := newTestKeeper(&config{pinGateway: true})
	r.pinRouter(t)
	unsolicited := answer(routerNew)
	unsolicited.Flags, unsolicited.Dst, unsolicited.EthDst = naFlagOverride|naFlagRouter, netip.MustParseAddr("ff02::1"), mac{0x33, 0x33, 0, 0, 0, 1}
	now := at(5 * time.Second) // before the pin's first check
	r.hear(unsolicited, now)
	r.wantSent(t, "the claim", probeFromGUA)
	r.tick(now.Add(time.Second))
	r.wantSent(t, "the first probe unanswered", probeFromGUA)
	r.hear(unsolicited, now.Add(1500*time.Millisecond))
	r.tick(now.Add(2 * time.Second))
	r.wantSent(t, "the second probe unanswered", probeFromGUA)
	r.wantChanges(t, "two probes unanswered")
	r.tick(now.Add(3 * time.Second))
	r.wantSent(t, "three probes unanswered", solicitFromGUA)
	r.hear(answer(routerNew), now.Add(3100*time.Millisecond))
	r.tick(now.Add(4 * time.Second))
	r.wantChanges(t, "learned anew", pinned(routerNew))
	r.hear(unsolicited, now.Add(5*time.Second)) // names the MAC followed now
	unsolicited.TargetLLA = evilMAC
	r.hear(unsolicited, now.Add(6*time.Second))
	r.wantSent(t, "another claim within 30 s")
}

// TestKeeperConflict: while learning, two MACs answer one solicitation:
// the keeper trusts neither and pins nothing; a later round with one
// answer is learned.
func TestKeeperConflict(t *testing.T) {
	r := newTestKeeper(&config{pinGateway: true})
	r.tick(at(0))
	r.hear(answer(routerMAC), at(10*time.Millisecond))
	r.hear(forged(func(*neighborAdvertisement) {}), at(20*time.Millisecond))
	r.tick(at(time.Second))
	r.wantChanges(t, "two MACs answered")
	if got := r.c.naRefused[reasonNAConflict].Load(); got != 1 {
		t.Errorf("refused.na-conflict = %d, want 1", got)
	}
	r.w.take()
	r.tick(at(3 * time.Second))
	r.wantSent(t, "the next round", solicitFromGUA)
	r.hear(answer(routerMAC), at(3010*time.Millisecond))
	r.tick(at(4 * time.Second))
	r.wantChanges(t, "one MAC answered", pinned(routerMAC))
}

// TestKeeperAnnounceRate: a hundred new live addresses at -announce-rate
// 20 go out 20 at once and then 20 a second, each in its three rounds.
func TestKeeperAnnounceRate(t *testing.T) {
	r := newTestKeeper(&config{pinGateway: true, announceRate: 20})
	r.pinRouter(t)
	live := &liveAddrs{m: map[netip.Addr]uint8{}}
	for i := range 100 {
		live.m[netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 14: 0x10, 15: byte(i)})] = 1
	}
	start := at(10 * time.Second)
	r.setLive(live, start)
	perSecond := map[int]int{}
	for ms := 0; ms <= 20000; ms += 10 {
		now := start.Add(time.Duration(ms) * time.Millisecond)
		r.tick(now)
		for _, s := range r.w.take() {
			if strings.HasPrefix(s, "DAD for ") {
				perSecond[ms/1000]++
			}
		}
	}
	total := 0
	for sec := 0; sec <= 20; sec++ {
		// A burst of 20, then 20 a second.
		if total += perSecond[sec]; total > 20+20*(sec+1) {
			t.Errorf("by the end of second %d, %d announcements, want at most %d", sec, total, 20+20*(sec+1))
		}
	}
	if total != 300 {
		t.Errorf("%d announcements in all, want 300 (three rounds of 100)", total)
	}
	if r.c.announceDeferred.Load() == 0 {
		t.Errorf("no announcement was counted as deferred")
	}
}

// discardWire sends nothing and allocates nothing.
type discardWire struct{}

func (discardWire) write([]byte) error { return nil }

// TestKeeperKeepaliveAllocs: a keepalive round (the probes, the gateway's
// answer, the window's close, the counters' report) allocates nothing, so
// that keepalives of months make no garbage.
func TestKeeperKeepaliveAllocs(t *testing.T) {
	r := newTestKeeper(&config{pinGateway: true, keepalive: 10 * time.Second, announce: []netip.Addr{keeperAnn}})
	r.out = discardWire{}
	r.tick(at(0))
	r.hear(answer(routerMAC), at(500*time.Millisecond))
	r.tick(at(time.Second))
	r.tick(at(3 * time.Second))
	now, na := at(10*time.Second), answer(routerMAC)
	if n := testing.AllocsPerRun(50, func() {
		r.tick(now)
		r.hear(na, now.Add(time.Millisecond))
		r.tick(now.Add(answerWindow))
		r.report()
		now = now.Add(10 * time.Second)
	}); n != 0 {
		t.Errorf("a keepalive round allocates %v times, want 0", n)
	}
	if s := *r.c.gateway.Load(); s != routerLL.String()+","+routerMAC.String()+",pinned" {
		t.Errorf("after the keepalives: gateway %q, want it known and pinned", s)
	}
}

// TestKeeperSweepsLeftPins: at start, the pins a run that died left on the
// uplink are found by their mark: the current gateway's is taken over and,
// once the gateway answers from another MAC, moved; another address's is
// removed. Entries not marked as ours, and ours on another interface (a
// daemon of another uplink), are left alone.
func TestKeeperSweepsLeftPins(t *testing.T) {
	oldGateway := netip.MustParseAddr("fe80::ff:fe00:99")
	hand := netip.MustParseAddr("fe80::ff:fe00:98")
	elsewhere := netip.MustParseAddr("fe80::ff:fe00:97")
	nt := newFakeNeigh()
	nt.entries[routerLL] = rtnl.Neigh{Family: rtnl.AfInet6, Ifindex: 7, Addr: routerLL, State: rtnl.NudNoARP, Proto: pinProtocol, MAC: routerMAC, HasMAC: true}
	nt.entries[oldGateway] = rtnl.Neigh{Family: rtnl.AfInet6, Ifindex: 7, Addr: oldGateway, State: rtnl.NudNoARP, Proto: pinProtocol, MAC: evilMAC, HasMAC: true}
	nt.entries[hand] = rtnl.Neigh{Family: rtnl.AfInet6, Ifindex: 7, Addr: hand, State: rtnl.NudNoARP, MAC: evilMAC, HasMAC: true}
	nt.entries[elsewhere] = rtnl.Neigh{Family: rtnl.AfInet6, Ifindex: 8, Addr: elsewhere, State: rtnl.NudNoARP, Proto: pinProtocol, MAC: evilMAC, HasMAC: true}
	r := &keeperRig{nt: nt, w: &fakeWire{}, nas: make(chan neighborAdvertisement, 16)}
	r.tk = &toKeeper{view: &atomic.Pointer[gatewayView]{}, nas: r.nas, claims: newMailbox[mac](), log: logLimiter{perSecond: 1, burst: 5}}
	r.gatewayKeeper = newGatewayKeeper(7, &config{pinGateway: true}, keeperUplink(routerLL), nt, r.w, &counters{}, r.tk.view)
	r.start(keeperT0)
	r.wantChanges(t, "at start", "del "+oldGateway.String())
	r.wantState(t, "taken over", routerLL.String()+",pinned")
	r.tick(at(0))
	r.hear(answer(routerNew), at(100*time.Millisecond))
	r.tick(at(time.Second))
	r.wantChanges(t, "the gateway answered from another MAC", pinned(routerNew))
	for _, a := range []netip.Addr{hand, elsewhere} {
		if _, ok := nt.entries[a]; !ok {
			t.Errorf("the entry for %v, not this uplink's pin, was removed", a)
		}
	}
	r.unpin()
	r.wantChanges(t, "stop", "del "+routerLL.String())
}

// TestKeeperGivesBack: a pin whose gateway cannot be learned anew is
// removed after giveBackAfter, leaving the entry to the kernel, and put
// back when the gateway answers again.
func TestKeeperGivesBack(t *testing.T) {
	r := newTestKeeper(&config{pinGateway: true})
	r.pinRouter(t)
	lost := at(pinCheckEvery + time.Duration(maxUnanswered)*answerWindow)
	for now := at(pinCheckEvery); now.Before(lost.Add(giveBackAfter)); now = now.Add(500 * time.Millisecond) {
		r.tick(now)
	}
	r.wantChanges(t, "silent for less than giveBackAfter")
	r.tick(lost.Add(giveBackAfter))
	r.wantChanges(t, "silent for giveBackAfter", "del "+routerLL.String())
	r.wantState(t, "given back", routerLL.String()+","+routerMAC.String()+",relearning")
	r.w.take()
	back := lost.Add(2 * giveBackAfter)
	for now := lost.Add(giveBackAfter); !now.After(back); now = now.Add(500 * time.Millisecond) {
		r.tick(now)
	}
	if sent := r.w.take(); !slices.Contains(sent, solicitFromGUA) {
		t.Fatalf("while given back the keeper sent %q, want it to go on soliciting the gateway", sent)
	}
	r.wantChanges(t, "given back")
	now := back
	for range 200 { // the next solicitation, at most a minute on
		now = now.Add(500 * time.Millisecond)
		if r.tick(now); len(r.w.take()) > 0 {
			break
		}
	}
	r.hear(answer(routerMAC), now.Add(100*time.Millisecond))
	r.tick(now.Add(answerWindow))
	r.wantChanges(t, "the gateway answered again", pinned(routerMAC))
	r.wantState(t, "pinned again", routerLL.String()+","+routerMAC.String()+",pinned")
}

// TestKeeperKeepalivePaced: a keepalive from 4,096 live addresses sends
// no more frames a second than -announce-rate allows (and its one
// question), where it sent one per address at once; each address still
// speaks to the gateway within the time the rate needs.
func TestKeeperKeepalivePaced(t *testing.T) {
	const rate, n = 20, 4096
	r := newTestKeeper(&config{pinGateway: true, keepalive: time.Hour, announceRate: rate})
	r.pinRouter(t)
	live := &liveAddrs{m: map[netip.Addr]uint8{}}
	base := netip.MustParseAddr("2001:db8:1:2::1000").As16()
	for i := range n {
		a := base
		a[12], a[14], a[15] = 1, byte(i>>8), byte(i)
		live.m[netip.AddrFrom16(a)] = 1
	}
	r.setLive(live, at(time.Second))
	// Let the announcements drain first: n addresses at rate a second, in
	// three rounds.
	now := at(time.Second)
	for end := now.Add(4 * n / rate * time.Second); now.Before(end); now = now.Add(time.Second / rate) {
		r.tick(now)
	}
	r.w.take()
	start := at(time.Hour)
	perSecond := map[int64]int{}
	refreshed := map[string]bool{}
	for now = start; now.Before(start.Add(2 * n / rate * time.Second)); now = now.Add(50 * time.Millisecond) {
		r.tick(now)
		for _, f := range r.w.take() {
			if strings.Contains(f, keeperGUA.String()+" ->") {
				continue // the keepalive's question, and probes after it
			}
			perSecond[int64(now.Sub(start)/time.Second)]++
			refreshed[f] = true
		}
	}
	for s, c := range perSecond {
		if c > 2*rate { // a full bucket, and a second's worth
			t.Errorf("second %d of the keepalive: %d frames from live addresses, want at most %d", s, c, 2*rate)
		}
	}
	if len(refreshed) < n {
		t.Errorf("%d distinct frames within %d s of the keepalive, want one from each of the %d addresses", len(refreshed), 2*n/rate, n)
	}
}
