// Command ndpresponder answers IPv6 Neighbor Solicitations for addresses
// behind a VPS, from the target address, so that they pass hypervisor
// anti-spoofing filters.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	cfg, err := parseArgs(os.Args[1:], os.Getenv, os.Stderr)
	switch {
	case errors.Is(err, errVersion):
		fmt.Println("ndpresponder", version)
		os.Exit(0)
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "ndpresponder:", err)
		os.Exit(2)
	}
	if cfg.checkOnly {
		fmt.Println("ndpresponder: configuration ok")
		os.Exit(0)
	}
	if cfg.check {
		if !runCheck(cfg, os.Stdout) {
			os.Exit(1)
		}
		os.Exit(0)
	}
	setLogLevel(cfg.level)
	d, err := setup(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ndpresponder:", err)
		os.Exit(2)
	}
	lean()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := d.run(ctx); err != nil {
		errorf("%v", err)
		os.Exit(1)
	}
}
