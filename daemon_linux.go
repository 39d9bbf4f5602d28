package main

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
)

type daemon struct {
	cfg         atomic.Pointer[config]
	r           *responder
	c           counters
	reloaded    chan struct{} // the configuration changed
	liveChanged chan struct{} // the live addresses changed

	liveMu      sync.Mutex
	liveSources [numLiveSources]map[netip.Addr]struct{}
}

// Where live addresses come from.
const (
	liveLearn = iota
	liveDocker
	numLiveSources
)

// setLive replaces what one source says is alive, and publishes the union
// to the responder and a poke to the gateway keeper.
func (d *daemon) setLive(source int, addrs map[netip.Addr]struct{}) {
	d.liveMu.Lock()
	defer d.liveMu.Unlock()
	d.liveSources[source] = addrs
	all := make(map[netip.Addr]struct{})
	for _, s := range d.liveSources {
		for a := range s {
			all[a] = struct{}{}
		}
	}
	d.r.live.Store(&liveAddrs{m: all})
	select {
	case d.liveChanged <- struct{}{}:
	default:
	}
}

// setup checks what must hold before anything starts. The uplink need not
// exist yet: run waits for it.
func setup(cfg *config) (*daemon, error) {
	if err := checkIfaceName(cfg.iface); err != nil {
		return nil, err
	}
	d := &daemon{r: &responder{}, reloaded: make(chan struct{}, 1), liveChanged: make(chan struct{}, 1)}
	d.r.configure(cfg)
	d.cfg.Store(cfg)
	return d, nil
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
	if err := checkCaps(eff, d.cfg.Load()); err != nil {
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
	stop := context.AfterFunc(ctx, func() { ev.Close() })
	defer stop()
	defer func() { infof("counters: %v", &d.c) }()
	if len(d.cfg.Load().docker) > 0 {
		dockerCtx, stopDocker := context.WithCancel(ctx)
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			d.watchDocker(dockerCtx)
		}()
		defer func() { stopDocker(); <-watched }()
	}
	if len(d.cfg.Load().learn) > 0 {
		learnCtx, stopLearning := context.WithCancel(ctx)
		learned := make(chan struct{})
		go func() {
			defer close(learned)
			d.learn(learnCtx)
		}()
		defer func() { stopLearning(); <-learned }()
	}
	usr1, hup := make(chan os.Signal, 1), make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(usr1)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-usr1:
				infof("counters: %v", &d.c)
			case <-hup:
				d.reload()
			}
		}
	}()

	waiting := false
	for ctx.Err() == nil {
		name := d.cfg.Load().iface
		l, ok, err := nl.linkByName(name)
		if err != nil {
			warnf("uplink: %v", err)
		}
		if !ok {
			if !waiting {
				warnf("uplink: %s does not exist; waiting for it", name)
				waiting = true
			}
			select {
			case _, ok := <-events:
				if !ok {
					return nil
				}
			case <-d.reloaded:
				waiting = false
			}
			continue
		}
		waiting = false
		if err := d.serveUplink(ctx, name, l.Index, nl, events); err != nil {
			return err
		}
	}
	return nil
}

// serveUplink answers on one incarnation of the uplink until ctx ends or
// the interface is deleted.
func (d *daemon) serveUplink(ctx context.Context, name string, ifindex int, nl *rtnlConn, events <-chan struct{}) error {
	cfg := d.cfg.Load()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	u, err := readUplink(nl, ifindex)
	if err != nil {
		return nil // gone already; the caller waits for it again
	}
	d.r.link.Store(u)
	sock, err := openPacketSocket(ifindex, ndFilterProgram)
	if err != nil {
		return err
	}
	defer sock.Close()
	groups, all := solicitedNodeGroups(cfg.ranges)
	if err := sock.setGroups(ifindex, groups, all); err != nil {
		return err
	}

	keeper := newGatewayKeeper(ifindex, cfg, d.r, sock, nl, &d.c)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		keeper.run(ctx)
	}()
	go func() {
		defer wg.Done()
		d.followUplink(ctx, cancel, name, ifindex, nl, sock, keeper, events)
		sock.Close()
	}()
	how := sprintf("%d solicited-node groups", len(groups))
	if all {
		how = "all multicast"
	}
	infof("responder: answering on %s (%v) for %v, receiving %s", name, u.MAC, cfg.ranges, how)
	err = serve(linkSocket{sock}, d.r, &d.c, keeper.nas)
	cancel()
	wg.Wait() // the keeper has removed its pin; the follower reads no more events
	return err
}

// followUplink keeps the responder's snapshot of the uplink current: on
// every event it re-reads the interface. When the interface is gone (or its
// name now belongs to a new one) it ends the incarnation, and so does a
// reload that names another uplink; other reloads it passes on to the
// socket's groups and the gateway keeper.
func (d *daemon) followUplink(ctx context.Context, end func(), name string, ifindex int, nl *rtnlConn, sock *packetSocket, keeper *gatewayKeeper, events <-chan struct{}) {
	defer end()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.liveChanged:
			keeper.liveChanged()
			continue
		case <-d.reloaded:
			cfg := d.cfg.Load()
			if cfg.iface != name {
				infof("uplink: now %s instead of %s", cfg.iface, name)
				return
			}
			groups, all := solicitedNodeGroups(cfg.ranges)
			if err := sock.setGroups(ifindex, groups, all); err != nil {
				warnf("reload: %v", err)
			}
			keeper.reconfigure(cfg)
			continue
		case _, ok := <-events:
			if !ok {
				return
			}
		}
		if l, ok, err := nl.linkByName(name); err == nil && (!ok || l.Index != ifindex) {
			infof("uplink: %s is gone; waiting for it to come back", name)
			return
		}
		u, err := readUplink(nl, ifindex)
		if err != nil {
			continue
		}
		if old := d.r.link.Load(); old.MAC != u.MAC {
			infof("uplink: MAC changed from %v to %v", old.MAC, u.MAC)
		}
		d.r.link.Store(u)
		keeper.notify()
	}
}

// reload re-reads the command line and the configuration file. A bad one
// changes nothing; a good one takes effect without dropping the gateway's
// pin or the counters.
func (d *daemon) reload() {
	cfg, err := parseArgs(os.Args[1:], os.Getenv, io.Discard)
	if err != nil {
		warnf("reload: %v; keeping the running configuration", err)
		return
	}
	setLogLevel(cfg.level)
	d.r.configure(cfg)
	d.cfg.Store(cfg)
	infof("reload: answering for %v", cfg.ranges)
	select {
	case d.reloaded <- struct{}{}:
	default:
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
