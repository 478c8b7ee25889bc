package booking

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"

	"fairslot/internal/identity"
)

// accountsOnly is the part of a Store a login uses; the rest is never
// called here.
type accountsOnly struct {
	Store
	hash string
}

func (a accountsOnly) AccountByPhone(context.Context, []byte) (Account, error) {
	return Account{ID: "a1", Role: RoleClerk, PasswordHash: a.hash}, nil
}

// TestPasswordHashingIsBounded (M3): with every hashing slot busy, a login
// waits for one and, if none frees in time, is told to come back (429)
// without hashing; it does not take another core from bookings. The audit
// saw 12 concurrent bad logins raise other requests' latency from 1–7 ms
// to 150–470 ms.
func TestPasswordHashingIsBounded(t *testing.T) {
	master := make([]byte, identity.KeySize)
	_, _ = rand.Read(master)
	keys, err := identity.NewKeyring(master)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewService(Config{PasswordHashers: 2, PasswordIterations: 1000}, accountsOnly{hash: "x"}, nil, keys,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	inside, release := make(chan struct{}), make(chan struct{})
	var hashed atomic.Int32
	s.verifyPassword = func(string, string) bool {
		hashed.Add(1)
		inside <- struct{}{}
		<-release
		return false
	}
	done := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := s.Login(context.Background(), "13900000001", "a password", Origin{})
			done <- err
		}()
	}
	<-inside
	<-inside // both slots are busy hashing

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a login that cannot wait
	_, err = s.Login(ctx, "13900000002", "a password", Origin{})
	var le *LimitError
	if !errors.As(err, &le) || !errors.Is(err, ErrRateLimited) {
		t.Errorf("a third login with both slots busy = %v, want rate_limited", err)
	}
	close(release)
	for range 2 {
		if err := <-done; !errors.Is(err, ErrBadCredentials) {
			t.Errorf("a slotted login = %v, want invalid_credentials", err)
		}
	}
	if n := hashed.Load(); n != 2 {
		t.Errorf("hashes computed = %d, want 2 (the third must not hash)", n)
	}
}
