package main

// Command-line options, parsed as package flag does (-name value,
// -name=value, --name, bare booleans, a stop at the first argument that is
// not an option), without package flag: it brings fmt and reflection,
// which on small boxes cost more resident memory than all of the daemon.

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// errHelp is returned when -h or -help is asked for; the usage is printed.
var errHelp = errors.New("help requested")

type option struct {
	name, usage string
	isBool      bool
	def         string // the default as the usage shows it; "" for none
	set         func(string) error
}

// optionSet is a set of options and what parsing them left over.
type optionSet struct {
	opts  map[string]*option
	out   io.Writer
	usage func()
	args  []string // the arguments after the options
}

func newOptionSet(out io.Writer) *optionSet {
	return &optionSet{opts: map[string]*option{}, out: out}
}

func (s *optionSet) add(o *option) { s.opts[o.name] = o }

func (s *optionSet) stringVar(p *string, name, def, usage string) {
	*p = def
	s.add(&option{name: name, usage: usage, def: quoteDefault(def), set: func(v string) error { *p = v; return nil }})
}

func quoteDefault(def string) string {
	if def == "" {
		return ""
	}
	return strconv.Quote(def)
}

func (s *optionSet) boolVar(p *bool, name string, def bool, usage string) {
	*p = def
	d := ""
	if def {
		d = "true"
	}
	s.add(&option{name: name, usage: usage, isBool: true, def: d, set: func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("parse error")
		}
		*p = b
		return nil
	}})
}

func (s *optionSet) int64Var(p *int64, name string, def int64, usage string) {
	*p = def
	d := ""
	if def != 0 {
		d = strconv.FormatInt(def, 10)
	}
	s.add(&option{name: name, usage: usage, def: d, set: func(v string) error {
		n, err := strconv.ParseInt(v, 0, 64)
		if errors.Is(err, strconv.ErrRange) {
			return errors.New("value out of range")
		}
		if err != nil {
			return errors.New("parse error")
		}
		*p = n
		return nil
	}})
}

func (s *optionSet) durationVar(p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	d := ""
	if def != 0 {
		d = def.String()
	}
	s.add(&option{name: name, usage: usage, def: d, set: func(v string) error {
		t, err := time.ParseDuration(v)
		if err != nil {
			return errors.New("parse error")
		}
		*p = t
		return nil
	}})
}

// funcVar calls set with each value given.
func (s *optionSet) funcVar(name, usage string, set func(string) error) {
	s.add(&option{name: name, usage: usage, set: set})
}

// parse reads args; it stops at the first argument that is not an option,
// and keeps the rest in s.args.
func (s *optionSet) parse(args []string) error {
	for len(args) > 0 {
		a := args[0]
		if len(a) < 2 || a[0] != '-' {
			break
		}
		args = args[1:]
		name := a[1:]
		if name[0] == '-' {
			name = name[1:]
			if name == "" { // "--" ends the options
				break
			}
		}
		if name == "" || name[0] == '-' || name[0] == '=' {
			return s.fail("bad flag syntax: " + a)
		}
		name, value, hasValue := strings.Cut(name, "=")
		o, ok := s.opts[name]
		if !ok {
			if name == "h" || name == "help" {
				s.printUsage()
				return errHelp
			}
			return s.fail("flag provided but not defined: -" + name)
		}
		if o.isBool && !hasValue {
			value, hasValue = "true", true
		}
		if !hasValue {
			if len(args) == 0 {
				return s.fail("flag needs an argument: -" + name)
			}
			value, args = args[0], args[1:]
		}
		if err := o.set(value); err != nil {
			if o.isBool {
				return s.fail("invalid boolean value " + strconv.Quote(value) + " for -" + name + ": " + err.Error())
			}
			return s.fail("invalid value " + strconv.Quote(value) + " for flag -" + name + ": " + err.Error())
		}
	}
	s.args = args
	return nil
}

func (s *optionSet) fail(msg string) error {
	io.WriteString(s.out, msg+"\n")
	s.printUsage()
	return errors.New(msg)
}

func (s *optionSet) printUsage() {
	if s.usage != nil {
		s.usage()
	}
}

// printDefaults lists the options as package flag does: the name, the
// argument's name (a word of the usage in back quotes), the usage, and
// the default.
func (s *optionSet) printDefaults() {
	// Insertion into place: a few dozen names, and a generic sort of
	// strings would add 12 kB of binary, which small boxes hold resident.
	names := make([]string, 0, len(s.opts))
	for n := range s.opts {
		i := len(names)
		names = append(names, n)
		for ; i > 0 && names[i-1] > n; i-- {
			names[i] = names[i-1]
		}
		names[i] = n
	}
	for _, n := range names {
		o := s.opts[n]
		usage, arg := o.usage, ""
		if i := strings.IndexByte(usage, '`'); i >= 0 {
			if j := strings.IndexByte(usage[i+1:], '`'); j >= 0 {
				arg = usage[i+1 : i+1+j]
				usage = usage[:i] + arg + usage[i+1+j+1:]
			}
		}
		if arg == "" && !o.isBool {
			arg = "value"
		}
		line := "  -" + n
		if arg != "" {
			line += " " + arg
		}
		line += "\n    \t" + usage
		if o.def != "" {
			line += " (default " + o.def + ")"
		}
		io.WriteString(s.out, line+"\n")
	}
}
