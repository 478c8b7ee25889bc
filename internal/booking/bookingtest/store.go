package bookingtest

import (
	"cmp"
	"context"
	"crypto/rand"
	"slices"
	"sync"
	"time"

	"fairslot/internal/booking"
)

// Store is an in-memory booking.Store: the schedule, patients and their
// identities, bookings, the waitlist, events, bars and flags. It implements
// the stores the domain's unit tests use (CatalogStore, BookingStore,
// NoShowStore but the desk's MarkNoShow, WaitlistStore, EventLog,
// ReviewStore, CaseStore (cases.go), LotteryStore's entries (lottery.go),
// AccountStore but RevokeTokens
// (accounts.go); of DeskStore the identities, names verified, a phone's
// callers, a person's bookings, check-in and staff actions, of SourceStore
// the 停诊: desk.go); the rest panic.
type Store struct {
	unimplementedStore

	mu         sync.Mutex
	schedule   booking.Schedule
	version    int64
	identities map[string]booking.Identity // by id
	patients   map[string]booking.Patient  // by id
	bookings   map[string]booking.Booking  // by id
	waitlist   map[string]booking.WaitlistEntry
	events     []booking.Event
	audit      []booking.AuditEntry
	bars       map[string]booking.Bar // by trigger booking id
	flags      map[string]booking.Flag
	blocks     map[string]time.Time // identity id → blocked until (confirmed flags)
	blocked    map[string]time.Time // account id → blocked until
	// notifications is the outbox: what patients were told (desk.go,
	// cases.go); cases are the reports and complaints.
	notifications []booking.Notification
	cases         map[string]booking.Case
	accounts      map[string]booking.Account // accounts.go
	phones        map[string][]byte          // patient id → contact phone's hash
	claims        map[string][]byte          // patient id → the claim's sealed name
	lottery       map[string]booking.Entry   // lottery entries by id (lottery.go)
	limits        []booking.AccountPolicy    // the platform's account limits by effective time (accounts.go)
	consents      []booking.Consent          // consents to the privacy notice (accounts.go)
}

// The stores Store implements in full; the composite is for NewService.
var (
	_ booking.Store         = (*Store)(nil)
	_ booking.CatalogStore  = (*Store)(nil)
	_ booking.BookingStore  = (*Store)(nil)
	_ booking.WaitlistStore = (*Store)(nil)
	_ booking.EventLog      = (*Store)(nil)
)

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{
		identities: map[string]booking.Identity{},
		patients:   map[string]booking.Patient{},
		bookings:   map[string]booking.Booking{},
		waitlist:   map[string]booking.WaitlistEntry{},
		bars:       map[string]booking.Bar{},
		flags:      map[string]booking.Flag{},
		blocks:     map[string]time.Time{},
		blocked:    map[string]time.Time{},
	}
}

// NewPatient adds a person (a fresh identity, verified) to an account's
// list and returns the patient, as AddPatient would for a new ID number.
func (s *Store) NewPatient(accountID string) booking.Patient {
	s.mu.Lock()
	defer s.mu.Unlock()
	hash := make([]byte, 32)
	_, _ = rand.Read(hash)
	i := booking.Identity{ID: booking.NewID(), IDType: "resident", IDHash: hash, NumberMasked: "1*****************", NameVerified: true}
	s.identities[i.ID] = i
	p := booking.Patient{ID: booking.NewID(), AccountID: accountID, IdentityID: i.ID, IdentityKey: i.Key(),
		IDType: i.IDType, MaskedID: i.NumberMasked, Verified: true}
	s.patients[p.ID] = p
	return p
}

// Ping answers: memory is always there.
func (s *Store) Ping(context.Context) error { return nil }

// SaveSchedule adds (or replaces, by id) hospitals, departments, doctors and
// sessions, and raises the catalog's version.
func (s *Store) SaveSchedule(_ context.Context, sch booking.Schedule) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.schedule.Hospitals = upsert(s.schedule.Hospitals, sch.Hospitals, func(h booking.Hospital) string { return h.ID })
	s.schedule.Departments = upsert(s.schedule.Departments, sch.Departments, func(d booking.Department) string { return d.ID })
	s.schedule.Doctors = upsert(s.schedule.Doctors, sch.Doctors, func(d booking.Doctor) string { return d.ID })
	s.schedule.Sessions = upsert(s.schedule.Sessions, sch.Sessions, func(x booking.Session) string { return x.ID })
	s.version++
	return nil
}

func upsert[T any](list, add []T, id func(T) string) []T {
	for _, a := range add {
		if i := slices.IndexFunc(list, func(x T) bool { return id(x) == id(a) }); i >= 0 {
			list[i] = a
		} else {
			list = append(list, a)
		}
	}
	return list
}

// LoadSchedule returns every hospital, department and doctor, and the
// sessions from fromDate on.
func (s *Store) LoadSchedule(_ context.Context, fromDate string) (booking.Schedule, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := booking.Schedule{Hospitals: slices.Clone(s.schedule.Hospitals), Departments: slices.Clone(s.schedule.Departments),
		Doctors: slices.Clone(s.schedule.Doctors)}
	for _, ss := range s.schedule.Sessions {
		if ss.VisitDate >= fromDate {
			out.Sessions = append(out.Sessions, ss)
		}
	}
	return out, nil
}

// CatalogVersion is raised by every SaveSchedule.
func (s *Store) CatalogVersion(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version, nil
}

// Patient returns a patient, or booking.ErrNotFound.
func (s *Store) Patient(_ context.Context, id string) (booking.Patient, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.patients[id]
	if !ok {
		return booking.Patient{}, booking.ErrNotFound
	}
	return p, nil
}

// Patients lists an account's patients.
func (s *Store) Patients(_ context.Context, accountID string) ([]booking.Patient, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []booking.Patient
	for _, p := range s.patients {
		if p.AccountID == accountID {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b booking.Patient) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// IdentityOf returns an identity, or booking.ErrNotFound.
func (s *Store) IdentityOf(_ context.Context, id string) (booking.Identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.identities[id]
	if !ok {
		return booking.Identity{}, booking.ErrNotFound
	}
	return i, nil
}

// Revocations lists none: RevokeTokens is not implemented, so no token was
// ever revoked.
func (s *Store) Revocations(context.Context, time.Time) ([]booking.Revocation, error) {
	return nil, nil
}

// ReviewBlock is a person's block by a confirmed flag in force at now; the
// fake keeps blocks by person, not by flag, so the flag is named "".
func (s *Store) ReviewBlock(_ context.Context, identityID string, now time.Time) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until, ok := s.blocks[identityID]; ok && until.After(now) {
		return "", until, nil
	}
	return "", time.Time{}, booking.ErrFlagNotFound
}

// NoShowRecords gives each identity's bar and block in force at now; the
// fake counts no no-shows (NoShows stays 0).
func (s *Store) NoShowRecords(_ context.Context, identityIDs []string, _, now time.Time) (map[string]booking.NoShowRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]booking.NoShowRecord{}
	for _, id := range identityIDs {
		var r booking.NoShowRecord
		for _, b := range s.bars {
			if b.IdentityID == id && b.Until.After(now) && b.Until.After(r.BarredUntil) {
				r.BarredUntil = b.Until
			}
		}
		if u, ok := s.blocks[id]; ok && u.After(now) {
			r.BlockedUntil = u
		}
		out[id] = r
	}
	return out, nil
}

// PendingClosings lists none: the fake has no online closings.
func (s *Store) PendingClosings(context.Context) ([]string, error) { return nil, nil }

// BlockedAccounts lists the accounts a confirmed flag blocks at now.
func (s *Store) BlockedAccounts(_ context.Context, now time.Time) (map[string]time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]time.Time{}
	for id, until := range s.blocked {
		if until.After(now) {
			out[id] = until
		}
	}
	return out, nil
}

// active is the SQL schema's "active" (confirmed or checked in).
func active(b booking.Booking) bool { return b.Status.Active() }

// InsertBookings commits each booking as the schema's unique indexes allow:
// one active booking per slot (ErrSlotTaken), per identity, visit day and
// department (ErrQuotaDayDept); an id already booked is ErrInProgress.
func (s *Store) InsertBookings(_ context.Context, bs []booking.Booking, evs []booking.Event) ([]error, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	errs := make([]error, len(bs))
	for i, b := range bs {
		if errs[i] = s.insertable(b); errs[i] != nil {
			continue
		}
		s.bookings[b.ID] = b
		s.events = append(s.events, evs[i])
		if a, ok := booking.StaffBookingAudit(b); ok {
			s.audit = append(s.audit, a)
		}
	}
	return errs, nil
}

func (s *Store) insertable(b booking.Booking) error {
	if _, ok := s.bookings[b.ID]; ok {
		return booking.ErrInProgress
	}
	for _, o := range s.bookings {
		if !active(o) {
			continue
		}
		if o.SessionID == b.SessionID && o.SlotNo == b.SlotNo {
			return booking.ErrSlotTaken
		}
		if o.IdentityID == b.IdentityID && o.VisitDate == b.VisitDate && o.DepartmentID == b.DepartmentID {
			return booking.ErrQuotaDayDept
		}
	}
	if ss, ok := s.session(b.SessionID); ok && ss.Stopped() {
		return booking.ErrSessionStopped
	} else if ok && ss.VisitDate != b.VisitDate {
		return booking.ErrSessionMoved
	}
	return nil
}

func (s *Store) session(id string) (booking.Session, bool) {
	i := slices.IndexFunc(s.schedule.Sessions, func(x booking.Session) bool { return x.ID == id })
	if i < 0 {
		return booking.Session{}, false
	}
	return s.schedule.Sessions[i], true
}

// Booking returns a booking, or booking.ErrBookingNotFound.
func (s *Store) Booking(_ context.Context, id string) (booking.Booking, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bookings[id]
	if !ok {
		return booking.Booking{}, booking.ErrBookingNotFound
	}
	return b, nil
}

// Bookings lists the bookings an account made, newest first. (The
// adapter's staff-made bookings of the account's self are not kept apart
// here: staff channels are not implemented.)
func (s *Store) Bookings(_ context.Context, accountID string, p booking.Page) ([]booking.Booking, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.filter(func(b booking.Booking) bool { return b.AccountID == accountID })
	if p.After != "" && !slices.ContainsFunc(out, func(b booking.Booking) bool { return b.ID == p.After }) {
		return nil, booking.ErrNotFound
	}
	return page(out, func(b booking.Booking) string { return b.ID }, p, booking.BookingPageSize), nil
}

// page is the items after the one whose id is p.After, p.Limit of them
// (size without one).
func page[T any](items []T, id func(T) string, p booking.Page, size int) []T {
	if p.After != "" {
		i := slices.IndexFunc(items, func(v T) bool { return id(v) == p.After })
		if i < 0 {
			return nil
		}
		items = items[i+1:]
	}
	return items[:min(len(items), p.Size(size))]
}

// FutureBookingsMadeBy lists the confirmed bookings the account made. (The
// sessions' times are the catalogue's, not kept here: the caller's
// cancellation refuses a started one.)
func (s *Store) FutureBookingsMadeBy(_ context.Context, accountID string, _ time.Time) ([]booking.Booking, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.filter(func(b booking.Booking) bool { return b.AccountID == accountID && b.Status == booking.StatusConfirmed }), nil
}

func (s *Store) filter(keep func(booking.Booking) bool) []booking.Booking {
	var out []booking.Booking
	for _, b := range s.bookings {
		if keep(b) {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b booking.Booking) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// ActiveBookings lists a hospital's active bookings from a visit date on.
func (s *Store) ActiveBookings(_ context.Context, hospitalID, fromDate string) ([]booking.Booking, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.filter(func(b booking.Booking) bool {
		return b.HospitalID == hospitalID && b.VisitDate >= fromDate && active(b)
	}), nil
}

// BookedCounts counts, for each session given, its active bookings per
// pool (the channel of the slot each holds), its waiting places and its
// live lottery entries.
func (s *Store) BookedCounts(_ context.Context, sessionIDs []string) (map[string]booking.BookedCounts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]booking.BookedCounts{}
	for _, b := range s.filter(func(b booking.Booking) bool { return active(b) && slices.Contains(sessionIDs, b.SessionID) }) {
		c := out[b.SessionID]
		if c.Bookings == nil {
			c.Bookings = map[booking.Channel]int{}
		}
		c.Bookings[s.slotChannel(b)]++
		out[b.SessionID] = c
	}
	for _, e := range s.waitlist {
		if e.Status == booking.WaitlistWaiting && slices.Contains(sessionIDs, e.SessionID) {
			c := out[e.SessionID]
			c.Waiting++
			out[e.SessionID] = c
		}
	}
	for _, e := range s.lottery {
		if (e.Status == booking.EntryEntered || e.Status == booking.EntryHeldOut) && slices.Contains(sessionIDs, e.SessionID) {
			c := out[e.SessionID]
			c.Entries++
			out[e.SessionID] = c
		}
	}
	return out, nil
}

// slotChannel is the channel of the slot b holds (its own when the
// schedule does not have the slot).
func (s *Store) slotChannel(b booking.Booking) booking.Channel {
	for _, ss := range s.schedule.Sessions {
		if ss.ID == b.SessionID {
			if sl, ok := ss.Slot(b.SlotNo); ok {
				return sl.Channel
			}
		}
	}
	return b.Channel
}

// ReturnedSlots lists the slots a booking gave back that no active booking
// holds, by session.
func (s *Store) ReturnedSlots(_ context.Context, hospitalID, fromDate string) (map[string][]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	held := map[string]map[int]bool{}
	for _, b := range s.filter(active) {
		if held[b.SessionID] == nil {
			held[b.SessionID] = map[int]bool{}
		}
		held[b.SessionID][b.SlotNo] = true
	}
	out := map[string][]int{}
	for _, b := range s.filter(func(b booking.Booking) bool {
		return b.HospitalID == hospitalID && b.VisitDate >= fromDate && !active(b)
	}) {
		if !held[b.SessionID][b.SlotNo] && !slices.Contains(out[b.SessionID], b.SlotNo) {
			out[b.SessionID] = append(out[b.SessionID], b.SlotNo)
		}
	}
	for _, slots := range out {
		slices.Sort(slots)
	}
	return out, nil
}

// BookingStatuses returns the status of each booking found.
func (s *Store) BookingStatuses(_ context.Context, ids []string) (map[string]booking.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]booking.Status{}
	for _, id := range ids {
		if b, ok := s.bookings[id]; ok {
			out[id] = b.Status
		}
	}
	return out, nil
}

// CancelBooking cancels a confirmed booking; a late cancellation counts as
// a no-show, and bars its identity when it crosses a step of rules (the
// booking keys the bar).
func (s *Store) CancelBooking(_ context.Context, id string, late bool, rules booking.NoShowRules, ev booking.Event, audit *booking.AuditEntry) (booking.Booking, []booking.Bar, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bookings[id]
	if !ok || b.Status != booking.StatusConfirmed {
		return booking.Booking{}, nil, booking.ErrBookingNotActive
	}
	b.Status, b.CancelledAt, b.LateCancel = booking.StatusCancelled, ev.TS, late
	s.bookings[id] = b
	s.events = append(s.events, ev)
	if audit != nil {
		s.audit = append(s.audit, *audit)
	}
	var bars []booking.Bar
	if late {
		if bar, ok := s.barIfCrossed(b.IdentityID, id, 1, ev.TS, rules); ok {
			bars = append(bars, bar)
		}
	}
	return b, bars, nil
}

// barIfCrossed is the adapter's: the identity's no-shows and late
// cancellations of visit days in the window, before and after the marked
// ones, against the steps of rules.
func (s *Store) barIfCrossed(identityID, trigger string, marked int, now time.Time, rules booking.NoShowRules) (booking.Bar, bool) {
	from := now.Add(-rules.Window).UTC().Format(time.DateOnly)
	n := len(s.filter(func(b booking.Booking) bool {
		return b.IdentityID == identityID && b.VisitDate >= from &&
			(b.Status == booking.StatusNoShow || b.Status == booking.StatusCancelled && b.LateCancel)
	}))
	step, ok := rules.Crossed(n-marked, n)
	if !ok {
		return booking.Bar{}, false
	}
	if _, done := s.bars[trigger]; done {
		return booking.Bar{}, false
	}
	bar := booking.Bar{IdentityID: identityID, IdentityKey: s.identities[identityID].Key(), NoShows: n,
		Until: now.Add(step.Bar), Trigger: trigger}
	s.bars[trigger] = bar
	return bar, true
}

// OffersOfBookings finds none: the fake holds no substitute offers.
func (s *Store) OffersOfBookings(_ context.Context, _ []string) ([]booking.SubstituteOffer, error) {
	return nil, nil
}

// Offer finds no substitute offer: the fake never stops a clinic with a
// substitute (StopSession is not implemented), so no booking is a held one.
func (s *Store) Offer(_ context.Context, _ string) (booking.SubstituteOffer, error) {
	return booking.SubstituteOffer{}, booking.ErrOfferNotFound
}

// MarkNoShows marks every confirmed booking of a session that ended in the
// week before now as a no-show, with its event, and bars each identity
// whose no-shows crossed a step of rules with them (its latest marked
// booking keys the bar).
func (s *Store) MarkNoShows(_ context.Context, now time.Time, rules func(hospitalID string) booking.NoShowRules) (int, []booking.Bar, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	marked := s.filter(func(b booking.Booking) bool {
		ss, ok := s.session(b.SessionID)
		return b.Status == booking.StatusConfirmed && ok && !ss.EndsAt.After(now) && ss.EndsAt.After(now.Add(-7*24*time.Hour))
	})
	slices.SortFunc(marked, func(a, b booking.Booking) int { return cmp.Compare(a.ID, b.ID) })
	perIdentity := map[string][]string{}
	hospitalOf := map[string]string{}
	var order []string
	for _, b := range marked {
		hospitalOf[b.IdentityID] = b.HospitalID
		b.Status = booking.StatusNoShow
		s.bookings[b.ID] = b
		s.events = append(s.events, booking.Event{ID: booking.NewID(), TS: now, Type: booking.EventNoShow, AccountID: b.AccountID,
			IdentityID: b.IdentityID, PatientID: b.PatientID, BookingID: b.ID, SessionID: b.SessionID, HospitalID: b.HospitalID,
			DepartmentID: b.DepartmentID, DoctorID: b.DoctorID, Channel: b.Channel})
		if len(perIdentity[b.IdentityID]) == 0 {
			order = append(order, b.IdentityID)
		}
		perIdentity[b.IdentityID] = append(perIdentity[b.IdentityID], b.ID)
	}
	var bars []booking.Bar
	for _, id := range order {
		ids := perIdentity[id]
		if bar, ok := s.barIfCrossed(id, ids[len(ids)-1], len(ids), now, rules(hospitalOf[id])); ok {
			bars = append(bars, bar)
		}
	}
	return len(marked), bars, nil
}

// ActiveBars lists, per identity, the latest end of its no-show bars and
// flag blocks that last past now.
func (s *Store) ActiveBars(_ context.Context, now time.Time) ([]booking.Bar, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	until := map[string]time.Time{}
	for _, b := range s.bars {
		if b.Until.After(until[b.IdentityID]) {
			until[b.IdentityID] = b.Until
		}
	}
	for id, u := range s.blocks {
		if u.After(until[id]) {
			until[id] = u
		}
	}
	var out []booking.Bar
	for id, u := range until {
		if u.After(now) {
			out = append(out, booking.Bar{IdentityID: id, IdentityKey: s.identities[id].Key(), Until: u})
		}
	}
	slices.SortFunc(out, func(a, b booking.Bar) int { return cmp.Compare(a.IdentityID, b.IdentityID) })
	return out, nil
}

// AddWaitlist stores a waiting entry: ErrAlreadyBooked when its identity
// has an active booking in the session, ErrAlreadyWaitlisted when it is
// waiting there already.
func (s *Store) AddWaitlist(_ context.Context, e booking.WaitlistEntry, ev booking.Event) (booking.WaitlistEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.bookings {
		if active(b) && b.SessionID == e.SessionID && b.IdentityID == e.IdentityID {
			return booking.WaitlistEntry{}, booking.ErrAlreadyBooked
		}
	}
	if s.waiting(e, func(booking.WaitlistEntry) bool { return true }) {
		return e, booking.ErrAlreadyWaitlisted
	}
	return s.addWaitlist(e, ev), nil
}

// AddWaitlistBeside stores a waiting entry whatever else its identity
// holds or waits for in the session, but one per account (rounds are not
// modelled: see Admission.JoinWaitlist).
func (s *Store) AddWaitlistBeside(_ context.Context, e booking.WaitlistEntry, ev booking.Event) (booking.WaitlistEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiting(e, func(o booking.WaitlistEntry) bool { return o.AccountID == e.AccountID }) {
		return e, booking.ErrAlreadyWaitlisted
	}
	return s.addWaitlist(e, ev), nil
}

// waiting reports whether e's identity waits in e's session in an entry
// that also matches.
func (s *Store) waiting(e booking.WaitlistEntry, match func(booking.WaitlistEntry) bool) bool {
	for _, o := range s.waitlist {
		if o.Status == booking.WaitlistWaiting && o.SessionID == e.SessionID && o.IdentityID == e.IdentityID && match(o) {
			return true
		}
	}
	return false
}

func (s *Store) addWaitlist(e booking.WaitlistEntry, ev booking.Event) booking.WaitlistEntry {
	e.Status = booking.WaitlistWaiting
	s.waitlist[e.ID] = e
	s.events = append(s.events, ev)
	if a, staff := booking.StaffWaitlistAudit(e); staff {
		s.audit = append(s.audit, a)
	}
	e.Position = s.position(e)
	return e
}

// position is an entry's 1-based place among its session's waiting
// entries, by creation time then id, as the adapter orders them.
func (s *Store) position(e booking.WaitlistEntry) int {
	n := 1
	for _, o := range s.waitlist {
		if o.Status == booking.WaitlistWaiting && o.SessionID == e.SessionID && o.ID != e.ID && before(o, e) {
			n++
		}
	}
	return n
}

func before(a, b booking.WaitlistEntry) bool {
	return a.CreatedAt.Before(b.CreatedAt) || a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID
}

// WaitlistEntry returns an entry (with its position while waiting), or
// booking.ErrWaitlistNotFound.
func (s *Store) WaitlistEntry(_ context.Context, id string) (booking.WaitlistEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.waitlist[id]
	if !ok {
		return booking.WaitlistEntry{}, booking.ErrWaitlistNotFound
	}
	if e.Status == booking.WaitlistWaiting {
		e.Position = s.position(e)
	}
	return e, nil
}

func (s *Store) entries(keep func(booking.WaitlistEntry) bool) []booking.WaitlistEntry {
	var out []booking.WaitlistEntry
	for _, e := range s.waitlist {
		if keep(e) {
			if e.Status == booking.WaitlistWaiting {
				e.Position = s.position(e)
			}
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b booking.WaitlistEntry) int {
		if before(a, b) {
			return -1
		}
		return 1
	})
	return out
}

// WaitlistOfAccount lists an account's entries, newest first.
func (s *Store) WaitlistOfAccount(_ context.Context, accountID string, p booking.Page) ([]booking.WaitlistEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.entries(func(e booking.WaitlistEntry) bool { return e.AccountID == accountID })
	slices.Reverse(out)
	return page(out, func(e booking.WaitlistEntry) string { return e.ID }, p, booking.WaitlistPageSize), nil
}

// WaitingOfPerson lists an identity's waiting places in a session, oldest
// first.
func (s *Store) WaitingOfPerson(_ context.Context, sessionID, identityID string) ([]booking.WaitlistEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.entries(func(e booking.WaitlistEntry) bool {
		return e.SessionID == sessionID && e.IdentityID == identityID && e.Status == booking.WaitlistWaiting
	}), nil
}

// EndPlaces ends the waiting places ids as skipped and tells each one's
// account its body, as the adapter does in one transaction.
func (s *Store) EndPlaces(_ context.Context, ids, bodies []string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, id := range ids {
		e, ok := s.waitlist[id]
		if !ok || e.Status != booking.WaitlistWaiting {
			continue
		}
		e.Status = booking.WaitlistSkipped
		s.waitlist[id] = e
		if e.AccountID != "" {
			s.notifications = append(s.notifications, booking.Notification{ID: booking.NewID(), Kind: string(booking.EventCancelled),
				HospitalID: e.HospitalID, SessionID: e.SessionID, AccountID: e.AccountID, IdentityID: e.IdentityID,
				WaitlistID: e.ID, Body: bodies[i], CreatedAt: at})
		}
	}
	return nil
}

// WaitingEntries lists a hospital's waiting entries in line order.
func (s *Store) WaitingEntries(_ context.Context, hospitalID string) ([]booking.WaitlistEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.entries(func(e booking.WaitlistEntry) bool {
		return e.HospitalID == hospitalID && e.Status == booking.WaitlistWaiting
	}), nil
}

// WaitlistStatuses returns the status of each entry found.
func (s *Store) WaitlistStatuses(_ context.Context, ids []string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for _, id := range ids {
		if e, ok := s.waitlist[id]; ok {
			out[id] = e.Status
		}
	}
	return out, nil
}

// CloseWaitlist moves waiting entries to status; with one id that is not
// waiting, ErrWaitlistNotWaiting.
func (s *Store) CloseWaitlist(_ context.Context, ids []string, status string, _ time.Time, ev *booking.Event, _ *booking.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	closed := 0
	for _, id := range ids {
		if e, ok := s.waitlist[id]; ok && e.Status == booking.WaitlistWaiting {
			e.Status = status
			s.waitlist[id] = e
			closed++
		}
	}
	if closed == 0 && len(ids) == 1 {
		return booking.ErrWaitlistNotWaiting
	}
	if ev != nil {
		s.events = append(s.events, *ev)
	}
	return nil
}

// PromoteWaitlist marks a waiting entry served and commits its booking, as
// InsertBookings would (ErrWaitlistNotWaiting when it no longer waits;
// ErrAccountBlocked for an account blocked at the promotion).
func (s *Store) PromoteWaitlist(_ context.Context, b booking.Booking, ev booking.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.waitlist[b.ID]
	if !ok || e.Status != booking.WaitlistWaiting {
		return booking.ErrWaitlistNotWaiting
	}
	if until, blocked := s.blocked[b.AccountID]; blocked && until.After(b.CreatedAt) {
		return booking.ErrAccountBlocked
	}
	if err := s.insertable(b); err != nil {
		return err
	}
	e.Status = booking.WaitlistServed
	s.waitlist[e.ID] = e
	s.bookings[b.ID] = b
	s.events = append(s.events, ev)
	return nil
}

// HeldOutEntries lists none: only a draw holds entries out, and the draw
// is not implemented.
func (s *Store) HeldOutEntries(context.Context, string) ([]booking.Entry, error) { return nil, nil }

// RecordEvent stores an event.
func (s *Store) RecordEvent(_ context.Context, ev booking.Event) error {
	return s.RecordEvents(context.Background(), []booking.Event{ev})
}

// RecordEvents stores events.
func (s *Store) RecordEvents(_ context.Context, evs []booking.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, evs...)
	return nil
}

// RecordAudit stores an audit entry.
func (s *Store) RecordAudit(_ context.Context, a booking.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.audit = append(s.audit, a)
	return nil
}

// RecordAuditOfPerson stores an audit entry of a person and its copies for
// the other hospitals where the person holds something.
func (s *Store) RecordAuditOfPerson(_ context.Context, identityID string, a booking.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.audit = append(s.audit, a)
	s.auditOfPerson(identityID, a)
	return nil
}

// KeyedAudit is the audit entry id.
func (s *Store) KeyedAudit(_ context.Context, id string) (booking.AuditEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.audit {
		if a.ID == id {
			return a, nil
		}
	}
	return booking.AuditEntry{}, booking.ErrNotFound
}

// EventsSince lists the events at or after since, oldest first.
func (s *Store) EventsSince(_ context.Context, since time.Time) ([]booking.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []booking.Event
	for _, e := range s.events {
		if !e.TS.Before(since) {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b booking.Event) int { return a.TS.Compare(b.TS) })
	return out, nil
}

// Events returns every event stored, in the order stored (for assertions).
func (s *Store) Events() []booking.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

// SaveFlags records what a detection run found, as the adapter does: a new
// flag opens; an open one takes the new evidence; a confirmed one stays; a
// dismissed one reopens only when its score reached reopenAt times the
// score it was dismissed at. It returns how many opened or reopened.
func (s *Store) SaveFlags(_ context.Context, flags []booking.Flag, now time.Time, reopenAt float64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	opened := 0
	for _, f := range flags {
		prev, ok := s.flags[f.ID]
		if !ok {
			f.Status, f.CreatedAt, f.UpdatedAt = booking.FlagOpen, now, now
			s.flags[f.ID] = f
			opened++
			continue
		}
		status := prev.Status
		switch prev.Status {
		case booking.FlagConfirmed:
			continue
		case booking.FlagDismissed:
			if f.Score < prev.DecidedScore*reopenAt {
				continue
			}
			status = booking.FlagOpen
			prev.Dismissal = nil
			opened++
		}
		prev.Score, prev.Reasons, prev.AccountIDs, prev.PatientIDs = f.Score, f.Reasons, f.AccountIDs, f.PatientIDs
		prev.Threshold, prev.Explanation, prev.ExplanationZH = f.Threshold, f.Explanation, f.ExplanationZH
		prev.Status, prev.UpdatedAt = status, now
		s.flags[f.ID] = prev
	}
	return opened, nil
}

// Flag returns a flag, or booking.ErrFlagNotFound.
func (s *Store) Flag(_ context.Context, id string) (booking.Flag, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.flags[id]
	if !ok {
		return booking.Flag{}, booking.ErrFlagNotFound
	}
	return f, nil
}

// Flags lists the flags in a status, highest score first.
func (s *Store) Flags(_ context.Context, status string, p booking.Page) ([]booking.Flag, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []booking.Flag
	for _, f := range s.flags {
		if f.Status == status {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b booking.Flag) int { return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.ID, b.ID)) })
	return page(out, func(f booking.Flag) string { return f.ID }, p, booking.FlagPageSize), nil
}

// FlagsOfAccounts lists the flags in a status scoring at least minScore
// that name one of the accounts, highest score first.
func (s *Store) FlagsOfAccounts(_ context.Context, status string, accountIDs []string, minScore float64) ([]booking.Flag, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []booking.Flag
	for _, f := range s.flags {
		if f.Status == status && f.Score >= minScore && slices.ContainsFunc(f.AccountIDs, func(a string) bool { return slices.Contains(accountIDs, a) }) {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b booking.Flag) int { return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// OverdueFlags counts the open flags opened (or, never reopened, created)
// before openedBefore, as overdue_flags does.
func (s *Store) OverdueFlags(_ context.Context, openedBefore time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.flags {
		opened := f.OpenedAt
		if opened.IsZero() {
			opened = f.CreatedAt
		}
		if f.Status == booking.FlagOpen && opened.Before(openedBefore) {
			n++
		}
	}
	return n, nil
}

// RequestDismissal records a pending dismissal on an open flag
// (ErrFlagDecided when it is not open or one is pending).
func (s *Store) RequestDismissal(_ context.Context, id string, d booking.Dismissal, _ time.Time, a booking.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.flags[id]
	if !ok {
		return booking.ErrFlagNotFound
	}
	if f.Status != booking.FlagOpen || f.Dismissal != nil {
		return booking.ErrFlagDecided
	}
	f.Dismissal = &d
	s.flags[id] = f
	s.audit = append(s.audit, a)
	return nil
}

// DecideFlag decides an open flag (ErrFlagDecided when it is not open,
// ErrFlagNotFound when there is none). Confirming blocks its accounts and
// its identities until blockUntil, and returns the identities' bars.
func (s *Store) DecideFlag(_ context.Context, id, status, note string, by booking.Actor, now, blockUntil time.Time, bar []string, dismissal *booking.Dismissal, a booking.AuditEntry) ([]booking.Bar, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.flags[id]
	if !ok {
		return nil, booking.ErrFlagNotFound
	}
	if f.Status != booking.FlagOpen {
		return nil, booking.ErrFlagDecided
	}
	f.Status, f.DecidedAt, f.DecidedBy, f.DecidedScore, f.Note = status, now, by.AccountID, f.Score, note
	if dismissal != nil {
		f.Dismissal = dismissal
	}
	s.flags[id] = f
	s.audit = append(s.audit, a)
	if status != booking.FlagConfirmed {
		return nil, nil
	}
	for _, acc := range f.AccountIDs {
		s.blocked[acc] = blockUntil
	}
	var bars []booking.Bar
	for _, ident := range bar {
		s.blocks[ident] = blockUntil
		bars = append(bars, booking.Bar{IdentityID: ident, IdentityKey: s.identities[ident].Key(), Until: blockUntil})
	}
	return bars, nil
}

// FutureBookingsOfGroup lists the confirmed bookings, of sessions that
// start after now, that the given accounts made themselves.
func (s *Store) FutureBookingsOfGroup(_ context.Context, now time.Time, accountIDs []string) ([]booking.Booking, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.filter(func(b booking.Booking) bool {
		ss, ok := s.session(b.SessionID)
		return b.Status == booking.StatusConfirmed && ok && ss.StartsAt.After(now) &&
			b.AccountID != "" && b.BookedBy == "" && slices.Contains(accountIDs, b.AccountID)
	}), nil
}

// MadeByOthers lists what patient accounts other than accountID made for
// an identity, as the adapter does (bookings_by_others and its twins).
func (s *Store) MadeByOthers(_ context.Context, identityID, accountID, fromDate string, since time.Time) (booking.MadeByOthers, error) {
	return s.madeBy(func(id, acct string) bool { return id == identityID && acct != "" && acct != accountID }, fromDate, since), nil
}

// MadeByAccount lists what accountID made for the identity.
func (s *Store) MadeByAccount(_ context.Context, identityID, accountID, fromDate string, since time.Time) (booking.MadeByOthers, error) {
	out := s.madeBy(func(id, acct string) bool { return id == identityID && acct == accountID }, fromDate, since)
	out.Makers = nil
	return out, nil
}

// madeBy is MadeByOthers and MadeByAccount: the items whose identity and
// account other holds.
func (s *Store) madeBy(other func(id, acct string) bool, fromDate string, since time.Time) booking.MadeByOthers {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := booking.MadeByOthers{Makers: map[string]string{}}
	for _, b := range s.bookings {
		if other(b.IdentityID, b.AccountID) && b.VisitDate >= fromDate {
			out.Bookings = append(out.Bookings, b)
			out.Makers[b.AccountID] = s.accounts[b.AccountID].PhoneMasked
		}
	}
	for _, e := range s.lottery {
		if other(e.IdentityID, e.AccountID) && (e.Status == booking.EntryEntered || e.CreatedAt.After(since)) {
			out.Entries = append(out.Entries, e)
			out.Makers[e.AccountID] = s.accounts[e.AccountID].PhoneMasked
		}
	}
	for _, w := range s.waitlist {
		if other(w.IdentityID, w.AccountID) && (w.Status == booking.WaitlistWaiting || w.CreatedAt.After(since)) {
			out.Waitlist = append(out.Waitlist, w)
			out.Makers[w.AccountID] = s.accounts[w.AccountID].PhoneMasked
		}
	}
	return out
}

// PersonsElsewhere says which of the identities an account outside
// accountIDs lists (not removed), on how many, and whether as its verified
// self.
func (s *Store) PersonsElsewhere(_ context.Context, accountIDs, identityIDs []string) (map[string]booking.Elsewhere, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[[2]string]bool{}
	out := map[string]booking.Elsewhere{}
	for _, p := range s.patients {
		if p.Removed || !slices.Contains(identityIDs, p.IdentityID) || slices.Contains(accountIDs, p.AccountID) {
			continue
		}
		e := out[p.IdentityID]
		if !seen[[2]string{p.IdentityID, p.AccountID}] {
			seen[[2]string{p.IdentityID, p.AccountID}] = true
			e.Accounts++
		}
		e.VerifiedSelf = e.VerifiedSelf || p.IsSelf && p.SelfVerified
		out[p.IdentityID] = e
	}
	return out, nil
}

// StaffActionsSince counts the audit entries of the actions a staff
// account wrote at or after since.
func (s *Store) StaffActionsSince(_ context.Context, actorID string, since time.Time, actions ...string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, a := range s.audit {
		if a.ActorID == actorID && !a.TS.Before(since) && slices.Contains(actions, a.Action) {
			n++
		}
	}
	return n, nil
}

// StaffFreedSince is the latest slot staffID freed in sessionID since.
func (s *Store) StaffFreedSince(_ context.Context, staffID, sessionID string, since time.Time) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last time.Time
	for _, e := range s.events {
		if e.StaffID == staffID && e.SessionID == sessionID && e.BookingID != "" && !e.TS.Before(since) &&
			(e.Type == booking.EventCancelled || e.Type == booking.EventReissued) && e.TS.After(last) {
			last = e.TS
		}
	}
	return last, nil
}

// CallerPersonsSince lists the persons staff booked, entered or
// waitlisted on calls from phoneRef at or after since.
func (s *Store) CallerPersonsSince(_ context.Context, phoneRef string, since time.Time) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range s.events {
		switch e.Type {
		case booking.EventBooked, booking.EventLotteryEntered, booking.EventWaitlisted, booking.EventCancelled:
		default:
			continue
		}
		if e.Phone == phoneRef && phoneRef != "" && e.StaffID != "" && e.IdentityID != "" && !e.TS.Before(since) && !slices.Contains(out, e.IdentityID) {
			out = append(out, e.IdentityID)
		}
	}
	return out, nil
}
