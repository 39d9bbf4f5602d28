package privs

import (
	"strings"
	"testing"
)

func TestCaps(t *testing.T) {
	status := "Name:\tndpresponder\nCapInh:\t0000000000000000\nCapEff:\t0000000000003000\nCapBnd:\t000001ffffffffff\n"
	eff, err := ParseCapEff(status)
	if err != nil || eff != 1<<capNetAdmin|1<<capNetRaw {
		t.Fatalf("parseCapEff = %#x, %v; want %#x", eff, err, 1<<capNetAdmin|1<<capNetRaw)
	}
	if _, err := ParseCapEff("Name:\tx\n"); err == nil {
		t.Errorf("parseCapEff without a CapEff line: no error")
	}
	const pin, nopin = true, false
	for _, c := range []struct {
		eff  uint64
		pin  bool
		want string // "" for no error
	}{
		{1<<capNetAdmin | 1<<capNetRaw, pin, ""},
		{1 << capNetRaw, nopin, ""},
		{1 << capNetRaw, pin, "CAP_NET_ADMIN"},
		{1 << capNetAdmin, pin, "CAP_NET_RAW"},
		{0, nopin, "CAP_NET_RAW"},
	} {
		err := CheckCaps(c.eff, c.pin)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), "missing capability "+c.want)) {
			t.Errorf("checkCaps(%#x, pin=%v) = %v, want %q", c.eff, c.pin, err, c.want)
		}
	}
}
