package web

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestAppealInBrowser: a patient whose account a confirmed scalper flag
// blocked signs in. A wrong password says only that the phone or password
// is wrong; the right one shows why, in words, and the appeal form. The
// appeal reaches the platform administrator's queue; upheld, it lifts the
// block and the patient signs in. Screenshots at 1280 and 390 px
// (appeal-*.png).
func TestAppealInBrowser(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	phone, password := newPhone(), "correct horse battery"
	account, err := s.svc.CreateAccount(ctx, phone, password, "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{})
	testenv.Must(t, err, "create the account")
	pa := booking.Actor{AccountID: account, Role: booking.RolePatient}
	p, err := s.svc.AddPatient(ctx, pa, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: "resident_id", IDNumber: bornIn(1980, 7), Name: "孙立", IsSelf: true}, booking.Origin{})
	testenv.Must(t, err, "add self")
	_, err = s.db.Pool().Exec(context.Background(), `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at)
		VALUES ('flg_web_appeal', 3, 'open', '[]', to_jsonb(ARRAY[$1::TEXT]), to_jsonb(ARRAY[$2::TEXT]), now(), now())`, account, p.ID)
	testenv.Must(t, err, "write the flag")
	adminPassword := "admin password 1"
	adminPhone := s.newAdmin(adminPassword)
	// Another administrator confirmed the flag: the one who confirms does
	// not uphold its appeal (review21 M3).
	confirmer := booking.Actor{AccountID: booking.NewID(), Role: booking.RoleAdmin}
	_, err = s.svc.DecideFlag(ctx, confirmer, "flg_web_appeal", booking.Decision{Action: "confirm", Note: "resold slots"})
	testenv.Must(t, err, "confirm the flag")

	b := newBrowser(t, s.base, 3*time.Minute)
	b.open("/patient/login")
	b.fill("#login-form input[name=phone]", phone)
	b.fill("#login-form input[name=password]", "not the password")
	b.click("#login-form button[type=submit]", "/patient/login")
	b.contains("#error", "invalid_credentials")
	b.absent("#blocked")
	b.absent("#appeal-form")

	b.fill("#login-form input[name=phone]", phone)
	b.fill("#login-form input[name=password]", password)
	b.click("#login-form button[type=submit]", "/patient/login")
	b.contains("#block-reason", "号贩子")
	b.contains("#block-reason", "停用至")
	b.contains("#block-reason", "you may appeal")
	b.hidden("flg_web_appeal", account)
	b.shot("appeal-01-blocked")
	b.phoneShot("appeal-01-blocked-390")
	b.fill("#appeal-form textarea[name=text]", "这些都是我家人的预约，不是倒号。 These were my family's bookings.")
	b.click("#appeal-form button[type=submit]", "/patient/appeal")
	b.contains("#appeal-filed", "Your appeal is filed")
	b.shot("appeal-02-filed")

	a := b.fresh()
	a.open("/admin/login")
	a.fill("#login-form input[name=phone]", adminPhone)
	a.fill("#login-form input[name=password]", adminPassword)
	a.click("#login-form button[type=submit]", "/admin")
	a.open("/admin/cases")
	a.contains("#cases", "账号申诉 Account's appeal")
	a.contains("#cases", "不是倒号")
	a.click("#cases tbody tr:first-child a.button", "admin/cases/")
	a.contains("#case", "平台 Platform")
	a.contains("#case", "flg_web_appeal")
	a.fill("#answer-form textarea[name=answer]", "经复核，申诉成立。 Upheld after a second review.")
	a.do("uphold", chromedp.Click(chromedp.CSS("#answer-form input[name=lift_block]")))
	a.shot("appeal-03-uphold")
	a.click("#answer-form button[type=submit]", "?ok=case_answered")
	a.contains("#answer", "The block is lifted")
	a.phoneShot("appeal-03-answered-390")
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'block_lifted'`); n != 1 {
		t.Errorf("%d block_lifted audit entries, want 1", n)
	}

	b.open("/patient/login")
	b.fill("#login-form input[name=phone]", phone)
	b.fill("#login-form input[name=password]", password)
	b.click("#login-form button[type=submit]", "/patient")
	b.contains("#notifications", "The block is lifted")
}
