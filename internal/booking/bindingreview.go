package booking

import (
	"context"
	"time"
)

// Bindings made before the binding rule (review24 H1, H2, L1; session 24)
// stand: the rule refuses new ones, it unbinds nothing. An administrator
// finds them here, masked, and the desk settles each with the holder
// (docs/operations.md, "Bindings made before the binding rule"). Nothing
// is unbound automatically: a binding before the rule may be the holder's
// own, and unbinding it would hand the account back to whoever claims it.

// BindingToReview is an account's self (本人) that the binding rule would
// have refused, or may have: why in its flags.
type BindingToReview struct {
	AccountID   string
	PhoneMasked string // the account's login, masked
	PatientID   string // the self's row
	NameMasked  string
	IDMasked    string // the document's number, masked
	BirthYear   int    // 0: the document carries none
	BoundAt     time.Time
	// NoRing: bound at the desk and no binding of it says its login number
	// was rung in the card's person's hand (every binding before session
	// 24): a family member's card may have taken the account (H1, H2).
	NoRing bool
	// FamilyToo: the self is a person the same account also lists as a
	// spouse, child or parent (under another document of theirs, linked).
	FamilyToo bool
	// Minor: the self, bound or claimed online, was born in or after the
	// year that makes them possibly under 14 (L1; by the birth year: the
	// desk reads the card's date).
	Minor bool
}

// BindingsToReview lists the accounts whose self the binding rule would
// refuse or question (BindingToReview), oldest binding first: for
// platform-wide administrators (accounts are platform-wide), not audited
// per read (masked, as the audit list is), nothing changed.
func (s *Service) BindingsToReview(ctx context.Context, actor Actor) ([]BindingToReview, error) {
	if !actor.PlatformAdmin() {
		return nil, Errorf(ErrForbidden, "only platform-wide administrators review the accounts' bindings (accounts are platform-wide)")
	}
	year := s.cfg.Now().In(StandInLocation()).Year()
	return s.store.BindingsToReview(ctx, year-14)
}
