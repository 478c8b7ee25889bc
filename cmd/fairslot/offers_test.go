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
	sch := schedule(t, time.Now().Add(-time.Minute), 4)
	svc := startService(t, sch, nil)
	admin, op := svc.staffLogin(booking.RoleAdmin, 1), svc.staffLogin(booking.RoleOperator, 2)
	sess := sch.Sessions[0]
	var sub struct {
		ID string `json:"doctor_id"`
	}
	if r := svc.do("POST", "/v1/admin/doctors", admin, map[string]string{"department_id": sess.DepartmentID, "name": "Dr Substitute"}); r.status != 201 {
		t.Fatalf("create the substitute: %d %s", r.status, r.body)
	} else {
		r.decode(t, &sub)
	}
	p := svc.newPatient(4501)
	var mine bookingWithOffer
	if r := svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sess.ID, "patient_id": p.patientID}); r.status != 201 {
		t.Fatalf("book: %d %s", r.status, r.body)
	} else {
		r.decode(t, &mine)
	}
	callerID := residentID(4502)
	var theirs bookingWithOffer
	if r := svc.do("POST", "/v1/phone/bookings", op, map[string]string{"caller_phone": "13912340000", "id_type": "resident_id",
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
