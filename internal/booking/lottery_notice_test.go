package booking_test

import (
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestNewLotteryNeedsNotice (review20 M1): a lottery session published with
// 70 seconds' notice and a 30-second window was accepted, and the one who
// knew was its only entrant. A new lottery opens with the hospital's release
// notice and stays open at least MinLotteryWindow.
func TestNewLotteryNeedsNotice(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	doc := h.doctor("Neurology")
	now := h.day.Add(-72 * time.Hour) // three days before the visit
	defer h.clock.at(now)()
	lottery := func(opens time.Time, window time.Duration) booking.SessionRequest {
		req := h.morning(doc, 3, 1, opens)
		req.Quotas[0].Mode, req.Quotas[0].OpensAt, req.Quotas[0].DrawAt = booking.Lottery, opens, opens.Add(window)
		return req
	}
	_, err := h.svc.CreateSession(h.ctx, admin, lottery(now.Add(70*time.Second), 30*time.Second))
	wantErr(t, "a lottery opening in 70 s", err, booking.ErrReleaseNotice)
	_, err = h.svc.CreateSession(h.ctx, admin, lottery(now.Add(23*time.Hour), booking.MinLotteryWindow))
	wantErr(t, "a lottery opening in 23 h (the notice is 24 h)", err, booking.ErrReleaseNotice)
	_, err = h.svc.CreateSession(h.ctx, admin, lottery(now.Add(25*time.Hour), 30*time.Second))
	wantErr(t, "a 30-second window", err, booking.ErrLotteryWindowShort)
	sess, err := h.svc.CreateSession(h.ctx, admin, lottery(now.Add(25*time.Hour), booking.MinLotteryWindow))
	testenv.Must(t, err, "a lottery with a day's notice and a 10-minute window")
	q, _ := sess.Channel(booking.ChannelOnline)
	short := booking.PatchOf(lottery(q.OpensAt, time.Minute))
	_, err = h.svc.UpdateSession(h.ctx, admin, sess.ID, short)
	wantErr(t, "an edit shortening the window to a minute", err, booking.ErrLotteryWindowShort)
}

// TestTemplateLotteryNeedsNotice: a week published from a template takes
// the same notice for its lottery pools as one session does — a template
// whose lottery opens within the hour was a way round it, open_past_releases
// or not. The near miss: the same template two days ahead publishes.
func TestTemplateLotteryNeedsNotice(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	doc := h.doctor("Neurology")
	monday := h.day.AddDate(0, 0, 7)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDate(0, 0, 1)
	}
	tmpl := booking.WeekTemplate{DoctorID: doc.ID, Reason: "expert lottery",
		Days:  []booking.TemplateDay{{Weekday: 1, Period: "morning", Start: "09:00", End: "12:00"}},
		Pools: []booking.TemplatePool{{Channel: booking.ChannelOnline, Quota: 4, DaysBefore: 0, At: "08:00", Mode: booking.Lottery}}}
	week := monday.Format(time.DateOnly)
	func() {
		defer h.clock.at(monday.Add(7 * time.Hour))() // an hour before the lottery opens
		_, err := h.svc.PublishWeek(h.ctx, admin, week, tmpl, "")
		wantErr(t, "a template lottery opening in an hour", err, booking.ErrReleaseNotice)
		tmpl.OpenPastReleases = true
		_, err = h.svc.PublishWeek(h.ctx, admin, week, tmpl, "")
		wantErr(t, "the same with open_past_releases", err, booking.ErrReleaseNotice)
		tmpl.OpenPastReleases = false
	}()
	defer h.clock.at(monday.AddDate(0, 0, -2))()
	got, err := h.svc.PublishWeek(h.ctx, admin, week, tmpl, "")
	testenv.Must(t, err, "the template lottery two days ahead")
	if len(got) != 1 {
		t.Errorf("published %d sessions, want 1", len(got))
	}
}
