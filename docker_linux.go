package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// dockerGet sends GET path to the engine over HTTP/1.0 and returns the
// connection positioned at the body, with the status code. The caller
// closes the file.
func dockerGet(sock, path string) (*os.File, *bufio.Reader, int, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, nil, 0, os.NewSyscallError("socket", err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: sock}); err != nil {
		unix.Close(fd)
		return nil, nil, 0, errf("docker: connecting to %s: %w", sock, err)
	}
	f := os.NewFile(uintptr(fd), "docker")
	if _, err := io.WriteString(f, "GET "+path+" HTTP/1.0\r\nHost: docker\r\nUser-Agent: ndpresponder\r\n\r\n"); err != nil {
		f.Close()
		return nil, nil, 0, errf("docker: %w", err)
	}
	r := bufio.NewReaderSize(f, 16<<10)
	code, err := readHTTPHead(r)
	if err != nil {
		f.Close()
		return nil, nil, 0, err
	}
	return f, r, code, nil
}

// dockerNetwork inspects a network; ok is false when there is none.
func dockerNetwork(sock, name string) (addrs []netip.Addr, ok bool, err error) {
	f, r, code, err := dockerGet(sock, dockerNetworkPath(name))
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	f.SetReadDeadline(time.Now().Add(10 * time.Second))
	body, err := io.ReadAll(io.LimitReader(r, 4<<20))
	switch {
	case err != nil:
		return nil, false, errf("docker: reading network %s: %w", name, err)
	case code == 404:
		return nil, false, nil
	case code != 200:
		return nil, false, errf("docker: network %s: status %d", name, code)
	}
	_, addrs, err = parseDockerNetwork(body)
	return addrs, err == nil, err
}

// watchDocker follows the engine until ctx ends: it lists the networks'
// containers, follows network events, and relists on each that concerns
// them. When the engine is not there, or goes, the known addresses stay
// answered while it reconnects with backoff, and a fresh listing after
// reconnecting catches whatever happened meanwhile.
func (d *daemon) watchDocker(ctx context.Context) {
	cfg := d.cfg.Load()
	sock, err := dockerSocket(cfg.dockerHost)
	if err != nil {
		errorf("%v", err)
		return
	}
	infof("docker: following network(s) %v through %s", cfg.docker, sock)
	backoff, down := time.Second, false
	for ctx.Err() == nil {
		err := d.dockerSession(ctx, sock, func() {
			if down {
				infof("docker: connected to %s again", sock)
			}
			backoff, down = time.Second, false
		})
		if ctx.Err() != nil {
			return
		}
		if !down {
			warnf("docker: %v; keeping the known addresses, reconnecting", err)
			down = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// dockerSession is one connection to the engine's event stream.
func (d *daemon) dockerSession(ctx context.Context, sock string, connected func()) error {
	// Follow the events first, so nothing falls between listing and
	// following.
	f, r, code, err := dockerGet(sock, dockerEventsPath)
	if err != nil {
		return err
	}
	defer f.Close()
	if code != 200 {
		return errf("docker: events: status %d", code)
	}
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	cfg := d.cfg.Load()
	networks := cfg.docker
	ids := map[string]bool{}
	relist := func() error {
		all := map[netip.Addr]struct{}{}
		for _, name := range networks {
			addrs, ok, err := dockerNetwork(sock, name)
			if err != nil {
				return err
			}
			if !ok {
				warnf("docker: no network %s (yet)", name)
			}
			for _, a := range addrs {
				if len(cfg.ranges) > 0 && !contains(cfg.ranges, a) {
					continue // -n bounds what is answered, and so announced
				}
				if len(all) >= maxLearned {
					warnf("docker: more than %d container addresses; the rest are not answered", maxLearned)
					break
				}
				all[a] = struct{}{}
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
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			continue // an event too long to be ours; skip to its end
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) {
				return errors.New("the engine closed its event stream")
			}
			return errf("docker: events: %w", err)
		}
		e, err := parseDockerEvent(line)
		if err != nil {
			continue
		}
		mine := ids[e.NetworkID]
		for _, n := range networks {
			mine = mine || e.NetworkName == n || e.NetworkID == n
		}
		if !mine {
			continue
		}
		ids[e.NetworkID] = true
		debugf("docker: %s on network %s", e.Action, e.NetworkName)
		if err := relist(); err != nil {
			return err
		}
	}
}
