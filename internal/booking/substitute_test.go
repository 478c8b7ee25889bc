package booking_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// colleague stores another doctor of a department, with a title and fee
// level.
func (h *harness) colleague(dept, title string, fee booking.FeeLevel) booking.Doctor {
	h.t.Helper()
	d := h.department(dept)
	doc := booking.Doctor{ID: booking.NewID(), HospitalID: h.hosp.ID, DepartmentID: d.ID, Name: "Dr Colleague", Title: title, FeeLevel: fee}
	testenv.Must(h.t, h.svc.SaveSchedule(h.ctx, booking.Schedule{Hospitals: []booking.Hospital{h.hosp},
		Departments: []booking.Department{d}, Doctors: []booking.Doctor{doc}}), "save doctor")
	return doc
}

// TestStopWithSubstitute (L): a clinic stopped (停诊) while patients book
// it, with a substitute of the same level the hospital names: every booking
// ever confirmed in it is cancelled without penalty and its slot held with
// the substitute (same time, same number, same person), none confirmed into
// the stopped clinic after the stop; nobody else can take a held slot;
// accepting keeps it, declining or letting it lapse cancels it without
// penalty; Redis equals SQL throughout.
func TestStopWithSubstitute(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	sess := h.session(sessionOpts{dept: "Dermatology", online: 30})
	sub := h.colleague("Dermatology", "chief physician", "")

	users := h.users(8, 3)
	type outcome struct {
		id  string
		err error
	}
	results := make(chan outcome, 8*3)
	var wg sync.WaitGroup
	start, going := make(chan struct{}), make(chan struct{})
	var once sync.Once
	for _, u := range users {
		wg.Go(func() {
			<-start
			for p := range u.patients {
				b, err := h.svc.Book(h.ctx, u.actor, booking.BookRequest{SessionID: sess.ID, PatientID: u.patients[p].ID, Channel: booking.ChannelOnline})
				if err == nil {
					once.Do(func() { close(going) })
				}
				results <- outcome{b.ID, err}
			}
		})
	}
	close(start)
	<-going
	res, err := h.svc.Stop(h.ctx, admin, sess.ID, booking.StopRequest{Reason: "the doctor is ill", SubstituteDoctorID: sub.ID})
	testenv.Must(t, err, "stop with a substitute")
	wg.Wait()
	close(results)
	confirmed := map[string]bool{}
	for r := range results {
		switch {
		case r.err == nil:
			confirmed[r.id] = true
		case errors.Is(r.err, booking.ErrSessionStopped), errors.Is(r.err, booking.ErrChannelClosed):
		default:
			t.Errorf("a booking during the stop: %v", r.err)
		}
	}
	t.Logf("%d confirmed before the stop, %d held with the substitute until %s", len(confirmed), res.Offered, res.HoldUntil)
	if len(h.activeInSQL(sess)) != 0 {
		t.Errorf("bookings remain active in the stopped clinic")
	}
	if res.Cancelled != len(confirmed) || res.Offered != len(confirmed) || res.SubstituteSessionID == "" {
		t.Fatalf("stop = %+v; want %d cancelled and as many held", res, len(confirmed))
	}
	next, ok := h.svc.Catalog().Session(res.SubstituteSessionID)
	if !ok || next.DoctorID != sub.ID || !next.StartsAt.Equal(sess.StartsAt) || len(next.Slots) != len(sess.Slots) {
		t.Fatalf("the substitute session %+v is not the clinic's layout for %s", next, sub.ID)
	}
	held := map[int]bool{}
	for id := range confirmed {
		orig := h.stored(id)
		if orig.Status != booking.StatusCancelled || orig.LateCancel {
			t.Errorf("original %s: %s late=%v, want cancelled without penalty", id, orig.Status, orig.LateCancel)
		}
		hb := h.stored(booking.NameID(id, "substitute"))
		if hb.SessionID != next.ID || hb.SlotNo != orig.SlotNo || hb.IdentityID != orig.IdentityID || hb.Status != booking.StatusConfirmed {
			t.Errorf("held booking for %s = %+v, want the same slot %d and person in %s", id, hb, orig.SlotNo, next.ID)
		}
		held[hb.SlotNo] = true
	}
	h.checkClean()

	// Nobody else takes a held slot: the substitute's session sells out
	// at the slots left.
	for _, u := range h.users(30-len(held)+2, 1) {
		b, err := h.book(u, 0, next, "")
		if err != nil {
			wantErr(t, "booking past the free slots", err, booking.ErrSoldOut)
			continue
		}
		if held[b.SlotNo] {
			t.Errorf("another patient got held slot %d", b.SlotNo)
		}
	}
	h.checkClean()

	// Each answer: the patient accepts one; the desk declines one for
	// them; one lapses. None is late, none bars.
	var ids []string
	for id := range confirmed {
		ids = append(ids, booking.NameID(id, "substitute"))
	}
	if len(ids) < 3 {
		t.Fatalf("only %d held bookings; the test needs 3", len(ids))
	}
	owner := func(bookingID string) user {
		b := h.stored(bookingID)
		for _, u := range users {
			if u.actor.AccountID == b.AccountID {
				return u
			}
		}
		t.Fatalf("no user holds %s", bookingID)
		return user{}
	}
	off, err := h.svc.AnswerOffer(h.ctx, owner(ids[0]).actor, ids[0], true, booking.Origin{})
	testenv.Must(t, err, "accept")
	if off.Status != booking.OfferAccepted || h.stored(ids[0]).Status != booking.StatusConfirmed {
		t.Errorf("accepted offer = %+v, booking %s", off, h.stored(ids[0]).Status)
	}
	_, err = h.svc.AnswerOffer(h.ctx, owner(ids[0]).actor, ids[0], false, booking.Origin{})
	wantErr(t, "declining an accepted offer", err, booking.ErrOfferClosed)
	_, err = h.svc.AnswerOffer(h.ctx, owner(ids[1]).actor, ids[0], true, booking.Origin{})
	if owner(ids[1]).actor.AccountID != owner(ids[0]).actor.AccountID {
		wantErr(t, "answering another account's offer", err, booking.ErrOfferNotFound)
	}
	clerk := h.staff(booking.RoleClerk)
	off, err = h.svc.AnswerOffer(h.ctx, clerk, ids[1], false, booking.Origin{})
	testenv.Must(t, err, "the desk declines for the patient")
	if b := h.stored(ids[1]); off.Status != booking.OfferDeclined || b.Status != booking.StatusCancelled || b.LateCancel {
		t.Errorf("declined offer %+v: booking %s late=%v, want cancelled without penalty", off, b.Status, b.LateCancel)
	}
	func() {
		defer h.clock.at(res.HoldUntil.Add(time.Second))()
		n, err := h.svc.LapseOffers(h.ctx)
		testenv.Must(t, err, "lapse offers")
		if n != len(ids)-2 {
			t.Errorf("%d offers lapsed, want %d (all but the accepted and the declined)", n, len(ids)-2)
		}
		_, err = h.svc.AnswerOffer(h.ctx, owner(ids[2]).actor, ids[2], true, booking.Origin{})
		wantErr(t, "accepting a lapsed offer", err, booking.ErrOfferClosed)
	}()
	for _, id := range ids[2:] {
		if b := h.stored(id); b.Status != booking.StatusCancelled || b.LateCancel {
			t.Errorf("lapsed %s: %s late=%v, want cancelled without penalty", id, b.Status, b.LateCancel)
		}
	}
	if n := h.count(`SELECT count(*) FROM bars`); n != 0 {
		t.Errorf("%d bars after the offers ended, want none", n)
	}
	// The patients are told of a lapse; the held booking itself tells
	// nothing (the stop's notice did).
	_, err = h.svc.NotifyEvents(h.ctx)
	testenv.Must(t, err, "notifications from events")
	if n := h.count(`SELECT count(*) FROM notifications WHERE booking_id = $1 AND body LIKE '%lapsed%'`, ids[2]); n != 1 {
		t.Errorf("%d lapse notifications for %s, want 1", n, ids[2])
	}
	if n := h.count(`SELECT count(*) FROM notifications WHERE booking_id = ANY($1) AND kind = 'booked'`, ids); n != 0 {
		t.Errorf("%d 'booked' notifications for held slots, want none", n)
	}
	h.placeReturned()
	h.checkClean()
}

// TestSubstituteRefusals (L): a substitute who is not the same level, a
// lottery clinic, a substitute already sitting then: each refused with its
// code, and the clinic is not stopped.
func TestSubstituteRefusals(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	sess := h.session(sessionOpts{dept: "Urology", online: 4})
	h.mustBook(h.user(1), 0, sess, "")
	expert := h.colleague("Urology", "chief physician", booking.FeeExpert)
	junior := h.colleague("Urology", "attending physician", "")
	elsewhere := h.colleague("Neurology", "chief physician", "")
	busy := h.colleague("Urology", "chief physician", "")
	_, err := h.svc.CreateSession(h.ctx, admin, h.morning(busy, 2, 0, time.Now().Add(time.Hour)))
	testenv.Must(t, err, "the busy colleague's own clinic")
	lottery := h.lotterySession(lotteryOpts{dept: "Urology", period: "afternoon", online: 4})
	free := h.colleague("Urology", "chief physician", "")

	for _, c := range []struct {
		name string
		sess *booking.Session
		req  booking.StopRequest
		want *booking.Error
	}{
		{"another fee level", sess, booking.StopRequest{SubstituteDoctorID: expert.ID}, booking.ErrNotSameLevel},
		{"another title", sess, booking.StopRequest{SubstituteDoctorID: junior.ID}, booking.ErrNotSameLevel},
		{"another department", sess, booking.StopRequest{SubstituteDoctorID: elsewhere.ID}, booking.ErrNotSameLevel},
		{"sitting at that time", sess, booking.StopRequest{SubstituteDoctorID: busy.ID}, booking.ErrSessionOverlap},
		{"no such doctor", sess, booking.StopRequest{SubstituteDoctorID: booking.NewID()}, booking.ErrDoctorNotFound},
		{"a hold past the start", sess, booking.StopRequest{SubstituteDoctorID: free.ID, HoldUntil: sess.StartsAt.Add(time.Minute)}, booking.ErrInvalidField},
		{"a lottery clinic", lottery, booking.StopRequest{SubstituteDoctorID: free.ID}, booking.ErrSubstituteLottery},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.req.Reason = "the doctor is ill"
			_, err := h.svc.Stop(h.ctx, admin, c.sess.ID, c.req)
			wantErr(t, c.name, err, c.want)
		})
	}
	if got, _ := h.svc.Catalog().Session(sess.ID); got.Stopped() || len(h.activeInSQL(sess)) != 1 {
		t.Errorf("a refused substitute stopped the clinic")
	}
	h.checkClean()
}

// TestOwnDeclineConfirmed (L): a patient who declines a substitute offer
// (替诊) is sent a confirmation that the booking is cancelled and is not a
// no-show; the notify job run twice tells it once.
func TestOwnDeclineConfirmed(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	sess := h.session(sessionOpts{dept: "Dermatology", online: 4})
	sub := h.colleague("Dermatology", "chief physician", "")
	u := h.users(1, 1)[0]
	b, err := h.svc.Book(h.ctx, u.actor, booking.BookRequest{SessionID: sess.ID, PatientID: u.patients[0].ID, Channel: booking.ChannelOnline})
	testenv.Must(t, err, "book")
	_, err = h.svc.Stop(h.ctx, admin, sess.ID, booking.StopRequest{Reason: "the doctor is ill", SubstituteDoctorID: sub.ID})
	testenv.Must(t, err, "stop with a substitute")
	held := booking.NameID(b.ID, "substitute")
	_, err = h.svc.AnswerOffer(h.ctx, u.actor, held, false, booking.Origin{})
	testenv.Must(t, err, "the patient declines")
	for range 2 {
		_, err = h.svc.NotifyEvents(h.ctx)
		testenv.Must(t, err, "notifications from events")
	}
	if n := h.count(`SELECT count(*) FROM notifications WHERE booking_id = $1 AND account_id = $2 AND kind = 'cancelled'
		AND body LIKE '%declined the substitute%not a no-show%'`, held, u.actor.AccountID); n != 1 {
		t.Errorf("%d confirmations of the patient's own decline, want 1", n)
	}
}

// TestSameTitleAsTheHospitalWritesIt: a substitute's title is compared by
// the professional title it names (职称), however the hospital wrote it —
// "主任医师" and "主任医师 Chief Physician" are one title, and no seeded pair
// could substitute for each other (review15) — while 副主任医师, which
// contains 主任医师, is another.
func TestSameTitleAsTheHospitalWritesIt(t *testing.T) {
	doc := func(title string) booking.Doctor {
		return booking.Doctor{DepartmentID: "d", FeeLevel: booking.FeeExpert, Title: title}
	}
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"主任医师", "主任医师 Chief Physician", true},
		{" 副主任医师 Associate Chief Physician", "副主任医师", true},
		{"主治医师 Attending", "主治医师", true},
		{"副主任医师", "主任医师", false}, // near miss: one contains the other
		{"主任医师", "主任中医师", false},
		{"住院医师", "医师", false},
		{"Chief Physician", "Chief Physician ", true}, // no title known: the text, trimmed
		{"Chief Physician", "Attending", false},
	} {
		if got := doc(tc.a).SameLevelAs(doc(tc.b)); got != tc.same {
			t.Errorf("%q beside %q: same level %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
	other := doc("主任医师")
	other.FeeLevel = booking.FeeSpecial
	if doc("主任医师").SameLevelAs(other) {
		t.Errorf("another fee level is the same level")
	}
	other = doc("主任医师")
	other.DepartmentID = "e"
	if doc("主任医师").SameLevelAs(other) {
		t.Errorf("another department is the same level")
	}
}

// TestCanStandInByTheClinicsDepartment: whether a doctor may stand in is
// judged by the clinic's department, not the absent doctor's current one —
// a doctor moved to another department since the clinic was published had
// no substitute at all while the rule compared with where they work now.
func TestCanStandInByTheClinicsDepartment(t *testing.T) {
	sess := &booking.Session{DepartmentID: "cardio"}
	moved := booking.Doctor{ID: "wang", DepartmentID: "neuro", FeeLevel: booking.FeeExpert, Title: "主任医师"}
	for _, tc := range []struct {
		name string
		sub  booking.Doctor
		ok   bool
	}{
		{"the clinic's department, same title and fee", booking.Doctor{ID: "li", DepartmentID: "cardio", FeeLevel: booking.FeeExpert, Title: "主任医师 Chief Physician"}, true},
		{"the doctor's new department", booking.Doctor{ID: "zhao", DepartmentID: "neuro", FeeLevel: booking.FeeExpert, Title: "主任医师"}, false},
		{"the doctor themself", moved, false},
		{"another fee level", booking.Doctor{ID: "li", DepartmentID: "cardio", FeeLevel: booking.FeeGeneral, Title: "主任医师"}, false},
		{"a lower title", booking.Doctor{ID: "li", DepartmentID: "cardio", FeeLevel: booking.FeeExpert, Title: "副主任医师"}, false},
	} {
		err := booking.CanStandIn(sess, moved, tc.sub)
		if (err == nil) != tc.ok {
			t.Errorf("%s: CanStandIn = %v, want allowed %v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, booking.ErrNotSameLevel) {
			t.Errorf("%s: refused with %v, want %v", tc.name, err, booking.ErrNotSameLevel)
		}
	}
}

// sweepFails fails the closing's sweep (FutureBookingsMadeBy) while fail
// is set: the request stands with what it did not cancel still live.
type sweepFails struct {
	booking.Store
	fail atomic.Bool
}

func (s *sweepFails) FutureBookingsMadeBy(ctx context.Context, accountID string, now time.Time) ([]booking.Booking, error) {
	if s.fail.Load() {
		return nil, errors.New("the sweep fails")
	}
	return s.Store.FutureBookingsMadeBy(ctx, accountID, now)
}

// TestOfferDuringAPendingClosing (session 25): a substitute offer open to
// an account whose online closing is pending (the request's sweep failed
// part way, or the stop came in the second before another instance learnt
// of the request). Accepting is a new booking of the account — one the
// closing's sweep then cancels, late a no-show of its person — so it is
// refused (409 account_closing), the patient's and the desk's alike, the
// offer left open; declining always works, without penalty; and the job
// "closed accounts" declines what is left, as the request would have.
func TestOfferDuringAPendingClosing(t *testing.T) {
	wrap := &sweepFails{}
	h := newHarness(t, harnessConfig{soldOutFor: -1, wrap: func(s *cockroach.Store) booking.Store { wrap.Store = s; return wrap }})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	clerk := h.staffOf(booking.RoleClerk, h.hosp.ID)
	sess := h.session(sessionOpts{dept: "Dermatology", online: 4})
	sub := h.colleague("Dermatology", "chief physician", "")
	u := h.user(2)
	var held []string
	for p := range u.patients {
		b, err := h.svc.Book(h.ctx, u.actor, booking.BookRequest{SessionID: sess.ID, PatientID: u.patients[p].ID, Channel: booking.ChannelOnline})
		testenv.Must(t, err, "book patient %d", p)
		held = append(held, booking.NameID(b.ID, "substitute"))
	}
	_, err := h.svc.Stop(h.ctx, admin, sess.ID, booking.StopRequest{Reason: "the doctor is ill", SubstituteDoctorID: sub.ID})
	testenv.Must(t, err, "stop with a substitute")

	wrap.fail.Store(true)
	got, err := h.svc.CloseAccount(h.ctx, u.actor, booking.CloseAccountRequest{Password: password}, booking.Origin{})
	testenv.Must(t, err, "ask for the closing (its sweep fails)")
	wrap.fail.Store(false)
	if !got.Pending || got.Bookings != 0 {
		t.Fatalf("the request = %+v, want pending with nothing cancelled", got)
	}
	back, err := h.svc.Login(h.ctx, u.phone, password, booking.Origin{})
	testenv.Must(t, err, "log in during the cooling-off")
	actor, err := h.svc.Authenticate([]byte(back.Token))
	testenv.Must(t, err, "authenticate")

	for _, who := range []struct {
		name  string
		actor booking.Actor
	}{{"the patient", actor}, {"the desk", clerk}} {
		if _, err := h.svc.AnswerOffer(h.ctx, who.actor, held[0], true, booking.Origin{}); !errors.Is(err, booking.ErrAccountClosing) {
			t.Errorf("%s accepts during the pending closing: %v, want account_closing", who.name, err)
		}
	}
	db := h.sql()
	db.wantCount("the offer still open after the refused accepts", 1, `SELECT count(*) FROM substitute_offers WHERE booking_id = $1 AND status = 'offered'`, held[0])
	if _, err := h.svc.AnswerOffer(h.ctx, actor, held[0], false, booking.Origin{}); err != nil {
		t.Errorf("the patient declines during the pending closing: %v", err)
	}
	db.wantCount("the declined slot cancelled without penalty", 1, `SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled' AND NOT late_cancel`, held[0])
	db.wantCount("the offer declined", 1, `SELECT count(*) FROM substitute_offers WHERE booking_id = $1 AND status = 'declined'`, held[0])

	if n, err := h.svc.SweepClosedAccounts(h.ctx); err != nil || n != 1 {
		t.Errorf("the job: %d, %v; want the other held slot cancelled", n, err)
	}
	db.wantCount("the job declines the other offer", 1, `SELECT count(*) FROM substitute_offers WHERE booking_id = $1 AND status = 'declined'`, held[1])
	db.wantCount("its slot cancelled without penalty", 1, `SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled' AND NOT late_cancel`, held[1])
}
