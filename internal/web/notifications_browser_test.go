package web

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestReadOneNotificationInBrowser: of two unread notifications, the patient
// marks one read with its own button; the other stays unread, and the
// count says so. Screenshots at 1280 and 390 px (notifications-*.png).
func TestReadOneNotificationInBrowser(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t, s.base, 2*time.Minute)
	b.register(newPhone(), "correct horse battery")
	b.addSelf(bornIn(1984, int(time.Now().UnixNano()%1000)), "陈芳")
	ids := []string{booking.NewID(), booking.NewID()}
	for i, id := range ids {
		_, err := s.db.Pool().Exec(context.Background(), `INSERT INTO notifications (id, hospital_id, session_id, kind, account_id, body, created_at)
			SELECT $1, $2, $3, 'session_stopped', account_id, $4, now() - make_interval(secs => $5) FROM patients LIMIT 1`,
			id, s.hospital.ID, s.open.ID, []string{"李明医生明天上午停诊 Dr Li's clinic is stopped", "候补成功 Your waitlist place won a slot"}[i], i)
		testenv.Must(t, err, "write a notification")
	}
	b.open("/patient")
	b.contains("#unread", "2")
	b.shot("notifications-01-two-unread")
	b.click("#n-"+ids[1]+" form.read-one button", "/patient")
	b.contains("#unread", "1")
	b.absent("#n-" + ids[1] + " form.read-one")
	b.absent("#n-" + ids[1] + ".unread")
	read, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#notifications li.unread form.read-one").length`))
	if err != nil || read != 1 {
		t.Errorf("unread notifications with a button = %d (%v), want 1", read, err)
	}
	b.shot("notifications-02-one-read")
	b.phoneShot("notifications-02-one-read-390")
	if n := s.count(`SELECT count(*) FROM notifications WHERE read_at IS NOT NULL`); n != 1 {
		t.Errorf("%d notifications read in SQL, want 1", n)
	}
}
