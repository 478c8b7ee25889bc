package web

import (
	"errors"
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
	ResetCard, ReleaseCard, RestoreCard idCard
	Minutes                             int // how long a code lasts
	Code                                *resetCodeView
}

// accountsPageData is the page with each form's card: the document type
// typed into the form just refused (form), resident ID elsewhere.
func accountsPageData(r *request, form string) accountsData {
	card := func(id string) idCard { return typedCard(r, id, "resident_id", id == form) }
	return accountsData{ResetCard: card("reset-form"), ReleaseCard: card("release-form"), RestoreCard: card("restore-form"), Minutes: resetMinutes}
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

// accountsFailed shows the accounts page again with the refusal of form.
func (c *Console) accountsFailed(r *request, form string, err error) error {
	p := page{Title: "账号服务 Accounts", Nav: "accounts", Form: form, Data: accountsPageData(r, form)}
	return c.formFailed(r, "desk/accounts", p, err)
}
