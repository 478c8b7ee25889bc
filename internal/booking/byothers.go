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
	// auditStaffMadePattern is the reason of the entry of a person's
	// verified self cancelling a booking staff made for them (phone, desk).
	auditStaffMadePattern = "%s booking made by staff for the person, cancelled by the person's verified self"
	// The person an account's booking, lottery entry or waitlist place is
	// for, ringing the call centre from the contact number that account
	// gave for them (cancelForPatient, patientOnLine).
	reasonByPersonOnPhone       = "cancelled_by_person_on_phone"
	reasonLateByPersonOnPhone   = "late_cancelled_by_person_on_phone"
	reasonEntryByPersonOnPhone  = "lottery_withdrawn_by_person_on_phone"
	reasonLeftByPersonOnPhone   = "left_waitlist_by_person_on_phone"
	auditByPersonOnPhonePattern = "%s made by an account for the person, %s for the person on the phone (ID number and name spoken, ringing from the contact number the account gave for them), caller %s"
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

// explainRefusal answers a patient's attempt for a person refused because
// of something the person holds: a confirmed booking in the session
// (already_booked), a live entry in its draw (already_entered), a waiting
// place on its waitlist (already_waitlisted); for the quotas, bookings and
// entries on the same visit day and department (quota_day_department), day
// (quota_day), week (quota_week) or month (quota_month). The code says
// where the person is booked and what they see a doctor for, so who hears
// it is decided here (docs/security.md, "Refusals tell nothing of what
// others made"):
//   - the person's verified self hears it, theirs to know; when another
//     patient account made it, MadeElsewhere is set and See and the message
//     say where to end it;
//   - any other account hears it only when its own bookings, entries and
//     places account for it alone (ownAccounts), which it can list anyway;
//     else ErrBookedElsewhere, the same answer for every code and whoever
//     made the thing (another account, staff, a hold not yet committed).
//
// It reads SQL, and what it reads is bounded (explanations): one account
// looping on a refusal, or a stampede of them, costs SQL no more than
// explainRate reads a second on an instance. Beyond that, and when a read
// fails, nothing can be shown: the verified self (as its patient row in
// hand says) hears the code plain, anyone else ErrBookedElsewhere. An
// account that is not the verified self reads the same (its patients, then
// its own items of the person) whatever the code and whoever made the
// thing, so neither the answer nor its work tells them apart.
func (s *Service) explainRefusal(ctx context.Context, actor Actor, sess *Session, p Patient, err error) error {
	e, ok := AsError(err)
	if !ok || e == nil || actor.Role != RolePatient || p.IdentityID == "" || sess == nil {
		return err
	}
	switch e.Code {
	case ErrAlreadyBooked.Code, ErrAlreadyEntered.Code, ErrAlreadyWaitlisted.Code,
		ErrQuotaDayDept.Code, ErrQuotaDay.Code, ErrQuotaWeek.Code, ErrQuotaMonth.Code:
	default:
		return err
	}
	if !s.explained.spend(s.cfg.Now()) {
		return unexplained(p, err)
	}
	return s.readExplanation(ctx, actor, sess, p, err, e)
}

// unexplained is a refusal nothing was read for: plain to the person's
// verified self, as the patient row in hand says; ErrBookedElsewhere to
// anyone else.
func unexplained(p Patient, err error) error {
	if p.IsSelf && p.SelfVerified {
		return err
	}
	return ErrBookedElsewhere
}

// readExplanation is explainRefusal's read of SQL.
func (s *Service) readExplanation(ctx context.Context, actor Actor, sess *Session, p Patient, err error, e *Error) error {
	rctx, cancel := Detach(ctx, s.cfg.CommitTimeout)
	defer cancel()
	// From a month before the visit: the week and month quotas count
	// bookings before it.
	from := sess.VisitDate
	if d, perr := time.Parse(time.DateOnly, sess.VisitDate); perr == nil {
		from = d.AddDate(0, 0, -31).Format(time.DateOnly)
	}
	since := s.cfg.Now().AddDate(0, 0, -30)
	self, isSelf, serr := s.verifiedSelf(rctx, actor)
	if serr != nil {
		s.log.Warn("explain a refusal", "code", e.Code, "err", serr)
		return unexplained(p, err)
	}
	if !isSelf || self.IdentityID != p.IdentityID {
		own, lerr := s.store.MadeByAccount(rctx, p.IdentityID, actor.AccountID, from, since)
		if lerr != nil {
			s.log.Warn("explain a refusal", "code", e.Code, "err", lerr)
			return ErrBookedElsewhere
		}
		if s.ownAccounts(own, sess, e.Code) {
			return err
		}
		return ErrBookedElsewhere
	}
	got, lerr := s.store.MadeByOthers(rctx, p.IdentityID, actor.AccountID, from, since)
	if lerr != nil {
		s.log.Warn("explain a refusal; answered plain", "code", e.Code, "err", lerr)
		return err
	}
	maker := s.blockedBy(got, sess, e.Code)
	if maker == "" {
		return err
	}
	it := "it was"
	if e.Kind == KindRule {
		it = "a booking that counts here was"
	}
	return &Error{Kind: e.Kind, Code: e.Code, MadeElsewhere: true, MadeBy: maker, See: SeeMadeByOthers,
		Message: e.Message + ": " + it + " made for you from another account; you may cancel, withdraw or leave it under \"made for you by other accounts\" (" + SeeMadeByOthers + ")"}
}

// explanations is explainRefusal's budget: at most explainRate
// explanations (each a few SQL reads) a second on an instance. Beyond it
// nothing is read (unexplained): a bot looping on already_booked, or the
// release second's refusals by the thousand, cost SQL nothing more, and a
// person who asks again a second later is told.
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

// blockedBy returns the account that made, of what other accounts made for
// the person (got), the first booking, entry or waitlist place that a
// refusal of code on sess counts, as admission counts it (common.lua): a
// confirmed booking or an entry entered or held out in the session
// (already_booked, already_entered), on its visit day and department, day,
// week or month (the quotas); a waiting place on its waitlist
// (already_waitlisted). "" when none: the refusal is the person's own
// items', or a hold not yet committed. The account goes into the
// refusal's event (by_account_id), never into the answer.
func (s *Service) blockedBy(got MadeByOthers, sess *Session, code string) string {
	week, month := PeriodKeys(sess.VisitDate)
	counts := func(sessionID, date, dept string) bool {
		switch code {
		case ErrAlreadyBooked.Code, ErrAlreadyEntered.Code:
			return sessionID == sess.ID
		case ErrQuotaDayDept.Code:
			return date == sess.VisitDate && dept == sess.DepartmentID
		case ErrQuotaDay.Code:
			return date == sess.VisitDate
		case ErrQuotaWeek.Code:
			w, _ := PeriodKeys(date)
			return w == week
		case ErrQuotaMonth.Code:
			_, m := PeriodKeys(date)
			return m == month
		}
		return false
	}
	for _, b := range got.Bookings {
		if b.Status == StatusConfirmed && code != ErrAlreadyEntered.Code && counts(b.SessionID, b.VisitDate, b.DepartmentID) {
			return b.AccountID
		}
	}
	cat := s.catalog.Load()
	for _, en := range got.Entries {
		if en.Status != EntryEntered && en.Status != EntryHeldOut || code == ErrAlreadyBooked.Code {
			continue
		}
		if es, ok := cat.Session(en.SessionID); ok && counts(es.ID, es.VisitDate, es.DepartmentID) {
			return en.AccountID
		}
	}
	for _, w := range got.Waitlist {
		if code == ErrAlreadyWaitlisted.Code && w.SessionID == sess.ID && w.Status == WaitlistWaiting {
			return w.AccountID
		}
	}
	return ""
}

// ownAccounts reports whether what the asking account made for the person
// (own: MadeByAccount) accounts alone for a refusal of code on sess,
// counted as admission counts (common.lua, refusal): in sess's hospital,
// visits from its today on, confirmed bookings and entries entered or held
// out. It counts
// too few rather than too many: a yes that others' items made true would
// tell of them.
func (s *Service) ownAccounts(own MadeByOthers, sess *Session, code string) bool {
	cat := s.catalog.Load()
	h, ok := cat.Hospital(sess.HospitalID)
	if !ok {
		return false
	}
	now := s.cfg.Now()
	today, pol := now.In(h.Location()).Format(time.DateOnly), policyAt(h, now)
	type hold struct{ session, date, dept string }
	var holds []hold
	for _, b := range own.Bookings {
		if b.Status == StatusConfirmed && b.HospitalID == sess.HospitalID && b.VisitDate >= today {
			holds = append(holds, hold{b.SessionID, b.VisitDate, b.DepartmentID})
		}
	}
	for _, en := range own.Entries {
		// Held out for review, an entry keeps its hold until the draw.
		if en.Status != EntryEntered && en.Status != EntryHeldOut {
			continue
		}
		if code == ErrAlreadyEntered.Code && en.SessionID == sess.ID {
			return true
		}
		if es, ok := cat.Session(en.SessionID); ok && es.HospitalID == sess.HospitalID && es.VisitDate >= today {
			holds = append(holds, hold{es.ID, es.VisitDate, es.DepartmentID})
		}
	}
	for _, w := range own.Waitlist {
		if code == ErrAlreadyWaitlisted.Code && w.SessionID == sess.ID && w.Status == WaitlistWaiting {
			return true
		}
	}
	week, month := PeriodKeys(sess.VisitDate)
	var day, inWeek, inMonth int
	for _, o := range holds {
		if o.session == sess.ID {
			if code == ErrAlreadyBooked.Code {
				return true
			}
			continue
		}
		if o.date == sess.VisitDate {
			if o.dept == sess.DepartmentID {
				if code == ErrQuotaDayDept.Code {
					return true
				}
				continue
			}
			day++
		}
		w, m := PeriodKeys(o.date)
		if w == week {
			inWeek++
		}
		if m == month {
			inMonth++
		}
	}
	switch code {
	case ErrQuotaDay.Code:
		return day >= pol.PerDay
	case ErrQuotaWeek.Code:
		return inWeek >= pol.PerWeek
	case ErrQuotaMonth.Code:
		return inMonth >= pol.PerMonth
	}
	return false
}
