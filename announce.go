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
var announceRounds = []time.Duration{0, time.Second, 3 * time.Second}

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

// announceBatch is one round of announcements for some addresses, due at
// a time.
type announceBatch struct {
	addrs []netip.Addr
	round int
	at    time.Time
}

// announceQueue holds the rounds still to send.
type announceQueue struct {
	batches []announceBatch
	jitter  func(time.Duration) time.Duration

	spare []announceBatch // the batches' other slice, which due fills
	out   []netip.Addr    // what due returns
}

// add schedules the first round for addrs, at now give or take the jitter.
func (q *announceQueue) add(addrs []netip.Addr, now time.Time) {
	if len(addrs) > 0 {
		q.batches = append(q.batches, announceBatch{addrs: addrs, at: now.Add(q.jitter(announceRounds[0]))})
	}
}

// due removes and returns the addresses due at now, as many as take
// allows (it is asked once for each), and schedules their next rounds.
// Those take refuses keep their round and are due again at retry; held
// says how many. out is valid until the next call.
func (q *announceQueue) due(now time.Time, take func() bool, retry time.Time) (out []netip.Addr, held int) {
	keep, out := q.spare[:0], q.out[:0]
	for _, b := range q.batches {
		if b.at.After(now) {
			keep = append(keep, b)
			continue
		}
		n := 0
		for n < len(b.addrs) && take() {
			n++
		}
		out = append(out, b.addrs[:n]...)
		if next := b.round + 1; n > 0 && next < len(announceRounds) {
			keep = append(keep, announceBatch{addrs: b.addrs[:n:n], round: next,
				at: b.at.Add(q.jitter(announceRounds[next] - announceRounds[b.round]))})
		}
		if n < len(b.addrs) {
			held += len(b.addrs) - n
			keep = append(keep, announceBatch{addrs: b.addrs[n:], round: b.round, at: retry})
		}
	}
	clear(q.batches) // let go of the addresses sent
	q.spare, q.batches, q.out = q.batches[:0], keep, out
	return out, held
}

// next is when the earliest batch is due; zero when none is queued.
func (q *announceQueue) next() time.Time {
	var t time.Time
	for _, b := range q.batches {
		if t.IsZero() || b.at.Before(t) {
			t = b.at
		}
	}
	return t
}
