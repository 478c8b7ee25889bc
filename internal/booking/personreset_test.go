package booking_test

import (
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestLinkedHolderResetsWithEitherCard: an account whose holder registered
// by passport, linked at the desk to the person's resident ID, has its
// password reset with the passport it names (and with the resident ID, the
// same person's card). Seen failing: the holder read the person's identity
// and the passport's own was not_account_holder.
func TestLinkedHolderResetsWithEitherCard(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	rid, pp := h.person("蒋十三"), h.passport("蒋十三")
	u := h.userOf(pp)
	clerk := h.staff(booking.RoleClerk)
	for _, card := range []booking.IdentityRequest{rid, pp} {
		_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: card})
		testenv.Must(t, err, "the desk verifies a card")
	}
	_, err := h.svc.LinkIdentities(h.ctx, clerk, booking.LinkRequest{Person: rid, Document: pp})
	testenv.Must(t, err, "the desk links the documents")
	for _, card := range []booking.IdentityRequest{pp, rid} {
		if _, err := h.svc.IssueResetCode(h.ctx, clerk, booking.ResetCodeRequest{IdentityRequest: card, AccountPhone: u.phone}); err != nil {
			t.Errorf("reset with the holder's %s: %v", card.IDType, err)
		}
	}
	other := h.passport("蒋十三")
	h.userOf(other)
	_, err = h.svc.IssueResetCode(h.ctx, clerk, booking.ResetCodeRequest{IdentityRequest: other, AccountPhone: u.phone})
	wantCode(t, "a namesake's passport resets the account", err, "not_account_holder")
}
