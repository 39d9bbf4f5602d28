//go:build memprof

// A profiling build, never the shipped one: go build -tags memprof records
// every allocation (runtime.MemProfileRate = 1) and, on SIGUSR2, collects
// and writes the allocation profile to $NDPR_MEMPROF (default
// /tmp/ndpresponder.memprof), for go tool pprof -sample_index=alloc_space.
// This is how the garbage of container churn was found (README, "Budgets,
// measured"). The recording itself costs megabytes, so memory figures come
// from the plain build.

package main

import (
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
)

func init() {
	runtime.MemProfileRate = 1
	path := os.Getenv("NDPR_MEMPROF")
	if path == "" {
		path = "/tmp/ndpresponder.memprof"
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR2)
	go func() {
		for range c {
			runtime.GC() // the profile holds what the last collection saw
			f, err := os.Create(path)
			if err != nil {
				warnf("memprof: %v", err)
				continue
			}
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				warnf("memprof: %v", err)
			}
			f.Close()
		}
	}()
}
