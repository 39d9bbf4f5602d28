package errs

import (
	"errors"
	"io"
	"testing"
)

func TestWrap(t *testing.T) {
	err := Wrap("reading link 2", io.ErrUnexpectedEOF)
	if got, want := err.Error(), "reading link 2: unexpected EOF"; got != want {
		t.Errorf("Wrap(...).Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("errors.Is(Wrap(..., io.ErrUnexpectedEOF), io.ErrUnexpectedEOF) = false")
	}
	err = WithMessage("syntax error at byte 7", io.EOF)
	if err.Error() != "syntax error at byte 7" || !errors.Is(err, io.EOF) {
		t.Errorf("WithMessage = %q, errors.Is(io.EOF) = %v; want the message and true", err, errors.Is(err, io.EOF))
	}
}
