package web

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// The administrator's policy page (规则设置): a hospital's booking rules —
// quotas, the cancellation deadline, the booking window, the share kept for
// on-site patients and the no-show rules — in effect now, a form that sets
// new ones from a stated time, and the history of every change.

type policyData struct {
	Hospitals []policyHospital
	// Accounts are the platform's account limits: every administrator
	// sees them, a platform one (Platform) changes them.
	Accounts        booking.AccountLimits
	AccountsHistory []accountRow
	Platform        bool
	Typed           typed // a refused form's values: a hospital's policy or the account limits
}

// The policy form's fields, and the account limits form's, besides the
// reason (kept).
var (
	policyFields   = []string{"per_day", "per_week", "per_month", "cancel_deadline", "book_ahead_days", "onsite_share", "extra_slots_max", "release_notice_hours", "stop_undo_minutes", "no_show_window_days", "no_show_steps", "effective_from"}
	accountsFields = []string{"max_patients", "max_accounts_on_phone", "effective_from"}
)

type accountRow struct {
	From, Reason                    string
	MaxPatients, MaxAccountsOnPhone int
	Pending                         bool
}

type policyHospital struct {
	ID, Name string
	Current  policyForm
	History  []policyRow
}

// policyForm is a policy as the form writes it.
type policyForm struct {
	PerDay, PerWeek, PerMonth, BookAheadDays, OnsiteShare, NoShowWindowDays int
	ExtraSlotsMax                                                           int // the bound in effect (the default when not set)
	ReleaseNoticeHours                                                      int // the notice in effect (the default when not set)
	StopUndoMinutes                                                         int // the window to undo a stop in effect (likewise)
	CancelDeadline, NoShowSteps                                             string
}

type policyRow struct {
	From, SetAt, Reason string
	Form                policyForm
	Pending             bool // not in effect yet
}

func policyFormOf(p booking.Policy, deadline string) policyForm {
	f := policyForm{PerDay: p.PerDay, PerWeek: p.PerWeek, PerMonth: p.PerMonth, BookAheadDays: p.BookAheadDays,
		OnsiteShare: p.OnsiteShare, NoShowWindowDays: int(p.NoShows.Window / (24 * time.Hour)), CancelDeadline: deadline,
		ExtraSlotsMax: p.ExtraSlotsLimit(), ReleaseNoticeHours: int(p.ReleaseNotice().Hours()),
		StopUndoMinutes: int(p.StopUndo().Minutes())}
	steps := make([]string, len(p.NoShows.Steps))
	for i, st := range p.NoShows.Steps {
		steps[i] = fmt.Sprintf("%d:%d", st.Count, int(st.Bar/(24*time.Hour)))
	}
	f.NoShowSteps = strings.Join(steps, ", ")
	return f
}

func (c *Console) policyOf(r *request) policyData {
	d := policyData{Platform: r.actor.PlatformAdmin()}
	now := time.Now()
	if limits, history, err := c.svc.AccountPolicies(r.ctx, r.actor); err == nil {
		d.Accounts = limits
		for i := len(history) - 1; i >= 0; i-- {
			ch := history[i]
			d.AccountsHistory = append(d.AccountsHistory, accountRow{From: ch.EffectiveFrom.In(c.adminZone()).Format("2006-01-02 15:04"),
				Reason: ch.Reason, MaxPatients: ch.Limits.MaxPatients, MaxAccountsOnPhone: ch.Limits.MaxAccountsOnPhone,
				Pending: ch.EffectiveFrom.After(now)})
		}
	}
	for _, h := range c.svc.Catalog().Hospitals() {
		if !r.actor.Covers(h.ID) {
			continue
		}
		p, deadline, history, err := c.svc.Policies(r.actor, h.ID)
		if err != nil {
			continue
		}
		if len(p.NoShows.Steps) == 0 {
			p.NoShows = c.svc.NoShowRules()
		}
		loc := h.Location()
		ph := policyHospital{ID: h.ID, Name: h.Name, Current: policyFormOf(p, deadline)}
		for i := len(history) - 1; i >= 0; i-- { // the latest first
			ch := history[i]
			ph.History = append(ph.History, policyRow{From: ch.EffectiveFrom.In(loc).Format("2006-01-02 15:04"),
				SetAt: ch.SetAt.In(loc).Format("2006-01-02 15:04"), Reason: ch.Reason,
				Form: policyFormOf(ch.Policy, ch.CancelDeadline), Pending: ch.EffectiveFrom.After(now)})
		}
		d.Hospitals = append(d.Hospitals, ph)
	}
	return d
}

func (c *Console) policyPage(r *request) error {
	flash := map[string]string{
		"policy":       "新规则已保存，自所填时间起生效。 Policy saved: it applies from its time.",
		"policy_later": "新规则已保存。它放宽了防号贩子的规则（见历史中的生效时间），须在现行放号通知时限之后才生效。 Policy saved. It weakens an anti-scalping guard, so it applies only after the release notice now in effect (see its time in the history).",
		"accounts":     "账户限额已保存，自所填时间起生效。 Account limits saved: they apply from their time.",
	}[r.query("ok")]
	return c.render(r, fasthttp.StatusOK, "admin/policy", page{Title: "规则设置 Policy", Nav: "schedule", Flash: flash, Data: c.policyOf(r)})
}

// setPolicy reads the form: numbers as typed (an empty one is 0, which the
// Service refuses where 0 is no value), the no-show steps as "3:90, 6:180"
// (count:bar days; empty: the service's rules), the time in the hospital's
// zone (empty: now).
func (c *Console) setPolicy(r *request) error {
	hospitalID := r.form("hospital_id")
	failed := func(err error) error {
		d := c.policyOf(r)
		d.Typed = typedValues(r, "policy-"+hospitalID, policyFields...)
		return c.formFailed(r, "admin/policy", page{Title: "规则设置 Policy", Nav: "schedule", Form: "policy-" + hospitalID, Data: d}, err)
	}
	var p booking.Policy
	var window int
	for _, f := range []struct {
		key string
		to  *int
	}{{"per_day", &p.PerDay}, {"per_week", &p.PerWeek}, {"per_month", &p.PerMonth}, {"book_ahead_days", &p.BookAheadDays},
		{"onsite_share", &p.OnsiteShare}, {"no_show_window_days", &window}, {"extra_slots_max", &p.ExtraSlotsMax},
		{"release_notice_hours", &p.ReleaseNoticeHours}, {"stop_undo_minutes", &p.StopUndoMinutes}} {
		n, err := r.formInt(f.key)
		if err != nil {
			return failed(err)
		}
		*f.to = n
	}
	p.NoShows.Window = time.Duration(window) * 24 * time.Hour
	for _, part := range strings.Split(r.form("no_show_steps"), ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		var count, days int
		if _, err := fmt.Sscanf(part, "%d:%d", &count, &days); err != nil {
			return failed(booking.FieldErrorf(booking.ErrInvalidField, "no_show_steps", "no-show steps are count:bar days, comma-separated (3:90, 6:180)"))
		}
		p.NoShows.Steps = append(p.NoShows.Steps, booking.NoShowStep{Count: count, Bar: time.Duration(days) * 24 * time.Hour})
	}
	var from time.Time
	if v := strings.TrimSpace(r.form("effective_from")); v != "" {
		h, err := c.svc.Hospital(hospitalID)
		if err != nil {
			return failed(err)
		}
		if from, err = time.ParseInLocation("2006-01-02T15:04", v, h.Location()); err != nil {
			return failed(booking.FieldErrorf(booking.ErrInvalidField, "effective_from", "effective_from is not a date and time"))
		}
	}
	ch, err := c.svc.SetPolicy(r.ctx, r.actor, hospitalID, booking.PolicyRequest{Policy: p,
		CancelDeadline: strings.TrimSpace(r.form("cancel_deadline")), EffectiveFrom: from, Reason: strings.TrimSpace(r.form("reason"))})
	if err != nil {
		return failed(err)
	}
	ok := "policy"
	if len(ch.Weakens) > 0 {
		ok = "policy_later" // review25 M2: it waits the notice in effect
	}
	c.redirect(r, "/admin/policy?"+url.Values{"ok": {ok}}.Encode()+"#h-"+hospitalID)
	return nil
}

// setAccountPolicy reads the account limits form (a platform
// administrator's; the time in the admin console's zone).
func (c *Console) setAccountPolicy(r *request) error {
	failed := func(err error) error {
		d := c.policyOf(r)
		d.Typed = typedValues(r, "accounts", accountsFields...)
		return c.formFailed(r, "admin/policy", page{Title: "规则设置 Policy", Nav: "schedule", Form: "accounts", Data: d}, err)
	}
	var l booking.AccountLimits
	var err error
	if l.MaxPatients, err = r.formInt("max_patients"); err != nil {
		return failed(err)
	}
	if l.MaxAccountsOnPhone, err = r.formInt("max_accounts_on_phone"); err != nil {
		return failed(err)
	}
	var from time.Time
	if v := strings.TrimSpace(r.form("effective_from")); v != "" {
		if from, err = time.ParseInLocation("2006-01-02T15:04", v, c.adminZone()); err != nil {
			return failed(booking.FieldErrorf(booking.ErrInvalidField, "effective_from", "effective_from is not a date and time"))
		}
	}
	if _, err := c.svc.SetAccountPolicy(r.ctx, r.actor, booking.AccountPolicyRequest{Limits: l, EffectiveFrom: from,
		Reason: strings.TrimSpace(r.form("reason"))}); err != nil {
		return failed(err)
	}
	c.redirect(r, "/admin/policy?ok=accounts#accounts")
	return nil
}
