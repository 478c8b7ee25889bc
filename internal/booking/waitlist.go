package booking

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// The waitlist (候补) and returned slots.
//
// A slot its holder gives back (a cancellation, a desk reissue, a booking
// cancelled by a confirmed scalper flag) never goes straight back to the open
// market: Admission hands it, atomically, to the first eligible identity on
// the session's waitlist; with no one eligible, a cancelled slot waits out a
// random delay before it rejoins its pool (so a hand-off between a scalper
// and a buyer, or a bot watching for returns, cannot time it), and a
// reissued slot goes to the on-site pool at once. An identity on the
// waitlist that was given a slot holds it like any admitted booking; its
// booking is then committed in SQL (id = the entry's id) and confirmed.

// JoinWaitlistRequest puts a patient on a sold-out session's waitlist.
type JoinWaitlistRequest struct {
	SessionID      string
	PatientID      string
	IdempotencyKey string // a repeat with the same key returns the first entry
	Origin         Origin
	// Consent: the person's own, confirmed by the holder, for a child
	// listed before 14 who is 14 now (Service.ownConsent).
	Consent ConsentRequest
}

// JoinWaitlist puts one of the actor's patients on the waitlist of a
// session once a pool remote people book from is sold out (waitlistOpen).
func (s *Service) JoinWaitlist(ctx context.Context, actor Actor, req JoinWaitlistRequest) (WaitlistEntry, error) {
	if actor.Role != RolePatient {
		return WaitlistEntry{}, Errorf(ErrForbidden, "patients join waitlists for the people on their list")
	}
	if err := s.closingRefused(actor.AccountID); err != nil {
		return WaitlistEntry{}, err
	}
	sess, h, err := s.bookableSession(req.SessionID, ChannelOnline)
	if err != nil {
		return WaitlistEntry{}, err
	}
	if err := s.stateWhole(sess.HospitalID); err != nil {
		return WaitlistEntry{}, err // Redis's free counts are not to be trusted
	}
	if q, ok := sess.Channel(ChannelOnline); ok && q.TakesEntries(s.cfg.Now()) {
		// Enter the draw instead, asking for the waitlist if not drawn.
		return WaitlistEntry{}, Errorf(ErrLotteryOnly, "this session's online slots are drawn by lottery: enter the draw, and ask for the waitlist if not drawn")
	}
	if err := drawPending(sess, s.cfg.Now()); err != nil {
		return WaitlistEntry{}, err
	}
	p, err := s.patientOf(ctx, actor, req.PatientID)
	if err != nil {
		return WaitlistEntry{}, err
	}
	if err := s.ownConsent(ctx, actor, p, req.Consent); err != nil {
		return WaitlistEntry{}, err
	}
	id := newID()
	if req.IdempotencyKey != "" {
		id = s.idempotentID(actor.AccountID, "waitlist\x00"+req.IdempotencyKey)
		if prev, err := s.store.WaitlistEntry(ctx, id); err == nil {
			if prev.SessionID != sess.ID || prev.PatientID != p.ID {
				return WaitlistEntry{}, ErrIdempotencyReuse
			}
			return s.honest(prev), nil // the first answer
		}
	}
	if err := unreleased(h, sess, ChannelOnline, s.cfg.Now()); err != nil {
		return WaitlistEntry{}, err
	}
	rem, err := s.adm.Remaining(ctx, []*Session{sess})
	if err != nil {
		return WaitlistEntry{}, err
	}
	if !waitlistOpen(sess, rem[0]) {
		return WaitlistEntry{}, ErrSlotsAvailable
	}
	now := s.cfg.Now().Truncate(time.Microsecond)
	e := WaitlistEntry{ID: id, SessionID: sess.ID, HospitalID: sess.HospitalID, PatientID: p.ID,
		IdentityID: p.IdentityID, IdentityKey: p.IdentityKey, AccountID: actor.AccountID, CreatedAt: now}
	// The event names its place where a booking's names its booking (the
	// id the booking will have): the person's notice leads to its card.
	ev := req.Origin.stamp(Event{ID: newID(), TS: now, Type: EventWaitlisted, AccountID: actor.AccountID, IdentityID: p.IdentityID,
		PatientID: p.ID, BookingID: id, SessionID: sess.ID, HospitalID: sess.HospitalID, DepartmentID: sess.DepartmentID,
		DoctorID: sess.DoctorID, Channel: ChannelOnline})
	// Up front, what the hand-out would pass the person by for: a join it
	// would skip is refused as a booking is.
	err = s.adm.Refusal(ctx, sess.HospitalID, sess.ID, p.IdentityKey, s.placing(sess))
	if err == nil {
		var got WaitlistEntry
		if got, err = s.addWaitlist(ctx, e, ev, s.store.AddWaitlist); err == nil {
			return got, nil
		}
	}
	// What the person already holds refuses the place (already_booked,
	// already_waitlisted, a quota): a refused attempt like a booking's,
	// recorded with whose item was in the way when it was another account's.
	refused := func(err error) (WaitlistEntry, error) {
		err = s.explainBar(ctx, sess.HospitalID, p.IdentityID, err)
		s.noteRefusal(actor, sess.ID, p.ID, p.IdentityID, "", ChannelOnline, req.Origin, err)
		return WaitlistEntry{}, err
	}
	if err = s.explainRefusal(ctx, actor, sess, p, err); !errors.Is(err, ErrBookedElsewhere) {
		return refused(err)
	}
	// What rules the join out is not shown to be this account's: the join
	// is taken as if nothing were in the way, a real place beside what
	// others made, so that joining tells nothing of it (leaving and joining
	// again are free, unlike a booking). A returned slot passes the place
	// by while the person holds the session or is over a quota, and the
	// person's verified self sees and leaves it (docs/security.md).
	e, err = s.addWaitlist(ctx, e, ev, s.store.AddWaitlistBeside)
	if errors.Is(err, ErrAlreadyWaitlisted) {
		return refused(ErrBookedElsewhere) // its own place, not shown to be (past the budget)
	}
	return e, err
}

// waitlistOpen says whether a session's waitlist takes places: once any
// pool remote people book from (online, phone) is sold out, whichever
// channel the joiner books from. The waitlist is the session's, one line,
// and every returned slot goes to it whatever its channel; a line only one
// channel could join gave that channel's returned slots to it alone — an
// operator who waitlisted a buyer once the phone pool was sold out and then
// cancelled a placeholder "for its caller" handed the slot to the buyer,
// alone in the round, at a moment of the operator's choosing, while a
// patient who wanted the session was refused slots_available because the
// online pool had slots (review23 H2). A joiner whose own pool still has
// slots may book one instead; the place is there for whoever wants the
// draw of a returned slot.
func waitlistOpen(sess *Session, rem map[Channel]int) bool {
	for _, c := range []Channel{ChannelOnline, ChannelPhone} {
		if q, ok := sess.Channel(c); ok && q.Quota > 0 && rem[c] <= 0 {
			return true
		}
	}
	return false
}

// drawPending refuses a waitlist join while a lottery pool of the session
// is being drawn: its draw time has come and the draw is not done. The draw
// books its winners first, then puts the losers who asked on the waitlist,
// one by one in drawn order; a join in between (a bot polling from the draw
// time finds the slots gone) would go in front of them all and take the
// first returned slot (review11). The catalog says drawn only once every
// loser is on the list, and a stale catalog only refuses longer.
func drawPending(sess *Session, now time.Time) error {
	for _, q := range sess.Channels {
		if q.IsLottery() && !now.Before(q.DrawAt) && (q.Draw == nil || q.Draw.Status != DrawDrawn) {
			return Errorf(ErrLotteryOnly, "this session's %s slots are being drawn by lottery, and those not drawn who asked join the waitlist first, in drawn order: join once the draw is done", q.Channel)
		}
	}
	return nil
}

// addWaitlist stores an entry with its event (add: the store's AddWaitlist
// or AddWaitlistBeside), then appends it to the session's waitlist in Redis. SQL holds the entry first; if Redis misses
// it, reconciliation appends it.
//
// With rounds (Config.ReturnRound), the entry joins the session's open
// round, or the next one: rounds follow each other from the end of the
// latest (Admission keeps it; a returned slot that finds nobody waiting
// starts a new one), so every join in a round is equal, and its random key,
// stored with it, orders it within the round when the round ends.
func (s *Service) addWaitlist(ctx context.Context, e WaitlistEntry, ev Event,
	add func(context.Context, WaitlistEntry, Event) (WaitlistEntry, error)) (WaitlistEntry, error) {
	if r := s.cfg.ReturnRound; r > 0 {
		last, err := s.adm.WaitRound(ctx, e.HospitalID, e.SessionID)
		if err != nil {
			return WaitlistEntry{}, err
		}
		e.RoundEndsAt, e.Key = roundEnd(last, e.CreatedAt, r), randomKey()
	}
	e, err := add(ctx, e, ev)
	if err != nil {
		return WaitlistEntry{}, err
	}
	bg, done := s.followUp(ctx)
	defer done()
	if _, err := s.adm.JoinWaitlist(bg, e.HospitalID, e.SessionID, e.Ref(), s.cfg.Now()); err != nil {
		s.log.Warn("join waitlist in redis; the session will be reconciled", "waitlist_id", e.ID, "err", err)
		s.reconcileLater(e.SessionID)
	}
	return s.honest(e), nil
}

// roundEnd is the end of the round a join at now belongs to: the latest
// round while it is open, else the first of the rounds that follow it
// (each r long) to end after now; with none known, a round from now.
// Milliseconds, as Admission keeps them.
func roundEnd(last, now time.Time, r time.Duration) time.Time {
	switch {
	case last.IsZero():
		return now.Add(r).Truncate(time.Millisecond)
	case last.After(now):
		return last
	}
	return last.Add((now.Sub(last)/r + 1) * r)
}

// randomKey orders a join within its round: 53 random bits (crypto/rand),
// so it is exact as a float and as a BIGINT, and nobody can choose it.
func randomKey() uint64 {
	var b [8]byte
	_, _ = cryptorand.Read(b[:]) // never fails (crypto/rand)
	return binary.BigEndian.Uint64(b[:]) >> 11
}

// honest hides a place that is not known yet: while the entry's round is
// open a later join may be drawn ahead of it, so only those ahead in earlier
// rounds, the round's joins so far and its end are told.
func (s *Service) honest(e WaitlistEntry) WaitlistEntry {
	if e.RoundOpen(s.cfg.Now()) {
		e.Position = 0
	} else {
		e.Ahead, e.InRound = 0, 0
	}
	return e
}

// Waitlist lists the actor's waitlist entries, newest first.
func (s *Service) Waitlist(ctx context.Context, actor Actor) ([]WaitlistEntry, error) {
	return s.WaitlistPage(ctx, actor, Page{})
}

// WaitlistPage is a page of the actor's waitlist entries, newest first:
// after the entry p.After (one of the actor's, else invalid_cursor),
// p.Limit of them (1 to WaitlistPageSize; 0 for WaitlistPageSize).
func (s *Service) WaitlistPage(ctx context.Context, actor Actor, p Page) ([]WaitlistEntry, error) {
	if err := checkLimit(p, WaitlistPageSize); err != nil {
		return nil, err
	}
	if p.After != "" {
		e, err := s.store.WaitlistEntry(ctx, p.After)
		if !isUUID(p.After) || errors.Is(err, ErrWaitlistNotFound) || errors.Is(err, ErrNotFound) || err == nil && e.AccountID != actor.AccountID {
			return nil, Errorf(ErrInvalidCursor, "after is the waitlist_id of the previous page's last entry")
		}
		if err != nil {
			return nil, err
		}
	}
	es, err := s.store.WaitlistOfAccount(ctx, actor.AccountID, p)
	for i := range es {
		es[i] = s.honest(es[i])
	}
	return es, err
}

// LeaveWaitlist takes the actor's entry off its waitlist; the person's
// verified self, one another account made for them (the maker is told).
func (s *Service) LeaveWaitlist(ctx context.Context, actor Actor, id string, o Origin) error {
	if !isUUID(id) {
		return ErrWaitlistNotFound
	}
	e, err := s.store.WaitlistEntry(ctx, id)
	if err != nil {
		return err
	}
	_, byPerson, err := s.forPerson(ctx, actor, e.AccountID, e.IdentityID)
	if err != nil {
		return err
	}
	pc := o.patientCall // the patient on the line (LeaveWaitlistForCaller), proven
	if e.AccountID != actor.AccountID && !byPerson && pc == nil {
		return ErrWaitlistNotFound
	}
	ev := o.stamp(Event{ID: newID(), TS: s.cfg.Now(), Type: EventCancelled, AccountID: e.AccountID, IdentityID: e.IdentityID,
		PatientID: e.PatientID, SessionID: e.SessionID, HospitalID: e.HospitalID, Reason: "left_waitlist"})
	var audit *AuditEntry
	if byPerson {
		ev.Reason, ev.ByAccountID = reasonLeftByPerson, actor.AccountID
		audit = s.byPersonAudit(actor, "waitlist:"+e.ID, "waitlist place", "left", e.HospitalID)
	}
	if pc != nil {
		// As a booking's cancellation for them (cancel): the operator's
		// act, the person's choice, the number's reference on the event.
		ev.Reason, ev.Phone, ev.StaffID = reasonLeftByPersonOnPhone, pc.phoneRef, actor.AccountID
		audit = &AuditEntry{ID: newID(), TS: s.cfg.Now(), ActorID: actor.AccountID, ActorRole: actor.Role, Action: "waitlist_left",
			Target: "waitlist:" + e.ID, HospitalID: e.HospitalID,
			Reason: fmt.Sprintf(auditByPersonOnPhonePattern, "waitlist place", "taken off the waitlist", pc.caller)}
	}
	ev = o.closedAtDesk(ev)
	if err := s.store.CloseWaitlist(ctx, []string{id}, WaitlistCancelled, s.cfg.Now(), &ev, audit); err != nil {
		return err
	}
	bg, done := s.followUp(ctx)
	defer done()
	if err := s.adm.LeaveWaitlist(bg, e.HospitalID, e.SessionID, e.Ref(), s.cfg.Now()); err != nil {
		s.log.Warn("leave waitlist in redis; the session will be reconciled", "waitlist_id", e.ID, "err", err)
		s.reconcileLater(e.SessionID)
	}
	return nil
}

// returnDelay picks when a returned slot with no one waiting rejoins its
// pool: uniformly at random in the configured range.
func (s *Service) returnDelay() time.Duration {
	lo, hi := s.cfg.ReturnDelayMin, s.cfg.ReturnDelayMax
	if hi <= lo {
		return lo
	}
	return lo + rand.N(hi-lo)
}

// DefaultReturnRound is how long a returned slot nobody waits for is held
// for the waitlist: long enough for a person who opens the app a few times
// an hour to see the session full and join, short enough that the slot is
// still usable (most sessions are booked days ahead).
const DefaultReturnRound = 10 * time.Minute

// placing is what Admission needs to judge waitlisted identities for sess.
func (s *Service) placing(sess *Session) Placing {
	cat := s.catalog.Load()
	h, _ := cat.Hospital(sess.HospitalID)
	now := s.cfg.Now()
	week, month := PeriodKeys(sess.VisitDate)
	p := Placing{VisitDate: sess.VisitDate, DepartmentID: sess.DepartmentID, Week: week, Month: month,
		Today: now.In(chinaStandardTime).Format(time.DateOnly), Policy: DefaultPolicy,
		HoldFor: s.cfg.HoldFor, KeepUntil: s.keepUntil(sess, now), Now: now, Delay: s.returnDelay(),
		Round: max(s.cfg.ReturnRound, 0)}
	if h != nil {
		p.Today, p.Policy = now.In(h.Location()).Format(time.DateOnly), policyAt(h, now)
	}
	return p
}

// returnSlot gives back a booking's slot, carries out where it went and
// says where (none when Redis failed). It
// logs rather than fails: the SQL change it follows is already committed,
// and reconciliation repairs Redis.
func (s *Service) returnSlot(ctx context.Context, sess *Session, b Booking, r Return) Placement {
	r.Placing = s.placing(sess)
	pl, err := s.adm.Return(ctx, HoldOf(b), r)
	if err != nil {
		s.log.Warn("return slot; the session will be reconciled", "booking_id", b.ID, "err", err)
		s.settle(ctx, sess, b.SlotNo, b.Channel, pl) // those passed by have left the line
		s.reconcileLater(sess.ID)
		return Placement{Outcome: PlacedNone}
	}
	s.settle(ctx, sess, b.SlotNo, b.Channel, pl)
	return pl
}

// settle carries out a placement: the skipped entries are closed and the
// entry that got the slot is promoted to a booking.
func (s *Service) settle(ctx context.Context, sess *Session, slotNo int, ch Channel, pl Placement) {
	if len(pl.Skipped) > 0 {
		if err := s.store.CloseWaitlist(ctx, pl.Skipped, WaitlistSkipped, s.cfg.Now(), nil, nil); err != nil &&
			!errors.Is(err, ErrWaitlistNotWaiting) {
			s.log.Warn("close skipped waitlist entries", "err", err)
		}
	}
	if pl.Outcome == PlacedWaitlist {
		s.promote(ctx, sess, Hold{HospitalID: sess.HospitalID, SessionID: sess.ID, BookingID: pl.Served, SlotNo: slotNo, Channel: ch})
	}
}

// promote commits the booking of a waitlist entry that Admission gave a
// slot (the hold h, whose booking id is the entry's id), then confirms it.
// When the commit's outcome is unknown the hold stays pending and the
// sweeper calls promote again.
func (s *Service) promote(ctx context.Context, sess *Session, h Hold) {
	e, err := s.store.WaitlistEntry(ctx, h.BookingID)
	if err != nil {
		s.log.Warn("promote waitlist entry; the sweeper will retry", "waitlist_id", h.BookingID, "err", err)
		return
	}
	h.IdentityKey = e.IdentityKey
	now := s.cfg.Now().Truncate(time.Microsecond)
	slot, _ := sess.Slot(h.SlotNo)
	b := Booking{ID: e.ID, SessionID: sess.ID, HospitalID: sess.HospitalID, DepartmentID: sess.DepartmentID,
		DoctorID: sess.DoctorID, VisitDate: sess.VisitDate, SlotNo: h.SlotNo, SlotStart: slot.StartsAt,
		SlotEnd: slot.EndsAt, PatientID: e.PatientID, IdentityID: e.IdentityID, IdentityKey: e.IdentityKey,
		AccountID: e.AccountID, BookedBy: e.BookedBy, Channel: h.Channel, Status: StatusConfirmed, CreatedAt: now, Allotted: true}
	ev := Event{ID: newID(), TS: now, Type: EventBooked, AccountID: e.AccountID, PatientID: e.PatientID, IdentityID: e.IdentityID,
		BookingID: e.ID, SessionID: sess.ID, HospitalID: sess.HospitalID, DepartmentID: sess.DepartmentID,
		DoctorID: sess.DoctorID, Channel: h.Channel, StaffID: e.BookedBy, Reason: "waitlist"}
	err = s.store.PromoteWaitlist(ctx, b, ev)
	switch {
	case err == nil:
		s.cfg.Metrics.Booked(b.Channel)
		s.endPlacesBeside(ctx, sess, e, now)
	case errors.Is(err, ErrWaitlistNotWaiting):
		if _, gerr := s.store.Booking(ctx, e.ID); gerr == nil {
			// It was promoted before, its answer lost: the places beside
			// it may still wait (ending them again ends none twice), and
			// the confirm is left.
			s.endPlacesBeside(ctx, sess, e, now)
			break
		}
		// The patient left the waitlist in the meantime: the slot moves on.
		s.returnSlot(ctx, sess, Booking{ID: e.ID, HospitalID: sess.HospitalID, SessionID: sess.ID,
			SlotNo: h.SlotNo, Channel: h.Channel, IdentityKey: e.IdentityKey}, Return{})
		return
	case errors.Is(err, ErrOutcomeUnknown), errors.Is(err, ErrUnavailable):
		s.log.Warn("promote waitlist entry; the sweeper will retry", "waitlist_id", e.ID, "err", err)
		return
	default:
		// SQL refused this identity (it booked the same day and department
		// elsewhere) or the place's account (blocked at the promotion, which
		// Redis does not judge): skip it and hand the slot on. The place is
		// closed skipped, not kept: a block lasts far past the session.
		s.log.Warn("waitlist entry refused by SQL; skipped", "waitlist_id", e.ID, "err", err)
		_ = s.store.CloseWaitlist(ctx, []string{e.ID}, WaitlistSkipped, now, nil, nil)
		s.returnSlot(ctx, sess, Booking{ID: e.ID, HospitalID: sess.HospitalID, SessionID: sess.ID,
			SlotNo: h.SlotNo, Channel: h.Channel, IdentityKey: e.IdentityKey}, Return{})
		return
	}
	if err := s.adm.Confirm(ctx, sess.HospitalID, e.ID); err != nil {
		s.log.Warn("confirm waitlist booking", "booking_id", e.ID, "err", err)
	}
}

// endPlacesBeside ends the person's other waiting places in the session
// once one of them is served: places other accounts (or a phone call) made
// beside it, which no returned slot could serve while the person holds the
// session. Left waiting, each would show its account a place in line for a
// slot it can never get, and end skipped at some later return, untold. Each
// ends skipped now, its account told in the same transaction (a phone
// caller's, with no account, on the call-back list); the line drops them. It logs rather
// than fails: the booking is committed, and a place left waiting is passed
// by as before.
func (s *Service) endPlacesBeside(ctx context.Context, sess *Session, served WaitlistEntry, now time.Time) {
	es, err := s.store.WaitingOfPerson(ctx, sess.ID, served.IdentityID)
	if err != nil || len(es) == 0 {
		if err != nil {
			s.log.Warn("read the places beside a served one", "waitlist_id", served.ID, "err", err)
		}
		return
	}
	patients := make([]string, len(es))
	for i, e := range es {
		patients[i] = e.PatientID
	}
	who, err := s.memberLabels(ctx, patients)
	if err != nil {
		s.log.Warn("label the places beside a served one", "waitlist_id", served.ID, "err", err) // told unnamed
	}
	zh, en := sessionLines(s.catalog.Load(), sess)
	ids, bodies := make([]string, len(es)), make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ID
		// Why is not said (what others made is not told, docs/security.md):
		// only that this place can no longer become a booking.
		bodies[i] = told(who[e.PatientID], "此候补已结束，就诊人不能再由此候补获得号源："+zh,
			"This waitlist place has ended: the person can no longer be booked through it: "+en)
	}
	if err := s.store.EndPlaces(ctx, ids, bodies, now); err != nil {
		s.log.Warn("end the places beside a served one; they are passed by at the next return", "waitlist_id", served.ID, "err", err)
		return
	}
	for _, e := range es {
		if err := s.adm.LeaveWaitlist(ctx, sess.HospitalID, sess.ID, e.Ref(), s.cfg.Now()); err != nil {
			s.log.Warn("leave waitlist in redis; the session will be reconciled", "waitlist_id", e.ID, "err", err)
			s.reconcileLater(sess.ID)
		}
	}
}

// PlaceDelayed places returned slots whose random delay is over: waitlist
// first, else back to their pool. It returns how many it placed.
func (s *Service) PlaceDelayed(ctx context.Context) (int, error) {
	cat := s.catalog.Load()
	placed := 0
	for _, h := range cat.Hospitals() {
		due, err := s.adm.Delayed(ctx, h.ID, s.cfg.Now(), 200)
		if err != nil {
			return placed, err
		}
		for _, d := range due {
			sess, ok := cat.Session(d.SessionID)
			if !ok {
				continue // not in the catalog yet, or long past: reconciliation decides
			}
			if sess.Stopped() {
				s.reconcileLater(sess.ID) // a stopped clinic's slots wait for nobody
				continue
			}
			pl, err := s.adm.Place(ctx, d, s.placing(sess), d.Channel, PlaceIfDue)
			if err != nil {
				s.settle(ctx, sess, d.SlotNo, d.Channel, pl) // those passed by have left the line
				return placed, err
			}
			if pl.Outcome == PlacedPool || pl.Outcome == PlacedWaitlist {
				placed++
			}
			s.settle(ctx, sess, d.SlotNo, d.Channel, pl)
		}
	}
	return placed, nil
}

// applyBars writes new bars into Admission in every hospital.
func (s *Service) applyBars(ctx context.Context, bars []Bar) {
	if len(bars) == 0 {
		return
	}
	var ids []string
	for _, h := range s.catalog.Load().Hospitals() {
		ids = append(ids, h.ID)
	}
	for _, b := range bars {
		if err := s.adm.Bar(ctx, ids, b.IdentityKey, b.Until); err != nil {
			s.log.Warn("bar in redis; reconciliation will", "err", err)
		}
	}
}
