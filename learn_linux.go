package main

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// learn follows the kernel's neighbour tables of cfg's -learn bridges
// until ctx ends: a dump at start and after a lost event or a link change,
// then RTM_NEWNEIGH and RTM_DELNEIGH events. Each change of the live
// addresses is published.
func (d *daemon) learn(ctx context.Context, cfg *config) {
	ev, err := openRtnlEvents(unix.RTMGRP_NEIGH | unix.RTMGRP_LINK)
	if err != nil {
		errorf("learn: %v", err)
		return
	}
	defer ev.Close()
	stop := context.AfterFunc(ctx, func() { ev.Close() })
	defer stop()
	nl, err := openRtnl()
	if err != nil {
		errorf("learn: %v", err)
		return
	}
	defer nl.Close()

	var (
		mu      sync.Mutex // l, once the publishing timer runs
		l       *learner
		bridges map[int]bool
		counted uint64 // of this learner's held-back entries
		warned  [2]bool
		last    time.Time
		pending bool
	)
	publish := func() {
		last = time.Now()
		d.setLive(liveLearn, l.snapshot().m)
		d.c.learned.Store(uint64(len(l.addrs)))
		if held := l.dropped + l.overMAC; held > counted {
			d.c.learnHeldBack.Add(held - counted)
			counted = held
		}
		// Said once; the counter tells the rest.
		if l.dropped > 0 && !warned[0] {
			warnf("learn: %d live addresses, the most kept; more are not answered (counted as learn-held-back)", maxLearned)
			warned[0] = true
		}
		if l.overMAC > 0 && !warned[1] {
			warnf("learn: more than %d addresses behind one MAC; the rest are not answered or announced (-max-per-mac; counted as learn-held-back)", cfg.maxPerMAC)
			warned[1] = true
		}
	}
	resync := func() {
		links, err := nl.links()
		if err != nil {
			warnf("learn: %v", err)
			return
		}
		bridges = map[int]bool{}
		for _, lk := range links {
			for _, name := range cfg.learn {
				if lk.Name == name {
					bridges[lk.Index] = true
				}
			}
		}
		entries, err := nl.neighs()
		if err != nil {
			warnf("learn: %v", err)
			return
		}
		l, counted = newLearner(cfg.ranges, int(cfg.maxPerMAC)), 0
		for _, e := range entries {
			l.apply(e, false, bridges)
		}
		publish()
	}
	mu.Lock()
	resync()
	mu.Unlock()
	for {
		changed, again := false, false
		overrun, err := ev.next(func(m nlMsg) {
			switch m.Type {
			case rtmNewNeigh, rtmDelNeigh:
				if e, err := parseNeigh(m.Data); err == nil {
					mu.Lock()
					if l == nil {
						again = true // the last dump failed: dump again
					} else {
						changed = l.apply(e, m.Type == rtmDelNeigh, bridges) || changed
					}
					mu.Unlock()
				}
			case rtmNewLink, rtmDelLink:
				again = true
			}
		})
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, os.ErrClosed) {
				errorf("learn: following neighbours: %v", err)
			}
			return
		}
		switch {
		case overrun || again:
			mu.Lock()
			resync()
			mu.Unlock()
		case changed:
			// A storm of neighbour entries must not make a snapshot
			// of the live set for each one: at most one in publishEvery.
			mu.Lock()
			if wait := publishEvery - time.Since(last); wait <= 0 {
				publish()
			} else if !pending {
				pending = true
				time.AfterFunc(wait, func() {
					mu.Lock()
					defer mu.Unlock()
					pending = false
					publish()
				})
			}
			mu.Unlock()
		}
	}
}
