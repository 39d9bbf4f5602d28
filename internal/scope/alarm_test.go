package scope

import (
	"testing"
	"time"
)

// rings counts the rings waiting on a's channel after d.
func rings(a *Alarm, d time.Duration) int {
	n := 0
	for deadline := time.After(d); ; {
		select {
		case <-a.C:
			n++
		case <-deadline:
			return n
		}
	}
}

func TestAlarmRings(t *testing.T) {
	a := NewAlarm(10 * time.Millisecond)
	defer a.Stop()
	select {
	case <-a.C:
	case <-time.After(2 * time.Second):
		t.Fatal("a 10 ms alarm did not ring in 2 s")
	}
	a.Reset(10 * time.Millisecond)
	select {
	case <-a.C:
	case <-time.After(2 * time.Second):
		t.Fatal("a reset alarm did not ring in 2 s")
	}
}

func TestAlarmResetDropsARing(t *testing.T) {
	a := NewAlarm(time.Millisecond)
	defer a.Stop()
	if !waitFor(func() bool { return len(a.c) == 1 }) {
		t.Fatal("a 1 ms alarm did not ring in 2 s")
	}
	a.Reset(time.Hour)
	if n := rings(a, 20*time.Millisecond); n != 0 {
		t.Errorf("%d rings after reset(1h), want the waiting one dropped", n)
	}
	a.Stop()
	a.Reset(time.Millisecond) // a stopped one-shot alarm rings again when reset
	if !waitFor(func() bool { return len(a.c) == 1 }) {
		t.Fatal("a stopped alarm, reset, did not ring")
	}
	a.Stop()
	if len(a.c) != 0 {
		t.Error("stop left a ring waiting")
	}
}

func TestTicker(t *testing.T) {
	a := NewTicker(5 * time.Millisecond)
	n := 0
	for deadline := time.After(2 * time.Second); n < 3; n++ {
		select {
		case <-a.C:
		case <-deadline:
			t.Fatalf("a 5 ms ticker rang %d times in 2 s", n)
		}
	}
	a.Stop()
	// A ring on its way when it stopped may still land, once; then none.
	if n := rings(a, 30*time.Millisecond); n > 1 {
		t.Errorf("%d rings in 30 ms after stop, want at most 1", n)
	}
	if n := rings(a, 30*time.Millisecond); n != 0 {
		t.Errorf("the stopped ticker still rings: %d in 30 ms", n)
	}
}

// The keeper resets its alarm at every turn of its loop, keepalives
// included, which allocate nothing.
func TestAlarmResetAllocs(t *testing.T) {
	a := NewAlarm(time.Hour)
	defer a.Stop()
	if n := testing.AllocsPerRun(100, func() { a.Reset(time.Hour) }); n != 0 {
		t.Errorf("reset allocates %v times, want 0", n)
	}
}
