package web

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// The administrator's schedule (号源): publish a session, and stop a clinic
// (停诊) that has bookings.

type scheduleData struct {
	Hospitals []scheduleHospital
	Periods   []option
}

type scheduleHospital struct {
	ID, Name string
	Doctors  []option
	Sessions []scheduleRow
	// OnsiteShare is the share of slots the hospital's policy keeps for
	// on-site patients; Onsite the on-site quota the publish form proposes
	// beside the default online quota to meet it.
	OnsiteShare int
	Onsite      string
	// Form is this hospital's publish form: as typed when it was the one
	// refused or warned of (a platform administrator has one per
	// hospital), else blank with its own idempotency key.
	Form scheduleForm
}

// defaultOnline is the publish form's online quota before anything is typed.
const defaultOnline = 10

// newScheduleForm is the publish form before anything is typed: its on-site
// quota comes from each hospital's share (scheduleHospital.Onsite).
func newScheduleForm() scheduleForm {
	return scheduleForm{Period: "morning", Start: "08:00", End: "12:00", Online: strconv.Itoa(defaultOnline), Phone: "0", FormKey: newFormKey()}
}

type option struct{ Value, Label string }

type scheduleRow struct {
	ID, Date, Time, Period, Doctor, Department string
	Slots, Booked                              int
	Stopped                                    bool
	StopReason                                 string
	Pools                                      string // "online 8 · onsite 4"
	// Substitutes are the doctors of the same department, title and fee
	// level the stop form offers (替诊); none for a lottery clinic.
	Substitutes []option
}

// scheduleForm keeps what was typed when publishing fails.
type scheduleForm struct {
	// HospitalID is the hospital whose form was sent (publishForm).
	HospitalID                                  string
	DoctorID, Date, Period, Start, End, Release string
	Online, Phone, Onsite                       string
	FormKey                                     string
	// ConfirmRelease is the release time the administrator confirmed
	// after ReleaseWarning; a changed release time is warned of again.
	ConfirmRelease string
	// ReleaseWarning says why the release time needs a confirmation
	// (releaseWarning); the form is shown again with it, nothing published.
	ReleaseWarning string
}

// scheduleOf lists the upcoming sessions of the hospitals the administrator
// covers, with their doctors for the publish form: form (typed, refused or
// warned of) in its hospital's, a blank one in every other's.
func (c *Console) scheduleOf(r *request, form scheduleForm) scheduleData {
	cat, now := c.svc.Catalog(), c.opts.Now()
	d := scheduleData{Periods: []option{{"morning", periodLabels["morning"]}, {"afternoon", periodLabels["afternoon"]},
		{"evening", periodLabels["evening"]}}}
	for _, h := range cat.Hospitals() {
		if !r.actor.Covers(h.ID) {
			continue
		}
		sh := scheduleHospital{ID: h.ID, Name: h.Name, Form: newScheduleForm()}
		if form.HospitalID == h.ID {
			sh.Form = form
		}
		if p, _ := h.PolicyAt(now); p.OnsiteShare > 0 {
			sh.OnsiteShare = p.OnsiteShare
		}
		sh.Onsite = strconv.Itoa(booking.OnsiteQuotaFor(defaultOnline, sh.OnsiteShare))
		for _, doc := range cat.Doctors(h.ID) {
			if !doc.Retired() { // nothing new is published for a retired doctor
				sh.Doctors = append(sh.Doctors, option{doc.ID, doc.Name})
			}
		}
		for _, s := range cat.HospitalSessions(h.ID) {
			doc, _ := cat.Doctor(s.DoctorID)
			if !s.EndsAt.After(now) {
				continue
			}
			dept, _ := cat.Department(s.DepartmentID)
			row := scheduleRow{ID: s.ID, Date: s.VisitDate, Time: s.StartsAt.In(h.Location()).Format("15:04") + "–" + s.EndsAt.In(h.Location()).Format("15:04"),
				Period: periodLabels[s.Period], Doctor: doc.Name, Department: dept.Name, Slots: len(s.Slots),
				Stopped: s.Stopped(), StopReason: s.StopReason}
			var pools []string
			for _, q := range s.Channels {
				pools = append(pools, fmt.Sprintf("%s %d", channelLabels[q.Channel], q.Quota))
			}
			row.Pools = strings.Join(pools, " · ")
			if s.Mode != booking.Lottery {
				for _, o := range cat.Doctors(h.ID) {
					if !o.Retired() && booking.CanStandIn(s, doc, o) == nil {
						row.Substitutes = append(row.Substitutes, option{o.ID, o.Name})
					}
				}
			}
			sh.Sessions = append(sh.Sessions, row)
		}
		d.Hospitals = append(d.Hospitals, sh)
	}
	return d
}

func (c *Console) schedulePage(r *request) error {
	flash := ""
	switch r.query("ok") {
	case "published":
		flash = "出诊已发布，放号时间一到即可预约。 Session published: bookable from its release time."
	case "stopped", "substituted":
		n, _ := strconv.Atoi(r.query("n"))
		online, _ := strconv.Atoi(r.query("on"))
		calls, _ := strconv.Atoi(r.query("cb"))
		if r.query("ok") == "stopped" {
			flash = fmt.Sprintf("已停诊：%d 个预约已取消（不计爽约）。 Clinic stopped: %d booking(s) cancelled without penalty. ", n, n)
		} else {
			flash = fmt.Sprintf("已停诊并安排替诊：%d 位患者的号已在替诊医生处保留，待其确认。 Clinic stopped with a substitute: %d patient(s) offered the same slot, held for their answer. ", n, n)
		}
		// Honest counts: a person no account lists is told by a call back,
		// not by the console (the call centre's and the desk's list).
		flash += fmt.Sprintf("%d 人已在线通知，%d 人待回电告知（电话/服务台“回电”列表）。 %d notified online, %d to call back (the phone and desk call-back list).",
			online, calls, online, calls)
	}
	return c.render(r, fasthttp.StatusOK, "admin/schedule", page{Title: "号源 Schedule", Nav: "schedule", Flash: flash, Data: c.scheduleOf(r, scheduleForm{})})
}

// publishSession publishes a session from the form: its times and the
// release time are the hospital's local times.
func (c *Console) publishSession(r *request) error {
	f := scheduleForm{DoctorID: r.form("doctor_id"), Date: strings.TrimSpace(r.form("date")), Period: r.form("period"),
		Start: r.form("start"), End: r.form("end"), Release: r.form("release"), Online: r.form("online"),
		Phone: r.form("phone"), Onsite: r.form("onsite"), FormKey: r.form("idem"), ConfirmRelease: r.form("confirm_release")}
	// The form sent names its hospital; the doctor's, when there is one,
	// is the one the typed doctor can be chosen in again.
	f.HospitalID = r.form("hospital_id")
	if doc, ok := c.svc.Catalog().Doctor(f.DoctorID); ok {
		f.HospitalID = doc.HospitalID
	}
	err := c.publish(r, &f)
	if err == nil && f.ReleaseWarning != "" {
		return c.render(r, fasthttp.StatusOK, "admin/schedule", page{Title: "号源 Schedule", Nav: "schedule", Data: c.scheduleOf(r, f)})
	}
	if err == nil {
		c.redirect(r, "/admin/schedule?"+url.Values{"ok": {"published"}}.Encode())
		return nil
	}
	return c.formFailed(r, "admin/schedule", page{Title: "号源 Schedule", Nav: "schedule", Form: "publish-" + f.HospitalID,
		Data: c.scheduleOf(r, f)}, err)
}

// releaseWarning says why a release time should be confirmed before it is
// published: already past (the session is bookable the moment it is
// published, at a minute nobody announced) or more than
// booking.ScheduleHorizonDays ahead (no session may be that far, so the
// year is likely a typo). The API takes either (a hospital may publish a
// clinic for booking at once); the console asks first.
func releaseWarning(release, now time.Time) string {
	switch {
	case release.Before(now):
		return "放号时间已过：发布后立即开放预约。请核对日期与年份。 The release time is already past: the session is bookable the moment it is published. Check the date and the year."
	case release.After(now.AddDate(0, 0, booking.ScheduleHorizonDays)):
		return fmt.Sprintf("放号时间在 %d 天之后，请核对年份。 The release time is more than %d days away: check the year.",
			booking.ScheduleHorizonDays, booking.ScheduleHorizonDays)
	}
	return ""
}

// publish creates the session of the form, unless its release time needs
// a confirmation not given yet: then it sets f.ReleaseWarning and
// publishes nothing.
func (c *Console) publish(r *request, f *scheduleForm) error {
	cat := c.svc.Catalog()
	doc, ok := cat.Doctor(f.DoctorID)
	if !ok {
		return booking.ErrDoctorNotFound
	}
	loc := time.UTC
	if h, ok := cat.Hospital(doc.HospitalID); ok {
		loc = h.Location()
	}
	if _, err := time.Parse(time.DateOnly, f.Date); err != nil {
		return booking.FieldErrorf(booking.ErrInvalidField, "date", "date: enter the visit's date")
	}
	at := func(field, clock string) (time.Time, error) {
		t, err := time.ParseInLocation("2006-01-02 15:04", f.Date+" "+clock, loc)
		if err != nil {
			return t, booking.FieldErrorf(booking.ErrInvalidField, field, "%s: enter a time", field)
		}
		return t, nil
	}
	start, err := at("start", f.Start)
	if err != nil {
		return err
	}
	end, err := at("end", f.End)
	if err != nil {
		return err
	}
	release, err := time.ParseInLocation("2006-01-02T15:04", f.Release, loc)
	if err != nil {
		return booking.FieldErrorf(booking.ErrInvalidField, "release", "release: enter the release date and time")
	}
	if w := releaseWarning(release, c.opts.Now()); w != "" && f.ConfirmRelease != f.Release {
		f.ReleaseWarning = w
		return nil
	}
	req := booking.SessionRequest{DoctorID: doc.ID, VisitDate: f.Date, Period: f.Period, StartsAt: start, EndsAt: end,
		IdempotencyKey: f.FormKey}
	for _, p := range []struct {
		ch booking.Channel
		n  string
	}{{booking.ChannelOnline, f.Online}, {booking.ChannelPhone, f.Phone}, {booking.ChannelOnsite, f.Onsite}} {
		n, err := strconv.Atoi(strings.TrimSpace(p.n))
		if err != nil || n < 0 {
			return booking.FieldErrorf(booking.ErrInvalidField, string(p.ch), "%s: a quota of 0 or more", p.ch)
		}
		if n > 0 {
			req.Quotas = append(req.Quotas, booking.ChannelQuota{Channel: p.ch, Quota: n, ReleaseAt: release})
		}
	}
	_, err = c.svc.CreateSession(r.ctx, r.actor, req)
	return err
}

// stopSession stops a clinic (停诊).
func (c *Console) stopSession(r *request) error {
	res, err := c.svc.Stop(r.ctx, r.actor, r.param, booking.StopRequest{Reason: strings.TrimSpace(r.form("reason")),
		SubstituteDoctorID: r.form("substitute_doctor_id")})
	if err != nil {
		return c.formFailed(r, "admin/schedule", page{Title: "号源 Schedule", Nav: "schedule", Form: "stop-" + r.param,
			Data: c.scheduleOf(r, scheduleForm{})}, err)
	}
	ok := "stopped"
	if res.SubstituteSessionID != "" {
		ok = "substituted"
	}
	c.redirect(r, "/admin/schedule?"+url.Values{"ok": {ok}, "n": {strconv.Itoa(res.Cancelled)}, "on": {strconv.Itoa(res.Notified)},
		"cb": {strconv.Itoa(res.ToCallBack)}}.Encode())
	return nil
}
