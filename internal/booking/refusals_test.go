package booking_test

import (
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestRefusalsBecomeEvents: refused attempts — from admission, from the
// fast reject path's memory, by staff — are written as rejected events with
// who, what and why; more than four alike in a second are thinned; a full
// buffer drops (and counts) rather than blocks.
func TestRefusalsBecomeEvents(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.session(sessionOpts{online: 1, phone: 1})
	us := h.users(2, 2)
	alice, bob := us[0], us[1]
	t0 := time.Now()
	h.clock.freeze(t0)
	h.mustBook(alice, 0, s, "")
	_, err := h.book(bob, 0, s, "") // admission answers sold_out
	wantErr(t, "bob", err, booking.ErrSoldOut)
	// From memory, through the API's entry point: recorded too.
	req := booking.BookRequest{SessionID: s.ID, PatientID: bob.patients[1].ID, Channel: booking.ChannelOnline,
		Origin: booking.Origin{IP: "198.51.100.9", DeviceID: "dv-bob"}}
	for range 6 {
		wantErr(t, "bob from memory", h.svc.KnownRefusalOf(bob.actor, &req), booking.ErrSoldOut)
	}
	// A clerk's walk-in on a pool nobody may book on site: refused, with
	// the clerk as staff_id.
	clerk := h.staff(booking.RoleClerk)
	_, err = h.svc.BookFor(h.ctx, clerk, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: booking.IdentityRequest{
		IDType: "resident_id", IDNumber: residentID(900001), Name: "王芳"}, SessionID: s.ID, Channel: booking.ChannelOnsite})
	if err == nil {
		t.Fatal("clerk's walk-in on a session without an on-site pool: want a refusal")
	}
	h.svc.NoteRateLimited(bob.actor, booking.Origin{IP: "198.51.100.9"})
	h.svc.NoteRateLimited(booking.Actor{}, booking.Origin{IP: "198.51.100.10"}) // nobody known: not recorded
	h.svc.FlushRefusals(h.ctx)

	evs, err := h.store.EventsSince(h.ctx, t0.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var fromAdmission, fromMemory, byStaff, limited int
	for _, e := range evs {
		switch {
		case e.Type == booking.EventRejected && e.AccountID == bob.actor.AccountID && e.PatientID == bob.patients[0].ID:
			fromAdmission++
			if e.Reason != "sold_out" || e.IdentityID != bob.patients[0].IdentityID || e.SessionID != s.ID || e.ReleaseAt.IsZero() || e.DoctorID == "" {
				t.Errorf("admission's refusal = %+v", e)
			}
		case e.Type == booking.EventRejected && e.AccountID == bob.actor.AccountID:
			fromMemory++
			if e.Reason != "sold_out" || e.PatientID != bob.patients[1].ID || e.DeviceID != "dv-bob" || e.IP != "198.51.100.9" {
				t.Errorf("the fast path's refusal = %+v", e)
			}
		case e.Type == booking.EventRejected && e.StaffID == clerk.AccountID:
			byStaff++
			if e.AccountID != "" || e.Channel != booking.ChannelOnsite || e.Reason == "" {
				t.Errorf("the clerk's refusal = %+v", e)
			}
		case e.Type == booking.EventRateLimited:
			limited++
			if e.AccountID != bob.actor.AccountID || e.Reason != "rate_limited" {
				t.Errorf("rate_limited = %+v", e)
			}
		}
	}
	if fromAdmission != 1 || fromMemory != 4 || byStaff != 1 || limited != 1 {
		t.Errorf("events: %d from admission, %d from memory (6 made, 4 a second kept), %d by staff, %d rate-limited; want 1, 4, 1, 1",
			fromAdmission, fromMemory, byStaff, limited)
	}
	if w, th, d := h.svc.RefusalStats(); w != 7 || th != 2 || d != 0 {
		t.Errorf("stats: %d written, %d thinned, %d dropped; want 7, 2, 0", w, th, d)
	}
}

// TestRefusalBufferBounded: with the buffer full, a refused attempt is
// dropped and counted at once; the request is never held up.
func TestRefusalBufferBounded(t *testing.T) {
	h := newHarness(t, harnessConfig{refusalBuffer: 3})
	s := h.session(sessionOpts{online: 1})
	us := h.users(2, 5)
	h.mustBook(us[0], 0, s, "")
	h.clock.freeze(time.Now())
	_, err := h.book(us[1], 0, s, "")
	wantErr(t, "sold out", err, booking.ErrSoldOut)
	for i := range 5 { // five persons: none thinned
		req := booking.BookRequest{SessionID: s.ID, PatientID: us[1].patients[i].ID, Channel: booking.ChannelOnline}
		wantErr(t, "from memory", h.svc.KnownRefusalOf(us[1].actor, &req), booking.ErrSoldOut)
	}
	h.svc.FlushRefusals(h.ctx)
	if w, _, d := h.svc.RefusalStats(); w != 3 || d != 3 {
		t.Errorf("stats: %d written, %d dropped; want 3 written and 3 dropped for a buffer of 3", w, d)
	}
}
