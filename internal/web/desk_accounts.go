package web

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// The desk's account services (账号服务), for a person at the window with
// their ID card: a code to reset a forgotten password (fairslot sends no
// SMS: the card is the proof, docs/security.md "Forgotten passwords").
// Nothing typed is sent back on a refusal (no desk page shows an ID
// number, a name or a phone in clear), and the code is shown once, in the
// answer to the clerk's POST (no-store), never in an address, a later page
// or the log.

// accountsData is the accounts page: the forms' cards, and the code just
// issued, if any.
type accountsData struct {
	ResetCard, ReleaseCard, RestoreCard, MoveCard, CloseCard idCard
	AppealCard, AskCard                                      idCard
	Minutes                                                  int // how long a code lasts
	// Appeal is the person's appeal just asked for (desk_appeals.go).
	Appeal *appealAnswerView
	Code   *resetCodeView
	// Moved is the login just moved back: the numbers, masked, and the
	// holder's reset code, shown once.
	Moved *movedView
}

// movedView is a login move as the clerk reads it out.
type movedView struct {
	From, To string
	Code     resetCodeView
}

// accountsPageData is the page with each form's card: the document type
// typed into the form just refused (form), resident ID elsewhere.
func accountsPageData(r *request, form string) accountsData {
	card := func(id string) idCard { return typedCard(r, id, "resident_id", id == form) }
	return accountsData{ResetCard: card("reset-form"), ReleaseCard: card("release-form"), RestoreCard: card("restore-form"),
		MoveCard: card("move-form"), CloseCard: card("desk-close-form"), AppealCard: card("appeal-form"), AskCard: card("appeal-ask-form"),
		Minutes: resetMinutes}
}

// resetCodeView is an issued code as the clerk reads it out or writes it
// down for the holder.
type resetCodeView struct {
	Code, Phone, Holder, Until string
	Minutes                    int
}

// resetMinutes is how long a code lasts, as the page states it.
var resetMinutes = int(booking.ResetCodeTTL.Minutes())

func (c *Console) accountsPage(r *request) error {
	d := accountsPageData(r, "")
	d.ResetCard.Focus = true
	return c.render(r, fasthttp.StatusOK, "desk/accounts", page{Title: "账号服务 Accounts", Nav: "accounts", Flash: deskFlash(r.query("ok")), Data: d})
}

// issueResetCode checks the card against the account's holder (本人) and
// shows the code once. Reloading the answer asks the browser to post
// again, which issues a new code that replaces this one.
func (c *Console) issueResetCode(r *request) error {
	req, err := identityForm(r)
	phone := strings.TrimSpace(r.form("account_phone"))
	if err == nil && phone == "" {
		err = onFields(booking.Errorf(booking.ErrInvalidField, "enter the phone the account logs in with"), "account_phone")
	}
	var rc booking.ResetCode
	if err == nil {
		rc, err = c.svc.IssueResetCode(r.ctx, r.actor, booking.ResetCodeRequest{IdentityRequest: req, AccountPhone: phone})
	}
	form := ""
	if err != nil {
		form = "reset-form"
	}
	d := accountsPageData(r, form)
	p := page{Title: "账号服务 Accounts", Nav: "accounts", Form: "reset-form", Data: d}
	switch {
	case err == nil:
		until := rc.ExpiresAt.In(c.deskZone(r)).Format("15:04")
		d.Code = &resetCodeView{Code: rc.Code, Phone: rc.PhoneMasked, Holder: rc.HolderMasked, Until: until, Minutes: resetMinutes}
		p.Data, p.Flash = d, "已生成重置码，请交给本人。 Reset code issued: hand it to the holder."
		return c.render(r, fasthttp.StatusCreated, "desk/accounts", p)
	case errors.Is(err, booking.ErrInvalidPhone), errors.Is(err, booking.ErrPatientNotFound), errors.Is(err, booking.ErrResetNeedsHolder):
		err = onFields(err, "account_phone")
	case errors.Is(err, booking.ErrNotAccountHolder):
		err = onFields(err, "id_number", "name")
	}
	return c.formFailed(r, "desk/accounts", p, err)
}

// deskZone is the clerk's hospital's time zone.
func (c *Console) deskZone(r *request) *time.Location {
	if h, ok := c.svc.Catalog().Hospital(r.actor.HospitalID); ok {
		return h.Location()
	}
	return booking.StandInLocation()
}

// releasePhone releases a recycled number for its new holder at the desk
// (booking.Service.ReleasePhone): the new holder's card, the number, and
// the carrier's document seen.
func (c *Console) releasePhone(r *request) error {
	req, err := identityForm(r)
	phone := strings.TrimSpace(r.form("phone"))
	if err == nil && phone == "" {
		err = onFields(booking.Errorf(booking.ErrInvalidField, "enter the number to release"), "phone")
	}
	if err == nil {
		_, err = c.svc.ReleasePhone(r.ctx, r.actor, booking.ReleasePhoneRequest{IdentityRequest: req, Phone: phone,
			CarrierProofSeen: r.form("carrier_proof_seen") != ""})
	}
	if err == nil {
		c.redirect(r, "/desk/accounts?ok=released")
		return nil
	}
	if errors.Is(err, booking.ErrReleaseOwnNumber) {
		err = onFields(err, "id_number", "name")
	}
	return c.accountsFailed(r, "release-form", err)
}

// restorePhone gives a released account a new login number, for its
// holder at the desk with their card (booking.Service.RestorePhone).
func (c *Console) restorePhone(r *request) error {
	req, err := identityForm(r)
	phone := strings.TrimSpace(r.form("phone"))
	if err == nil && phone == "" {
		err = onFields(booking.Errorf(booking.ErrInvalidField, "enter the holder's new number"), "phone")
	}
	if err == nil {
		_, err = c.svc.RestorePhone(r.ctx, r.actor, booking.RestorePhoneRequest{IdentityRequest: req, Phone: phone})
	}
	if err == nil {
		c.redirect(r, "/desk/accounts?ok=restored")
		return nil
	}
	switch {
	case errors.Is(err, booking.ErrNotAccountHolder), errors.Is(err, booking.ErrPatientNotFound), errors.Is(err, booking.ErrAccountNotReleased):
		err = onFields(err, "id_number", "name")
	}
	return c.accountsFailed(r, "restore-form", err)
}

// moveLogin moves a taken login back to its holder (booking.Service.
// MoveLoginBack, POST /v1/desk/login-moves): the holder's card, the new
// number rung from the desk, and the reset code shown once, as a reset
// code's (no-store; a reload posts again and replaces the code).
func (c *Console) moveLogin(r *request) error {
	req, err := identityForm(r)
	phone, account := strings.TrimSpace(r.form("new_phone")), strings.TrimSpace(r.form("account_phone"))
	if err == nil && phone == "" {
		err = onFields(booking.Errorf(booking.ErrInvalidField, "enter the holder's new number"), "new_phone")
	}
	var m booking.MovedLogin
	if err == nil {
		m, err = c.svc.MoveLoginBack(r.ctx, r.actor, booking.MoveLoginRequest{IdentityRequest: req, AccountPhone: account,
			NewPhone: phone, NumberRung: r.form("number_rung") != ""})
	}
	if err == nil {
		d := accountsPageData(r, "")
		until := m.Reset.ExpiresAt.In(c.deskZone(r)).Format("15:04")
		d.Moved = &movedView{From: m.FromMasked, To: m.PhoneMasked,
			Code: resetCodeView{Code: m.Reset.Code, Phone: m.PhoneMasked, Holder: m.HolderMasked, Until: until, Minutes: resetMinutes}}
		p := page{Title: "账号服务 Accounts", Nav: "accounts", Form: "move-form", Data: d,
			Flash: "登录手机号已移回本人，所有登录已退出，原密码已失效。请把重置码交给本人。 The login is back with its holder: every login ended, the old password no longer works. Hand the reset code to the holder."}
		if m.Pending {
			// A typed card (this form sends no reader's read): the move
			// waits its cooling-off and the account is told (review25 H4).
			p.Flash = "证件为手工录入，改号申请已提交，将于 " + m.DueAt.In(c.deskZone(r)).Format("01-02 15:04") +
				" 生效；在此之前账号本人会收到通知并可撤销，原号码照常登录。请把重置码交给本人，生效后可用。 " +
				"The card was typed: the move is asked for and takes effect at " + m.DueAt.In(c.deskZone(r)).Format("01-02 15:04") +
				"; until then the account's holder is told and may cancel it, and the old number still logs in. Hand the reset code to the holder: it works once the move takes effect."
		}
		return c.render(r, fasthttp.StatusCreated, "desk/accounts", p)
	}
	switch {
	case errors.Is(err, booking.ErrInvalidPhone), errors.Is(err, booking.ErrPhoneTaken):
		err = onFields(err, "new_phone")
	case errors.Is(err, booking.ErrNotAccountHolder), errors.Is(err, booking.ErrPatientNotFound):
		err = onFields(err, "id_number", "name")
	}
	return c.accountsFailed(r, "move-form", err)
}

// closeAtDesk closes an account for its holder, who shows the card
// (booking.Service.CloseAccountAtDesk, POST /v1/desk/account-closures): at
// once, no cooling-off. With "taken" ticked and its reason, the
// cancellations are without penalty (the login was someone else's).
func (c *Console) closeAtDesk(r *request) error {
	req, err := identityForm(r)
	reason := strings.TrimSpace(r.form("taken_reason"))
	taken := r.form("taken") != ""
	if err == nil && taken && reason == "" {
		err = onFields(booking.Errorf(booking.ErrInvalidField, "say how you know the login was taken"), "taken_reason")
	}
	if !taken {
		reason = ""
	}
	var got booking.ClosedAccount
	if err == nil {
		got, err = c.svc.CloseAccountAtDesk(r.ctx, r.actor, booking.DeskCloseRequest{IdentityRequest: req,
			AccountPhone: strings.TrimSpace(r.form("account_phone")), TakenReason: reason})
	}
	if err == nil {
		p := page{Title: "账号服务 Accounts", Nav: "accounts", Data: accountsPageData(r, ""),
			Flash: fmt.Sprintf("账号 %s 已注销：取消预约 %d 个（其中截止时间后 %d 个）、摇号报名 %d 个、候补 %d 个；手机号已释放。 "+
				"Account %s closed: %d bookings cancelled (%d past the deadline), %d draw entries, %d waitlist places; its number is free.",
				got.PhoneMasked, got.Bookings, got.LateBookings, got.Entries, got.Places,
				got.PhoneMasked, got.Bookings, got.LateBookings, got.Entries, got.Places)}
		return c.render(r, fasthttp.StatusOK, "desk/accounts", p)
	}
	switch {
	case errors.Is(err, booking.ErrInvalidPhone), errors.Is(err, booking.ErrResetNeedsHolder):
		err = onFields(err, "account_phone")
	case errors.Is(err, booking.ErrNotAccountHolder), errors.Is(err, booking.ErrPatientNotFound):
		err = onFields(err, "id_number", "name")
	}
	return c.accountsFailed(r, "desk-close-form", err)
}

// accountsFailed shows the accounts page again with the refusal of form.
func (c *Console) accountsFailed(r *request, form string, err error) error {
	p := page{Title: "账号服务 Accounts", Nav: "accounts", Form: form, Data: accountsPageData(r, form)}
	return c.formFailed(r, "desk/accounts", p, err)
}
