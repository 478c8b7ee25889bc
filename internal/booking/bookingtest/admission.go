package bookingtest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"fairslot/internal/booking"
)

// Admission is an in-memory booking.Admission with the semantics of
// internal/admission's scripts for what it implements: holds (HoldGate),
// returned slots (SlotReturns), waitlists (WaitQueue), bars (BarGate),
// free counts, the reconciliation's reads and Load, closing a session
// (desk.go) and lottery entries (lottery.go). A lottery's draw and moving
// free slots panic (package doc).
type Admission struct {
	unimplementedAdmission

	now func() time.Time

	mu        sync.Mutex
	hospitals map[string]*hospital
	reserves  int
	enters    int
	closed    map[string]bool // session id → closed by Close until Reopen (desk.go)
}

// The ports Admission implements in full; the composite is for NewService.
var (
	_ booking.Admission   = (*Admission)(nil)
	_ booking.HoldGate    = (*Admission)(nil)
	_ booking.SlotReturns = (*Admission)(nil)
	_ booking.WaitQueue   = (*Admission)(nil)
	_ booking.BarGate     = (*Admission)(nil)
)

// hospital is one hospital's keyspace.
type hospital struct {
	sessions map[string]*session
	records  map[string]record                        // booking id → its record
	idents   map[string]map[string]identHold          // identity key → booking id → hold
	pending  map[string]time.Time                     // booking id → pending deadline
	bars     map[string]time.Time                     // identity key → barred until
	delayed  map[booking.DelayedSlot]time.Time        // returned slot → due
	waits    map[string][]booking.WaitlistRef         // session id → waitlist, in order
	free     map[string]map[booking.Channel][]int     // session id → channel → free slots, ascending
	held     map[string]map[int]string                // session id → slot → booking id
	release  map[string]map[booking.Channel]time.Time // session id → channel → release time
	// Lottery pools (lottery.go): their windows, entries and pending ones.
	lots     map[string]map[booking.Channel]*lotMeta // session id → channel → window
	entries  map[string]entryRec                     // entry id → record
	ePending map[string]time.Time                    // entry id → pending deadline
}

// session is a session's meta: the adapter's meta hash exists once Load ran.
type session struct{ date, dept string }

// record is a booking id's record ("nonce|session|slot|channel|identity").
type record struct {
	nonce, sid string
	slot       int
	channel    booking.Channel
	ik         string
	keepUntil  time.Time
}

// identHold is an identity's hold ("date|dept|week|month|session|slot").
type identHold struct {
	date, dept, week, month, sid string
	entry                        bool // a lottery entry's hold (slot 'E')
}

// NewAdmission returns an empty Admission whose clock is now (Redis's TIME
// in the adapter; pass the Service's clock).
func NewAdmission(now func() time.Time) *Admission {
	return &Admission{now: now, hospitals: map[string]*hospital{}}
}

func (a *Admission) hospital(id string) *hospital {
	h, ok := a.hospitals[id]
	if !ok {
		h = &hospital{sessions: map[string]*session{}, records: map[string]record{}, idents: map[string]map[string]identHold{},
			pending: map[string]time.Time{}, bars: map[string]time.Time{}, delayed: map[booking.DelayedSlot]time.Time{},
			waits: map[string][]booking.WaitlistRef{}, free: map[string]map[booking.Channel][]int{},
			held: map[string]map[int]string{}, release: map[string]map[booking.Channel]time.Time{},
			lots: map[string]map[booking.Channel]*lotMeta{}, entries: map[string]entryRec{}, ePending: map[string]time.Time{}}
		a.hospitals[id] = h
	}
	return h
}

// Reserves counts the Reserve calls that reached Admission (the fast reject
// path answers some from memory).
func (a *Admission) Reserves() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reserves
}

// Enters counts the Enter calls that reached Admission (the entry memo
// answers some repeats from memory).
func (a *Admission) Enters() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.enters
}

// Ping answers: memory is always there.
func (a *Admission) Ping(context.Context) error { return nil }

// States answers that every hospital's state is whole.
func (a *Admission) States(_ context.Context, ids []string) ([]booking.StateStatus, error) {
	return make([]booking.StateStatus, len(ids)), nil // StateWhole is 0
}

// Reserve checks, in reserve.lua's order: a replay of a known booking id,
// the session and its channel, the release time, a bar, the quotas, and a
// free slot (the lowest); then it holds the slot for the booking.
func (a *Admission) Reserve(_ context.Context, r booking.Reservation) (int, bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reserves++
	if r.Draw {
		panic(unimplemented("Admission.Reserve of a lottery draw"))
	}
	h := a.hospital(r.HospitalID)
	now := a.now()
	if rec, ok := h.records[r.BookingID]; ok && rec.keepUntil.After(now) {
		return rec.slot, rec.nonce != r.Nonce, nil
	}
	rel, ok := h.release[r.SessionID][r.Channel]
	if !ok {
		if _, exists := h.sessions[r.SessionID]; !exists {
			return 0, false, booking.ErrSessionNotFound
		}
		return 0, false, booking.ErrChannelClosed
	}
	if now.Before(rel) {
		return 0, false, booking.ErrNotReleased
	}
	if m := h.lots[r.SessionID][r.Channel]; m != nil && !m.drawn {
		return 0, false, booking.ErrNotReleased // lottery_pending: first-come once drawn
	}
	if !r.KeepUntil.After(now) {
		return 0, false, fmt.Errorf("reserve: KeepUntil is not in the future")
	}
	q := quotaArgs{sid: r.SessionID, date: r.VisitDate, dept: r.DepartmentID, week: r.Week, month: r.Month, today: r.Today, policy: r.Policy}
	if err := h.refusal(r.IdentityKey, now, q); err != nil {
		return 0, false, err
	}
	free := h.free[r.SessionID][r.Channel]
	if len(free) == 0 {
		if len(h.pending) > 0 {
			return 0, false, fmt.Errorf("%w: %w", booking.ErrSoldOut, booking.ErrCommitsPending)
		}
		return 0, false, booking.ErrSoldOut
	}
	slot := free[0]
	h.free[r.SessionID][r.Channel] = free[1:]
	h.assign(r.BookingID, r.Nonce, r.IdentityKey, r.Channel, slot, now.Add(r.HoldFor), r.KeepUntil, q)
	return slot, false, nil
}

// SoldOut is soldout.lua: the channel released (a lottery drawn) and its
// pool empty.
func (a *Admission) SoldOut(_ context.Context, s *booking.Session, ch booking.Channel) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hospital(s.HospitalID)
	rel, ok := h.release[s.ID][ch]
	if !ok || a.now().Before(rel) {
		return false, nil
	}
	if m := h.lots[s.ID][ch]; m != nil && !m.drawn {
		return false, nil
	}
	return len(h.free[s.ID][ch]) == 0, nil
}

// quotaArgs is common.lua's session_args.
type quotaArgs struct {
	sid, date, dept, week, month, today string
	policy                              booking.Policy
}

// quotaOf is the session_args a placing of session sid passes.
func quotaOf(sid string, p booking.Placing) quotaArgs {
	return quotaArgs{sid: sid, date: p.VisitDate, dept: p.DepartmentID, week: p.Week, month: p.Month, today: p.Today, policy: p.Policy}
}

// refusal is common.lua's: the bar, then the identity's holds of today on
// (one per session, one per day and department, then per day, week and
// month under the policy).
func (h *hospital) refusal(ik string, now time.Time, q quotaArgs) error {
	if until, ok := h.bars[ik]; ok && until.After(now) {
		return booking.Errorf(booking.ErrPatientBarred, "this patient may not book until %s", until.Format(time.RFC3339))
	}
	day, week, month := 0, 0, 0
	for _, hd := range h.idents[ik] {
		if hd.date < q.today {
			continue // a past day's hold does not count
		}
		if hd.sid == q.sid {
			if hd.entry {
				return booking.ErrAlreadyEntered // common.lua: the hold is an entry's (slot 'E')
			}
			return booking.ErrAlreadyBooked
		}
		if hd.date == q.date {
			if hd.dept == q.dept {
				return booking.ErrQuotaDayDept
			}
			day++
		}
		if hd.week == q.week {
			week++
		}
		if hd.month == q.month {
			month++
		}
	}
	switch {
	case day >= q.policy.PerDay:
		return booking.ErrQuotaDay
	case week >= q.policy.PerWeek:
		return booking.ErrQuotaWeek
	case month >= q.policy.PerMonth:
		return booking.ErrQuotaMonth
	}
	return nil
}

// assign is common.lua's: the slot held for the booking, the identity's
// hold, the record, the pending deadline.
func (h *hospital) assign(bid, nonce, ik string, ch booking.Channel, slot int, pendingUntil, keepUntil time.Time, q quotaArgs) {
	if h.held[q.sid] == nil {
		h.held[q.sid] = map[int]string{}
	}
	h.held[q.sid][slot] = bid
	if h.idents[ik] == nil {
		h.idents[ik] = map[string]identHold{}
	}
	h.idents[ik][bid] = identHold{date: q.date, dept: q.dept, week: q.week, month: q.month, sid: q.sid}
	h.records[bid] = record{nonce: nonce, sid: q.sid, slot: slot, channel: ch, ik: ik, keepUntil: keepUntil}
	h.pending[bid] = pendingUntil
}

// Confirm takes holds off the pending list.
func (a *Admission) Confirm(_ context.Context, hospitalID string, ids ...string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hospital(hospitalID)
	for _, id := range ids {
		delete(h.pending, id)
	}
	return nil
}

// Pend is pend.lua.
func (a *Admission) Pend(_ context.Context, hospitalID, bid string, pendFor time.Duration) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hospital(hospitalID)
	if _, ok := h.records[bid]; !ok {
		return nil
	}
	if until := a.now().Add(pendFor); !h.pending[bid].After(until) {
		h.pending[bid] = until
	}
	return nil
}

// Release is release.lua's drop and pool routes.
func (a *Admission) Release(_ context.Context, hd booking.Hold, how booking.Release) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hospital(hd.HospitalID)
	now := a.now()
	if how.OnlyIfExpired {
		if d, ok := h.pending[hd.BookingID]; ok && d.After(now) {
			return booking.ErrHoldPending
		}
	}
	if h.unhold(hd, how.Forget) && how.ReturnSlot {
		h.addFree(hd.SessionID, hd.Channel, hd.SlotNo)
	}
	return nil
}

// unhold drops a booking's hold; it reports whether the booking held the
// slot.
func (h *hospital) unhold(hd booking.Hold, forget bool) bool {
	delete(h.idents[hd.IdentityKey], hd.BookingID)
	delete(h.pending, hd.BookingID)
	if forget {
		delete(h.records, hd.BookingID)
	}
	if h.held[hd.SessionID][hd.SlotNo] != hd.BookingID {
		return false
	}
	delete(h.held[hd.SessionID], hd.SlotNo)
	return true
}

func (h *hospital) addFree(sid string, ch booking.Channel, slot int) {
	if h.free[sid] == nil {
		h.free[sid] = map[booking.Channel][]int{}
	}
	free := h.free[sid][ch]
	if !slices.Contains(free, slot) {
		free = append(free, slot)
		slices.Sort(free)
	}
	h.free[sid][ch] = free
}

// Return is release.lua's returned and reissue routes: the slot goes to
// the first eligible identity among the head of the waitlist (those passed
// over leave it), else to its pool after r.Delay, or for a reissue to r.To
// at once.
func (a *Admission) Return(_ context.Context, hd booking.Hold, r booking.Return) (booking.Placement, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hospital(hd.HospitalID)
	if !h.unhold(hd, false) {
		return booking.Placement{Outcome: booking.PlacedNone}, nil
	}
	now := a.now()
	return h.place(hd.SessionID, hd.SlotNo, hd.Channel, r.Placing, now, func() string {
		if r.Reissue {
			h.addFree(hd.SessionID, r.To, hd.SlotNo)
			return booking.PlacedPool
		}
		h.delayed[booking.DelayedSlot{HospitalID: hd.HospitalID, SessionID: hd.SessionID, SlotNo: hd.SlotNo, Channel: hd.Channel}] = now.Add(r.Delay)
		return booking.PlacedDelayed
	}), nil
}

// candidateCount and maxPassSteps are the adapter's: a placing looks at 20
// waitlist entries a step, and reads on past entries nobody may be served
// from for at most 64 steps.
const (
	candidateCount = 20
	maxPassSteps   = 64
)

// place is common.lua's, with the adapter's steps (handOut, pass_by) in
// one: the first eligible of the first 1,280 entries is served, those in
// front of it passed by; with none eligible, they are all passed by.
func (h *hospital) place(sid string, slot int, ch booking.Channel, p booking.Placing, now time.Time, fallback func() string) booking.Placement {
	q := quotaOf(sid, p)
	cands := h.waits[sid][:min(candidateCount*maxPassSteps, len(h.waits[sid]))]
	chosen := -1
	for i, c := range cands {
		if h.refusal(c.IdentityKey, now, q) == nil {
			chosen = i
			break
		}
	}
	popped := chosen + 1
	if chosen < 0 {
		popped = len(cands)
	}
	var skipped []string
	for i := range popped {
		if i != chosen {
			skipped = append(skipped, cands[i].ID)
		}
	}
	h.waits[sid] = h.waits[sid][popped:]
	if chosen >= 0 {
		c := cands[chosen]
		h.assign(c.ID, "wait", c.IdentityKey, ch, slot, now.Add(p.HoldFor), p.KeepUntil, q)
		return booking.Placement{Outcome: booking.PlacedWaitlist, Served: c.ID, Skipped: skipped}
	}
	return booking.Placement{Outcome: fallback(), Skipped: skipped}
}

// Delayed lists returned slots whose delay is over at now, soonest first.
func (a *Admission) Delayed(_ context.Context, hospitalID string, now time.Time, limit int) ([]booking.DelayedSlot, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hospital(hospitalID)
	var out []booking.DelayedSlot
	for d, due := range h.delayed {
		if !due.After(now) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(x, y booking.DelayedSlot) int {
		return cmp.Or(h.delayed[x].Compare(h.delayed[y]), cmp.Compare(x.SessionID, y.SessionID), cmp.Compare(x.SlotNo, y.SlotNo))
	})
	return out[:min(limit, len(out))], nil
}

// Place is place.lua's: a delayed slot (due, with PlaceIfDue) goes to the
// waitlist first, else to the to pool; with PlaceReturned it keeps waiting
// out its delay instead (rounds are not modelled).
func (a *Admission) Place(_ context.Context, d booking.DelayedSlot, p booking.Placing, to booking.Channel, when booking.PlaceWhen) (booking.Placement, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hospital(d.HospitalID)
	now := a.now()
	due, ok := h.delayed[d]
	if !ok {
		return booking.Placement{Outcome: booking.PlacedGone}, nil
	}
	if when == booking.PlaceIfDue && due.After(now) {
		return booking.Placement{Outcome: booking.PlacedNotDue}, nil
	}
	delete(h.delayed, d)
	return h.place(d.SessionID, d.SlotNo, d.Channel, p, now, func() string {
		if when == booking.PlaceReturned {
			h.delayed[d] = due
			return booking.PlacedDelayed
		}
		h.addFree(d.SessionID, to, d.SlotNo)
		return booking.PlacedPool
	}), nil
}

// Redelay is redelay.lua's: each slot free in its pool waits delay() again.
func (a *Admission) Redelay(_ context.Context, slots []booking.DelayedSlot, delay func() time.Duration) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, d := range slots {
		h := a.hospital(d.HospitalID)
		free := h.free[d.SessionID][d.Channel]
		i := slices.Index(free, d.SlotNo)
		if i < 0 {
			continue
		}
		h.free[d.SessionID][d.Channel] = slices.Delete(free, i, i+1)
		if _, waiting := h.delayed[d]; !waiting {
			h.delayed[d] = a.now().Add(delay())
		}
		n++
	}
	return n, nil
}

// JoinWaitlist appends an entry (unless it is there) and returns its
// 1-based position. Rounds are not modelled (the adapter's waitlist.lua
// and place.lua are; run the domain with Config.ReturnRound < 0 over this
// fake): every entry is in line at once.
func (a *Admission) JoinWaitlist(_ context.Context, hospitalID, sessionID string, e booking.WaitlistRef, _ time.Time) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hospital(hospitalID).sync(sessionID, nil, []booking.WaitlistRef{e}), nil
}

// Refusal is turn.lua's: the refusal place would skip the identity for.
func (a *Admission) Refusal(_ context.Context, hospitalID, sessionID, identityKey string, p booking.Placing) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hospital(hospitalID).refusal(identityKey, a.now(), quotaOf(sessionID, p))
}

// LeaveWaitlist removes an entry.
func (a *Admission) LeaveWaitlist(_ context.Context, hospitalID, sessionID string, e booking.WaitlistRef, _ time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hospital(hospitalID).sync(sessionID, []booking.WaitlistRef{e}, nil)
	return nil
}

// WaitRound knows no round (rounds are not modelled).
func (a *Admission) WaitRound(context.Context, string, string) (time.Time, error) {
	return time.Time{}, nil
}

// Waitlist lists a session's waitlist in order.
func (a *Admission) Waitlist(_ context.Context, hospitalID, sessionID string) ([]booking.WaitlistRef, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.hospital(hospitalID).waits[sessionID]), nil
}

// SyncWaitlist is waitlist.lua: drop, then append what is missing.
func (a *Admission) SyncWaitlist(_ context.Context, hospitalID, sessionID string, drop, add []booking.WaitlistRef, _ time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hospital(hospitalID).sync(sessionID, drop, add)
	return nil
}

// sync returns the position of the last entry added (0 if none).
func (h *hospital) sync(sid string, drop, add []booking.WaitlistRef) int {
	index := func(w []booking.WaitlistRef, id string) int {
		return slices.IndexFunc(w, func(r booking.WaitlistRef) bool { return r.ID == id })
	}
	w := slices.DeleteFunc(h.waits[sid], func(r booking.WaitlistRef) bool { return index(drop, r.ID) >= 0 })
	pos := 0
	for _, r := range add {
		at := index(w, r.ID)
		if at < 0 {
			w = append(w, r)
			at = len(w) - 1
		}
		pos = at + 1
	}
	h.waits[sid] = w
	return pos
}

// Bar bars an identity until a time in each hospital.
func (a *Admission) Bar(_ context.Context, hospitalIDs []string, identityKey string, until time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, id := range hospitalIDs {
		a.hospital(id).bars[identityKey] = until
	}
	return nil
}

// Remaining counts each session's free slots per channel.
func (a *Admission) Remaining(_ context.Context, sessions []*booking.Session) ([]map[booking.Channel]int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]map[booking.Channel]int, len(sessions))
	for i, s := range sessions {
		out[i] = map[booking.Channel]int{}
		for _, q := range s.Channels {
			out[i][q.Channel] = len(a.hospital(s.HospitalID).free[s.ID][q.Channel])
		}
	}
	return out, nil
}

// HeldForWaitlist holds nothing: rounds are not modelled.
func (a *Admission) HeldForWaitlist(_ context.Context, sessions []*booking.Session) ([]booking.WaitlistHold, error) {
	return make([]booking.WaitlistHold, len(sessions)), nil
}

// Holds lists the holds of the given sessions, with their pending
// deadlines.
func (a *Admission) Holds(_ context.Context, hospitalID string, sessionIDs []string) ([]booking.Hold, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hospital(hospitalID)
	var out []booking.Hold
	for _, sid := range sessionIDs {
		for _, bid := range h.held[sid] {
			if hd, ok := h.hold(hospitalID, bid); ok {
				out = append(out, hd)
			}
		}
	}
	slices.SortFunc(out, func(x, y booking.Hold) int {
		return cmp.Or(cmp.Compare(x.SessionID, y.SessionID), cmp.Compare(x.SlotNo, y.SlotNo))
	})
	return out, nil
}

func (h *hospital) hold(hospitalID, bid string) (booking.Hold, bool) {
	rec, ok := h.records[bid]
	if !ok {
		return booking.Hold{}, false
	}
	return booking.Hold{HospitalID: hospitalID, SessionID: rec.sid, BookingID: bid, SlotNo: rec.slot, Channel: rec.channel,
		IdentityKey: rec.ik, PendingUntil: h.pending[bid]}, true
}

// Expired lists holds whose pending deadline passed before now.
func (a *Admission) Expired(_ context.Context, hospitalID string, now time.Time, limit int) ([]booking.Hold, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hospital(hospitalID)
	var out []booking.Hold
	for bid, d := range h.pending {
		if !d.After(now) {
			if hd, ok := h.hold(hospitalID, bid); ok {
				out = append(out, hd)
			}
		}
	}
	slices.SortFunc(out, func(x, y booking.Hold) int { return x.PendingUntil.Compare(y.PendingUntil) })
	return out[:min(limit, len(out))], nil
}

// Load is load.lua: the session's meta and release times from s, stale
// holds released (unless still pending), SQL's active bookings held, and
// every other slot free unless it waits out a delay. A stopped session is
// closed: no release time, no free slot.
func (a *Admission) Load(_ context.Context, s *booking.Session, active []booking.Booking, stale []booking.StaleHold) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hospital(s.HospitalID)
	now := a.now()
	h.sessions[s.ID] = &session{date: s.VisitDate, dept: s.DepartmentID}
	h.release[s.ID] = map[booking.Channel]time.Time{}
	shut := s.Stopped() || a.closed[s.ID]
	if !shut {
		for _, q := range s.Channels {
			h.release[s.ID][q.Channel] = q.ReleaseAt
		}
		h.loadLots(s)
	}
	for _, st := range stale {
		if d, ok := h.pending[st.BookingID]; ok && d.After(now) && !st.Cancelled {
			continue
		}
		h.unhold(st.Hold, st.Forget)
	}
	week, month := booking.PeriodKeys(s.VisitDate)
	q := quotaArgs{sid: s.ID, date: s.VisitDate, dept: s.DepartmentID, week: week, month: month}
	for _, b := range active {
		if h.held[s.ID] == nil {
			h.held[s.ID] = map[int]string{}
		}
		h.held[s.ID][b.SlotNo] = b.ID
		if h.idents[b.IdentityKey] == nil {
			h.idents[b.IdentityKey] = map[string]identHold{}
		}
		h.idents[b.IdentityKey][b.ID] = identHold{date: q.date, dept: q.dept, week: q.week, month: q.month, sid: s.ID}
		if _, ok := h.records[b.ID]; !ok {
			h.records[b.ID] = record{nonce: "sql", sid: s.ID, slot: b.SlotNo, channel: b.Channel, ik: b.IdentityKey, keepUntil: s.EndsAt.Add(48 * time.Hour)}
		}
		if d, ok := h.pending[b.ID]; ok && !d.After(now) {
			delete(h.pending, b.ID) // a deadline not passed stays (load.lua)
		}
	}
	h.free[s.ID] = map[booking.Channel][]int{}
	for _, q := range s.Channels {
		var free []int
		for _, sl := range s.Slots {
			if sl.Channel != q.Channel {
				continue
			}
			d := booking.DelayedSlot{HospitalID: s.HospitalID, SessionID: s.ID, SlotNo: sl.No, Channel: q.Channel}
			_, held := h.held[s.ID][sl.No]
			_, waiting := h.delayed[d]
			switch {
			case shut || held:
				delete(h.delayed, d)
			case !waiting:
				free = append(free, sl.No)
			}
		}
		h.free[s.ID][q.Channel] = free
	}
	return nil
}

// Dump describes the hospital's state for a failing test's message.
func (a *Admission) Dump(hospitalID string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hospital(hospitalID)
	var b strings.Builder
	for sid, pools := range h.free {
		for ch, free := range pools {
			fmt.Fprintf(&b, "session %s %s free %v; ", sid, ch, free)
		}
		fmt.Fprintf(&b, "held %v; waitlist %v; ", h.held[sid], h.waits[sid])
	}
	fmt.Fprintf(&b, "bars %d; delayed %d", len(h.bars), len(h.delayed))
	return b.String()
}
