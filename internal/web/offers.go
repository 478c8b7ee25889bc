package web

import (
	"net/url"
	"time"

	"fairslot/internal/booking"
)

// A slot held with a substitute doctor (替诊) is answered by the patient on
// their bookings page, or for them by the desk (the Today list, the lookup)
// or the call centre (the caller's bookings): the same Service.AnswerOffer
// the API's substitute-offers routes call, which checks the staff member
// covers the hospital, records who answered, and on a decline cancels the
// held booking without penalty with its event.

// offerView is an open offer as staff read it to the patient: the doctor
// and time they would see, and the deadline.
type offerView struct {
	Doctor string
	When   string
	Until  string
}

// openOffers finds which of the bookings ids hold a slot whose offer still
// waits for an answer, for a staff console.
func (c *Console) openOffers(r *request, ids []string) (map[string]*offerView, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	offers, err := c.svc.OpenOffers(r.ctx, r.actor, ids)
	if err != nil || len(offers) == 0 {
		return nil, err
	}
	cat := c.svc.Catalog()
	out := make(map[string]*offerView, len(offers))
	for id, off := range offers {
		loc := time.UTC
		if h, ok := cat.Hospital(off.HospitalID); ok {
			loc = h.Location()
		}
		v := &offerView{Until: off.HoldUntil.In(loc).Format("01-02 15:04")}
		if s, ok := cat.Session(off.SessionID); ok {
			doc, _ := cat.Doctor(s.DoctorID)
			v.Doctor, v.When = doc.Name, s.VisitDate+" "+periodLabel(s.Period)+" "+s.StartsAt.In(loc).Format("15:04")
		}
		out[id] = v
	}
	return out, nil
}

// offerFlash names the answer for the confirmation after the redirect.
func offerFlash(accept bool) string {
	if accept {
		return "offer_accepted"
	}
	return "offer_declined"
}

// deskAnswerOffer accepts or declines an offer for the patient at the
// desk, from the Today list or the lookup page.
func (c *Console) deskAnswerOffer(accept bool) func(*request) error {
	return func(r *request) error {
		off, err := c.svc.AnswerOffer(r.ctx, r.actor, r.param, accept, r.origin)
		today := r.form("from") == "today"
		switch {
		case err != nil && today:
			return c.todayFailed(r, "offer-"+r.param, err)
		case err != nil:
			return c.lookupFailed(r, "offer-"+r.param, err)
		case today:
			c.redirect(r, "/desk?"+url.Values{"ok": {offerFlash(accept)}, "s": {off.SessionID}, "id": {off.BookingID}}.Encode())
		default:
			c.redirect(r, "/desk/lookup?"+url.Values{"ok": {offerFlash(accept)}, "id": {off.BookingID}}.Encode())
		}
		return nil
	}
}

// phoneAnswerOffer accepts or declines an offer for the caller on the line.
func (c *Console) phoneAnswerOffer(accept bool) func(*request) error {
	return func(r *request) error {
		ref, err := c.callerForBooking(r)
		var off booking.SubstituteOffer
		if err == nil {
			off, err = c.svc.AnswerOfferForCaller(r.ctx, r.actor, r.param,
				booking.IdentityRequest{IDType: ref.IDType, IDNumber: ref.IDNumber, Name: ref.Name}, ref.Phone, accept, r.origin)
		}
		if err != nil {
			return c.phoneFailed(r, "offer-"+r.param, err)
		}
		c.redirect(r, "/phone?"+url.Values{"ok": {offerFlash(accept)}, "id": {off.BookingID}, "date": {r.form("date")}}.Encode())
		return nil
	}
}
