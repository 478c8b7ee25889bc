package web

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestHolidaysAndBulkStopInBrowser: a hospital's administrator, from the
// schedule's bar of links, adds tomorrow as a holiday: the clinics nobody
// booked are withdrawn, and the booked one is listed as needing a stop,
// with a dry run of its stop one button away; the dry run changes nothing,
// its confirmation stops the clinic (the patient's booking cancelled).
// Then the day is removed again. axe-core on each answer; screenshots
// holidays-*.png at 1280 and 390 px.
func TestHolidaysAndBulkStopInBrowser(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	src := axeSource(t)
	consent := booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}
	phone := newPhone()
	_, err := s.svc.CreateAccount(ctx, phone, "patient password 1", "", consent, booking.Origin{})
	testenv.Must(t, err, "create the patient")
	pa := s.actor(phone, "patient password 1")
	p, err := s.svc.AddPatient(ctx, pa, booking.AddPatientRequest{Consent: consent, IDType: "resident_id",
		IDNumber: residentID(int(time.Now().UnixNano() % 8000)), Name: "何静", IsSelf: true}, booking.Origin{})
	testenv.Must(t, err, "add self")
	_, err = s.svc.Book(ctx, pa, booking.BookRequest{SessionID: s.open.ID, PatientID: p.ID, Channel: booking.ChannelOnline})
	testenv.Must(t, err, "book tomorrow's open clinic")

	a := s.hospitalAdminTab()
	a.click(`nav.subnav a[href="/admin/holidays"]`, "/admin/holidays")
	form := "#holiday-form-" + s.hospital.ID
	a.set(form+" input[name=date]", s.tomorrow)
	a.fill(form+" input[name=name]", "院庆 Hospital day")
	a.click(form+" button[type=submit]", "/admin/holidays")
	a.contains("#bulk-result", "已设为节假日")
	a.contains("#bulk-rows", "已撤回 Withdrawn")
	a.contains("#bulk-rows", "保留：已有预约，须停诊")
	a.contains("#holidays-"+s.hospital.ID, s.tomorrow)
	if n := s.count(`SELECT count(*) FROM clinic_sessions WHERE id = $1`, s.closed.ID); n != 0 {
		t.Errorf("the unbooked clinic on the holiday: %d rows, want it withdrawn", n)
	}
	a.axeClean(src, "a holiday added")
	a.shot("holidays-01-added")
	a.phoneShot("holidays-01-added-390")

	a.click("#stop-kept-form button[type=submit]", "/admin/holidays/bulk")
	a.contains("#bulk-result", "预演 Dry run")
	a.contains("#bulk-rows", "将停诊 Would be stopped")
	if n := s.count(`SELECT count(*) FROM bookings WHERE session_id = $1 AND status = 'confirmed'`, s.open.ID); n != 1 {
		t.Errorf("%d confirmed bookings after the dry run, want 1 (a dry run changes nothing)", n)
	}
	a.axeClean(src, "a bulk stop's dry run")
	a.shot("holidays-02-dry-run")
	a.phoneShot("holidays-02-dry-run-390")
	a.click("#bulk-confirm-form button[type=submit]", "/admin/holidays/bulk")
	a.contains("#bulk-rows", "已停诊 Stopped")
	if n := s.count(`SELECT count(*) FROM bookings WHERE session_id = $1 AND status = 'confirmed'`, s.open.ID); n != 0 {
		t.Errorf("%d confirmed bookings after the stop, want 0", n)
	}

	a.open("/admin/holidays")
	a.do("open the removal", chromedp.Click(chromedp.CSS("#holidays-"+s.hospital.ID+" details summary")))
	a.fill("#holiday-delete-"+s.tomorrow+" input[name=reason]", "日期定错了 Wrong day")
	a.click("#holiday-delete-"+s.tomorrow+" button[type=submit]", "/admin/holidays?ok=removed")
	a.absent("#holidays-" + s.hospital.ID)

	// 调休: the next Saturday, worked as a Monday. A weekday cannot be one.
	day := time.Now().In(testenv.Shanghai).AddDate(0, 0, 1)
	for day.Weekday() != time.Monday {
		day = day.AddDate(0, 0, 1)
	}
	a.set(form+" input[name=date]", day.Format(time.DateOnly))
	a.fill(form+" input[name=name]", "国庆调休")
	a.do("choose a make-up working day", chromedp.SetValue(chromedp.CSS(form+" select[name=works_as]"), "1"))
	a.click(form+" button[type=submit]", "/admin/holidays")
	a.contains("#error[role=alert]", "Saturday or a Sunday")
	saturday := day.AddDate(0, 0, 5).Format(time.DateOnly)
	a.set(form+" input[name=date]", saturday)
	a.fill(form+" input[name=name]", "国庆调休")
	a.do("choose a make-up working day", chromedp.SetValue(chromedp.CSS(form+" select[name=works_as]"), "1"))
	a.click(form+" button[type=submit]", "/admin/holidays")
	a.contains(".flash", "已设为调休上班日")
	a.contains("#holidays-"+s.hospital.ID, "调休上班 Worked: 按周一排班")
	if n := s.count(`SELECT count(*) FROM hospital_holidays WHERE hospital_id = $1 AND day = $2::DATE AND works_as = 1`, s.hospital.ID, saturday); n != 1 {
		t.Errorf("make-up working days stored = %d, want 1", n)
	}
	a.axeClean(src, "a make-up working day")
	a.shot("holidays-03-workday")
}
