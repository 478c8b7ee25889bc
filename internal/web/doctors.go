package web

import (
	"net/url"
	"strings"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// The administrator's departments and doctors (科室与医生): open and close
// departments, add doctors with their title and fee level, edit and retire
// them. The schedule page publishes for the doctors kept here.

type doctorsData struct {
	Hospitals []doctorsHospital
	FeeLevels []option
	FormKey   string
	Typed     typed // a refused form's values: a hospital's new department or doctor, or a doctor's edit
}

type doctorsHospital struct {
	ID, Name    string
	Departments []departmentRow
	Open        []option // the open departments, for the forms
	Doctors     []doctorRow
}

type departmentRow struct {
	ID, Name string
	Doctors  int // on the schedule
	Retired  bool
}

type doctorRow struct {
	ID, Name, Title, FeeLevel, FeeLabel, DepartmentID, Department string
	Retired                                                       bool
}

// feeLabels name the fee levels as a hospital's registration window does.
var feeLabels = map[booking.FeeLevel]string{
	booking.FeeGeneral: "普通 General",
	booking.FeeExpert:  "专家 Expert",
	booking.FeeSpecial: "特需 Special",
}

func (c *Console) doctorsOf(r *request) doctorsData {
	cat := c.svc.Catalog()
	d := doctorsData{FormKey: newFormKey()}
	for _, f := range []booking.FeeLevel{booking.FeeGeneral, booking.FeeExpert, booking.FeeSpecial} {
		d.FeeLevels = append(d.FeeLevels, option{string(f), feeLabels[f]})
	}
	for _, h := range cat.Hospitals() {
		if !r.actor.Covers(h.ID) {
			continue
		}
		dh := doctorsHospital{ID: h.ID, Name: h.Name}
		staffed := map[string]int{}
		for _, doc := range cat.Doctors(h.ID) {
			dept, _ := cat.Department(doc.DepartmentID)
			fee := doc.FeeLevel.OrGeneral()
			dh.Doctors = append(dh.Doctors, doctorRow{ID: doc.ID, Name: doc.Name, Title: doc.Title, FeeLevel: string(fee),
				FeeLabel: feeLabels[fee], DepartmentID: dept.ID, Department: dept.Name, Retired: doc.Retired()})
			if !doc.Retired() {
				staffed[doc.DepartmentID]++
			}
		}
		for _, dept := range cat.Departments(h.ID) {
			dh.Departments = append(dh.Departments, departmentRow{ID: dept.ID, Name: dept.Name, Doctors: staffed[dept.ID], Retired: dept.Retired()})
			if !dept.Retired() {
				dh.Open = append(dh.Open, option{dept.ID, dept.Name})
			}
		}
		d.Hospitals = append(d.Hospitals, dh)
	}
	return d
}

func (c *Console) doctorsPage(r *request) error {
	flash := map[string]string{
		"department":         "科室已开设。 Department opened.",
		"department_retired": "科室已撤销。 Department closed.",
		"doctor":             "医生已添加，可在号源页发布出诊。 Doctor added: publish their sessions on the schedule page.",
		"doctor_saved":       "医生信息已保存。 Doctor saved.",
		"doctor_retired":     "医生已退出排班（记录保留）。 Doctor retired (their record is kept).",
	}[r.query("ok")]
	return c.render(r, fasthttp.StatusOK, "admin/doctors", page{Title: "科室与医生 Doctors", Nav: "doctors", Flash: flash, Data: c.doctorsOf(r)})
}

// doctorsDone answers a change: back to the page with its message, or the
// page again with the error and the refused form (its id) open, with the
// named fields as typed.
func (c *Console) doctorsDone(r *request, form, ok string, err error, fields ...string) error {
	if err != nil {
		d := c.doctorsOf(r)
		d.Typed = typedValues(r, form, fields...)
		return c.formFailed(r, "admin/doctors", page{Title: "科室与医生 Doctors", Nav: "doctors", Form: form, Data: d}, err)
	}
	c.redirect(r, "/admin/doctors?"+url.Values{"ok": {ok}}.Encode())
	return nil
}

func (c *Console) createDepartment(r *request) error {
	_, err := c.svc.CreateDepartment(r.ctx, r.actor, booking.DepartmentRequest{HospitalID: r.form("hospital_id"),
		Name: r.form("name"), IdempotencyKey: r.form("idem")})
	return c.doctorsDone(r, "department-"+r.form("hospital_id"), "department", err, "name")
}

func (c *Console) retireDepartment(r *request) error {
	_, err := c.svc.RetireDepartment(r.ctx, r.actor, r.param, strings.TrimSpace(r.form("reason")))
	return c.doctorsDone(r, "retire-"+r.param, "department_retired", err)
}

// doctorFields are the fields of the add and edit doctor forms.
var doctorFields = []string{"department_id", "name", "title", "fee_level"}

func (c *Console) createDoctor(r *request) error {
	_, err := c.svc.CreateDoctor(r.ctx, r.actor, booking.DoctorRequest{DepartmentID: r.form("department_id"), Name: r.form("name"),
		Title: r.form("title"), FeeLevel: booking.FeeLevel(r.form("fee_level")), IdempotencyKey: r.form("idem")})
	return c.doctorsDone(r, "doctor-"+r.form("hospital_id"), "doctor", err, doctorFields...)
}

func (c *Console) updateDoctor(r *request) error {
	_, err := c.svc.UpdateDoctor(r.ctx, r.actor, r.param, booking.DoctorRequest{DepartmentID: r.form("department_id"),
		Name: r.form("name"), Title: r.form("title"), FeeLevel: booking.FeeLevel(r.form("fee_level")), Reason: r.form("reason")})
	return c.doctorsDone(r, "edit-"+r.param, "doctor_saved", err, doctorFields...)
}

func (c *Console) retireDoctor(r *request) error {
	_, err := c.svc.RetireDoctor(r.ctx, r.actor, r.param, strings.TrimSpace(r.form("reason")))
	return c.doctorsDone(r, "retire-"+r.param, "doctor_retired", err)
}
