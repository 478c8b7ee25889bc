package web

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// Reports (举报) and complaints (投诉): the patient's page to file them and
// follow their answers, the patient's notifications (消息) on the home
// page, and the administrators' queue (admin console, 投诉举报 tab). The
// admin handlers are kept here, apart from admin.go, with their own
// templates (admin/cases.html, admin/case.html).

var caseKindLabels = map[string]string{
	booking.CaseReport:    "举报 Report",
	booking.CaseComplaint: "投诉 Complaint",
	booking.CaseAppeal:    "申诉 Appeal",
}

var caseStatusLabels = map[string]string{
	booking.CaseOpen:     "待答复 Open",
	booking.CaseAnswered: "已答复 Answered",
	booking.CaseClosed:   "已办结 Closed",
}

var categoryLabels = map[string]string{
	"booking":     "预约挂号 Booking",
	"service":     "医疗服务 Service",
	"fees":        "收费 Fees",
	"environment": "环境秩序 Environment",
	"other":       "其他 Other",
}

// caseRow is a case as a page shows it.
type caseRow struct {
	ID, ShortID    string
	Kind           string
	KindLabel      string
	Category       string
	Hospital       string
	Booking        string // the booking's visit, when one is named
	OfferedPhone   string // masked
	OfferedAccount string
	Text           string
	Excerpt        string
	Status         string
	StatusLabel    string
	Created        string
	Due            string
	Overdue        bool
	Answer         string
	Answered       string
	AnsweredLate   bool
	CloseNote      string
	Closed         string
	Several        bool
	FlagID         string
	URL            string
	// Folded are the reports of the same target folded into this one
	// (booking.Case.Folded): its other reporters, each answered with it.
	Folded []caseRow
	// Filer, on an appeal an administrator reads, is who filed it.
	Filer *appealFilerView
}

// appealFilerView is who filed an appeal, in the administrator's words.
type appealFilerView struct {
	Kind string // a person's appeal or an account's
	By   string // the account (masked) or the desk
	// Answer says where the answer reaches the appellant.
	Answer string
	// SecondAdmin: the administrator reading it confirmed the flag it
	// contests, so another one must uphold it (second_admin_required).
	SecondAdmin bool
	Person      bool
}

// withFiler adds who filed an appeal to its row (the admin console's).
func (c *Console) withFiler(r *request, row *caseRow, cs booking.Case) error {
	f, ok, err := c.svc.AppealFilerOf(r.ctx, r.actor, cs)
	if err != nil || !ok {
		return err
	}
	v := &appealFilerView{Kind: "账号申诉 Account's appeal", Person: f.Person, SecondAdmin: f.FlagConfirmedBy != "" && f.FlagConfirmedBy == r.actor.AccountID,
		By: "账号 Account " + f.AccountMasked, Answer: "答复发到该账号的消息 The answer goes to the account's messages"}
	if f.Person {
		v.Kind = "就诊人申诉 Person's appeal"
	}
	if f.AtDesk {
		where := ""
		if h, ok := c.svc.Catalog().Hospital(f.DeskHospitalID); ok {
			where = " · " + h.Name
		}
		v.By = "窗口代交 At a desk" + where
		if f.NoAccount {
			v.Answer = "就诊人没有账号：答复由窗口查找该就诊人时告知 No account: the desk tells the answer when it looks the person up"
		} else {
			v.By += " · 本人账号 own account " + f.AccountMasked
		}
	}
	row.Filer = v
	return nil
}

func (c *Console) caseRowOf(cs booking.Case, now time.Time) caseRow {
	cat := c.svc.Catalog()
	loc := c.adminZone()
	hosp := ""
	if h, ok := cat.Hospital(cs.HospitalID); ok {
		loc, hosp = h.Location(), h.Name
	} else if cs.HospitalID == booking.PlatformHospital {
		hosp = "平台 Platform"
	}
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04")
	}
	excerpt := cs.Text
	if utf8.RuneCountInString(excerpt) > 40 {
		excerpt = string([]rune(excerpt)[:40]) + "…"
	}
	offered := cs.OfferedAccount
	if cs.OfferedAccountMasked != "" {
		offered = cs.OfferedAccountMasked // the account's id stays the detector's
	}
	var folded []caseRow
	for _, f := range cs.Folded {
		folded = append(folded, c.caseRowOf(f, now))
	}
	return caseRow{Folded: folded, ID: cs.ID, ShortID: shortID(cs.ID), Kind: cs.Kind, KindLabel: caseKindLabels[cs.Kind],
		Category: categoryLabels[cs.Category], Hospital: hosp, OfferedPhone: cs.OfferedPhoneMasked, OfferedAccount: offered,
		Text: cs.Text, Excerpt: excerpt, Status: cs.Status, StatusLabel: caseStatusLabels[cs.Status], Created: at(cs.CreatedAt),
		Due: at(cs.DueAt), Overdue: cs.Overdue(now), Answer: cs.Answer, Answered: at(cs.AnsweredAt), AnsweredLate: cs.AnsweredLate(),
		CloseNote: cs.CloseNote, Closed: at(cs.ClosedAt), Several: cs.SeveralDepartments, FlagID: cs.FlagID,
		URL: "/admin/cases/" + cs.ID, Booking: cs.BookingID}
}

type casesData struct {
	Cases      []caseRow
	Hospitals  []option
	Bookings   []option
	Categories []option
	FormKey    string
	// What a failed form keeps (the answer to the patient's own POST only).
	Form map[string]string
	// Which form failed: report or complaint.
	Failed string
}

func (c *Console) casesData(r *request) (casesData, error) {
	cs, err := c.svc.MyCases(r.ctx, r.actor, "")
	if err != nil {
		return casesData{}, err
	}
	bs, err := c.svc.Bookings(r.ctx, r.actor)
	if err != nil {
		return casesData{}, err
	}
	ps, err := c.svc.Patients(r.ctx, r.actor)
	if err != nil {
		return casesData{}, err
	}
	cat, now := c.svc.Catalog(), c.opts.Now()
	d := casesData{FormKey: newFormKey(), Form: map[string]string{}}
	for _, h := range cat.Hospitals() {
		d.Hospitals = append(d.Hospitals, option{h.ID, h.Name})
	}
	names := patientLabels(ps)
	for _, b := range bs {
		row := bookingRowOf(cat, b, names, now, "")
		d.Bookings = append(d.Bookings, option{b.ID, row.Date + " " + row.Time + " · " + row.Hospital + " · " + row.Department + " · " + row.Patient})
	}
	for _, k := range booking.ComplaintCategories() {
		d.Categories = append(d.Categories, option{k, categoryLabels[k]})
	}
	for _, x := range cs {
		row := c.caseRowOf(x, now)
		for _, o := range d.Bookings {
			if o.Value == x.BookingID {
				row.Booking = o.Label
			}
		}
		d.Cases = append(d.Cases, row)
	}
	return d, nil
}

func (c *Console) casesPage(r *request) error {
	d, err := c.casesData(r)
	if err != nil {
		return err
	}
	return c.render(r, fasthttp.StatusOK, "patient/cases", page{Title: "投诉举报 Reports", Nav: "cases", Flash: flashes[r.query("ok")], Data: d})
}

// fileCase files a report or a complaint from the patient's form. A
// booking named decides the hospital; the hospital chosen counts only
// without one.
func (c *Console) fileCase(kind string) func(r *request) error {
	return func(r *request) error {
		fields := []string{"text", "booking_id", "hospital_id", "offered_by_phone", "offered_by_account", "category", "several"}
		form := map[string]string{}
		for _, f := range fields {
			form[f] = r.form(f)
		}
		req := booking.CaseRequest{Kind: kind, Text: form["text"], BookingID: form["booking_id"], IdempotencyKey: formKey(r)}
		if req.BookingID == "" {
			req.HospitalID = form["hospital_id"]
		}
		if kind == booking.CaseReport {
			req.OfferedPhone, req.OfferedAccount = strings.TrimSpace(form["offered_by_phone"]), form["offered_by_account"]
		} else {
			req.Category, req.SeveralDepartments = form["category"], form["several"] != ""
		}
		filed, err := c.svc.FileCase(r.ctx, r.actor, req, r.origin)
		if err == nil {
			ok := kind + "_filed"
			if filed.NumbersMasked {
				ok += "_masked"
			}
			c.redirect(r, "/patient/cases?ok="+ok)
			return nil
		}
		d, lerr := c.casesData(r)
		if lerr != nil {
			return lerr
		}
		d.Form, d.Failed = form, kind
		return c.formFailed(r, "patient/cases", page{Title: "投诉举报 Reports", Nav: "cases", Data: d}, err)
	}
}

// notificationRow is a notification on the patient's home page.
type notificationRow struct {
	ID     string
	Kind   string
	Body   string
	When   string
	Unread bool
	// See, on a notice of what another account made for the person, leads
	// to it under 他人为您办理 on the bookings page, where it is cancelled,
	// withdrawn or left (SeeLabel says which); beside it, a link to the
	// report form.
	See, SeeLabel string
}

// madeByOtherLink is where a notice of what another account made for the
// person leads: its card among what others made (ob-, ol-, ow-: a booking,
// an entry, a waitlist place, highlighted), or that list for a place whose
// notice names none (written before session 17). The ids are the store's
// UUIDs.
func madeByOtherLink(n booking.Notification) (href, label string) {
	switch {
	case n.BookingID != "":
		return "/patient/bookings?id=" + n.BookingID + "#ob-" + n.BookingID, "查看并取消 See and cancel it"
	case n.EntryID != "":
		return "/patient/bookings?id=" + n.EntryID + "#ol-" + n.EntryID, "查看并撤回 See and withdraw it"
	case n.WaitlistID != "":
		return "/patient/bookings?id=" + n.WaitlistID + "#ow-" + n.WaitlistID, "查看并退出 See and leave it"
	}
	return "/patient/bookings#made-by-others", "查看并退出 See and leave it"
}

func (c *Console) notificationRows(r *request) ([]notificationRow, int, error) {
	ns, unread, err := c.svc.MyNotifications(r.ctx, r.actor)
	if err != nil {
		return nil, 0, err
	}
	cat := c.svc.Catalog()
	out := make([]notificationRow, 0, min(len(ns), 20))
	for _, n := range ns[:min(len(ns), 20)] {
		loc := c.adminZone()
		if h, ok := cat.Hospital(n.HospitalID); ok {
			loc = h.Location()
		}
		row := notificationRow{ID: n.ID, Kind: n.Kind, Body: n.Body, When: n.CreatedAt.In(loc).Format("2006-01-02 15:04"), Unread: n.ReadAt.IsZero()}
		if n.Kind == booking.NotificationMadeByOther {
			row.See, row.SeeLabel = madeByOtherLink(n)
		}
		out = append(out, row)
	}
	return out, unread, nil
}

// readNotification marks one notification read and goes back to it.
func (c *Console) readNotification(r *request) error {
	if err := c.svc.MarkNotificationRead(r.ctx, r.actor, r.param); err != nil {
		return err
	}
	c.redirect(r, "/patient#notifications")
	return nil
}

func (c *Console) readNotifications(r *request) error {
	if _, err := c.svc.MarkNotificationsRead(r.ctx, r.actor); err != nil {
		return err
	}
	c.redirect(r, "/patient?ok=read")
	return nil
}

// The admin console's queue.

type caseTab struct {
	Key, Label, URL string
	Count           int
	Selected        bool
}

type caseQueueData struct {
	Tabs     []caseTab
	Status   string
	Cases    []caseRow
	Overdue  int
	Platform bool
}

var caseQueueTabs = []struct{ key, label string }{
	{"", "待处理 Waiting"}, {booking.CaseClosed, "已办结 Closed"},
}

// caseQueuePage lists the hospital's cases, soonest deadline first, the
// overdue ones marked.
func (c *Console) caseQueuePage(r *request) error {
	status := r.query("status")
	if status != booking.CaseClosed {
		status = ""
	}
	now := c.opts.Now()
	d := caseQueueData{Status: status, Platform: r.actor.PlatformAdmin()}
	for _, tab := range caseQueueTabs {
		cs, err := c.svc.CaseQueue(r.ctx, r.actor, "", tab.key)
		if err != nil {
			return err
		}
		u := "/admin/cases"
		if tab.key != "" {
			u += "?status=" + tab.key
		}
		d.Tabs = append(d.Tabs, caseTab{Key: map[string]string{"": "waiting"}[tab.key] + tab.key, Label: tab.label, URL: u, Count: len(cs), Selected: tab.key == status})
		if tab.key == status {
			for _, x := range cs {
				row := c.caseRowOf(x, now)
				if err := c.withFiler(r, &row, x); err != nil {
					return err
				}
				if row.Overdue {
					d.Overdue++
				}
				d.Cases = append(d.Cases, row)
			}
		}
	}
	return c.render(r, fasthttp.StatusOK, "admin/cases", page{Title: "投诉举报 Reports", Nav: "cases", Flash: flashes[r.query("ok")], Data: d})
}

type caseData struct {
	caseRow
	Platform bool
	Linked   bool
	// Maker is the patient account that made the reported booking, when
	// another than the reporter's did: its phone masked.
	Maker          *booking.CaseMaker
	FormFlagReason string
	// What a failed form keeps.
	FormAnswer, FormNote, FormFlag string
	FormClose                      bool
}

func (c *Console) caseData(r *request) (caseData, error) {
	cs, err := c.svc.ReviewCase(r.ctx, r.actor, r.param)
	if err != nil {
		return caseData{}, err
	}
	d := caseData{caseRow: c.caseRowOf(cs, c.opts.Now()), Platform: r.actor.PlatformAdmin()}
	if err := c.withFiler(r, &d.caseRow, cs); err != nil {
		return caseData{}, err
	}
	m, ok, err := c.svc.CaseMakerOf(r.ctx, r.actor, cs)
	if err != nil {
		return caseData{}, err
	}
	if ok {
		d.Maker = &m
	}
	return d, nil
}

// setDepartments is the administrator's say on several departments.
func (c *Console) setDepartments(r *request) error {
	_, err := c.svc.SetSeveralDepartments(r.ctx, r.actor, r.param, r.form("several") != "")
	if err == nil {
		c.redirect(r, "/admin/cases/"+r.param+"?ok=case_departments")
		return nil
	}
	d, lerr := c.caseData(r)
	if lerr != nil {
		return lerr
	}
	return c.formFailed(r, "admin/case", page{Title: "投诉举报 " + d.ShortID, Nav: "cases", Data: d}, err)
}

// flagFromCase opens a flag for review on the reported booking's maker.
func (c *Console) flagFromCase(r *request) error {
	_, _, err := c.svc.FlagFromCase(r.ctx, r.actor, r.param, r.form("reason"))
	if err == nil {
		c.redirect(r, "/admin/cases/"+r.param+"?ok=case_flagged")
		return nil
	}
	d, lerr := c.caseData(r)
	if lerr != nil {
		return lerr
	}
	d.FormFlagReason = r.form("reason")
	return c.formFailed(r, "admin/case", page{Title: "投诉举报 " + d.ShortID, Nav: "cases", Data: d}, err)
}

func (c *Console) casePage(r *request) error {
	d, err := c.caseData(r)
	if err != nil {
		return err
	}
	return c.render(r, fasthttp.StatusOK, "admin/case", page{Title: "投诉举报 " + d.ShortID, Nav: "cases", Flash: flashes[r.query("ok")], Data: d})
}

func (c *Console) answerCase(r *request) error {
	ans := booking.CaseAnswer{Answer: r.form("answer"), Close: r.form("close") != "", FlagID: strings.TrimSpace(r.form("flag_id")),
		LiftBlock: r.form("lift_block") != ""}
	cs, err := c.svc.AnswerCase(r.ctx, r.actor, r.param, ans)
	if err == nil {
		c.redirect(r, "/admin/cases/"+cs.ID+"?ok=case_answered")
		return nil
	}
	d, lerr := c.caseData(r)
	if lerr != nil {
		return lerr
	}
	d.FormAnswer, d.FormClose, d.FormFlag = ans.Answer, ans.Close, ans.FlagID
	return c.formFailed(r, "admin/case", page{Title: "投诉举报 " + d.ShortID, Nav: "cases", Data: d}, err)
}

func (c *Console) closeCase(r *request) error {
	cs, err := c.svc.CloseCase(r.ctx, r.actor, r.param, r.form("note"))
	if err == nil {
		c.redirect(r, "/admin/cases/"+cs.ID+"?ok=case_closed")
		return nil
	}
	d, lerr := c.caseData(r)
	if lerr != nil {
		return lerr
	}
	d.FormNote = r.form("note")
	return c.formFailed(r, "admin/case", page{Title: "投诉举报 " + d.ShortID, Nav: "cases", Data: d}, err)
}

// flagReport is a report on a flag's page, with how it came there.
type flagReport struct {
	caseRow
	Linked, Attached bool
}

// flagReports are the reports of a flag, for its page: linked by an
// administrator, attached by the detector, or both.
func (c *Console) flagReports(r *request, flagID string) ([]flagReport, error) {
	cs, err := c.svc.CasesOfFlag(r.ctx, r.actor, flagID)
	if err != nil {
		return nil, err
	}
	rows := make([]flagReport, len(cs))
	for i, x := range cs {
		rows[i] = flagReport{caseRow: c.caseRowOf(x.Case, c.opts.Now()), Linked: x.Linked, Attached: x.Attached}
	}
	return rows, nil
}
