package booking

import (
	"context"
	"errors"
	"time"
)

// Probing ID numbers through the patient list (docs/security.md, "Identity
// claims and the way through").
//
// Adding a patient answers identity_taken when the ID number is already
// another account's self, and identity_unverified when its verified name
// is another: either says the number is registered. A refusal changes
// nothing, so without a bound an account (and accounts cost nothing here)
// could test numbers for free. Such refusals are counted per account and
// per client address, shared by the instances (ClaimGuard, ClaimIPGuard);
// once either count is used up, every add from that account or address is
// answered 429 identity_claims_limited before the number is looked at, so
// the answer no longer depends on it. Each refusal, and each such 429, is
// a rejected event with its code as the reason, on the path of the other
// refused attempts (refusals.go), for the detector and the reviewers.

// claimKeys are the guard keys of an attempt by actor from o.
func claimKeys(actor Actor, o Origin) (account, ip string) {
	account = "acct:" + actor.AccountID
	if o.IP != "" {
		ip = "ip:" + o.IP
	}
	return account, ip
}

// claimsAllowed refuses an add once the account's or the address's
// refusals are used up. A guard that fails lets it through, as the login
// guard does.
func (s *Service) claimsAllowed(ctx context.Context, actor Actor, o Origin) error {
	account, ip := claimKeys(actor, o)
	var wait time.Duration
	for _, g := range []struct {
		guard LoginGuard
		key   string
	}{{s.cfg.ClaimGuard, account}, {s.cfg.ClaimIPGuard, ip}} {
		if g.guard == nil || g.key == "" {
			continue
		}
		w, err := g.guard.Wait(ctx, g.key)
		if err != nil {
			s.log.Warn("identity claim guard unavailable; attempt let through", "err", err)
			continue
		}
		wait = max(wait, w)
	}
	if wait > 0 {
		return &LimitError{Wait: wait, Err: ErrClaimsLimited}
	}
	return nil
}

// claimRefused counts and records an add refused for what is known of the
// identity; other errors pass untouched.
func (s *Service) claimRefused(ctx context.Context, actor Actor, o Origin, err error) {
	if !errors.Is(err, ErrIdentityTaken) && !errors.Is(err, ErrIdentityUnverified) {
		return
	}
	account, ip := claimKeys(actor, o)
	for _, g := range []struct {
		guard LoginGuard
		key   string
	}{{s.cfg.ClaimGuard, account}, {s.cfg.ClaimIPGuard, ip}} {
		if g.guard == nil || g.key == "" {
			continue
		}
		if ferr := g.guard.Failed(context.WithoutCancel(ctx), g.key); ferr != nil {
			s.log.Warn("count a refused identity claim", "err", ferr)
		}
	}
	s.noteClaimRefusal(actor, o, err)
}

// noteClaimRefusal records a refused add as a rejected event (no session):
// the account, the address and device, the code as the reason.
func (s *Service) noteClaimRefusal(actor Actor, o Origin, err error) {
	e, ok := AsError(err)
	if !ok || e == nil {
		return
	}
	s.cfg.Metrics.Refused(e.Code)
	if s.refusals == nil {
		return
	}
	s.refusals.add(refused{ts: s.cfg.Now().UnixNano(), typ: EventRejected, account: actor.AccountID, reason: e.Code,
		ip: o.IP, device: o.DeviceID})
}
