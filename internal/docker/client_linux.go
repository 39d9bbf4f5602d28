package docker

import (
	"bufio"
	"errors"
	"io"
	"net/netip"
	"os"
	"strconv"
	"time"

	"ndpresponder/internal/errs"
	"ndpresponder/internal/scope"

	"golang.org/x/sys/unix"
)

// Timeout bounds each exchange with the engine, from connecting to
// the end of the answer's head (and of its body, but for the stream of
// events, which may be idle for hours).
var Timeout = 10 * time.Second

// Conn is one exchange with the engine, positioned at the body.
type Conn struct {
	f    *os.File
	stop func() bool // disarms the cancellation
	head httpHead
}

// Close ends the exchange; it may be called while another goroutine
// reads the body, which it interrupts, and more than once.
func (c *Conn) Close() {
	c.stop()
	c.f.Close()
}

// Status is the answer's status code.
func (c *Conn) Status() int { return c.head.code }

// Follow lifts the deadline of the exchange, for a stream whose parts
// come when they come, as the engine's events do.
func (c *Conn) Follow() { c.f.SetReadDeadline(time.Time{}) }

// Get connects to the engine, sends GET path over HTTP/1.0 and reads
// the answer's head into r, which it resets. Every read has a deadline from
// the moment of connecting, and sc ending closes the connection, which
// interrupts a blocked read at once.
func Get(sc *scope.Scope, sock, path string, r *bufio.Reader) (*Conn, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: sock}); err != nil {
		unix.Close(fd)
		return nil, errs.Wrap("connecting to "+sock, err)
	}
	f := os.NewFile(uintptr(fd), "docker")
	c := &Conn{f: f, stop: sc.OnEnd(func() { f.Close() })}
	f.SetDeadline(time.Now().Add(Timeout))
	if _, err := io.WriteString(f, "GET "+path+" HTTP/1.0\r\nHost: docker\r\nUser-Agent: ndpresponder\r\n\r\n"); err != nil {
		c.Close()
		return nil, dockerErr(sc, err)
	}
	r.Reset(f)
	if c.head, err = readHTTPHead(r); err != nil {
		c.Close()
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
		return errors.New("no answer within " + Timeout.String())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errCutShort
	}
	return err
}

// Network inspects a network: its ID and at most max of its
// containers' IPv6 addresses (more counts the rest); ok is false when
// there is no such network.
func Network(sc *scope.Scope, sock, name string, r *bufio.Reader, max int) (id string, addrs []netip.Addr, more int, ok bool, err error) {
	c, err := Get(sc, sock, dockerNetworkPath(name), r)
	if err != nil {
		return "", nil, 0, false, errs.Wrap("network "+name, err)
	}
	defer c.Close()
	switch c.head.code {
	case 200:
	case 404:
		return "", nil, 0, false, nil
	default:
		return "", nil, 0, false, errors.New("network " + name + ": status " + strconv.Itoa(c.head.code))
	}
	id, addrs, more, err = parseDockerNetwork(newHTTPBody(r, c.head, MaxListing), max)
	if err != nil {
		if errors.Is(err, errTooLong) {
			err = errors.New("answer longer than " + strconv.Itoa(MaxListing) + " bytes")
		}
		return "", nil, 0, false, errs.Wrap("network "+name, dockerErr(sc, err))
	}
	return id, addrs, more, true, nil
}

// ReadEvents reads the stream of events of c until it fails or quit
// is closed, and hands each event on.
func ReadEvents(sc *scope.Scope, events *bufio.Reader, c *Conn, out chan<- Event, quit <-chan struct{}) error {
	body := newHTTPBody(events, c.head, 0)
	dec := newJSONDecoder(body)
	for {
		body.limit = dockerMaxEvent
		if more, err := dec.more(); !more {
			if err == nil || errors.Is(err, os.ErrClosed) {
				return errors.New("the engine closed its event stream")
			}
			return errs.Wrap("events", dockerErr(sc, err))
		}
		e, err := parseDockerEvent(dec)
		if err != nil {
			if errors.Is(err, errTooLong) {
				err = errors.New("an event longer than " + strconv.Itoa(dockerMaxEvent) + " bytes")
			}
			return errs.Wrap("events", dockerErr(sc, err))
		}
		select {
		case out <- e:
		case <-quit:
			return nil
		}
	}
}
