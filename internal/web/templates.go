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

// The administrator's weekly templates (出诊模板): a doctor's rota kept by
// name, edited when it changes, and applied to a week to publish its
// sessions (all or none, each checked as one published alone).

// templateDayRows and templatePoolChannels are how many clinics a form
// offers and which pools: enough for a specialist's week; the API takes
// more.
const templateDayRows = 4

var templatePoolChannels = []booking.Channel{booking.ChannelOnline, booking.ChannelPhone, booking.ChannelOnsite, booking.ChannelReferral}

// The choices of a template form's rows.
var (
	weekdayOptions = []option{{"1", "周一 Mon"}, {"2", "周二 Tue"}, {"3", "周三 Wed"}, {"4", "周四 Thu"}, {"5", "周五 Fri"},
		{"6", "周六 Sat"}, {"7", "周日 Sun"}}
	periodOptions = []option{{"morning", "上午 Morning"}, {"afternoon", "下午 Afternoon"}, {"evening", "晚间 Evening"}}
)

type templatesData struct {
	Hospitals []templatesHospital
	FormKey   string
	NextWeek  string // the Monday after next, the publish form's default
	// Warning, when set, is the publish form of one template shown again
	// with the week typed: with Text, a release time of that week needs a
	// confirmation (weekWarning); without, the week was refused.
	Warning weekWarning
}

// weekWarning is why a template's week was not published yet: the
// template, the week (what the confirmation confirms; another week is
// checked again) and the release time's warning (releaseWarning).
type weekWarning struct {
	TemplateID, Week, Text string
}

type templatesHospital struct {
	ID, Name string
	Doctors  []templatesDoctor
}

type templatesDoctor struct {
	ID, Name, Department string
	Templates            []templateView
	New                  templateForm // an empty form to create one
}

type templateView struct {
	ID, Name, Summary, UpdatedAt string
	Form                         templateForm
}

// templateForm is a template as the form shows it: fixed rows of clinics
// (empty ones unused) and one row per channel (quota 0: no pool).
type templateForm struct {
	// ID is the form's id (templateFormID), which a refusal names.
	ID, Name          string
	Days              []templateDayForm
	Pools             []templatePoolForm
	Weekdays, Periods []option // the choices of every row
	// Error is the page's error, which may be about this form's fields
	// (tplFields).
	Error *pageError
}

// templateFormID is the id of a template's edit form, or of a doctor's new
// template form when template is "".
func templateFormID(doctor, template string) string {
	if template == "" {
		return "tpl-new-" + doctor
	}
	return "tpl-edit-" + template
}

type templateDayForm struct {
	N                           int    // the row, naming its fields day<N>_…
	Weekday, Period, Start, End string // Weekday "" for an unused row
}

type templatePoolForm struct {
	Channel           string
	Label             string
	Quota, DaysBefore string
	At                string
}

func templateFormOf(id, name string, t booking.WeekTemplate) templateForm {
	f := templateForm{ID: id, Name: name, Weekdays: weekdayOptions, Periods: periodOptions}
	for i := range templateDayRows {
		d := templateDayForm{N: i, Period: "morning", Start: "08:00", End: "12:00"}
		if i < len(t.Days) {
			d = templateDayForm{N: i, Weekday: strconv.Itoa(t.Days[i].Weekday), Period: t.Days[i].Period, Start: t.Days[i].Start, End: t.Days[i].End}
		}
		f.Days = append(f.Days, d)
	}
	for _, ch := range templatePoolChannels {
		p := templatePoolForm{Channel: string(ch), Label: channelLabels[ch], Quota: "0", DaysBefore: "0", At: "08:00"}
		for _, tp := range t.Pools {
			if tp.Channel == ch {
				p.Quota, p.DaysBefore, p.At = strconv.Itoa(tp.Quota), strconv.Itoa(tp.DaysBefore), tp.At
			}
		}
		f.Pools = append(f.Pools, p)
	}
	return f
}

// typedTemplateForm is the template form of r as it was typed, to show a
// refused one again.
func typedTemplateForm(r *request, id string) templateForm {
	f := templateForm{ID: id, Name: r.form("name"), Weekdays: weekdayOptions, Periods: periodOptions}
	for i := range templateDayRows {
		field := func(name string) string { return r.form(fmt.Sprintf("day%d_%s", i, name)) }
		f.Days = append(f.Days, templateDayForm{N: i, Weekday: field("weekday"), Period: field("period"), Start: field("start"), End: field("end")})
	}
	for _, ch := range templatePoolChannels {
		field := func(name string) string { return r.form(string(ch) + "_" + name) }
		f.Pools = append(f.Pools, templatePoolForm{Channel: string(ch), Label: channelLabels[ch], Quota: field("quota"),
			DaysBefore: field("days_before"), At: field("at")})
	}
	return f
}

// summarise says a template's clinics and pools in a line.
func summarise(t booking.WeekTemplate) string {
	names := []string{"", "一 Mon", "二 Tue", "三 Wed", "四 Thu", "五 Fri", "六 Sat", "日 Sun"}
	var days, pools []string
	for _, d := range t.Days {
		if d.Weekday >= 1 && d.Weekday <= 7 {
			days = append(days, fmt.Sprintf("周%s %s–%s", names[d.Weekday], d.Start, d.End))
		}
	}
	for _, p := range t.Pools {
		pools = append(pools, fmt.Sprintf("%s %d（前 %d 天 %s）", channelLabels[p.Channel], p.Quota, p.DaysBefore, p.At))
	}
	return strings.Join(days, "、") + " · " + strings.Join(pools, "、")
}

func (c *Console) templatesOf(r *request) templatesData {
	cat := c.svc.Catalog()
	d := templatesData{FormKey: newFormKey()}
	next := time.Now().In(c.adminZone()).AddDate(0, 0, 8)
	for next.Weekday() != time.Monday {
		next = next.AddDate(0, 0, 1)
	}
	d.NextWeek = next.Format(time.DateOnly)
	for _, h := range cat.Hospitals() {
		if !r.actor.Covers(h.ID) {
			continue
		}
		th := templatesHospital{ID: h.ID, Name: h.Name}
		for _, doc := range cat.Doctors(h.ID) {
			if doc.Retired() {
				continue
			}
			dept, _ := cat.Department(doc.DepartmentID)
			td := templatesDoctor{ID: doc.ID, Name: doc.Name, Department: dept.Name, New: templateFormOf(templateFormID(doc.ID, ""), "", booking.WeekTemplate{})}
			ts, err := c.svc.DoctorTemplates(r.ctx, r.actor, doc.ID)
			if err == nil {
				for _, t := range ts {
					td.Templates = append(td.Templates, templateView{ID: t.ID, Name: t.Name, Summary: summarise(t.WeekTemplate),
						UpdatedAt: t.UpdatedAt.In(h.Location()).Format("2006-01-02 15:04"), Form: templateFormOf(templateFormID(doc.ID, t.ID), t.Name, t.WeekTemplate)})
				}
			}
			th.Doctors = append(th.Doctors, td)
		}
		d.Hospitals = append(d.Hospitals, th)
	}
	return d
}

func (c *Console) templatesPage(r *request) error {
	flash := map[string]string{
		"saved":     "模板已保存。 Template saved.",
		"published": "本周出诊已发布，可在号源页查看。 The week is published: see the schedule page.",
	}[r.query("ok")]
	return c.render(r, fasthttp.StatusOK, "admin/templates", page{Title: "出诊模板 Templates", Nav: "schedule", Flash: flash, Data: c.templatesOf(r)})
}

// templatesFailed shows a template's refused publish form again open (the
// fields of a refusal of its week are the template's, not this form's).
func (c *Console) templatesFailed(r *request, err error) error {
	d := c.templatesOf(r)
	d.Warning = weekWarning{TemplateID: r.param, Week: strings.TrimSpace(r.form("week_of"))}
	return c.formFailed(r, "admin/templates", page{Title: "出诊模板 Templates", Nav: "schedule", Form: "tpl-publish-" + r.param,
		Data: d}, err)
}

// templateSaveFailed shows the refused template form (its id) again open,
// with what was typed, and the field to correct marked: rows maps the
// domain's day<i>_ fields (the template's i-th clinic) to the form's rows.
func (c *Console) templateSaveFailed(r *request, id string, rows []int, err error) error {
	d := c.templatesOf(r)
	typed := typedTemplateForm(r, id)
	for hi := range d.Hospitals {
		for di := range d.Hospitals[hi].Doctors {
			doc := &d.Hospitals[hi].Doctors[di]
			if doc.New.ID == id {
				doc.New = typed
			}
			for ti := range doc.Templates {
				if doc.Templates[ti].Form.ID == id {
					doc.Templates[ti].Form = typed
				}
			}
		}
	}
	if e, ok := booking.AsError(err); ok {
		var i int
		var rest string
		if n, _ := fmt.Sscanf(e.Field, "day%d_%s", &i, &rest); n == 2 && i >= 0 && i < len(rows) {
			named := *e
			named.Field = fmt.Sprintf("day%d_%s", rows[i], rest)
			err = &named
		}
	}
	return c.formFailed(r, "admin/templates", page{Title: "出诊模板 Templates", Nav: "schedule", Form: id, Data: d}, err)
}

// templateFromForm reads the clinics (rows with a weekday) and the pools
// (channels with a quota) of a template form, and the form's row of each
// clinic.
func templateFromForm(r *request) (booking.WeekTemplate, []int, error) {
	var t booking.WeekTemplate
	var rows []int
	for i := range templateDayRows {
		wd, err := r.formInt(fmt.Sprintf("day%d_weekday", i))
		if err != nil {
			return t, rows, err
		}
		if wd == 0 {
			continue
		}
		rows = append(rows, i)
		t.Days = append(t.Days, booking.TemplateDay{Weekday: wd, Period: r.form(fmt.Sprintf("day%d_period", i)),
			Start: strings.TrimSpace(r.form(fmt.Sprintf("day%d_start", i))), End: strings.TrimSpace(r.form(fmt.Sprintf("day%d_end", i)))})
	}
	for _, ch := range templatePoolChannels {
		quota, err := r.formInt(string(ch) + "_quota")
		if err != nil {
			return t, rows, err
		}
		if quota == 0 {
			continue
		}
		days, err := r.formInt(string(ch) + "_days_before")
		if err != nil {
			return t, rows, err
		}
		t.Pools = append(t.Pools, booking.TemplatePool{Channel: ch, Quota: quota, DaysBefore: days, At: strings.TrimSpace(r.form(string(ch) + "_at"))})
	}
	return t, rows, nil
}

func (c *Console) saveTemplate(r *request) error {
	id := templateFormID(r.form("doctor_id"), r.param)
	t, rows, err := templateFromForm(r)
	if err != nil {
		return c.templateSaveFailed(r, id, rows, err)
	}
	t.DoctorID = r.form("doctor_id")
	req := booking.TemplateRequest{Name: r.form("name"), WeekTemplate: t, IdempotencyKey: r.form("idem")}
	if _, err := c.svc.SaveTemplate(r.ctx, r.actor, r.param, req); err != nil {
		return c.templateSaveFailed(r, id, rows, err)
	}
	c.redirect(r, "/admin/templates?"+url.Values{"ok": {"saved"}}.Encode())
	return nil
}

// applyTemplate publishes a template's week, unless a release time of it
// is already past or more than booking.ScheduleHorizonDays ahead and the
// administrator has not confirmed that week yet: then the form comes back
// with the warning, as the schedule form's does, and nothing is published.
func (c *Console) applyTemplate(r *request) error {
	week := strings.TrimSpace(r.form("week_of"))
	confirmed := r.form("confirm_week") == week
	if !confirmed {
		sessions, err := c.svc.TemplateWeek(r.ctx, r.actor, r.param, week)
		if err != nil {
			return c.templatesFailed(r, err)
		}
		if w := weekReleaseWarning(sessions, c.opts.Now()); w != "" {
			d := c.templatesOf(r)
			d.Warning = weekWarning{TemplateID: r.param, Week: week, Text: w}
			return c.render(r, fasthttp.StatusOK, "admin/templates", page{Title: "出诊模板 Templates", Nav: "schedule", Data: d})
		}
	}
	if _, err := c.svc.ApplyTemplate(r.ctx, r.actor, r.param, week, r.form("idem"), confirmed); err != nil {
		return c.templatesFailed(r, err)
	}
	c.redirect(r, "/admin/templates?"+url.Values{"ok": {"published"}}.Encode())
	return nil
}

// weekReleaseWarning is the warning of the first release time of a laid
// out week that needs a confirmation (releaseWarning), naming its session
// and pool and how many of the week's release times do; empty when none.
func weekReleaseWarning(sessions []booking.Session, now time.Time) string {
	first, n := "", 0
	for _, s := range sessions {
		for _, q := range s.Channels {
			if w := releaseWarning(q.ReleaseAt, now); w != "" {
				if n++; first == "" {
					first = fmt.Sprintf("%s %s · %s: %s", s.VisitDate, periodLabel(s.Period), channelLabels[q.Channel], w)
				}
			}
		}
	}
	if n > 1 {
		first += fmt.Sprintf("（共 %d 个放号时间 %d release times in all）", n, n)
	}
	return first
}

// formInt reads a whole number from a form field: empty is 0 (which the
// Service refuses where 0 is no value), anything else not a number is
// invalid_field.
func (r *request) formInt(key string) (int, error) {
	v := strings.TrimSpace(r.form(key))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, booking.FieldErrorf(booking.ErrInvalidField, key, "%s must be a whole number", key)
	}
	return n, nil
}

// typed is a refused form's values as they were typed, by field name, shown
// again in that form (its id) instead of what is stored, so that nothing is
// typed twice; the zero value when no form was refused. For an
// administrator's forms: numbers, times, a doctor's or department's name —
// never an ID number, a patient's name or a phone (kept, for a reason).
type typed struct {
	form   string
	values map[string]string
}

// Value is the value of field name in form: as typed when form is the one
// refused, else current.
func (t typed) Value(form, name string, current any) string {
	if v, ok := t.values[name]; ok && form == t.form {
		return v
	}
	return fmt.Sprint(current)
}

// typedValues reads the named fields of the refused form.
func typedValues(r *request, form string, names ...string) typed {
	t := typed{form: form, values: map[string]string{}}
	for _, n := range names {
		t.values[n] = r.form(n)
	}
	return t
}
