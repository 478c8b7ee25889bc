package web

import (
	"errors"
	"strings"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// The desk's 谁把此人列为就诊人 page (session 25): a person at the window,
// with their ID card, sees which accounts list them as a family member and
// leaves one's list (booking.Service.DeskListedBy, DeskLeaveListing; POST
// /v1/desk/listings in the API). The card typed in is kept for the page's
// next steps in a cookie sealed to this session (listingsCookie, as the
// lookup's current patient), never in the page or an address; each read is
// audited (person_listings_read), each removal audited and told to the
// account.

// listingsCookie keeps the card whose listings the page shows.
const listingsCookie = "fairslot_desk_listings"

// listingsData is the page: the card form, and the listings of the card
// read, if any (Read), with the one whose removal is being confirmed.
type listingsData struct {
	Card     idCard
	Read     bool
	Listings []listingView
	// Confirm is the listing whose removal the clerk asked for: its
	// confirm step is shown, with what follows.
	Confirm string
}

// currentListingsCard is the card the page read last.
func (c *Console) currentListingsCard(r *request) (booking.IdentityRequest, bool) {
	plain, ok := c.unseal(r, listingsCookie, "listings")
	if !ok {
		return booking.IdentityRequest{}, false
	}
	f := strings.Split(plain, "\x00")
	if len(f) != 3 {
		return booking.IdentityRequest{}, false
	}
	return booking.IdentityRequest{IDType: f[0], IDNumber: f[1], Name: f[2]}, true
}

// listingsPageData reads the listings of the kept card (audited), the
// card form's document type from a refused form.
func (c *Console) listingsPageData(r *request, failed bool) (listingsData, error) {
	d := listingsData{Card: typedCard(r, "listings-form", "resident_id", failed)}
	card, ok := c.currentListingsCard(r)
	if !ok {
		d.Card.Focus = true
		return d, nil
	}
	ls, err := c.svc.DeskListedBy(r.ctx, r.actor, card)
	if err != nil {
		c.unsetSealed(r, deskConsole, listingsCookie)
		return d, err
	}
	d.Read, d.Listings = true, listingViews(ls)
	return d, nil
}

func (c *Console) listingsRender(r *request, status int, d listingsData, flash string) error {
	return c.render(r, status, "desk/listings", page{Title: "谁把此人列为就诊人 Listings", Nav: "listings", Flash: flash, Data: d})
}

// listingsPage shows the card form, and the listings of the card read.
func (c *Console) listingsPage(r *request) error {
	d, err := c.listingsPageData(r, false)
	if err != nil {
		return c.listingsFailed(r, "listings-form", err)
	}
	if id := r.query("confirm"); id != "" && d.Read {
		d.Confirm = id
	}
	return c.listingsRender(r, fasthttp.StatusOK, d, deskFlash(r.query("ok")))
}

// readListings reads the card typed in: refused, the form is shown again
// (nothing typed sent back); read, the card is kept for the page.
func (c *Console) readListings(r *request) error {
	req, err := identityForm(r)
	if err == nil {
		_, err = c.svc.DeskListedBy(r.ctx, r.actor, req)
	}
	if err != nil {
		c.unsetSealed(r, deskConsole, listingsCookie)
		if errors.Is(err, booking.ErrVerifiedNameDiffers) || errors.Is(err, booking.ErrPatientNotFound) {
			err = onFields(err, "id_number", "name")
		}
		return c.listingsFailed(r, "listings-form", err)
	}
	c.seal(r, deskConsole, listingsCookie, "listings", strings.Join([]string{req.IDType, req.IDNumber, req.Name}, "\x00"))
	c.redirect(r, "/desk/listings")
	return nil
}

// leaveListingAtDesk takes the card's person off the listing's account's
// list (the confirm step's button).
func (c *Console) leaveListingAtDesk(r *request) error {
	card, ok := c.currentListingsCard(r)
	if !ok {
		return c.listingsFailed(r, "listings-form", booking.Errorf(booking.ErrInvalidField, "read the person's ID card first"))
	}
	if _, err := c.svc.DeskLeaveListing(r.ctx, r.actor, card, r.param); err != nil {
		return c.listingsFailed(r, "leave-"+r.param, err)
	}
	c.redirect(r, "/desk/listings?ok=left_listing")
	return nil
}

// clearListings forgets the card: the next person.
func (c *Console) clearListings(r *request) error {
	c.unsetSealed(r, deskConsole, listingsCookie)
	c.redirect(r, "/desk/listings")
	return nil
}

// listingsFailed shows the page again with the error on form.
func (c *Console) listingsFailed(r *request, form string, err error) error {
	d, lerr := c.listingsPageData(r, form == "listings-form")
	if lerr != nil && form != "listings-form" {
		err = lerr
		form = "listings-form"
	}
	if strings.HasPrefix(form, "leave-") {
		d.Confirm = strings.TrimPrefix(form, "leave-")
	}
	return c.formFailed(r, "desk/listings", page{Title: "谁把此人列为就诊人 Listings", Nav: "listings", Form: form, Data: d}, err)
}
