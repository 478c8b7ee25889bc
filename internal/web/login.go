package web

import (
	"errors"
	"strings"

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
		tok, err := c.svc.Login(r.ctx, phone, password, r.origin)
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
