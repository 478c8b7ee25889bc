package booking_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// limitsAdmission records the shared limits each Enter was given.
type limitsAdmission struct {
	booking.Admission
	got [][]booking.SharedLimit
}

func (a *limitsAdmission) Enter(ctx context.Context, r booking.Reservation) (bool, error) {
	a.got = append(a.got, r.Limits)
	return a.Admission.Enter(ctx, r)
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
	ask := func(p person, sessionID, idemKey string) (booking.BookRequest, *int) {
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
	// attempt now, which counts the limits itself, before admission.
	req, taken = ask(q, sid, "")
	if !req.LimitsAtAdmission() {
		t.Fatalf("q's entry: limits not left to admission")
	}
	w.clock.Advance(2 * time.Minute)
	enters, reserves := len(adm.got), w.adm.Reserves()
	over := &booking.LimitError{Wait: time.Second, Err: booking.ErrRateLimited}
	req.TakeLimits = func(context.Context) error { *taken++; return over }
	if _, err := svc.Attempt(w.ctx, q.actor, req); !errors.Is(err, over) {
		t.Errorf("an attempt over its limits after the draw time = %v, want the limits' refusal", err)
	}
	if *taken != 1 || len(adm.got) != enters || w.adm.Reserves() != reserves {
		t.Errorf("limits counted %d time(s), %d Enter and %d Reserve calls after; want once, before any admission",
			*taken, len(adm.got)-enters, w.adm.Reserves()-reserves)
	}
}
