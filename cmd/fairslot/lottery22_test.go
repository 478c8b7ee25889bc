package main

import (
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// Session 22's lottery points over the real binary.

// publishLottery publishes, through the API, a session days ahead whose
// online pool is a lottery opening at opens (a ten-minute window) beside
// the other pools given; it answers the session's id and the reply.
func publishLottery(t *testing.T, svc *service, admin, doc string, days int, opens time.Time, others ...map[string]any) (string, reply) {
	t.Helper()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(loc)
	start := time.Date(now.Year(), now.Month(), now.Day()+days, 8, 0, 0, 0, loc)
	pools := []map[string]any{{"channel": "online", "quota": 4, "release_at": opens.Format(time.RFC3339), "release_mode": "lottery",
		"opens_at": opens.Format(time.RFC3339), "draw_at": opens.Add(10 * time.Minute).Format(time.RFC3339)}}
	r := svc.do("POST", "/v1/admin/sessions", admin, map[string]any{
		"doctor_id": doc, "date": start.Format(time.DateOnly), "period": "morning",
		"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(4 * time.Hour).Format(time.RFC3339),
		"channels": append(pools, others...),
	})
	if r.status != 201 {
		t.Fatalf("publish a lottery session = %d %s", r.status, r.body)
	}
	var out struct {
		ID string `json:"session_id"`
	}
	r.decode(t, &out)
	return out.ID, r
}

// publishedAt reads the online pool's published_at from the public draw
// record; zero when absent.
func (s *service) publishedAt(id string) time.Time {
	s.t.Helper()
	var ds []struct {
		Channel     string `json:"channel"`
		OpensAt     string `json:"opens_at"`
		PublishedAt string `json:"published_at"`
	}
	r := s.do("GET", "/v1/lottery/sessions/"+id, "", nil)
	if r.status != 200 {
		s.t.Fatalf("GET the draw record = %d %s", r.status, r.body)
	}
	r.decode(s.t, &ds)
	for _, d := range ds {
		if d.Channel == "online" && d.PublishedAt != "" {
			at, err := time.Parse(time.RFC3339, d.PublishedAt)
			if err != nil {
				s.t.Errorf("published_at %q: %v", d.PublishedAt, err)
			}
			return at
		}
	}
	return time.Time{}
}

// TestLotteryRecordSaysWhenPublished (review20 M1's last part): the public
// draw record says when the pool's rules — its mode, release and window —
// became public (published_at), so that anyone can check the notice the
// public had before the window; an edit of the window publishes it anew, an
// edit of its quota alone does not; `fairslot lottery verify` prints it.
func TestLotteryRecordSaysWhenPublished(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 3)
	svc := startService(t, sch, nil)
	admin := svc.staffLogin(booking.RoleAdmin, 1)
	opens := time.Now().Add(50 * time.Hour).Truncate(time.Minute)
	before := time.Now().Truncate(time.Second)
	id, _ := publishLottery(t, svc, admin, sch.Doctors[0].ID, 5, opens)
	after := time.Now().Add(time.Second)
	first := svc.publishedAt(id)
	if first.Before(before) || first.After(after) {
		t.Fatalf("published_at = %v; want the publish's time, in [%v, %v]", first, before, after)
	}
	// Only the quota changes: the rules the public read stand.
	v := svc.sessionVersion(admin, id)
	if r := svc.do("PATCH", "/v1/admin/sessions/"+id, admin, map[string]any{"version": v,
		"channels": []map[string]any{{"channel": "online", "quota": 6}}}); r.status != 200 {
		t.Fatalf("PATCH the quota = %d %s", r.status, r.body)
	}
	if got := svc.publishedAt(id); !got.Equal(first) {
		t.Errorf("published_at after a quota's edit = %v; want %v kept", got, first)
	}
	// The window moves a day later: published anew.
	time.Sleep(time.Until(first.Add(1100 * time.Millisecond))) // a later second
	later := opens.Add(24 * time.Hour)
	v = svc.sessionVersion(admin, id)
	if r := svc.do("PATCH", "/v1/admin/sessions/"+id, admin, map[string]any{"version": v,
		"channels": []map[string]any{{"channel": "online", "release_at": later.Format(time.RFC3339), "release_mode": "lottery",
			"opens_at": later.Format(time.RFC3339), "draw_at": later.Add(10 * time.Minute).Format(time.RFC3339)}}}); r.status != 200 {
		t.Fatalf("PATCH the window = %d %s", r.status, r.body)
	}
	moved := svc.publishedAt(id)
	if !moved.After(first) {
		t.Errorf("published_at after the window moved = %v; want later than %v", moved, first)
	}
	var out strings.Builder
	_ = run(t.Context(), []string{"lottery", "verify", "--session", id}, svc.getenv, &out, svc.logs)
	if !strings.Contains(out.String(), "published "+moved.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339)) ||
		!strings.Contains(out.String(), "before its window") {
		t.Errorf("verify printed %q; want when the pool was published and the notice before its window", out.String())
	}
}
