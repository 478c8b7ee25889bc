package web

import (
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// TestChangePhoneInBrowser (ui19): the patient console had no way to change
// the account's login number or a member's contact number (the API has
// both: POST /v1/auth/phone, PATCH /v1/patients/{id}). From the home page's
// link, a signed-in patient moves the account to a new number: a wrong
// password, a bad number and another account's number are refused on the
// same page, tied to their field, with nothing changed; the right password
// moves it, keeps this browser signed in, and the old number no longer
// logs in while the new one does; the self listed with the old number gets
// the new one. On the family page each member's contact number is changed
// and cleared in place; a bad number is tied to that member's form only.
// Both pages pass axe-core.
func TestChangePhoneInBrowser(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t, s.base, 3*time.Minute)
	axe := axeSource(t)
	old, next, taken := newPhone(), newPhone(), newPhone()
	password := "correct horse battery"
	s.client().signUp(taken, "another account 1")
	b.register(old, password)
	b.open("/patient/family")
	b.fill("#family-form input[name=id_number]", residentID(4101))
	b.fill("#family-form input[name=name]", "周明")
	b.fill("#family-form input[name=phone]", old)
	b.do("tick self", chromedp.Click(chromedp.CSS("#family-form input[name=self]")))
	b.agree("#family-form")
	b.click("#family-form button[type=submit]", "/patient/family?ok=added")
	b.fill("#family-form input[name=id_number]", residentID(4102))
	b.fill("#family-form input[name=name]", "周小红")
	b.agree("#family-form")
	b.click("#family-form button[type=submit]", "/patient/family?ok=added")

	b.open("/patient")
	b.click("#phone-link", "/patient/phone")
	b.contains("main h1", "修改手机号")
	b.contains("#account-phone", identity.MaskPhone(old))
	b.axeClean(axe, "change phone")

	change := func(phone, current, want string) {
		t.Helper()
		b.fill("#phone-form input[name=phone]", phone)
		b.fill("#phone-form input[name=current_password]", current)
		b.click("#phone-form button[type=submit]", want)
	}
	change(next, "not my password", "/patient/phone")
	b.contains("#error", "当前密码不正确")
	if got := fieldState(b, "#phone-form input[name=current_password]", "true error true "); got != "true error true " {
		t.Errorf("a wrong password: the password field is %q, want it invalid, described and focused", got)
	}
	if got := fieldState(b, "#phone-form input[name=phone]", "  false "+next); got != "  false "+next {
		t.Errorf("a wrong password: the number field is %q, want it unmarked and kept", got)
	}
	change("12345", password, "/patient/phone")
	b.contains("#error", "手机号无效")
	if got := fieldState(b, "#phone-form input[name=phone]", "true error true 12345"); got != "true error true 12345" {
		t.Errorf("a bad number: the number field is %q, want it invalid, described, focused and kept", got)
	}
	change(taken, password, "/patient/phone")
	b.contains("#error", "phone_taken")
	b.axeClean(axe, "change phone, refused")
	change(next, password, "/patient?ok=phone")
	b.contains("#flash", "手机号已修改")
	b.open("/patient/bookings") // still signed in with the fresh token
	b.contains("main h1", "我的预约")
	b.hidden(old, next)

	// A client each: a login that succeeds signs its client in, and a
	// signed-in client's login page is a redirect, not a form.
	for phone, want := range map[string]int{old: 401, next: 303} {
		c := s.client()
		a := c.post("/patient/login", url.Values{"phone": {phone}, "password": {password}, "csrf": {c.csrf("/patient/login")}})
		if a.status != want {
			t.Errorf("log in with the %s number: %d, want %d", map[bool]string{true: "old", false: "new"}[phone == old], a.status, want)
		}
	}

	// The members' contact numbers: the self's moved with the account.
	b.open("/patient/family")
	var self, member string
	testenv.Must(t, s.db.Pool().QueryRow(t.Context(), `SELECT (SELECT id::text FROM patients WHERE is_self), (SELECT id::text FROM patients WHERE NOT is_self)`).
		Scan(&self, &member), "the members' ids")
	b.contains("#m-"+self+" .member-phone", identity.MaskPhone(next))
	b.axeClean(axe, "family with contact numbers")
	form := "#phone-" + member
	// The password re-entered (review19c L6): a wrong one changes
	// nothing and is the password field's fault.
	b.fill(form+" input[name=phone]", newPhone())
	b.fill(form+" input[name=current_password]", "not the password 1")
	b.click(form+" button[type=submit]", "/patient/family/"+member+"/phone")
	if got := fieldState(b, form+" input[name=current_password]", "true"); got[:4] != "true" {
		t.Errorf("a member's number with a wrong password: the password field is %q, want it marked", got)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'patient_phone_changed'`); n != 0 {
		t.Errorf("a member's number changed with a wrong password (%d audit rows)", n)
	}
	b.fill(form+" input[name=phone]", "999")
	b.fill(form+" input[name=current_password]", password)
	b.click(form+" button[type=submit]", "/patient/family/"+member+"/phone")
	b.contains("#error", "手机号无效")
	if got := fieldState(b, form+" input[name=phone]", "true error true 999"); got != "true error true 999" {
		t.Errorf("a member's bad number: %q, want it invalid, described, focused and kept", got)
	}
	for _, other := range []string{"#phone-" + self + " input[name=phone]", "#family-form input[name=phone]"} {
		if got := fieldState(b, other, "  false "); got[:3] == "tru" {
			t.Errorf("another form's number field %s is marked: %q", other, got)
		}
	}
	member2 := newPhone()
	b.fill(form+" input[name=phone]", member2)
	b.fill(form+" input[name=current_password]", password)
	b.click(form+" button[type=submit]", "/patient/family?ok=member_phone")
	b.contains("#flash", "联系电话已修改")
	b.contains("#m-"+member+" .member-phone", identity.MaskPhone(member2))
	b.hidden(member2)
	b.fill(form+" input[name=phone]", "")
	b.fill(form+" input[name=current_password]", password)
	b.click(form+" button[type=submit]", "/patient/family?ok=member_phone")
	b.absent("#m-" + member + " .member-phone")
	if n := s.count(`SELECT count(*) FROM patients WHERE id = $1 AND phone_hash IS NULL`, member); n != 1 {
		t.Errorf("the cleared member has %d rows without a number, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action IN ('account_phone_changed', 'patient_phone_changed')`); n != 3 {
		t.Errorf("got %d audited number changes, want 3 (the account, the member's set and cleared)", n)
	}
}
