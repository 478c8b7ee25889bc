package booking_test

import (
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestBookingAfterDeskNameCorrection is the desk's open finding: a clerk's
// correction of a person's verified name carries the name to the account
// the desk bound as the person's self (carry_bound_self), but every
// instance's patient cache kept the old one until eviction, so the
// account's next booking was refused by SQL (identity_unverified: the old
// name is no longer the verified one) on every instance that had the
// patient cached — the correcting one too. An instance now reads the
// patient again when SQL refuses its cached name, and books under the
// corrected name.
func TestBookingAfterDeskNameCorrection(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	db := h.sql()
	clerk := h.staff(booking.RoleClerk)
	before := h.deskSession(deskOpts{dept: "Name fix before", online: 2})
	afterA := h.deskSession(deskOpts{dept: "Name fix A", online: 2})
	afterB := h.deskSession(deskOpts{dept: "Name fix B", online: 2, day: 1})
	second := h.stack.Instance(t, booking.Config{Now: h.clock.Now})

	typo := h.person("孙莉") // as the desk first read it, wrongly
	owner := h.userOf(typo)
	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: typo, AccountPhone: owner.phone, NumberRung: true})
	testenv.Must(t, err, "the desk verifies the person and binds their account")
	pid := owner.patients[0].ID
	book := func(svc *booking.Service, s *booking.Session) (booking.Booking, error) {
		return svc.Book(h.ctx, owner.actor, booking.BookRequest{SessionID: s.ID, PatientID: pid, Channel: booking.ChannelOnline})
	}
	// Both instances cache the patient under the name verified first.
	_, err = book(second, before)
	testenv.Must(t, err, "book on the second instance before the correction")
	_, err = h.svc.Patients(h.ctx, owner.actor)
	testenv.Must(t, err, "list the patients on the first instance")

	fixed := typo
	fixed.Name = "孙丽"
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: fixed, CorrectionReason: "a character typed wrong"})
	testenv.Must(t, err, "the desk corrects the name")

	for _, tt := range []struct {
		name string
		svc  *booking.Service
		s    *booking.Session
	}{{"the second instance", second, afterA}, {"the correcting instance", h.svc, afterB}} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := book(tt.svc, tt.s)
			if err != nil {
				t.Fatalf("the bound account books after the correction on %s: %v, want a booking", tt.name, err)
			}
			db.wantCount("the booking under the corrected name", 1,
				`SELECT count(*) FROM bookings b JOIN identities i ON i.id = b.identity_id WHERE b.id = $1 AND b.name_hash = i.name_hash AND b.status = 'confirmed'`, b.ID)
		})
	}
	h.checkClean()
}
