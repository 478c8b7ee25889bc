package web

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestCloseAccountInBrowser (review18b M5, review19c M6): the patient
// console asks for the account's closing (注销账号) from a home tile. The
// page says what closing does and how long it waits; a wrong password is
// refused on the same page with nothing changed; the right one ends this
// browser's session and the login page says a login cancels it. During the
// cooling-off the number is still the account's (not registered again);
// logging in shows the closing on every page with its 撤销注销, which the
// keyboard presses (session 23), and the home page says it is cancelled. Asked again
// and left, it completes after the cooling-off (the job): the number logs
// in no more, and registering it works at once. The page passes axe-core.
func TestCloseAccountInBrowser(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t, s.base, 2*time.Minute)
	phone := newPhone()
	b.register(phone, "correct horse battery")
	b.open("/patient")
	b.click("#close-link", "/patient/close")
	b.contains("main", "爽约")
	b.contains("main", "冷静期 7 天")
	b.axeClean(axeSource(t), "close the account")

	b.fill("#close-form input[name=password]", "not my password")
	b.click("#close-form button[type=submit]", "/patient/close")
	b.contains("#error", "wrong")
	b.open("/patient/bookings") // still signed in
	b.contains("h1", "我的预约")

	b.open("/patient/close")
	b.fill("#close-form input[name=password]", "correct horse battery")
	b.click("#close-form button[type=submit]", "/patient/login?m=closing")
	b.contains("#flash", "已申请注销")

	c := s.client()
	if a := c.get("/patient/bookings"); a.status != 303 || a.location == "/patient/bookings" {
		t.Errorf("a fresh client's bookings page: %d → %q, want a redirect to the login", a.status, a.location)
	}
	a := c.post("/patient/register", url.Values{"phone": {phone}, "password": {"a new holder's pw"}, "password2": {"a new holder's pw"}, "csrf": {c.csrf("/patient/register")}, "privacy_consent": {PrivacyNoticeVersion}})
	if a.status == 303 {
		t.Errorf("register the number during the cooling-off: %d → %q, want it refused (still the account's)", a.status, a.location)
	}

	// A login during the cooling-off signs in and shows the closing on
	// every page (session 23): when it takes effect, what happens then, and
	// the 撤销注销 button, reached and pressed by keyboard. The request and
	// the cancellation are told in the account's notices.
	b.signInAt("patient", phone, "correct horse battery", "/patient")
	var due time.Time
	testenv.Must(t, s.db.Pool().QueryRow(context.Background(), `SELECT closing_due_at FROM accounts WHERE closed_at IS NULL AND closing_due_at IS NOT NULL ORDER BY closing_due_at DESC LIMIT 1`).Scan(&due), "read the due time")
	day := due.In(booking.StandInLocation()).Format("2006-01-02 15:04")
	b.contains("#pending-closing", "本账号已申请注销，将于 "+day)
	b.contains("#pending-closing", "手机号释放")
	b.axeClean(axeSource(t), "a page with the pending closing")
	b.phoneShot("closing-pending-home")
	b.open("/patient/bookings")
	b.contains("#pending-closing", day)
	b.contains("h1", "我的预约")
	b.tabTo("#cancel-closing")
	b.press(kb.Enter, "/patient?ok=closing_cancelled")
	b.contains("#flash", "已撤销本账号的注销申请")
	b.absent("#pending-closing")
	b.open("/patient/bookings")
	b.absent("#pending-closing")
	if n := s.count(`SELECT count(*) FROM notifications WHERE kind IN ('account_closing_requested', 'account_closing_cancelled')`); n != 2 {
		t.Errorf("the closing's notices: %d, want the request's and the cancellation's", n)
	}

	// Asked again and left: the job completes it after the cooling-off.
	b.open("/patient/close")
	b.fill("#close-form input[name=password]", "correct horse battery")
	b.click("#close-form button[type=submit]", "/patient/login?m=closing")
	s.offset.Store(int64(8 * 24 * time.Hour))
	if n, err := s.svc.CompleteClosings(context.Background()); err != nil || n != 1 {
		t.Fatalf("the job after the cooling-off: %d, %v; want 1 closed", n, err)
	}
	a = c.post("/patient/login", url.Values{"phone": {phone}, "password": {"correct horse battery"}, "csrf": {c.csrf("/patient/login")}})
	if a.status != 401 {
		t.Errorf("log in to the closed account: %d → %q, want 401", a.status, a.location)
	}
	a = c.post("/patient/register", url.Values{"phone": {phone}, "password": {"a new holder's pw"}, "password2": {"a new holder's pw"}, "csrf": {c.csrf("/patient/register")}, "privacy_consent": {PrivacyNoticeVersion}})
	if a.status != 303 {
		t.Errorf("register the freed number again: %d → %q %s, want 303", a.status, a.location, a.body)
	}
}

// TestPendingClosingRefusesBookingInBrowser (session 24): during an online
// closing's cooling-off the signed-in holder's booking went through, to be
// cancelled at the completion under the late rules. The console now
// refuses it with the account_closing message — 账号正在注销中，撤销注销后
// 才能预约 — and a link to the banner's 撤销注销; the bookings page still
// reads, and once the closing is cancelled the same booking goes through.
func TestPendingClosingRefusesBookingInBrowser(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	today := s.addToday()
	b := newBrowser(t, s.base, 3*time.Minute)
	phone := newPhone()
	b.register(phone, "patient password 1")
	patient := s.actor(phone, "patient password 1")
	_, err := s.svc.AddPatient(ctx, patient, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion},
		IDType: "resident_id", IDNumber: residentID(7624), Name: "赵六", IsSelf: true}, booking.Origin{})
	testenv.Must(t, err, "add patient")
	_, err = s.svc.CloseAccount(ctx, patient, booking.CloseAccountRequest{Password: "patient password 1"}, booking.Origin{})
	testenv.Must(t, err, "ask for the closing")

	b.signInAt("patient", phone, "patient password 1", "/patient")
	b.contains("#pending-closing", "本账号已申请注销")
	b.open(sessionsURL(s.hospital.ID, today.DepartmentID, today.VisitDate))
	card := "#s-" + today.ID
	b.do("open the booking step", chromedp.Click(chromedp.CSS(card+" form.book details.confirm-step summary")))
	b.click(card+" form.book details.confirm-step button[type=submit]", "/patient/bookings")
	b.contains("#error", "账号正在注销中，撤销注销后才能预约")
	b.contains("#error", "撤销注销 Cancel the closing")
	b.contains("#pending-closing", "撤销注销")
	b.axeClean(axeSource(t), "a booking refused during the closing")
	b.phoneShot("closing-pending-book-refused")
	if n := s.count(`SELECT count(*) FROM bookings WHERE session_id = $1`, today.ID); n != 0 {
		t.Errorf("%d bookings of the session, want none: the closing account booked", n)
	}
	b.open("/patient/bookings")
	b.contains("h1", "我的预约")

	b.tabTo("#cancel-closing")
	b.press(kb.Enter, "/patient?ok=closing_cancelled")
	b.open(sessionsURL(s.hospital.ID, today.DepartmentID, today.VisitDate))
	b.do("open the booking step", chromedp.Click(chromedp.CSS(card+" form.book details.confirm-step summary")))
	b.click(card+" form.book details.confirm-step button[type=submit]", "/patient/bookings?")
	if n := s.count(`SELECT count(*) FROM bookings WHERE session_id = $1 AND status = 'confirmed'`, today.ID); n != 1 {
		t.Errorf("%d bookings of the session after the cancellation, want 1", n)
	}
}
