package main

// Printf-style formatting for logs and errors without package fmt, which
// with flag costs about 0.2 MB of binary, and on small boxes the binary is
// resident memory (deps_test.go keeps fmt out and lists what it cost). The verbs are %v, %s, %d, %q, %w
// (an error to wrap) and %%; the values are the concrete types the daemon
// formats. There is deliberately no case for "anything with a String
// method": a dynamic String call would keep every String method of every
// type in the binary.

import (
	"net/netip"
	"strconv"
	"time"

	"ndpresponder/internal/errs"
)

// sprintf formats like fmt.Sprintf for the verbs and types above.
func sprintf(format string, args ...any) string {
	return string(appendf(nil, format, args...))
}

func appendf(b []byte, format string, args ...any) []byte {
	n := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b = append(b, c)
			continue
		}
		i++
		verb := format[i]
		if verb == '%' {
			b = append(b, '%')
			continue
		}
		if n >= len(args) {
			b = append(b, "%!"...)
			b = append(b, verb)
			b = append(b, "(MISSING)"...)
			continue
		}
		b = appendValue(b, verb, args[n])
		n++
	}
	return b
}

func appendValue(b []byte, verb byte, v any) []byte {
	if verb == 'q' {
		return strconv.AppendQuote(b, string(appendValue(nil, 'v', v)))
	}
	switch v := v.(type) {
	case string:
		return append(b, v...)
	case []byte:
		return append(b, v...)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case uint8:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint16:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case bool:
		return strconv.AppendBool(b, v)
	case time.Duration:
		return append(b, v.String()...)
	case netip.Addr:
		return v.AppendTo(b)
	case netip.Prefix:
		return v.AppendTo(b)
	case mac:
		return v.AppendTo(b)
	case logLevel:
		return append(b, v.String()...)
	case *counters:
		return append(b, v.String()...)
	case []netip.Prefix:
		return appendList(b, len(v), func(b []byte, i int) []byte { return v[i].AppendTo(b) })
	case []netip.Addr:
		return appendList(b, len(v), func(b []byte, i int) []byte { return v[i].AppendTo(b) })
	case []string:
		return appendList(b, len(v), func(b []byte, i int) []byte { return append(b, v[i]...) })
	case []mac:
		return appendList(b, len(v), func(b []byte, i int) []byte { return v[i].AppendTo(b) })
	case error:
		if v == nil {
			return append(b, "<nil>"...)
		}
		return append(b, v.Error()...)
	case nil:
		return append(b, "<nil>"...)
	}
	return append(b, '?')
}

func appendList(b []byte, n int, elem func([]byte, int) []byte) []byte {
	b = append(b, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ' ')
		}
		b = elem(b, i)
	}
	return append(b, ']')
}

// errf formats an error; with %w, the error it names is wrapped, so that
// errors.Is and errors.As see through the message.
func errf(format string, args ...any) error {
	var wrapped error
	n := 0
	for i := 0; i+1 < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		if format[i] == '%' {
			continue
		}
		if format[i] == 'w' && n < len(args) {
			wrapped, _ = args[n].(error)
		}
		n++
	}
	return errs.WithMessage(sprintf(format, args...), wrapped)
}
