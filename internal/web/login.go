package web

import (
	"errors"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// Signing in and out, the same for every console: each has its own login
// page (templates/<console>/login.html) and admits only its roles. A
// session cookie is one per browser, whatever the console: signing in on
// one console replaces a session of another.

// loginPage shows a console's login form, or its home page to a browser
// already signed in with a role it admits.
func (c *Console) loginPage(con *console) func(*request) error {
	return func(r *request) error {
		if r.signedIn() && con.admits(r.actor.Role) {
			c.redirect(r, con.Path)
			return nil
		}
		p := page{Title: "登录 Log in", Flash: flashes[r.query("m")]}
		if r.query("m") == "blocked" {
			// The session ended because the account was blocked: say so,
			// as logging in again would.
			p.Error, _ = c.publicError(r, booking.ErrAccountBlocked)
		}
		return c.render(r, fasthttp.StatusOK, con.Name+"/login", p)
	}
}

// login signs in with a phone and password, for a role the console admits.
func (c *Console) login(con *console) func(*request) error {
	return func(r *request) error {
		phone, password := strings.TrimSpace(r.form("phone")), r.form("password")
		p := page{Title: "登录 Log in", Data: loginData{Phone: phone}}
		name := con.Name + "/login"
		if phone == "" || password == "" {
			return c.formFailed(r, name, p, booking.Errorf(booking.ErrInvalidField, "enter your phone number and password"))
		}
		tok, err := c.svc.LoginDevice(r.ctx, phone, password, r.loginDevice(), r.origin)
		var blocked *booking.BlockedError
		if errors.As(err, &blocked) && con == patientConsole {
			// The right password of a blocked patient: why, and the appeal.
			return c.render(r, fasthttp.StatusForbidden, "patient/blocked", page{Title: "账号已停用 Account suspended",
				Data: blockedData{Reason: blocked.Info.Reason, Token: blocked.Info.AppealToken, Due: blocked.Info.AppealDue}})
		}
		if err != nil {
			return c.formFailed(r, name, p, err)
		}
		if err := c.startSession(r, con, tok); err != nil {
			return c.formFailed(r, name, p, err)
		}
		if tok.ClosingCancelled {
			c.redirect(r, con.Path+"?ok=closing_cancelled")
			return nil
		}
		if tok.ConsentNeeded && con == patientConsole {
			c.redirect(r, "/patient/consent") // no consent to the current notice on record: asked
			return nil
		}
		c.redirect(r, con.Path)
		return nil
	}
}

// blockedData is the blocked patient's page: the reason, and the appeal
// form with its token (in the form only, never in an address).
type blockedData struct {
	Reason, Token, Text string
	Due                 int
	Filed               bool
}

// appeal files a blocked patient's appeal (申诉) with the token the sign-in
// answered. A refusal comes back on the same page with the text kept.
func (c *Console) appeal(r *request) error {
	token, text := r.form("appeal_token"), r.form("text")
	d := blockedData{Token: token, Text: text, Due: 5}
	_, err := c.svc.FileAppeal(r.ctx, token, text)
	p := page{Title: "账号已停用 Account suspended", Data: d}
	if err != nil {
		return c.formFailed(r, "patient/blocked", p, err)
	}
	d.Filed, d.Token, d.Text = true, "", ""
	p.Data = d
	return c.render(r, fasthttp.StatusCreated, "patient/blocked", p)
}

// startSession sets the session cookie for a token, if its role may use the
// console.
func (c *Console) startSession(r *request, con *console, tok booking.Token) error {
	actor, err := c.svc.Authenticate([]byte(tok.Token))
	if err != nil {
		return err
	}
	if !con.admits(actor.Role) {
		return errWrongConsole(con, actor.Role, false)
	}
	c.setSession(r, tok)
	return nil
}

// logout ends the session's login (every token of the account stops
// working, on every instance within a second) and forgets the cookie (and
// the desk's current patient, the phone console's caller).
func (c *Console) logout(con *console) func(*request) error {
	return func(r *request) error {
		if r.signedIn() {
			if err := c.svc.Logout(r.ctx, r.actor); err != nil {
				return err
			}
		}
		c.clearSession(r)
		c.forgetLookup(r)
		c.forgetCaller(r)
		c.redirect(r, con.Path+"/login?m=loggedout")
		return nil
	}
}

// The account's own changes that the current password confirms: 修改密码
// and 修改手机号. Each page asks for the current password (the shared
// "current-password" field), checks its own fields, and hands the change
// to confirmedChange, which answers alike: a refusal on the same page, tied
// to its field; a success ends every other login of the account, keeps
// this browser signed in with the fresh token, and says so on the home page.

// passwordPage is a signed-in patient's change of password (修改密码).
func (c *Console) passwordPage(r *request) error {
	return c.render(r, fasthttp.StatusOK, "patient/password", page{Title: "修改密码 Change password"})
}

// changePassword sets a new password.
func (c *Console) changePassword(r *request) error {
	p := page{Title: "修改密码 Change password"}
	next := r.form("new_password")
	if next == "" {
		return c.formFailed(r, "patient/password", p, onFields(booking.Errorf(booking.ErrInvalidField, "enter the new password"), "new_password"))
	}
	if next != r.form("new_password2") {
		return c.formFailed(r, "patient/password", p, onFields(errPasswordsDiffer, "new_password2"))
	}
	return c.confirmedChange(r, "patient/password", p, "password", func(current string) (booking.Token, error) {
		return c.svc.ChangePassword(r.ctx, r.actor, booking.ChangePasswordRequest{Current: current, New: next, DeviceToken: r.loginDevice()}, r.origin)
	})
}

// accountPhoneData is the phone page: the account's number, masked, and
// the new one typed into a refused form (the holder's own answer,
// no-store; never logged).
type accountPhoneData struct{ Current, Phone string }

// accountPhonePage is a signed-in patient's change of the account's login
// number (修改手机号).
func (c *Console) accountPhonePage(r *request) error {
	d, err := c.accountPhone(r, "")
	if err != nil {
		return err
	}
	return c.render(r, fasthttp.StatusOK, "patient/phone", page{Title: "修改手机号 Change phone number", Data: d})
}

func (c *Console) accountPhone(r *request, typed string) (accountPhoneData, error) {
	a, err := c.svc.OwnAccount(r.ctx, r.actor)
	return accountPhoneData{Current: a.PhoneMasked, Phone: typed}, err
}

// changeAccountPhone moves the account to a new login number; the members
// listed with the old number get the new one (booking.ChangePhone).
func (c *Console) changeAccountPhone(r *request) error {
	phone := strings.TrimSpace(r.form("phone"))
	d, err := c.accountPhone(r, phone)
	if err != nil {
		return err
	}
	p := page{Title: "修改手机号 Change phone number", Data: d}
	if phone == "" {
		return c.formFailed(r, "patient/phone", p, onFields(booking.Errorf(booking.ErrInvalidField, "enter the new phone number"), "phone"))
	}
	return c.confirmedChange(r, "patient/phone", p, "phone", func(current string) (booking.Token, error) {
		return c.svc.ChangePhone(r.ctx, r.actor, booking.ChangePhoneRequest{Password: current, Phone: phone, DeviceToken: r.loginDevice()}, r.origin)
	})
}

// confirmedChange runs a change that the form's current password confirms.
// A wrong password is the form's current_password field's fault (a login's
// "phone or password is wrong" would send the reader to the new number);
// a refusal renders the page again; a success keeps this browser signed
// in with the change's token and lands on the home page with the ok flash.
func (c *Console) confirmedChange(r *request, name string, p page, ok string, change func(current string) (booking.Token, error)) error {
	current := r.form("current_password")
	if current == "" {
		return c.formFailed(r, name, p, onFields(booking.Errorf(booking.ErrInvalidField, "enter your current password"), "current_password"))
	}
	tok, err := change(current)
	if errors.Is(err, booking.ErrBadCredentials) {
		err = onFields(errWrongPassword, "current_password")
	}
	if err != nil {
		return c.formFailed(r, name, p, err)
	}
	c.setSession(r, tok)
	c.redirect(r, "/patient?ok="+ok)
	return nil
}

// closePage is a signed-in patient's closing of the account (注销账号): it
// says what closing does before the password is asked for.
func (c *Console) closePage(r *request) error {
	return c.render(r, fasthttp.StatusOK, "patient/close", page{Title: "注销账号 Close account", Data: c.closeData()})
}

// closeData is the closing page's: how many days the closing waits.
type closeData struct{ Days int }

func (c *Console) closeData() closeData {
	return closeData{Days: int(c.svc.ClosingCoolingOff() / (24 * time.Hour))}
}

// closeAccount asks for the account's closing with the password
// (booking.CloseAccount): pending for the cooling-off, every login ended,
// this browser's too, and the login page says how to cancel it. A
// refusal comes back on the same page.
func (c *Console) closeAccount(r *request) error {
	p := page{Title: "注销账号 Close account", Data: c.closeData()}
	password := r.form("password")
	if password == "" {
		return c.formFailed(r, "patient/close", p, booking.Errorf(booking.ErrInvalidField, "enter your password to close the account"))
	}
	if _, err := c.svc.CloseAccount(r.ctx, r.actor, booking.CloseAccountRequest{Password: password, DeviceToken: r.loginDevice()}, r.origin); err != nil {
		return c.formFailed(r, "patient/close", p, err)
	}
	c.clearSession(r)
	c.redirect(r, "/patient/login?m=closing")
	return nil
}

// cancelClosing is the holder's 撤销注销 (booking.CancelClosing), the
// button of the banner every page shows during the cooling-off: the home
// page then says the closing is cancelled (or was no more pending).
func (c *Console) cancelClosing(r *request) error {
	if _, err := c.svc.CancelClosing(r.ctx, r.actor); err != nil {
		return err
	}
	c.redirect(r, "/patient?ok=closing_cancelled")
	return nil
}

// resetData is the reset page's form, refilled after a refusal (never the
// code or a password).
type resetData struct{ Phone string }

// resetPage is where a patient sets a new password with the code the
// registration desk issued (重置密码).
func (c *Console) resetPage(r *request) error {
	return c.render(r, fasthttp.StatusOK, "patient/reset", page{Title: "重置密码 Reset password"})
}

// resetPassword sets the new password with the desk's code and signs in.
func (c *Console) resetPassword(r *request) error {
	phone, code, next := strings.TrimSpace(r.form("phone")), r.form("code"), r.form("new_password")
	p := page{Title: "重置密码 Reset password", Data: resetData{Phone: phone}}
	if phone == "" || code == "" || next == "" {
		return c.formFailed(r, "patient/reset", p, booking.Errorf(booking.ErrInvalidField, "enter your phone number, the desk's code and a new password"))
	}
	if next != r.form("new_password2") {
		return c.formFailed(r, "patient/reset", p, errPasswordsDiffer)
	}
	tok, err := c.svc.RedeemResetCode(r.ctx, phone, code, next, r.origin)
	if err != nil {
		return c.formFailed(r, "patient/reset", p, err)
	}
	if err := c.startSession(r, patientConsole, tok); err != nil {
		return c.formFailed(r, "patient/reset", p, err)
	}
	c.redirect(r, "/patient?ok=password")
	return nil
}
