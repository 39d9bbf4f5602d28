package docker

// A streaming JSON decoder (RFC 8259) for the Docker Engine API's answers.
// It reads one byte at a time and keeps only what its caller asks for: a
// value nobody wants is checked and skipped without being stored, and a
// string is read into a fixed buffer, so a hostile answer of any size
// costs no heap. It is here instead of encoding/json, which costs 0.45 MB
// of binary, and so of resident memory, and holds a whole answer at once.

import (
	"errors"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"ndpresponder/internal/errs"
)

const (
	jsonMaxDepth  = 64
	jsonMaxString = 256 // longer strings are checked and skipped
)

var (
	errJSON      = errors.New("malformed JSON")
	errJSONDepth = errors.New("JSON nested too deep")
)

// jsonDecoder reads JSON values from r.
type jsonDecoder struct {
	r     io.ByteReader
	off   int64 // bytes consumed, for error messages
	peek  int   // the next byte, already read from r; -1: none
	depth int
	buf   [jsonMaxString]byte
}

func newJSONDecoder(r io.ByteReader) *jsonDecoder { return &jsonDecoder{r: r, peek: -1} }

// err says where the input went wrong. Errors of the reader pass through
// as they are, except that an end mid-value is io.ErrUnexpectedEOF.
func (d *jsonDecoder) err(err error) error {
	if err == errJSON || err == errJSONDepth {
		return errs.WithMessage(err.Error()+" at byte "+strconv.FormatInt(d.off, 10), err)
	}
	return err
}

// next returns the next byte and consumes it.
func (d *jsonDecoder) next() (byte, error) {
	if d.peek >= 0 {
		c := byte(d.peek)
		d.peek = -1
		d.off++
		return c, nil
	}
	c, err := d.r.ReadByte()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	d.off++
	return c, nil
}

// peekByte returns the next byte without consuming it.
func (d *jsonDecoder) peekByte() (byte, error) {
	if d.peek < 0 {
		c, err := d.r.ReadByte()
		if err != nil {
			return 0, err
		}
		d.peek = int(c)
	}
	return byte(d.peek), nil
}

// look returns the next byte that is not white space, without consuming it.
func (d *jsonDecoder) look() (byte, error) {
	for {
		c, err := d.peekByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			d.peek = -1
			d.off++
		default:
			return c, nil
		}
	}
}

// more reports whether another value follows, after white space; false at
// a clean end of input.
func (d *jsonDecoder) more() (bool, error) {
	_, err := d.look()
	if err == io.EOF {
		return false, nil
	}
	return err == nil, err
}

// expect consumes the next byte that is not white space, which must be c.
func (d *jsonDecoder) expect(c byte) error {
	got, err := d.look()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return err
	}
	if got != c {
		return d.err(errJSON)
	}
	d.next()
	return nil
}

// object reads an object and calls each with every key, which must consume
// that key's value (with str, object or skip). The key is in the decoder's
// buffer: it is valid until the next read, and nil when it is longer than
// the buffer. null or a value of another type is skipped.
func (d *jsonDecoder) object(each func(key []byte) error) error {
	c, err := d.look()
	if err != nil {
		return d.end(err)
	}
	if c != '{' {
		return d.skip()
	}
	if d.depth++; d.depth > jsonMaxDepth {
		return d.err(errJSONDepth)
	}
	d.next()
	if c, err := d.look(); err != nil {
		return d.end(err)
	} else if c == '}' {
		d.next()
		d.depth--
		return nil
	}
	for {
		if err := d.expect('"'); err != nil {
			return err
		}
		key, ok, err := d.strBody()
		if err != nil {
			return err
		}
		if !ok {
			key = nil
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		if err := each(key); err != nil {
			return err
		}
		c, err := d.look()
		if err != nil {
			return d.end(err)
		}
		d.next()
		switch c {
		case '}':
			d.depth--
			return nil
		case ',':
		default:
			return d.err(errJSON)
		}
	}
}

// str reads a string value into the decoder's buffer. ok is false when the
// value is longer than the buffer or not a string; it is skipped then.
func (d *jsonDecoder) str() (s []byte, ok bool, err error) {
	c, err := d.look()
	if err != nil {
		return nil, false, d.end(err)
	}
	if c != '"' {
		return nil, false, d.skip()
	}
	d.next()
	return d.strBody()
}

// skip reads one value of any type and keeps nothing of it.
func (d *jsonDecoder) skip() error {
	c, err := d.look()
	if err != nil {
		return d.end(err)
	}
	switch {
	case c == '{':
		return d.object(func([]byte) error { return d.skip() })
	case c == '[':
		if d.depth++; d.depth > jsonMaxDepth {
			return d.err(errJSONDepth)
		}
		d.next()
		if c, err := d.look(); err != nil {
			return d.end(err)
		} else if c == ']' {
			d.next()
			d.depth--
			return nil
		}
		for {
			if err := d.skip(); err != nil {
				return err
			}
			c, err := d.look()
			if err != nil {
				return d.end(err)
			}
			d.next()
			switch c {
			case ']':
				d.depth--
				return nil
			case ',':
			default:
				return d.err(errJSON)
			}
		}
	case c == '"':
		d.next()
		_, _, err := d.strBody()
		return err
	case c == 't':
		return d.word("true")
	case c == 'f':
		return d.word("false")
	case c == 'n':
		return d.word("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return d.err(errJSON)
}

// end turns the end of input inside a value into io.ErrUnexpectedEOF.
func (d *jsonDecoder) end(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (d *jsonDecoder) word(w string) error {
	for i := 0; i < len(w); i++ {
		c, err := d.next()
		if err != nil {
			return err
		}
		if c != w[i] {
			return d.err(errJSON)
		}
	}
	return nil
}

// number reads -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
// (RFC 8259 §6) and keeps nothing of it: the engine's answers hold no
// number we need.
func (d *jsonDecoder) number() error {
	const (
		start = iota
		minus
		zero
		integer
		dot
		fraction
		e
		sign
		exponent
	)
	state := start
	for {
		c, err := d.peekByte()
		if err != nil && err != io.EOF {
			return err
		}
		next := -1
		if err == nil {
			digit := c >= '0' && c <= '9'
			switch {
			case state == start && c == '-':
				next = minus
			case (state == start || state == minus) && c == '0':
				next = zero
			case (state == start || state == minus) && digit, state == integer && digit:
				next = integer
			case (state == zero || state == integer) && c == '.':
				next = dot
			case (state == dot || state == fraction) && digit:
				next = fraction
			case (state == zero || state == integer || state == fraction) && (c == 'e' || c == 'E'):
				next = e
			case state == e && (c == '+' || c == '-'):
				next = sign
			case (state == e || state == sign || state == exponent) && digit:
				next = exponent
			}
		}
		if next < 0 {
			// c is not part of the number: it ends here, if it may.
			if state == zero || state == integer || state == fraction || state == exponent {
				return nil
			}
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return d.err(errJSON)
		}
		d.next()
		state = next
	}
}

// strBody reads the rest of a string whose opening quote is consumed,
// into the buffer; ok is false when it did not fit.
// validUTF8 returns b with each byte that is not part of a UTF-8 sequence
// replaced by U+FFFD, as encoding/json does; ok is false if that no longer
// fits the string buffer.
func (d *jsonDecoder) validUTF8(b []byte) ([]byte, bool) {
	var out [jsonMaxString]byte
	o := out[:0]
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if len(o)+utf8.RuneLen(r) > len(out) {
			return nil, false
		}
		o = utf8.AppendRune(o, r)
		b = b[n:]
	}
	return d.buf[:copy(d.buf[:], o)], true
}

func (d *jsonDecoder) strBody() (s []byte, ok bool, err error) {
	b := d.buf[:0]
	ok = true
	add := func(r rune) {
		if ok && len(b)+utf8.RuneLen(r) <= len(d.buf) {
			b = utf8.AppendRune(b, r)
		} else {
			ok = false
		}
	}
	var high rune // a surrogate escape waiting for its pair
	for {
		c, err := d.next()
		if err != nil {
			return nil, false, err
		}
		if high != 0 && c != '\\' {
			add(utf8.RuneError)
			high = 0
		}
		switch {
		case c == '"':
			if ok && !utf8.Valid(b) {
				b, ok = d.validUTF8(b)
			}
			return b, ok, nil
		case c < 0x20:
			return nil, false, d.err(errJSON)
		case c != '\\':
			if ok && len(b) < len(d.buf) {
				b = append(b, c)
			} else {
				ok = false
			}
			continue
		}
		c, err = d.next()
		if err != nil {
			return nil, false, err
		}
		if high != 0 && c != 'u' {
			add(utf8.RuneError)
			high = 0
		}
		if r, simple := simpleEscape(c); simple {
			add(r)
			continue
		}
		if c != 'u' {
			return nil, false, d.err(errJSON)
		}
		r, err := d.hex4()
		if err != nil {
			return nil, false, err
		}
		// A surrogate pair is two escapes in a row. A surrogate that does
		// not pair leaves the replacement character, and the escape after
		// it counts on its own, as in encoding/json.
		if high != 0 {
			pair := utf16.DecodeRune(high, r)
			high = 0
			if pair != utf8.RuneError {
				add(pair)
				continue
			}
			add(utf8.RuneError)
		}
		if utf16.IsSurrogate(r) {
			high = r
			continue
		}
		add(r)
	}
}

// simpleEscape is what the escape \c stands for, for the escapes of one
// character (RFC 8259, section 7); simple is false for \u and for what is
// no escape.
func simpleEscape(c byte) (r rune, simple bool) {
	switch c {
	case '"', '\\', '/':
		return rune(c), true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	}
	return 0, false
}

func (d *jsonDecoder) hex4() (rune, error) {
	var r rune
	for range 4 {
		c, err := d.next()
		if err != nil {
			return 0, err
		}
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, d.err(errJSON)
		}
		r = r<<4 | rune(c)
	}
	return r, nil
}
