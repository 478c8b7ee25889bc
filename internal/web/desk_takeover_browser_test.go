package web

import (
	"net/url"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"

	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// TestDeskMovesLoginAndClosesInBrowser (session 20's note): the desk
// console had no form for moving a taken login back to its holder (POST
// /v1/desk/login-moves) nor for a closing marked taken (taken_reason): the
// clerk had the API only. On the 账号 Accounts page the clerk reads the
// holder's card, types the new number rung from the desk and ticks that it
// rang: the login moves (the old number logs in no more), and the reset
// code is shown once with the numbers masked. The closing form closes by
// the card; ticked as taken it asks how the clerk knows (refused without,
// tied to its field), and the audit keeps the clerk's words. Nothing typed
// is sent back; the pages pass axe-core.
func TestDeskMovesLoginAndClosesInBrowser(t *testing.T) {
	s := newSite(t)
	axe := axeSource(t)
	phone, id, name := newPhone(), bornIn(1971, 53), "林静"
	c := s.client()
	c.signUpHolder(phone, "phished password 1", id, name)
	d := s.deskTab()
	d.open("/desk/accounts")
	d.contains("#move-section", "移回本人")
	d.contains("#desk-close-section", "登录被他人占用")
	d.axeClean(axe, "desk accounts with the move and the closing")

	fresh := newPhone()
	d.fill("#move-form input[name=id_number]", id)
	d.fill("#move-form input[name=name]", name)
	d.fill("#move-form input[name=new_phone]", fresh)
	d.do("tick the number rung", chromedp.Click(chromedp.CSS("#move-form input[name=number_rung]")))
	// The desk reader's driver fills in its signed read of the holder's
	// card (review25 H4: a read of the holder's card moves at once).
	read := s.cardRead(t, "resident_id", id, name)
	for _, f := range []string{"card_reader_id", "card_read_at", "card_mac"} {
		_, err := chromedp.Run(d.ctx, chromedp.Evaluate[bool](`(document.querySelector("#move-form input[name=`+f+`]").value = `+jsString(read[f])+`) !== ""`))
		testenv.Must(t, err, "the reader fills %s", f)
	}
	d.click("#move-form button[type=submit]", "/desk/accounts/move-login")
	d.contains("#moved-code", identity.MaskPhone(phone))
	d.contains("#moved-code", identity.MaskPhone(fresh))
	code, err := chromedp.Run(d.ctx, chromedp.Text(chromedp.CSS("#moved-code .code")))
	testenv.Must(t, err, "read the code")
	if !regexp.MustCompile(`^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$`).MatchString(code) {
		t.Fatalf("the code reads %q, want XXXX-XXXX-XXXX", code)
	}
	d.hidden(id, name, phone, fresh)
	d.axeClean(axe, "desk login moved")
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'account_login_moved'`); n != 1 {
		t.Errorf("got %d account_login_moved audit rows, want 1", n)
	}
	o := s.client()
	if a := o.post("/patient/login", url.Values{"phone": {phone}, "password": {"phished password 1"}, "csrf": {o.csrf("/patient/login")}}); a.status != 401 {
		t.Errorf("log in with the taker's number after the move: %d → %q, want 401", a.status, a.location)
	}

	// The closing, marked taken: the reason is asked for, then kept.
	d.open("/desk/accounts")
	closeForm := func(reason string) {
		t.Helper()
		d.fill("#desk-close-form input[name=id_number]", id)
		d.fill("#desk-close-form input[name=name]", name)
		d.do("tick taken", chromedp.Click(chromedp.CSS("#desk-close-form input[name=taken]")))
		if reason != "" {
			d.fill("#desk-close-form input[name=taken_reason]", reason)
		}
		d.click("#desk-close-form button[type=submit]", "/desk/accounts/close")
	}
	closeForm("")
	d.contains("#error", "invalid_field")
	if got := fieldState(d, "#desk-close-form input[name=taken_reason]", "true "); got[:5] != "true " {
		t.Errorf("a taken closing without a reason: the reason field is %q, want it invalid", got)
	}
	if n := s.count(`SELECT count(*) FROM accounts WHERE closed_at IS NOT NULL`); n != 0 {
		t.Errorf("after the refusal %d accounts are closed, want none", n)
	}
	closeForm("登录号码被改为陌生号码")
	d.contains("#flash", "已注销")
	d.hidden(id, name)
	d.axeClean(axe, "desk account closed")
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'account_closed' AND strpos(reason, '登录号码被改为陌生号码') > 0 AND strpos(reason, 'without penalty') > 0`); n != 1 {
		t.Errorf("got %d account_closed audit rows with the clerk's reason, want 1", n)
	}
}
