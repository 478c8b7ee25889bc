package booking_test

import (
	"fmt"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// born is a new resident ID of a person born on the given day (Beijing).
func (h *harness) born(name string, y int, m time.Month, d int) booking.IdentityRequest {
	first17 := "110105" + time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Format("20060102") + fmt.Sprintf("%03d", h.seq.Add(1)%1000)
	return booking.IdentityRequest{IDType: "resident_id", IDNumber: first17 + string(identity.CheckDigit(first17)), Name: name}
}

// yearsAgo is the birth day of someone who turned years old a month ago.
func yearsAgo(years int) (int, time.Month, int) {
	t := time.Now().In(shanghai).AddDate(-years, -1, 0)
	return t.Year(), t.Month(), t.Day()
}

// selfOf is the account's holder (本人) as its list reads: the row, and
// whether there is one.
func (h *harness) selfOf(u user) (booking.Patient, bool) {
	h.t.Helper()
	ps, err := h.svc.Patients(h.ctx, u.actor)
	testenv.Must(h.t, err, "list patients")
	for _, p := range ps {
		if p.IsSelf && !p.Removed {
			return p, true
		}
	}
	return booking.Patient{}, false
}

// TestFamilyMembersCardNeverTakesTheAccount is review24 H1 on the real path:
// a father's account names him as its holder (本人) and lists his adult son
// as 子女 child. The son, with his own card, gives the father's number at
// the desk as "my account". The desk must not make him the account's
// holder: not on the card alone, and not with the number rung either (a
// family member listed as such is not the holder). The father stays its
// holder, and the son's card gets no reset code and cannot close it.
func TestFamilyMembersCardNeverTakesTheAccount(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	clerk := h.staff(booking.RoleClerk)
	y, m, d := yearsAgo(76)
	father := h.born("赵大山", y, m, d)
	y, m, d = yearsAgo(18)
	son := h.born("张大明", y, m, d)
	fa := h.user(0)
	h.addPatient(&fa, father, true, "")
	h.addMember(&fa, son, "", "child")

	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: son, AccountPhone: fa.phone})
	wantCode(t, "the son's card binds his father's account on the card alone", err, "invalid_field")
	// The number rung: the father's phone rang in the son's hand (he
	// borrowed it), and still a child listed as such is not the holder.
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: son, AccountPhone: fa.phone, NumberRung: true})
	wantCode(t, "the son's card binds his father's account, the number rung", err, "listed_as_family")
	if self, ok := h.selfOf(fa); !ok || self.IdentityID != fa.patients[0].IdentityID {
		t.Errorf("the father's account's holder is now %+v (%v), want the father still", self, ok)
	}
	_, err = h.svc.IssueResetCode(h.ctx, clerk, booking.ResetCodeRequest{IdentityRequest: son, AccountPhone: fa.phone})
	wantErr(t, "the son's card asks for the father's reset code", err, booking.ErrNotAccountHolder)
	_, err = h.svc.CloseAccountAtDesk(h.ctx, clerk, booking.DeskCloseRequest{IdentityRequest: son, AccountPhone: fa.phone})
	wantErr(t, "the son's card closes the father's account", err, booking.ErrNotAccountHolder)
	if n := h.sql().count(`SELECT count(*) FROM password_reset_codes WHERE account_id = $1`, fa.actor.AccountID); n != 0 {
		t.Errorf("%d reset codes for the father's account, want none", n)
	}

	// Step 6: a holder the desk bound is never demoted, whatever the
	// account lists the other person as (here 其他 other, so the family
	// rule does not answer first).
	mother := h.person("王思雨")
	mu := h.user(0)
	h.addPatient(&mu, mother, true, "")
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: mother, AccountPhone: mu.phone, NumberRung: true})
	testenv.Must(t, err, "the mother binds her own account, her number rung in her hand")
	y, m, d = yearsAgo(14)
	daughter := h.born("张小红", y, m, d)
	h.addMember(&mu, daughter, "", "other")
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: daughter, AccountPhone: mu.phone, NumberRung: true})
	wantCode(t, "the daughter's card binds her mother's bound account", err, "holder_bound")
	if self, ok := h.selfOf(mu); !ok || self.IdentityID != mu.patients[0].IdentityID || !self.SelfVerified {
		t.Errorf("the mother's account's holder is now %+v (%v), want the mother, bound", self, ok)
	}
	_, err = h.svc.IssueResetCode(h.ctx, clerk, booking.ResetCodeRequest{IdentityRequest: daughter, AccountPhone: mu.phone})
	wantErr(t, "the daughter's card asks for her mother's reset code", err, booking.ErrNotAccountHolder)
	_, err = h.svc.IssueResetCode(h.ctx, clerk, booking.ResetCodeRequest{IdentityRequest: mother, AccountPhone: mu.phone})
	testenv.Must(t, err, "the mother's card asks for her own reset code")
}

// TestParentNeverBecomesTheChild is review24 H2 on the real path: mother and
// father both list their 16-year-old son as 子女; the father's account names
// no holder. The father brings the son's card to the desk and gives his own
// number: the desk must not make the son his account's holder. The father
// then sees nothing the mother booked for the son and cannot cancel it; her
// booking stays hers, confirmed.
func TestParentNeverBecomesTheChild(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	clerk := h.staff(booking.RoleClerk)
	y, m, d := yearsAgo(16)
	son := h.born("张小明", y, m, d)
	mother, father := h.user(0), h.user(0)
	h.addPatient(&mother, h.person("王丽"), true, "")
	h.addMember(&mother, son, "", "child")
	h.addMember(&father, son, "", "child")
	s := h.session(sessionOpts{dept: "Pediatrics", online: 5})
	mb := h.mustBook(mother, 1, s, "")

	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: son, AccountPhone: father.phone})
	wantCode(t, "the son's card binds the father's account on the card alone", err, "invalid_field")
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: son, AccountPhone: father.phone, NumberRung: true})
	wantCode(t, "the son's card binds the father's account, the number rung", err, "listed_as_family")
	if self, ok := h.selfOf(father); ok {
		t.Errorf("the father's account's holder is now %+v, want none", self)
	}
	if got := h.madeByOthers(father); len(got.Bookings) != 0 {
		t.Errorf("the father sees %d bookings the mother made for the son, want none", len(got.Bookings))
	}
	_, err = h.svc.Cancel(h.ctx, father.actor, mb.ID, booking.Origin{})
	wantErr(t, "the father cancels the mother's booking for the son", err, booking.ErrBookingNotFound)
	if b := h.stored(mb.ID); b.Status != booking.StatusConfirmed {
		t.Errorf("the mother's booking is %s, want confirmed", b.Status)
	}
}

// TestChildIsNeverAnAccountsSelf is review24 L1: an 8-year-old is never an
// account's holder (本人), online (even with guardian consent) or at the
// desk; the guardian adds the child as 子女.
func TestChildIsNeverAnAccountsSelf(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	y, m, d := yearsAgo(8)
	child := h.born("张小红", y, m, d)
	u := h.user(0)
	_, err := h.svc.AddPatient(h.ctx, u.actor, booking.AddPatientRequest{IDType: child.IDType, IDNumber: child.IDNumber, Name: child.Name,
		IsSelf: true, Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}}, booking.Origin{})
	wantCode(t, "an 8-year-old added as the account's self", err, "minor_not_self")
	if err == nil {
		return
	}
	_, err = h.svc.AddPatient(h.ctx, u.actor, booking.AddPatientRequest{IDType: child.IDType, IDNumber: child.IDNumber, Name: child.Name,
		Relationship: "child", Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}}, booking.Origin{})
	testenv.Must(t, err, "the guardian adds the 8-year-old as 子女")
	// At the desk neither: an account that lists nobody, the number rung.
	empty := h.user(0)
	_, err = h.svc.VerifyIdentity(h.ctx, h.staff(booking.RoleClerk), booking.VerifyRequest{IdentityRequest: child, AccountPhone: empty.phone, NumberRung: true})
	wantCode(t, "the desk binds an 8-year-old as an account's self", err, "minor_not_self")
	if _, ok := h.selfOf(empty); ok {
		t.Errorf("the account has a holder after the refusal, want none")
	}
}

// TestHolderBindsOwnAccountWithTheNumberRung: the honest paths of the desk
// binding (review24). A holder who claimed themselves online binds their
// own account with the number rung, and gets their reset code. An account
// whose online holder is someone else (a family member added as self by
// mistake) gets the person at the window, proved, as its holder: the one
// demoted stays on the list as 其他 other, the audit entry says the holder
// changed, and the account is told. A 15-year-old (14 or older) binds an
// account of their own that lists nobody.
func TestHolderBindsOwnAccountWithTheNumberRung(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	clerk := h.staff(booking.RoleClerk)
	own := h.person("周敏")
	u := h.user(0)
	h.addPatient(&u, own, true, "")
	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: own, AccountPhone: u.phone, NumberRung: true})
	testenv.Must(t, err, "the holder binds their own account")
	if self, ok := h.selfOf(u); !ok || !self.SelfVerified || self.IdentityID != u.patients[0].IdentityID {
		t.Errorf("the holder's own account's self = %+v (%v), want them, bound", self, ok)
	}
	_, err = h.svc.IssueResetCode(h.ctx, clerk, booking.ResetCodeRequest{IdentityRequest: own, AccountPhone: u.phone})
	testenv.Must(t, err, "the bound holder's reset code")

	wrong, real := h.person("吴刚"), h.person("吴强")
	v := h.user(0)
	h.addPatient(&v, wrong, true, "")
	h.addMember(&v, real, "", "other")
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: real, AccountPhone: v.phone, NumberRung: true})
	testenv.Must(t, err, "the person whose login it is binds it, replacing a holder never bound")
	ps, err := h.svc.Patients(h.ctx, v.actor)
	testenv.Must(t, err, "list")
	for _, p := range ps {
		switch p.IdentityID {
		case v.patients[0].IdentityID:
			if p.IsSelf || p.Relationship != booking.RelOther || p.Removed {
				t.Errorf("the demoted holder = %+v, want on the list as other", p)
			}
		case v.patients[1].IdentityID:
			if !p.IsSelf || !p.SelfVerified {
				t.Errorf("the proved person = %+v, want the bound self", p)
			}
		}
	}
	db := h.sql()
	db.wantCount("the audit entry of the binding says the holder changed", 1,
		`SELECT count(*) FROM audit_log WHERE action = 'identity_verified' AND reason LIKE '%the account''s holder changes%' AND strpos(reason, $1) > 0`,
		v.patients[0].ID)
	db.wantCount("the account's notice of its new holder", 1,
		`SELECT count(*) FROM notifications WHERE account_id = $1 AND kind = 'account_holder_changed'`, v.actor.AccountID)
	db.wantCount("no notice of a binding that changed no holder", 0,
		`SELECT count(*) FROM notifications WHERE account_id = $1 AND kind = 'account_holder_changed'`, u.actor.AccountID)

	y, m, d := yearsAgo(15)
	teen := h.born("李小雨", y, m, d)
	w := h.user(0)
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: teen, AccountPhone: w.phone, NumberRung: true})
	testenv.Must(t, err, "a 15-year-old binds an account of their own")
	if self, ok := h.selfOf(w); !ok || !self.SelfVerified {
		t.Errorf("the 15-year-old's account's self = %+v (%v), want them, bound", self, ok)
	}
}

// TestRenewedDocumentOfABoundHolderBindsOnceLinked: a bound holder's renewed
// passport is the same person, not another holder: bound before the desk
// links the two documents it is refused holder_bound (the desk cannot yet
// tell it from someone else's), once linked it binds, with the number rung,
// and no holder change is told.
func TestRenewedDocumentOfABoundHolderBindsOnceLinked(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	clerk := h.staff(booking.RoleClerk)
	old, renewed := h.passport("Anna Lee"), h.passport("Anna Lee")
	u := h.user(0)
	h.addPatient(&u, old, true, "")
	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: old, AccountPhone: u.phone, NumberRung: true})
	testenv.Must(t, err, "the holder binds her account with her old passport")
	h.addMember(&u, renewed, "", "other")
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: renewed, AccountPhone: u.phone, NumberRung: true})
	wantCode(t, "the renewed passport bound before the link", err, "holder_bound")
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: renewed})
	testenv.Must(t, err, "the desk verifies the renewed passport")
	_, err = h.svc.LinkIdentities(h.ctx, clerk, booking.LinkRequest{Person: old, Document: renewed})
	testenv.Must(t, err, "the desk links the two passports")
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: renewed, AccountPhone: u.phone, NumberRung: true})
	testenv.Must(t, err, "the renewed passport binds once linked")
	if self, ok := h.selfOf(u); !ok || self.ID != u.patients[1].ID || !self.SelfVerified {
		t.Errorf("the account's holder = %+v (%v), want the renewed passport, bound", self, ok)
	}
	h.sql().wantCount("no holder change told for the same person", 0,
		`SELECT count(*) FROM notifications WHERE account_id = $1 AND kind = 'account_holder_changed'`, u.actor.AccountID)
}
