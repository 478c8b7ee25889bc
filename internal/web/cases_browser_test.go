package web

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestReportAndAnswerInBrowser drives headless Chromium through a scalper
// report (举报) and a complaint (投诉): a patient files both from the
// patient console (a failed form keeps what was typed), sees them with
// their deadlines; the hospital's administrator finds them in the admin
// console's queue, soonest deadline first, the overdue one marked, opens the
// report (the offered phone masked), answers it; the patient sees the
// answer on the page and as an unread notification on the home page, and
// marks it read. SQL agrees at the end: the answer is audited and the phone
// is nowhere in clear. Screenshots at 1280 and 390 px (cases-*.png).
func TestReportAndAnswerInBrowser(t *testing.T) {
	s := newSite(t)
	adminPhone, password := newPhone(), "admin password 1"
	_, err := s.svc.CreateStaff(t.Context(), booking.StaffRequest{Phone: adminPhone, Password: password, Role: booking.RoleAdmin, HospitalID: s.hospital.ID})
	testenv.Must(t, err, "create the hospital's admin")
	offered := "13912345678"
	story := "门口有人加价 300 元卖李明医生的号 Someone at the gate sells Dr Li's slots for 300 yuan more"

	// 1. A patient finds the tab and files a report; a bad phone number
	// keeps the form.
	b := newBrowser(t, s.base, 3*time.Minute)
	b.register(newPhone(), "patient password 1")
	b.click(`nav a[href="/patient/cases"]`, "/patient/cases")
	b.contains("#no-cases", "Nothing filed yet")
	b.fill("#report-form input[name=offered_by_phone]", "12345")
	b.fill("#report-form textarea[name=text]", story)
	b.click("#report-form button[type=submit]", "/patient/reports")
	b.contains("#error", "mainland mobile")
	if kept, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS("#report-form textarea[name=text]"))); err != nil || kept != story {
		t.Errorf("the failed form kept %q (%v), want the story", kept, err)
	}
	b.do("fix the phone", chromedp.SetValue(chromedp.CSS("#report-form input[name=offered_by_phone]"), offered))
	b.click("#report-form button[type=submit]", "/patient/cases?ok=report_filed")
	b.contains("#flash", "Report filed")
	b.contains("#my-cases", "待答复 Open")
	b.contains("#my-cases", "139****5678")
	b.hidden(offered)

	// 2. And a complaint involving several departments: 10 working days.
	b.do("choose the category", chromedp.SetValue(chromedp.CSS("#complaint-form select[name=category]"), "fees"))
	b.do("several departments", chromedp.Click(chromedp.CSS("#complaint-form input[name=several]")))
	b.fill("#complaint-form textarea[name=text]", "收费处和药房说法不一 The cashier and the pharmacy disagree")
	b.click("#complaint-form button[type=submit]", "/patient/cases?ok=complaint_filed")
	b.contains("#my-cases li:first-child", "多部门 several departments")
	b.shot("cases-01-patient")
	b.phoneShot("cases-01-patient-390")

	// The complaint is made overdue (its deadline an hour ago), as if the
	// hospital had let it lie.
	_, err = s.db.Pool().Exec(context.Background(), "UPDATE patient_cases SET due_at = now() - interval '1 hour' WHERE kind = 'complaint'")
	testenv.Must(t, err, "age the complaint")

	// 3. The administrator's queue: the overdue complaint first, marked.
	a := b.fresh()
	a.open("/admin/login")
	a.fill("#login-form input[name=phone]", adminPhone)
	a.fill("#login-form input[name=password]", password)
	a.click("#login-form button[type=submit]", "/admin/schedule")
	a.click(`nav a[href="/admin/cases"]`, "/admin/cases")
	a.contains("#ctab-waiting .count", "2")
	a.contains("#overdue-count", "1 past the deadline")
	a.contains("#cases tbody tr:first-child", "Overdue")
	a.contains("#cases tbody tr:first-child", "投诉 Complaint")
	a.contains("#cases tbody tr:nth-child(2)", "举报 Report")
	a.hidden(offered)
	a.shot("cases-02-queue")
	a.phoneShot("cases-02-queue-390")

	// 4. The report: the phone masked; answered.
	a.click("#cases tbody tr:nth-child(2) a.button", "admin/cases/")
	a.contains("#offered-phone", "139****5678")
	a.contains("#case-text", "300")
	a.fill("#answer-form textarea[name=answer]", "已移交公安机关处理，谢谢您的举报。 Passed to the police; thank you.")
	a.click("#answer-form button[type=submit]", "?ok=case_answered")
	a.contains("#flash", "the patient is notified")
	a.contains("#answer", "Passed to the police")
	a.hidden(offered)
	a.shot("cases-03-answered")

	// 5. The patient sees the answer, and an unread notification.
	b.open("/patient")
	b.contains("#unread", "1")
	b.contains("#notifications", "Passed to the police")
	b.shot("cases-04-notified")
	b.click("#read-form button[type=submit]", "/patient?ok=read")
	b.absent("#unread")
	b.open("/patient/cases")
	b.contains("#my-cases", "已答复 Answered")
	b.contains("#my-cases", "Passed to the police")

	// SQL: the answer is audited, the phone only hashed and masked.
	if n := s.count("SELECT count(*) FROM audit_log WHERE action = 'case_answer' AND hospital_id = $1", s.hospital.ID); n != 1 {
		t.Errorf("%d audit entries of the answer, want 1", n)
	}
	if n := s.count("SELECT count(*) FROM patient_cases WHERE offered_phone_masked = '139****5678' AND offered_phone_hash IS NOT NULL AND status = 'answered'"); n != 1 {
		t.Errorf("the answered report with a hashed phone: %d, want 1", n)
	}
	if n := s.count("SELECT count(*) FROM notifications WHERE kind = 'case_answered' AND read_at IS NOT NULL"); n != 1 {
		t.Errorf("read notifications of the answer: %d, want 1", n)
	}
}
