package main

import (
	"strings"
	"testing"

	"ndpresponder/internal/rtnl"
)

func TestCountersString(t *testing.T) {
	tests := []struct {
		name string
		set  func(c *counters)
		want string
	}{
		{"zero", func(*counters) {}, "seen=0 answered=0 send-errors=0 na-seen=0 ns-sent=0 announced=0"},
		{"ignored by name", func(c *counters) {
			c.seen.Add(7)
			c.answered.Add(2)
			c.sendErrors.Add(1)
			c.ignore(reasonOutOfRange)
			c.ignore(reasonDAD)
			c.ignore(reasonDAD)
			c.ignore(reasonChecksum)
		}, "seen=7 answered=2 send-errors=1 na-seen=0 ns-sent=0 announced=0 ignored.checksum=1 ignored.dad-probe=2 ignored.out-of-range=1"},
		{"no-source last", func(c *counters) {
			c.ignore(reasonNoSource)
			c.ignore(reasonTruncated)
		}, "seen=0 answered=0 send-errors=0 na-seen=0 ns-sent=0 announced=0 ignored.truncated=1 ignored.no-source-address=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c counters
			tt.set(&c)
			if got := c.String(); got != tt.want {
				t.Errorf("counters.String() = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("every reason", func(t *testing.T) {
		var c counters
		for r := reasonNone + 1; r < firstNAReason; r++ {
			c.ignore(r)
		}
		for r := firstNAReason; r < numReasons; r++ {
			c.naRefused[r].Add(1)
		}
		got := c.String()
		for r := reasonNone + 1; r < numReasons; r++ {
			want := " ignored." + r.Error() + "=1"
			if r >= firstNAReason {
				want = " refused." + r.Error() + "=1"
			}
			if !strings.Contains(got, want) {
				t.Errorf("counters.String() = %q, want it to contain %q", got, want)
			}
		}
	})
}

// TestCountersNetlinkCut: the counters' line shows the cut messages once
// there are any.
func TestCountersNetlinkCut(t *testing.T) {
	before := rtnl.Cut.Load()
	t.Cleanup(func() { rtnl.Cut.Store(before) })
	var c counters
	rtnl.Cut.Store(0)
	if got := c.String(); strings.Contains(got, "netlink-cut") {
		t.Errorf("counters.String() = %q with no cut message", got)
	}
	rtnl.Cut.Store(3)
	if got := c.String(); !strings.Contains(got, " netlink-cut=3") {
		t.Errorf("counters.String() = %q, want netlink-cut=3", got)
	}
}
