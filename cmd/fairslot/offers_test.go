package main

import (
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// bookingWithOffer is a booking as the API answers it, with what a stop
// and a substitute doctor (替诊) add to it.
type bookingWithOffer struct {
	ID         string `json:"booking_id"`
	Status     string `json:"status"`
	StopReason string `json:"stop_reason"`
	Offer      *struct {
		Status    string `json:"status"`
		HoldUntil string `json:"hold_until"`
	} `json:"offer"`
}

// TestHeldSlotShowsItsOffer (M3, review14): a slot a substitute doctor
// holds for a patient is confirmed in SQL but not yet theirs; the booking
// shapes of GET /v1/bookings, GET /v1/bookings/{id} and POST
// /v1/desk/lookup carry the offer's state and deadline, so no client reads
// it as a plain booking; the stopped original carries the stop's reason;
// an accepted offer reads accepted.
func TestHeldSlotShowsItsOffer(t *testing.T) {
	svc, sess, admin, op, sub, p, mine := offerFixture(t, 4501)
	callerID := residentID(4502)
	var theirs bookingWithOffer
	if r := svc.do("POST", "/v1/phone/bookings", op, map[string]string{"privacy_consent": booking.PrivacyNoticeVersion, "caller_phone": "13912340000", "id_type": "resident_id",
		"id_number": callerID, "name": "孙老伯", "session_id": sess.ID}); r.status != 201 {
		t.Fatalf("book by phone: %d %s", r.status, r.body)
	} else {
		r.decode(t, &theirs)
	}
	var stop struct {
		ToCallBack int    `json:"to_call_back"`
		Notified   int    `json:"notified"`
		HoldUntil  string `json:"hold_until"`
	}
	if r := svc.do("POST", "/v1/admin/sessions/"+sess.ID+"/stop", admin, map[string]string{"reason": "the doctor is ill",
		"substitute_doctor_id": sub.ID}); r.status != 200 {
		t.Fatalf("stop: %d %s", r.status, r.body)
	} else {
		r.decode(t, &stop)
	}
	if stop.Notified != 1 || stop.ToCallBack != 1 {
		t.Errorf("stop = %+v; want 1 notified online, 1 to call back", stop)
	}
	held, heldTheirs := booking.NameID(mine.ID, "substitute"), booking.NameID(theirs.ID, "substitute")

	var list []bookingWithOffer
	svc.do("GET", "/v1/bookings", p.token, nil).decode(t, &list)
	got := map[string]bookingWithOffer{}
	for _, b := range list {
		got[b.ID] = b
	}
	if b := got[held]; b.Status != "confirmed" || b.Offer == nil || b.Offer.Status != "offered" || b.Offer.HoldUntil != stop.HoldUntil {
		t.Errorf("the held slot in the list = %+v; want its offer open until %s", b, stop.HoldUntil)
	}
	if b := got[mine.ID]; b.Status != "cancelled" || b.StopReason != "the doctor is ill" || b.Offer != nil {
		t.Errorf("the stopped original = %+v; want cancelled with the stop's reason and no offer", b)
	}
	var one bookingWithOffer
	svc.do("GET", "/v1/bookings/"+held, p.token, nil).decode(t, &one)
	if one.Offer == nil || one.Offer.Status != "offered" {
		t.Errorf("GET the held slot = %+v; want its open offer", one)
	}
	var look struct {
		Bookings []bookingWithOffer `json:"bookings"`
	}
	if r := svc.do("POST", "/v1/desk/lookup", op, map[string]string{"id_type": "resident_id", "id_number": callerID, "name": "孙老伯", "caller_phone": "13912340000"}); r.status != 200 {
		t.Fatalf("lookup: %d %s", r.status, r.body)
	} else {
		r.decode(t, &look)
	}
	found := false
	for _, b := range look.Bookings {
		if b.ID == heldTheirs {
			found = b.Offer != nil && b.Offer.Status == "offered"
		}
	}
	if !found {
		t.Errorf("the lookup = %+v; want the caller's held slot with its open offer", look.Bookings)
	}

	// The offers themselves say their times in the hospital's zone, as the
	// bookings do (they were in UTC).
	var offers []struct {
		BookingID string `json:"booking_id"`
		HoldUntil string `json:"hold_until"`
		DecidedAt string `json:"decided_at"`
	}
	svc.do("GET", "/v1/substitute-offers", p.token, nil).decode(t, &offers)
	if len(offers) != 1 || offers[0].BookingID != held || offers[0].HoldUntil != stop.HoldUntil || !strings.HasSuffix(offers[0].HoldUntil, "+08:00") {
		t.Errorf("the patient's offers = %+v; want the held slot's, until %s (+08:00)", offers, stop.HoldUntil)
	}
	r := svc.do("POST", "/v1/substitute-offers/"+held+"/accept", p.token, nil)
	if r.status != 200 {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	var accepted struct {
		DecidedAt string `json:"decided_at"`
	}
	if r.decode(t, &accepted); !strings.HasSuffix(accepted.DecidedAt, "+08:00") {
		t.Errorf("the accepted offer's decided_at = %q, want the hospital's zone (+08:00)", accepted.DecidedAt)
	}
	svc.do("GET", "/v1/bookings/"+held, p.token, nil).decode(t, &one)
	if one.Offer == nil || one.Offer.Status != "accepted" {
		t.Errorf("after the accept = %+v; want the offer accepted", one)
	}
}

// TestStoppedSubstituteClosesItsOffers (review17 H, A, through the API):
// the substitute's clinic is stopped too. The patient's offers, the held
// booking and the call-back row read the offer withdrawn; neither the
// patient's accept nor the call centre's "accepted" is taken (409
// offer_closed); the stop's notices read in the hospital's zone (review17
// L).
func TestStoppedSubstituteClosesItsOffers(t *testing.T) {
	svc, sess, admin, op, sub, p, mine := offerFixture(t, 4601)
	var theirs bookingWithOffer
	if r := svc.do("POST", "/v1/phone/bookings", op, map[string]string{"privacy_consent": booking.PrivacyNoticeVersion, "caller_phone": "13912340001", "id_type": "resident_id",
		"id_number": residentID(4602), "name": "孙老伯", "session_id": sess.ID}); r.status != 201 {
		t.Fatalf("book by phone: %d %s", r.status, r.body)
	} else {
		r.decode(t, &theirs)
	}
	var stop struct {
		SubstituteSessionID string `json:"substitute_session_id"`
	}
	if r := svc.do("POST", "/v1/admin/sessions/"+sess.ID+"/stop", admin, map[string]string{"reason": "the doctor is ill",
		"substitute_doctor_id": sub.ID}); r.status != 200 {
		t.Fatalf("stop: %d %s", r.status, r.body)
	} else {
		r.decode(t, &stop)
	}
	if r := svc.do("POST", "/v1/admin/sessions/"+stop.SubstituteSessionID+"/stop", admin, map[string]string{"reason": "the substitute is ill too"}); r.status != 200 {
		t.Fatalf("stop the substitute's clinic: %d %s", r.status, r.body)
	}
	held := booking.NameID(mine.ID, "substitute")

	var offers []struct {
		BookingID string `json:"booking_id"`
		Status    string `json:"status"`
	}
	svc.do("GET", "/v1/substitute-offers", p.token, nil).decode(t, &offers)
	if len(offers) != 1 || offers[0].BookingID != held || offers[0].Status != booking.OfferWithdrawn {
		t.Errorf("the patient's offers = %+v; want the held slot's, withdrawn", offers)
	}
	if r := svc.do("POST", "/v1/substitute-offers/"+held+"/accept", p.token, nil); r.status != 409 || r.code != "offer_closed" {
		t.Errorf("accept a slot in a stopped clinic: %d %s; want 409 offer_closed", r.status, r.body)
	}
	var one bookingWithOffer
	svc.do("GET", "/v1/bookings/"+held, p.token, nil).decode(t, &one)
	if one.Status != "cancelled" || one.Offer == nil || one.Offer.Status != booking.OfferWithdrawn {
		t.Errorf("the held booking = %+v; want cancelled, its offer withdrawn", one)
	}

	var rows []struct {
		ID        string `json:"callback_id"`
		SessionID string `json:"session_id"`
		BookingID string `json:"booking_id"`
		Offer     *struct {
			Status string `json:"status"`
		} `json:"offer"`
	}
	svc.do("GET", "/v1/callbacks", op, nil).decode(t, &rows)
	var first string
	for _, c := range rows {
		if c.BookingID == theirs.ID {
			first = c.ID
			if c.Offer == nil || c.Offer.Status != booking.OfferWithdrawn {
				t.Errorf("the first stop's call-back row = %+v; want its offer withdrawn", c)
			}
		}
	}
	if first == "" {
		t.Fatalf("the call-back list %+v has no row for the caller's first stop", rows)
	}
	// On the call (the number opened: review23 M4), the offer is closed.
	if r := svc.do("POST", "/v1/callbacks/"+first+"/number", op, nil); r.status != 200 {
		t.Fatalf("open the caller's number: %d %s", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/callbacks/"+first+"/outcome", op, map[string]string{"outcome": "accepted"}); r.status != 409 || r.code != "offer_closed" {
		t.Errorf("record the caller's accept of a slot in a stopped clinic: %d %s; want 409 offer_closed", r.status, r.body)
	}

	var notes []struct {
		CreatedAt string `json:"created_at"`
	}
	svc.do("GET", "/v1/admin/sessions/"+sess.ID+"/notifications", admin, nil).decode(t, &notes)
	if len(notes) == 0 {
		t.Fatalf("no notices of the stop")
	}
	for _, n := range notes {
		if !strings.HasSuffix(n.CreatedAt, "+08:00") {
			t.Errorf("a stop notice's created_at = %q; want the hospital's zone (+08:00), as the patient's notices", n.CreatedAt)
		}
	}
}

// offerFixture starts the service over a session released a minute ago, with
// an administrator, an operator, a substitute doctor of the session's
// department, and a patient (seed) who booked the session's first slot.
func offerFixture(t *testing.T, seed int) (svc *service, sess booking.Session, admin, op string, sub struct {
	ID string `json:"doctor_id"`
}, p patient, mine bookingWithOffer) {
	t.Helper()
	sch := schedule(t, time.Now().Add(-time.Minute), 4)
	svc = startService(t, sch, nil)
	admin, op = svc.staffLogin(booking.RoleAdmin, 1), svc.staffLogin(booking.RoleOperator, 2)
	sess = sch.Sessions[0]
	if r := svc.do("POST", "/v1/admin/doctors", admin, map[string]string{"department_id": sess.DepartmentID, "name": "Dr Substitute"}); r.status != 201 {
		t.Fatalf("create the substitute: %d %s", r.status, r.body)
	} else {
		r.decode(t, &sub)
	}
	p = svc.newPatient(seed)
	if r := svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sess.ID, "patient_id": p.patientID}); r.status != 201 {
		t.Fatalf("book: %d %s", r.status, r.body)
	} else {
		r.decode(t, &mine)
	}
	return svc, sess, admin, op, sub, p, mine
}
