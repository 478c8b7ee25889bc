package booking

import (
	"context"
	"fmt"
)

// What other accounts made for the person (docs/security.md, "Ownership").
//
// Any account may add an ID number under some name as a family member and
// book, enter or wait for it; quotas follow the person, so the person's own
// attempt is then refused for something they could not see. The person
// comes first: the account holding the person as its verified self (a real
// name provider or the desk confirmed the name; Patient.Verified) sees every
// booking, lottery entry and waitlist place another account made for that
// identity, and cancels, withdraws or leaves it as its own. Of the account
// that made it, it learns only the phone, masked. An unverified self sees
// nothing of it: a squatter who claimed the self first gains no view.

// MadeByOthers is what accounts other than the person's verified self made
// for the person: bookings for visits from yesterday (China Standard Time)
// on, entries and waitlist places still open or made in the last 30 days.
// PatientID on each is the verified self's patient, never the maker's.
type MadeByOthers struct {
	Bookings []Booking
	Entries  []Entry
	Waitlist []WaitlistEntry
	// Makers maps the account behind each item to its phone, masked: all
	// the person learns of it. The account ids stay in the domain.
	Makers map[string]string
}

// MadeByOthers lists what other accounts made for the person the actor
// holds as its verified self; nothing for an account without one.
func (s *Service) MadeByOthers(ctx context.Context, actor Actor) (MadeByOthers, error) {
	if actor.Role != RolePatient {
		return MadeByOthers{}, Errorf(ErrForbidden, "only patient accounts have a person of their own")
	}
	out := MadeByOthers{Makers: map[string]string{}}
	self, ok, err := s.verifiedSelf(ctx, actor)
	if err != nil || !ok {
		return out, err
	}
	got, err := s.store.MadeByOthers(ctx, self.IdentityID, actor.AccountID, s.lookupFrom(), s.cfg.Now().AddDate(0, 0, -30))
	if err != nil {
		return out, err
	}
	for i := range got.Bookings {
		got.Bookings[i].PatientID = self.ID
	}
	for i := range got.Entries {
		got.Entries[i] = s.withDrawAt(got.Entries[i])
		got.Entries[i].PatientID = self.ID
	}
	for i := range got.Waitlist {
		got.Waitlist[i].PatientID = self.ID
	}
	if got.Makers == nil {
		got.Makers = map[string]string{}
	}
	return got, nil
}

// forPerson reports whether a patient actor may act on an item another
// account (maker, not empty) made for identityID because the actor holds
// that identity as its verified self; it returns the self.
func (s *Service) forPerson(ctx context.Context, actor Actor, maker, identityID string) (Patient, bool, error) {
	if actor.Role != RolePatient || maker == "" || maker == actor.AccountID {
		return Patient{}, false, nil
	}
	self, ok, err := s.verifiedSelf(ctx, actor)
	if err != nil || !ok || self.IdentityID != identityID {
		return Patient{}, false, err
	}
	return self, true, nil
}

// Reasons of the events of a person's verified self acting on what another
// account made for them. The notify job tells the account that made it
// (notificationOf); "late" and "left_waitlist" in them read as a late
// cancellation and a waitlist place left to the detector, as the person's
// own would.
const (
	reasonByPerson       = "cancelled_by_person"
	reasonLateByPerson   = "late_cancelled_by_person"
	reasonEntryByPerson  = "lottery_withdrawn_by_person"
	reasonLeftByPerson   = "left_waitlist_by_person"
	auditByPersonAction  = "cancelled_by_person"
	auditByPersonPattern = "%s made by another account for the person, %s by the person's verified self"
)

// byPersonAudit is the audit entry of a person's verified self acting on
// what another account made for them (target "booking:…", …).
func (s *Service) byPersonAudit(actor Actor, target, what, done, hospitalID string) *AuditEntry {
	return &AuditEntry{ID: newID(), TS: s.cfg.Now(), ActorID: actor.AccountID, ActorRole: actor.Role, Action: auditByPersonAction,
		Target: target, Reason: fmt.Sprintf(auditByPersonPattern, what, done), HospitalID: hospitalID}
}
