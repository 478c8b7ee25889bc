package main

import (
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestPolicyOverAPI: the whole policy travels over the real binary: an
// invalid one is refused 400 invalid_field with nothing stored, a valid one
// is answered and read back (current and history), and the public hospital
// listing states the booking window in effect.
func TestPolicyOverAPI(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 3)
	svc := startService(t, sch, nil)
	admin := svc.staffLogin(booking.RoleAdmin, 140)
	path := "/v1/admin/hospitals/" + svc.hospital + "/policy"
	body := func(edit func(m map[string]any)) map[string]any {
		m := map[string]any{"per_day": 2, "per_week": 8, "per_month": 12, "cancel_deadline": "15:00", "reason": "board rules",
			"book_ahead_days": 7, "onsite_share": 20, "no_show_window_days": 400,
			// Stricter than the service's rules (3 in 365 days bar 90, 6
			// bar 180): laxer ones wait a day (review25 M2).
			"no_show_steps": []map[string]int{{"count": 2, "bar_days": 90}, {"count": 4, "bar_days": 180}}}
		edit(m)
		return m
	}
	for _, c := range []struct {
		name string
		edit func(m map[string]any)
	}{
		{"negative window", func(m map[string]any) { m["book_ahead_days"] = -1 }},
		{"share over 100", func(m map[string]any) { m["onsite_share"] = 101 }},
		{"bar of 0 days", func(m map[string]any) { m["no_show_steps"] = []map[string]int{{"count": 2, "bar_days": 0}} }},
		{"steps without a window", func(m map[string]any) { m["no_show_window_days"] = 0 }},
		{"unknown rule", func(m map[string]any) { m["vip_share"] = 5 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := svc.do("POST", path, admin, body(c.edit))
			if r.status != 400 || r.code != "invalid_field" {
				t.Errorf("%s = %d %q, want 400 invalid_field (%s)", c.name, r.status, r.code, r.body)
			}
		})
	}
	if n := svc.count(`SELECT count(*) FROM hospital_policies`); n != 0 {
		t.Fatalf("%d policies stored after refusals only", n)
	}
	r := svc.do("POST", path, admin, body(func(map[string]any) {}))
	if r.status != 201 {
		t.Fatalf("set policy = %d %s", r.status, r.body)
	}
	type step struct {
		Count   int `json:"count"`
		BarDays int `json:"bar_days"`
	}
	type rules struct {
		BookAheadDays int    `json:"book_ahead_days"`
		OnsiteShare   int    `json:"onsite_share"`
		Window        int    `json:"no_show_window_days"`
		Steps         []step `json:"no_show_steps"`
	}
	var got struct {
		Current rules   `json:"current"`
		History []rules `json:"history"`
	}
	svc.do("GET", path, admin, nil).decode(t, &got)
	want := rules{BookAheadDays: 7, OnsiteShare: 20, Window: 400, Steps: []step{{2, 90}, {4, 180}}}
	for _, have := range append([]rules{got.Current}, got.History...) {
		if have.BookAheadDays != want.BookAheadDays || have.OnsiteShare != want.OnsiteShare || have.Window != want.Window ||
			len(have.Steps) != 2 || have.Steps[1] != want.Steps[1] {
			t.Errorf("policy read back = %+v, want %+v", have, want)
		}
	}
	if len(got.History) != 1 {
		t.Errorf("history has %d changes, want 1", len(got.History))
	}
	var hs []struct {
		ID     string `json:"hospital_id"`
		Policy struct {
			BookAheadDays int `json:"book_ahead_days"`
		} `json:"policy"`
	}
	svc.do("GET", "/v1/hospitals", "", nil).decode(t, &hs)
	found := false
	for _, h := range hs {
		if h.ID == svc.hospital {
			found = true
			if h.Policy.BookAheadDays != 7 {
				t.Errorf("the hospital listing states a window of %d days, want 7", h.Policy.BookAheadDays)
			}
		}
	}
	if !found {
		t.Errorf("the hospital listing %+v lacks hospital %s", hs, svc.hospital)
	}
}
