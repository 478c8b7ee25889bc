package booking_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// limitsAdmission records the shared limits each Enter and each Reserve
// was given; a Reserve answers over, when set, instead of admitting.
type limitsAdmission struct {
	booking.Admission
	got      [][]booking.SharedLimit
	reserved [][]booking.SharedLimit
	over     error
}

func (a *limitsAdmission) Enter(ctx context.Context, r booking.Reservation) (bool, error) {
	a.got = append(a.got, r.Limits)
	return a.Admission.Enter(ctx, r)
}

func (a *limitsAdmission) Reserve(ctx context.Context, r booking.Reservation) (int, bool, error) {
	a.reserved = append(a.reserved, r.Limits)
	if a.over != nil {
		return 0, false, a.over
	}
	return a.Admission.Reserve(ctx, r)
}

// limitsAsker asks svc's KnownRefusalOf about p's attempt on a session, as
// the API does, and when the attempt may leave its shared limits to
// admission gives it limits, and a TakeLimits that counts its calls.
func limitsAsker(t *testing.T, svc *booking.Service, limits []booking.SharedLimit) func(p person, sessionID, idemKey string) (booking.BookRequest, *int) {
	return func(p person, sessionID, idemKey string) (booking.BookRequest, *int) {
		t.Helper()
		req := booking.BookRequest{SessionID: sessionID, PatientID: p.patient.ID, Channel: booking.ChannelOnline, IdempotencyKey: idemKey}
		if err := svc.KnownRefusalOf(p.actor, &req); err != nil {
			t.Fatalf("KnownRefusalOf = %v", err)
		}
		taken := new(int)
		if req.LimitsAtAdmission() {
			req.Limits = limits
			req.TakeLimits = func(context.Context) error { *taken++; return nil }
		}
		return req, taken
	}
}

// An entry's shared rate limits go to admission with the entry only when
// the attempt is known to be one before any SQL (a cached patient, no
// Idempotency-Key, a pool taking entries); an attempt that turns out not to
// be an entry (the draw time came meanwhile) counts them on its own before
// admission, and is refused when they are over.
func TestRuleSharedLimitsLeftToTheEntry(t *testing.T) {
	w := newWorld(t, booking.DefaultPolicy, booking.Config{})
	now := w.clock.Now()
	warm := w.lotterySession("2026-12-09", "cardio", 2, now.Add(-time.Hour), now.Add(2*time.Hour))
	sid := w.lotterySession("2026-12-10", "derm", 2, now.Add(-time.Hour), now.Add(time.Minute))
	adm := &limitsAdmission{Admission: w.adm}
	svc := w.instance(adm, booking.Config{})
	limits := []booking.SharedLimit{{Key: "rl:acct:x", Limit: 10, Period: time.Second}}
	ask := limitsAsker(t, svc, limits)
	p, q := w.person(), w.person()

	if req, _ := ask(p, sid, ""); req.LimitsAtAdmission() {
		t.Errorf("a patient the instance has not cached: limits left to admission, want them counted first (a SQL read comes before admission)")
	}
	for _, x := range []person{p, q} { // caches the patients
		if r, err := svc.Attempt(w.ctx, x.actor, booking.BookRequest{SessionID: warm, PatientID: x.patient.ID, Channel: booking.ChannelOnline}); err != nil || !r.Entered {
			t.Fatalf("warm-up entry = %+v, %v", r, err)
		}
	}
	if req, _ := ask(p, sid, "key-1"); req.LimitsAtAdmission() {
		t.Errorf("a keyed attempt: limits left to admission, want them counted first (its entry is read from SQL first)")
	}

	req, taken := ask(p, sid, "")
	if !req.LimitsAtAdmission() {
		t.Fatalf("an entry by a cached patient: limits not left to admission")
	}
	if r, err := svc.Attempt(w.ctx, p.actor, req); err != nil || !r.Entered {
		t.Fatalf("entry = %+v, %v", r, err)
	}
	if last := adm.got[len(adm.got)-1]; len(last) != 1 || last[0] != limits[0] || *taken != 0 {
		t.Errorf("the entry's admission got limits %v and they were counted on their own %d time(s); want them with the entry, once", last, *taken)
	}

	// The draw time comes between the question and the attempt: a booking
	// attempt now, whose limits admission counts with the reservation.
	req, taken = ask(q, sid, "")
	if !req.LimitsAtAdmission() {
		t.Fatalf("q's entry: limits not left to admission")
	}
	w.clock.Advance(2 * time.Minute)
	enters := len(adm.got)
	reserves := len(adm.reserved)
	_, _ = svc.Attempt(w.ctx, q.actor, req) // not_released while the draw runs: admission's answer
	if len(adm.reserved) != reserves+1 {
		t.Fatalf("q's booking attempt after the draw time made %d Reserve calls, want 1", len(adm.reserved)-reserves)
	}
	if last := adm.reserved[len(adm.reserved)-1]; len(last) != 1 || last[0] != limits[0] || *taken != 0 || len(adm.got) != enters {
		t.Errorf("after the draw time: Reserve got limits %v, counted on their own %d time(s), %d Enter calls; want them with the reservation, once",
			last, *taken, len(adm.got)-enters)
	}
}

// A booking attempt on a first-come pool leaves its shared rate limits to
// admission under the same conditions as an entry (a cached patient, no
// Idempotency-Key): reserve.lua counts them in the attempt's one round trip,
// and its refusal over a limit is the attempt's answer, with nothing
// booked. A Book on a pool taking entries counts them first.
func TestRuleSharedLimitsLeftToTheReservation(t *testing.T) {
	w := newWorld(t, booking.DefaultPolicy, booking.Config{})
	now := w.clock.Now()
	warm := w.session("2026-12-09", "ent", 2)
	sid := w.session("2026-12-10", "derm", 2)
	lot := w.lotterySession("2026-12-11", "cardio", 2, now.Add(-time.Hour), now.Add(time.Hour))
	adm := &limitsAdmission{Admission: w.adm}
	svc := w.instance(adm, booking.Config{})
	limits := []booking.SharedLimit{{Key: "rl:ip:x", Limit: 10, Period: time.Second}}
	ask := limitsAsker(t, svc, limits)
	p, q := w.person(), w.person()
	if req, _ := ask(p, sid, ""); req.LimitsAtAdmission() {
		t.Errorf("a patient the instance has not cached: limits left to admission, want them counted first")
	}
	for _, x := range []person{p, q} { // caches the patients
		if _, err := svc.Book(w.ctx, x.actor, booking.BookRequest{SessionID: warm, PatientID: x.patient.ID, Channel: booking.ChannelOnline}); err != nil {
			t.Fatalf("warm-up booking = %v", err)
		}
	}
	if req, _ := ask(p, sid, "key-1"); req.LimitsAtAdmission() {
		t.Errorf("a keyed attempt: limits left to admission, want them counted first (a replay is read from SQL)")
	}

	req, taken := ask(p, sid, "")
	if !req.LimitsAtAdmission() {
		t.Fatalf("a booking attempt by a cached patient: limits not left to admission")
	}
	b, err := svc.Book(w.ctx, p.actor, req)
	if err != nil {
		t.Fatalf("booking = %v", err)
	}
	if last := adm.reserved[len(adm.reserved)-1]; len(last) != 1 || last[0] != limits[0] || *taken != 0 {
		t.Errorf("Reserve got limits %v, counted on their own %d time(s); want them with the reservation, once", last, *taken)
	}
	if got, err := svc.Booking(w.ctx, p.actor, b.ID); err != nil || got.ID != b.ID {
		t.Errorf("the booking = %+v, %v; want it stored", got, err)
	}

	// Over a limit, admission's refusal is the answer, and nothing is booked.
	over := &booking.LimitError{Wait: time.Second, Err: booking.ErrRateLimited}
	adm.over = over
	req, _ = ask(q, sid, "")
	if _, err := svc.Book(w.ctx, q.actor, req); !errors.Is(err, over) {
		t.Errorf("a booking attempt over its limits = %v, want admission's refusal", err)
	}
	got, err := svc.Bookings(w.ctx, q.actor)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range got {
		if b.SessionID == sid {
			t.Errorf("q booked %s after the refusal over its limits", b.ID)
		}
	}
	adm.over = nil

	// Book (not Attempt) on a pool taking entries counts the limits first.
	req, taken = ask(q, lot, "")
	if !req.LimitsAtAdmission() {
		t.Fatalf("an entry by a cached patient: limits not left to admission")
	}
	reserves := len(adm.reserved)
	if _, err := svc.Book(w.ctx, q.actor, req); !errors.Is(err, booking.ErrLotteryOnly) || *taken != 1 || len(adm.reserved) != reserves {
		t.Errorf("Book on a lottery pool = %v, limits counted %d time(s), %d Reserve calls; want lottery_only after counting them once, no Reserve",
			err, *taken, len(adm.reserved)-reserves)
	}
}
