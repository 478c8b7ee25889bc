package bookingtest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"fairslot/internal/booking"
)

// Lottery entries, with the adapters' semantics: enter.lua and unenter.lua
// (an entry holds its person's quota from its admission until it is
// withdrawn or decided), loadentries.lua, and the SQL store's entries. The
// draw itself (claiming, ranking, booking the winners) is not implemented.

// lotMeta is a lottery pool's window in a session's meta: lot:<channel>,
// and whether its seed is committed and its draw done.
type lotMeta struct {
	opens, draw   time.Time
	seeded, drawn bool
}

// entryRec is an entry's record ("nonce|session|channel|identity").
type entryRec struct {
	nonce, sid string
	ch         booking.Channel
	ik         string
	keepUntil  time.Time
}

// loadLots is load.lua's part for lottery pools: the window from the
// session, the seed committed once the catalog has its draw record, drawn
// once that record says so; neither goes back.
func (h *hospital) loadLots(s *booking.Session) {
	for _, q := range s.Channels {
		if !q.IsLottery() {
			continue
		}
		if h.lots[s.ID] == nil {
			h.lots[s.ID] = map[booking.Channel]*lotMeta{}
		}
		m := h.lots[s.ID][q.Channel]
		if m == nil {
			m = &lotMeta{}
			h.lots[s.ID][q.Channel] = m
		}
		m.opens, m.draw = q.OpensAt, q.DrawAt
		m.seeded = m.seeded || q.Draw != nil
		m.drawn = m.drawn || (q.Draw != nil && q.Draw.Status == booking.DrawDrawn)
	}
}

// Enter is enter.lua: a replay of a known entry id; the pool takes entries
// now (its window open, its seed committed, not drawn); the person is not
// barred and within their quotas counting the entry (one booking or entry
// per session); then the entry holds its quota and is pending until
// ConfirmEntries.
func (a *Admission) Enter(_ context.Context, r booking.Reservation) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.enters++
	h := a.hospital(r.HospitalID)
	now := a.now()
	if rec, ok := h.entries[r.BookingID]; ok && rec.keepUntil.After(now) {
		return rec.nonce != r.Nonce, nil
	}
	m := h.lots[r.SessionID][r.Channel]
	switch {
	case m == nil:
		if _, ok := h.sessions[r.SessionID]; !ok {
			return false, booking.ErrSessionNotFound
		}
		return false, booking.ErrNotReleased // not_lottery
	case !now.Before(m.draw) || m.drawn:
		return false, booking.ErrWindowClosed
	case !m.seeded || now.Before(m.opens):
		return false, booking.ErrNotReleased
	case !r.KeepUntil.After(now):
		return false, fmt.Errorf("enter: KeepUntil is not in the future")
	}
	q := quotaArgs{sid: r.SessionID, date: r.VisitDate, dept: r.DepartmentID, week: r.Week, month: r.Month, today: r.Today, policy: r.Policy}
	if err := h.refusal(r.IdentityKey, now, q); err != nil {
		return false, err
	}
	h.holdEntry(r.BookingID, r.IdentityKey, q)
	h.entries[r.BookingID] = entryRec{nonce: r.Nonce, sid: r.SessionID, ch: r.Channel, ik: r.IdentityKey, keepUntil: r.KeepUntil}
	h.ePending[r.BookingID] = now.Add(r.HoldFor)
	return false, nil
}

func (h *hospital) holdEntry(id, ik string, q quotaArgs) {
	if h.idents[ik] == nil {
		h.idents[ik] = map[string]identHold{}
	}
	h.idents[ik][id] = identHold{date: q.date, dept: q.dept, week: q.week, month: q.month, sid: q.sid, entry: true}
}

// ConfirmEntries marks entries durable: no longer pending.
func (a *Admission) ConfirmEntries(_ context.Context, hospitalID string, ids []string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hospital(hospitalID)
	for _, id := range ids {
		delete(h.ePending, id)
	}
	return nil
}

// ReleaseEntries is unenter.lua: entries forgotten and their quota given
// back (only an entry's own hold: a winner's is its booking's), unless
// keepHold; with onlyIfExpired, one whose commit may still be in flight is
// left alone and returned.
func (a *Admission) ReleaseEntries(_ context.Context, refs []booking.EntryRef, keepHold, onlyIfExpired bool) ([]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	var skipped []string
	for _, r := range refs {
		h := a.hospital(r.HospitalID)
		if d, ok := h.ePending[r.EntryID]; onlyIfExpired && ok && d.After(now) {
			skipped = append(skipped, r.EntryID)
			continue
		}
		h.forgetEntry(r.EntryID, r.IdentityKey, keepHold)
	}
	return skipped, nil
}

func (h *hospital) forgetEntry(id, ik string, keepHold bool) {
	if hd, ok := h.idents[ik][id]; ok && hd.entry && !keepHold {
		delete(h.idents[ik], id)
	}
	delete(h.entries, id)
	delete(h.ePending, id)
}

// ExpiredEntries lists entries whose pending deadline passed.
func (a *Admission) ExpiredEntries(_ context.Context, hospitalID string, now time.Time, limit int) ([]booking.EntryRef, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hospital(hospitalID)
	var out []booking.EntryRef
	for id, d := range h.ePending {
		if !d.After(now) && len(out) < limit {
			rec := h.entries[id]
			out = append(out, booking.EntryRef{HospitalID: hospitalID, SessionID: rec.sid, EntryID: id, Channel: rec.ch, IdentityKey: rec.ik})
		}
	}
	return out, nil
}

// Entries lists the live entries of sessions of one hospital.
func (a *Admission) Entries(_ context.Context, hospitalID string, sessionIDs []string) ([]booking.EntryRef, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hospital(hospitalID)
	var out []booking.EntryRef
	for id, rec := range h.entries {
		if slices.Contains(sessionIDs, rec.sid) {
			out = append(out, booking.EntryRef{HospitalID: hospitalID, SessionID: rec.sid, EntryID: id, Channel: rec.ch, IdentityKey: rec.ik})
		}
	}
	slices.SortFunc(out, func(x, y booking.EntryRef) int { return cmp.Compare(x.EntryID, y.EntryID) })
	return out, nil
}

// LoadEntries is loadentries.lua: live entries Admission lacks are added,
// holding their quota again; stale ones are dropped unless their commit may
// still be in flight.
func (a *Admission) LoadEntries(_ context.Context, s *booking.Session, live []booking.Entry, stale []booking.EntryRef) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hospital(s.HospitalID)
	now := a.now()
	week, month := booking.PeriodKeys(s.VisitDate)
	q := quotaArgs{sid: s.ID, date: s.VisitDate, dept: s.DepartmentID, week: week, month: month}
	for _, e := range live {
		if _, ok := h.entries[e.ID]; ok {
			continue
		}
		h.holdEntry(e.ID, e.IdentityKey, q)
		h.entries[e.ID] = entryRec{nonce: "sql", sid: s.ID, ch: e.Channel, ik: e.IdentityKey, keepUntil: s.EndsAt.Add(48 * time.Hour)}
	}
	for _, r := range stale {
		if d, ok := h.ePending[r.EntryID]; ok && d.After(now) {
			continue
		}
		h.forgetEntry(r.EntryID, r.IdentityKey, false)
	}
	return nil
}

// InsertEntries commits entries with their events and answers each: nil
// (or a replay of the same person and session), ErrAlreadyEntered (a live
// entry of the person in the session), ErrEntryClosed (the pool's draw has
// begun), ErrIdentityUnverified (the name is not the identity's verified
// one).
func (s *Store) InsertEntries(_ context.Context, entries []booking.Entry, events []booking.Event) ([]error, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lottery == nil {
		s.lottery = map[string]booking.Entry{}
	}
	errs := make([]error, len(entries))
	for i, e := range entries {
		if prev, ok := s.lottery[e.ID]; ok {
			if prev.IdentityID != e.IdentityID || prev.SessionID != e.SessionID {
				errs[i] = booking.ErrIdempotencyReuse
			}
			continue
		}
		errs[i] = s.enterable(e)
		if errs[i] == nil {
			s.lottery[e.ID] = e
			s.events = append(s.events, events[i])
			if a, staff := booking.StaffEntryAudit(e); staff {
				s.audit = append(s.audit, a)
			}
		}
	}
	return errs, nil
}

func (s *Store) enterable(e booking.Entry) error {
	for _, o := range s.lottery {
		if o.SessionID == e.SessionID && o.IdentityID == e.IdentityID && liveEntry(o) {
			return booking.ErrAlreadyEntered
		}
	}
	for _, x := range s.schedule.Sessions {
		if x.ID != e.SessionID {
			continue
		}
		if q, ok := x.Channel(e.Channel); ok && q.Draw != nil && q.Draw.Status != booking.DrawOpen {
			return booking.ErrEntryClosed
		}
	}
	if who, ok := s.identities[e.IdentityID]; ok && who.NameVerified && e.NameHash != "" && e.NameHash != string(who.NameHash) {
		return booking.ErrIdentityUnverified
	}
	return nil
}

// liveEntry: an entry that holds its quota (entered or held out).
func liveEntry(e booking.Entry) bool {
	return e.Status == booking.EntryEntered || e.Status == booking.EntryHeldOut
}

// Entry reads an entry with its person's masked identity.
func (s *Store) Entry(_ context.Context, id string) (booking.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.lottery[id]
	if !ok {
		return booking.Entry{}, booking.ErrEntryNotFound
	}
	return s.masked(e), nil
}

func (s *Store) masked(e booking.Entry) booking.Entry {
	if who, ok := s.identities[e.IdentityID]; ok {
		e.NumberMasked, e.NameMasked = who.NumberMasked, who.NameMasked
	}
	return e
}

// EntriesOfAccount lists an account's entries, newest first.
func (s *Store) EntriesOfAccount(_ context.Context, accountID string) ([]booking.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []booking.Entry
	for _, e := range s.lottery {
		if e.AccountID == accountID {
			out = append(out, s.masked(e))
		}
	}
	slices.SortFunc(out, func(a, b booking.Entry) int { return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// WithdrawEntry moves an entered entry to withdrawn, with its event (and
// audit entry), while its pool's draw has not begun; else ErrEntryClosed.
func (s *Store) WithdrawEntry(_ context.Context, id string, at time.Time, ev booking.Event, audit *booking.AuditEntry) (booking.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.lottery[id]
	switch {
	case !ok:
		return booking.Entry{}, booking.ErrEntryNotFound
	case e.Status != booking.EntryEntered:
		return booking.Entry{}, booking.ErrEntryClosed
	}
	e.Status, e.UpdatedAt = booking.EntryWithdrawn, at
	s.lottery[id] = e
	s.events = append(s.events, ev)
	if audit != nil {
		s.audit = append(s.audit, *audit)
	}
	return s.masked(e), nil
}

// EntryStatuses answers the statuses of the entries that exist.
func (s *Store) EntryStatuses(_ context.Context, ids []string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for _, id := range ids {
		if e, ok := s.lottery[id]; ok {
			out[id] = e.Status
		}
	}
	return out, nil
}

// LiveEntries lists the entered and held-out entries of a hospital's
// sessions from a visit date on.
func (s *Store) LiveEntries(_ context.Context, hospitalID, fromDate string) ([]booking.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dates := map[string]string{}
	for _, x := range s.schedule.Sessions {
		dates[x.ID] = x.VisitDate
	}
	var out []booking.Entry
	for _, e := range s.lottery {
		if e.HospitalID == hospitalID && liveEntry(e) && dates[e.SessionID] >= fromDate {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b booking.Entry) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}
