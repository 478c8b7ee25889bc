package booking_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestAdminKeepsDepartmentsAndDoctors (L): a hospital's administrator opens
// a department, adds a doctor with a title and a fee level, edits them, and
// publishes for them at once; every refusal has its code; another
// instance knows each change after its catalog watch; every change is
// audited.
func TestAdminKeepsDepartmentsAndDoctors(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	other := h.stack.Instance(t, booking.Config{Now: h.clock.Now})
	_, _ = other.WatchCatalog(h.ctx)

	dept, err := h.svc.CreateDepartment(h.ctx, admin, booking.DepartmentRequest{HospitalID: h.hosp.ID, Name: " 皮肤科 Dermatology "})
	testenv.Must(t, err, "create department")
	if dept.Name != "皮肤科 Dermatology" || dept.HospitalID != h.hosp.ID || dept.Retired() {
		t.Fatalf("department = %+v, want the trimmed name in the hospital, open", dept)
	}
	doc, err := h.svc.CreateDoctor(h.ctx, admin, booking.DoctorRequest{DepartmentID: dept.ID, Name: "王芳", Title: "副主任医师", FeeLevel: booking.FeeExpert})
	testenv.Must(t, err, "create doctor")
	if doc.HospitalID != h.hosp.ID || doc.FeeLevel != booking.FeeExpert || doc.Title != "副主任医师" {
		t.Fatalf("doctor = %+v", doc)
	}
	plain, err := h.svc.CreateDoctor(h.ctx, admin, booking.DoctorRequest{DepartmentID: dept.ID, Name: "李明"})
	testenv.Must(t, err, "create a doctor with no fee level")
	if plain.FeeLevel != booking.FeeGeneral {
		t.Errorf("a doctor created without a fee level has %q, want general", plain.FeeLevel)
	}
	if changed, err := other.WatchCatalog(h.ctx); err != nil || !changed {
		t.Fatalf("the other instance's watch after the doctors were added: %v %v, want a reload", changed, err)
	}
	if got, ok := other.Catalog().Doctor(doc.ID); !ok || got.Name != "王芳" {
		t.Fatalf("the other instance does not know the new doctor: %+v", got)
	}

	// Published for at once, and bookable.
	sess, err := h.svc.CreateSession(h.ctx, admin, h.morning(doc, 2, 0, time.Now().Add(-time.Minute)))
	testenv.Must(t, err, "publish for the new doctor")
	h.mustBook(h.user(1), 0, sess, "")

	// An edit: a new title, a new department; the published session keeps
	// its department.
	dept2, err := h.svc.CreateDepartment(h.ctx, admin, booking.DepartmentRequest{HospitalID: h.hosp.ID, Name: "整形外科 Plastic Surgery"})
	testenv.Must(t, err, "create a second department")
	edited, err := h.svc.UpdateDoctor(h.ctx, admin, doc.ID, booking.DoctorRequest{DepartmentID: dept2.ID, Title: "主任医师", Reason: "promoted"})
	testenv.Must(t, err, "edit doctor")
	if edited.Title != "主任医师" || edited.DepartmentID != dept2.ID || edited.Name != "王芳" || edited.FeeLevel != booking.FeeExpert {
		t.Errorf("edited doctor = %+v, want the new title and department, name and fee level kept", edited)
	}
	if got, _ := h.svc.Catalog().Session(sess.ID); got.DepartmentID != dept.ID {
		t.Errorf("the published session moved to department %s, want it kept in %s", got.DepartmentID, dept.ID)
	}
	_, _ = other.WatchCatalog(h.ctx)
	if got, _ := other.Catalog().Doctor(doc.ID); got.Title != "主任医师" {
		t.Errorf("the other instance sees title %q after its watch, want the edit", got.Title)
	}

	otherHosp, _ := h.otherHospital()
	otherAdmin := h.staffOf(booking.RoleAdmin, otherHosp.ID)
	clerk := h.staffOf(booking.RoleClerk, h.hosp.ID)
	theirs := h.svc.Catalog().Departments(otherHosp.ID)[0]
	cases := []struct {
		name string
		do   func() error
		want *booking.Error
	}{
		{"a clerk adds a department", func() error {
			_, err := h.svc.CreateDepartment(h.ctx, clerk, booking.DepartmentRequest{HospitalID: h.hosp.ID, Name: "X"})
			return err
		}, booking.ErrForbidden},
		{"another hospital's administrator adds a department", func() error {
			_, err := h.svc.CreateDepartment(h.ctx, otherAdmin, booking.DepartmentRequest{HospitalID: h.hosp.ID, Name: "X"})
			return err
		}, booking.ErrForbidden},
		{"another hospital's administrator edits the doctor", func() error {
			_, err := h.svc.UpdateDoctor(h.ctx, otherAdmin, doc.ID, booking.DoctorRequest{Title: "x"})
			return err
		}, booking.ErrForbidden},
		{"another hospital's administrator retires the doctor", func() error {
			_, err := h.svc.RetireDoctor(h.ctx, otherAdmin, plain.ID, "gone")
			return err
		}, booking.ErrForbidden},
		{"a doctor added to another hospital's department", func() error {
			_, err := h.svc.CreateDoctor(h.ctx, admin, booking.DoctorRequest{DepartmentID: theirs.ID, Name: "X"})
			return err
		}, booking.ErrForbidden},
		{"a doctor moved to another hospital", func() error {
			_, err := h.svc.UpdateDoctor(h.ctx, h.staffOf(booking.RoleAdmin, ""), doc.ID, booking.DoctorRequest{DepartmentID: theirs.ID})
			return err
		}, booking.ErrInvalidField},
		{"a department of the same name", func() error {
			_, err := h.svc.CreateDepartment(h.ctx, admin, booking.DepartmentRequest{HospitalID: h.hosp.ID, Name: "皮肤科 Dermatology"})
			return err
		}, booking.ErrDepartmentExists},
		{"a department renamed to another's name", func() error {
			_, err := h.svc.RenameDepartment(h.ctx, admin, dept2.ID, booking.DepartmentRequest{Name: "皮肤科 Dermatology"})
			return err
		}, booking.ErrDepartmentExists},
		{"a department with no name", func() error {
			_, err := h.svc.CreateDepartment(h.ctx, admin, booking.DepartmentRequest{HospitalID: h.hosp.ID, Name: "  "})
			return err
		}, booking.ErrInvalidField},
		{"an unknown fee level", func() error {
			_, err := h.svc.CreateDoctor(h.ctx, admin, booking.DoctorRequest{DepartmentID: dept.ID, Name: "X", FeeLevel: "vip"})
			return err
		}, booking.ErrInvalidField},
		{"a name with a control character", func() error {
			_, err := h.svc.CreateDoctor(h.ctx, admin, booking.DoctorRequest{DepartmentID: dept.ID, Name: "X\x00"})
			return err
		}, booking.ErrInvalidText},
		{"an unknown department", func() error {
			_, err := h.svc.CreateDoctor(h.ctx, admin, booking.DoctorRequest{DepartmentID: booking.NewID(), Name: "X"})
			return err
		}, booking.ErrDepartmentNotFound},
		{"retiring a doctor with an upcoming session", func() error {
			_, err := h.svc.RetireDoctor(h.ctx, admin, doc.ID, "leaves")
			return err
		}, booking.ErrDoctorHasSessions},
		{"retiring a department with doctors", func() error {
			_, err := h.svc.RetireDepartment(h.ctx, admin, dept.ID, "merged")
			return err
		}, booking.ErrDepartmentInUse},
		{"retiring without a reason", func() error {
			_, err := h.svc.RetireDoctor(h.ctx, admin, plain.ID, "")
			return err
		}, booking.ErrInvalidField},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantErr(t, c.name, c.do(), c.want) })
	}

	// Stop the clinic, then the doctor may retire: nothing new is published
	// for them, the edit is refused, the row and the booking stay.
	_, err = h.svc.StopSession(h.ctx, admin, sess.ID, "the doctor leaves")
	testenv.Must(t, err, "stop the clinic")
	gone, err := h.svc.RetireDoctor(h.ctx, admin, doc.ID, "leaves the hospital")
	testenv.Must(t, err, "retire doctor")
	if !gone.Retired() {
		t.Fatalf("retired doctor = %+v, want retired", gone)
	}
	again, err := h.svc.RetireDoctor(h.ctx, admin, doc.ID, "leaves the hospital")
	if err != nil || !again.RetiredAt.Equal(gone.RetiredAt) {
		t.Errorf("a repeated retirement = %+v %v, want the same retirement", again, err)
	}
	req := h.morning(doc, 2, 0, time.Now().Add(-time.Minute))
	req.Period, req.StartsAt, req.EndsAt = "afternoon", h.day.Add(14*time.Hour), h.day.Add(17*time.Hour)
	_, err = h.svc.CreateSession(h.ctx, admin, req)
	wantErr(t, "publishing for a retired doctor", err, booking.ErrDoctorRetired)
	_, err = h.svc.UpdateDoctor(h.ctx, admin, doc.ID, booking.DoctorRequest{Title: "x"})
	wantErr(t, "editing a retired doctor", err, booking.ErrDoctorRetired)
	if n := h.count(`SELECT count(*) FROM doctors WHERE id = $1 AND retired_at IS NOT NULL`, doc.ID); n != 1 {
		t.Errorf("the retired doctor's row: %d, want it kept and marked", n)
	}

	// A department whose doctors have all left (or moved) closes; no doctor
	// joins it then.
	_, err = h.svc.RetireDoctor(h.ctx, admin, plain.ID, "retires")
	testenv.Must(t, err, "retire the other doctor")
	closed, err := h.svc.RetireDepartment(h.ctx, admin, dept.ID, "merged into dermatology-plastics")
	testenv.Must(t, err, "retire department")
	if !closed.Retired() {
		t.Errorf("retired department = %+v", closed)
	}
	_, err = h.svc.CreateDoctor(h.ctx, admin, booking.DoctorRequest{DepartmentID: dept.ID, Name: "X"})
	wantErr(t, "a doctor added to a closed department", err, booking.ErrDepartmentRetired)

	for action, want := range map[string]int{"department_create": 2, "doctor_create": 2, "doctor_update": 1,
		"doctor_retire": 2, "department_retire": 1} {
		if n := h.count(`SELECT count(*) FROM audit_log WHERE action = $1 AND hospital_id = $2`, action, h.hosp.ID); n != want {
			t.Errorf("audit rows %s = %d, want %d", action, n, want)
		}
	}
	h.checkClean()
}

// TestRetireAndPublishCannotCross (L): two instances, each with a stale
// catalog, one publishing a session for a doctor while the other retires
// the doctor. SQL decides: either the session exists and the doctor is
// on the schedule, or the doctor is retired and has no session; never a
// retired doctor with patients booked into an open clinic.
func TestRetireAndPublishCannotCross(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	other := h.stack.Instance(t, booking.Config{Now: h.clock.Now})

	// Sequential, each instance blind to the other's change: SQL refuses.
	doc := h.doctor("Neurology")
	_, _ = other.WatchCatalog(h.ctx)
	_, err := other.CreateSession(h.ctx, admin, h.morning(doc, 2, 0, time.Now().Add(time.Hour)))
	testenv.Must(t, err, "publish on the other instance")
	_, err = h.svc.RetireDoctor(h.ctx, admin, doc.ID, "leaves")
	wantErr(t, "retiring a doctor whose session this instance does not know yet", err, booking.ErrDoctorHasSessions)

	doc2 := h.doctor("Neurology")
	_, _ = other.WatchCatalog(h.ctx)
	_, err = h.svc.RetireDoctor(h.ctx, admin, doc2.ID, "leaves")
	testenv.Must(t, err, "retire")
	_, err = other.CreateSession(h.ctx, admin, h.morning(doc2, 2, 0, time.Now().Add(time.Hour)))
	wantErr(t, "publishing on an instance that has not seen the retirement", err, booking.ErrDoctorRetired)

	// At once, many times: one of the two wins, never both.
	const rounds = 12
	for i := range rounds {
		d := h.doctor(fmt.Sprintf("Round %d", i))
		_, _ = other.WatchCatalog(h.ctx)
		var wg sync.WaitGroup
		var pubErr, retErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, pubErr = other.CreateSession(h.ctx, admin, h.morning(d, 2, 0, time.Now().Add(time.Hour)))
		}()
		go func() {
			defer wg.Done()
			_, retErr = h.svc.RetireDoctor(h.ctx, admin, d.ID, "leaves")
		}()
		wg.Wait()
		switch {
		case pubErr == nil && retErr == nil:
			t.Errorf("round %d: both the session and the retirement succeeded", i)
		case pubErr != nil && !errors.Is(pubErr, booking.ErrDoctorRetired):
			t.Errorf("round %d: publish: %v", i, pubErr)
		case retErr != nil && !errors.Is(retErr, booking.ErrDoctorHasSessions):
			t.Errorf("round %d: retire: %v", i, retErr)
		}
	}
	if n := h.count(`SELECT count(*) FROM doctors d JOIN clinic_sessions s ON s.doctor_id = d.id
		 WHERE d.hospital_id = $1 AND d.retired_at IS NOT NULL AND s.stopped_at IS NULL AND s.ends_at > now()`, h.hosp.ID); n != 0 {
		t.Errorf("%d open sessions of retired doctors, want 0", n)
	}
	h.checkClean()
}

// TestFeeOrTitleChangeIsTold: an administrator changes the fee level or the
// title of a doctor whose clinic is booked; each booking's account is told
// what changed (what they pay, whom they see), in the transaction of the
// change. The near misses: a rename of the doctor (same fee, same title)
// tells nobody, and a booking of another doctor's clinic is not told.
func TestFeeOrTitleChangeIsTold(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staff(booking.RoleAdmin)
	sess := h.session(sessionOpts{online: 2})
	other := h.session(sessionOpts{online: 2, dept: "Dermatology"})
	booker, bystander := h.user(1), h.user(1)
	b := h.mustBook(booker, 0, sess, "")
	h.mustBook(bystander, 0, other, "")
	doc, _ := h.svc.Catalog().Doctor(sess.DoctorID)
	changedNotices := func(u user) []booking.Notification {
		ns, _, err := h.svc.MyNotifications(h.ctx, u.actor)
		testenv.Must(t, err, "notifications")
		var out []booking.Notification
		for _, n := range ns {
			if n.Kind == booking.NoticeSessionChanged {
				out = append(out, n)
			}
		}
		return out
	}

	_, err := h.svc.UpdateDoctor(h.ctx, admin, doc.ID, booking.DoctorRequest{Name: "王医生", Title: doc.Title, Reason: "spelling"})
	testenv.Must(t, err, "rename the doctor")
	if got := changedNotices(booker); len(got) != 0 {
		t.Errorf("after a rename the booker was told %+v, want nothing", got)
	}
	_, err = h.svc.UpdateDoctor(h.ctx, admin, doc.ID, booking.DoctorRequest{Title: "主任医师", FeeLevel: booking.FeeSpecial, Reason: "promoted"})
	testenv.Must(t, err, "change the doctor's title and fee level")
	got := changedNotices(booker)
	if len(got) != 1 || got[0].BookingID != b.ID || !strings.Contains(got[0].Body, "特需") || !strings.Contains(got[0].Body, "主任医师") ||
		!strings.Contains(got[0].Body, "special") {
		t.Errorf("the booker was told %+v; want one notice of the booking naming the new fee level and title", got)
	}
	if got := changedNotices(bystander); len(got) != 0 {
		t.Errorf("another doctor's booker was told %+v, want nothing", got)
	}
}

// TestRetireRefusalNamesEverySession (review19b L3): a doctor who leaves
// has several upcoming clinics; the refusal to retire them named only the
// first, so the scheduler stopped it, tried again and met the next. It
// names how many there are and each (up to ten), earliest first.
func TestRetireRefusalNamesEverySession(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	doc := h.doctor("Cardiology")
	released := time.Now().Add(-time.Minute)
	morning := h.morning(doc, 1, 0, released)
	afternoon := morning
	afternoon.Period, afternoon.StartsAt, afternoon.EndsAt = "afternoon", h.day.Add(13*time.Hour), h.day.Add(17*time.Hour)
	for _, req := range []booking.SessionRequest{afternoon, morning} {
		_, err := h.svc.CreateSession(h.ctx, admin, req)
		testenv.Must(t, err, "publish the %s", req.Period)
	}
	_, err := h.svc.RetireDoctor(h.ctx, admin, doc.ID, "leaves the hospital")
	wantErr(t, "retire a doctor with two clinics", err, booking.ErrDoctorHasSessions)
	want := "2 upcoming sessions: " + h.date + " morning, " + h.date + " afternoon"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("the refusal says %q, want it to name %q", err, want)
	}
}
