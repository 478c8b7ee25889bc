package web

import (
	"fmt"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// The rules page (就诊规则) of the patient console: a hospital's booking
// limits, cancellation deadline, no-show bars and usual release times,
// generated from what the service enforces, for anyone; and, for a signed-in
// patient, each family member's own record under them.

type rulesData struct {
	Hospitals []chip
	Rules     *rulesView
	Standings []standingView
	SignedIn  bool
}

type rulesView struct {
	Hospital       string
	Policy         booking.Policy
	CancelDeadline string
	Next           *nextPolicy
	NoShowRule     string
	Releases       []releaseView
}

type nextPolicy struct {
	From           string // local date and time
	Policy         booking.Policy
	CancelDeadline string
}

type releaseView struct {
	Channel  booking.Channel
	Lottery  bool
	When     string // "就诊前 7 天 08:00 · 7 days before the visit at 08:00"
	Sessions int
}

type standingView struct {
	Patient              patientView
	NoShows              int
	NextCount, NextDays  int // the next bar: at NextCount no-shows, NextDays days (0: none left)
	BarredUntil, Blocked string
}

// PrivacyNoticeVersion names the privacy notice's text
// (templates/patient/privacy.html): change booking.PrivacyNoticeVersion
// with the text — a consent names the version agreed to.
const PrivacyNoticeVersion = booking.PrivacyNoticeVersion

// privacyPage is the privacy notice (个人信息保护说明, review21 H3): what
// the service collects of a patient and their family, why, how it is kept
// and for how long, the scalper detection's profiling, and the patient's
// rights — for anyone, linked from registration and the family form.
func (c *Console) privacyPage(r *request) error {
	return c.render(r, fasthttp.StatusOK, "patient/privacy", page{Title: "个人信息保护说明 Privacy", Nav: "rules",
		Data: struct{ Version string }{PrivacyNoticeVersion}})
}

func (c *Console) rulesPage(r *request) error {
	cat := c.svc.Catalog()
	hospitalID := r.query("hospital")
	hs := cat.Hospitals()
	if hospitalID == "" && len(hs) == 1 {
		hospitalID = hs[0].ID
	}
	d := rulesData{SignedIn: r.signedIn() && r.actor.Role == booking.RolePatient}
	for _, h := range hs {
		d.Hospitals = append(d.Hospitals, chip{Label: h.Name, URL: "/patient/rules?hospital=" + h.ID, Selected: h.ID == hospitalID})
	}
	if hospitalID != "" {
		rules, err := c.svc.Rules(hospitalID)
		if err != nil {
			return err
		}
		d.Rules = rulesViewOf(rules)
	}
	if d.SignedIn {
		st, err := c.svc.Standings(r.ctx, r.actor, hospitalID)
		if err != nil {
			return err
		}
		d.Standings = standingViews(st)
	}
	return c.render(r, fasthttp.StatusOK, "patient/rules", page{Title: "就诊规则 Rules", Nav: "rules", Data: d})
}

// releasesShown is how many release times the page shows per channel: the
// usual ones (a session published by hand at another time is its own).
const releasesShown = 3

func rulesViewOf(r booking.HospitalRules) *rulesView {
	v := &rulesView{Hospital: r.Hospital.Name, Policy: r.Policy, CancelDeadline: r.CancelDeadline, NoShowRule: noShowRule(r.NoShows)}
	if n := r.Next; n != nil {
		v.Next = &nextPolicy{From: n.EffectiveFrom.In(r.Hospital.Location()).Format("2006-01-02 15:04"), Policy: n.Policy, CancelDeadline: n.CancelDeadline}
	}
	shown := map[booking.Channel]int{}
	for _, p := range r.Releases { // the most frequent first in each channel
		if shown[p.Channel]++; shown[p.Channel] > releasesShown {
			continue
		}
		when := fmt.Sprintf("就诊前 %d 天 %s · %d days before the visit at %s", p.DaysBefore, p.Clock, p.DaysBefore, p.Clock)
		switch p.DaysBefore {
		case 0:
			when = fmt.Sprintf("就诊当天 %s · on the visit day at %s", p.Clock, p.Clock)
		case 1:
			when = fmt.Sprintf("就诊前 1 天 %s · the day before the visit at %s", p.Clock, p.Clock)
		}
		v.Releases = append(v.Releases, releaseView{Channel: p.Channel, Lottery: p.Mode == booking.Lottery, When: when, Sessions: p.Sessions})
	}
	return v
}

func standingViews(st []booking.Standing) []standingView {
	ps := make([]booking.Patient, len(st))
	for i, s := range st {
		ps[i] = s.Patient
	}
	views := patientViews(ps, time.Time{}) // standings ask nothing
	out := make([]standingView, len(st))
	for i, s := range st {
		v := standingView{Patient: views[i], NoShows: s.NoShows}
		if s.Next != nil {
			v.NextCount, v.NextDays = s.Next.Count, int(s.Next.Bar/(24*time.Hour))
		}
		if !s.BarredUntil.IsZero() {
			v.BarredUntil = s.BarredUntil.Format("2006-01-02")
		}
		if !s.BlockedUntil.IsZero() {
			v.Blocked = s.BlockedUntil.Format("2006-01-02")
		}
		out[i] = v
	}
	return out
}

// consentPage asks an account that has not agreed to the current privacy
// notice (made before consents were recorded, or the notice changed): the
// login brings the holder here, and asks again at each login until they
// agree (review21 H3).
func (c *Console) consentPage(r *request) error {
	return c.render(r, fasthttp.StatusOK, "patient/consent", page{Title: "个人信息保护说明 Privacy"})
}

// consent records the holder's consent to the current notice.
func (c *Console) consent(r *request) error {
	_, err := c.svc.AgreeToNotice(r.ctx, r.actor, booking.ConsentRequest{Version: r.form("privacy_consent")})
	if err != nil {
		return c.formFailed(r, "patient/consent", page{Title: "个人信息保护说明 Privacy", Form: "consent-form"}, err)
	}
	c.redirect(r, "/patient?ok=consented")
	return nil
}
