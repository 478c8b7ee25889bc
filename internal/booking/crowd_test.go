package booking_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// crowd is more places the hand-out passes by than it reads at once (the
// placing scripts read 20 entries a step), in front of one genuine waiter.
const crowd = 45

// TestHandOutIsNotCrowdedOutByPassedByPlaces: accounts that each hold P
// put P on a session's waitlist beside the booking another account made
// for P there (the join that tells nothing), 45 places in front of G, who
// may book. A returned slot passes every one of P's places by and goes to
// G, through a cancellation (release.lua) and through the sweeper
// (place.lua) alike, never to the pool past G.
func TestHandOutIsNotCrowdedOutByPassedByPlaces(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	person := h.person("王芳")
	maker := h.userOf(h.person("李娜"), person)
	others := make([]user, crowd)
	for i := range others {
		others[i] = h.userOf(h.person("赵强"), person)
	}
	tests := []struct {
		name  string
		dept  string
		swept bool // the slot is returned before the joins, and the sweeper places it
	}{
		{name: "a cancellation", dept: "Cardiology"},
		{name: "the sweeper", dept: "Dermatology", swept: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := h.session(sessionOpts{online: 2, dept: tt.dept})
			h.mustBook(maker, 1, s, "")
			holder := h.user(1)
			held := h.mustBook(holder, 0, s, "")
			if tt.swept {
				h.mustCancel(holder.actor, held.ID) // nobody waits: the slot waits out its delay
			}
			var places []booking.WaitlistEntry
			for _, o := range others {
				e, err := h.svc.JoinWaitlist(h.ctx, o.actor, booking.JoinWaitlistRequest{SessionID: s.ID, PatientID: o.patients[1].ID})
				testenv.Must(t, err, "another account joins for P, booked there")
				places = append(places, e)
			}
			g := h.user(1)
			ge := h.join(g, s)
			if tt.swept {
				h.placeReturned()
			} else {
				h.mustCancel(holder.actor, held.ID)
			}

			if e := h.entry(ge.ID); e.Status != booking.WaitlistServed {
				t.Errorf("G's place behind %d of P's: %s, want served", crowd, e.Status)
			}
			if b, err := h.store.Booking(h.ctx, ge.ID); err != nil || b.Status != booking.StatusConfirmed || b.SlotNo != held.SlotNo {
				t.Errorf("G's booking = %+v, %v; want confirmed in slot %d", b, err, held.SlotNo)
			}
			for i, p := range places {
				if e := h.entry(p.ID); e.Status != booking.WaitlistSkipped {
					t.Errorf("P's place %d: %s, want skipped (P holds the session)", i, e.Status)
				}
			}
			n := 0
			for _, b := range h.activeInSQL(s) {
				if b.IdentityID == maker.patients[1].IdentityID {
					n++
				}
			}
			if n != 1 {
				t.Errorf("P holds %d bookings in the session, want 1", n)
			}
			h.wantOnline(s, 0)
			if d := h.delayedOf(s); len(d) != 0 {
				t.Errorf("delayed slots of the session = %+v, want none (the slot is G's)", d)
			}
			h.checkClean()
		})
	}
}

// TestWaitlistJoinBeforeTheReleaseIsNotReleased: a join to the waitlist of
// a pool not released yet is answered not_released with the release time,
// as a booking attempt is, not slots_available (its slots cannot be
// booked yet), by a patient and by an operator for a caller; nothing is
// written.
func TestWaitlistJoinBeforeTheReleaseIsNotReleased(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	later := time.Now().Add(2 * time.Hour)
	s := h.session(sessionOpts{online: 1, phone: 1, release: later})
	opens := "this channel opens at " + later.In(testenv.Shanghai).Format(time.RFC3339)
	u := h.user(1)
	_, err := h.book(u, 0, s, "")
	wantErr(t, "a booking before the release", err, booking.ErrNotReleased)
	_, err = h.svc.JoinWaitlist(h.ctx, u.actor, booking.JoinWaitlistRequest{SessionID: s.ID, PatientID: u.patients[0].ID})
	wantErr(t, "a patient's join before the release", err, booking.ErrNotReleased)
	wantMessage(t, "a patient's join before the release", err, opens)
	op := h.staff(booking.RoleOperator)
	_, err = h.svc.JoinWaitlistFor(h.ctx, op, booking.StaffWaitlistRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IdentityRequest: h.person("李娜"), SessionID: s.ID, CallerPhone: h.phone()})
	wantErr(t, "an operator's join before the release", err, booking.ErrNotReleased)
	wantMessage(t, "an operator's join before the release", err, opens)
	if es, err := h.store.WaitlistOfAccount(h.ctx, u.actor.AccountID, booking.Page{}); err != nil || len(es) != 0 {
		t.Errorf("the patient's waitlist places = %+v, %v; want none", es, err)
	}
	h.checkClean()
}

// TestConcurrentJoinsOfOnePersonShareOneDraw: accounts that each hold P
// join a sold-out session's waitlist for P at once, in a round (and, in
// the second and third sessions, where another account booked P the same
// day in the department, so that every join is taken beside). Migration
// 0035 let a person wait once per account, so nothing unique in SQL stops
// two of them from each taking a place of their own, with a key of its
// own (a second chance in the draw). Every join must be answered with a
// place (no error), and every place must carry one round and one key: the
// first place's, which the others are taken beside.
func TestConcurrentJoinsOfOnePersonShareOneDraw(t *testing.T) {
	const accounts = 12
	h := newHarness(t, harnessConfig{soldOutFor: -1, returnRound: time.Hour})
	person := h.person("王芳")
	maker := h.userOf(h.person("李娜"), person)
	us := make([]user, accounts)
	for i := range us {
		us[i] = h.userOf(h.person("赵强"), person)
	}
	for round := range 3 {
		dept := []string{"Cardiology", "Dermatology", "Neurology"}[round]
		s := h.session(sessionOpts{online: 1, dept: dept})
		h.mustBook(h.user(1), 0, s, "")
		if round > 0 {
			h.mustBook(maker, 1, h.session(sessionOpts{online: 1, dept: dept, period: "afternoon"}), "")
		}
		places := make([]booking.WaitlistEntry, accounts)
		errs := make([]error, accounts)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, u := range us {
			wg.Go(func() {
				<-start
				places[i], errs[i] = h.svc.JoinWaitlist(h.ctx, u.actor, booking.JoinWaitlistRequest{SessionID: s.ID, PatientID: u.patients[1].ID})
			})
		}
		close(start)
		wg.Wait()
		keys := map[uint64]bool{}
		for i := range us {
			if errs[i] != nil {
				t.Errorf("attempt %d: account %d's join: %v; want a place", round, i, errs[i])
				continue
			}
			keys[h.entry(places[i].ID).Key] = true
		}
		if len(keys) != 1 {
			t.Errorf("attempt %d: P's %d places carry %d keys %v; want one (one draw for P)", round, accounts, len(keys), keys)
		}
	}
	h.checkClean()
}

// TestPlacesBesideEndWhenThePersonIsServed: P waits in a full session
// through the maker's place and, beside it, through another account's. A
// returned slot serves P through the maker's place; the other place can
// never be served while P holds the session, so it ends at once (skipped),
// its account is told it ended, naming P and the session (not why: what
// others made is not told), and the line drops it
// — not left showing a place in line until some later return passes it
// by, untold.
func TestPlacesBesideEndWhenThePersonIsServed(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	s := h.session(sessionOpts{online: 1})
	person := h.person("王芳")
	maker := h.userOf(h.person("李娜"), person)
	other := h.userOf(h.person("赵强"), person)
	holder := h.user(1)
	held := h.mustBook(holder, 0, s, "")
	join := func(u user) booking.WaitlistEntry {
		t.Helper()
		e, err := h.svc.JoinWaitlist(h.ctx, u.actor, booking.JoinWaitlistRequest{SessionID: s.ID, PatientID: u.patients[1].ID})
		testenv.Must(t, err, "join for P")
		return e
	}
	first, beside := join(maker), join(other)

	h.mustCancel(holder.actor, held.ID)

	if e := h.entry(first.ID); e.Status != booking.WaitlistServed {
		t.Fatalf("the maker's place: %s, want served", e.Status)
	}
	if e := h.entry(beside.ID); e.Status != booking.WaitlistSkipped {
		t.Errorf("the other account's place for P: %s, want skipped once P is served", e.Status)
	}
	if refs, err := h.gate.Waitlist(h.ctx, h.hosp.ID, s.ID); err != nil || len(refs) != 0 {
		t.Errorf("the line after = %+v, %v; want empty", refs, err)
	}
	told := func(u user) []booking.Notification {
		t.Helper()
		ns, _, err := h.svc.MyNotifications(h.ctx, u.actor)
		testenv.Must(t, err, "notifications")
		var out []booking.Notification
		for _, n := range ns {
			if n.WaitlistID != "" {
				out = append(out, n)
			}
		}
		return out
	}
	if ns := told(other); len(ns) != 1 || ns[0].WaitlistID != beside.ID || ns[0].Kind != string(booking.EventCancelled) ||
		!strings.Contains(ns[0].Body, "This waitlist place has ended") || !strings.Contains(ns[0].Body, s.VisitDate) ||
		!strings.Contains(ns[0].Body, other.patients[1].Label()) {
		t.Errorf("the other account was told %+v; want one notice of its place %s ended, naming P and the session", ns, beside.ID)
	}
	if ns := told(maker); len(ns) != 0 {
		t.Errorf("the maker, served, was told %+v of a place ended; want nothing", ns)
	}
	h.checkClean()
}

// TestPhonePlaceEndedBesideIsCalledBack: a phone caller's place that ends
// because the person was served through another place has no account to
// tell: it goes on the call-back list, to ring at the number the place was
// made from — else the person waits for a slot that will never come and
// never hears of the booking in their name.
func TestPhonePlaceEndedBesideIsCalledBack(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	s := h.session(sessionOpts{online: 1, phone: 1})
	op := h.staffOf(booking.RoleOperator, h.hosp.ID)
	_, err := h.staffBook(op, h.person("吴先生"), s, booking.ChannelPhone, "13600000001")
	testenv.Must(t, err, "fill the phone pool")
	byPhone, err := h.svc.JoinWaitlistFor(h.ctx, op, booking.StaffWaitlistRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IdentityRequest: h.person("王芳"), SessionID: s.ID,
		CallerPhone: "13700001111"})
	testenv.Must(t, err, "waitlist a caller by phone")
	h.svc.EndPlacesBeside(h.ctx, s, booking.WaitlistEntry{ID: booking.NewID(), IdentityID: byPhone.IdentityID})
	if e := h.entry(byPhone.ID); e.Status != booking.WaitlistSkipped {
		t.Fatalf("the phone place: %s, want skipped", e.Status)
	}
	cbs, err := h.svc.CallBacks(h.ctx, op)
	testenv.Must(t, err, "the call-back list")
	if len(cbs) != 1 || cbs[0].WaitlistID != byPhone.ID || !strings.Contains(cbs[0].Body, "This waitlist place has ended") ||
		cbs[0].PhoneMasked != "137****1111" {
		t.Errorf("call-back list = %+v; want the phone place, ended, to ring at the number it was made from", cbs)
	}
}
