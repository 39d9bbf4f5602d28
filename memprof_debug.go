//go:build memprof

// A profiling build, never the shipped one: go build -tags memprof records
// every allocation (runtime.MemProfileRate = 1) and, on SIGUSR2, collects
// and writes the allocation profile to $NDPR_MEMPROF (default
// /tmp/ndpresponder.memprof), for go tool pprof -sample_index=alloc_space.
// This is how the garbage of container churn was found (README, "Budgets,
// measured"). The recording itself costs megabytes, so memory figures come
// from the plain build. Before collecting, it also writes the runtime's
// memory classes (runtime/metrics: heap objects, free and unused spans,
// stacks, metadata, collections) to $NDPR_MEMPROF.metrics, which says what
// grew between two signals; NDPR_MEMPROF_RATE=0 turns the recording off and the
// profile (bench.sh then finds an empty one), so that those classes are
// near the plain build's.

package main

import (
	"os"
	"os/signal"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
)

func init() {
	runtime.MemProfileRate = 1
	if r, err := strconv.Atoi(os.Getenv("NDPR_MEMPROF_RATE")); err == nil {
		runtime.MemProfileRate = r
	}
	path := os.Getenv("NDPR_MEMPROF")
	if path == "" {
		path = "/tmp/ndpresponder.memprof"
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR2)
	go func() {
		for range c {
			classes := memClasses()
			if runtime.MemProfileRate != 0 {
				runtime.GC() // the profile holds what the last collection saw
				if err := writeProfile(path); err != nil {
					warnf("memprof: %v", err)
				}
			}
			// The classes are read before the profile is written (its
			// compressor allocates about a megabyte), and written last,
			// whole: their file is what says both are there.
			if err := os.WriteFile(path+".metrics.tmp", classes, 0o644); err != nil {
				warnf("memprof: %v", err)
			}
			os.Rename(path+".metrics.tmp", path+".metrics")
		}
	}()
}

func writeProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("allocs").WriteTo(f, 0)
}

// memClasses is one "name value" line per memory class, GC cycle count,
// allocation total and goroutine count the runtime reports.
func memClasses() []byte {
	var samples []metrics.Sample
	for _, d := range metrics.All() {
		if strings.HasPrefix(d.Name, "/memory/classes/") || strings.HasPrefix(d.Name, "/gc/cycles/") ||
			d.Name == "/gc/heap/allocs:bytes" || d.Name == "/gc/heap/allocs:objects" ||
			d.Name == "/sched/goroutines:goroutines" {
			samples = append(samples, metrics.Sample{Name: d.Name})
		}
	}
	metrics.Read(samples)
	var b strings.Builder
	for _, s := range samples {
		if s.Value.Kind() == metrics.KindUint64 {
			b.WriteString(s.Name + " " + strconv.FormatUint(s.Value.Uint64(), 10) + "\n")
		}
	}
	return []byte(b.String())
}
