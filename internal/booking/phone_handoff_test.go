package booking_test

import (
	"slices"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/detect"
	"fairslot/internal/testenv"
)

const placeholderPhone, buyerPhone = "13600000001", "13600000002"

// handOff is review23 H2's first two steps: the placeholder booked into
// the phone pool's one slot and the buyer waitlisted, both by op at t0.
type handOff struct {
	s           *booking.Session
	op          booking.Actor
	placeholder booking.IdentityRequest
	held        booking.Booking
	bought      booking.WaitlistEntry
	t0          time.Time
}

// phoneHandOff sets up the hand-off in a session of 2 online slots and 1
// phone slot, the clock at t0 (the caller resets it).
func (h *harness) phoneHandOff() handOff {
	h.t.Helper()
	x := handOff{s: h.deskSession(deskOpts{online: 2, phone: 1}), op: h.staff(booking.RoleOperator),
		placeholder: h.person("赵一"), t0: time.Now()}
	h.clock.set(x.t0)
	var err error
	x.held, err = h.staffBook(x.op, x.placeholder, x.s, booking.ChannelPhone, placeholderPhone)
	testenv.Must(h.t, err, "the placeholder booked by phone")
	x.bought, err = h.svc.JoinWaitlistFor(h.ctx, x.op, booking.StaffWaitlistRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IdentityRequest: h.person("钱买家"),
		SessionID: x.s.ID, CallerPhone: buyerPhone})
	testenv.Must(h.t, err, "the buyer waitlisted by phone")
	return x
}

// TestPhoneHandOffMeetsThePatientsInTheRound is review23's H2, on the real
// path: an operator books a placeholder into the phone pool's last slot,
// puts a buyer on the waitlist by phone, and cancels the placeholder "for
// its caller". While the online pool still had free slots a patient who
// wanted the session was refused the waitlist (409 slots_available), so the
// round's only member was the buyer, who got the slot for certain at a
// moment the operator chose. The waitlist is the session's: a patient joins
// it once a pool remote people book from is sold out, and the returned
// phone slot is drawn among everyone in the round — the patient and the
// buyer each by their random key — not handed to the buyer.
func TestPhoneHandOffMeetsThePatientsInTheRound(t *testing.T) {
	h := newHarness(t, harnessConfig{returnRound: testRound})
	defer h.clock.reset()
	x := h.phoneHandOff()
	s, op, held, bought, t0 := x.s, x.op, x.held, x.bought, x.t0

	// The patient wants the session too: the online pool still has its two
	// slots, and she asks for the waitlist all the same.
	h.clock.set(t0.Add(time.Minute))
	patient := h.user(1)
	mine, err := h.svc.JoinWaitlist(h.ctx, patient.actor, booking.JoinWaitlistRequest{SessionID: s.ID, PatientID: patient.patients[0].ID})
	if err != nil {
		t.Fatalf("a patient joins the waitlist of a session whose phone pool is sold out: %v, want a place in the round", err)
	}

	h.clock.set(t0.Add(2 * time.Minute))
	h.callerCancel(op, x.placeholder, placeholderPhone, held.ID)
	if got := h.bookedEntry([]booking.WaitlistEntry{bought, mine}); len(got) != 0 {
		t.Fatalf("entries booked at the cancellation: %v, want none (the slot is held for the round)", got)
	}
	if got := h.delayedOf(s); len(got) != 1 || got[0].SlotNo != held.SlotNo {
		t.Fatalf("held slots after the cancellation = %+v, want the placeholder's slot %d", got, held.SlotNo)
	}
	b, p := h.entry(bought.ID), h.entry(mine.ID)
	if !b.RoundEndsAt.Equal(p.RoundEndsAt) {
		t.Fatalf("rounds: the buyer's ends %v, the patient's %v; want one round", b.RoundEndsAt, p.RoundEndsAt)
	}

	h.clock.set(b.RoundEndsAt.Add(time.Second))
	h.placeReturned()
	got := h.bookedEntry([]booking.WaitlistEntry{bought, mine})
	want := 0 // the round's joins enter the line by their random keys, smallest first
	if p.Key < b.Key {
		want = 1
	}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("booked after the round: %v, want entry %d (keys: buyer %x, patient %x)", got, want, b.Key, p.Key)
	}
	if w := h.stored([]string{bought.ID, mine.ID}[want]); w.SlotNo != held.SlotNo {
		t.Errorf("the winner got slot %d, want the returned phone slot %d", w.SlotNo, held.SlotNo)
	}
	h.checkClean()
}

// TestPhoneHandOffIsEvidence: the same hand-off with nobody else waiting
// gives the buyer the slot (that is what a waitlist is for), and the events
// the service wrote show it to the detector: the operator cancelled a phone
// booking and the operator's own waitlist place took the session
// (staff_handoff, transfer evidence; weak, so it flags only beside
// another kind — here the rule is lowered to see the signal itself).
func TestPhoneHandOffIsEvidence(t *testing.T) {
	h := newHarness(t, harnessConfig{returnRound: testRound})
	defer h.clock.reset()
	x := h.phoneHandOff()
	op, held, bought, t0 := x.op, x.held, x.bought, x.t0
	h.clock.set(t0.Add(2 * time.Minute))
	h.callerCancel(op, x.placeholder, placeholderPhone, held.ID)
	h.clock.set(h.entry(bought.ID).RoundEndsAt.Add(time.Second))
	h.placeReturned()
	if got := h.bookedEntry([]booking.WaitlistEntry{bought}); len(got) != 1 {
		t.Fatalf("the buyer alone in the round: booked %v, want the slot", got)
	}

	evs, err := h.store.EventsSince(h.ctx, t0.Add(-time.Hour))
	testenv.Must(t, err, "the events")
	cfg := detect.DefaultConfig()
	cfg.Threshold, cfg.MinKinds = 0.001, 1
	var signals []string
	for _, f := range detect.Detect(evs, cfg) {
		if slices.Contains(f.AccountIDs, op.AccountID) {
			for _, r := range f.Reasons {
				signals = append(signals, r.Signal)
			}
		}
	}
	if !slices.Contains(signals, "staff_handoff") {
		t.Errorf("the operator's signals = %v, want staff_handoff", signals)
	}
	if flags := detect.Detect(evs, detect.DefaultConfig()); len(flags) != 0 {
		t.Errorf("flags under the default rule = %+v, want none: one hand-off is one weak kind", flags)
	}
}
