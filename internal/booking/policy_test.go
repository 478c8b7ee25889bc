package booking_test

import (
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// policyFrom is a valid policy request of the default quotas, from from.
func policyFrom(from time.Time, edit func(p *booking.Policy)) booking.PolicyRequest {
	p := booking.DefaultPolicy
	edit(&p)
	return booking.PolicyRequest{Policy: p, CancelDeadline: "15:00", EffectiveFrom: from, Reason: "the board's new rules"}
}

// TestInvalidPoliciesRefused (L): a policy that cannot be applied is
// refused with invalid_field, and nothing is stored.
func TestInvalidPoliciesRefused(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	from := time.Now().Add(time.Hour)
	steps := func(s ...booking.NoShowStep) booking.NoShowRules {
		return booking.NoShowRules{Window: 180 * 24 * time.Hour, Steps: s}
	}
	day := 24 * time.Hour
	for _, c := range []struct {
		name string
		edit func(p *booking.Policy)
	}{
		{"a negative booking window", func(p *booking.Policy) { p.BookAheadDays = -1 }},
		{"a booking window over a year", func(p *booking.Policy) { p.BookAheadDays = 366 }},
		{"a negative on-site share", func(p *booking.Policy) { p.OnsiteShare = -5 }},
		{"an on-site share over 100%", func(p *booking.Policy) { p.OnsiteShare = 101 }},
		{"a bar of 0 days with a threshold", func(p *booking.Policy) { p.NoShows = steps(booking.NoShowStep{Count: 3}) }},
		{"a threshold of 0", func(p *booking.Policy) { p.NoShows = steps(booking.NoShowStep{Count: 0, Bar: 30 * day}) }},
		{"steps not ascending", func(p *booking.Policy) {
			p.NoShows = steps(booking.NoShowStep{Count: 4, Bar: 30 * day}, booking.NoShowStep{Count: 2, Bar: 60 * day})
		}},
		{"a shorter bar for more no-shows", func(p *booking.Policy) {
			p.NoShows = steps(booking.NoShowStep{Count: 2, Bar: 60 * day}, booking.NoShowStep{Count: 4, Bar: 30 * day})
		}},
		{"steps without a window", func(p *booking.Policy) {
			p.NoShows = booking.NoShowRules{Steps: []booking.NoShowStep{{Count: 2, Bar: 30 * day}}}
		}},
		{"a window without steps", func(p *booking.Policy) { p.NoShows = booking.NoShowRules{Window: 30 * day} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := h.svc.SetPolicy(h.ctx, admin, h.hosp.ID, policyFrom(from, c.edit))
			wantErr(t, c.name, err, booking.ErrInvalidField)
		})
	}
	if n := h.count(`SELECT count(*) FROM hospital_policies WHERE hospital_id = $1`, h.hosp.ID); n != 0 {
		t.Errorf("%d policies stored after refusals only, want 0", n)
	}
}

// TestBookingWindowFromItsTime (L): a booking window refuses sessions
// further ahead than it, from its time on and not before, on every
// instance once its catalog watch has run; the history keeps the rule.
func TestBookingWindowFromItsTime(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	other := h.stack.Instance(t, booking.Config{Now: h.clock.Now})
	_, _ = other.WatchCatalog(h.ctx)
	doc := h.doctor("Dermatology")
	near := h.session(sessionOpts{dept: "Cardiology", online: 3})
	req := h.morning(doc, 3, 1, time.Now().Add(-time.Hour))
	far := h.day.AddDate(0, 0, 3) // four days ahead
	req.VisitDate, req.StartsAt, req.EndsAt = far.Format(time.DateOnly), far.Add(8*time.Hour), far.Add(12*time.Hour)
	farSess, err := h.svc.CreateSession(h.ctx, admin, req)
	testenv.Must(t, err, "publish a session four days ahead")

	from := time.Now().Add(time.Hour)
	_, err = h.svc.SetPolicy(h.ctx, admin, h.hosp.ID, policyFrom(from, func(p *booking.Policy) { p.BookAheadDays = 2 }))
	testenv.Must(t, err, "set a window of two days")
	if changed, err := other.WatchCatalog(h.ctx); err != nil || !changed {
		t.Fatalf("the other instance's watch after the policy: %v %v, want a reload", changed, err)
	}

	// Before its time: four days ahead is bookable.
	h.mustBook(h.user(1), 0, farSess, "")
	// From its time, here and on the other instance: refused; tomorrow is not.
	defer h.clock.at(from.Add(time.Minute))()
	late := h.user(1)
	_, err = h.book(late, 0, farSess, "")
	wantErr(t, "four days ahead under a window of two", err, booking.ErrBeyondWindow)
	_, err = other.Book(h.ctx, late.actor, booking.BookRequest{SessionID: farSess.ID, PatientID: late.patients[0].ID,
		Channel: booking.ChannelOnline, Origin: booking.Origin{IP: "203.0.113.7"}})
	wantErr(t, "four days ahead on the other instance", err, booking.ErrBeyondWindow)
	h.mustBook(late, 0, near, "")

	_, _, history, err := h.svc.Policies(admin, h.hosp.ID)
	testenv.Must(t, err, "policies")
	if len(history) != 1 || history[0].Policy.BookAheadDays != 2 {
		t.Errorf("history = %+v, want the one change with a window of 2 days", history)
	}
	h.checkClean()
}

// TestNoShowRulesFromTheirTime (L): a hospital's own no-show rules bar by
// its threshold and for its length, for no-shows from its time on; a
// no-show before it is judged by the rules then (the service's: three).
func TestNoShowRulesFromTheirTime(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	morning := h.session(sessionOpts{dept: "Cardiology", online: 2})
	afternoon := h.session(sessionOpts{dept: "Neurology", period: "afternoon", online: 2})
	from := h.day.Add(13 * time.Hour) // after the morning ends, before the afternoon does
	rules := booking.NoShowRules{Window: 30 * 24 * time.Hour, Steps: []booking.NoShowStep{{Count: 1, Bar: 10 * 24 * time.Hour}}}
	_, err := h.svc.SetPolicy(h.ctx, admin, h.hosp.ID, policyFrom(from, func(p *booking.Policy) { p.NoShows = rules }))
	testenv.Must(t, err, "set one no-show bars ten days")

	before, after := h.user(1), h.user(1)
	h.mustBook(before, 0, morning, "")
	h.mustBook(after, 0, afternoon, "")

	h.clock.set(morning.EndsAt.Add(30 * time.Minute))
	n, bars, err := h.svc.MarkNoShows(h.ctx)
	testenv.Must(t, err, "mark the morning's no-shows")
	if n != 1 || len(bars) != 0 {
		t.Fatalf("before the rules' time: %d marked, bars %+v; want 1 marked and no bar (the service's rules need 3)", n, bars)
	}
	now := afternoon.EndsAt.Add(30 * time.Minute)
	defer h.clock.at(now)()
	n, bars, err = h.svc.MarkNoShows(h.ctx)
	testenv.Must(t, err, "mark the afternoon's no-shows")
	if n != 1 || len(bars) != 1 || bars[0].IdentityID != after.patients[0].IdentityID {
		t.Fatalf("from the rules' time: %d marked, bars %+v; want the afternoon's patient barred", n, bars)
	}
	if d := bars[0].Until.Sub(now); d < 10*24*time.Hour-time.Minute || d > 10*24*time.Hour+time.Minute {
		t.Errorf("the bar lasts %v, want the policy's 10 days", d)
	}
	rs, err := h.svc.Rules(h.hosp.ID)
	testenv.Must(t, err, "rules")
	if len(rs.NoShows.Steps) != 1 || rs.NoShows.Steps[0].Count != 1 {
		t.Errorf("the rules page's no-show rules = %+v, want the hospital's", rs.NoShows)
	}
}

// TestOnsiteShareFromItsTime (L): a share kept for on-site patients
// refuses a session released from its time on whose on-site pool is
// short, and not one released before it.
func TestOnsiteShareFromItsTime(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	doc := h.doctor("Orthopaedics")
	from := time.Now().Add(2 * time.Hour)
	_, err := h.svc.SetPolicy(h.ctx, admin, h.hosp.ID, policyFrom(from, func(p *booking.Policy) { p.OnsiteShare = 25 }))
	testenv.Must(t, err, "keep a quarter for on-site")

	_, err = h.svc.CreateSession(h.ctx, admin, h.morning(doc, 3, 1, time.Now().Add(time.Hour)))
	testenv.Must(t, err, "a session released before the share's time")

	afternoon := func(onsite int) booking.SessionRequest {
		r := h.morning(doc, 3, 1, time.Now().Add(3*time.Hour))
		r.Period, r.StartsAt, r.EndsAt = "afternoon", h.day.Add(14*time.Hour), h.day.Add(18*time.Hour)
		if onsite > 0 {
			r.SlotCount += onsite
			r.Quotas = append(r.Quotas, booking.ChannelQuota{Channel: booking.ChannelOnsite, Quota: onsite, ReleaseAt: time.Now().Add(3 * time.Hour)})
		}
		return r
	}
	_, err = h.svc.CreateSession(h.ctx, admin, afternoon(0))
	wantErr(t, "no on-site pool under a 25% share", err, booking.ErrOnsiteShort)
	_, err = h.svc.CreateSession(h.ctx, admin, afternoon(2)) // 2 of 6: need ceil(1.5) = 2
	testenv.Must(t, err, "an on-site pool of the share")
}
