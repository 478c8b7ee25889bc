package booking_test

import (
	"os"
	"strings"
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

// TestOldListingsAskAt14 (session 25): a listing made before 0084 has no
// 14th-birthday day on its row. Migration 0087 marks the rows that may need
// one, and FillConsentDue (serve's start) reads the birth date from the
// resident ID (sealed; the service's keys) and sets it: a child listed
// under 14 is asked from their birthday, at once when it has passed; an
// adult listed as one, a person whose own consent was recorded since the
// birthday, are not; every mark is cleared, and the filled day is what the
// next booking of the person asks by (the instance's cached listing too).
func TestOldListingsAskAt14(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	family := h.userOf(h.person("孙建国"))
	soon, birthday := h.childTurning("孙小雨", 20)
	young := h.addChild(&family, soon)
	past, passed := h.childTurning("孙小风", -300)
	grown := h.addChild(&family, past) // 14 now: listed as an adult today, as a child three years ago below
	signed, _ := h.childTurning("孙小云", -200)
	own := h.addChild(&family, signed)
	adult := h.addMember(&family, h.person("孙奶奶"), "", "parent")
	// The rows as a database before 0084 holds them: no day; the older
	// two listed three years ago, under 14 then. The third's own consent
	// was given at the desk after their birthday (a staff consent, 0084's
	// rule ended the ask then).
	h.exec(`UPDATE patients SET consent_due_on = NULL, consent_due_unread = NULL WHERE account_id = $1`, family.actor.AccountID)
	h.exec(`UPDATE patients SET created_at = created_at - INTERVAL '3 years' WHERE id IN ($1, $2)`, grown.ID, own.ID)
	h.exec(`UPDATE privacy_consents SET given_by = 'guardian', given_at = given_at - INTERVAL '3 years' WHERE patient_id IN ($1, $2)`, grown.ID, own.ID)
	h.exec(`INSERT INTO privacy_consents (id, identity_id, notice_version, given_by, channel, given_at)
		VALUES ($1, $2, $3, 'holder', 'desk', now() - INTERVAL '30 days')`, booking.NewID(), own.IdentityID, booking.PrivacyNoticeVersion)
	mark, err := os.ReadFile("../cockroach/migrations/0087_a_consent_due_unread.sql")
	testenv.Must(t, err, "read migration 0087")
	for _, stmt := range strings.Split(string(mark), ";\n") {
		if strings.TrimSpace(stripComments(stmt)) != "" {
			h.exec(stmt)
		}
	}
	marked := h.count(`SELECT count(*) FROM patients WHERE account_id = $1 AND consent_due_unread`, family.actor.AccountID)
	if marked < 3 {
		t.Fatalf("0087 marked %d of the family's listings, want the three children's at least", marked)
	}

	n, err := h.svc.FillConsentDue(h.ctx)
	testenv.Must(t, err, "fill the days")
	if n < marked {
		t.Errorf("filled %d listings, want the %d marked", n, marked)
	}
	for _, c := range []struct {
		what, id, want string
	}{
		{"a child turning 14 in 20 days", young.ID, birthday},
		{"a child listed at 11, 14 now", grown.ID, passed},
		{"a person whose own consent was given since", own.ID, ""},
		{"an adult", adult.ID, ""},
	} {
		if got := h.consentDueOf(c.id); got != c.want {
			t.Errorf("%s: consent_due_on = %q, want %q", c.what, got, c.want)
		}
	}
	if left := h.count(`SELECT count(*) FROM patients WHERE consent_due_unread`); left != 0 {
		t.Errorf("%d listings still marked after the fill", left)
	}
	s := h.deskSession(deskOpts{day: 1, online: 3})
	_, err = h.svc.Book(h.ctx, family.actor, booking.BookRequest{SessionID: s.ID, PatientID: grown.ID, Channel: booking.ChannelOnline})
	wantErr(t, "a booking of the old listing's child, 14 now, without their own consent", err, booking.ErrPersonConsent)
	_, err = h.svc.Book(h.ctx, family.actor, booking.BookRequest{SessionID: s.ID, PatientID: grown.ID, Channel: booking.ChannelOnline,
		Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Person: true}})
	testenv.Must(t, err, "the booking with the person's own consent")
	if got := h.consentDueOf(grown.ID); got != "" {
		t.Errorf("the old listing still asks from %s after the person's consent", got)
	}
	n, err = h.svc.FillConsentDue(h.ctx)
	if err != nil || n != 0 {
		t.Errorf("a second fill: %d (%v), want nothing left", n, err)
	}
}

// stripComments drops a migration's comment lines.
func stripComments(stmt string) string {
	var keep []string
	for _, l := range strings.Split(stmt, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestBindingsBeforeTheRuleAreListed (review24 H1, H2, L1; session 25):
// bindings made before the binding rule stand; a platform-wide
// administrator lists them, masked: a self bound with no ring recorded (a
// son's card that took his father's account, as the old desk did it), a
// self whose person the account also lists as family (another document,
// linked), a child as an account's self. A binding made with the number
// rung is not listed; nothing is unbound; hospital administrators and
// patients are refused.
func TestBindingsBeforeTheRuleAreListed(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	clerk := h.staff(booking.RoleClerk)
	admin := h.staff(booking.RoleAdmin)

	holder := h.person("韩梅")
	proved := h.userOf(holder)
	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: holder, AccountPhone: proved.phone, NumberRung: true})
	testenv.Must(t, err, "a binding with the number rung")

	// The father's account, its son bound as its self by the old desk:
	// the son's row made the bound self, the father's demoted to 其他,
	// the audit saying nothing of a ring.
	father := h.userOf(h.person("韩建国"))
	son := h.addMember(&father, h.person("韩小军"), "", "child")
	h.exec(`UPDATE patients SET is_self = false, relationship = 'other' WHERE id = $1`, father.patients[0].ID)
	h.exec(`UPDATE patients SET is_self = true, relationship = 'self', self_verified_at = now() - INTERVAL '90 days' WHERE id = $1`, son.ID)
	h.exec(`INSERT INTO audit_log (id, ts, actor_id, actor_role, action, target, reason, hospital_id)
		VALUES ($1, now() - INTERVAL '90 days', $2, 'clerk', 'identity_verified', $3, $4, $5)`, booking.NewID(), clerk.AccountID,
		"identity:"+son.IdentityID, "name read from the ID card; self of account "+father.actor.AccountID, h.hosp.ID)

	// An account whose self claimed online is, under another document of
	// theirs (linked at the desk), also listed as its child.
	first, second := h.passport("Li Ming"), h.passport("Li Ming")
	both := h.userOf(first)
	h.addMember(&both, second, "", "child")
	for _, doc := range []booking.IdentityRequest{first, second} {
		_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: doc})
		testenv.Must(t, err, "verify a passport")
	}
	_, err = h.svc.LinkIdentities(h.ctx, clerk, booking.LinkRequest{Person: first, Document: second})
	testenv.Must(t, err, "link the two passports")

	// A child of 8 as an account's self, claimed before the rule.
	y, m, d := yearsAgo(8)
	kid := h.userOf(h.person("韩大人"))
	child := h.addChild(&kid, h.born("韩小宝", y, m, d))
	h.exec(`UPDATE patients SET is_self = false, relationship = 'other' WHERE id = $1`, kid.patients[0].ID)
	h.exec(`UPDATE patients SET is_self = true, relationship = 'self' WHERE id = $1`, child.ID)

	got, err := h.svc.BindingsToReview(h.ctx, admin)
	testenv.Must(t, err, "list the bindings to review")
	byAccount := map[string]booking.BindingToReview{}
	for _, b := range got {
		byAccount[b.AccountID] = b
		for _, clear := range []string{father.phone, both.phone, kid.phone, proved.phone} {
			if b.PhoneMasked == clear {
				t.Errorf("a listed account's login is shown in clear")
			}
		}
	}
	if _, ok := byAccount[proved.actor.AccountID]; ok {
		t.Error("a binding made with the number rung is listed")
	}
	for _, c := range []struct {
		what                     string
		account, patient         string
		noRing, familyToo, minor bool
	}{
		{"the son bound as his father's account's self", father.actor.AccountID, son.ID, true, false, false},
		{"a self also listed as a child", both.actor.AccountID, both.patients[0].ID, false, true, false},
		{"a child as a self", kid.actor.AccountID, child.ID, false, false, true},
	} {
		b, ok := byAccount[c.account]
		switch {
		case !ok:
			t.Errorf("%s: not listed", c.what)
		case b.PatientID != c.patient || b.NoRing != c.noRing || b.FamilyToo != c.familyToo || b.Minor != c.minor:
			t.Errorf("%s: %+v, want patient %s, no ring %v, family too %v, minor %v", c.what, b, c.patient, c.noRing, c.familyToo, c.minor)
		case b.PhoneMasked == "" || b.IDMasked == "" || b.NameMasked == "":
			t.Errorf("%s: %+v, want the login, number and name masked", c.what, b)
		}
	}
	if n := h.count(`SELECT count(*) FROM patients WHERE id = $1 AND is_self AND self_verified_at IS NOT NULL`, son.ID); n != 1 {
		t.Error("the list unbound the son: nothing is unbound automatically")
	}
	_, err = h.svc.BindingsToReview(h.ctx, h.staffOf(booking.RoleAdmin, h.hosp.ID))
	wantErr(t, "a hospital's administrator", err, booking.ErrForbidden)
	_, err = h.svc.BindingsToReview(h.ctx, father.actor)
	wantErr(t, "a patient", err, booking.ErrForbidden)
}
