package cockroach

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"fairslot/internal/booking"
)

func TestTranslate(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("query: %w", &pgconn.PgError{Code: code}) }
	tests := []struct {
		name        string
		err         error
		unavailable bool
		same        bool // returned unchanged
	}{
		{"nil", nil, false, true},
		{"domain error passes", booking.ErrSoldOut, false, true},
		{"outcome unknown passes", fmt.Errorf("commit: %w", booking.ErrOutcomeUnknown), false, true},
		{"connection failure", pg("08006"), true, false},
		{"too many connections", pg("53300"), true, false},
		{"admin shutdown", pg("57P01"), true, false},
		{"statement timeout", pg("57014"), true, false},
		{"read-only database", pg("25006"), true, false},
		{"serialization failures outlasted retries", pg("40001"), true, false},
		{"syntax error is a bug", pg("42601"), false, true},
		{"unexpected unique violation is a bug", pg("23505"), false, true},
		{"broken connection", io.ErrUnexpectedEOF, true, false},
		{"bad bytes are bad input", pg("22021"), false, false},
		{"deadline", context.DeadlineExceeded, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := translate(tt.err)
			if u := errors.Is(got, booking.ErrUnavailable); u != tt.unavailable {
				t.Errorf("translate(%v) unavailable = %v, want %v", tt.err, u, tt.unavailable)
			}
			if tt.same && got != tt.err {
				t.Errorf("translate(%v) = %v, want it unchanged", tt.err, got)
			}
			var pgErr *pgconn.PgError
			if ro := errors.Is(got, booking.ErrReadOnly); ro != (errors.As(tt.err, &pgErr) && pgErr.Code == "25006") {
				t.Errorf("translate(%v) read-only = %v, want it for SQLSTATE 25006 alone", tt.err, ro)
			}
			if errors.As(tt.err, &pgErr) && pgErr.Code[:2] == "22" && !errors.Is(got, booking.ErrInvalidField) {
				t.Errorf("translate(%v) = %v, want invalid_field: bad bytes are the client's, never a 5xx", tt.err, got)
			}
			if tt.err != nil && !errors.Is(got, tt.err) {
				t.Errorf("translate(%v) = %v, which lost the cause", tt.err, got)
			}
		})
	}
}
