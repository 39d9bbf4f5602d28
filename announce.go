package main

// Announcements: for a router that learns an address only once the VPS
// has spoken from it, each address is announced in a few rounds, each a
// DAD-style NS for it and an NS from it to the gateway. What to send and
// when, as plain Go; the gateway keeper sends.

import (
	"math/rand/v2"
	"net/netip"
	"time"
)

// announceRounds is when each round of announcements goes out, counted
// from the first; each is jittered by up to a quarter either way so that a
// fleet started together does not announce in step.
var announceRounds = [...]time.Duration{0, time.Second, 3 * time.Second}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d - d/4 + rand.N(d/2+1)
}

// appendDADProbe appends a duplicate-address-detection-style NS for addr,
// as the kernel sends when an address is added (RFC 4862 §5.4.2): from ::
// to addr's solicited-node group, no source link-layer option, with a Nonce
// option (RFC 7527) as Linux adds.
func appendDADProbe(b []byte, self mac, addr netip.Addr) []byte {
	var nonce [6]byte
	for nonce == ([6]byte{}) {
		v := rand.Uint64()
		nonce = [6]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24), byte(v >> 32), byte(v >> 40)}
	}
	g := solicitedNode(addr)
	return appendNS(b, self, multicastMAC(g), netip.IPv6Unspecified(), g, addr, nonce)
}

// announcement is one address's next round of announcements, due at a
// time.
type announcement struct {
	addr  netip.Addr
	round int
	at    time.Time
}

// announceQueue holds the rounds still to send, one entry per address, in
// one slice that due filters in place: once it has grown to the most
// addresses ever waiting, a container's start and stop make no garbage
// here (batches of the callers' slices did, at every start).
type announceQueue struct {
	queue  []announcement
	jitter func(time.Duration) time.Duration
	out    []netip.Addr // what due returns
}

// add schedules the first round for addrs, at now give or take the
// jitter; it copies them.
func (q *announceQueue) add(addrs []netip.Addr, now time.Time) {
	if len(addrs) == 0 {
		return
	}
	at := now.Add(q.jitter(announceRounds[0]))
	for _, a := range addrs {
		q.queue = append(q.queue, announcement{addr: a, at: at})
	}
}

// due removes and returns the addresses due at now, as many as take
// allows (it is asked once for each), and schedules their next rounds.
// Those take refuses keep their round and are due again at retry; held
// says how many. The addresses sent in one call have the same jitter for
// their next round. out is valid until the next call.
func (q *announceQueue) due(now time.Time, take func() bool, retry time.Time) (out []netip.Addr, held int) {
	var step [len(announceRounds)]time.Duration // the next rounds' gaps, jittered once
	keep, out := q.queue[:0], q.out[:0]         // keep trails the loop: in place
	for _, e := range q.queue {
		switch {
		case e.at.After(now):
		case !take():
			held++
			e.at = retry
		default:
			out = append(out, e.addr)
			next := e.round + 1
			if next >= len(announceRounds) {
				continue // its last round: done
			}
			if step[next] == 0 {
				step[next] = max(q.jitter(announceRounds[next]-announceRounds[e.round]), 1)
			}
			e.round, e.at = next, e.at.Add(step[next])
		}
		keep = append(keep, e)
	}
	clear(q.queue[len(keep):]) // let go of the addresses done
	q.queue, q.out = keep, out
	return out, held
}

// next is when the earliest round is due; zero when none is queued.
func (q *announceQueue) next() time.Time {
	var t time.Time
	for _, e := range q.queue {
		if t.IsZero() || e.at.Before(t) {
			t = e.at
		}
	}
	return t
}
