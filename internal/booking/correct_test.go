package booking_test

import (
	"bytes"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestSeededLotteryIsCorrected (review17 M2): a lottery session whose seed
// is committed, whose window has not opened and that nobody entered is
// corrected or withdrawn; the correction keeps the committed seed (the
// published commitment is still the one its draw is checked against, so an
// edit cannot re-roll the draw) and its window follows the correction.
func TestSeededLotteryIsCorrected(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	doc := h.doctor("Neurology")
	lottery := func(online int, opens time.Time, period string, from, to time.Duration) booking.SessionRequest {
		req := h.morning(doc, online, 1, opens)
		req.Period, req.StartsAt, req.EndsAt = period, h.day.Add(from), h.day.Add(to)
		req.Quotas[0].Mode, req.Quotas[0].OpensAt, req.Quotas[0].DrawAt = booking.Lottery, opens, opens.Add(time.Hour)
		return req
	}
	opens := time.Now().Add(3 * time.Minute) // within SeedLead: the seed is committed now
	// Published a day and more before (a new lottery needs the notice).
	published := h.clock.at(opens.Add(-25 * time.Hour))
	sess, err := h.svc.CreateSession(h.ctx, admin, lottery(3, opens, "morning", 8*time.Hour, 12*time.Hour))
	published()
	testenv.Must(t, err, "create the lottery session")
	_, err = h.svc.RunLottery(h.ctx)
	testenv.Must(t, err, "commit the seeds")
	seeded, _ := h.svc.Catalog().Session(sess.ID)
	q, _ := seeded.Channel(booking.ChannelOnline)
	if q.Draw == nil {
		t.Fatalf("the lottery pool has no committed seed three minutes before its window")
	}
	commitment := q.Draw.Commitment

	later := opens.Add(2 * time.Minute).Truncate(time.Second)
	edit := lottery(4, later, "morning", 8*time.Hour, 12*time.Hour)
	edit.Reason = "one more slot"
	got, err := h.svc.UpdateSession(h.ctx, admin, sess.ID, booking.PatchOf(edit))
	testenv.Must(t, err, "correct the seeded session before its window opens")
	gq, _ := got.Channel(booking.ChannelOnline)
	if gq.Quota != 4 {
		t.Errorf("the corrected online pool has %d slots, want 4", gq.Quota)
	}
	if gq.Draw == nil || !bytes.Equal(gq.Draw.Commitment, commitment) {
		t.Errorf("the correction changed the published commitment (%+v): the draw could be re-rolled", gq.Draw)
	}
	if n := h.count(`SELECT count(*) FROM lottery_pools WHERE session_id = $1 AND opens_at = $2 AND draw_at = $3`,
		sess.ID, later, later.Add(time.Hour)); n != 1 {
		t.Errorf("lottery pools with the corrected window = %d, want 1", n)
	}
	_, err = h.svc.RunLottery(h.ctx)
	testenv.Must(t, err, "the lottery job after the correction")
	again, _ := h.svc.Catalog().Session(sess.ID)
	if aq, _ := again.Channel(booking.ChannelOnline); aq.Draw == nil || !bytes.Equal(aq.Draw.Commitment, commitment) {
		t.Errorf("the lottery job committed another seed after the correction: %+v", aq.Draw)
	}

	// Made first-come, the pool's seed goes: it will never draw.
	plain := h.morning(doc, 4, 1, later)
	_, err = h.svc.UpdateSession(h.ctx, admin, sess.ID, booking.PatchOf(plain))
	testenv.Must(t, err, "make the session first-come before its window opens")
	if n := h.count(`SELECT count(*) FROM lottery_pools WHERE session_id = $1`, sess.ID); n != 0 {
		t.Errorf("a first-come session keeps %d lottery pools, want 0", n)
	}

	// Another seeded session is withdrawn.
	published = h.clock.at(opens.Add(-25 * time.Hour))
	other, err := h.svc.CreateSession(h.ctx, admin, lottery(2, opens, "afternoon", 14*time.Hour, 17*time.Hour))
	published()
	testenv.Must(t, err, "create the afternoon lottery session")
	_, err = h.svc.RunLottery(h.ctx)
	testenv.Must(t, err, "commit the afternoon's seed")
	testenv.Must(t, h.svc.DeleteSession(h.ctx, admin, other.ID, "published by mistake"), "withdraw the seeded session")
	if n := h.count(`SELECT count(*) FROM clinic_sessions WHERE id = $1`, other.ID); n != 0 {
		t.Errorf("the withdrawn session is still in SQL")
	}
	h.checkClean()
}

// TestEnteredLotteryStaysReleased: once its window is open a lottery
// session is released, entered or not; once entered, SQL refuses too.
func TestEnteredLotteryStaysReleased(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	sess := h.lotterySession(lotteryOpts{online: 2})
	u := h.user(1)
	h.mustEnter(u, 0, sess)
	req := booking.SessionRequest{DoctorID: sess.DoctorID, VisitDate: sess.VisitDate, Period: sess.Period,
		StartsAt: sess.StartsAt, EndsAt: sess.EndsAt, Quotas: []booking.ChannelQuota{{Channel: booking.ChannelOnline, Quota: 3,
			ReleaseAt: time.Now().Add(time.Hour), Mode: booking.Lottery}}}
	_, err := h.svc.UpdateSession(h.ctx, admin, sess.ID, booking.PatchOf(req))
	wantErr(t, "correcting an open lottery", err, booking.ErrSessionReleased)
	wantErr(t, "the store's check of an entered lottery", h.store.DeleteSession(h.ctx, sess.ID, 0, booking.AuditEntry{ID: booking.NewID(),
		TS: time.Now(), ActorID: admin.AccountID, ActorRole: admin.Role, Action: "session_delete", Target: "session:" + sess.ID}),
		booking.ErrSessionReleased)
	h.checkClean()
}

// TestStoppedSessionFreesItsHalfDay (review17 M2): a stopped clinic stays
// as the record, is not changed or withdrawn (each refusal says it was
// stopped, not released), and its doctor's half-day is published again.
func TestStoppedSessionFreesItsHalfDay(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	doc := h.doctor("Cardiology")
	sess, err := h.svc.CreateSession(h.ctx, admin, h.morning(doc, 2, 1, time.Now().Add(time.Hour)))
	testenv.Must(t, err, "create session")
	_, err = h.svc.StopSession(h.ctx, admin, sess.ID, "published for the wrong doctor")
	testenv.Must(t, err, "stop the clinic")

	_, err = h.svc.UpdateSession(h.ctx, admin, sess.ID, booking.PatchOf(h.morning(doc, 3, 0, time.Now().Add(time.Hour))))
	wantErr(t, "correcting a stopped clinic", err, booking.ErrSessionStopped)
	wantMessage(t, "correcting a stopped clinic", err, "stopped")
	err = h.svc.DeleteSession(h.ctx, admin, sess.ID, "gone")
	wantErr(t, "withdrawing a stopped clinic", err, booking.ErrSessionStopped)
	wantErr(t, "the store's check of a stopped clinic", h.store.DeleteSession(h.ctx, sess.ID, 0, booking.AuditEntry{ID: booking.NewID(),
		TS: time.Now(), ActorID: admin.AccountID, ActorRole: admin.Role, Action: "session_delete", Target: "session:" + sess.ID}),
		booking.ErrSessionStopped)

	again, err := h.svc.CreateSession(h.ctx, admin, h.morning(doc, 3, 1, time.Now().Add(-time.Second)))
	testenv.Must(t, err, "publish the stopped clinic's half-day again")
	h.mustBook(h.user(1), 0, again, "")
	if n := h.count(`SELECT count(*) FROM clinic_sessions WHERE doctor_id = $1 AND visit_date = $2::DATE AND period = 'morning'`,
		doc.ID, h.date); n != 2 {
		t.Errorf("the doctor's morning has %d sessions in SQL, want 2 (the stopped one kept as the record)", n)
	}
	// The live one holds the half-day: SQL refuses a third.
	lay, err := booking.BuildSession(booking.SessionSpec{HospitalID: h.hosp.ID, DepartmentID: doc.DepartmentID, DoctorID: doc.ID,
		VisitDate: h.date, Period: "morning", StartsAt: h.day.Add(12 * time.Hour), EndsAt: h.day.Add(13 * time.Hour),
		Quotas: []booking.ChannelQuota{{Channel: booking.ChannelOnline, Quota: 2, ReleaseAt: time.Now().Add(time.Hour)}}})
	testenv.Must(t, err, "build session")
	wantErr(t, "a second live session in the half-day", h.store.CreateSession(h.ctx, lay, booking.AuditEntry{ID: booking.NewID(), TS: time.Now(),
		ActorID: admin.AccountID, ActorRole: admin.Role, Action: "session_create", Target: "session:" + lay.ID}), booking.ErrSessionOverlap)
	h.checkClean()
}

// TestWeekRefusalNamesItsSession (review17 L): a week's refusal of one of
// its sessions says which: its date and period, as docs/api/openapi.yaml says.
func TestWeekRefusalNamesItsSession(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	doc := h.doctor("Ophthalmology")
	monday := h.day.AddDate(0, 0, 7)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDate(0, 0, 1)
	}
	// Wednesday's lottery opens at 13:55 on the day and would draw ten
	// minutes later, after the clinic starts at 14:00.
	tmpl := booking.WeekTemplate{DoctorID: doc.ID, SlotCount: 2, Reason: "rota",
		Days: []booking.TemplateDay{{Weekday: 1, Period: "morning", Start: "15:00", End: "17:00"},
			{Weekday: 3, Period: "afternoon", Start: "14:00", End: "17:00"}},
		Pools: []booking.TemplatePool{{Channel: booking.ChannelOnline, Quota: 2, DaysBefore: 0, At: "13:55", Mode: booking.Lottery}}}
	tmpl.Days[0].Period = "afternoon"
	_, err := h.svc.PublishWeek(h.ctx, admin, monday.Format(time.DateOnly), tmpl, "")
	wantErr(t, "a lottery drawing after its session starts", err, booking.ErrInvalidField)
	wantMessage(t, "a lottery drawing after its session starts", err, monday.AddDate(0, 0, 2).Format(time.DateOnly)+" afternoon")
}
