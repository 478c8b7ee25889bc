package main

import (
	"context"
	"net/url"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestAuditPagesBack: GET /v1/admin/audit answers at most 1,000 entries,
// newest first; `before` (the previous page's last audit_id) reads the next
// page, so an older incident is read through the API page by page. 2,345
// entries in groups of 700 of one time put both page boundaries among equal
// times: every entry is seen exactly once, in order. An id that is not an
// entry is a 400. review10b: the API could not page back at all.
func TestAuditPagesBack(t *testing.T) {
	svc := startService(t, schedule(t, time.Now().Add(time.Hour), 1), nil)
	admin := svc.staffLogin(booking.RoleAdmin, 61)
	now := time.Now().Truncate(time.Second)
	if _, err := svc.pool.Exec(context.Background(), `INSERT INTO audit_log (id, ts, actor_role, action, target)
		SELECT gen_random_uuid(), $1::TIMESTAMPTZ - (g / 700) * INTERVAL '1 second', 'cli', 'test_row', 'row:' || g
		  FROM generate_series(1, 2345) g`, now.Add(-time.Hour)); err != nil {
		t.Fatalf("insert audit rows: %v", err)
	}
	since := now.Add(-48 * time.Hour).Format(time.RFC3339)
	want := svc.count(`SELECT count(*) FROM audit_log WHERE ts >= $1`, now.Add(-48*time.Hour))
	seen := map[string]int{}
	before, pages, last := "", 0, ""
	for {
		q := url.Values{"since": {since}}
		if before != "" {
			q.Set("before", before)
		}
		var page []struct {
			ID string `json:"audit_id"`
			TS string `json:"ts"`
		}
		r := svc.do("GET", "/v1/admin/audit?"+q.Encode(), admin, nil)
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", pages, r.status, r.body)
		}
		r.decode(t, &page)
		pages++
		for _, e := range page {
			seen[e.ID]++
			ts, err := time.Parse(time.RFC3339, e.TS)
			if err != nil {
				t.Fatalf("ts %q: %v", e.TS, err)
			}
			if last != "" && ts.After(mustTime(t, last)) {
				t.Errorf("page %d: %s after %s, want newest first", pages, e.TS, last)
			}
			last = e.TS
		}
		if len(page) < booking.AuditPageSize || pages > 10 {
			break
		}
		before = page[len(page)-1].ID
	}
	if pages != 3 {
		t.Errorf("pages = %d, want 3 (1,000 + 1,000 + the rest)", pages)
	}
	if len(seen) != want {
		t.Errorf("distinct entries seen = %d, want %d", len(seen), want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("entry %s seen %d times, want once", id, n)
		}
	}

	for _, bad := range []string{"not-an-id", "00000000-0000-0000-0000-000000000000"} {
		r := svc.do("GET", "/v1/admin/audit?before="+bad, admin, nil)
		if r.status != 400 || r.code != "invalid_cursor" {
			t.Errorf("before=%s: %d %s, want 400 invalid_cursor, as every list's bad cursor", bad, r.status, r.body)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}
