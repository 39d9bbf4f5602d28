package main

import (
	"bufio"
	"net/netip"
	"sync"
	"time"

	"ndpresponder/internal/docker"
	"ndpresponder/internal/scope"

	"golang.org/x/sys/unix"
)

// dockerRelistEvery is the least time between two listings: the events of
// a storm are coalesced into one listing an interval, and the last event is
// always followed by a listing, so that nothing is missed. A test shortens
// it.
var dockerRelistEvery = time.Second

// watchDocker follows the engine until sc ends, or until the connection
// fails (superviseWatcher connects again): it lists the networks'
// containers, follows network events, and lists again after those that
// concern them, at most once in dockerRelistEvery. up is called before each
// listing is published: a fresh listing after reconnecting catches
// whatever happened meanwhile.
//
// All it keeps of the engine is bounded by the latest listing: the
// networks' IDs it names and at most maxLearned addresses, whatever the
// engine says and however often.
func (d *daemon) watchDocker(sc *scope.Scope, cfg *config, up func() bool) error {
	sock, err := docker.Socket(cfg.dockerHost)
	if err != nil {
		return err
	}
	if d.dockerIO.cfg != cfg {
		infof("docker: following network(s) %v through %s", cfg.docker, sock)
		d.dockerIO.cfg = cfg
	}
	if d.dockerIO.events == nil {
		// One reader for the stream of events, one for the listings,
		// kept across connections; each connection resets them.
		d.dockerIO.events, d.dockerIO.listing = bufio.NewReaderSize(nil, docker.HTTPMaxLine), bufio.NewReaderSize(nil, docker.HTTPMaxLine)
	}
	events, listing := d.dockerIO.events, d.dockerIO.listing
	// Follow the events first, so nothing falls between listing and
	// following.
	c, err := docker.Get(sc, sock, docker.EventsPath, events)
	if err != nil {
		return errf("events: %w", err)
	}
	defer c.Close()
	if c.Status() != 200 {
		return errf("events: status %d", c.Status())
	}
	c.Follow() // events come when they come
	w := &dockerWatch{d: d, sc: sc, cfg: cfg, sock: sock, listing: listing, up: up,
		ids: map[string]bool{}, all: map[netip.Addr]struct{}{}, missing: make([]bool, len(cfg.docker))}
	if err := w.relist(); err != nil {
		return err
	}
	last := time.Now()

	// The events are read by a goroutine of their own, so that a storm
	// of them waits for no listing; this one decides and lists.
	evc, failed, quit := make(chan docker.Event), make(chan error, 1), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		failed <- docker.ReadEvents(sc, events, c, evc, quit)
	}()
	defer func() {
		close(quit)
		c.Close() // interrupts the reader
		wg.Wait()
	}()
	wake := scope.NewAlarm(time.Hour)
	defer wake.Stop()
	pending := false // an event that concerns the networks came since the last listing
	for {
		var due <-chan struct{}
		if pending {
			due = wake.C
		}
		select {
		case <-sc.Done():
			return nil
		case err := <-failed:
			return err
		case e := <-evc:
			if pending || !e.Concerns(cfg.docker, w.ids) {
				continue
			}
			debugf("docker: %s %s", e.Action, e.Name)
			pending = true
			wake.Reset(max(0, dockerRelistEvery-time.Since(last)))
		case <-due:
			if wait := dockerRelistEvery - time.Since(last); wait > 0 {
				wake.Reset(wait) // an early ring, from before a reset
				continue
			}
			pending = false
			if err := w.relist(); err != nil {
				return err
			}
			last = time.Now()
		}
	}
}

// dockerWatch is what watchDocker keeps of the engine between listings.
type dockerWatch struct {
	d       *daemon
	sc      *scope.Scope
	cfg     *config
	sock    string
	listing *bufio.Reader
	up      func() bool

	ids     map[string]bool         // the networks' IDs in the latest listing
	all     map[netip.Addr]struct{} // its live addresses, kept between listings
	missing []bool                  // said that the network does not exist, for each of cfg.docker
}

// relist lists the networks' containers and publishes their addresses.
func (w *dockerWatch) relist() error {
	clear(w.ids)
	clear(w.all)
	held := 0
	for i, name := range w.cfg.docker {
		id, addrs, more, ok, err := docker.Network(w.sc, w.sock, name, w.listing, maxLearned)
		if err != nil {
			return err
		}
		if !ok && !w.missing[i] {
			warnf("docker: no network %s (yet)", name)
		}
		w.missing[i] = !ok
		if ok {
			w.ids[id] = true
		}
		held += more
		for _, a := range addrs {
			if !w.keep(a, name) {
				held++
			}
		}
	}
	d := w.d
	d.c.dockerHeldBack.Store(uint64(held))
	if said := &d.dockerIO.heldBackSaid; held > 0 && !*said {
		warnf("docker: more than %d container addresses; the rest are not answered (counted as docker-held-back)", maxLearned)
		*said = true
	}
	if w.up() {
		infof("docker: connected to %s again", w.sock)
	}
	d.setLive(liveDocker, w.all)
	d.c.docker.Store(uint64(len(w.all)))
	return nil
}

// keep takes a container's address on network name into the listing,
// unless it is not to be answered; it returns false only when the address
// is left out for want of room (held back).
func (w *dockerWatch) keep(a netip.Addr, name string) (room bool) {
	// What the engine says is a claim too: only a global unicast
	// address may be answered and announced.
	if !globalUnicast(a) {
		if w.d.c.dockerNotGlobal.Add(1) == 1 {
			warnf("docker: container address %v on network %s is not global unicast; not answering such addresses (counted as docker-not-global)", a, name)
		}
		return true
	}
	if len(w.cfg.ranges) > 0 && !contains(w.cfg.ranges, a) {
		return true // -n bounds what is answered, and so announced
	}
	if _, dup := w.all[a]; !dup && len(w.all) >= maxLearned {
		return false
	}
	w.all[a] = struct{}{}
	return true
}

// engineGroup is the group through which -N reaches the engine's socket,
// to keep as a supplementary group with -user: Docker's socket belongs to
// root and the group docker, mode 0660. -1 when there is none to keep:
// no -N or -user, no socket yet, a socket the group cannot use, or the
// group root.
func engineGroup(cfg *config) int {
	if len(cfg.docker) == 0 || cfg.user == "" {
		return -1
	}
	sock, err := docker.Socket(cfg.dockerHost)
	if err != nil {
		return -1
	}
	var st unix.Stat_t
	if err := unix.Stat(sock, &st); err != nil || st.Mode&0o060 != 0o060 || st.Gid == 0 {
		return -1
	}
	return int(st.Gid)
}
