package booking

import (
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"fairslot/internal/identity"
)

// TestAppealTokenLifetime: a blocked account's appeal token opens for its
// account until its expiry and never after; one signed with another key,
// or with its account or expiry changed, is refused. The sign-in gives a
// token 30 minutes (appealTokenTTL); the clock is the Service's, so the
// test never waits.
func TestAppealTokenLifetime(t *testing.T) {
	master := make([]byte, identity.KeySize)
	_, _ = rand.Read(master)
	keys, err := identity.NewKeyring(master)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	s, err := NewService(Config{Now: func() time.Time { return now }}, nil, nil, keys, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	tok := s.appealToken("acc-1", now.Add(30*time.Minute))

	now = now.Add(29 * time.Minute)
	if acc, nonce, err := s.checkAppealToken(tok); err != nil || acc != "acc-1" || nonce == "" {
		t.Fatalf("a token before its expiry = %q %q %v, want its account and a nonce", acc, nonce, err)
	}
	now = now.Add(time.Minute)
	if _, _, err := s.checkAppealToken(tok); !errors.Is(err, ErrInvalidAppealToken) {
		t.Errorf("a token at its expiry = %v, want ErrInvalidAppealToken", err)
	}

	now = now.Add(-10 * time.Minute)
	other := make([]byte, identity.KeySize)
	_, _ = rand.Read(other)
	okeys, _ := identity.NewKeyring(other)
	o, _ := NewService(Config{Now: func() time.Time { return now }}, nil, nil, okeys, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, _, err := s.checkAppealToken(o.appealToken("acc-1", now.Add(time.Hour))); !errors.Is(err, ErrInvalidAppealToken) {
		t.Errorf("a token signed with another key = %v, want ErrInvalidAppealToken", err)
	}
	swapped := []byte(tok)
	swapped[3] ^= 1 // one changed character of the signed payload (account, expiry, nonce)
	if _, _, err := s.checkAppealToken(string(swapped)); !errors.Is(err, ErrInvalidAppealToken) {
		t.Errorf("a token with its payload edited = %v, want ErrInvalidAppealToken", err)
	}
	for _, bad := range []string{"", ".", "x.y", tok + "."} {
		if _, _, err := s.checkAppealToken(bad); !errors.Is(err, ErrInvalidAppealToken) {
			t.Errorf("token %q = %v, want ErrInvalidAppealToken", bad, err)
		}
	}
}
