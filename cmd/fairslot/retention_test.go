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
// a number kept past its need and grace is deleted, one within it stays —
// and says what it deleted; a second run deletes nothing. serve exports the
// job's counters.
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

	if out := svc.run("retention"); !strings.Contains(out, "purged 0 call-back rows and 1 kept numbers") {
		t.Errorf("fairslot retention said %q, want one number purged", out)
	}
	if n := svc.count(`SELECT count(*) FROM caller_phones WHERE item_id = $1`, old); n != 0 {
		t.Errorf("the number kept past the grace is still there")
	}
	if n := svc.count(`SELECT count(*) FROM caller_phones WHERE item_id = $1`, recent); n != 1 {
		t.Errorf("the number kept within the grace is gone")
	}
	if out := svc.run("retention"); !strings.Contains(out, "purged 0 call-back rows and 0 kept numbers") {
		t.Errorf("a second fairslot retention said %q, want nothing purged", out)
	}
	samples := scrape(t, "http://"+admin+"/metrics")
	for _, name := range []string{"fairslot_call_backs_purged_total", "fairslot_caller_phones_purged_total"} {
		if len(samples[name]) != 1 {
			t.Errorf("serve's /metrics has %d series %s, want 1", len(samples[name]), name)
		}
	}
}
