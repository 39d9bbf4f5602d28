package main

import (
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// parsedOptions is what one parse of a command line gave, by our parser
// or by package flag, in a form the two can be compared in.
type parsedOptions struct {
	s     string
	b     bool
	n     int64
	d     time.Duration
	list  []string
	rest  []string
	err   string // the first line of the error; "" for none
	isHlp bool
}

// equal compares two parses: after an error only the error counts, and
// for -h only that it was asked for (the usage texts differ by design).
func (p parsedOptions) equal(q parsedOptions) bool {
	switch {
	case p.isHlp || q.isHlp:
		return p.isHlp == q.isHlp
	case p.err != "" || q.err != "":
		return p.err == q.err
	}
	return p.s == q.s && p.b == q.b && p.n == q.n && p.d == q.d && slices.Equal(p.list, q.list) &&
		slices.Equal(p.rest, q.rest)
}

func listSet(list *[]string) func(string) error {
	return func(v string) error {
		if v == "bad" {
			return errors.New("a bad value")
		}
		*list = append(*list, v)
		return nil
	}
}

func parseOurs(args []string) (p parsedOptions) {
	s := newOptionSet(io.Discard)
	s.stringVar(&p.s, "s", "def", "a string")
	s.boolVar(&p.b, "b", false, "a bool")
	s.int64Var(&p.n, "n", 7, "a number")
	s.durationVar(&p.d, "d", time.Second, "a duration")
	s.funcVar("f", "a list", listSet(&p.list))
	err := s.parse(args)
	p.rest = s.args
	if err != nil {
		p.err, _, _ = strings.Cut(err.Error(), "\n")
		p.isHlp, p.rest = errors.Is(err, errHelp), nil
	}
	return p
}

func parseFlag(args []string) (p parsedOptions) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&p.s, "s", "def", "a string")
	fs.BoolVar(&p.b, "b", false, "a bool")
	fs.Int64Var(&p.n, "n", 7, "a number")
	fs.DurationVar(&p.d, "d", time.Second, "a duration")
	fs.Func("f", "a list", listSet(&p.list))
	err := fs.Parse(args)
	p.rest = fs.Args()
	if len(p.rest) == 0 {
		p.rest = nil
	}
	if err != nil {
		p.err, _, _ = strings.Cut(err.Error(), "\n")
		p.isHlp, p.rest = errors.Is(err, flag.ErrHelp), nil
	}
	return p
}

// TestOptionsLikeFlag: our option parser reads a command line as package
// flag does: the same values, the same arguments left, the same errors.
func TestOptionsLikeFlag(t *testing.T) {
	for _, line := range []string{
		"", "-s x", "-s=x", "--s x", "--s=x", "-s", "-s=", "-b", "-b=false", "-b false", "-b=maybe",
		"-n 12", "-n 0x10", "-n=-3", "-n twelve", "-n 10000000000000000000", "-d 2m", "-d 5", "-f a -f b", "-f bad", "-f=a=b",
		"-x", "--", "-- -s x", "x -s y", "-", "- -s x", "---s x", "-=x", "-h", "-help", "--help", "-s -b",
		"-b -s x rest of it", "-s x -- -b",
	} {
		args := strings.Fields(line)
		ours, theirs := parseOurs(args), parseFlag(args)
		if !ours.equal(theirs) {
			t.Errorf("parse(%q) = %+v; package flag gives %+v", args, ours, theirs)
		}
	}
}

// FuzzOptionsLikeFlag compares the two parsers on any command line: the
// input is split into arguments at each NUL.
func FuzzOptionsLikeFlag(f *testing.F) {
	for _, s := range []string{"-s\x00x", "-b=1\x00-n\x000x1f\x00rest", "-f\x00a\x00--\x00-b", "-d\x001h", "--=\x00", "-h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		if s == "" {
			args = nil
		}
		if ours, theirs := parseOurs(args), parseFlag(args); !ours.equal(theirs) {
			t.Errorf("parse(%q) = %+v; package flag gives %+v", args, ours, theirs)
		}
	})
}
