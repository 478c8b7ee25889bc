package booking_test

import (
	"errors"
	"fmt"
	"testing"

	"fairslot/internal/booking"
)

// TestErrorMatchingWithoutReflection: AsError and Error.Is answer a bare
// *Error without errors.As (the hot path's refusals), and answer exactly
// as errors.As does for everything else: wrapped, another type, a nil
// *Error.
func TestErrorMatchingWithoutReflection(t *testing.T) {
	own := booking.Errorf(booking.ErrSoldOut, "none left at 9:00")
	wrapped := fmt.Errorf("reserve: %w", own)
	var nilErr *booking.Error
	for _, tt := range []struct {
		name string
		err  error
	}{{"sentinel", booking.ErrSoldOut}, {"own message", own}, {"wrapped", wrapped}, {"plain", errors.New("x")}, {"nil *Error", nilErr}} {
		e, ok := booking.AsError(tt.err)
		var want *booking.Error
		wantOK := errors.As(tt.err, &want)
		if e != want || ok != wantOK {
			t.Errorf("AsError(%s) = %v, %v; errors.As finds %v, %v", tt.name, e, ok, want, wantOK)
		}
	}
	for _, tt := range []struct {
		err, target error
		want        bool
	}{
		{own, booking.ErrSoldOut, true}, {booking.ErrSoldOut, own, true}, {wrapped, booking.ErrSoldOut, true},
		{own, booking.ErrNotReleased, false}, {booking.ErrSoldOut, fmt.Errorf("w: %w", booking.ErrSoldOut), true},
		{booking.ErrSoldOut, errors.New("sold_out"), false},
	} {
		if got := errors.Is(tt.err, tt.target); got != tt.want {
			t.Errorf("errors.Is(%v, %v) = %v, want %v", tt.err, tt.target, got, tt.want)
		}
	}
}
