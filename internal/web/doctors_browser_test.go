package web

import (
	"testing"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestDoctorsPageInBrowser drives headless Chromium through the admin
// console's departments-and-doctors page as a hospital's own administrator:
// they see only their hospital, open a department, add an expert to it,
// edit the title, find the doctor on the schedule page's publish form, are
// refused retiring a doctor with an upcoming session (with its code), retire
// the new doctor and close the emptied department. SQL has the rows kept
// and every change audited. Screenshots are doctors-*.png.
func TestDoctorsPageInBrowser(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	other := booking.Hospital{ID: booking.NewID(), Name: "别的医院 Other Hospital", TimeZone: "Asia/Shanghai", Policy: booking.DefaultPolicy}
	testenv.Must(t, s.svc.SaveSchedule(ctx, booking.Schedule{Hospitals: []booking.Hospital{other}}), "save another hospital")
	b := s.hospitalAdminTab()
	b.click(`nav a[href="/admin/doctors"]`, "/admin/doctors")
	b.contains("#h-"+s.hospital.ID, s.hospital.Name)
	b.absent("#h-" + other.ID) // another hospital's staff is not theirs to keep
	b.contains("#d-"+s.doctors[0].ID, s.doctors[0].Name)

	open := func(sel string) { // a <details> opens in place
		b.do("open "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
	}
	// 1. A department, then a doctor in it.
	open("#department-open")
	b.fill("#department-form input[name=name]", "眼科 Ophthalmology")
	b.click("#department-form button[type=submit]", "/admin/doctors?ok=department")
	b.contains("#flash", "Department opened")
	var dept booking.Department
	for _, d := range s.svc.Catalog().Departments(s.hospital.ID) {
		if d.Name == "眼科 Ophthalmology" {
			dept = d
		}
	}
	if dept.ID == "" {
		t.Fatalf("the new department is not in the catalog")
	}
	open("#doctor-open")
	b.set("#doctor-form select[name=department_id]", dept.ID)
	b.fill("#doctor-form input[name=name]", "赵敏")
	b.fill("#doctor-form input[name=title]", "副主任医师")
	b.set("#doctor-form select[name=fee_level]", "expert")
	b.shot("doctors-01-add")
	b.click("#doctor-form button[type=submit]", "/admin/doctors?ok=doctor")
	b.contains("#flash", "Doctor added")
	var doc booking.Doctor
	for _, d := range s.svc.Catalog().Doctors(s.hospital.ID) {
		if d.Name == "赵敏" {
			doc = d
		}
	}
	if doc.ID == "" || doc.DepartmentID != dept.ID || doc.FeeLevel != booking.FeeExpert || doc.Title != "副主任医师" {
		t.Fatalf("the new doctor = %+v, want 赵敏, an expert in %s", doc, dept.ID)
	}
	row := "#d-" + doc.ID
	b.contains(row, "专家 Expert")
	b.contains(row, "眼科 Ophthalmology")

	// 2. Promoted: the title changes.
	open(row + " .edit-open")
	b.set(row+" .edit-form input[name=title]", "主任医师")
	b.click(row+" .edit-form button[type=submit]", "/admin/doctors?ok=doctor_saved")
	b.contains(row, "主任医师")
	if got, _ := s.svc.Catalog().Doctor(doc.ID); got.Title != "主任医师" || got.FeeLevel != booking.FeeExpert {
		t.Errorf("after the edit: %+v, want the new title and the fee level kept", got)
	}

	// 3. The schedule page publishes for the new doctor.
	b.click(`nav a[href="/admin/schedule"]`, "/admin/schedule")
	b.count("#publish-form-"+s.hospital.ID+` option[value="`+doc.ID+`"]`, 1)

	// 4. A doctor with an upcoming session is not retired.
	b.click(`nav a[href="/admin/doctors"]`, "/admin/doctors")
	busy := "#d-" + s.doctors[0].ID
	open(busy + " .retire-open")
	b.fill(busy+" .retire-form input[name=reason]", "leaves")
	b.click(busy+" .retire-form button[type=submit]", "/admin/doctors/"+s.doctors[0].ID+"/retire")
	b.contains("#error", "doctor_has_sessions")
	b.shot("doctors-02-refused")
	if got := fieldState(b, busy+" .retire-form [name=reason]", "  false leaves"); got != "  false leaves" || !b.isOpen(busy+" .retire-form") {
		t.Errorf("the refused retirement's reason: aria-invalid, aria-describedby, focused, value = %q, want its form open with it kept", got)
	}

	// 5. The new doctor retires; the emptied department closes.
	b.open("/admin/doctors")
	open(row + " .retire-open")
	b.fill(row+" .retire-form input[name=reason]", "调往分院 Moved to the branch")
	b.click(row+" .retire-form button[type=submit]", "/admin/doctors?ok=doctor_retired")
	b.contains(row, "Retired")
	b.absent(row + " form")
	drow := "#dp-" + dept.ID
	open(drow + " summary")
	b.fill(drow+" input[name=reason]", "并入眼耳鼻喉科 Merged")
	b.click(drow+" form button[type=submit]", "/admin/doctors?ok=department_retired")
	b.contains(drow, "Closed")
	b.shot("doctors-03-retired")

	if n := s.count(`SELECT count(*) FROM doctors WHERE id = $1 AND retired_at IS NOT NULL`, doc.ID); n != 1 {
		t.Errorf("the retired doctor's row: %d, want it kept and marked", n)
	}
	if n := s.count(`SELECT count(*) FROM doctors WHERE id = $1 AND retired_at IS NULL`, s.doctors[0].ID); n != 1 {
		t.Errorf("the busy doctor was retired")
	}
	for _, action := range []string{"department_create", "doctor_create", "doctor_update", "doctor_retire", "department_retire"} {
		if n := s.count(`SELECT count(*) FROM audit_log WHERE action = $1 AND hospital_id = $2`, action, s.hospital.ID); n != 1 {
			t.Errorf("audit rows %s = %d, want 1", action, n)
		}
	}
}
