package booking

import (
	"context"
	"encoding/hex"
	"errors"
	"time"
)

// The real-name check (实名核验) and its bounds (docs/security.md, "The
// real-name check as an oracle").
//
// A provider that answers match or mismatch for a name and an ID number is
// an oracle: whoever knows a person's number could try names through
// fairslot until one matched, and every try costs the hospital a paid
// check. Its denials are counted per ID number and per asking account,
// shared by the instances (RealNameGuard, RealNameAccountGuard); once
// either count is used up, no name is checked for that number or from that
// account for the rest of the window: 429 realname_checks_limited, before
// the provider is asked, whatever the name. A patient account's denials at
// adding a person are also identity claims refused (claims.go), bounded
// per account as those are, but not per address (registerDenial).

// registerDenial is the verifier's denial of a name: identity_unverified
// to the caller, as any name refused, but known apart by claimRefused,
// which counts it for the account and not the address. It says nothing of
// what fairslot holds, and a typo is as likely as a guess: counted for the
// address, a few patients' typos behind a hospital's Wi-Fi or a carrier's
// NAT would lock everyone behind it out of adding people.
type registerDenial struct{ error }

func (d registerDenial) Unwrap() error { return d.error }

// realNameKey is one count a check is held to, with its key.
type realNameKey struct {
	guard LoginGuard
	key   string
}

// realNameKeys are the counts a check of p by actor is held to: the ID
// number's and the account's, those configured; none with DeskOnly, which
// answers nothing to count.
func (s *Service) realNameKeys(actor Actor, p *person) []realNameKey {
	if _, local := s.cfg.Verifier.(DeskOnly); local {
		return nil
	}
	var out []realNameKey
	if s.cfg.RealNameGuard != nil && len(p.IDHash) > 0 {
		out = append(out, realNameKey{s.cfg.RealNameGuard, "id:" + hex.EncodeToString(p.IDHash)})
	}
	if s.cfg.RealNameAccountGuard != nil && actor.AccountID != "" {
		out = append(out, realNameKey{s.cfg.RealNameAccountGuard, "acct:" + actor.AccountID})
	}
	return out
}

// realNameAllowed refuses a check once the number's or the account's
// denials are used up. A guard that fails lets it through, as the login
// guard does: the check itself still refuses a fake.
func (s *Service) realNameAllowed(ctx context.Context, keys []realNameKey) error {
	var wait time.Duration
	for _, k := range keys {
		w, err := k.guard.Wait(ctx, k.key)
		if err != nil {
			s.log.Warn("real-name check limit unavailable; check let through", "err", err)
			continue
		}
		wait = max(wait, w)
	}
	if wait > 0 {
		return &LimitError{Wait: wait, Err: ErrRealNameLimited}
	}
	return nil
}

// realNameDenied counts a denial in each of keys.
func (s *Service) realNameDenied(ctx context.Context, keys []realNameKey) {
	for _, k := range keys {
		if err := k.guard.Failed(context.WithoutCancel(ctx), k.key); err != nil {
			s.log.Warn("count a real-name denial", "err", err)
		}
	}
}

// verify asks the identity verifier about a person's name, for actor. A
// name the verifier says is not the ID number's holder's is refused; one it
// confirms is marked verified. A verifier that fails counts as one that
// cannot tell. Past the bounds on denials, nothing is asked
// (ErrRealNameLimited).
//
// The card the desk read outranks the verifier (CardOutranks): where the
// desk verified a name for the ID number, the verifier's answer neither
// replaces nor refuses it. Its confirmation of another name leaves that
// name a claim, which the verified name refuses as any other claim
// (identity_unverified); its denial of the card's name leaves that name
// the verified one, which books. Either disagreement is logged (the
// identity's id, never a name) for the desk to look at the card again. So
// what a caller learns is what any claim would tell them: whether the name
// they gave is the one the hospital holds.
func (s *Service) verify(ctx context.Context, actor Actor, p *person) error {
	keys := s.realNameKeys(actor, p)
	if err := s.realNameAllowed(ctx, keys); err != nil {
		return err
	}
	v, err := s.cfg.Verifier.Verify(ctx, p.doc, p.name)
	if err != nil {
		s.log.Warn("identity verifier failed; the name stays a claim", "err", err)
		return nil
	}
	if v == Unverifiable {
		return nil
	}
	known, err := s.store.IdentityByHash(ctx, p.IDHash)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return err
	case known.NameVerified && known.VerifiedBy == "desk":
		same := string(known.NameHash) == string(p.NameHash)
		if same != (v == NameMatches) {
			s.log.Warn("the real-name verifier disagrees with the name the desk read from the card; the card's stands",
				"identity_id", known.ID, "verifier_confirms", v == NameMatches)
		}
		if v == NameDiffers && !same {
			s.realNameDenied(ctx, keys) // refused as a claim: a name tried and denied
		}
		return nil // a claim: the name the desk verified books, any other is refused
	}
	switch v {
	case NameDiffers:
		s.realNameDenied(ctx, keys)
		return registerDenial{ErrIdentityUnverified}
	case NameMatches:
		p.NameVerified, p.VerifiedBy = true, "provider"
	}
	return nil
}
