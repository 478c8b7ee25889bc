package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// The holiday calendar and bulk work (号源 › 节假日与批量停诊), for a
// hospital's administrators (review19b M7; booking/holidays.go): the days
// its weekly templates publish nothing on, added (which withdraws the
// clinics published on it that nobody booked, and lists those booked, for
// a stop) and removed; and a withdrawal or a stop of every clinic on a
// range of dates, of a department or a doctor, tried first as a dry run.

// holidayHospital is a hospital's calendar and the choices its forms offer.
type holidayHospital struct {
	ID, Name    string
	Holidays    []booking.Holiday
	Departments []option
	Doctors     []option
	// WorksAs names, by date, the weekday a make-up working day (调休) runs
	// as: "按周一排班 as a Monday".
	WorksAs map[string]string
}

// worksAsLabels are the weekdays a make-up working day may run as, as the
// form offers and the list says them (ISO 1 Monday … 5 Friday).
var worksAsLabels = []option{
	{"1", "按周一排班 as a Monday"}, {"2", "按周二排班 as a Tuesday"}, {"3", "按周三排班 as a Wednesday"},
	{"4", "按周四排班 as a Thursday"}, {"5", "按周五排班 as a Friday"},
}

// bulkRow is a session of a holiday's or a bulk request's answer.
type bulkRow struct {
	When, Doctor, Department string
	Outcome, OutcomeClass    string
	Booked                   string // what a stop ends: bookings, waiting, entries
	URL                      string
	NeedsStop                bool // kept: booked, so a stop (which tells its patients) is needed
}

// bulkView is the answer shown above the forms: what a holiday added or a
// bulk request did, or, of a dry run, would do — with the request, to act
// on with one button.
type bulkView struct {
	Title  string
	Rows   []bulkRow
	More   int
	DryRun bool
	Req    booking.BulkRequest
	Kept   int
}

type holidaysData struct {
	Hospitals []holidayHospital
	Result    *bulkView
	// Form keeps what a refused or dry-run form held, by field.
	Form map[string]string
	// WorksAsLabels is the weekdays a make-up working day may run as.
	WorksAsLabels []option
}

// bulkOutcomes name what became of a session.
var bulkOutcomes = map[string]string{
	booking.BulkWithdrawn:      "已撤回 Withdrawn",
	booking.BulkStopped:        "已停诊 Stopped",
	booking.BulkWouldWithdraw:  "将撤回 Would be withdrawn",
	booking.BulkWouldStop:      "将停诊 Would be stopped",
	booking.BulkKept:           "保留：已有预约，须停诊 Kept: booked, stop it",
	booking.BulkAlreadyStopped: "已停诊过 Stopped before",
	booking.BulkOver:           "已结束 Over",
	booking.BulkRefused:        "被拒绝 Refused",
	booking.BulkNotDone:        "未完成，请重试 Not done: repeat",
}

func (c *Console) holidaysData(r *request) (holidaysData, error) {
	cat, now := c.svc.Catalog(), c.opts.Now()
	d := holidaysData{Form: map[string]string{}, WorksAsLabels: worksAsLabels}
	for _, h := range cat.Hospitals() {
		if !r.actor.Covers(h.ID) {
			continue
		}
		hh := holidayHospital{ID: h.ID, Name: h.Name}
		from := now.In(h.Location()).Format(time.DateOnly)
		to := now.In(h.Location()).AddDate(0, 0, booking.ScheduleHorizonDays).Format(time.DateOnly)
		hs, err := c.svc.Holidays(r.ctx, r.actor, h.ID, from, to)
		if err != nil {
			return d, err
		}
		hh.Holidays, hh.WorksAs = hs, map[string]string{}
		for _, hd := range hs {
			if hd.WorksAs >= 1 && hd.WorksAs <= len(worksAsLabels) {
				hh.WorksAs[hd.Date] = worksAsLabels[hd.WorksAs-1].Label
			}
		}
		for _, dept := range cat.Departments(h.ID) {
			hh.Departments = append(hh.Departments, option{dept.ID, dept.Name})
		}
		for _, doc := range cat.Doctors(h.ID) {
			hh.Doctors = append(hh.Doctors, option{doc.ID, doc.Name})
		}
		d.Hospitals = append(d.Hospitals, hh)
	}
	return d, nil
}

func (c *Console) holidaysPage(r *request) error {
	flash := map[string]string{"removed": "节假日已取消：出诊模板在这一天重新发布出诊（已撤回的不会恢复）。 Holiday removed: the templates publish on the day again (what was withdrawn is not brought back)."}[r.query("ok")]
	d, err := c.holidaysData(r)
	if err != nil {
		return err
	}
	return c.render(r, fasthttp.StatusOK, "admin/holidays", page{Title: "节假日 Holidays", Nav: "schedule", Flash: flash, Data: d})
}

// holidaysFailed shows the page again with the refusal of form and what
// it held.
func (c *Console) holidaysFailed(r *request, form string, fields []string, err error) error {
	d, lerr := c.holidaysData(r)
	if lerr != nil {
		return lerr
	}
	for _, f := range fields {
		d.Form[f] = r.form(f)
	}
	return c.formFailed(r, "admin/holidays", page{Title: "节假日 Holidays", Nav: "schedule", Form: form, Data: d}, err)
}

// setHoliday adds a day to the hospital's calendar and shows which
// clinics on it were withdrawn and which, booked, need a stop; or, a
// make-up working day (调休), that its templates run another weekday's
// clinics on it.
func (c *Console) setHoliday(r *request) error {
	hospital := r.form("hospital_id")
	res, err := func() (booking.HolidayResult, error) {
		worksAs := 0
		if v := r.form("works_as"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return booking.HolidayResult{}, booking.FieldErrorf(booking.ErrInvalidField, "works_as", "choose a day off or a weekday")
			}
			worksAs = n
		}
		return c.svc.SetHoliday(r.ctx, r.actor, hospital, booking.HolidayRequest{Date: strings.TrimSpace(r.form("date")),
			Name: r.form("name"), Reason: strings.TrimSpace(r.form("reason")), WorksAs: worksAs})
	}()
	if err != nil {
		return c.holidaysFailed(r, "holiday-form-"+hospital, []string{"hospital_id", "date", "name", "reason", "works_as"}, err)
	}
	d, err := c.holidaysData(r)
	if err != nil {
		return err
	}
	if res.Holiday.WorksAs != 0 {
		flash := "已设为调休上班日：出诊模板在这一天发布" + worksAsLabels[res.Holiday.WorksAs-1].Label +
			" 的出诊，已发布的出诊不变。 Make-up working day set: the templates publish that weekday's clinics on it; what is published stays."
		return c.render(r, fasthttp.StatusOK, "admin/holidays", page{Title: "节假日 Holidays", Nav: "schedule", Flash: flash, Data: d})
	}
	v := c.bulkViewOf(res.Sessions, booking.BulkRequest{HospitalID: hospital, From: res.Holiday.Date, To: res.Holiday.Date, Action: booking.BulkStop})
	v.Title = "已设为节假日 Holiday set: " + res.Holiday.Date + " " + res.Holiday.Name
	d.Result = &v
	flash := "已设为节假日；当天无人预约的出诊已撤回。 Holiday set; its clinics nobody booked are withdrawn."
	if v.Kept > 0 {
		flash = strconv.Itoa(v.Kept) + " 个出诊已有预约，需要停诊（患者会收到通知），见下表。 " + strconv.Itoa(v.Kept) +
			" clinic(s) on the day are booked and need a stop, which tells their patients: see below."
	}
	return c.render(r, fasthttp.StatusOK, "admin/holidays", page{Title: "节假日 Holidays", Nav: "schedule", Flash: flash, Data: d})
}

// deleteHoliday takes a day off the calendar.
func (c *Console) deleteHoliday(r *request) error {
	err := c.svc.DeleteHoliday(r.ctx, r.actor, r.form("hospital_id"), r.form("date"), strings.TrimSpace(r.form("reason")))
	if err != nil {
		return c.holidaysFailed(r, "holiday-delete-"+r.form("date"), nil, err)
	}
	c.redirect(r, "/admin/holidays?ok=removed")
	return nil
}

// bulkSessions withdraws or stops the clinics of a range of dates, or,
// with dry_run, shows what it would do and offers to do it.
func (c *Console) bulkSessions(r *request) error {
	req := booking.BulkRequest{HospitalID: r.form("hospital_id"), DepartmentID: r.form("department_id"), DoctorID: r.form("doctor_id"),
		From: strings.TrimSpace(r.form("from")), To: strings.TrimSpace(r.form("to")), Action: r.form("action"),
		Reason: strings.TrimSpace(r.form("reason")), DryRun: r.form("dry_run") != ""}
	res, err := c.svc.BulkStop(r.ctx, r.actor, req)
	if err != nil {
		return c.holidaysFailed(r, "bulk-form-"+req.HospitalID, []string{"hospital_id", "department_id", "doctor_id", "from", "to", "action", "reason"}, err)
	}
	d, err := c.holidaysData(r)
	if err != nil {
		return err
	}
	v := c.bulkViewOf(res, req)
	v.DryRun = req.DryRun
	v.Title = "批量" + map[string]string{booking.BulkStop: "停诊 Bulk stop", booking.BulkWithdraw: "撤回 Bulk withdrawal"}[req.Action] + " " + req.From + " – " + req.To
	flash := "已完成，结果见下表。 Done: see the table below."
	if req.DryRun {
		v.Title = "预演 Dry run: " + v.Title
		flash = "预演：尚未做任何更改，确认下表后再执行。 Dry run: nothing is changed yet; check the table, then act."
	}
	d.Result = &v
	return c.render(r, fasthttp.StatusOK, "admin/holidays", page{Title: "节假日 Holidays", Nav: "schedule", Flash: flash, Data: d})
}

// bulkViewOf words a bulk answer's sessions.
func (c *Console) bulkViewOf(res booking.BulkResult, req booking.BulkRequest) bulkView {
	cat := c.svc.Catalog()
	loc := c.adminZone()
	if h, ok := cat.Hospital(req.HospitalID); ok {
		loc = h.Location()
	}
	v := bulkView{More: res.More, Req: req}
	for _, it := range res.Items {
		s := it.Session
		doc, _ := cat.Doctor(s.DoctorID)
		dept, _ := cat.Department(s.DepartmentID)
		row := bulkRow{When: s.VisitDate + " " + periodLabel(s.Period) + " " + s.StartsAt.In(loc).Format("15:04"), Doctor: doc.Name,
			Department: dept.Name, Outcome: labelOr(bulkOutcomes, it.Outcome), OutcomeClass: "b-" + it.Outcome,
			Booked:    strconv.Itoa(it.Booked.Total()) + " / " + strconv.Itoa(it.Booked.Waiting) + " / " + strconv.Itoa(it.Booked.Entries),
			NeedsStop: it.Outcome == booking.BulkKept}
		if it.Outcome != booking.BulkWithdrawn {
			row.URL = sessionURL(s.ID, "", nil)
		}
		if e, ok := booking.Public(it.Err); ok && it.Err != nil {
			row.Outcome += " · " + zhMessage(e.Code) + " " + e.Code
		}
		if row.NeedsStop {
			v.Kept++
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}
