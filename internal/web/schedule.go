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

// The administrator's schedule (号源): one hospital's sessions of a week,
// filtered by department and doctor, a bounded page at a time with their
// booked and free slots per pool (booking.Service.AdminSchedule); publish a
// session with a release time per pool; stop a clinic (停诊) that has
// bookings. A session's own page (session.go) edits, withdraws and moves
// its pools.

// schedulePageSize is how many sessions a page of the schedule lists.
const schedulePageSize = 25

type scheduleData struct {
	Hospitals []scheduleHospital
	Periods   []option
	// Filter is the listing's selection (hospital, department, doctor,
	// week, page); its Back goes into every action form, so the page the
	// administrator acted from is the one shown after.
	Filter scheduleFilter
}

type scheduleHospital struct {
	ID, Name string
	Doctors  []option
	// Selected: this hospital's sessions are listed (one hospital at a
	// time); ListURL lists them otherwise.
	Selected bool
	ListURL  string
	// Departments and AllDoctors (retired ones too: their sessions still
	// run) are the filter's choices.
	Departments, AllDoctors []option
	Sessions                []scheduleRow
	// Total sessions match the filter, on Pages pages; the links move a
	// page or a week.
	Total, PageNo, Pages         int
	PrevPage, NextPage           string
	PrevWeek, NextWeek, ThisWeek string
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

// scheduleFilter is what the listing shows: a hospital's sessions of the
// week from Week (a Monday) to WeekEnd, of a department and a doctor when
// set, page Page.
type scheduleFilter struct {
	HospitalID, DepartmentID, DoctorID string
	Week, WeekEnd                      string
	Page                               int
	// Back is the filter as a query string, for the action forms.
	Back string
}

// query is the filter as the listing's query string, with page and week
// changed when given (page 0: the first, which the query leaves out).
func (f scheduleFilter) query(week string, page int) string {
	v := url.Values{}
	for k, x := range map[string]string{"hospital": f.HospitalID, "dept": f.DepartmentID, "doctor": f.DoctorID, "week": week} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return v.Encode()
}

// scheduleURL is the listing at the filter of back (a query string from a
// form, of which only the filter's keys are kept) with the extra values.
func scheduleURL(back string, extra url.Values) string {
	in, _ := url.ParseQuery(back)
	out := url.Values{}
	for _, k := range []string{"hospital", "dept", "doctor", "week", "page"} {
		if x := in.Get(k); x != "" {
			out.Set(k, x)
		}
	}
	for k, x := range extra {
		out[k] = x
	}
	if len(out) == 0 {
		return "/admin/schedule"
	}
	return "/admin/schedule?" + out.Encode()
}

// mondayOf is the Monday of the week of date (YYYY-MM-DD), or of now in loc
// when date is not one.
func mondayOf(date string, now time.Time, loc *time.Location) time.Time {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		n := now.In(loc)
		d = time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
	}
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// defaultOnline is the publish form's online quota before anything is typed.
const defaultOnline = 10

// newScheduleForm is the publish form before anything is typed: its on-site
// quota comes from each hospital's share (scheduleHospital.Onsite).
func newScheduleForm() scheduleForm {
	return scheduleForm{Period: "morning", Start: "08:00", End: "12:00", Online: strconv.Itoa(defaultOnline), Phone: "0", Referral: "0", FormKey: newFormKey()}
}

type option struct{ Value, Label string }

type scheduleRow struct {
	ID, Date, Time, Period, Doctor, Department string
	Slots                                      int
	// Booked is how many active bookings the session has: what a stop
	// cancels.
	Booked     int
	Stopped    bool
	Ended      bool // nothing more to do: no forms
	StopReason string
	Pools      []poolCell
	// Substitutes are the doctors of the same department, title and fee
	// level the stop form offers (替诊); none for a lottery clinic.
	Substitutes []option
}

// poolCell is a pool of a listed session: its slots, the booked ones and
// the free ones (Free -1: Redis's count is not to be trusted now), and
// when it opens.
type poolCell struct {
	Label               string
	Quota, Booked, Free int
	Opens               string
	Released            bool
}

// scheduleForm keeps what was typed when publishing fails.
type scheduleForm struct {
	// HospitalID is the hospital whose form was sent (publishForm).
	HospitalID                                  string
	DoctorID, Date, Period, Start, End, Release string
	Online, Phone, Onsite, Referral             string
	// ReleaseOf are the pools' own release times, by channel; empty: the
	// form's Release.
	ReleaseOf map[string]string
	FormKey   string
	// ConfirmRelease is the release times the administrator confirmed
	// after ReleaseWarning (ReleaseKey); a changed one is warned of again.
	ConfirmRelease string
	// ReleaseWarning says why the release time needs a confirmation
	// (releaseWarning); the form is shown again with it, nothing published.
	ReleaseWarning string
}

// scheduleFilterOf reads the listing's filter from a query string (the
// page's, or an action form's back): the hospital asked for if the
// administrator covers it, else their only one; the week of the date
// given, else this week in the hospital's zone.
func (c *Console) scheduleFilterOf(r *request, query string) scheduleFilter {
	v, _ := url.ParseQuery(query)
	cat := c.svc.Catalog()
	var covered []*booking.Hospital
	for _, h := range cat.Hospitals() {
		if r.actor.Covers(h.ID) {
			covered = append(covered, h)
		}
	}
	f := scheduleFilter{}
	loc := c.adminZone()
	for _, h := range covered {
		if h.ID == v.Get("hospital") || len(covered) == 1 {
			f.HospitalID, loc = h.ID, h.Location()
		}
	}
	if d, ok := cat.Department(v.Get("dept")); ok && d.HospitalID == f.HospitalID {
		f.DepartmentID = d.ID
	}
	if d, ok := cat.Doctor(v.Get("doctor")); ok && d.HospitalID == f.HospitalID {
		f.DoctorID = d.ID
	}
	monday := mondayOf(v.Get("week"), c.opts.Now(), loc)
	f.Week, f.WeekEnd = monday.Format(time.DateOnly), monday.AddDate(0, 0, 6).Format(time.DateOnly)
	f.Page, _ = strconv.Atoi(v.Get("page"))
	f.Page = max(f.Page, 1)
	f.Back = f.query(f.Week, f.Page)
	return f
}

// scheduleOf is the schedule page: each hospital the administrator covers
// with its publish form (form, typed, refused or warned of, in its
// hospital's; a blank one in every other's), and the page of sessions the
// filter selects in the selected hospital's.
func (c *Console) scheduleOf(r *request, f scheduleFilter, form scheduleForm) (scheduleData, error) {
	cat, now := c.svc.Catalog(), c.opts.Now()
	d := scheduleData{Filter: f, Periods: []option{{"morning", periodLabels["morning"]}, {"afternoon", periodLabels["afternoon"]},
		{"evening", periodLabels["evening"]}}}
	for _, h := range cat.Hospitals() {
		if !r.actor.Covers(h.ID) {
			continue
		}
		sh := scheduleHospital{ID: h.ID, Name: h.Name, Form: newScheduleForm(), Selected: h.ID == f.HospitalID,
			ListURL: "/admin/schedule?" + url.Values{"hospital": {h.ID}}.Encode()}
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
		if sh.Selected {
			if err := c.listSessions(r, h, f, &sh); err != nil {
				return d, err
			}
		}
		d.Hospitals = append(d.Hospitals, sh)
	}
	return d, nil
}

// listSessions fills in the selected hospital's filter choices and its
// page of sessions.
func (c *Console) listSessions(r *request, h *booking.Hospital, f scheduleFilter, sh *scheduleHospital) error {
	cat, loc := c.svc.Catalog(), h.Location()
	for _, dept := range cat.Departments(h.ID) {
		sh.Departments = append(sh.Departments, option{dept.ID, dept.Name})
	}
	for _, doc := range cat.Doctors(h.ID) { // by department: each named with theirs
		dept, _ := cat.Department(doc.DepartmentID)
		sh.AllDoctors = append(sh.AllDoctors, option{doc.ID, doc.Name + " · " + dept.Name})
	}
	pg, err := c.svc.AdminSchedule(r.ctx, r.actor, booking.ScheduleQuery{HospitalID: h.ID, DepartmentID: f.DepartmentID,
		DoctorID: f.DoctorID, From: f.Week, To: f.WeekEnd, Page: f.Page, PageSize: schedulePageSize})
	if err != nil {
		return err
	}
	sh.Total, sh.PageNo, sh.Pages = pg.Total, pg.Page, pg.Pages()
	week := func(days int) string {
		w, _ := time.Parse(time.DateOnly, f.Week)
		return "/admin/schedule?" + f.query(w.AddDate(0, 0, days).Format(time.DateOnly), 1)
	}
	sh.PrevWeek, sh.NextWeek, sh.ThisWeek = week(-7), week(7), "/admin/schedule?"+f.query("", 1)
	if pg.Page > 1 {
		sh.PrevPage = "/admin/schedule?" + f.query(f.Week, pg.Page-1)
	}
	if pg.Page < pg.Pages() {
		sh.NextPage = "/admin/schedule?" + f.query(f.Week, pg.Page+1)
	}
	now := c.opts.Now()
	for _, e := range pg.Entries {
		s := e.Session
		doc, _ := cat.Doctor(s.DoctorID)
		dept, _ := cat.Department(s.DepartmentID)
		row := scheduleRow{ID: s.ID, Date: s.VisitDate, Time: s.StartsAt.In(loc).Format("15:04") + "–" + s.EndsAt.In(loc).Format("15:04"),
			Period: periodLabels[s.Period], Doctor: doc.Name, Department: dept.Name, Slots: len(s.Slots),
			Booked: e.BookedTotal(), Stopped: s.Stopped(), StopReason: s.StopReason, Ended: !s.EndsAt.After(now)}
		for _, q := range s.Channels {
			cell := poolCell{Label: channelLabels[q.Channel], Quota: q.Quota, Booked: e.Booked[q.Channel], Free: -1,
				Opens: q.OpensFor().In(loc).Format("01-02 15:04"), Released: q.Released(now)}
			if e.Remaining != nil {
				cell.Free = e.Remaining[q.Channel]
			}
			row.Pools = append(row.Pools, cell)
		}
		if s.Mode != booking.Lottery && !s.Stopped() {
			for _, o := range cat.Doctors(h.ID) {
				if !o.Retired() && booking.CanStandIn(s, doc, o) == nil {
					row.Substitutes = append(row.Substitutes, option{o.ID, o.Name})
				}
			}
		}
		sh.Sessions = append(sh.Sessions, row)
	}
	return nil
}

// renderSchedule shows the schedule page at filter f, with form in its
// hospital's publish form.
func (c *Console) renderSchedule(r *request, status int, f scheduleFilter, form scheduleForm, flash string) error {
	d, err := c.scheduleOf(r, f, form)
	if err != nil {
		return err
	}
	return c.render(r, status, "admin/schedule", page{Title: "号源 Schedule", Nav: "schedule", Flash: flash, Data: d})
}

func (c *Console) schedulePage(r *request) error {
	flash := ""
	switch r.query("ok") {
	case "published":
		flash = "出诊已发布，放号时间一到即可预约。 Session published: bookable from its release time."
	case "withdrawn":
		flash = "出诊已撤回，不再公布。 Session withdrawn: it is no longer published."
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
	return c.renderSchedule(r, fasthttp.StatusOK, c.scheduleFilterOf(r, string(r.rc.QueryArgs().QueryString())), scheduleForm{}, flash)
}

// publishSession publishes a session from the form: its times and the
// release times are the hospital's local times. The listing then shows the
// week of the session published.
func (c *Console) publishSession(r *request) error {
	f := scheduleForm{DoctorID: r.form("doctor_id"), Date: strings.TrimSpace(r.form("date")), Period: r.form("period"),
		Start: r.form("start"), End: r.form("end"), Release: r.form("release"), Online: r.form("online"),
		Phone: r.form("phone"), Onsite: r.form("onsite"), Referral: r.form("referral"), FormKey: r.form("idem"),
		ConfirmRelease: r.form("confirm_release"), ReleaseOf: map[string]string{}}
	for _, ch := range booking.Channels {
		f.ReleaseOf[string(ch)] = strings.TrimSpace(r.form("release_" + string(ch)))
	}
	// The form sent names its hospital; the doctor's, when there is one,
	// is the one the typed doctor can be chosen in again.
	f.HospitalID = r.form("hospital_id")
	if doc, ok := c.svc.Catalog().Doctor(f.DoctorID); ok {
		f.HospitalID = doc.HospitalID
	}
	filter := c.scheduleFilterOf(r, r.form("back"))
	err := c.publish(r, &f)
	if err == nil && f.ReleaseWarning != "" {
		return c.renderSchedule(r, fasthttp.StatusOK, filter, f, "")
	}
	if err == nil {
		c.redirect(r, scheduleURL("", url.Values{"hospital": {f.HospitalID}, "week": {f.Date}, "ok": {"published"}}))
		return nil
	}
	d, derr := c.scheduleOf(r, filter, f)
	if derr != nil {
		return derr
	}
	return c.formFailed(r, "admin/schedule", page{Title: "号源 Schedule", Nav: "schedule", Form: "publish-" + f.HospitalID, Data: d}, err)
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

// ReleaseKey is the release times of a publish form as one string: what
// the administrator confirmed after a warning (a changed one is warned of
// again).
func (f scheduleForm) ReleaseKey() string {
	k := f.Release
	for _, ch := range booking.Channels {
		if f.ReleaseOf[string(ch)] != "" {
			k += " " + string(ch) + "=" + f.ReleaseOf[string(ch)]
		}
	}
	return k
}

// publish creates the session of the form, unless a release time needs a
// confirmation not given yet: then it sets f.ReleaseWarning and publishes
// nothing. Each pool opens at its own release time when one is typed,
// else at the form's.
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
	req := booking.SessionRequest{DoctorID: doc.ID, VisitDate: f.Date, Period: f.Period, StartsAt: start, EndsAt: end,
		IdempotencyKey: f.FormKey}
	warning := ""
	for _, p := range []struct {
		ch booking.Channel
		n  string
	}{{booking.ChannelOnline, f.Online}, {booking.ChannelPhone, f.Phone}, {booking.ChannelOnsite, f.Onsite}, {booking.ChannelReferral, f.Referral}} {
		n, err := strconv.Atoi(strings.TrimSpace(p.n))
		if strings.TrimSpace(p.n) == "" && p.ch == booking.ChannelReferral {
			n, err = 0, nil // a form without the referral field publishes none
		}
		if err != nil || n < 0 {
			return booking.FieldErrorf(booking.ErrInvalidField, string(p.ch), "%s: a quota of 0 or more", p.ch)
		}
		if n == 0 {
			continue
		}
		at := release
		if own := f.ReleaseOf[string(p.ch)]; own != "" {
			field := "release_" + string(p.ch)
			if at, err = time.ParseInLocation("2006-01-02T15:04", own, loc); err != nil {
				return booking.FieldErrorf(booking.ErrInvalidField, field, "%s: enter the pool's release date and time, or leave it empty", field)
			}
		}
		if w := releaseWarning(at, c.opts.Now()); w != "" && warning == "" {
			warning = channelLabels[p.ch] + "：" + w
		}
		req.Quotas = append(req.Quotas, booking.ChannelQuota{Channel: p.ch, Quota: n, ReleaseAt: at})
	}
	if warning != "" && f.ConfirmRelease != f.ReleaseKey() {
		f.ReleaseWarning = warning
		return nil
	}
	_, err = c.svc.CreateSession(r.ctx, r.actor, req)
	return err
}

// stopSession stops a clinic (停诊), then shows the listing it was stopped
// from. The form carries the count of bookings its page showed
// (confirm_booked, "N 位患者将被取消"), which the Service checks against
// SQL's: a stale page, another row's form, stops nothing and the form comes
// back with the count as it is (review19b H1; docs/design.md, "A mistaken
// stop").
func (c *Console) stopSession(r *request) error {
	req := booking.StopRequest{Reason: strings.TrimSpace(r.form("reason")), SubstituteDoctorID: r.form("substitute_doctor_id")}
	var err error
	if v := strings.TrimSpace(r.form("confirm_booked")); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil {
			err = booking.FieldErrorf(booking.ErrInvalidField, "confirm_booked", "confirm_booked is a count of bookings")
		}
		req.ConfirmBooked = &n
	}
	var res booking.StopResult
	if err == nil {
		res, err = c.svc.Stop(r.ctx, r.actor, r.param, req)
	}
	if err != nil {
		d, derr := c.scheduleOf(r, c.scheduleFilterOf(r, r.form("back")), scheduleForm{})
		if derr != nil {
			return derr
		}
		return c.formFailed(r, "admin/schedule", page{Title: "号源 Schedule", Nav: "schedule", Form: "stop-" + r.param, Data: d}, err)
	}
	ok := "stopped"
	if res.SubstituteSessionID != "" {
		ok = "substituted"
	}
	c.redirect(r, scheduleURL(r.form("back"), url.Values{"ok": {ok}, "n": {strconv.Itoa(res.Cancelled)}, "on": {strconv.Itoa(res.Notified)},
		"cb": {strconv.Itoa(res.ToCallBack)}}))
	return nil
}
