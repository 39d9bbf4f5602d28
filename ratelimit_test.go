package main

import (
	"net/netip"
	"testing"
)

func TestNABudget(t *testing.T) {
	a := netip.MustParseAddr("2001:db8::1")
	b := netip.MustParseAddr("2001:db8::2")
	const s = int64(1e9)
	t.Run("per target", func(t *testing.T) {
		var nb naBudget
		allow := func(a netip.Addr, now int64) bool { return nb.allow(a, now, 0, 3) }
		for i := 0; i < 3; i++ {
			if !allow(a, s) {
				t.Fatalf("NA %d for one target refused within the burst of 3", i+1)
			}
		}
		if allow(a, s) {
			t.Errorf("a 4th NA for one target in the same instant was allowed")
		}
		if !allow(b, s) {
			t.Errorf("another target was refused: budgets are per target")
		}
		if !allow(a, s+s/3+1) {
			t.Errorf("a third of a second later, one token should have come back")
		}
	})
	t.Run("colliding targets", func(t *testing.T) {
		// Two targets of one slot, asked in turn, share its budget: a
		// collision never hands out a fresh bucket.
		var c netip.Addr
		for i := 3; i < 1<<16 && !c.IsValid(); i++ {
			tg := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)})
			if addrHash(tg)%targetSlots == addrHash(a)%targetSlots {
				c = tg
			}
		}
		if !c.IsValid() {
			t.Fatal("no target shares a slot with", a)
		}
		var nb naBudget
		allowed := 0
		// 1000 solicitations over one second, a and c in turn.
		for i := range 1000 {
			tg := a
			if i%2 == 1 {
				tg = c
			}
			if nb.allow(tg, s+int64(i)*s/1000, 0, 3) {
				allowed++
			}
		}
		// The burst of 3 and 3 more refilled over the second, shared.
		if allowed > 6 {
			t.Errorf("%d NAs allowed in one second for %v and %v in turn at -rate-target 3, want at most 6", allowed, a, c)
		}
	})
	t.Run("global", func(t *testing.T) {
		var nb naBudget
		allow := func(a netip.Addr, now int64) bool { return nb.allow(a, now, 100, 0) }
		allowed := 0
		// 1000 distinct targets over one second, evenly.
		for i := 0; i < 1000; i++ {
			tg := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)})
			if allow(tg, s+int64(i)*s/1000) {
				allowed++
			}
		}
		// The burst of 100, then 100 more refilled over the second.
		if allowed < 195 || allowed > 201 {
			t.Errorf("%d of 1000 NAs in one second allowed at -rate 100, want about 200 (burst + rate)", allowed)
		}
	})
	t.Run("unlimited", func(t *testing.T) {
		var nb naBudget
		allow := func(a netip.Addr, now int64) bool { return nb.allow(a, now, 0, 0) }
		for i := 0; i < 10000; i++ {
			if !allow(a, s) {
				t.Fatalf("refused with no budget set")
			}
		}
	})
	t.Run("fixed memory", func(t *testing.T) {
		var nb naBudget
		allow := func(a netip.Addr, now int64) bool { return nb.allow(a, now, 0, 1) }
		if n := testing.AllocsPerRun(1000, func() { allow(a, s) }); n != 0 {
			t.Errorf("allow allocates %v per call", n)
		}
	})
	t.Run("long pauses and the highest rate", func(t *testing.T) {
		// A bucket idle for a day at the highest rate refills to its
		// depth and no more, without overflowing.
		var b bucket
		now := s
		for _, pause := range []int64{0, s, 24 * 3600 * s, 365 * 24 * 3600 * s} {
			now += pause
			n := 0
			for b.take(now, maxRate, maxRate) {
				n++
			}
			if n != maxRate {
				t.Errorf("after a pause of %d s, %d tokens, want %d", pause/s, n, maxRate)
			}
		}
	})
	t.Run("time that runs backwards", func(t *testing.T) {
		var b bucket
		for b.take(100*s, 10, 10) {
		}
		if b.take(50*s, 10, 10) {
			t.Errorf("a token came back when time ran backwards")
		}
		if !b.take(50*s+s/10, 10, 10) {
			t.Errorf("a tenth of a second on, no token at rate 10")
		}
	})
}

// TestMonotonic: the budgets' clock starts near zero and never goes back.
func TestMonotonic(t *testing.T) {
	a := monotonic()
	b := monotonic()
	if a < 0 || b < a {
		t.Errorf("monotonic() gave %d then %d", a, b)
	}
}
