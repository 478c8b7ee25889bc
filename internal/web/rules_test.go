package web

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestRulesPage: the rules are public and come from what the service
// enforces (the hospital's policy, the no-show rules, its sessions' release
// times); a signed-in patient also sees each family member's own record,
// here one late cancellation, counted as a no-show, and the bar the next
// ones would earn. Screenshots at 1280 and 390 px (rules-*.png).
func TestRulesPage(t *testing.T) {
	s := newSite(t)
	today := s.addToday()
	h, ok := s.svc.Catalog().Hospital(today.HospitalID)
	if !ok {
		t.Fatal("the site's hospital is not in the catalog")
	}
	policy, deadline := h.PolicyAt(time.Now())

	anon := s.client().get("/patient/rules?hospital=" + h.ID)
	if anon.status != 200 {
		t.Fatalf("GET /patient/rules without a session: %d", anon.status)
	}
	for _, want := range []string{
		h.Name,
		fmt.Sprintf("at most %d per visit day", policy.PerDay),
		fmt.Sprintf("at most %d active per week", policy.PerWeek),
		fmt.Sprintf("at most %d active per month", policy.PerMonth),
		"Cancel before " + deadline,
		"3 no-shows in 12 months bar booking for 90 days",
		"First come",
		"Sign in",
	} {
		if !strings.Contains(anon.body, want) {
			t.Errorf("the public rules page does not say %q", want)
		}
	}
	if strings.Contains(anon.body, `id="standing"`) {
		t.Errorf("the public rules page shows a record")
	}

	p := newDeskPatient(t, s, 6301, "王小明", today.ID)
	a := p.c.post("/patient/bookings/"+p.bookingID+"/cancel", url.Values{"csrf": {p.c.csrf("/patient/bookings")}})
	if a.status != 303 || mustQuery(t, a.location, "ok") != "cancelled_late" {
		t.Fatalf("cancel today's visit: %d → %q, want a late cancellation", a.status, a.location)
	}
	page := p.c.get("/patient/rules")
	for _, want := range []string{"My family's record", "1 no-shows in the counting window", "3 would bar booking for 90 days", "王*"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the signed-in rules page does not say %q", want)
		}
	}
	other := newDeskPatient(t, s, 6302, "李四", s.open.ID)
	if page := other.c.get("/patient/rules"); !strings.Contains(page.body, "0 no-shows") || strings.Contains(page.body, "1 no-shows") {
		t.Errorf("another family's rules page shows this family's record")
	}

	b := newBrowser(t, s.base, 2*time.Minute)
	b.register(newPhone(), "correct horse battery")
	b.open("/patient/rules")
	b.contains("#limits", fmt.Sprintf("at most %d per visit day", policy.PerDay))
	b.contains("#standing", "No family members yet")
	b.shot("rules-01")
	b.phoneShot("rules-01-390")
}

// TestRulesSummariseReleases: the usual release times are counted per
// channel from the sessions still to come, in the hospital's zone.
func TestRulesSummariseReleases(t *testing.T) {
	s := newSite(t)
	rules, err := s.svc.Rules(s.open.HospitalID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[booking.Channel]int{}
	for _, r := range rules.Releases {
		if r.Sessions < 1 || r.DaysBefore < 0 || len(r.Clock) != 5 {
			t.Errorf("release pattern %+v, want a count, days before the visit and a clock time", r)
		}
		seen[r.Channel] += r.Sessions
	}
	var upcoming int
	now := time.Now()
	for _, sess := range s.svc.Catalog().HospitalSessions(s.open.HospitalID) {
		if !sess.Stopped() && sess.EndsAt.After(now) {
			upcoming++
		}
	}
	for _, ch := range []booking.Channel{booking.ChannelOnline} {
		if seen[ch] != upcoming {
			t.Errorf("%s: %d sessions in the release patterns, want the %d upcoming", ch, seen[ch], upcoming)
		}
	}
	if _, err := s.svc.Rules("no-such-hospital"); err == nil {
		t.Errorf("Rules of an unknown hospital succeeded")
	}
}
