package main

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"ndpresponder/internal/rtnl/rtnltest"
)

// goldenNeighProbe: appendNeighProbe(nil, 5, 7, container), as "ip -6 neigh
// replace 2001:db8:1:2:646f:636b:6572:c1 dev br0 use" sends it, but with
// state 0 where ip(8) puts NUD_PERMANENT (which would exempt a new entry
// from garbage collection), and without NLM_F_REPLACE or NLM_F_ACK.
var goldenNeighProbe = rtnltest.Golden{LE: `
	30000000          // nlmsghdr: len 48
	1c00              //   type RTM_NEWNEIGH (28)
	0104              //   flags NLM_F_REQUEST|NLM_F_CREATE (0x401)
	05000000          //   seq 5
	00000000          //   pid 0
	0a 00 0000        // ndmsg: family AF_INET6, pad1, pad2
	07000000          //   ifindex 7
	0000              //   state 0
	01 00             //   flags NTF_USE, type
	1400 0100         // rtattr: len 20, NDA_DST
	20010db800010002646f636b657200c1 // 2001:db8:1:2:646f:636b:6572:c1
`, BE: `
	00000030          // nlmsghdr: len 48
	001c              //   type RTM_NEWNEIGH (28)
	0401              //   flags NLM_F_REQUEST|NLM_F_CREATE (0x401)
	00000005          //   seq 5
	00000000          //   pid 0
	0a 00 0000        // ndmsg: family AF_INET6, pad1, pad2
	00000007          //   ifindex 7
	0000              //   state 0
	01 00             //   flags NTF_USE, type
	0014 0001         // rtattr: len 20, NDA_DST
	20010db800010002646f636b657200c1 // 2001:db8:1:2:646f:636b:6572:c1
`}

func TestAppendNeighProbeGolden(t *testing.T) {
	got := appendNeighProbe(nil, 5, 7, container)
	if want := goldenNeighProbe.Host(t); !bytes.Equal(got, want) {
		t.Errorf("appendNeighProbe(nil, 5, 7, %v) = %x\nwant %x", container, got, want)
	}
	// Appended after other bytes, the flag lands in this message.
	got = appendNeighProbe([]byte{1, 2, 3}, 5, 7, container)
	if want := append([]byte{1, 2, 3}, goldenNeighProbe.Host(t)...); !bytes.Equal(got, want) {
		t.Errorf("appendNeighProbe after 3 bytes = %x\nwant %x", got, want)
	}
}

// inRange is the i-th address of policyRange.
func inRange(i int) netip.Addr {
	a := policyRange.Addr().As16()
	a[14], a[15] = byte(i>>8), byte(i)
	return netip.AddrFrom16(a)
}

// TestProbeGate: one probe per target in probeEvery; probeBurst at once
// and probeRate a second in all, however many targets a scan names.
func TestProbeGate(t *testing.T) {
	var g probeGate
	sec := int64(time.Second)
	a := inRange(0xc1)
	if !g.admit(a, sec) {
		t.Fatalf("the first solicitation for %v is not probed", a)
	}
	if g.admit(a, sec+int64(probeEvery)-1) {
		t.Errorf("%v probed again within %v", a, probeEvery)
	}
	if !g.admit(a, sec+int64(probeEvery)) {
		t.Errorf("%v not probed again after %v", a, probeEvery)
	}

	// A scan of 10,000 addresses over 2 s.
	g = probeGate{}
	admitted := 0
	const n = 10000
	for i := range n {
		if g.admit(inRange(i), sec+int64(i)*2*sec/n) {
			admitted++
		}
	}
	if max := probeBurst + 2*probeRate; admitted > max || admitted < probeBurst {
		t.Errorf("a scan of %d addresses in 2 s made %d probes, want %d to %d", n, admitted, probeBurst, max)
	}
}

func TestProbeGateAllocs(t *testing.T) {
	var g probeGate
	now := int64(0)
	if n := testing.AllocsPerRun(1000, func() { now += int64(time.Millisecond); g.admit(inRange(int(now)), now) }); n != 0 {
		t.Errorf("admit: %v allocations per run, want 0", n)
	}
}

// TestPendingProbes: a solicitation waits for its target to come alive,
// for probeWait; more than maxPending push out the oldest.
func TestPendingProbes(t *testing.T) {
	var q pendingProbes
	t0 := time.Unix(1000, 0)
	req := func(i int) *probeRequest {
		r := &probeRequest{target: inRange(i)}
		r.n = copy(r.ns[:], routerNS(r.target))
		return r
	}
	var ns [maxProbeFrame]byte
	q.add(req(1), t0)
	if !q.has(inRange(1)) || q.has(inRange(2)) {
		t.Fatalf("has(1), has(2) = %v, %v; want true, false", q.has(inRange(1)), q.has(inRange(2)))
	}
	n, ok := q.take(inRange(1), t0.Add(probeWait), &ns)
	if !ok || !bytes.Equal(ns[:n], routerNS(inRange(1))) {
		t.Errorf("take(1) = %x, %v; want the solicitation", ns[:n], ok)
	}
	if _, ok := q.take(inRange(1), t0.Add(probeWait), &ns); ok || q.has(inRange(1)) {
		t.Errorf("a solicitation taken twice")
	}
	q.add(req(2), t0)
	if _, ok := q.take(inRange(2), t0.Add(probeWait+1), &ns); ok {
		t.Errorf("a solicitation answered %v after its probe, want at most %v", probeWait+1, probeWait)
	}
	// One too long to keep is probed, not answered late.
	long := &probeRequest{target: inRange(3)}
	q.add(long, t0)
	if _, ok := q.take(inRange(3), t0, &ns); ok {
		t.Errorf("a solicitation kept with no bytes is answered")
	}
	for i := range maxPending + 1 {
		q.add(req(100+i), t0.Add(time.Duration(i)*time.Millisecond))
	}
	if q.has(inRange(100)) || !q.has(inRange(101)) || !q.has(inRange(100+maxPending)) {
		t.Errorf("after %d solicitations, the oldest should have made room", maxPending+1)
	}
	// The same target again takes its own slot.
	q.add(req(101), t0.Add(time.Second))
	n = 0
	for i := range q.p {
		if q.p[i].req.target == inRange(101) && !q.p[i].at.IsZero() {
			n++
		}
	}
	if n != 1 {
		t.Errorf("a target asked twice holds %d slots, want 1", n)
	}
}

// learnResponder answers for policyRange's live addresses with -learn's
// probing, its queue for the test to read.
func learnResponder(from ...netip.Prefix) *responder {
	r := &responder{probes: make(chan probeRequest, probeQueueLen)}
	r.configure(&config{ranges: []netip.Prefix{policyRange}, learn: []string{"br0"}, from: from})
	link := testUplink()
	link.Gateway = inRange(0xfe)
	r.link.Store(link)
	return r
}

// TestAnswerProbes: a solicitation for a target of the ranges that is not
// live is handed to the -learn watcher with its bytes, once; one that
// would not be answered anyway is not.
func TestAnswerProbes(t *testing.T) {
	r := learnResponder()
	var na [naFrameLen]byte
	ns := routerNS(container)
	if got := r.answer(ns, &na, 1); got != reasonProbing {
		t.Fatalf("answer(NS for a silent %v) = %v, want %v", container, got, reasonProbing)
	}
	select {
	case req := <-r.probes:
		if req.target != container || !bytes.Equal(req.ns[:req.n], ns) {
			t.Errorf("probe request for %v with %x, want %v with %x", req.target, req.ns[:req.n], container, ns)
		}
	default:
		t.Fatalf("no probe request queued")
	}
	if got := r.answer(ns, &na, 2); got != reasonNotLive {
		t.Errorf("answer(the router's retransmission) = %v, want %v: one probe per %v", got, reasonNotLive, probeEvery)
	}
	for name, frame := range map[string][]byte{
		"the uplink's own address": routerNS(uplinkInRange),
		"the gateway's address":    routerNS(inRange(0xfe)),
		"outside the ranges":       routerNS(netip.MustParseAddr("2001:db8:ffff::1")),
		"DAD":                      dadInRange(t, inRange(0x77)),
	} {
		if got := r.answer(frame, &na, 3); got == reasonProbing {
			t.Errorf("%s: answer = %v; want no probe", name, got)
		}
	}
	// A source that -from does not allow starts no probe.
	r = learnResponder(netip.MustParsePrefix("fe80::99/128"))
	if got := r.answer(routerNS(container), &na, 1); got != reasonNotLive {
		t.Errorf("answer(NS from a source not allowed) = %v, want %v", got, reasonNotLive)
	}
	// Without -learn (only -N), nothing is probed.
	r = &responder{probes: make(chan probeRequest, probeQueueLen)}
	r.configure(&config{ranges: []netip.Prefix{policyRange}, docker: []string{"net"}})
	r.link.Store(testUplink())
	if got := r.answer(routerNS(container), &na, 1); got != reasonNotLive || len(r.probes) != 0 {
		t.Errorf("answer with -N only = %v with %d probes queued, want %v and none", got, len(r.probes), reasonNotLive)
	}
}

// TestAnswerProbesFull: a scan fills the queue and then costs nothing: no
// allocation, no blocking, requests past the budget dropped.
func TestAnswerProbesFull(t *testing.T) {
	r := learnResponder()
	var na [naFrameLen]byte
	frames := make([][]byte, 1000)
	for i := range frames {
		frames[i] = routerNS(inRange(0x1000 + i))
	}
	i := 0
	if n := testing.AllocsPerRun(len(frames)-1, func() { r.answer(frames[i], &na, int64(i)); i++ }); n != 0 {
		t.Errorf("answer with probing: %v allocations per run, want 0", n)
	}
	if len(r.probes) != probeQueueLen {
		t.Errorf("%d requests queued, want the queue full (%d)", len(r.probes), probeQueueLen)
	}
}

// TestAnswerLate: once the probed target is alive, the kept solicitation
// is answered as the packet loop would have answered it, even when the
// NA budget is spent.
func TestAnswerLate(t *testing.T) {
	r := learnResponder()
	var want, got [naFrameLen]byte
	ns := routerNS(container)
	var scratch neighborSolicitation
	if why := r.answerLate(ns, &scratch, &got); why != reasonNotLive {
		t.Errorf("answerLate before the target is alive = %v, want %v", why, reasonNotLive)
	}
	if len(r.probes) != 0 {
		t.Errorf("answerLate queued a probe")
	}
	r.live.Store(&liveAddrs{m: map[netip.Addr]uint8{container: 1}})
	for range 100 {
		r.answer(ns, &want, 5) // spends the target's budget
	}
	if why := r.answerLate(ns, &scratch, &got); why != reasonNone || got != want {
		t.Errorf("answerLate = %v, %x; want %v, %x", why, got, reasonNone, want)
	}
}
