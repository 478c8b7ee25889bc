package booking

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Who a login's failures count against (docs/security.md, "Tokens and
// logins").
//
// A client that logged in to the account before presents the device token
// that login answered, and is judged by its own failures only (the device
// key, LoginGuard's tiers): a stranger elsewhere who knows the phone never
// blocks the owner's known phone or browser. Every other client — a
// stranger, the owner on a new device — counts against the phone from its
// source address (LoginGuard's tiers, per phone and address) and against
// the phone from every source together (LoginPhoneGuard: the ceiling on
// guesses a day at one account, as before). A device token is only ever
// answered to the right password, so it gives a guesser nothing.

// DeviceTTL is how long a device token stays good after the login that
// issued it; each login with it answers a fresh one.
const DeviceTTL = 180 * 24 * time.Hour

// deviceVersion prefixes a device token, so the format can change.
const deviceVersion = "d1."

// loginAttempt is the guard keys of one login: the device's, or the
// phone's from a source and from everywhere.
type loginAttempt struct {
	device string // the device key: "dev:"+its hash; empty without a good token
	source string // "src:"+phone key+":"+address key
	phone  string // the phone key (LoginPhoneGuard), as staff tools clear it
	known  bool   // device is set
}

// attemptOf is the guard keys of a login from o to the account of phone
// key key (a, when the phone is registered), presenting deviceToken. The
// address's key carries the account's token generation: a new password
// (the desk's reset, `fairslot staff password`) or a logout starts the
// counts of every address afresh, so the holder is not kept out by the
// address counts of before (the phone's shared count, which has no
// generation, is cleared by the reset itself).
func (s *Service) attemptOf(key string, a *Account, deviceToken string, o Origin) loginAttempt {
	gen := 0
	if a != nil {
		if d, ok := s.deviceKey(*a, deviceToken); ok {
			return loginAttempt{device: "dev:" + d, phone: key, known: true}
		}
		gen = a.TokenGeneration
	}
	return loginAttempt{source: "src:" + key + ":" + strconv.Itoa(gen) + ":" + s.sourceKey(o.IP), phone: key}
}

// reentered reads the actor's account and checks password, re-entered as
// proof that its holder and not a borrowed session asks (a number's or a
// password's change, a closing, a member's contact number): judged as a
// login (attemptOf), with the login's device token by the device's own
// failures, a wrong one counting as a failed login (ErrBadCredentials). A
// closed account is ErrInvalidToken.
func (s *Service) reentered(ctx context.Context, actor Actor, password, deviceToken string, o Origin) (Account, error) {
	a, err := s.store.AccountByID(ctx, actor.AccountID)
	if errors.Is(err, ErrNotFound) || err == nil && a.Closed {
		return Account{}, ErrInvalidToken
	}
	if err != nil {
		return Account{}, err
	}
	at := s.attemptOf(IdentityKey(a.PhoneHash), &a, deviceToken, o)
	if err := s.loginAllowed(ctx, at); err != nil {
		return Account{}, err
	}
	ok, err := s.checkPassword(ctx, a.PasswordHash, password)
	if err != nil {
		return Account{}, err
	}
	if !ok {
		s.loginFailed(ctx, at)
		return Account{}, ErrBadCredentials
	}
	return a, nil
}

// sourceKey is a client address's keyed hash; IPv6 addresses count by
// their /64, what one subscriber is given.
func (s *Service) sourceKey(ip string) string {
	if addr, err := netip.ParseAddr(ip); err == nil {
		addr = addr.Unmap()
		if addr.Is6() {
			p, _ := addr.Prefix(64)
			addr = p.Addr()
		}
		ip = addr.String()
	}
	return IdentityKey(s.keys.Hash("login_source", ip))
}

// mintDevice makes a device token for a: a random nonce and its issue
// time, signed with a keyed hash bound to the account and its password
// hash. Nothing is stored: a new password (a change, the desk's reset)
// ends every device token of the account with its other tokens.
func (s *Service) mintDevice(a Account, now time.Time) string {
	payload := make([]byte, 8+16)
	binary.BigEndian.PutUint64(payload, uint64(now.Unix()))
	_, _ = rand.Read(payload[8:])
	p := base64.RawURLEncoding.EncodeToString(payload)
	return deviceVersion + p + "." + base64.RawURLEncoding.EncodeToString(s.deviceMAC(a, p))
}

func (s *Service) deviceMAC(a Account, payload string) []byte {
	return s.keys.Hash("device_token", a.ID+"\x00"+a.PasswordHash+"\x00"+payload)[:20]
}

// deviceKey checks a device token against the account a and answers the
// device's guard key: false for none, another account's, a forged or an
// expired one, which then count as no token.
func (s *Service) deviceKey(a Account, token string) (string, bool) {
	rest, ok := strings.CutPrefix(token, deviceVersion)
	if !ok || len(token) > 128 {
		return "", false
	}
	p, sig, ok := strings.Cut(rest, ".")
	payload, perr := base64.RawURLEncoding.DecodeString(p)
	mac, serr := base64.RawURLEncoding.DecodeString(sig)
	if !ok || perr != nil || serr != nil || len(payload) != 24 || !hmac.Equal(mac, s.deviceMAC(a, p)) {
		return "", false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(payload)), 0)
	if s.cfg.Now().Sub(issued) > DeviceTTL {
		return "", false
	}
	return IdentityKey(s.keys.Hash("login_device", a.ID+"\x00"+p)), true
}

// loginAllowed asks the guards whether the attempt may try a password
// now: a known device asks about itself only, any other client about the
// phone from its address and from everywhere. A guard that fails lets the
// attempt through (as the rate limiter does): the per-IP limit and the
// hashing bound still hold.
func (s *Service) loginAllowed(ctx context.Context, at loginAttempt) error {
	var wait time.Duration
	if at.known {
		wait = s.guardWait(ctx, s.cfg.LoginGuard, at.device)
	} else {
		wait = max(s.guardWait(ctx, s.cfg.LoginGuard, at.source), s.guardWait(ctx, s.cfg.LoginPhoneGuard, at.phone))
	}
	if wait <= 0 {
		return nil
	}
	what := "for this phone"
	if at.known {
		what = "from this device"
	}
	return &LimitError{Wait: wait, Err: Errorf(ErrRateLimited, "too many wrong passwords %s; retry in %s, "+
		"or have the registration desk reset the password with your ID card", what, wait.Round(time.Second))}
}

func (s *Service) guardWait(ctx context.Context, g LoginGuard, key string) time.Duration {
	if g == nil {
		return 0
	}
	wait, err := g.Wait(ctx, key)
	if err != nil {
		s.log.Warn("login guard unavailable; attempt let through", "err", err)
		return 0
	}
	return wait
}

// loginFailed counts a wrong password: against the device, or against the
// phone from the address and from everywhere.
func (s *Service) loginFailed(ctx context.Context, at loginAttempt) {
	ctx = context.WithoutCancel(ctx)
	if at.known {
		s.guardDo(ctx, s.cfg.LoginGuard, at.device, LoginGuard.Failed)
		return
	}
	s.guardDo(ctx, s.cfg.LoginGuard, at.source, LoginGuard.Failed)
	s.guardDo(ctx, s.cfg.LoginPhoneGuard, at.phone, LoginGuard.Failed)
}

// loginSucceeded forgets the failures the right password answers for:
// the device's own, or the phone's from the address and from everywhere
// (as before: the right password ends a lockout it was let through).
func (s *Service) loginSucceeded(ctx context.Context, at loginAttempt) {
	ctx = context.WithoutCancel(ctx)
	if at.known {
		s.guardDo(ctx, s.cfg.LoginGuard, at.device, LoginGuard.Succeeded)
		return
	}
	s.guardDo(ctx, s.cfg.LoginGuard, at.source, LoginGuard.Succeeded)
	s.forgetPhoneFailures(ctx, at.phone)
}

// forgetPhoneFailures clears the phone's shared count (a staff password
// reset, the desk's reset, the right password from a new device).
func (s *Service) forgetPhoneFailures(ctx context.Context, key string) {
	s.guardDo(context.WithoutCancel(ctx), s.cfg.LoginPhoneGuard, key, LoginGuard.Succeeded)
}

func (s *Service) guardDo(ctx context.Context, g LoginGuard, key string, op func(LoginGuard, context.Context, string) error) {
	if g == nil || key == "" {
		return
	}
	if err := op(g, ctx, key); err != nil {
		s.log.Warn("count a login", "err", err)
	}
}
