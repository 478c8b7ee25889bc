package booking

import (
	"context"
	"errors"
	"time"

	"fairslot/internal/auth"
)

// Ending logins: logout and password change.
//
// Tokens stay stateless on the hot path: a token carries its account's
// token generation, and Authenticate refuses one older than the generation
// this instance knows was revoked (a map lookup, no I/O). Logging out or
// changing the password raises the generation in SQL. The instance that did
// it knows at once; every other instance reads the revocations of the last
// moments every RevocationPoll (1 s, WatchRevocations) and all of those of
// the last token lifetime on every catalog refresh. So a revoked token stops
// working on every instance within about a second.

// revocationOverlap is how far back each poll reads again, so a revocation
// whose commit lands late (or an instance whose clock runs behind) is not
// missed.
const revocationOverlap = 10 * time.Second

// Logout ends every token of the actor's account.
func (s *Service) Logout(ctx context.Context, actor Actor) error {
	gen, err := s.store.RevokeTokens(ctx, actor.AccountID, "", s.cfg.Now())
	if errors.Is(err, ErrNotFound) {
		return nil // closed: its tokens ended with it
	}
	if err != nil {
		return err
	}
	s.noteRevocation(Revocation{AccountID: actor.AccountID, Generation: gen, At: s.cfg.Now()})
	return nil
}

// ChangePasswordRequest is a password change by the account's holder.
type ChangePasswordRequest struct {
	Current, New string
	// DeviceToken is the one the client keeps from a login of this
	// account: with it, only the device's own failures are counted, so a
	// stranger's wrong passwords for the number do not keep a logged-in
	// owner from changing the password (as at login).
	DeviceToken string
}

// ChangePassword checks the current password, sets the new one, and ends
// every token of the account (its device tokens too: they are bound to the
// password); it returns a fresh token, and a device token, for the caller.
// A wrong current password counts as a failed login of the account's phone
// from the caller's address.
func (s *Service) ChangePassword(ctx context.Context, actor Actor, req ChangePasswordRequest, o Origin) (Token, error) {
	if err := auth.CheckPassword(req.New); err != nil {
		return Token{}, Errorf(ErrWeakPassword, "%s", err)
	}
	a, err := s.reentered(ctx, actor, req.Current, req.DeviceToken, o)
	if err != nil {
		return Token{}, err
	}
	gen, now, err := s.setPassword(ctx, &a, req.New, nil)
	if errors.Is(err, ErrNotFound) {
		return Token{}, ErrInvalidToken // closed while the password was checked: nothing written, nothing minted
	}
	if err != nil {
		return Token{}, err
	}
	a.TokenGeneration = gen
	cancelled, err := s.backIn(ctx, a.ID)
	if err != nil {
		return Token{}, err
	}
	tok := s.mint(a, now)
	tok.DeviceToken = s.mintDevice(a, now) // bound to the new password
	tok.ClosingCancelled = cancelled
	return tok, nil
}

// setPassword hashes a new password (in a hashing slot), stores it (with
// audit, when not nil, in the same transaction, stamped with the change's
// time) and ends every token of the account, here at once; it returns the
// account's new token generation and the time of the change, and sets a's
// password hash to the new one.
func (s *Service) setPassword(ctx context.Context, a *Account, password string, audit *AuditEntry) (int, time.Time, error) {
	accountID := a.ID
	var hash string
	var err error
	if serr := s.withHashSlot(ctx, func() { hash, err = auth.HashPassword(password, s.cfg.PasswordIterations) }); serr != nil {
		return 0, time.Time{}, serr
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	now := s.cfg.Now()
	var gen int
	if audit != nil {
		audit.TS = now
		gen, err = s.store.ResetPassword(ctx, accountID, hash, now, *audit)
	} else {
		gen, err = s.store.RevokeTokens(ctx, accountID, hash, now)
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	s.noteRevocation(Revocation{AccountID: accountID, Generation: gen, At: now})
	a.PasswordHash = hash
	return gen, now, nil
}

// mint makes a token for an account at its current generation.
func (s *Service) mint(a Account, now time.Time) Token {
	tok, exp := s.tokens.MintClaims(auth.Claims{AccountID: a.ID, Role: string(a.Role), HospitalID: a.HospitalID,
		Generation: uint32(a.TokenGeneration)}, now)
	return Token{Token: tok, ExpiresAt: exp, HospitalID: a.HospitalID}
}

// noteRevocation records that an account's tokens below r.Generation no
// longer count.
func (s *Service) noteRevocation(r Revocation) {
	for {
		prev, loaded := s.revoked.LoadOrStore(r.AccountID, r)
		if !loaded || prev.(Revocation).Generation >= r.Generation {
			return
		}
		if s.revoked.CompareAndSwap(r.AccountID, prev, r) {
			return
		}
	}
}

// loadRevocations reads the revocations since a time into memory.
func (s *Service) loadRevocations(ctx context.Context, since time.Time) error {
	rs, err := s.store.Revocations(ctx, since)
	if err != nil {
		return err
	}
	for _, r := range rs {
		s.noteRevocation(r)
	}
	return nil
}

// refreshRevocations reads every revocation of the last token lifetime and
// forgets older ones: a token minted before them has expired anyway.
func (s *Service) refreshRevocations(ctx context.Context) error {
	now := s.cfg.Now()
	if err := s.loadRevocations(ctx, now.Add(-s.cfg.TokenTTL)); err != nil {
		return err
	}
	s.revoked.Range(func(k, v any) bool {
		if v.(Revocation).At.Before(now.Add(-s.cfg.TokenTTL - time.Minute)) {
			s.revoked.CompareAndDelete(k, v)
		}
		return true
	})
	return nil
}

// WatchRevocations reads new revocations every `every` (1 s) until ctx
// ends, so a logout on another instance takes effect here within about
// that long; and the pending closings with them, so a closing asked for or
// cancelled on another instance refuses or lets through this instance's
// bookings as soon.
func (s *Service) WatchRevocations(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	last := s.cfg.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.cfg.Now()
		if err := s.loadClosings(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("read pending closings; retrying", "err", err)
		}
		if err := s.loadRevocations(ctx, last.Add(-revocationOverlap)); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("read token revocations; retrying", "err", err)
			}
			continue
		}
		last = now
	}
}

// Logins: the bound on password hashing (the failure limits: login.go).

// hashQueueWait is how long a login waits for a hashing slot before it is
// told to come back.
const hashQueueWait = 2 * time.Second

// errBusy answers a login that found every hashing slot taken for too long.
var errBusy = &LimitError{Wait: time.Second, Err: Errorf(ErrRateLimited, "too many logins are being checked at once; retry in a moment")}

// withHashSlot runs fn (a password hash) in one of PasswordHashers slots,
// waiting at most hashQueueWait (or until ctx ends) for one.
func (s *Service) withHashSlot(ctx context.Context, fn func()) error {
	ctx, cancel := context.WithTimeout(ctx, hashQueueWait)
	defer cancel()
	select {
	case s.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return errBusy
	}
	defer func() { <-s.hashSlots }()
	fn()
	return nil
}

// checkPassword verifies a password against a hash in a hashing slot.
func (s *Service) checkPassword(ctx context.Context, hash, password string) (ok bool, err error) {
	err = s.withHashSlot(ctx, func() { ok = s.verifyPassword(hash, password) })
	return ok, err
}

// phoneKey is the login guard's key of a phone: its keyed hash's prefix.
func (s *Service) phoneKey(normalized string) ([]byte, string) {
	h := s.keys.Hash("phone", normalized)
	return h, IdentityKey(h)
}
