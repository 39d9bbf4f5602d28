package main

// The daemon's lifecycle: it waits for the uplink, serves each incarnation
// of it (a packet socket, the packet loop and the gateway keeper), follows
// its changes, reloads on SIGHUP, and starts and stops the watchers of
// live addresses as the configuration asks. One goroutine, run, owns all
// of that; the others are handed what they need and report back on
// channels each of which has one reader.

import (
	"bufio"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type daemon struct {
	cfg  atomic.Pointer[config] // the running configuration; run replaces it on reload
	r    *responder
	c    counters
	live *livePublisher
	sock atomic.Pointer[packetSocket] // the uplink's of the moment, for answers sent outside the packet loop
	late struct {                     // answerLate's scratch
		ns neighborSolicitation
		na [naFrameLen]byte
	}
	mldOverSaid atomic.Bool // said that more groups are wanted than joined

	watchers [numLiveSources]*watcher
	dockerIO struct { // the Docker watcher's, kept across its connections
		events, listing *bufio.Reader
		heldBackSaid    bool
		cfg             *config // the configuration it last said it follows
	}

	upMu sync.Mutex
	up   uplinkState // the uplink as its events left it; upMu guards it
}

// newDaemon makes the daemon for a checked configuration. The uplink need
// not exist yet: run waits for it.
func newDaemon(cfg *config) *daemon {
	d := &daemon{r: &responder{probes: make(chan probeRequest, probeQueueLen)}}
	d.live = newLivePublisher(d.r)
	d.live.refused = &d.c.liveOutOfScope
	d.live.setRanges(cfg.ranges)
	d.r.configure(cfg)
	d.cfg.Store(cfg)
	return d
}

// setLive is how a watcher publishes what its source says is alive.
func (d *daemon) setLive(source int, addrs map[netip.Addr]struct{}) { d.live.set(source, addrs) }

// run serves until sc ends, through every incarnation of the uplink: it
// waits for the interface to exist, serves it, and when it is deleted
// waits for it to come back. All waiting is on rtnetlink events.
func (d *daemon) run(sc *scope) error {
	status, err := readFile("/proc/self/status", 64<<10)
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
	d.releaseImage(string(status))
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
	// Events that concern the uplink are applied to d.up, and the loop
	// below is told; the rest are read and dropped.
	d.up.follow(d.cfg.Load().iface)
	events := make(chan struct{}, 1)
	go func() {
		defer close(events)
		concerned := false
		apply := func(m nlMsg) {
			d.upMu.Lock()
			concerned = d.up.event(m) || concerned
			d.upMu.Unlock()
		}
		for {
			concerned = false
			overrun, err := ev.next(apply)
			if err != nil {
				if !sc.ended() && !errors.Is(err, os.ErrClosed) {
					errorf("uplink: following changes: %v", err)
				}
				return
			}
			if overrun {
				d.upMu.Lock()
				d.up.stale = true
				d.upMu.Unlock()
				concerned = true
			}
			if concerned {
				select {
				case events <- struct{}{}:
				default:
				}
			}
		}
	}()
	stop := sc.onEnd(func() { ev.Close() })
	defer stop()
	defer func() { infof("counters: %v", &d.c) }()
	d.applyWatchers(sc, nil, d.cfg.Load())
	defer d.applyWatchers(sc, d.cfg.Load(), nil)
	usr1, hup := make(chan os.Signal, 1), make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(usr1)
	defer signal.Stop(hup)

	var (
		inc     *incarnation // nil while there is no uplink to serve
		waiting bool         // said that the uplink is missing
		retry   *alarm       // after a failed look at the uplink
		backoff = time.Second
		metrics metricsWriter
		tick    <-chan struct{} // rewrite the metrics file
	)
	if name := d.cfg.Load().metrics; name != "" {
		t := newTicker(metricsEvery)
		defer t.stop()
		tick = t.C
		metrics.write(name, &d.c)
	}
	defer func() {
		if inc != nil {
			inc.stop()
		}
		if retry != nil {
			retry.stop()
		}
	}()
	for {
		var retryC <-chan struct{}
		if inc == nil && retry == nil {
			var err error
			inc, err = d.startUplink(sc, nl)
			switch {
			case errors.Is(err, errGone):
				if !waiting {
					warnf("uplink: %s does not exist; waiting for it", d.cfg.Load().iface)
					waiting = true
				}
			case err != nil && !errors.Is(err, errNetlink):
				return err
			case err != nil:
				// The kernel did not answer as it should: try again
				// later rather than spin.
				warnf("uplink: %v; trying again in %v", err, backoff)
				retry = newAlarm(backoff)
				backoff = min(2*backoff, 30*time.Second)
			default:
				waiting, backoff = false, time.Second
			}
		}
		if retry != nil {
			retryC = retry.C
		}
		var done <-chan error
		if inc != nil {
			done = inc.done
		}
		select {
		case <-sc.Done():
			return nil
		case <-retryC:
			retry = nil
		case _, ok := <-events:
			if !ok {
				return nil
			}
			if inc != nil && !d.followUplink(inc, nl) {
				inc.stop()
				inc = nil
			}
		case <-tick:
			metrics.write(d.cfg.Load().metrics, &d.c)
		case <-usr1:
			infof("counters: %v", &d.c)
			metrics.write(d.cfg.Load().metrics, &d.c)
		case <-hup:
			old, cfg := d.cfg.Load(), d.reload()
			if cfg == nil {
				continue
			}
			d.applyWatchers(sc, old, cfg)
			if inc == nil {
				continue
			}
			if cfg.iface != inc.name {
				infof("uplink: now %s instead of %s", cfg.iface, inc.name)
				inc.stop()
				inc = nil
				continue
			}
			inc.reconfigure(cfg)
		case err := <-done:
			inc.stop()
			inc = nil
			if err != nil {
				return err
			}
		}
	}
}

// errGone says the uplink does not exist (now); errNetlink that reading
// it over rtnetlink failed, which may pass.
var (
	errGone    = errors.New("no such interface")
	errNetlink = errors.New("rtnetlink")
)

// incarnation is the serving of one incarnation of the uplink: its packet
// socket, the packet loop and the gateway keeper.
type incarnation struct {
	name    string
	ifindex int
	mac     mac
	sock    *packetSocket
	uplinks *mailbox[*uplink] // to the keeper
	configs *mailbox[*config] // to the keeper
	mldCfgs *mailbox[*config] // to the MLD memberships
	cancel  func()
	done    chan error // the packet loop's end; buffered
	wg      sync.WaitGroup
}

// startUplink starts serving the uplink if it exists.
func (d *daemon) startUplink(sc *scope, nl *rtnlConn) (*incarnation, error) {
	cfg := d.cfg.Load()
	d.upMu.Lock()
	d.up.follow(cfg.iface)
	d.upMu.Unlock()
	l, ok, err := nl.linkByName(cfg.iface)
	if err != nil {
		return nil, errf("%w: %v", errNetlink, err)
	}
	if !ok {
		return nil, errGone
	}
	// Events for the interface are applied from now on, on top of what
	// load reads: an event older than the read and applied after it is
	// followed by the events of every later change.
	d.upMu.Lock()
	d.up.index = l.Index
	err = d.up.load(nl)
	var u *uplink
	if err == nil {
		u = d.up.snapshot()
	}
	d.upMu.Unlock()
	if err != nil {
		return nil, err
	}
	d.r.link.Store(u)
	d.live.setOnLink(u.OnLink)
	sock, err := openPacketSocket(l.Index, ndFilterProgram)
	if err != nil {
		return nil, err
	}
	groups, all := solicitedNodeGroups(cfg.ranges)
	if err := sock.setGroups(l.Index, groups, all); err != nil {
		sock.Close()
		return nil, err
	}
	d.sock.Store(sock)
	sc = sc.sub()
	inc := &incarnation{name: cfg.iface, ifindex: l.Index, mac: u.MAC, sock: sock, cancel: sc.end,
		uplinks: newMailbox[*uplink](), configs: newMailbox[*config](), mldCfgs: newMailbox[*config](), done: make(chan error, 1)}
	nas, claims := make(chan neighborAdvertisement, 16), newMailbox[mac]()
	tk := &toKeeper{view: &atomic.Pointer[gatewayView]{}, nas: nas, claims: claims, log: logLimiter{perSecond: 1, burst: 5}}
	keeper := newGatewayKeeper(l.Index, cfg, u, nl, sock, &d.c, tk.view)
	in := keeperInputs{nas: nas, claims: claims.c, uplinks: inc.uplinks.c, configs: inc.configs.c, live: d.live.follow(followKeeper)}
	inc.wg.Add(3)
	go func() {
		defer inc.wg.Done()
		keeper.run(sc, in)
	}()
	go func() {
		defer inc.wg.Done()
		d.joinGroups(sc, l.Index, cfg, inc.mldCfgs.c)
	}()
	go func() {
		defer inc.wg.Done()
		inc.done <- serve(linkSocket{sock}, d.r, &d.c, tk)
	}()
	how := sprintf("%d solicited-node groups", len(groups))
	if all {
		how = "all multicast"
	}
	infof("responder: answering on %s (%v) for %v, receiving %s", cfg.iface, u.MAC, cfg.ranges, how)
	return inc, nil
}

// stop ends the incarnation and waits until the keeper has removed its
// pin and the packet loop has returned.
func (inc *incarnation) stop() {
	inc.cancel()
	inc.sock.Close()
	inc.wg.Wait()
}

// reconfigure passes a reload on to the socket's groups and the keeper.
func (inc *incarnation) reconfigure(cfg *config) {
	groups, all := solicitedNodeGroups(cfg.ranges)
	if err := inc.sock.setGroups(inc.ifindex, groups, all); err != nil {
		warnf("reload: %v", err)
	}
	inc.configs.put(cfg)
	inc.mldCfgs.put(cfg)
}

// followUplink hands on the uplink's new snapshot after rtnetlink events
// changed its state, reading again what the events could not say; it
// reports false when the interface is gone, or its name now belongs to
// another one.
func (d *daemon) followUplink(inc *incarnation, nl *rtnlConn) bool {
	d.upMu.Lock()
	defer d.upMu.Unlock()
	s := &d.up
	if s.gone || s.index != inc.ifindex {
		infof("uplink: %s is gone; waiting for it to come back", inc.name)
		return false
	}
	var err error
	switch {
	case s.stale:
		err = s.load(nl)
	case s.routesStale:
		err = s.loadRoutes(nl)
	}
	if errors.Is(err, errGone) {
		infof("uplink: %s is gone; waiting for it to come back", inc.name)
		return false
	}
	if err != nil {
		warnf("uplink: %v", err)
		s.stale = true // the next event reads again
		return true
	}
	if !s.changed {
		return true
	}
	u := s.snapshot()
	if old := d.r.link.Load(); old != nil && old.equal(u) {
		return true
	}
	if u.MAC != inc.mac {
		infof("uplink: MAC changed from %v to %v", inc.mac, u.MAC)
		inc.mac = u.MAC
	}
	d.r.link.Store(u)
	d.live.setOnLink(u.OnLink)
	inc.uplinks.put(u)
	return true
}

// reload re-reads the command line and the configuration file. A bad one
// changes nothing and returns nil; a good one takes effect without
// dropping the gateway's pin or the counters.
func (d *daemon) reload() *config {
	cfg, err := parseArgs(os.Args[1:], os.Getenv, io.Discard)
	if err != nil {
		warnf("reload: %v; keeping the running configuration", err)
		return nil
	}
	if old := d.cfg.Load(); cfg.user != old.user {
		warnf("reload: -user %q takes effect at the next start; still running as %q", cfg.user, old.user)
	}
	setLogLevel(cfg.level)
	d.r.configure(cfg)
	d.cfg.Store(cfg)
	infof("reload: answering for %v", cfg.ranges)
	return cfg
}

// watcher is a goroutine that follows one source of live addresses.
type watcher struct {
	cancel func()
	done   chan struct{}
}

func (w *watcher) stop() {
	w.cancel()
	<-w.done
}

// applyWatchers starts, stops or restarts the watchers of live addresses
// as the configuration changes from old to cfg (nil: none). Each runs under
// superviseWatcher: a failed one is started again, and its addresses are
// withdrawn if it has not recovered within watchGrace.
func (d *daemon) applyWatchers(sc *scope, old, cfg *config) {
	type spec struct {
		name   string
		wanted func(*config) bool
		same   func(a, b *config) bool
		run    func(*scope, *config, func() bool) error
		count  *atomic.Uint64 // its addresses, for the counters
	}
	specs := [numLiveSources]spec{
		liveLearn: {
			name:   "learn",
			wanted: func(c *config) bool { return len(c.learn) > 0 },
			same: func(a, b *config) bool {
				return slices.Equal(a.learn, b.learn) && slices.Equal(a.ranges, b.ranges)
			},
			run:   d.learn,
			count: &d.c.learned,
		},
		liveDocker: {
			name:   "docker",
			wanted: func(c *config) bool { return len(c.docker) > 0 },
			same: func(a, b *config) bool {
				return slices.Equal(a.docker, b.docker) && a.dockerHost == b.dockerHost && slices.Equal(a.ranges, b.ranges)
			},
			run:   d.watchDocker,
			count: &d.c.docker,
		},
		liveAuto: {
			name:   "auto",
			wanted: func(c *config) bool { return c.auto },
			same: func(a, b *config) bool {
				return a.iface == b.iface && a.table == b.table && slices.Equal(a.ranges, b.ranges)
			},
			run:   d.auto,
			count: &d.c.auto,
		},
	}
	if cfg != nil {
		d.live.setRanges(cfg.ranges)
	}
	for source, s := range specs {
		had := d.watchers[source] != nil
		want := cfg != nil && s.wanted(cfg)
		if had && want && s.same(old, cfg) {
			continue
		}
		if had {
			d.watchers[source].stop()
			d.watchers[source] = nil
			if !want {
				d.setLive(source, nil)
				s.count.Store(0)
			}
		}
		if want {
			wsc := sc.sub()
			w := &watcher{cancel: wsc.end, done: make(chan struct{})}
			go func() {
				defer close(w.done)
				superviseWatcher(wsc, s.name, func(sc *scope, up func() bool) error { return s.run(sc, cfg, up) }, func() {
					d.setLive(source, nil)
					s.count.Store(0)
				})
			}()
			d.watchers[source] = w
		}
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
