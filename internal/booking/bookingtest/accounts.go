package bookingtest

import (
	"context"
	"sort"

	"fairslot/internal/booking"
)

// Store's AccountStore writes, with the adapter's semantics
// (internal/cockroach store.go): accounts by phone, and a person added to
// an account under the account's claim of the name, within the account
// limits.

// Store is an AccountStore but for RevokeTokens, which panics.
var _ booking.AccountStore = (*Store)(nil)

// CreateAccount stores an account and its event; ErrPhoneTaken when the
// phone has an account.
func (s *Store) CreateAccount(_ context.Context, a booking.Account, ev booking.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accounts == nil {
		s.accounts = map[string]booking.Account{}
	}
	for _, o := range s.accounts {
		if string(o.PhoneHash) == string(a.PhoneHash) {
			return booking.ErrPhoneTaken
		}
	}
	s.accounts[a.ID] = a
	if a.Consent != nil {
		s.consents = append(s.consents, *a.Consent)
	}
	s.events = append(s.events, ev)
	return nil
}

// RecordConsent keeps a consent; an account's own sets its version.
func (s *Store) RecordConsent(_ context.Context, c booking.Consent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consents = append(s.consents, c)
	if a, ok := s.accounts[c.AccountID]; ok && c.PatientID == "" {
		a.ConsentVersion = c.NoticeVersion
		s.accounts[c.AccountID] = a
	}
	return nil
}

// Consents lists an account's consents in the order given.
func (s *Store) Consents(_ context.Context, accountID string) ([]booking.Consent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []booking.Consent
	for _, c := range s.consents {
		if c.AccountID == accountID {
			out = append(out, c)
		}
	}
	return out, nil
}

// AccountByPhone finds an account by its phone's keyed hash.
func (s *Store) AccountByPhone(_ context.Context, phoneHash []byte) (booking.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.accounts {
		if string(a.PhoneHash) == string(phoneHash) {
			return a, nil
		}
	}
	return booking.Account{}, booking.ErrNotFound
}

// AccountByID reads an account.
func (s *Store) AccountByID(_ context.Context, id string) (booking.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return booking.Account{}, booking.ErrNotFound
	}
	return a, nil
}

// AddPatient adds a person to an account under the account's claim of the
// name: the identity is found by its ID hash or made; a claim against a
// verified name that is another is ErrIdentityUnverified, a verified claim
// becomes the identity's name; the same person twice on an account is
// ErrPatientExists; the account's patients and the accounts a contact phone
// is on are within limits.
func (s *Store) AddPatient(_ context.Context, np booking.NewPatient, lim booking.AccountLimits, ev booking.Event) (booking.Patient, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.patients[np.ID]; ok {
		return booking.Patient{}, booking.ErrIdempotencyReuse // the primary key
	}
	claim := np.Identity
	who, known := s.byHash(claim.IDHash)
	switch {
	case !known:
		who = claim
		if who.ID == "" {
			who.ID = booking.NewID()
		}
		who.VerifiedBy = verifiedBy(claim)
	case claim.NameVerified:
		who.NameHash, who.NameSealed, who.NameMasked, who.NameVerified, who.VerifiedBy = claim.NameHash, claim.NameSealed, claim.NameMasked, true, verifiedBy(claim)
	case who.NameVerified && string(who.NameHash) != string(claim.NameHash):
		return booking.Patient{}, booking.ErrIdentityUnverified
	}
	// In the adapter's order: the limits, then a verified claim taking the
	// self from an unverified one, then the unique indexes.
	var mine []booking.Patient
	phoneAccounts := map[string]bool{}
	for _, p := range s.patients {
		if p.AccountID == np.AccountID {
			mine = append(mine, p)
		}
		if np.PhoneHash != nil && string(s.phones[p.ID]) == string(np.PhoneHash) && p.AccountID != np.AccountID {
			phoneAccounts[p.AccountID] = true
		}
	}
	if len(mine) >= lim.MaxPatients {
		return booking.Patient{}, booking.Errorf(booking.ErrTooManyPatients, "an account may have at most %d patients", lim.MaxPatients)
	}
	if np.PhoneHash != nil && len(phoneAccounts) >= lim.MaxAccountsOnPhone {
		return booking.Patient{}, booking.Errorf(booking.ErrPhoneLimit, "a phone number may be used on at most %d accounts", lim.MaxAccountsOnPhone)
	}
	var selfElsewhere *booking.Patient
	for id, p := range s.patients {
		if p.IdentityID == who.ID && p.IsSelf && p.AccountID != np.AccountID {
			selfElsewhere = &booking.Patient{}
			*selfElsewhere = s.patients[id]
		}
	}
	for _, p := range mine {
		switch {
		case p.IdentityID == who.ID:
			return booking.Patient{}, booking.ErrPatientExists
		case p.IsSelf && np.IsSelf:
			return booking.Patient{}, booking.ErrSelfExists
		}
	}
	if np.IsSelf && selfElsewhere != nil {
		if !claim.NameVerified || selfElsewhere.SelfVerified {
			return booking.Patient{}, booking.ErrIdentityTaken
		}
		selfElsewhere.IsSelf = false // a verified claim takes the self
		s.patients[selfElsewhere.ID] = *selfElsewhere
	}
	rel := np.Relationship
	if rel == "" {
		rel = booking.RelOther
		if np.IsSelf {
			rel = booking.RelSelf
		}
	}
	s.identities[who.ID] = who
	p := booking.Patient{ID: np.ID, AccountID: np.AccountID, IdentityID: who.ID, IdentityKey: who.Key(), IDType: who.IDType,
		MaskedID: who.NumberMasked, MaskedName: claim.NameMasked, NameHash: string(claim.NameHash), PhoneMasked: np.PhoneMasked,
		IsSelf: np.IsSelf, Relationship: rel, BirthYear: np.BirthYear,
		Verified: who.NameVerified && string(who.NameHash) == string(claim.NameHash), CreatedAt: ev.TS}
	s.patients[p.ID] = p
	if s.claims == nil {
		s.claims = map[string][]byte{}
	}
	s.claims[p.ID] = claim.NameSealed
	if np.PhoneHash != nil {
		if s.phones == nil {
			s.phones = map[string][]byte{}
		}
		s.phones[p.ID] = np.PhoneHash
	}
	ev.IdentityID = who.ID
	s.events = append(s.events, ev)
	if np.Consent != nil {
		c := *np.Consent
		c.PatientID, c.IdentityID = p.ID, who.ID
		s.consents = append(s.consents, c)
	}
	return p, nil
}

// SetAccountPolicy records a change of the platform's account limits and
// its audit entry.
func (s *Store) SetAccountPolicy(_ context.Context, c booking.AccountPolicy, a booking.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = append(s.limits, c)
	s.audit = append(s.audit, a)
	return nil
}

// AccountPolicies lists the changes by effective time, then by when they
// were set, as the adapter orders them.
func (s *Store) AccountPolicies(_ context.Context) ([]booking.AccountPolicy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := append([]booking.AccountPolicy(nil), s.limits...)
	sort.SliceStable(cs, func(i, j int) bool {
		if !cs[i].EffectiveFrom.Equal(cs[j].EffectiveFrom) {
			return cs[i].EffectiveFrom.Before(cs[j].EffectiveFrom)
		}
		return cs[i].SetAt.Before(cs[j].SetAt)
	})
	return cs, nil
}
