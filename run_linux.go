package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

type daemon struct {
	cfg *config
	r   *responder
	c   counters
}

// setup checks what must hold before anything starts. The uplink need not
// exist yet: run waits for it.
func setup(cfg *config) (*daemon, error) {
	if err := checkIfaceName(cfg.iface); err != nil {
		return nil, err
	}
	r := newResponder(cfg.ranges, cfg.source, cfg.fixed, cfg.router)
	r.from = cfg.from
	r.budget.rate, r.budget.perTarget = cfg.rate, cfg.rateTarget
	return &daemon{cfg: cfg, r: r}, nil
}

// run serves until ctx ends, through every incarnation of the uplink: it
// waits for the interface to exist, serves it, and when it is deleted
// waits for it to come back. All waiting is on rtnetlink events.
func (d *daemon) run(ctx context.Context) error {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	eff, err := parseCapEff(string(status))
	if err != nil {
		return err
	}
	if err := checkCaps(eff, d.cfg); err != nil {
		return err
	}
	// Subscribe before looking, so that no change falls between the two.
	ev, err := openRtnlEvents(uplinkEvents)
	if err != nil {
		return err
	}
	defer ev.Close()
	nl, err := openRtnl()
	if err != nil {
		return err
	}
	defer nl.Close()
	events := make(chan struct{}, 1)
	go func() {
		defer close(events)
		for {
			if err := ev.wait(); err != nil {
				if ctx.Err() == nil && !errors.Is(err, os.ErrClosed) {
					errorf("uplink: following changes: %v", err)
				}
				return
			}
			select {
			case events <- struct{}{}:
			default:
			}
		}
	}()
	go func() {
		<-ctx.Done()
		ev.Close()
	}()
	defer func() { infof("counters: %v", &d.c) }()
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-usr1:
				infof("counters: %v", &d.c)
			}
		}
	}()

	waiting := false
	for ctx.Err() == nil {
		ifi, err := net.InterfaceByName(d.cfg.iface)
		if err != nil {
			if !waiting {
				warnf("uplink: %s does not exist; waiting for it", d.cfg.iface)
				waiting = true
			}
			if _, ok := <-events; !ok {
				return nil
			}
			continue
		}
		waiting = false
		if err := d.serveUplink(ctx, ifi.Index, nl, events); err != nil {
			return err
		}
	}
	return nil
}

// serveUplink answers on one incarnation of the uplink until ctx ends or
// the interface is deleted.
func (d *daemon) serveUplink(ctx context.Context, ifindex int, nl *rtnlConn, events <-chan struct{}) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	u, err := readUplink(ifindex)
	if err != nil {
		return nil // gone already; the caller waits for it again
	}
	d.r.link.Store(u)
	sock, err := openPacketSocket(ifindex, ndFilter())
	if err != nil {
		return err
	}
	defer sock.Close()
	groups, all := solicitedNodeGroups(d.cfg.ranges)
	if err := sock.joinGroups(ifindex, groups, all); err != nil {
		return err
	}

	keeper := newGatewayKeeper(ifindex, d.cfg, d.r, sock, nl, &d.c)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		keeper.run(ctx)
	}()
	go func() {
		defer wg.Done()
		d.followUplink(ctx, cancel, ifindex, events, keeper.notify)
		sock.Close()
	}()
	how := fmt.Sprintf("%d solicited-node groups", len(groups))
	if all {
		how = "all multicast"
	}
	infof("responder: answering on %s (%v) for %v, receiving %s", d.cfg.iface, u.MAC, d.cfg.ranges, how)
	err = serve(linkSocket{sock}, d.r, &d.c, keeper.nas)
	cancel()
	wg.Wait() // the keeper has removed its pin; the follower reads no more events
	return err
}

// followUplink keeps the responder's snapshot of the uplink current: on
// every event it re-reads the interface. When the interface is gone (or its
// name now belongs to a new one) it ends the incarnation.
func (d *daemon) followUplink(ctx context.Context, end func(), ifindex int, events <-chan struct{}, changed func()) {
	defer end()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-events:
			if !ok {
				return
			}
		}
		if ifi, err := net.InterfaceByName(d.cfg.iface); err != nil || ifi.Index != ifindex {
			infof("uplink: %s is gone; waiting for it to come back", d.cfg.iface)
			return
		}
		u, err := readUplink(ifindex)
		if err != nil {
			continue
		}
		if old := d.r.link.Load(); old.MAC != u.MAC {
			infof("uplink: MAC changed from %v to %v", old.MAC, u.MAC)
		}
		d.r.link.Store(u)
		changed()
	}
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
