package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"syscall"
)

type daemon struct {
	cfg     *config
	ifindex int
	r       *responder
	c       counters
}

// setup checks what must hold before anything starts.
func setup(cfg *config) (*daemon, error) {
	ifi, err := net.InterfaceByName(cfg.iface)
	if err != nil {
		return nil, fmt.Errorf("uplink %q: %w", cfg.iface, err)
	}
	return &daemon{
		cfg:     cfg,
		ifindex: ifi.Index,
		r:       newResponder(cfg.ranges, cfg.source, cfg.fixed, cfg.router),
	}, nil
}

// run serves until ctx ends.
func (d *daemon) run(ctx context.Context) error {
	ev, err := openRtnlEvents(uplinkEvents)
	if err != nil {
		return err
	}
	defer ev.Close()
	u, err := readUplink(d.ifindex)
	if err != nil {
		return err
	}
	d.r.link.Store(u)

	sock, err := openPacketSocket(d.ifindex, ndFilter())
	if err != nil {
		return err
	}
	defer sock.Close()
	groups, all := solicitedNodeGroups(d.cfg.ranges)
	if err := sock.joinGroups(d.ifindex, groups, all); err != nil {
		return err
	}

	nl, err := openRtnl()
	if err != nil {
		return err
	}
	defer nl.Close()
	keeper := newGatewayKeeper(d.ifindex, d.cfg, d.r, sock, nl, &d.c)
	keeperDone := make(chan struct{})
	go func() {
		defer close(keeperDone)
		keeper.run(ctx)
	}()
	go followUplink(ctx, ev, d.r, d.ifindex, keeper.notify)
	go func() {
		<-ctx.Done()
		sock.Close()
		ev.Close()
	}()
	how := fmt.Sprintf("%d solicited-node groups", len(groups))
	if all {
		how = "all multicast"
	}
	infof("responder: answering on %s (%v) for %v, receiving %s", d.cfg.iface, u.MAC, d.cfg.ranges, how)
	err = serve(linkSocket{sock}, d.r, &d.c, keeper.nas)
	<-keeperDone // the pin is gone
	infof("counters: %v", &d.c)
	return err
}

// lean re-executes the daemon with GOMAXPROCS=1 unless the environment
// sets it. One P is all a single packet loop needs, and only a runtime that
// starts with one P stays lean: on a two-core machine this saves about
// 0.2 MB of RSS, which runtime.GOMAXPROCS(1) called from main does not
// (bench/bench.sh measures it). If the exec fails, the daemon goes on as
// it is.
func lean() {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	_ = syscall.Exec(exe, os.Args, append(os.Environ(), "GOMAXPROCS=1"))
}
