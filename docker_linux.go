package main

import (
	"bufio"
	"errors"
	"io"
	"net/netip"
	"os"
	"sync"
	"time"

	"ndpresponder/internal/scope"

	"golang.org/x/sys/unix"
)

// dockerTimeout bounds each exchange with the engine, from connecting to
// the end of the answer's head (and of its body, but for the stream of
// events, which may be idle for hours).
var dockerTimeout = 10 * time.Second

// dockerConn is one exchange with the engine, positioned at the body.
type dockerConn struct {
	f    *os.File
	stop func() bool // disarms the cancellation
	head httpHead
}

func (c *dockerConn) close() {
	c.stop()
	c.f.Close()
}

// dockerGet connects to the engine, sends GET path over HTTP/1.0 and reads
// the answer's head into r, which it resets. Every read has a deadline from
// the moment of connecting, and sc ending closes the connection, which
// interrupts a blocked read at once.
func dockerGet(sc *scope.Scope, sock, path string, r *bufio.Reader) (*dockerConn, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: sock}); err != nil {
		unix.Close(fd)
		return nil, errf("connecting to %s: %w", sock, err)
	}
	f := os.NewFile(uintptr(fd), "docker")
	c := &dockerConn{f: f, stop: sc.OnEnd(func() { f.Close() })}
	f.SetDeadline(time.Now().Add(dockerTimeout))
	if _, err := io.WriteString(f, "GET "+path+" HTTP/1.0\r\nHost: docker\r\nUser-Agent: ndpresponder\r\n\r\n"); err != nil {
		c.close()
		return nil, dockerErr(sc, err)
	}
	r.Reset(f)
	if c.head, err = readHTTPHead(r); err != nil {
		c.close()
		return nil, dockerErr(sc, err)
	}
	return c, nil
}

// dockerErr says what went wrong with an exchange in the words of a log
// line.
func dockerErr(sc *scope.Scope, err error) error {
	switch {
	case sc.Ended():
		return scope.ErrEnded
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errf("no answer within %v", dockerTimeout)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errCutShort
	}
	return err
}

// dockerNetwork inspects a network: its ID and at most max of its
// containers' IPv6 addresses (more counts the rest); ok is false when
// there is no such network.
func dockerNetwork(sc *scope.Scope, sock, name string, r *bufio.Reader, max int) (id string, addrs []netip.Addr, more int, ok bool, err error) {
	c, err := dockerGet(sc, sock, dockerNetworkPath(name), r)
	if err != nil {
		return "", nil, 0, false, errf("network %s: %w", name, err)
	}
	defer c.close()
	switch c.head.code {
	case 200:
	case 404:
		return "", nil, 0, false, nil
	default:
		return "", nil, 0, false, errf("network %s: status %d", name, c.head.code)
	}
	id, addrs, more, err = parseDockerNetwork(newHTTPBody(r, c.head, dockerMaxListing), max)
	if err != nil {
		if errors.Is(err, errTooLong) {
			err = errf("answer longer than %d bytes", dockerMaxListing)
		}
		return "", nil, 0, false, errf("network %s: %w", name, dockerErr(sc, err))
	}
	return id, addrs, more, true, nil
}

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
	sock, err := dockerSocket(cfg.dockerHost)
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
		d.dockerIO.events, d.dockerIO.listing = bufio.NewReaderSize(nil, httpMaxLine), bufio.NewReaderSize(nil, httpMaxLine)
	}
	events, listing := d.dockerIO.events, d.dockerIO.listing
	// Follow the events first, so nothing falls between listing and
	// following.
	c, err := dockerGet(sc, sock, dockerEventsPath, events)
	if err != nil {
		return errf("events: %w", err)
	}
	defer c.close()
	if c.head.code != 200 {
		return errf("events: status %d", c.head.code)
	}
	c.f.SetReadDeadline(time.Time{}) // events come when they come
	networks := cfg.docker
	var (
		ids     = map[string]bool{}           // the networks' IDs in the latest listing
		all     = map[netip.Addr]struct{}{}   // its live addresses, kept between listings
		missing = make([]bool, len(networks)) // said that the network does not exist
		said    = &d.dockerIO.heldBackSaid
	)
	relist := func() error {
		clear(ids)
		clear(all)
		held := 0
		for i, name := range networks {
			id, addrs, more, ok, err := dockerNetwork(sc, sock, name, listing, maxLearned)
			if err != nil {
				return err
			}
			if !ok && !missing[i] {
				warnf("docker: no network %s (yet)", name)
			}
			missing[i] = !ok
			if ok {
				ids[id] = true
			}
			held += more
			for _, a := range addrs {
				// What the engine says is a claim too: only a global
				// unicast address may be answered and announced.
				if !globalUnicast(a) {
					if d.c.dockerNotGlobal.Add(1) == 1 {
						warnf("docker: container address %v on network %s is not global unicast; not answering such addresses (counted as docker-not-global)", a, name)
					}
					continue
				}
				if len(cfg.ranges) > 0 && !contains(cfg.ranges, a) {
					continue // -n bounds what is answered, and so announced
				}
				if _, dup := all[a]; !dup && len(all) >= maxLearned {
					held++
					continue
				}
				all[a] = struct{}{}
			}
		}
		d.c.dockerHeldBack.Store(uint64(held))
		if held > 0 && !*said {
			warnf("docker: more than %d container addresses; the rest are not answered (counted as docker-held-back)", maxLearned)
			*said = true
		}
		if up() {
			infof("docker: connected to %s again", sock)
		}
		d.setLive(liveDocker, all)
		d.c.docker.Store(uint64(len(all)))
		return nil
	}
	if err := relist(); err != nil {
		return err
	}
	last := time.Now()

	// The events are read by a goroutine of their own, so that a storm
	// of them waits for no listing; this one decides and lists.
	evc, failed, quit := make(chan dockerEvent), make(chan error, 1), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		failed <- readDockerEvents(sc, events, c, evc, quit)
	}()
	defer func() {
		close(quit)
		c.f.Close() // interrupts the reader
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
			if pending || !e.concerns(networks, ids) {
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
			if err := relist(); err != nil {
				return err
			}
			last = time.Now()
		}
	}
}

// readDockerEvents reads the stream of events of c until it fails or quit
// is closed, and hands each event on.
func readDockerEvents(sc *scope.Scope, events *bufio.Reader, c *dockerConn, out chan<- dockerEvent, quit <-chan struct{}) error {
	body := newHTTPBody(events, c.head, 0)
	dec := newJSONDecoder(body)
	for {
		body.limit = dockerMaxEvent
		if more, err := dec.more(); !more {
			if err == nil || errors.Is(err, os.ErrClosed) {
				return errors.New("the engine closed its event stream")
			}
			return errf("events: %w", dockerErr(sc, err))
		}
		e, err := parseDockerEvent(dec)
		if err != nil {
			if errors.Is(err, errTooLong) {
				err = errf("an event longer than %d bytes", dockerMaxEvent)
			}
			return errf("events: %w", dockerErr(sc, err))
		}
		select {
		case out <- e:
		case <-quit:
			return nil
		}
	}
}
