package web

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// TestDeskIssuesResetCodeInBrowser (ui19): the desk console had no way to
// issue a password reset code (the API has one, POST
// /v1/desk/password-resets), so a patient who forgot the password was sent
// to a desk that could not help. On the desk's 账号 Accounts page a clerk
// reads the card and types the account's number: another person's card
// and an unknown number are refused, tied to their fields, with nothing
// typed sent back; the holder's card shows the code once, with how long it
// lasts, and nowhere else (not on the page reloaded, not in the log); the
// patient sets a new password with it on the patient console. Both pages
// pass axe-core.
func TestDeskIssuesResetCodeInBrowser(t *testing.T) {
	s := newSite(t)
	axe := axeSource(t)
	phone, id, name := newPhone(), bornIn(1975, 51), "林静"
	c := s.client()
	c.signUpHolder(phone, "forgotten password 1", id, name)
	d := s.deskTab()
	d.click(`nav a[href="/desk/accounts"]`, "/desk/accounts")
	d.contains("main h1", "账号服务")
	d.contains("#reset-section", "30 分钟")
	d.axeClean(axe, "desk accounts")

	issue := func(idNumber, name, phone string) {
		t.Helper()
		d.fill("#reset-form input[name=id_number]", idNumber)
		d.fill("#reset-form input[name=name]", name)
		d.fill("#reset-form input[name=account_phone]", phone)
		d.click("#reset-form button[type=submit]", "/desk/accounts/reset-code")
	}
	other := bornIn(1980, 52)
	issue(other, "张三", phone)
	d.contains("#error", "not_account_holder")
	if got := fieldState(d, "#reset-form input[name=id_number]", "true error true "); got != "true error true " {
		t.Errorf("another person's card: the number field is %q, want it invalid, described, focused and empty", got)
	}
	stranger := newPhone()
	issue(id, name, stranger)
	d.contains("#error", "patient_not_found")
	if got := fieldState(d, "#reset-form input[name=account_phone]", "true error true "); got != "true error true " {
		t.Errorf("an unknown number: the phone field is %q, want it invalid, described, focused and empty", got)
	}
	d.absent("#reset-code")
	d.hidden(other, id, name, phone, stranger)
	if n := s.count(`SELECT count(*) FROM password_reset_codes`); n != 0 {
		t.Errorf("after two refusals %d codes are stored, want none", n)
	}

	issue(id, name, phone)
	d.contains("#reset-code", "30 分钟")
	d.contains("#reset-code", identity.MaskPhone(phone))
	d.contains("#reset-code", "林*")
	code, err := chromedp.Run(d.ctx, chromedp.Text(chromedp.CSS("#reset-code .code")))
	testenv.Must(t, err, "read the code")
	if !regexp.MustCompile(`^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$`).MatchString(code) {
		t.Fatalf("the code reads %q, want XXXX-XXXX-XXXX", code)
	}
	d.hidden(id, name, phone)
	d.axeClean(axe, "desk reset code shown")
	if strings.Contains(s.logs.String(), code) {
		t.Errorf("the log shows the reset code")
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'password_reset_code_issued' AND reason NOT LIKE '%' || $1 || '%'`, code); n != 1 {
		t.Errorf("got %d audited issues without the code, want 1", n)
	}
	d.open("/desk/accounts")
	d.hidden(code)

	// The patient sets a new password with it, at another computer.
	p := d.fresh()
	p.open("/patient/reset")
	p.fill("#reset-form input[name=phone]", phone)
	p.fill("#reset-form input[name=code]", code)
	p.fill("#reset-form input[name=new_password]", "a fresh password 2")
	p.fill("#reset-form input[name=new_password2]", "a fresh password 2")
	p.click("#reset-form button[type=submit]", "/patient?ok=password")
	p.contains("#flash", "密码已修改")
}
