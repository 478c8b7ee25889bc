package booking_test

import (
	"context"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// rankedHook is a store that calls after once a draw's ranking is stored,
// with it: the seam between the draw's stage 2 (ranked) and stage 3
// (booked), where a death the desk records meets an entry the draw
// already holds.
type rankedHook struct {
	*cockroach.Store
	after func(booking.Ranking)
}

func (s *rankedHook) SaveRanking(ctx context.Context, k booking.PoolKey, owner string, r booking.Ranking, until time.Time) error {
	err := s.Store.SaveRanking(ctx, k, owner, r, until)
	if f := s.after; err == nil && f != nil {
		s.after = nil
		f(r)
	}
	return err
}

// TestDeathDuringTheDrawIsPassedOver (review24 M2, session 25): a death
// recorded while a pool is being drawn — after its ranking, before its
// winners are booked — never gives the deceased a slot: the first drawn,
// dead, is passed over (identity_deceased) and the slot goes to the next in
// drawn order; a loser who asked for the waitlist, dead too, is not put on
// it, and the record says why. The draw still verifies. A death recorded
// after the entries closed and before the draw withdraws the entry: it is
// not in the draw.
func TestDeathDuringTheDrawIsPassedOver(t *testing.T) {
	hook := &rankedHook{}
	h := newHarness(t, harnessConfig{soldOutFor: -1, wrap: func(s *cockroach.Store) booking.Store { hook.Store = s; return hook }})
	clerk := h.staff(booking.RoleClerk)
	const slots = 2
	enterAll := func(s *booking.Session, n int) map[string]booking.IdentityRequest {
		people := map[string]booking.IdentityRequest{}
		for i := range n {
			p := h.person([]string{"周建国", "吴秀英", "郑伟", "冯丽", "陈强", "褚敏"}[i])
			u := h.userOf(p)
			r, err := h.svc.Attempt(h.ctx, u.actor, booking.BookRequest{SessionID: s.ID, PatientID: u.patients[0].ID,
				Channel: booking.ChannelOnline, Waitlist: true, Origin: booking.Origin{IP: "203.0.113.9"}})
			testenv.Must(t, err, "enter %d", i)
			people[r.Entry.ID] = p
		}
		return people
	}
	die := func(p booking.IdentityRequest) booking.DeathResult {
		res, err := h.svc.RecordDeath(h.ctx, clerk, booking.DeathRequest{IdentityRequest: p, Evidence: booking.DeathEvidenceCertificate,
			Reason: "家属持死亡医学证明 the family brought the certificate"})
		testenv.Must(t, err, "record the death")
		return res
	}

	// During: the first drawn and the last drawn die once the ranking is
	// stored.
	s := h.lotterySession(lotteryOpts{online: slots})
	people := enterAll(s, 5)
	var firstDrawn, lastDrawn string
	hook.after = func(r booking.Ranking) {
		firstDrawn, lastDrawn = r.Eligible[0].ID, r.Eligible[len(r.Eligible)-1].ID
		for _, id := range []string{firstDrawn, lastDrawn} {
			if res := die(people[id]); res.Entries != 0 || res.InDraw != 1 {
				t.Errorf("withdrawn during the draw = %+v, want no entry withdrawn, one in the draw", res)
			}
		}
	}
	h.drawAll(h.svc, s)
	if firstDrawn == "" {
		t.Fatal("the draw stored no ranking")
	}
	d := h.checkDraw(s, slots, 5)
	testenv.Must(t, booking.VerifyDraw(d, h.booked(d)), "verify the draw")
	for _, e := range d.Entries {
		switch e.ID {
		case firstDrawn, lastDrawn:
			if e.Status != booking.EntryLost || e.Reason != booking.ErrIdentityDeceased.Code {
				t.Errorf("the deceased's entry drawn %d = %s (%q), want lost (identity_deceased)", e.Rank, e.Status, e.Reason)
			}
		}
		if e.Rank == 3 && e.Status != booking.EntryWon {
			t.Errorf("the third drawn = %s, want won (the first's slot passed on)", e.Status)
		}
	}
	if n := h.count(`SELECT count(*) FROM waitlist WHERE identity_id IN
	                   (SELECT id FROM identities WHERE deceased_at IS NOT NULL)`); n != 0 {
		t.Errorf("waitlist places of the deceased = %d, want 0", n)
	}
	if n := h.count(`SELECT count(*) FROM bookings WHERE identity_id IN
	                   (SELECT id FROM identities WHERE deceased_at IS NOT NULL)`); n != 0 {
		t.Errorf("bookings of the deceased = %d, want 0", n)
	}

	// Between the entries' close and the draw: the entry is withdrawn.
	s2 := h.lotterySession(lotteryOpts{online: slots, dept: "Neurology"})
	people2 := enterAll(s2, 3)
	q, _ := s2.Channel(booking.ChannelOnline)
	var gone string
	func() {
		defer h.clock.at(q.DrawAt.Add(time.Second))()
		for id, p := range people2 {
			gone = id
			if res := die(p); res.Entries != 1 {
				t.Errorf("withdrawn after the close = %+v, want the entry", res)
			}
			break
		}
	}()
	h.drawAll(h.svc, s2)
	d2 := h.checkDraw(s2, slots, 2)
	testenv.Must(t, booking.VerifyDraw(d2, h.booked(d2)), "verify the second draw")
	for _, e := range d2.Entries {
		if e.ID == gone && e.Rank > 0 {
			t.Errorf("the withdrawn entry is in the draw at %d (%s)", e.Rank, e.Status)
		}
	}
	h.checkClean()
}
