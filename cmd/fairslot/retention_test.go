package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestRetentionByHand: `fairslot retention` runs the retention job once —
// a number kept past its need and grace is deleted, one within it stays;
// an event's phone reference past the detection window is emptied, one
// within it stays — and says what it deleted and erased; a second run
// does nothing. serve exports the job's counters.
func TestRetentionByHand(t *testing.T) {
	admin := freeAddr(t)
	svc := startService(t, schedule(t, time.Now().Add(-time.Minute), 1), map[string]string{"FAIRSLOT_ADMIN_ADDR": admin})
	keep := func(item string, at time.Time) {
		_, err := svc.pool.Exec(context.Background(), `INSERT INTO caller_phones (item_id, identity_id, phone_sealed, phone_masked, kept_at)
			VALUES ($1, $2, 'sealed', '139****0000', $3)`, item, booking.NewID(), at)
		testenv.Must(t, err, "keep a number")
	}
	old, recent := booking.NewID(), booking.NewID()
	keep(old, time.Now().Add(-booking.DefaultCallBackGrace-time.Hour))
	keep(recent, time.Now().Add(-booking.DefaultCallBackGrace+time.Hour))
	login := func(at time.Time) string {
		id := booking.NewID()
		_, err := svc.pool.Exec(context.Background(), `INSERT INTO booking_events (id, ts, type, account_id, phone, ip, device_id)
			VALUES ($1, $2, 'login', $3, 'hash:0123456789abcdef', '203.0.113.7', 'alice-phone-1')`, id, at, booking.NewID())
		testenv.Must(t, err, "log in")
		return id
	}
	oldLogin, newLogin := login(time.Now().Add(-booking.DefaultCallBackGrace-time.Hour)), login(time.Now().Add(-booking.DefaultCallBackGrace+time.Hour))

	if out := svc.run("retention"); !strings.Contains(out, "purged 0 call-back rows and 1 kept numbers") ||
		!strings.Contains(out, "erased the numbers and names of 0 removed family members, the phone, IP address and device id of 1 events and the offered number of 0 reports") {
		t.Errorf("fairslot retention said %q, want one number purged and one event's phone erased", out)
	}
	if n := svc.count(`SELECT count(*) FROM booking_events WHERE id = $1 AND phone = '' AND ip = '' AND device_id = ''`, oldLogin); n != 1 {
		t.Errorf("the login past the window keeps its phone reference, IP address or device id")
	}
	if n := svc.count(`SELECT count(*) FROM booking_events WHERE id = $1 AND phone <> '' AND ip <> '' AND device_id <> ''`, newLogin); n != 1 {
		t.Errorf("the login within the window lost its phone reference, IP address or device id")
	}
	if n := svc.count(`SELECT count(*) FROM caller_phones WHERE item_id = $1`, old); n != 0 {
		t.Errorf("the number kept past the grace is still there")
	}
	if n := svc.count(`SELECT count(*) FROM caller_phones WHERE item_id = $1`, recent); n != 1 {
		t.Errorf("the number kept within the grace is gone")
	}
	if out := svc.run("retention"); !strings.Contains(out, "purged 0 call-back rows and 0 kept numbers") ||
		!strings.Contains(out, "of 0 removed family members, the phone, IP address and device id of 0 events and the offered number of 0 reports") {
		t.Errorf("a second fairslot retention said %q, want nothing purged", out)
	}
	samples := scrape(t, "http://"+admin+"/metrics")
	for _, name := range []string{"fairslot_call_backs_purged_total", "fairslot_caller_phones_purged_total",
		"fairslot_removed_members_erased_total", "fairslot_event_phones_erased_total", "fairslot_report_phones_erased_total",
		"fairslot_notifications_purged_total", "fairslot_identities_erased_total", "fairslot_case_texts_erased_total"} {
		if len(samples[name]) != 1 {
			t.Errorf("serve's /metrics has %d series %s, want 1", len(samples[name]), name)
		}
	}
}

// TestRetentionDeletesOldEvents (review21b M4): booking_events grew
// forever. The retention job deletes refused attempts (rejected,
// rate_limited) past booking.RefusedEventRetention and every other event
// past booking.EventRetention, and keeps what is within them and an event
// of a session whose day is not past.
func TestRetentionDeletesOldEvents(t *testing.T) {
	svc := startService(t, schedule(t, time.Now().Add(-time.Minute), 1), nil)
	var session string
	testenv.Must(t, svc.pool.QueryRow(context.Background(), "SELECT id::TEXT FROM clinic_sessions LIMIT 1").Scan(&session), "a session")
	event := func(typ string, age time.Duration, session string) string {
		id := booking.NewID()
		var sess any
		if session != "" {
			sess = session
		}
		_, err := svc.pool.Exec(context.Background(), `INSERT INTO booking_events (id, ts, type, account_id, session_id) VALUES ($1, $2, $3, $4, $5)`,
			id, time.Now().Add(-age), typ, booking.NewID(), sess)
		testenv.Must(t, err, "an event")
		return id
	}
	day := 24 * time.Hour
	gone := []string{
		event("rejected", booking.RefusedEventRetention+day, ""),
		event("rate_limited", booking.RefusedEventRetention+day, ""),
		event("login", booking.EventRetention+day, ""),
		event("booked", booking.EventRetention+day, ""),
	}
	kept := []string{
		event("rejected", booking.RefusedEventRetention-day, ""),
		event("login", booking.EventRetention-day, ""),
		event("booked", booking.RefusedEventRetention+day, ""),
		event("rejected", booking.RefusedEventRetention+day, session), // its session is tomorrow
	}
	out := svc.run("retention")
	if !strings.Contains(out, "deleted 4 events past retention") {
		t.Errorf("fairslot retention said %q, want 4 events deleted", out)
	}
	for _, id := range gone {
		if n := svc.count("SELECT count(*) FROM booking_events WHERE id = $1", id); n != 0 {
			t.Errorf("event %s past its retention is still there", id)
		}
	}
	for _, id := range kept {
		if n := svc.count("SELECT count(*) FROM booking_events WHERE id = $1", id); n != 1 {
			t.Errorf("event %s within its retention is gone", id)
		}
	}
}
