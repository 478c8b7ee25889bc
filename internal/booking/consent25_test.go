package booking_test

import (
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// exec runs a statement on the test's database (a row as an old database
// would hold it).
func (h *harness) exec(query string, args ...any) {
	h.t.Helper()
	_, err := h.stack.DB.Pool().Exec(h.ctx, query, args...)
	testenv.Must(h.t, err, "exec %s", query)
}

// TestDeskBindingTakesTheHoldersConsent (session 25): the holder binding
// their own account at the window, with the card, is asked for their
// consent to the privacy notice as a walk-in is (the clerk has them sign
// and ticks): given, it is recorded in the binding's transaction as the
// account's (given_by holder, channel desk, the clerk) and ends the
// login's ask; a refused binding records nothing; the binding is never
// refused for want of it; a 14-year-old's own, given at their binding,
// ends the ask of the family listing them.
func TestDeskBindingTakesTheHoldersConsent(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	clerk := h.staff(booking.RoleClerk)
	given := booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}
	own := h.person("钱明")
	u := h.user(0)
	h.addPatient(&u, own, true, "")
	// An account made before consents were recorded: asked at its login.
	h.exec(`UPDATE accounts SET privacy_consent_version = NULL WHERE id = $1`, u.actor.AccountID)
	deskConsents := func(accountID string) int {
		return h.count(`SELECT count(*) FROM privacy_consents WHERE account_id = $1 AND channel = 'desk'`, accountID)
	}

	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: own, AccountPhone: u.phone, Consent: given})
	wantErr(t, "a binding without the number rung", err, booking.ErrInvalidField)
	if n := deskConsents(u.actor.AccountID); n != 0 {
		t.Errorf("%d consents recorded by a refused binding, want none", n)
	}
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: own, Consent: given})
	wantErr(t, "a consent without a binding", err, booking.ErrInvalidField)

	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: own, AccountPhone: u.phone, NumberRung: true, Consent: given})
	testenv.Must(t, err, "the holder binds their account and signs the notice")
	var by, channel, staff, identityID, version string
	testenv.Must(t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT given_by, channel, COALESCE(staff_id::TEXT, ''), COALESCE(identity_id::TEXT, ''),
		notice_version FROM privacy_consents WHERE account_id = $1 AND channel = 'desk' AND patient_id IS NULL`, u.actor.AccountID).
		Scan(&by, &channel, &staff, &identityID, &version), "the binding's consent")
	if by != "holder" || channel != "desk" || staff != clerk.AccountID || identityID != u.patients[0].IdentityID || version != booking.PrivacyNoticeVersion {
		t.Errorf("the binding's consent = %s %s by %s of %s, version %s; want holder, desk, the clerk, the holder's identity, %s",
			by, channel, staff, identityID, version, booking.PrivacyNoticeVersion)
	}
	if n := h.count(`SELECT count(*) FROM accounts WHERE id = $1 AND privacy_consent_version = $2`, u.actor.AccountID, booking.PrivacyNoticeVersion); n != 1 {
		t.Error("the account's consent version is not the notice's after the desk recorded it: its login would ask again")
	}
	if tok, err := h.svc.Login(h.ctx, u.phone, password, booking.Origin{}); err != nil || tok.ConsentNeeded {
		t.Errorf("the login after the desk's consent: needed %v (%v), want not asked", tok.ConsentNeeded, err)
	}

	t.Run("never refused without it", func(t *testing.T) {
		v := h.user(0)
		other := h.person("钱亮")
		h.addPatient(&v, other, true, "")
		_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: other, AccountPhone: v.phone, NumberRung: true})
		testenv.Must(t, err, "a binding without the consent")
		if n := deskConsents(v.actor.AccountID); n != 0 {
			t.Errorf("%d consents recorded for a binding without one, want none", n)
		}
	})

	t.Run("a 14-year-old's own ends the family's ask", func(t *testing.T) {
		teen, birthday := h.childTurning("钱小雨", 3)
		family := h.userOf(h.person("钱建国"))
		listed := h.addChild(&family, teen)
		defer h.clock.at(time.Now().AddDate(0, 0, 4))()
		if h.consentDueOf(listed.ID) != birthday {
			t.Fatalf("the family's listing asks from %q, want %s", h.consentDueOf(listed.ID), birthday)
		}
		w := h.user(0)
		_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: teen, AccountPhone: w.phone, NumberRung: true, Consent: given})
		testenv.Must(t, err, "the 14-year-old binds their own account and signs")
		if due := h.consentDueOf(listed.ID); due != "" {
			t.Errorf("the family's listing still asks from %s after the person's own consent at the desk", due)
		}
	})
}
