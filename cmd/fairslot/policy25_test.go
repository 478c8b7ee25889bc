package main

import (
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestWeakerPolicyWaitsTheOldNotice is review25 M2, the reviewer's
// sequence: one hospital administrator lowers the release notice to an
// hour and, seconds later, moves a published release to an hour away. A
// policy change that weakens a guard takes effect only the old notice
// from now (24 hours), so the move is still refused release_notice; the
// answer says when the change takes effect and which guards it weakens.
// Its near miss: a change that weakens nothing (a longer notice) takes
// effect at once. And release_notice_hours 0 is what the doc says: the
// default, 24, shown as 24.
func TestWeakerPolicyWaitsTheOldNotice(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 3, 3)
	svc := startService(t, sch, nil)
	h := sch.Hospitals[0].ID
	admin := svc.staffLoginAt(booking.RoleAdmin, 2510, h)
	id, start := publishAhead(t, svc, sch, admin, 20)
	edit := func(online time.Time) reply { return moveOnlineRelease(t, svc, admin, id, start, online) }
	var cur struct {
		Current map[string]any `json:"current"`
	}
	svc.do("GET", "/v1/admin/hospitals/"+h+"/policy", admin, nil).decode(t, &cur)
	policy := func(notice int) map[string]any {
		p := map[string]any{}
		for _, k := range []string{"per_day", "per_week", "per_month", "cancel_deadline", "book_ahead_days", "onsite_share",
			"extra_slots_max", "stop_undo_minutes", "no_show_window_days", "no_show_steps"} {
			p[k] = cur.Current[k]
		}
		p["release_notice_hours"], p["reason"] = notice, "调整放号通知时限"
		return p
	}
	if r := edit(time.Now().Add(time.Minute).Truncate(time.Second)); r.status != 422 || r.code != "release_notice" {
		t.Fatalf("the release moved to in a minute = %d %s, want 422 release_notice", r.status, r.body)
	}
	before := time.Now()
	r := svc.do("POST", "/v1/admin/hospitals/"+h+"/policy", admin, policy(1))
	var set struct {
		EffectiveFrom time.Time `json:"effective_from"`
		Weakens       []string  `json:"weakens"`
		Notice        int       `json:"release_notice_hours"`
	}
	r.decode(t, &set)
	if r.status != 201 || set.EffectiveFrom.Before(before.Add(24*time.Hour-time.Minute)) || len(set.Weakens) != 1 || set.Weakens[0] != "release_notice_hours" {
		t.Errorf("lower the notice to 1 hour = %d %s, want 201 effective 24 hours from now, weakening release_notice_hours", r.status, r.body)
	}
	if r := edit(time.Now().Add(61 * time.Minute).Truncate(time.Second)); r.status != 422 || r.code != "release_notice" {
		t.Errorf("the release moved to an hour away after the lowered notice = %d %s, want 422 release_notice", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'policy_set' AND reason LIKE '%weakens release_notice_hours%'`); n != 1 {
		t.Errorf("policy_set audit rows saying what the change weakens: %d, want 1", n)
	}

	// The near miss: a longer notice weakens nothing and holds at once.
	before = time.Now()
	r = svc.do("POST", "/v1/admin/hospitals/"+h+"/policy", admin, policy(48))
	set.Weakens = nil
	r.decode(t, &set)
	if r.status != 201 || set.EffectiveFrom.After(before.Add(time.Minute)) || len(set.Weakens) != 0 {
		t.Errorf("raise the notice to 48 hours = %d %s, want 201 in effect now", r.status, r.body)
	}
	// 0 is the default, 24, as the doc says: weaker than 48, so it waits
	// the 48 hours in effect.
	r = svc.do("POST", "/v1/admin/hospitals/"+h+"/policy", admin, policy(0))
	set.Weakens = nil
	r.decode(t, &set)
	if r.status != 201 || set.Notice != 24 || len(set.Weakens) != 1 || set.EffectiveFrom.Before(before.Add(48*time.Hour-time.Minute)) {
		t.Errorf("release_notice_hours 0 = %d %s, want 201 with 24 (the default) shown, effective 48 hours from now", r.status, r.body)
	}
}
