package bookingtest

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"fairslot/internal/booking"
)

// The desk's and the 停诊's parts of Store and Admission, with the
// adapters' semantics (internal/cockroach desk.go and sources.go,
// internal/admission's close): the identities the desk and the phone find
// and make, check-in, refused staff actions, stopping a clinic and what its
// patients were told, and closing a session in admission.

// IdentityByHash finds a person by their ID number's keyed hash.
func (s *Store) IdentityByHash(_ context.Context, idHash []byte) (booking.Identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.byHash(idHash); ok {
		return i, nil
	}
	return booking.Identity{}, booking.ErrNotFound
}

func (s *Store) byHash(idHash []byte) (booking.Identity, bool) {
	for _, i := range s.identities {
		if string(i.IDHash) == string(idHash) {
			return i, true
		}
	}
	return booking.Identity{}, false
}

// EnsureIdentity returns the identity with i's ID hash, inserting i when
// there is none. A verified i (the desk saw the card) makes its name the
// identity's verified name; an unverified claim against another verified
// name is ErrIdentityUnverified.
func (s *Store) EnsureIdentity(_ context.Context, i booking.Identity) (booking.Identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	known, ok := s.byHash(i.IDHash)
	if ok && booking.CardOutranks(known, i) {
		i.NameVerified = false // a provider's answer is a claim against the card
	}
	switch {
	case !ok:
		if i.ID == "" {
			i.ID = booking.NewID()
		}
		i.VerifiedBy = verifiedBy(i)
		s.identities[i.ID] = i
		return i, nil
	case !i.NameVerified:
		if known.NameVerified && string(known.NameHash) != string(i.NameHash) {
			return booking.Identity{}, booking.ErrIdentityUnverified
		}
	default:
		return s.setVerified(known, i, false)
	}
	return known, nil
}

// setVerified makes i's name known's verified name, unless the desk would
// replace another verified name without replace (ErrVerifiedNameDiffers).
// The caller holds s.mu.
func (s *Store) setVerified(known, i booking.Identity, replace bool) (booking.Identity, error) {
	switch {
	case known.NameVerified && string(known.NameHash) == string(i.NameHash):
		return known, nil
	case known.NameVerified && verifiedBy(i) == "desk" && !replace:
		return booking.Identity{}, booking.ErrVerifiedNameDiffers
	}
	known.NameHash, known.NameSealed, known.NameMasked = i.NameHash, i.NameSealed, i.NameMasked
	known.NameVerified, known.VerifiedBy = true, verifiedBy(i)
	s.identities[known.ID] = known
	return known, nil
}

func verifiedBy(i booking.Identity) string {
	if !i.NameVerified {
		return ""
	}
	if i.VerifiedBy == "" {
		return "desk"
	}
	return i.VerifiedBy
}

// CheckIn moves a confirmed booking to checked in, with its event and audit
// entry, and makes the card's name the identity's verified name (never
// over another: ErrVerifiedNameDiffers, and nothing changes).
func (s *Store) CheckIn(_ context.Context, id string, at time.Time, ev booking.Event, a booking.AuditEntry, card booking.Identity) (booking.Booking, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bookings[id]
	if !ok {
		return booking.Booking{}, booking.ErrBookingNotFound
	}
	if b.Status != booking.StatusConfirmed {
		return booking.Booking{}, booking.ErrBookingNotActive
	}
	if i, ok := s.identities[card.ID]; ok {
		if _, err := s.setVerified(i, card, false); err != nil {
			return booking.Booking{}, err
		}
	}
	if b.BookedNameHash == "" {
		b.BookedNameHash = b.NameHash
	}
	b.Status, b.CheckedInAt, b.NameHash = booking.StatusCheckedIn, at, string(card.NameHash)
	s.bookings[id] = b
	s.events = append(s.events, ev)
	s.audit = append(s.audit, a)
	return b, nil
}

// AccountHasIdentity reports whether an identity is on an account's list
// (a removed member is not).
func (s *Store) AccountHasIdentity(_ context.Context, accountID, identityID string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.patients {
		if p.AccountID == accountID && p.IdentityID == identityID && !p.Removed {
			return true, nil
		}
	}
	return false, nil
}

// RecordStaffAction keeps a staff action's event and audit entry (a refused
// check-in, a reissue).
func (s *Store) RecordStaffAction(_ context.Context, ev booking.Event, a booking.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, ev)
	s.audit = append(s.audit, a)
	return nil
}

// StopSession stops a clinic (停诊) as the adapter's transaction does: the
// session is marked stopped (ErrSessionStopped if it was; the catalog's
// version rises), every active booking is cancelled never late (no bar can
// follow) with its cancelled event (reason session_stopped) and a
// notification naming its member, every waiting waitlist entry is cancelled with one, and
// the audit entry is kept. Holding slots for a substitute (sub != nil) is
// not modelled: the SQL store's tests cover it.
func (s *Store) StopSession(_ context.Context, id string, version int64, now time.Time, reason string, body booking.StopNotices, sub *booking.Substitution, a booking.AuditEntry) (booking.StopResult, error) {
	if sub != nil {
		panic("bookingtest: StopSession with a substitute is not implemented")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var sess *booking.Session
	for i := range s.schedule.Sessions {
		if s.schedule.Sessions[i].ID == id {
			sess = &s.schedule.Sessions[i]
		}
	}
	if sess == nil {
		return booking.StopResult{}, booking.ErrSessionNotFound
	}
	if sess.Stopped() {
		return booking.StopResult{}, booking.ErrSessionStopped
	}
	if version != 0 && version != sess.Version {
		return booking.StopResult{}, booking.ErrEditedMeanwhile
	}
	sess.StoppedAt, sess.StopReason = now, reason
	sess.Version++
	s.version++
	var res booking.StopResult
	note := func(n booking.Notification, text booking.Notice, patientID string) {
		who := ""
		if p, ok := s.patients[patientID]; ok {
			who = p.Label()
		}
		n.ID, n.Kind, n.HospitalID, n.SessionID, n.Body, n.CreatedAt = booking.NewID(), "session_stopped", sess.HospitalID, id, text.For(who), now
		s.notifications = append(s.notifications, n)
		if n.AccountID == "" {
			res.ToCallBack++
		} else {
			res.Notified++
		}
	}
	for bid, b := range s.bookings {
		if b.SessionID != id || !active(b) {
			continue
		}
		b.Status, b.CancelledAt, b.LateCancel = booking.StatusCancelled, now, false
		s.bookings[bid] = b
		s.events = append(s.events, booking.Event{ID: booking.NewID(), TS: now, Type: booking.EventCancelled, AccountID: b.AccountID,
			PatientID: b.PatientID, IdentityID: b.IdentityID, BookingID: b.ID, SessionID: id, HospitalID: b.HospitalID,
			DepartmentID: b.DepartmentID, DoctorID: b.DoctorID, Channel: b.Channel, Reason: "session_stopped", StaffID: a.ActorID})
		note(booking.Notification{AccountID: b.AccountID, IdentityID: b.IdentityID, BookingID: b.ID}, body.Booking, b.PatientID)
		res.Cancelled++
	}
	for wid, w := range s.waitlist {
		if w.SessionID != id || w.Status != booking.WaitlistWaiting {
			continue
		}
		w.Status = booking.WaitlistCancelled
		s.waitlist[wid] = w
		note(booking.Notification{AccountID: w.AccountID, IdentityID: w.IdentityID, WaitlistID: w.ID}, body.Waitlist, w.PatientID)
		res.WaitlistEnded++
	}
	s.audit = append(s.audit, a)
	return res, nil
}

// SessionNotifications lists what the patients of a session were told,
// oldest first.
func (s *Store) SessionNotifications(_ context.Context, sessionID string) ([]booking.Notification, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []booking.Notification
	for _, n := range s.notifications {
		if n.SessionID == sessionID {
			out = append(out, n)
		}
	}
	return out, nil
}

// Close is the adapter's close of a session: every pool's release time
// removed (attempts are refused as channel_closed) and its free slots
// emptied; holds stay. A mark keeps it closed until Reopen, whatever Load
// meanwhile loads (hold, the mark's lifetime, is not modelled: a test's
// clock does not run out on its own).
func (a *Admission) Close(_ context.Context, s *booking.Session, _ time.Duration) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hospital(s.HospitalID)
	h.release[s.ID] = map[booking.Channel]time.Time{}
	h.free[s.ID] = map[booking.Channel][]int{}
	if a.closed == nil {
		a.closed = map[string]bool{}
	}
	a.closed[s.ID] = true
	return nil
}

// Reopen drops Close's mark; the next Load opens the session as SQL says.
func (a *Admission) Reopen(_ context.Context, s *booking.Session) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.closed, s.ID)
	return nil
}

// VerifyName makes i's name the verified name of the person with i's ID
// hash (the desk read the card), inserting i if there is none, with the
// audit entry; another account's unbound self under another name stops
// being a self (DropDisprovedSelves); with bind.AccountID, that account's
// patient of the identity becomes its self, taking it from any other
// account, and the account's other self stops being it. An account that
// does not list the identity gets the row bind.NewPatientID (none given,
// or the account names another self: ErrPatientNotFound; at its limit:
// ErrTooManyPatients); another verified
// name without replace, ErrVerifiedNameDiffers; either changes nothing.
func (s *Store) VerifyName(_ context.Context, i booking.Identity, bind booking.SelfBinding, change booking.NameChange, a booking.AuditEntry) error {
	replace := change.Replace
	s.mu.Lock()
	defer s.mu.Unlock()
	selfAccountID := bind.AccountID
	who, ok := s.byHash(i.IDHash)
	if ok && who.ID != i.ID {
		return booking.ErrUnavailable
	}
	if selfAccountID != "" {
		found, n, selves := false, 0, 0
		for _, p := range s.patients {
			found = found || (p.AccountID == selfAccountID && p.IdentityID == i.ID && !p.Removed)
			if p.AccountID == selfAccountID && !p.Removed {
				n++
				if p.IsSelf {
					selves++
				}
			}
		}
		switch {
		case found:
			// Never over a holder the desk bound (account_other_holder).
			for _, p := range s.patients {
				if p.AccountID == selfAccountID && p.IsSelf && !p.Removed && p.IdentityID != i.ID && p.SelfVerified &&
					s.identities[p.IdentityID].Person() != s.identities[i.ID].Person() {
					return booking.ErrHolderBound
				}
			}
		case bind.NewPatientID == "" || selves > 0:
			return booking.ErrPatientNotFound
		case n >= bind.MaxPatients:
			return booking.ErrTooManyPatients
		default:
			s.patients[bind.NewPatientID] = booking.Patient{ID: bind.NewPatientID, AccountID: selfAccountID, IdentityID: i.ID,
				IdentityKey: i.Key(), IDType: i.IDType, MaskedID: i.NumberMasked, NameHash: string(i.NameHash), MaskedName: i.NameMasked,
				Relationship: booking.RelSelf, BirthYear: bind.BirthYear, CreatedAt: a.TS}
		}
	}
	s.dropDisprovedSelves(i.ID, i.NameHash, a)
	if !ok {
		who = i
		who.VerifiedBy = verifiedBy(i)
		s.identities[who.ID] = who
	} else if _, err := s.setVerified(who, i, replace); err != nil {
		return err
	}
	who = s.identities[i.ID]
	for id, p := range s.patients {
		if p.IdentityID == who.ID {
			if replace && p.IsSelf && p.SelfVerified {
				// A correction keeps the desk's binding (carry_bound_self).
				p.NameHash, p.MaskedName = string(who.NameHash), who.NameMasked
			}
			p.Verified = p.NameHash == string(who.NameHash)
			if selfAccountID != "" {
				// The desk binds this account's row as the person's
				// verified self; any other self of the person stops being
				// one (queries.sql's bind_self, drop_self).
				p.IsSelf = p.AccountID == selfAccountID
				p.SelfVerified = p.IsSelf
			}
		} else if selfAccountID != "" && p.AccountID == selfAccountID {
			p.IsSelf, p.SelfVerified = false, false
		}
		s.patients[id] = p
	}
	s.audit = append(s.audit, a)
	s.auditOfPerson(i.ID, a)
	return nil
}

// DropDisprovedSelves is booking.Store's (queries.sql's drop_disproved_selves).
func (s *Store) DropDisprovedSelves(_ context.Context, identityID string, nameHash []byte, a booking.AuditEntry) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropDisprovedSelves(identityID, nameHash, a), nil
}

func (s *Store) dropDisprovedSelves(identityID string, nameHash []byte, a booking.AuditEntry) []string {
	var dropped []string
	for _, id := range slices.Sorted(maps.Keys(s.patients)) {
		p := s.patients[id]
		if p.IdentityID != identityID || !p.IsSelf || p.SelfVerified || p.Removed || p.NameHash == "" || p.NameHash == string(nameHash) {
			continue
		}
		p.IsSelf, p.Relationship = false, booking.RelOther
		s.patients[id] = p
		dropped = append(dropped, id)
		s.events = append(s.events, booking.Event{ID: booking.NewID(), TS: a.TS, Type: booking.EventCancelled, AccountID: p.AccountID,
			PatientID: id, IdentityID: identityID, HospitalID: a.HospitalID, Reason: booking.ReasonNameDisproved, StaffID: a.ActorID})
		s.audit = append(s.audit, booking.AuditEntry{ID: booking.NewID(), TS: a.TS, ActorID: a.ActorID, ActorRole: a.ActorRole,
			Action: "self_disproved", Target: "patient:" + id, HospitalID: a.HospitalID})
	}
	return dropped
}

// SealedNames reads the sealed name of an identity and of the patient rows'
// claims, by id.
func (s *Store) SealedNames(_ context.Context, identityID string, patientIDs []string) (map[string]booking.SealedName, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]booking.SealedName{}
	if i, ok := s.identities[identityID]; ok && len(i.NameSealed) > 0 {
		out[i.ID] = booking.SealedName{Hash: i.NameHash, Sealed: i.NameSealed}
	}
	for _, id := range patientIDs {
		if p, ok := s.patients[id]; ok && p.NameHash != "" && len(s.claims[id]) > 0 {
			out[id] = booking.SealedName{Hash: []byte(p.NameHash), Sealed: s.claims[id]}
		}
	}
	return out, nil
}

// CorrectBookingName puts name to on a confirmed booking made under from,
// with its audit entry and notice.
func (s *Store) CorrectBookingName(_ context.Context, id string, from, to []byte, a booking.AuditEntry, n booking.Notification) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bookings[id]
	if !ok || b.Status != booking.StatusConfirmed || b.NameHash != string(from) {
		return false, nil
	}
	if b.BookedNameHash == "" {
		b.BookedNameHash = b.NameHash
	}
	b.NameHash = string(to)
	s.bookings[id] = b
	s.audit = append(s.audit, a)
	s.notifications = append(s.notifications, n)
	return true, nil
}

// auditOfPerson copies a change's audit entry to every other hospital
// where the person holds a confirmed booking, a lottery entry taking part
// or a waiting waitlist place (queries.sql's insert_audit_of_person).
func (s *Store) auditOfPerson(identityID string, a booking.AuditEntry) {
	for _, h := range s.hospitalsOfPerson(identityID) {
		if h != a.HospitalID {
			c := a
			c.ID, c.HospitalID, c.Reason = booking.NewID(), h, a.Reason+"; "+booking.AuditOfPersonHere
			s.audit = append(s.audit, c)
		}
	}
}

// hospitalsOfPerson lists, sorted, the hospitals where the person holds a
// confirmed booking, a lottery entry taking part or a waiting waitlist
// place.
func (s *Store) hospitalsOfPerson(identityID string) []string {
	here := map[string]bool{}
	for _, b := range s.bookings {
		here[b.HospitalID] = here[b.HospitalID] || b.IdentityID == identityID && b.Status == booking.StatusConfirmed
	}
	for _, e := range s.lottery {
		here[e.HospitalID] = here[e.HospitalID] || e.IdentityID == identityID && e.Status == booking.EntryEntered
	}
	for _, w := range s.waitlist {
		here[w.HospitalID] = here[w.HospitalID] || w.IdentityID == identityID && w.Status == booking.WaitlistWaiting
	}
	var hs []string
	for _, h := range slices.Sorted(maps.Keys(here)) {
		if here[h] {
			hs = append(hs, h)
		}
	}
	return hs
}

// HospitalsOfPerson lists the hospitals where the person holds a
// confirmed booking, a lottery entry taking part or a waiting waitlist
// place.
func (s *Store) HospitalsOfPerson(_ context.Context, identityID string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hospitalsOfPerson(identityID), nil
}

// BookingsOfIdentity lists a person's bookings of visit dates from fromDate
// on, by visit date and slot time.
func (s *Store) BookingsOfIdentity(_ context.Context, identityID, fromDate string) ([]booking.Booking, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.filter(func(b booking.Booking) bool { return b.IdentityID == identityID && b.VisitDate >= fromDate })
	slices.SortStableFunc(out, func(a, b booking.Booking) int {
		return cmp.Or(cmp.Compare(a.VisitDate, b.VisitDate), a.SlotStart.Compare(b.SlotStart))
	})
	return out, nil
}

// BookingsOfCaller is BookingsOfIdentity cut to the bookings a call from
// the number has a say in (the adapter's bookings_of_caller: per booking).
func (s *Store) BookingsOfCaller(ctx context.Context, identityID, fromDate string, phoneHash []byte, phoneRef string) ([]booking.Booking, error) {
	all, err := s.BookingsOfIdentity(ctx, identityID, fromDate)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	made := map[string]bool{} // the booking's own event: staff on a call from the number
	for _, e := range s.events {
		switch e.Type {
		case booking.EventBooked, booking.EventWaitlisted, booking.EventLotteryEntered:
			if e.Phone == phoneRef && e.StaffID != "" && e.BookingID != "" {
				made[e.BookingID] = true
			}
		}
	}
	var out []booking.Booking
	for _, b := range all {
		a, ok := s.accounts[b.AccountID]
		switch {
		case ok && string(a.PhoneHash) == string(phoneHash),
			b.PatientID != "" && !s.patients[b.PatientID].Removed && string(s.phones[b.PatientID]) == string(phoneHash),
			b.AccountID == "" && made[b.ID]:
			out = append(out, b)
		}
	}
	return out, nil
}

// IdentitiesByPhone finds up to limit people a phone number is known for:
// those staff booked, entered or waitlisted for a caller ringing from it
// (events with phoneRef and a staff member), the patients given it as their
// contact phone, and the self of the account whose login it is. (The
// PhoneKin tells who the holder whose login phoneHash is and the family
// members given it are to their account, the holder's self first.
func (s *Store) PhoneKin(_ context.Context, phoneHash []byte) (map[string]booking.Kin, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]booking.Kin{}
	for _, p := range s.patients {
		if a, ok := s.accounts[p.AccountID]; ok && p.IsSelf && string(a.PhoneHash) == string(phoneHash) {
			out[p.IdentityID] = booking.Kin{Relationship: booking.RelSelf, BirthYear: p.BirthYear}
		}
	}
	for pid, p := range s.patients {
		if _, ok := out[p.IdentityID]; !ok && !p.Removed && string(s.phones[pid]) == string(phoneHash) {
			rel := p.Relationship
			if p.IsSelf {
				rel = booking.RelSelf
			}
			out[p.IdentityID] = booking.Kin{Relationship: rel, BirthYear: p.BirthYear}
		}
	}
	return out, nil
}

// PatientsWithPhone lists the patients still listed given phoneHash as
// their contact number.
func (s *Store) PatientsWithPhone(_ context.Context, phoneHash []byte) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for pid, p := range s.patients {
		if !p.Removed && len(phoneHash) > 0 && string(s.phones[pid]) == string(phoneHash) {
			out = append(out, pid)
		}
	}
	return out, nil
}

// adapter orders them by when the identity was made; here by id.)
func (s *Store) IdentitiesByPhone(_ context.Context, phoneHash []byte, phoneRef string, limit int) ([]booking.Identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := map[string]bool{}
	for _, e := range s.events {
		if e.Phone == phoneRef && e.StaffID != "" && e.IdentityID != "" {
			ids[e.IdentityID] = true
		}
	}
	for pid, p := range s.patients {
		if !p.Removed && string(s.phones[pid]) == string(phoneHash) {
			ids[p.IdentityID] = true
		}
		if a, ok := s.accounts[p.AccountID]; ok && p.IsSelf && string(a.PhoneHash) == string(phoneHash) {
			ids[p.IdentityID] = true
		}
	}
	var out []booking.Identity
	for id := range ids {
		if i, ok := s.identities[id]; ok {
			out = append(out, i)
		}
	}
	slices.SortFunc(out, func(a, b booking.Identity) int { return cmp.Compare(a.ID, b.ID) })
	return out[:min(limit, len(out))], nil
}

// KeepCallerPhone forgets the number: the fake keeps no call-back list.
func (s *Store) KeepCallerPhone(_ context.Context, _, _ string, _ []byte, _ string, _ bool, _ time.Time) error {
	return nil
}

// NumberOpened reads the fake's audit entries as the adapter reads
// audit_log.
func (s *Store) NumberOpened(_ context.Context, actorID, notificationID string, since time.Time) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var at time.Time
	for _, a := range s.audit {
		if a.ActorID == actorID && a.Action == "callback_number_read" && a.Target == "notification:"+notificationID && !a.TS.Before(since) && a.TS.After(at) {
			at = a.TS
		}
	}
	return at, nil
}

// VerifiedSelfAccounts maps each of identityIDs that an account holds as
// its verified self (bound by the desk, under the verified name) to that
// account, as the adapter's verified_self_accounts.
func (s *Store) VerifiedSelfAccounts(_ context.Context, identityIDs []string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for _, p := range s.patients {
		i, ok := s.identities[p.IdentityID]
		name := p.NameHash
		if name == "" {
			name = string(i.NameHash)
		}
		if ok && slices.Contains(identityIDs, p.IdentityID) && p.IsSelf && !p.Removed && p.SelfVerified && i.NameVerified &&
			name == string(i.NameHash) {
			out[p.IdentityID] = p.AccountID
		}
	}
	return out, nil
}

// PersonLinks is 0: the in-memory store links no documents.
func (s *Store) PersonLinks(context.Context) (int64, error) { return 0, nil }

// IsFormerName is booking.Store's: the fake keeps no former names (its
// VerifyName renames nothing), so none is.
func (s *Store) IsFormerName(_ context.Context, _ string, _ []byte) (bool, error) {
	return false, nil
}

// FormerNames is booking.Store's: the fake keeps none.
func (s *Store) FormerNames(_ context.Context, _ string) ([]booking.FormerName, error) {
	return nil, nil
}

// MarkDeceased is booking.Store's: the fake records the audit entry only
// (its bookings are not refused for a death).
func (s *Store) MarkDeceased(_ context.Context, _ string, _ time.Time, a booking.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.audit = append(s.audit, a)
	return nil
}
