package main

// Leveled, printf-style logging to stderr without timestamps: the init
// system adds its own.

import (
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type logLevel int8

const (
	levelDebug logLevel = iota
	levelInfo
	levelWarn
	levelError
)

var levelNames = [...]string{levelDebug: "debug", levelInfo: "info", levelWarn: "warn", levelError: "error"}

func (l logLevel) String() string { return levelNames[l] }

// parseLevel reads a level name in any case. The original ndpresponder's
// zap spellings are accepted too: "warning", and "dpanic", "panic" and
// "fatal", which are as quiet as we get.
func parseLevel(s string) (logLevel, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return levelDebug, nil
	case "info", "":
		return levelInfo, nil
	case "warn", "warning":
		return levelWarn, nil
	case "error", "dpanic", "panic", "fatal":
		return levelError, nil
	}
	return 0, errf("unknown log level %q (want debug, info, warn or error)", s)
}

// logThreshold is a logLevel; a reload may change it.
var logThreshold atomic.Int32

func init() { setLogLevel(levelInfo) }

func setLogLevel(l logLevel) { logThreshold.Store(int32(l)) }

func logEnabled(l logLevel) bool { return int32(l) >= logThreshold.Load() }

var logLine struct {
	sync.Mutex
	buf []byte
}

func logf(l logLevel, format string, args ...any) {
	if logEnabled(l) {
		// One write per line, so lines from goroutines never interleave,
		// made in a buffer kept for the next line.
		logLine.Lock()
		b := append(append(logLine.buf[:0], levelNames[l]...), ": "...)
		b = append(appendf(b, format, args...), '\n')
		os.Stderr.Write(b)
		if cap(b) <= 1<<10 {
			logLine.buf = b
		}
		logLine.Unlock()
	}
}

func debugf(format string, args ...any) { logf(levelDebug, format, args...) }
func infof(format string, args ...any)  { logf(levelInfo, format, args...) }
func warnf(format string, args ...any)  { logf(levelWarn, format, args...) }

// logLimiter lets through at most burst lines, refilled at perSecond a
// second, so a flood of odd packets cannot flood the log.
type logLimiter struct {
	perSecond, burst float64
	tokens           float64
	last             time.Time
	suppressed       uint64
}

// allow reports whether a line may be written now. When lines were held
// back since the last one allowed, their number is returned too.
func (l *logLimiter) allow(now time.Time) (ok bool, suppressed uint64) {
	if l.last.IsZero() {
		l.tokens = l.burst
	} else {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.perSecond)
	}
	l.last = now
	if l.tokens < 1 {
		l.suppressed++
		return false, 0
	}
	l.tokens--
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}
