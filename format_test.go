package main

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

func TestSprintf(t *testing.T) {
	a := netip.MustParseAddr("2001:db8::1")
	p := netip.MustParsePrefix("2001:db8::/112")
	for _, c := range []struct {
		got, want string
	}{
		{sprintf("%v is at %v", a, vpsMAC), "2001:db8::1 is at 02:00:00:00:00:02"},
		{sprintf("%d %d %d %d %d", 1, int64(-2), uint8(3), uint16(4), uint64(5)), "1 -2 3 4 5"},
		{sprintf("%q and %s", "x y", "z"), `"x y" and z`},
		{sprintf("%v %v", []netip.Prefix{p, p}, []string{"a", "b"}), "[2001:db8::/112 2001:db8::/112] [a b]"},
		{sprintf("%v %v %v", 1500*time.Millisecond, true, nil), "1.5s true <nil>"},
		{sprintf("%v: %v", reasonChecksum, errors.New("boom")), "checksum: boom"},
		{sprintf("100%% %v"), "100% %!v(MISSING)"},
		{sprintf("%v", struct{}{}), "?"},
	} {
		if c.got != c.want {
			t.Errorf("sprintf = %q, want %q", c.got, c.want)
		}
	}
	err := errf("doing %s: %w", "it", syscall.ENOENT)
	if err.Error() != "doing it: no such file or directory" || !errors.Is(err, syscall.ENOENT) {
		t.Errorf("errf = %v; errors.Is(ENOENT) = %v", err, errors.Is(err, syscall.ENOENT))
	}
	if errors.Unwrap(errf("no wrap %v", syscall.ENOENT)) != nil {
		t.Errorf("errf without %%w wraps")
	}
}
