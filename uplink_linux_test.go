//go:build !nonetns

package main

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// TestReadUplink reads the VPS's uplink snapshot from the kernel.
func TestReadUplink(t *testing.T) {
	n := newTestNet(t, false)
	n.withVPSRtnl(func(nl *rtnlConn, eth0 link) error {
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
