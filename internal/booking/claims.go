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

// claimGuard is one of the two counts an add is held to, with its key.
type claimGuard struct {
	guard LoginGuard
	key   string
}

// claimGuards are the counts an add by actor from o is held to: the
// account's and the address's, those configured and with a key.
func (s *Service) claimGuards(actor Actor, o Origin) []claimGuard {
	var out []claimGuard
	for _, g := range []claimGuard{{s.cfg.ClaimGuard, "acct:" + actor.AccountID}, {s.cfg.ClaimIPGuard, "ip:" + o.IP}} {
		if g.guard != nil && g.key != "ip:" {
			out = append(out, g)
		}
	}
	return out
}

// claimsAllowed refuses an add once the account's or the address's
// refusals are used up. A guard that fails lets it through, as the login
// guard does.
func (s *Service) claimsAllowed(ctx context.Context, actor Actor, o Origin) error {
	var wait time.Duration
	for _, g := range s.claimGuards(actor, o) {
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
// identity (idHash, its ID number's keyed hash); other errors pass
// untouched.
func (s *Service) claimRefused(ctx context.Context, actor Actor, o Origin, idHash []byte, err error) {
	if errors.Is(err, ErrRealNameLimited) {
		// Recorded for the reviewers, not counted as a claim refused: the
		// number's count may have been used up by others (realname.go).
		s.noteClaimRefusal(actor, o, "", err)
		return
	}
	if !errors.Is(err, ErrIdentityTaken) && !errors.Is(err, ErrIdentityUnverified) {
		return
	}
	guards := s.claimGuards(actor, o)
	if errors.As(err, new(registerDenial)) {
		// The verifier's denial: the account's count only (realname.go).
		guards = s.claimGuards(actor, Origin{})
	}
	for _, g := range guards {
		if ferr := g.guard.Failed(context.WithoutCancel(ctx), g.key); ferr != nil {
			s.log.Warn("count a refused identity claim", "err", ferr)
		}
	}
	// The person the number is (it is registered: that is why it was
	// refused), so that the detector counts the distinct numbers an account
	// was refused, not its retries of one. One point read, bounded as the
	// refusals are (ClaimGuard, ClaimIPGuard); a failed read records the
	// refusal without it.
	identityID := ""
	if len(idHash) > 0 {
		if who, ierr := s.store.IdentityByHash(context.WithoutCancel(ctx), idHash); ierr == nil {
			identityID = who.ID
		}
	}
	s.noteClaimRefusal(actor, o, identityID, err)
}

// noteClaimRefusal records a refused add as a rejected event (no session):
// the account, the address and device, the code as the reason, and the
// person the number is when known (never the number).
func (s *Service) noteClaimRefusal(actor Actor, o Origin, identityID string, err error) {
	e, ok := AsError(err)
	if !ok || e == nil {
		return
	}
	s.cfg.Metrics.Refused(e.Code)
	if s.refusals == nil {
		return
	}
	s.refusals.add(refused{ts: s.cfg.Now().UnixNano(), typ: EventRejected, account: actor.AccountID, reason: e.Code,
		ip: o.IP, device: o.DeviceID, identity: identityID})
}
