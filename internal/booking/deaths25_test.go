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

// TestLiftingAMistakenDeathRecord (review24 M2, session 25): the desk
// recorded the wrong person's death. The clerk who recorded it, and
// another hospital's administrator, may not lift it (forbidden); the
// hospital's administrator does, with a reason, audited: the person books
// again, nothing withdrawn came back by itself, and every account listing
// them is told the record was an error.
func TestLiftingAMistakenDeathRecord(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	clerk := h.staff(booking.RoleClerk)
	admin := booking.Actor{Role: booking.RoleAdmin, AccountID: booking.NewID(), HospitalID: h.hosp.ID} // the hospital's
	living := h.person("何建军")
	own := h.userOf(living)
	son := h.userOf(h.person("何磊"), living)
	ob := h.mustBook(own, 0, h.session(sessionOpts{online: 1, dept: "Cardiology"}), "")
	_, err := h.svc.RecordDeath(h.ctx, clerk, booking.DeathRequest{IdentityRequest: living, Evidence: booking.DeathEvidenceCard,
		Reason: "家属口述，窗口认错人 the family's word, the wrong person"})
	testenv.Must(t, err, "the desk records the death, wrongly")
	var identityID string
	testenv.Must(t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT identity_id::TEXT FROM bookings WHERE id = $1`, ob.ID).Scan(&identityID), "identity")

	lift := func(a booking.Actor) error {
		_, err := h.svc.LiftDeath(h.ctx, a, booking.LiftDeathRequest{IdentityID: identityID,
			Reason: "本人到窗口，系认错人 he came to the desk himself: the wrong person"})
		return err
	}
	wantCode(t, "the clerk lifts it", lift(clerk), "forbidden")
	other := booking.Actor{Role: booking.RoleAdmin, AccountID: booking.NewID(), HospitalID: booking.NewID()}
	wantCode(t, "another hospital's administrator lifts it", lift(other), "forbidden")
	_, err = h.book(son, 1, h.session(sessionOpts{online: 1, dept: "Neurology"}), "")
	wantCode(t, "his son books him before the lift", err, "identity_deceased")

	res, err := h.svc.LiftDeath(h.ctx, admin, booking.LiftDeathRequest{IdentityID: identityID,
		Reason: "本人到窗口，系认错人 he came to the desk himself: the wrong person"})
	testenv.Must(t, err, "the hospital's administrator lifts it")
	if res.Told != 2 {
		t.Errorf("accounts told = %d, want 2 (his own, his son's)", res.Told)
	}
	wantCode(t, "the lift again", lift(admin), "patient_not_found")
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_death_lifted' AND actor_id = $1 AND target = $2`,
		admin.AccountID, "identity:"+identityID); n != 1 {
		t.Errorf("identity_death_lifted audit entries = %d, want 1", n)
	}
	if n := h.count(`SELECT count(*) FROM notifications WHERE kind = 'death_lifted' AND account_id IN ($1, $2)`,
		own.actor.AccountID, son.actor.AccountID); n != 2 {
		t.Errorf("death_lifted notices = %d, want 2", n)
	}
	if got := h.stored(ob.ID).Status; got != booking.StatusCancelled {
		t.Errorf("his withdrawn booking after the lift = %s, want still cancelled (nothing comes back by itself)", got)
	}
	_, err = h.book(son, 1, h.session(sessionOpts{online: 1, dept: "Neurology", day: h.day.AddDate(0, 0, 1)}), "")
	testenv.Must(t, err, "his son books him after the lift")
	_, err = h.svc.AddPatient(h.ctx, h.user(0).actor, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion},
		IDType: living.IDType, IDNumber: living.IDNumber, Name: living.Name}, booking.Origin{})
	testenv.Must(t, err, "another account lists him after the lift")
	h.checkClean()
}
