package web

import (
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestMovedBookingIsFreeToCancelUntilItsStart (sources22): a clinic moved
// to another time (改期) keeps its bookings, and the hospital's choice is
// that a moved booking cancels free of a no-show until the clinic's new
// start (Session.MovedAfter; the API's free_cancel_until says so). The
// patient console's bookings page gave the hospital's ordinary deadline
// instead — the day before the new visit at 15:00 — so a patient told
// "cancel free until it starts" read on their own page that it was already
// too late, or would be hours before it was.
func TestMovedBookingIsFreeToCancelUntilItsStart(t *testing.T) {
	s := newSite(t)
	p := s.client()
	p.signUp(newPhone(), "patient password 1")
	if a := p.addFamily(residentID(7101), "孙改期", "", true); a.status != 303 {
		t.Fatalf("add the person: %d\n%s", a.status, a.body)
	}
	account := accountOf(t, s, p)
	ps, err := s.svc.Patients(t.Context(), booking.Actor{AccountID: account, Role: booking.RolePatient})
	testenv.Must(t, err, "the list")
	id := p.book(s.open.ID, ps[0].ID)

	password := "admin password 1"
	admin := s.actor(s.newAdmin(password), password)
	sess, err := s.svc.AdminSession(admin, s.open.ID)
	testenv.Must(t, err, "read the session")
	to := s.open.StartsAt.AddDate(0, 0, 2).Add(time.Hour)
	res, err := s.svc.MoveSession(t.Context(), admin, s.open.ID, booking.MoveRequest{VisitDate: to.In(shanghai).Format(time.DateOnly),
		Period: "morning", StartsAt: to, Reason: "医生外出学术会议", Version: sess.Version})
	testenv.Must(t, err, "move the clinic")
	if res.Moved != 1 {
		t.Fatalf("moved %d bookings, want 1", res.Moved)
	}
	page := p.get("/patient/bookings?id=" + id)
	if page.status != 200 {
		t.Fatalf("bookings page: %d", page.status)
	}
	want := to.In(shanghai).Format("01-02 15:04") + " 前可免费取消"
	if !strings.Contains(page.body, want) {
		i := strings.Index(page.body, "前可免费取消")
		got := "no free-cancel line"
		if i >= 0 {
			got = page.body[max(0, i-40) : i+len("前可免费取消")]
		}
		t.Errorf("the moved booking's free-cancel line is %q, want %q (the new start)", got, want)
	}
	if strings.Contains(page.body, "已过取消截止时间") {
		t.Errorf("the moved booking says it is past the deadline")
	}
}
