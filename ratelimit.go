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
// Targets share a slot by hash; a new target takes the slot over, so the
// memory stays fixed however many targets a flood names.
const targetSlots = 1024

type targetBucket struct {
	target netip.Addr
	bucket
}

// naBudget decides whether an answer may be sent now.
type naBudget struct {
	rate      int64 // global NAs per second; 0: unlimited
	perTarget int64 // NAs per second for one target; 0: unlimited
	global    bucket
	targets   [targetSlots]targetBucket
}

// allow spends from the target's budget and the global one.
func (b *naBudget) allow(target netip.Addr, now int64) bool {
	if b.perTarget > 0 {
		a := target.As16()
		h := uint32(2166136261) // FNV-1a over the low 8 bytes
		for _, v := range a[8:] {
			h = (h ^ uint32(v)) * 16777619
		}
		s := &b.targets[h%targetSlots]
		if s.target != target {
			*s = targetBucket{target: target}
		}
		if !s.take(now, b.perTarget, b.perTarget) {
			return false
		}
	}
	return b.rate <= 0 || b.global.take(now, b.rate, b.rate)
}
