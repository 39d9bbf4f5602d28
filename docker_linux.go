package main

import (
	"bufio"
	"errors"
	"io"
	"net/netip"
	"os"
	"time"

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
func dockerGet(sc *scope, sock, path string, r *bufio.Reader) (*dockerConn, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: sock}); err != nil {
		unix.Close(fd)
		return nil, errf("connecting to %s: %w", sock, err)
	}
	f := os.NewFile(uintptr(fd), "docker")
	c := &dockerConn{f: f, stop: sc.onEnd(func() { f.Close() })}
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
func dockerErr(sc *scope, err error) error {
	switch {
	case sc.ended():
		return errEnded
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
func dockerNetwork(sc *scope, sock, name string, r *bufio.Reader, max int) (id string, addrs []netip.Addr, more int, ok bool, err error) {
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

// watchDocker follows the engine until sc ends: it lists the networks'
// containers, follows network events, and relists on each that concerns
// them. When the engine is not there, or goes, the known addresses stay
// answered while it reconnects with backoff, and a fresh listing after
// reconnecting catches whatever happened meanwhile.
func (d *daemon) watchDocker(sc *scope) {
	cfg := d.cfg.Load()
	sock, err := dockerSocket(cfg.dockerHost)
	if err != nil {
		errorf("docker: %v", err)
		return
	}
	infof("docker: following network(s) %v through %s", cfg.docker, sock)
	// One reader for the stream of events, one for the listings; each
	// session resets them.
	events, listing := bufio.NewReaderSize(nil, httpMaxLine), bufio.NewReaderSize(nil, httpMaxLine)
	backoff, down := time.Second, false
	for !sc.ended() {
		err := d.dockerSession(sc, sock, events, listing, func() {
			if down {
				infof("docker: connected to %s again", sock)
			}
			backoff, down = time.Second, false
		})
		if sc.ended() {
			return
		}
		if !down {
			warnf("docker: %v; keeping the known addresses, reconnecting", err)
			down = true
		}
		wait := newAlarm(backoff)
		select {
		case <-sc.Done():
			wait.stop()
			return
		case <-wait.C:
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// dockerSession is one connection to the engine's event stream.
func (d *daemon) dockerSession(sc *scope, sock string, events, listing *bufio.Reader, connected func()) error {
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
	cfg := d.cfg.Load()
	networks := cfg.docker
	ids := map[string]bool{}
	relist := func() error {
		all := map[netip.Addr]struct{}{}
		for _, name := range networks {
			id, addrs, more, ok, err := dockerNetwork(sc, sock, name, listing, maxLearned)
			if err != nil {
				return err
			}
			if !ok {
				warnf("docker: no network %s (yet)", name)
			}
			if ok {
				ids[id] = true
			}
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
				if len(all) >= maxLearned {
					more++
					continue
				}
				all[a] = struct{}{}
			}
			if more > 0 {
				warnf("docker: more than %d container addresses; %d are not answered", maxLearned, more)
			}
		}
		d.setLive(liveDocker, all)
		d.c.docker.Store(uint64(len(all)))
		return nil
	}
	if err := relist(); err != nil {
		return err
	}
	connected()
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
		if !e.concerns(networks, ids) {
			continue
		}
		debugf("docker: %s %s", e.Action, e.Name)
		if err := relist(); err != nil {
			return err
		}
	}
}
