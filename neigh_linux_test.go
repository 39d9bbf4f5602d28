//go:build !nonetns

package main

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"ndpresponder/internal/rtnl"
)

// TestNeighTable pins an entry in the VPS's neighbour table, reads it
// back, finds it in a dump, sees it as ip(8) does, and removes it.
func TestNeighTable(t *testing.T) {
	n := newTestNet(t, false)
	peer := netip.MustParseAddr("fe80::99")
	n.withVPSRtnl(func(nl *rtnlConn, eth0 rtnl.Link) error {
		if _, ok, err := nl.neigh(eth0.Index, peer); ok || err != nil {
			return fmt.Errorf("neigh(%v) before any entry = %v, %v; want none", peer, ok, err)
		}
		if err := nl.setNeigh(eth0.Index, peer, rtnl.NudNoARP, routerNew); err != nil {
			return err
		}
		e, ok, err := nl.neigh(eth0.Index, peer)
		if err != nil || !ok || e.State != rtnl.NudNoARP || e.MAC != routerNew || e.Ifindex != eth0.Index {
			return fmt.Errorf("neigh(%v) = %+v, %v, %v; want NOARP at %v", peer, e, ok, err, routerNew)
		}
		if out, _ := n.tryIn("vps", "ip", "-6", "neigh", "show", peer.String(), "dev", "eth0", "nud", "all"); !strings.Contains(out, routerNew.String()+" NOARP") {
			return fmt.Errorf("ip neigh shows %q, want %v NOARP", out, routerNew)
		}
		all, err := nl.neighs()
		if err != nil {
			return err
		}
		found := false
		for _, e := range all {
			found = found || e.Addr == peer && e.MAC == routerNew
		}
		if !found {
			return fmt.Errorf("the dump of %d entries misses %v", len(all), peer)
		}
		if err := nl.delNeigh(eth0.Index, peer); err != nil {
			return err
		}
		if _, ok, err := nl.neigh(eth0.Index, peer); ok || err != nil {
			return fmt.Errorf("neigh(%v) after delNeigh = %v, %v; want none", peer, ok, err)
		}
		return nil
	})
}
