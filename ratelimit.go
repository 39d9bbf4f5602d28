package main

// The NA budget: a global token bucket and a per-target one, in fixed
// memory, so that a flood of solicitations costs a bounded number of
// answers and no memory.

import (
	"net/netip"
	"time"
)

// maxRate is the most NAs a second a budget may allow: far more than a
// packet loop on a small box sends, and small enough that a bucket's
// arithmetic never overflows.
const maxRate = 1_000_000

// monoStart anchors monotonic: the budgets measure time on the monotonic
// clock, which a step of the wall clock does not move.
var monoStart = time.Now()

// monotonic is the time since the daemon started, in nanoseconds, on the
// monotonic clock.
func monotonic() int64 { return int64(time.Since(monoStart)) }

// bucket is a token bucket over monotonic nanoseconds; no allocation, no
// floating point.
type bucket struct {
	tokens  int64 // in units of 1e9 per token
	last    int64 // ns
	started bool
}

// take spends one token if there is one, refilling at rate per second up
// to burst tokens; rate and burst are at most maxRate. Time that runs
// backwards refills nothing, and a long pause refills the bucket and no
// more, so that no product overflows.
func (b *bucket) take(now int64, rate, burst int64) bool {
	const unit = 1e9
	full := burst * unit
	switch dt := now - b.last; {
	case !b.started:
		b.tokens, b.started = full, true
	case dt <= 0:
	case dt >= (full-b.tokens)/max(rate, 1)+1:
		b.tokens = full
	default:
		b.tokens = min(full, b.tokens+dt*rate)
	}
	b.last = now
	if b.tokens < unit {
		return false
	}
	b.tokens -= unit
	return true
}

// targetSlots is how many buckets the per-target budget keeps. Targets
// share a slot by hash, and the targets of one slot share its bucket, so
// the memory stays fixed, 6 kB, however many targets a flood names. A
// collision errs on the side of answering less: it once gave the new
// target a fresh bucket, and two targets of one slot, asked in turn, were
// never limited. A bucket left alone refills, so a slot whose last target
// fell quiet is as good as new for the next.
const targetSlots = 256

// naBudget holds the state of the NA budget; the rates come from the
// configuration at each call, so a reload changes them in place.
type naBudget struct {
	global  bucket
	targets [targetSlots]bucket
}

// allow spends from the target's budget, perTarget NAs a second, and the
// global one, rate a second; 0 is unlimited.
func (b *naBudget) allow(target netip.Addr, now, rate, perTarget int64) bool {
	if perTarget > 0 {
		if !b.targets[addrHash(target)%targetSlots].take(now, perTarget, perTarget) {
			return false
		}
	}
	return rate <= 0 || b.global.take(now, rate, rate)
}

// addrHash is the FNV-1a hash of an address, which keys the fixed tables
// of the budgets.
func addrHash(a netip.Addr) uint64 {
	h := uint64(14695981039346656037)
	for _, v := range a.As16() {
		h = (h ^ uint64(v)) * 1099511628211
	}
	return h
}
