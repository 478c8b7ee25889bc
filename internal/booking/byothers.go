package booking

import (
	"context"
	"fmt"
	"sync"
	"time"
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

// SeeMadeByOthers is where the person's verified self lists what other
// accounts made for them (the API's route; the console's bookings page
// shows the same list).
const SeeMadeByOthers = "/v1/made-by-others"

// explainRefusal says, on a patient's attempt for a person refused because
// of something another patient account made for that person, that it was
// made from another account (docs/security.md, "Ownership"): the code
// stays; MadeElsewhere is set, and the message says to the person's
// verified self where to see and end it (See), to anyone else only that
// the person can, once the desk has verified them. It tells nothing of
// where the other booking is, nor of the account that made it. Which
// things count: a confirmed booking in the session (already_booked), a
// live entry in its draw (already_entered), a waiting place on its
// waitlist (already_waitlisted); for the quotas, a confirmed booking on
// the same visit day and department (quota_day_department), day
// (quota_day), week (quota_week) or month (quota_month). Anything else,
// and a refusal for what this account or staff made, is answered as it
// was. It reads SQL, so only refusals that reached admission or SQL are
// explained; the entry memo's repeats within its 30 s keep the plain
// answer. What SQL it reads is bounded (explanations): one account
// looping on a refusal, or a stampede of them, costs SQL no more than
// explainRate reads a second on an instance.
func (s *Service) explainRefusal(ctx context.Context, actor Actor, sess *Session, identityID string, err error) error {
	e, ok := AsError(err)
	if !ok || e == nil || actor.Role != RolePatient || identityID == "" || sess == nil {
		return err
	}
	switch e.Code {
	case ErrAlreadyBooked.Code, ErrAlreadyEntered.Code, ErrAlreadyWaitlisted.Code,
		ErrQuotaDayDept.Code, ErrQuotaDay.Code, ErrQuotaWeek.Code, ErrQuotaMonth.Code:
	default:
		return err
	}
	if !s.explained.spend(s.cfg.Now()) {
		return err // over the budget: the plain refusal, as before explanations
	}
	return s.readExplanation(ctx, actor, sess, identityID, err, e)
}

// readExplanation is explainRefusal's read of SQL: err itself when nothing
// another account made accounts for it.
func (s *Service) readExplanation(ctx context.Context, actor Actor, sess *Session, identityID string, err error, e *Error) error {
	rctx, cancel := Detach(ctx, s.cfg.CommitTimeout)
	defer cancel()
	// From a month before the visit: the week and month quotas count
	// bookings before it.
	from := sess.VisitDate
	if d, perr := time.Parse(time.DateOnly, sess.VisitDate); perr == nil {
		from = d.AddDate(0, 0, -31).Format(time.DateOnly)
	}
	got, lerr := s.store.MadeByOthers(rctx, identityID, actor.AccountID, from, s.cfg.Now().AddDate(0, 0, -30))
	if lerr != nil {
		s.log.Warn("explain a refusal; answered plain", "code", e.Code, "err", lerr)
		return err
	}
	if !blockedByOthers(got, sess, e.Code) {
		return err
	}
	self, isSelf, serr := s.verifiedSelf(ctx, actor)
	if serr != nil {
		return err
	}
	out := &Error{Kind: e.Kind, Code: e.Code, MadeElsewhere: true}
	it := "it was"
	if e.Kind == KindRule {
		it = "a booking that counts here was"
	}
	if isSelf && self.IdentityID == identityID {
		out.Message = e.Message + ": " + it + " made for you from another account; you may cancel, withdraw or leave it under \"made for you by other accounts\" (" + SeeMadeByOthers + ")"
		out.See = SeeMadeByOthers
	} else {
		out.Message = e.Message + ": " + it + " made from another account; the person it is for can see and cancel it from their own account once the registration desk has verified them"
	}
	return out
}

// explanations is explainRefusal's budget: at most explainRate SQL reads a
// second on an instance. Beyond it a refusal is answered plain, as before
// refusals were explained: a bot looping on already_booked, or the release
// second's refusals by the thousand, cost SQL nothing more, and a person
// who asks again a second later is told.
type explanations struct {
	mu     sync.Mutex
	second int64 // the Unix second spent counts
	spent  int
}

const explainRate = 50

func (x *explanations) spend(now time.Time) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if sec := now.Unix(); sec != x.second {
		x.second, x.spent = sec, 0
	}
	if x.spent >= explainRate {
		return false
	}
	x.spent++
	return true
}

// blockedByOthers reports whether what other accounts made (got) holds
// what the refusal code counts, for an attempt on sess.
func blockedByOthers(got MadeByOthers, sess *Session, code string) bool {
	week, month := PeriodKeys(sess.VisitDate)
	for _, b := range got.Bookings {
		if b.Status != StatusConfirmed {
			continue
		}
		bw, bm := PeriodKeys(b.VisitDate)
		switch {
		case code == ErrAlreadyBooked.Code && b.SessionID == sess.ID,
			code == ErrQuotaDayDept.Code && b.VisitDate == sess.VisitDate && b.DepartmentID == sess.DepartmentID,
			code == ErrQuotaDay.Code && b.VisitDate == sess.VisitDate,
			code == ErrQuotaWeek.Code && bw == week,
			code == ErrQuotaMonth.Code && bm == month:
			return true
		}
	}
	for _, en := range got.Entries {
		if code == ErrAlreadyEntered.Code && en.SessionID == sess.ID && (en.Status == EntryEntered || en.Status == EntryHeldOut) {
			return true
		}
	}
	for _, w := range got.Waitlist {
		if code == ErrAlreadyWaitlisted.Code && w.SessionID == sess.ID && w.Status == WaitlistWaiting {
			return true
		}
	}
	return false
}
