// Command ndpresponder answers IPv6 Neighbor Solicitations for addresses
// behind a VPS, from the target address, so that they pass hypervisor
// anti-spoofing filters.
package main

import (
	"errors"
	"os"
	"os/signal"
	"syscall"

	"ndpresponder/internal/privs"
	"ndpresponder/internal/scope"
)

// caught holds the signals the daemon acts on while it runs, caught from
// the program's first Go code on: a SIGHUP that arrived before the daemon
// caught it ended the process (the Go runtime's default), and systemctl
// reload right after systemctl start sends one. What arrives before the
// daemon is ready waits here: a reload asked for while it starts is done
// once it runs. A package variable, so that it is set up before any init
// function runs; the runtime's own start-up, before it, is microseconds.
var caught = catchSignals()

type signals struct {
	hup, usr1 chan os.Signal // one pending each: a second one adds nothing
}

func catchSignals() signals {
	s := signals{hup: make(chan os.Signal, 1), usr1: make(chan os.Signal, 1)}
	s.notify()
	return s
}

func (s signals) notify() {
	signal.Notify(s.hup, syscall.SIGHUP)
	signal.Notify(s.usr1, syscall.SIGUSR1)
}

func main() {
	cfg, err := parseArgs(os.Args[1:], os.Getenv, os.Stderr)
	switch {
	case errors.Is(err, errVersion):
		os.Stdout.WriteString("ndpresponder " + version + "\n")
		os.Exit(0)
	case errors.Is(err, errHelp):
		os.Exit(0)
	case err != nil:
		fatal(2, err)
	}
	if cfg.checkOnly {
		if cfg.user != "" {
			if _, err := privs.LookupUser(cfg.user, privs.OpenPasswd); err != nil {
				fatal(2, err)
			}
		}
		os.Stdout.WriteString("ndpresponder: configuration ok\n")
		os.Exit(0)
	}
	if cfg.unpin {
		n, err := unpinLeft(cfg.iface)
		if err != nil {
			fatal(1, err)
		}
		os.Stdout.WriteString(sprintf("ndpresponder: removed %d pin(s)\n", n))
		os.Exit(0)
	}
	if cfg.check {
		signal.Reset(syscall.SIGHUP, syscall.SIGUSR1) // nothing to reload
		if !runCheck(cfg, os.Stdout) {
			os.Exit(1)
		}
		os.Exit(0)
	}
	setLogLevel(cfg.level)
	d := newDaemon(cfg)
	d.hup, d.usr1 = caught.hup, caught.usr1
	status, err := readFile("/proc/self/status", 64<<10)
	if err != nil {
		fatal(2, err)
	}
	switch err := privs.Drop(string(status), cfg.user, engineGroup(cfg)); {
	case errors.Is(err, privs.ErrNotReexecuted):
		warnf("privileges: %v; going on with them dropped on every thread", err)
	case err != nil:
		fatal(2, err)
	}
	lean()
	if err := d.run(untilSignal(os.Interrupt, syscall.SIGTERM)); err != nil {
		fatal(1, err)
	}
}

// fatal ends the program with status code, saying why in the one shape
// every fatal error has: "ndpresponder: " and the error.
func fatal(code int, err error) {
	os.Stderr.WriteString("ndpresponder: " + err.Error() + "\n")
	os.Exit(code)
}

// untilSignal is a scope that ends at the first of sigs. They stay
// caught: a second one while the daemon exits does not cut short its
// removing the pin it made.
func untilSignal(sigs ...os.Signal) *scope.Scope {
	sc := scope.New()
	c := make(chan os.Signal, 1)
	signal.Notify(c, sigs...)
	go func() {
		<-c
		sc.End()
	}()
	return sc
}
