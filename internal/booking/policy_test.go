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
	// Stricter than the service's at every count (one no-show bars ten
	// days; three and six as before, over the same year): a stricter rule
	// takes effect at its time, a laxer one only after the release notice
	// (review25 M2).
	rules := booking.NoShowRules{Window: 365 * 24 * time.Hour, Steps: []booking.NoShowStep{{Count: 1, Bar: 10 * 24 * time.Hour},
		{Count: 3, Bar: 90 * 24 * time.Hour}, {Count: 6, Bar: 180 * 24 * time.Hour}}}
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
	if len(rs.NoShows.Steps) != 3 || rs.NoShows.Steps[0].Count != 1 {
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

// TestAccountLimitsFromTheirTime (L): the platform's account limits are set
// by a platform administrator only, from a stated time: before it an
// account adds patients under the service's limits, from it under the new
// ones (patients per account, accounts per phone); the history is kept.
func TestAccountLimitsFromTheirTime(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	platform := h.staffOf(booking.RoleAdmin, "")
	from := time.Now().Add(time.Hour)
	req := booking.AccountPolicyRequest{Limits: booking.AccountLimits{MaxPatients: 2, MaxAccountsOnPhone: 1},
		EffectiveFrom: from, Reason: "one phone, one family"}
	for _, c := range []struct {
		name  string
		actor booking.Actor
		edit  func(r *booking.AccountPolicyRequest)
		want  *booking.Error
	}{
		{"a hospital's administrator", h.staffOf(booking.RoleAdmin, h.hosp.ID), func(*booking.AccountPolicyRequest) {}, booking.ErrForbidden},
		{"no patient allowed", platform, func(r *booking.AccountPolicyRequest) { r.Limits.MaxPatients = 0 }, booking.ErrInvalidField},
		{"a negative phone limit", platform, func(r *booking.AccountPolicyRequest) { r.Limits.MaxAccountsOnPhone = -1 }, booking.ErrInvalidField},
		{"in the past", platform, func(r *booking.AccountPolicyRequest) { r.EffectiveFrom = time.Now().Add(-time.Hour) }, booking.ErrInvalidField},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := req
			c.edit(&r)
			_, err := h.svc.SetAccountPolicy(h.ctx, c.actor, r)
			wantErr(t, c.name, err, c.want)
		})
	}
	_, err := h.svc.SetAccountPolicy(h.ctx, platform, req)
	testenv.Must(t, err, "set the account limits")

	add := func(u user, phone string) error {
		who := h.person("李四")
		_, err := h.svc.AddPatient(h.ctx, u.actor, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: who.IDType, IDNumber: who.IDNumber,
			Name: who.Name, Phone: phone}, booking.Origin{})
		return err
	}
	// Before its time: three patients and a phone on two accounts are fine.
	early, other := h.user(1), h.user(1)
	testenv.Must(t, add(early, "13800001111"), "a second patient before the limits' time")
	testenv.Must(t, add(early, ""), "a third patient before the limits' time")
	testenv.Must(t, add(other, "13800001111"), "the phone on a second account before the limits' time")

	defer h.clock.at(from.Add(time.Minute))()
	late := h.user(1)
	testenv.Must(t, add(late, ""), "a second patient under a limit of two")
	wantErr(t, "a third patient under a limit of two", add(late, ""), booking.ErrTooManyPatients)
	wantErr(t, "more patients on an account that has them already", add(early, ""), booking.ErrTooManyPatients)
	last := h.user(0)
	wantErr(t, "a phone on a third account under a limit of one", add(last, "13800001111"), booking.ErrPhoneLimit)

	limits, history, err := h.svc.AccountPolicies(h.ctx, platform)
	testenv.Must(t, err, "account policies")
	if limits.MaxPatients != 2 || limits.MaxAccountsOnPhone != 1 || len(history) != 1 || history[0].Reason != req.Reason {
		t.Errorf("limits now = %+v, history %+v; want 2 and 1, the one change", limits, history)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'account_policy_set'`); n != 1 {
		t.Errorf("%d audit rows of the account limits, want 1", n)
	}
}

// TestOnsiteQuotaFor: the on-site quota a publish form proposes is the
// smallest that meets the share beside the other pools, as CreateSession
// counts it (one short of it is refused there).
func TestOnsiteQuotaFor(t *testing.T) {
	for _, c := range []struct{ others, share, want int }{
		{10, 0, 0}, {10, 20, 3}, {8, 20, 2}, {10, 50, 10}, {1, 1, 1}, {0, 30, 0}, {10, 100, 0},
	} {
		if got := booking.OnsiteQuotaFor(c.others, c.share); got != c.want {
			t.Errorf("OnsiteQuotaFor(%d, %d%%) = %d, want %d", c.others, c.share, got, c.want)
		}
	}
}

// TestCancelLateAfterFollowsThePolicy: the moment a console names as the
// end of free cancellation is the one Cancel enforces — the deadline in
// effect when the patient cancels, a change that takes effect before then
// included — not the hospital's first deadline (a review's patient was
// promised free cancellation until 15:00 and charged a no-show at 09:45,
// after the hospital moved its deadline to 09:44).
func TestCancelLateAfterFollowsThePolicy(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	at := func(day, clock string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", day+" "+clock, cst)
		testenv.Must(t, err, "parse %s %s", day, clock)
		return v
	}
	change := func(from time.Time, deadline string) booking.PolicyChange {
		return booking.PolicyChange{EffectiveFrom: from, Policy: booking.DefaultPolicy, CancelDeadline: deadline}
	}
	const visit = "2026-12-10"
	now := at("2026-12-05", "09:00")
	for _, tc := range []struct {
		name    string
		changes []booking.PolicyChange
		want    time.Time
	}{
		{"the hospital's own deadline", nil, at("2026-12-09", "15:00")},
		{"a deadline changed already", []booking.PolicyChange{change(now.Add(-time.Hour), "09:44")}, at("2026-12-09", "09:44")},
		{"a change to come before the old deadline", []booking.PolicyChange{change(at("2026-12-07", "00:00"), "12:00")}, at("2026-12-09", "12:00")},
		{"a change to come after the old deadline", []booking.PolicyChange{change(at("2026-12-09", "16:00"), "18:00")}, at("2026-12-09", "15:00")},
		// Near miss: the change comes in after its own deadline has passed,
		// so cancelling is late from the moment it takes effect.
		{"a change whose deadline has passed when it comes in", []booking.PolicyChange{change(at("2026-12-08", "00:00"), "17:00"),
			change(at("2026-12-09", "14:00"), "10:00")}, at("2026-12-09", "14:00")},
	} {
		h := &booking.Hospital{TimeZone: "Asia/Shanghai", CancelDeadline: "15:00", Policy: booking.DefaultPolicy, Changes: tc.changes}
		got := h.CancelLateAfter(visit, now)
		if !got.Equal(tc.want) {
			t.Errorf("%s: late after %s, want %s", tc.name, got.In(cst), tc.want)
		}
		// What Cancel enforces, just before and just after that moment.
		if h.LateAfterAt(visit, got.Add(-time.Second)).Before(got.Add(-time.Second)) {
			t.Errorf("%s: a cancellation a second before %s is already late", tc.name, got.In(cst))
		}
		if after := got.Add(time.Second); !after.After(h.LateAfterAt(visit, after)) {
			t.Errorf("%s: a cancellation a second after %s is not late", tc.name, got.In(cst))
		}
	}
}
