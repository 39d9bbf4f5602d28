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

	"ndpresponder/internal/privs"
	"ndpresponder/internal/rtnl"
	"ndpresponder/internal/scope"

	"golang.org/x/sys/unix"
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

	hup, usr1    <-chan os.Signal // reload; log the counters and write the metrics (main's caught)
	args         []string         // the command line, read again by a reload
	metricsEvery time.Duration

	upMu sync.Mutex
	up   uplinkState // the uplink as its events left it; upMu guards it
}

// newDaemon makes the daemon for a checked configuration. The uplink need
// not exist yet: run waits for it.
func newDaemon(cfg *config) *daemon {
	d := &daemon{r: &responder{probes: make(chan probeRequest, probeQueueLen)}}
	d.live = newLivePublisher(d.r)
	d.args, d.metricsEvery = os.Args[1:], metricsEvery
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
func (d *daemon) run(sc *scope.Scope) error {
	if err := d.checkOwnCaps(); err != nil {
		return err
	}
	// Subscribe before looking, so that no change falls between the two.
	ev, err := openUplinkEvents()
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
	events := &uplinkNews{c: make(chan struct{}, 1)}
	go d.readUplinkEvents(sc, ev, events)
	stop := sc.OnEnd(func() { ev.Close() })
	defer stop()
	defer func() { infof("counters: %v", &d.c) }()
	d.applyWatchers(sc, nil, d.cfg.Load())
	defer d.applyWatchers(sc, d.cfg.Load(), nil)

	s := &serving{d: d, sc: sc, nl: nl, backoff: time.Second}
	s.setMetrics(d.cfg.Load().metrics)
	defer s.stop()
	for {
		if err := s.startUplink(); err != nil {
			return err
		}
		select {
		case <-sc.Done():
			return nil
		case <-s.retryC():
			s.retry = nil
		case _, ok := <-events.c:
			if !ok {
				// Not a clean end: without events the daemon would go
				// on serving an uplink it no longer follows. A
				// non-zero exit lets the service manager restart it.
				if events.err != nil && !sc.Ended() {
					return events.err
				}
				return nil
			}
			if s.inc != nil && !d.followUplink(s.inc, nl) {
				s.stopUplink()
			}
		case <-s.tick:
			s.metrics.write(d.cfg.Load().metrics, &d.c)
		case <-d.usr1:
			infof("counters: %v", &d.c)
			s.metrics.write(d.cfg.Load().metrics, &d.c)
		case <-d.hup:
			s.reload()
		case err := <-s.done():
			s.stopUplink()
			if err != nil {
				return err
			}
		}
	}
}

// checkOwnCaps fails when the daemon lacks a capability it needs.
func (d *daemon) checkOwnCaps() error {
	status, err := readFile("/proc/self/status", 64<<10)
	if err != nil {
		return err
	}
	eff, err := privs.ParseCapEff(string(status))
	if err != nil {
		return err
	}
	return privs.CheckCaps(eff, d.cfg.Load().pinGateway)
}

// uplinkNews tells run that events concerned the uplink; c is closed
// when the reader stops, and err says why (read once c is closed).
type uplinkNews struct {
	c   chan struct{}
	err error
}

// readUplinkEvents applies the events that concern the uplink to d.up and
// tells out, until reading fails or ev is closed.
func (d *daemon) readUplinkEvents(sc *scope.Scope, ev uplinkEventReader, out *uplinkNews) {
	defer close(out.c)
	concerned := false
	apply := func(m rtnl.Msg) {
		d.upMu.Lock()
		concerned = d.up.event(m) || concerned
		d.upMu.Unlock()
	}
	for {
		concerned = false
		overrun, err := ev.Next(apply)
		if err != nil {
			if !sc.Ended() && !errors.Is(err, os.ErrClosed) {
				out.err = errf("following the uplink's changes: %w", err)
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
			case out.c <- struct{}{}:
			default:
			}
		}
	}
}

// serving is what run keeps from one event to the next: the incarnation
// of the uplink it serves, the retry after a failed look, and the
// periodic writing of the metrics file.
type serving struct {
	d       *daemon
	sc      *scope.Scope
	nl      *rtnlConn
	inc     *incarnation // nil while there is no uplink to serve
	waiting bool         // said that the uplink is missing
	retry   *scope.Alarm // after a failed look at the uplink
	backoff time.Duration
	metrics metricsWriter
	ticker  *scope.Alarm // rewrites the metrics file while one is named
	tick    <-chan struct{}
}

// startUplink looks for the uplink and serves it, unless it is served
// already or a retry is due later. Only an error the daemon cannot wait
// out is returned.
func (s *serving) startUplink() error {
	if s.inc != nil || s.retry != nil {
		return nil
	}
	var err error
	s.inc, err = s.d.startUplink(s.sc, s.nl)
	switch {
	case errors.Is(err, errGone):
		if !s.waiting {
			warnf("uplink: %s does not exist; waiting for it", s.d.cfg.Load().iface)
			s.waiting = true
		}
	case err != nil && !errors.Is(err, errNetlink):
		return err
	case err != nil:
		// The kernel did not answer as it should: try again later
		// rather than spin.
		warnf("uplink: %v; trying again in %v", err, s.backoff)
		s.retry = scope.NewAlarm(s.backoff)
		s.backoff = min(2*s.backoff, 30*time.Second)
	default:
		s.waiting, s.backoff = false, time.Second
	}
	return nil
}

// retryC and done are the channels of the retry and of the incarnation,
// nil (never ready) when there is none.
func (s *serving) retryC() <-chan struct{} {
	if s.retry == nil {
		return nil
	}
	return s.retry.C
}

func (s *serving) done() <-chan error {
	if s.inc == nil {
		return nil
	}
	return s.inc.done
}

func (s *serving) stopUplink() {
	s.inc.stop()
	s.inc = nil
}

// reload reads the configuration again on SIGHUP and applies it.
func (s *serving) reload() {
	old, cfg := s.d.cfg.Load(), s.d.reload()
	if cfg == nil {
		return
	}
	if cfg.metrics != old.metrics {
		s.setMetrics(cfg.metrics)
	}
	s.d.applyWatchers(s.sc, old, cfg)
	switch {
	case s.inc == nil:
	case cfg.iface != s.inc.name:
		infof("uplink: now %s instead of %s", cfg.iface, s.inc.name)
		s.stopUplink()
	default:
		s.inc.reconfigure(cfg)
	}
}

// setMetrics starts or stops the periodic writing as the configuration
// names a file or not, and writes it at once.
func (s *serving) setMetrics(name string) {
	switch {
	case name != "" && s.ticker == nil:
		s.ticker = scope.NewTicker(s.d.metricsEvery)
		s.tick = s.ticker.C
	case name == "" && s.ticker != nil:
		s.ticker.Stop()
		s.ticker, s.tick = nil, nil
	}
	s.metrics.write(name, &s.d.c)
}

// stop ends the incarnation, the retry and the metrics' ticker.
func (s *serving) stop() {
	if s.inc != nil {
		s.inc.stop()
	}
	if s.retry != nil {
		s.retry.Stop()
	}
	if s.ticker != nil {
		s.ticker.Stop()
	}
}

// uplinkEventReader is the subscription to the uplink's rtnetlink events.
type uplinkEventReader interface {
	Next(f func(rtnl.Msg)) (overrun bool, err error)
	Close() error
}

// openUplinkEvents subscribes to the uplink's events; a test makes the
// reader fail through it.
var openUplinkEvents = func() (uplinkEventReader, error) { return rtnl.OpenEvents(uplinkEvents) }

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
func (d *daemon) startUplink(sc *scope.Scope, nl *rtnlConn) (*incarnation, error) {
	cfg := d.cfg.Load()
	d.upMu.Lock()
	d.up.follow(cfg.iface)
	d.upMu.Unlock()
	l, ok, err := nl.LinkByName(cfg.iface)
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
	if beforeBind != nil {
		beforeBind()
	}
	// The interface may go between the look and the bind: the kernel
	// then says ENODEV, and the daemon waits for it to come back.
	sock, err := openPacketSocket(l.Index, ndFilterProgram)
	if err != nil {
		return nil, goneIfNoDevice(err)
	}
	groups, all := solicitedNodeGroups(cfg.ranges)
	if err := sock.setGroups(l.Index, groups, all); err != nil {
		sock.Close()
		return nil, goneIfNoDevice(err)
	}
	d.sock.Store(sock)
	sc = sc.Sub()
	inc := &incarnation{name: cfg.iface, ifindex: l.Index, mac: u.MAC, sock: sock, cancel: sc.End,
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

// beforeBind, when set, runs between the look at the uplink and the bind
// of its packet socket: a test deletes the interface there.
var beforeBind func()

// goneIfNoDevice turns the kernel's "no such device" into errGone.
func goneIfNoDevice(err error) error {
	if errors.Is(err, unix.ENODEV) {
		return errf("%w: %v", errGone, err)
	}
	return err
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
	cfg, err := parseArgs(d.args, os.Getenv, io.Discard)
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
func (d *daemon) applyWatchers(sc *scope.Scope, old, cfg *config) {
	type spec struct {
		name   string
		wanted func(*config) bool
		same   func(a, b *config) bool
		run    func(*scope.Scope, *config, func() bool) error
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
			wsc := sc.Sub()
			w := &watcher{cancel: wsc.End, done: make(chan struct{})}
			go func() {
				defer close(w.done)
				superviseWatcher(wsc, s.name, func(sc *scope.Scope, up func() bool) error { return s.run(sc, cfg, up) }, func() {
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
//
// Across the exec SIGHUP and SIGUSR1 are ignored, not left to the kernel's
// default, which ends the process: the new program inherits the ignoring
// until it catches them (caught), and it reads its configuration afresh,
// which is all a reload asked for before the exec would do.
func lean() {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	signal.Ignore(syscall.SIGHUP, syscall.SIGUSR1)
	_ = syscall.Exec(exe, os.Args, append(os.Environ(), "GOMAXPROCS=1"))
	caught.notify()
}
