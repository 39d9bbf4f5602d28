package main

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
)

// TestMLDGroups: the groups of -a and of the live addresses, then those of
// the ranges answered whole if all of them fit; what does not fit is said.
func TestMLDGroups(t *testing.T) {
	r112 := netip.MustParsePrefix("2001:db8:1:2:646f:636b:6572::/112")
	r120 := netip.MustParsePrefix("2001:db8:1:2:646f:636b:6572:100/120")
	a := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:a")
	c1 := netip.MustParseAddr("2001:db8:1:2:646f:636b:6572:c1")
	live := &liveAddrs{m: map[netip.Addr]uint8{c1: 1}}
	tests := []struct {
		name  string
		cfg   *config
		live  *liveAddrs
		n     int
		over  int
		holds []netip.Addr
	}{
		{"a static /120: every address's group", &config{ranges: []netip.Prefix{r120}}, nil, 256, 0,
			[]netip.Addr{r120.Addr(), lastAddr(r120)}},
		{"a static /112: too many, only -a's", &config{ranges: []netip.Prefix{r112}, announce: []netip.Addr{a}}, nil, 1, 1 << 16,
			[]netip.Addr{a}},
		{"-learn in a /112: -a's and the live ones", &config{ranges: []netip.Prefix{r112}, learn: []string{"br0"}, announce: []netip.Addr{a}}, live, 2, 0,
			[]netip.Addr{a, c1}},
		{"-auto with a routed /120 in a /112", &config{ranges: []netip.Prefix{r112}, auto: true},
			&liveAddrs{m: live.m, routes: []liveRoute{{r120, true}, {netip.MustParsePrefix("2001:db8:1:2:646f:636b:6572:1aa/128"), false}}}, 257, 0,
			[]netip.Addr{c1, r120.Addr().Next()}},
		{"-auto with a routed /64 holding the /120 range", &config{ranges: []netip.Prefix{r120}, auto: true},
			&liveAddrs{routes: []liveRoute{{netip.MustParsePrefix("2001:db8:1:2::/64"), true}}}, 256, 0,
			[]netip.Addr{lastAddr(r120)}},
	}
	// One plan through every case, twice: what it kept from the last
	// call changes nothing, and a config's ranges are not written to.
	var plan mldPlan
	for range 2 {
		for _, tt := range tests {
			ranges := slices.Clone(tt.cfg.ranges)
			want, wantOver := mldGroups(tt.cfg, tt.live)
			got, over := plan.groups(tt.cfg, tt.live)
			if !slices.Equal(got, want) || over != wantOver {
				t.Errorf("%s: a reused plan gave %d groups, %d over; a new one %d, %d", tt.name, len(got), over, len(want), wantOver)
			}
			if !slices.Equal(tt.cfg.ranges, ranges) {
				t.Errorf("%s: the config's ranges changed to %v", tt.name, tt.cfg.ranges)
			}
		}
	}
	if n := testing.AllocsPerRun(10, func() { plan.groups(tests[2].cfg, tests[2].live) }); n != 0 {
		t.Errorf("a reused plan allocates %v times for the same live addresses, want 0", n)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			groups, over := mldGroups(tt.cfg, tt.live)
			if len(groups) != tt.n || over != tt.over {
				t.Errorf("mldGroups = %d groups, %d over; want %d, %d", len(groups), over, tt.n, tt.over)
			}
			for _, h := range tt.holds {
				if !slices.Contains(groups, solicitedNode(h)) {
					t.Errorf("no group for %v (%v)", h, solicitedNode(h))
				}
			}
		})
	}
	// More live addresses than the bound: the first ones, in order.
	many := &liveAddrs{m: map[netip.Addr]uint8{}}
	for i := range maxMLDGroups + 5 {
		many.m[inRange(i)] = 1
	}
	groups, over := mldGroups(&config{ranges: []netip.Prefix{r112}, learn: []string{"br0"}}, many)
	if len(groups) != maxMLDGroups || over != 5 || groups[0] != solicitedNode(inRange(0)) {
		t.Errorf("with %d live addresses: %d groups, %d over, first %v; want %d, 5, %v", maxMLDGroups+5, len(groups), over, groups[0], maxMLDGroups, solicitedNode(inRange(0)))
	}
}

// fakeJoiner records the memberships per socket, as the kernel holds them.
type fakeJoiner struct {
	socks map[int]map[netip.Addr]bool
	fail  netip.Addr
}

func (f *fakeJoiner) join(s int, g netip.Addr) error {
	if g == f.fail {
		return errors.New("no")
	}
	if f.socks[s] == nil {
		f.socks[s] = map[netip.Addr]bool{}
	}
	if f.socks[s][g] {
		return errors.New("joined twice")
	}
	f.socks[s][g] = true
	return nil
}

func (f *fakeJoiner) leave(s int, g netip.Addr) error {
	if !f.socks[s][g] {
		return errors.New("left a group not joined through this socket")
	}
	delete(f.socks[s], g)
	return nil
}

func (f *fakeJoiner) total() int {
	n := 0
	for _, s := range f.socks {
		n += len(s)
	}
	return n
}

// TestMLDMembers: groups are joined once, left when unwanted, spread over
// sockets of mldGroupsPerSocket; a failed join is said and tried again.
func TestMLDMembers(t *testing.T) {
	f := &fakeJoiner{socks: map[int]map[netip.Addr]bool{}}
	m := newMLDMembers(f)
	want := func(from, to int) []netip.Addr {
		var g []netip.Addr
		for i := from; i < to; i++ {
			g = append(g, solicitedNode(inRange(i)))
		}
		return g
	}
	if _, err := m.update(want(0, 300)); err != nil || f.total() != 300 || len(f.socks[0]) != mldGroupsPerSocket || len(f.socks[1]) != 300-mldGroupsPerSocket {
		t.Fatalf("after 300 groups: %v; sockets hold %d and %d", err, len(f.socks[0]), len(f.socks[1]))
	}
	// The first 100 go, 100 new come: they fill the room left.
	if _, err := m.update(want(100, 400)); err != nil || f.total() != 300 || len(f.socks) != 2 {
		t.Fatalf("after moving 100 groups: %v; %d held on %d sockets", err, f.total(), len(f.socks))
	}
	if f.socks[0][solicitedNode(inRange(0))] {
		t.Errorf("a group no longer wanted is still held")
	}
	f.fail = solicitedNode(inRange(500))
	n, err := m.update(append(want(100, 400), f.fail))
	if err == nil || n != 1 {
		t.Errorf("a failed join was not reported")
	}
	f.fail = netip.Addr{}
	if _, err := m.update(append(want(100, 400), solicitedNode(inRange(500)))); err != nil || !f.socks[1][solicitedNode(inRange(500))] && !f.socks[0][solicitedNode(inRange(500))] {
		t.Errorf("a failed join was not tried again: %v", err)
	}
	if _, err := m.update(nil); err != nil || f.total() != 0 {
		t.Errorf("after nothing is wanted: %v, %d groups held", err, f.total())
	}
}
