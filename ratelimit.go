package main

// The NA budget: a global token bucket and a per-target one, in fixed
// memory, so that a flood of solicitations costs a bounded number of
// answers and no memory.

import "net/netip"

// bucket is a token bucket over nanosecond timestamps; no allocation, no
// floating point.
type bucket struct {
	tokens int64 // in units of 1e9 per token
	last   int64 // ns
}

// take spends one token if there is one, refilling at rate per second up
// to burst tokens.
func (b *bucket) take(now int64, rate, burst int64) bool {
	const unit = 1e9
	if b.last == 0 {
		b.tokens = burst * unit
	} else if dt := now - b.last; dt > 0 {
		b.tokens = min(burst*unit, b.tokens+dt*rate)
	}
	b.last = now
	if b.tokens < unit {
		return false
	}
	b.tokens -= unit
	return true
}

// targetSlots is how many targets the per-target budget follows at once.
// Targets share a slot by hash; a new target takes the slot over (and so
// starts with a full bucket: a collision errs on the side of answering), so
// the memory stays fixed, 6 kB, however many targets a flood names.
const targetSlots = 256

type targetBucket struct {
	key uint64 // FNV-1a of the target
	bucket
}

// naBudget holds the state of the NA budget; the rates come from the
// configuration at each call, so a reload changes them in place.
type naBudget struct {
	global  bucket
	targets [targetSlots]targetBucket
}

// allow spends from the target's budget, perTarget NAs a second, and the
// global one, rate a second; 0 is unlimited.
func (b *naBudget) allow(target netip.Addr, now, rate, perTarget int64) bool {
	if perTarget > 0 {
		a := target.As16()
		h := uint64(14695981039346656037) // FNV-1a
		for _, v := range a {
			h = (h ^ uint64(v)) * 1099511628211
		}
		s := &b.targets[h%targetSlots]
		if s.key != h {
			*s = targetBucket{key: h}
		}
		if !s.take(now, perTarget, perTarget) {
			return false
		}
	}
	return rate <= 0 || b.global.take(now, rate, rate)
}
