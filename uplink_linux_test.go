//go:build !nonetns

package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"ndpresponder/internal/rtnl"
)

// TestReadUplink reads the VPS's uplink snapshot from the kernel.
func TestReadUplink(t *testing.T) {
	n := newTestNet(t, false)
	n.withVPSRtnl(func(nl *rtnlConn, eth0 rtnl.Link) error {
		u, err := readUplink(nl, eth0.Index)
		if err != nil {
			return err
		}
		if u.MAC != vpsMAC || u.Gateway != routerLL || !slices.Contains(u.Global, vpsAddr) || !u.LinkLocal.IsLinkLocalUnicast() {
			return fmt.Errorf("readUplink(eth0) = %+v; want %v, gateway %v, %v among the globals, a link-local", *u, vpsMAC, routerLL, vpsAddr)
		}
		if _, err := readUplink(nl, 99999); !errors.Is(err, errGone) {
			return fmt.Errorf("readUplink of no interface = %v, want errGone", err)
		}
		return nil
	})
}

// TestUplinkFollowsKernel: the uplink's state kept from the kernel's own
// events says what a fresh read says, after each change of its addresses,
// MAC and default routes; and a container's veth coming and going brings
// no event that concerns it.
func TestUplinkFollowsKernel(t *testing.T) {
	n := newTestNet(t, false)
	n.withVPSRtnl(func(nl *rtnlConn, eth0 rtnl.Link) error {
		ev, err := rtnl.OpenEvents(uplinkEvents)
		if err != nil {
			return err
		}
		defer ev.Close()
		var s uplinkState
		s.follow("eth0")
		s.index = eth0.Index
		if err := s.load(nl); err != nil {
			return err
		}
		// follow applies what arrives within a quiet spell and reads
		// what the events could not say, as followUplink does.
		follow := func() (concerned bool, err error) {
			for {
				ev.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
				overrun, err := ev.Next(func(m rtnl.Msg) { concerned = s.event(m) || concerned })
				if errors.Is(err, os.ErrDeadlineExceeded) {
					break
				}
				if err != nil {
					return concerned, err
				}
				s.stale = s.stale || overrun
			}
			switch {
			case s.stale:
				err = s.load(nl)
			case s.routesStale:
				err = s.loadRoutes(nl)
			}
			return concerned, err
		}
		for _, step := range []struct {
			name    string
			cmd     string
			concern bool
		}{
			{"a container's veth comes", "ip link add vx0 type veth peer name vx1; ip link set vx0 up; ip link set vx1 up; ip -6 addr add 2001:db8:1:3::1/64 dev vx0 nodad", false},
			{"and goes", "ip link del vx0", false},
			{"an address", "ip -6 addr add 2001:db8:1:2::77/64 dev eth0 nodad", true},
			{"a deprecated one", "ip -6 addr change 2001:db8:1:2::77/64 dev eth0 preferred_lft 0", true},
			{"it goes", "ip -6 addr del 2001:db8:1:2::77/64 dev eth0", true},
			{"a better default route", "ip -6 route add default via fe80::99 dev eth0 metric 10", true},
			{"replaced", "ip -6 route replace default via fe80::98 dev eth0 metric 10", true},
			{"gone", "ip -6 route del default via fe80::98 dev eth0 metric 10", true},
			{"a new MAC", "ip link set eth0 address 02:00:00:00:00:77", true},
			{"the old one back", "ip link set eth0 address " + vpsMAC.String(), true},
		} {
			n.in("vps", "sh", "-c", step.cmd)
			concerned, err := follow()
			if err != nil {
				return fmt.Errorf("%s: %v", step.name, err)
			}
			if concerned != step.concern {
				return fmt.Errorf("%s: concerned the uplink %v, want %v", step.name, concerned, step.concern)
			}
			want, err := readUplink(nl, eth0.Index)
			if err != nil {
				return err
			}
			if got := s.snapshot(); !got.equal(want) || s.gone {
				return fmt.Errorf("%s: kept %+v (gone %v), read %+v", step.name, *got, s.gone, *want)
			}
		}
		n.in("vps", "ip", "link", "set", "eth0", "name", "wan0")
		if _, err := follow(); err != nil || !s.gone {
			return fmt.Errorf("eth0 renamed: gone %v, %v; want gone", s.gone, err)
		}
		return nil
	})
}
