package booking_test

import (
	"fmt"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// staffConsentRow is what privacy_consents holds of a consent staff took.
type staffConsentRow struct {
	Account, Patient, Staff, Version, By, Channel string
}

func (h *harness) staffConsents(identityID string) []staffConsentRow {
	h.t.Helper()
	rows, err := h.stack.DB.Pool().Query(h.ctx, `SELECT COALESCE(account_id::TEXT, ''), COALESCE(patient_id::TEXT, ''), COALESCE(staff_id::TEXT, ''),
		notice_version, given_by, channel FROM privacy_consents WHERE identity_id = $1 ORDER BY given_at`, identityID)
	testenv.Must(h.t, err, "read consents")
	defer rows.Close()
	var out []staffConsentRow
	for rows.Next() {
		var c staffConsentRow
		testenv.Must(h.t, rows.Scan(&c.Account, &c.Patient, &c.Staff, &c.Version, &c.By, &c.Channel), "scan")
		out = append(out, c)
	}
	return out
}

// TestStaffBookingNeedsANewPersonsConsent (review21 H3, session 23): an
// operator or a clerk books a person not known yet only with the person's
// consent to the privacy notice (the notice read out, the form signed), a
// child under 14's given by a parent or guardian; it is recorded with the
// channel and the staff member, ids only. A known person is never refused
// for it, and nothing is written for a refused one.
func TestStaffBookingNeedsANewPersonsConsent(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	op := h.staffOf(booking.RoleOperator, h.hosp.ID)
	clerk := h.staffOf(booking.RoleClerk, h.hosp.ID)
	s := h.deskSession(deskOpts{phone: 5, onsite: 5})
	book := func(a booking.Actor, who booking.IdentityRequest, ch booking.Channel, c booking.ConsentRequest) (booking.Booking, error) {
		return h.svc.BookFor(h.ctx, a, booking.StaffBookRequest{IdentityRequest: who, SessionID: s.ID, Channel: ch,
			CallerPhone: "13700000042", Consent: c})
	}
	given := booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}
	identities := h.count(`SELECT count(*) FROM identities`)

	caller := h.person("郑大爷")
	for _, tc := range []struct {
		name    string
		consent booking.ConsentRequest
		want    *booking.Error
	}{
		{"no consent", booking.ConsentRequest{}, booking.ErrConsentRequired},
		{"an old notice", booking.ConsentRequest{Version: "2020-01-01"}, booking.ErrNoticeOutdated},
	} {
		_, err := book(op, caller, booking.ChannelPhone, tc.consent)
		wantErr(t, "a new caller with "+tc.name, err, tc.want)
	}
	if n := h.count(`SELECT count(*) FROM identities`); n != identities {
		t.Errorf("%d identities after the refusals, want %d: nothing is written for a refused person", n, identities)
	}
	b, err := book(op, caller, booking.ChannelPhone, given)
	testenv.Must(t, err, "book a new caller who agreed")
	if got, want := h.staffConsents(b.IdentityID), []staffConsentRow{{Staff: op.AccountID, Version: booking.PrivacyNoticeVersion,
		By: "holder", Channel: "phone"}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the caller's consents = %+v, want %+v", got, want)
	}

	t.Run("a known person without it", func(t *testing.T) {
		known := h.person("郑大妈")
		_, err := book(clerk, known, booking.ChannelOnsite, given)
		testenv.Must(t, err, "book them once, with consent")
		late := h.deskSession(deskOpts{dept: "Neurology", phone: 2})
		b, err := h.svc.BookFor(h.ctx, op, booking.StaffBookRequest{IdentityRequest: known, SessionID: late.ID,
			Channel: booking.ChannelPhone, CallerPhone: "13700000043"})
		testenv.Must(t, err, "a known person is booked without a consent this time")
		if got := h.staffConsents(b.IdentityID); len(got) != 1 || got[0].Channel != "desk" || got[0].Staff != clerk.AccountID {
			t.Errorf("the known person's consents = %+v, want the desk's one", got)
		}
	})

	t.Run("a phone waitlist place of a new person", func(t *testing.T) {
		full := h.deskSession(deskOpts{dept: "Dermatology", phone: 1})
		_, err := h.svc.BookFor(h.ctx, op, booking.StaffBookRequest{IdentityRequest: h.person("郑一"), SessionID: full.ID,
			Channel: booking.ChannelPhone, CallerPhone: "13700000044", Consent: given})
		testenv.Must(t, err, "fill the phone pool")
		newcomer := h.person("郑新")
		before := h.count(`SELECT count(*) FROM identities`)
		join := func(c booking.ConsentRequest) (booking.WaitlistEntry, error) {
			return h.svc.JoinWaitlistFor(h.ctx, op, booking.StaffWaitlistRequest{IdentityRequest: newcomer, SessionID: full.ID,
				CallerPhone: "13700000045", Consent: c})
		}
		_, err = join(booking.ConsentRequest{})
		wantErr(t, "a new caller's waitlist place without consent", err, booking.ErrConsentRequired)
		if n := h.count(`SELECT count(*) FROM identities`); n != before {
			t.Errorf("%d identities after the refusal, want %d", n, before)
		}
		e, err := join(given)
		testenv.Must(t, err, "a new caller's waitlist place with consent")
		if got := h.staffConsents(e.IdentityID); len(got) != 1 || got[0].Channel != "phone" || got[0].Staff != op.AccountID || got[0].By != "holder" {
			t.Errorf("the waitlisted caller's consents = %+v, want the operator's, phone", got)
		}
	})

	t.Run("a referrer's new resident", func(t *testing.T) {
		// The referral channel is asked as the phone is (session 25): the
		// referring doctor or carer relays the resident's consent.
		ref := h.staffOf(booking.RoleReferrer, h.hosp.ID)
		rs := h.deskSession(deskOpts{dept: "Geriatrics", referral: 3})
		resident := h.person("郑奶奶")
		before := h.count(`SELECT count(*) FROM identities`)
		refer := func(c booking.ConsentRequest) (booking.Booking, error) {
			return h.svc.BookFor(h.ctx, ref, booking.StaffBookRequest{IdentityRequest: resident, SessionID: rs.ID,
				Channel: booking.ChannelReferral, Consent: c})
		}
		_, err := refer(booking.ConsentRequest{})
		wantErr(t, "a new resident referred without consent", err, booking.ErrConsentRequired)
		_, err = refer(booking.ConsentRequest{Version: "2020-01-01"})
		wantErr(t, "a new resident referred on an old notice", err, booking.ErrNoticeOutdated)
		if n := h.count(`SELECT count(*) FROM identities`); n != before {
			t.Errorf("%d identities after the refusals, want %d: nothing is written for a refused resident", n, before)
		}
		if n := h.count(`SELECT count(*) FROM privacy_consents WHERE staff_id = $1`, ref.AccountID); n != 0 {
			t.Errorf("%d consents recorded for the referrer's refused bookings, want none", n)
		}
		b, err := refer(given)
		testenv.Must(t, err, "refer a new resident who agreed")
		if got, want := h.staffConsents(b.IdentityID), []staffConsentRow{{Staff: ref.AccountID, Version: booking.PrivacyNoticeVersion,
			By: "holder", Channel: "referral"}}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("the resident's consents = %+v, want %+v", got, want)
		}
		again := h.deskSession(deskOpts{dept: "Ophthalmology", day: 1, referral: 2})
		_, err = h.svc.BookFor(h.ctx, ref, booking.StaffBookRequest{IdentityRequest: resident, SessionID: again.ID, Channel: booking.ChannelReferral})
		testenv.Must(t, err, "a resident on file is referred without a consent this time")
		if got := h.staffConsents(b.IdentityID); len(got) != 1 {
			t.Errorf("the resident's consents after a second referral without one = %+v, want the first only", got)
		}
	})

	t.Run("a child under 14", func(t *testing.T) {
		now := time.Now().In(booking.StandInLocation())
		body := fmt.Sprintf("110105%s%03d", now.AddDate(-10, 0, 0).Format("20060102"), 100+h.seq.Add(1)%800)
		child := booking.IdentityRequest{IDType: "resident_id", IDNumber: body + string(identity.CheckDigit(body)), Name: "郑小宝"}
		_, err := book(clerk, child, booking.ChannelOnsite, given)
		wantErr(t, "a child without the guardian's consent", err, booking.ErrGuardianConsent)
		b, err := book(clerk, child, booking.ChannelOnsite, booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true})
		testenv.Must(t, err, "book a child with the guardian's consent")
		if got := h.staffConsents(b.IdentityID); len(got) != 1 || got[0].By != "guardian" || got[0].Channel != "desk" || got[0].Account != "" {
			t.Errorf("the child's consents = %+v, want the guardian's at the desk", got)
		}
	})
}
