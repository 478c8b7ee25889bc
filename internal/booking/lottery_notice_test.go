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
