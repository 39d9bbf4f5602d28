package main

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAppendGatewayNS(t *testing.T) {
	gua := netip.MustParseAddr("2001:db8:1:2::2")
	announced := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:10")
	tests := []struct {
		name    string
		src, gw netip.Addr
	}{
		{"from the uplink's address", gua, routerLL},
		{"from an announced address", announced, routerLL},
		{"from link-local", netip.MustParseAddr("fe80::ff:fe00:2"), routerLL},
		{"to a global gateway", gua, netip.MustParseAddr("2001:db8:1:2::1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := appendGatewayNS(nil, vpsMAC, tt.src, tt.gw)
			g := solicitedNode(tt.gw)
			want := neighborSolicitation{
				EthDst: multicastMAC(g), EthSrc: vpsMAC, HopLimit: ndHopLimit,
				Src: tt.src, Dst: g, Target: tt.gw,
				SourceLLA: vpsMAC, HasSourceLLA: true,
			}
			var got neighborSolicitation
			if err := parseNS(b, &got); err != nil || got != want {
				t.Errorf("parseNS(appendGatewayNS(nil, %v, %v, %v)) = %+v, %v; want %+v", vpsMAC, tt.src, tt.gw, got, err, want)
			}
			if len(b) != nsFrameMin+llaOptLen {
				t.Errorf("appendGatewayNS(nil, %v, %v, %v) is %d bytes, want %d: no nonce", vpsMAC, tt.src, tt.gw, len(b), nsFrameMin+llaOptLen)
			}
		})
	}
}

func TestSolicitSources(t *testing.T) {
	a := netip.MustParseAddr
	ll := a("fe80::ff:fe00:2")
	gua1, gua2 := a("2001:db8:1:2::2"), a("2001:db8:1:2::3")
	ann1, ann2 := a("2001:db8:1:2:646f:636b:6572:10"), a("2001:db8:1:2:646f:636b:6572:11")
	tests := []struct {
		name     string
		link     *uplink
		announce []netip.Addr
		want     []netip.Addr
	}{
		{"announced first, then the first global", &uplink{Addrs: []netip.Addr{ll, gua1, gua2}, LinkLocal: ll, Global: []netip.Addr{gua1, gua2}},
			[]netip.Addr{ann1, ann2}, []netip.Addr{ann1, ann2, gua1}},
		{"the first global alone", &uplink{Addrs: []netip.Addr{ll, gua2, gua1}, LinkLocal: ll, Global: []netip.Addr{gua2, gua1}}, nil, []netip.Addr{gua2}},
		{"an announced global once", &uplink{Addrs: []netip.Addr{ll, ann1}, LinkLocal: ll, Global: []netip.Addr{ann1}}, []netip.Addr{ann1}, []netip.Addr{ann1}},
		{"announced, no global", &uplink{Addrs: []netip.Addr{ll}, LinkLocal: ll}, []netip.Addr{ann1}, []netip.Addr{ann1}},
		{"link-local only when there is nothing else", &uplink{Addrs: []netip.Addr{ll}, LinkLocal: ll}, nil, []netip.Addr{ll}},
		{"multicast and loopback are not global", &uplink{Addrs: []netip.Addr{a("ff02::1"), a("::1"), ll}, LinkLocal: ll}, nil, []netip.Addr{ll}},
		{"nothing at all", &uplink{}, nil, nil},
		{"no link-local, no global", &uplink{Addrs: []netip.Addr{a("::1")}}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			announce := slices.Clone(tt.announce)
			got := solicitSources(tt.link, announce)
			if !slices.Equal(got, tt.want) {
				t.Errorf("solicitSources(%+v, %v) = %v, want %v", *tt.link, tt.announce, got, tt.want)
			}
			if len(got) > 0 {
				got[0] = netip.Addr{}
			}
			if !slices.Equal(announce, tt.announce) {
				t.Errorf("solicitSources(%+v, %v): changing the result changed the announced list to %v", *tt.link, tt.announce, announce)
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
		"appendGatewayNS": func() { b = appendGatewayNS(b[:0], vpsMAC, src, routerLL) },
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", name, n)
		}
	}
}

// fakeNeigh is a neighbour table for the keeper's tests: one interface's
// entries, and every change made to them.
type fakeNeigh struct {
	entries map[netip.Addr]neighEntry
	changes []string
}

func newFakeNeigh() *fakeNeigh { return &fakeNeigh{entries: map[netip.Addr]neighEntry{}} }

func (f *fakeNeigh) neigh(_ int, a netip.Addr) (neighEntry, bool, error) {
	e, ok := f.entries[a]
	return e, ok, nil
}

func (f *fakeNeigh) setNeigh(ifindex int, a netip.Addr, state uint16, m mac) error {
	f.entries[a] = neighEntry{Ifindex: ifindex, Addr: a, State: state, MAC: m, HasMAC: true}
	f.changes = append(f.changes, "set "+a.String()+" "+nudString(state)+" "+m.String())
	return nil
}

func (f *fakeNeigh) delNeigh(_ int, a netip.Addr) error {
	delete(f.entries, a)
	f.changes = append(f.changes, "del "+a.String())
	return nil
}

// fakeWire records the frames the keeper sends, as one line each: "NS
// src -> dst for target", "DAD for target".
type fakeWire struct{ sent []string }

func (w *fakeWire) write(frame []byte) error {
	var ns neighborSolicitation
	if err := parseNS(frame, &ns); err != nil {
		w.sent = append(w.sent, "bad frame: "+err.Error())
		return nil
	}
	if ns.Src.IsUnspecified() {
		w.sent = append(w.sent, "DAD for "+ns.Target.String())
	} else {
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
	// What the keeper sends to the router's solicited-node group.
	solicitFromGUA = "NS " + keeperGUA.String() + " -> " + solicitedNode(routerLL).String() + " for " + routerLL.String()
	solicitFromAnn = "NS " + keeperAnn.String() + " -> " + solicitedNode(routerLL).String() + " for " + routerLL.String()
)

func keeperUplink(gw netip.Addr) *uplink {
	ll := netip.MustParseAddr("fe80::ff:fe00:2")
	return &uplink{MAC: vpsMAC, Addrs: []netip.Addr{ll, keeperGUA}, LinkLocal: ll, Global: []netip.Addr{keeperGUA}, Gateway: gw}
}

// newTestKeeper is a keeper on fakes, with no jitter, started at keeperT0.
func newTestKeeper(cfg *config) (*gatewayKeeper, *fakeNeigh, *fakeWire) {
	nt, w := newFakeNeigh(), &fakeWire{}
	k := newGatewayKeeper(7, cfg, keeperUplink(routerLL), nt, w, &counters{})
	k.announce.jitter = func(d time.Duration) time.Duration { return d }
	k.start(keeperT0)
	return k, nt, w
}

// answer is the router's NA for itself to the keeper, naming m.
func answer(m mac) *neighborAdvertisement {
	return &neighborAdvertisement{EthDst: vpsMAC, EthSrc: m, Src: routerLL, Dst: keeperGUA,
		Flags: naFlagSolicited | naFlagRouter | naFlagOverride, Target: routerLL, TargetLLA: m, HasTargetLLA: true}
}

// at is keeperT0 plus d.
func at(d time.Duration) time.Time { return keeperT0.Add(d) }

func wantSent(t *testing.T, step string, w *fakeWire, want ...string) {
	t.Helper()
	if got := w.take(); !slices.Equal(got, want) {
		t.Errorf("%s: sent %q, want %q", step, got, want)
	}
}

func wantChanges(t *testing.T, step string, nt *fakeNeigh, want ...string) {
	t.Helper()
	if !slices.Equal(nt.changes, want) {
		t.Errorf("%s: neighbour table changes %q, want %q", step, nt.changes, want)
	}
	nt.changes = nil
}

// TestKeeperLearnsAndPins: the keeper solicits the gateway from the
// uplink's global address at once and then after 1, 2, 4... s, until an
// answer comes; it pins that MAC, and stops soliciting.
func TestKeeperLearnsAndPins(t *testing.T) {
	k, nt, w := newTestKeeper(&config{pinGateway: true})
	if got := k.next(); !got.Equal(keeperT0) {
		t.Fatalf("next() after start = %v, want start", got)
	}
	k.tick(at(0))
	wantSent(t, "at start", w, solicitFromGUA)
	for _, d := range []time.Duration{time.Second, 3 * time.Second, 7 * time.Second} {
		if got := k.next(); !got.Equal(at(d)) {
			t.Fatalf("next() = t0+%v, want t0+%v", got.Sub(keeperT0), d)
		}
		k.tick(at(d - time.Millisecond))
		wantSent(t, "just before the retry", w)
		k.tick(at(d))
		wantSent(t, "the retry at t0+"+d.String(), w, solicitFromGUA)
	}
	k.onNA(answer(routerMAC), at(7500*time.Millisecond))
	wantChanges(t, "after the answer", nt, "set "+routerLL.String()+" NOARP "+routerMAC.String())
	if !k.next().IsZero() {
		t.Errorf("next() once the gateway is known = %v, want nothing scheduled", k.next())
	}
	k.report()
	if got, want := *k.c.gateway.Load(), routerLL.String()+","+routerMAC.String()+",pinned"; got != want {
		t.Errorf("gateway state %q, want %q", got, want)
	}
	k.unpin()
	wantChanges(t, "unpin", nt, "del "+routerLL.String())
}

// TestKeeperQuiet: with neither a pin nor a keepalive the keeper has no
// use for the gateway's MAC and sends nothing.
func TestKeeperQuiet(t *testing.T) {
	k, nt, w := newTestKeeper(&config{})
	if !k.next().IsZero() {
		t.Errorf("next() = %v, want nothing scheduled", k.next())
	}
	k.tick(at(time.Hour))
	k.onNA(answer(routerMAC), at(time.Hour))
	wantSent(t, "an hour on", w)
	wantChanges(t, "an hour on", nt)
}

// TestKeeperAdminPin: an entry the administrator made PERMANENT is left
// as it is, also when the keeper stops.
func TestKeeperAdminPin(t *testing.T) {
	k, nt, _ := newTestKeeper(&config{pinGateway: true})
	nt.entries[routerLL] = neighEntry{Addr: routerLL, State: nudPermanent, MAC: routerNew, HasMAC: true}
	k.tick(at(0))
	k.onNA(answer(routerMAC), at(time.Second))
	k.setUplink(keeperUplink(routerLL), at(2*time.Second))
	k.unpin()
	wantChanges(t, "with a PERMANENT entry", nt)
	k.report()
	if got := *k.c.gateway.Load(); !strings.HasSuffix(got, ",pinned-by-admin") {
		t.Errorf("gateway state %q, want pinned-by-admin", got)
	}
}

// TestKeeperRepins: the kernel flushes a device's entries when it goes
// down; the next snapshot of the uplink puts the pin back.
func TestKeeperRepins(t *testing.T) {
	k, nt, _ := newTestKeeper(&config{pinGateway: true})
	k.tick(at(0))
	k.onNA(answer(routerMAC), at(time.Second))
	nt.changes = nil
	delete(nt.entries, routerLL)
	k.setUplink(keeperUplink(routerLL), at(5*time.Second))
	wantChanges(t, "after a flush", nt, "set "+routerLL.String()+" NOARP "+routerMAC.String())
	k.setUplink(keeperUplink(routerLL), at(6*time.Second))
	wantChanges(t, "with the pin in place", nt)
}

// TestKeeperUnpinOnlyOurs: a pin someone else replaced is not removed.
func TestKeeperUnpinOnlyOurs(t *testing.T) {
	k, nt, _ := newTestKeeper(&config{pinGateway: true})
	k.tick(at(0))
	k.onNA(answer(routerMAC), at(time.Second))
	nt.entries[routerLL] = neighEntry{Addr: routerLL, State: nudReachable, MAC: routerMAC, HasMAC: true}
	nt.changes = nil
	k.unpin()
	wantChanges(t, "unpin of a replaced entry", nt)
}

// TestKeeperGatewayMoves: a new default gateway in the uplink's snapshot
// unpins the old one and solicits the new one at once; a snapshot with no
// gateway leaves things as they are.
func TestKeeperGatewayMoves(t *testing.T) {
	k, nt, w := newTestKeeper(&config{pinGateway: true})
	k.tick(at(0))
	k.onNA(answer(routerMAC), at(time.Second))
	w.take()
	nt.changes = nil
	k.setUplink(keeperUplink(netip.Addr{}), at(2*time.Second))
	wantChanges(t, "no default route", nt)
	gw2 := netip.MustParseAddr("fe80::2")
	k.setUplink(keeperUplink(gw2), at(3*time.Second))
	wantChanges(t, "a new gateway", nt, "del "+routerLL.String())
	k.tick(at(3 * time.Second))
	wantSent(t, "a new gateway", w, "NS "+keeperGUA.String()+" -> "+solicitedNode(gw2).String()+" for "+gw2.String())
	k.onNA(answer(routerMAC), at(4*time.Second))
	wantChanges(t, "an NA for the old gateway", nt)
}

// TestKeeperKeepalive: with -keepalive the gateway is solicited every
// interval, from every announced address and the uplink's global one;
// silence is warned about once, after two intervals and a second.
func TestKeeperKeepalive(t *testing.T) {
	k, _, w := newTestKeeper(&config{pinGateway: true, keepalive: 10 * time.Second, announce: []netip.Addr{keeperAnn}})
	k.tick(at(0))
	wantSent(t, "at start", w, solicitFromAnn, solicitFromGUA, "DAD for "+keeperAnn.String(), solicitFromAnn)
	k.onNA(answer(routerMAC), at(500*time.Millisecond))
	wantSent(t, "the owed NS once the gateway is known", w, solicitFromAnn)
	k.tick(at(time.Second))
	wantSent(t, "the second announcement round", w, "DAD for "+keeperAnn.String(), solicitFromAnn)
	k.tick(at(3 * time.Second))
	wantSent(t, "the third announcement round", w, "DAD for "+keeperAnn.String(), solicitFromAnn)
	for i := 1; i <= 3; i++ {
		d := time.Duration(i) * 10 * time.Second
		if got := k.next(); !got.Equal(at(d)) {
			t.Fatalf("keepalive %d: next() = t0+%v, want t0+%v", i, got.Sub(keeperT0), d)
		}
		k.tick(at(d))
		wantSent(t, "keepalive", w, solicitFromAnn, solicitFromGUA)
		k.report()
		silent := strings.HasSuffix(*k.c.gateway.Load(), ",silent")
		if want := i == 3; silent != want {
			t.Errorf("keepalive %d, %v after the last answer: silent = %v, want %v", i, d, silent, want)
		}
	}
	k.onNA(answer(routerMAC), at(31*time.Second))
	k.report()
	if strings.HasSuffix(*k.c.gateway.Load(), ",silent") {
		t.Errorf("still silent after an answer")
	}
}

// TestKeeperFollowsMAC: the pin follows the gateway to a new MAC.
func TestKeeperFollowsMAC(t *testing.T) {
	k, nt, _ := newTestKeeper(&config{pinGateway: true, keepalive: 10 * time.Second})
	k.tick(at(0))
	k.onNA(answer(routerMAC), at(time.Second))
	nt.changes = nil
	k.tick(at(10 * time.Second))
	k.onNA(answer(routerNew), at(10*time.Second+time.Millisecond))
	wantChanges(t, "a new MAC", nt, "set "+routerLL.String()+" NOARP "+routerNew.String())
}

// TestKeeperReconfigure: a reload that turns the pin off unpins; one that
// adds an address announces it; one that turns the keepalive on
// schedules it.
func TestKeeperReconfigure(t *testing.T) {
	cfg := &config{pinGateway: true}
	k, nt, w := newTestKeeper(cfg)
	k.tick(at(0))
	k.onNA(answer(routerMAC), at(time.Second))
	w.take()
	nt.changes = nil
	k.setConfig(&config{pinGateway: false, keepalive: 20 * time.Second, announce: []netip.Addr{keeperAnn}}, at(2*time.Second))
	wantChanges(t, "pin off", nt, "del "+routerLL.String())
	if got := k.next(); !got.Equal(at(2 * time.Second)) {
		t.Errorf("next() after adding -a = t0+%v, want now", got.Sub(keeperT0))
	}
	k.tick(at(2 * time.Second))
	wantSent(t, "a new -a", w, "DAD for "+keeperAnn.String(), solicitFromAnn)
	k.tick(at(22 * time.Second))
	if got := w.take(); !slices.Contains(got, solicitFromGUA) {
		t.Errorf("the keepalive turned on by the reload sent %q, want %q among them", got, solicitFromGUA)
	}
}

// TestKeeperLive: new live addresses are announced in three rounds, at 0,
// 1 and 3 s; gone ones are forgotten and solicit no more.
func TestKeeperLive(t *testing.T) {
	k, _, w := newTestKeeper(&config{pinGateway: true, keepalive: time.Minute})
	k.tick(at(0))
	k.onNA(answer(routerMAC), at(100*time.Millisecond))
	w.take()
	live := &liveAddrs{m: map[netip.Addr]struct{}{keeperAnn: {}}}
	k.setLive(live, at(time.Second))
	for _, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if got := k.next(); !got.Equal(at(d)) {
			t.Fatalf("next() = t0+%v, want t0+%v", got.Sub(keeperT0), d)
		}
		k.tick(at(d))
		wantSent(t, "announcement at t0+"+d.String(), w, "DAD for "+keeperAnn.String(), solicitFromAnn)
	}
	k.setLive(live, at(5*time.Second))
	k.tick(at(10 * time.Second))
	wantSent(t, "the same set again", w)
	k.setLive(&liveAddrs{m: map[netip.Addr]struct{}{}}, at(20*time.Second))
	k.tick(at(time.Minute))
	wantSent(t, "the keepalive after the address went", w, solicitFromGUA)
}
