package main

import (
	"testing"
	"time"
)

func TestLogLimiter(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	type step struct {
		at         time.Duration // since t0
		ok         bool
		suppressed uint64
	}
	tests := []struct {
		name             string
		perSecond, burst float64
		steps            []step
	}{
		{"burst honoured", 1, 3, []step{
			{0, true, 0}, {0, true, 0}, {0, true, 0},
			{0, false, 0}, {0, false, 0},
		}},
		{"refill by rate", 2, 1, []step{
			{0, true, 0},
			{0, false, 0},
			{250 * time.Millisecond, false, 0}, // half a token
			{500 * time.Millisecond, true, 2},  // a whole one; two held back
			{500 * time.Millisecond, false, 0},
			{time.Second, true, 1},
			{time.Second, false, 0},
		}},
		{"refill capped at burst", 10, 2, []step{
			{0, true, 0}, {0, true, 0}, {0, false, 0},
			{time.Hour, true, 1}, {time.Hour, true, 0}, {time.Hour, false, 0},
			{time.Hour + 100*time.Millisecond, true, 1},
		}},
		{"suppressed count reported once", 1, 1, []step{
			{0, true, 0},
			{100 * time.Millisecond, false, 0},
			{200 * time.Millisecond, false, 0},
			{300 * time.Millisecond, false, 0},
			{1300 * time.Millisecond, true, 3},
			{2300 * time.Millisecond, true, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := logLimiter{perSecond: tt.perSecond, burst: tt.burst}
			for i, s := range tt.steps {
				ok, n := l.allow(t0.Add(s.at))
				if ok != s.ok || n != s.suppressed {
					t.Errorf("step %d: allow(t0+%v) = %v, %d; want %v, %d", i, s.at, ok, n, s.ok, s.suppressed)
				}
			}
		})
	}
}
