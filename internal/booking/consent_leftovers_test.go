package booking_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// childTurning is a resident ID of a child who turns 14 in days days
// (China's calendar), and that day.
func (h *harness) childTurning(name string, days int) (booking.IdentityRequest, string) {
	birthday := time.Now().In(booking.StandInLocation()).AddDate(0, 0, days)
	body := fmt.Sprintf("110105%s%03d", birthday.AddDate(-identity.ChildAge, 0, 0).Format("20060102"), 100+h.seq.Add(1)%800)
	return booking.IdentityRequest{IDType: "resident_id", IDNumber: body + string(identity.CheckDigit(body)), Name: name},
		birthday.Format(time.DateOnly)
}

// addChild lists a child under 14 on u's list on the guardian's consent.
func (h *harness) addChild(u *user, who booking.IdentityRequest) booking.Patient {
	h.t.Helper()
	p, err := h.svc.AddPatient(h.ctx, u.actor, booking.AddPatientRequest{IDType: who.IDType, IDNumber: who.IDNumber, Name: who.Name,
		Relationship: "child", Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}}, booking.Origin{})
	testenv.Must(h.t, err, "list the child")
	u.patients = append(u.patients, p)
	return p
}

// consentDueOf is patients.consent_due_on of a row, "" for NULL.
func (h *harness) consentDueOf(patientID string) string {
	h.t.Helper()
	var due string
	testenv.Must(h.t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT COALESCE(consent_due_on::TEXT, '') FROM patients WHERE id = $1`, patientID).Scan(&due),
		"read the row's consent_due_on")
	return due
}

// TestChildConsentsAt14 (review21's open point, session 24): a child
// listed before 14 on a guardian's consent consents for themselves from
// the 14th birthday (个人信息保护法 art. 31), read from the resident ID's
// birth date. Until the birthday nothing is asked; from it, the listing
// account's booking or waitlist place of the child asks the holder to
// confirm the child's own consent (person_consent_required, nothing
// booked), records it (given_by person) and asks no more. Staff paths are
// never refused: a walk-in of the child is booked without it, and the
// child's own consent at the desk ends the ask on every account listing
// them.
func TestChildConsentsAt14(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	clerk := h.staffOf(booking.RoleClerk, h.hosp.ID)
	child, birthday := h.childTurning("周小雨", 10)
	family := h.userOf(h.person("周建国"))
	other := h.userOf(h.person("吴丽"))
	mine := h.addChild(&family, child)
	theirs := h.addChild(&other, child)
	if mine.ConsentDue != birthday || h.consentDueOf(mine.ID) != birthday {
		t.Fatalf("the child's listing asks from %q (stored %q), want the 14th birthday %s", mine.ConsentDue, h.consentDueOf(mine.ID), birthday)
	}
	adult := h.addMember(&family, h.person("周奶奶"), "", "parent")
	if adult.ConsentDue != "" {
		t.Errorf("an adult's listing asks from %q, want never", adult.ConsentDue)
	}
	sessions := []*booking.Session{
		h.deskSession(deskOpts{day: 12, online: 3, onsite: 3}),
		h.deskSession(deskOpts{day: 12, dept: "Neurology", online: 3, onsite: 3}),
		h.deskSession(deskOpts{day: 13, dept: "Dermatology", online: 3, onsite: 3}),
		h.deskSession(deskOpts{day: 14, dept: "Ophthalmology", online: 3, onsite: 3}),
	}
	book := func(u user, p booking.Patient, s *booking.Session, c booking.ConsentRequest) (booking.Booking, error) {
		return h.svc.Book(h.ctx, u.actor, booking.BookRequest{SessionID: s.ID, PatientID: p.ID, Channel: booking.ChannelOnline, Consent: c})
	}
	own := booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Person: true}

	t.Run("before the birthday nothing is asked", func(t *testing.T) {
		p, err := h.svc.ConfirmOwnConsent(h.ctx, family.actor, mine.ID, own)
		testenv.Must(t, err, "confirm before the birthday")
		if p.ConsentDue != birthday || h.consentDueOf(mine.ID) != birthday {
			t.Errorf("a confirmation before the birthday changed the ask: %q, stored %q", p.ConsentDue, h.consentDueOf(mine.ID))
		}
		if got := h.staffConsents(mine.IdentityID); len(got) != 2 || got[0].By != "guardian" || got[1].By != "guardian" {
			t.Errorf("the child's consents before the birthday = %+v, want the two guardians' only", got)
		}
	})

	defer h.clock.at(time.Now().AddDate(0, 0, 11))()
	bookings := h.count(`SELECT count(*) FROM bookings WHERE identity_id = $1`, mine.IdentityID)
	t.Run("from the birthday the listing account is asked", func(t *testing.T) {
		_, err := book(family, mine, sessions[0], booking.ConsentRequest{})
		wantErr(t, "a booking of the child, 14 now, without their own consent", err, booking.ErrPersonConsent)
		if fe, ok := booking.Public(err); !ok || fe.Field != "person_consent" {
			t.Errorf("the refusal %+v names no field person_consent", fe)
		}
		_, err = book(family, mine, sessions[0], booking.ConsentRequest{Person: true})
		wantErr(t, "the confirmation without the notice's version", err, booking.ErrConsentRequired)
		_, err = book(family, mine, sessions[0], booking.ConsentRequest{Version: "2020-01-01", Person: true})
		wantErr(t, "the confirmation of an old notice", err, booking.ErrNoticeOutdated)
		if n := h.count(`SELECT count(*) FROM bookings WHERE identity_id = $1`, mine.IdentityID); n != bookings {
			t.Errorf("%d bookings of the child after the refusals, want %d", n, bookings)
		}
		if got := h.staffConsents(mine.IdentityID); len(got) != 2 {
			t.Errorf("the refusals recorded consents: %+v", got)
		}
		_, err = h.svc.JoinWaitlist(h.ctx, family.actor, booking.JoinWaitlistRequest{SessionID: sessions[0].ID, PatientID: mine.ID})
		wantErr(t, "a waitlist place of the child without their own consent", err, booking.ErrPersonConsent)
		listed, err := h.svc.Patients(h.ctx, family.actor)
		testenv.Must(t, err, "list the family")
		for _, p := range listed {
			if p.ID == mine.ID && p.ConsentDue != birthday {
				t.Errorf("the family list shows the child's ask as %q, want %s (the prompt)", p.ConsentDue, birthday)
			}
		}
	})

	t.Run("the holder confirms the child's own consent with the booking", func(t *testing.T) {
		b, err := book(family, mine, sessions[0], own)
		testenv.Must(t, err, "book the child with their own consent")
		got := h.staffConsents(mine.IdentityID)
		if last := got[len(got)-1]; len(got) != 3 || last.By != "person" || last.Channel != "online" ||
			last.Account != family.actor.AccountID || last.Patient != mine.ID || last.Staff != "" {
			t.Errorf("the child's consents = %+v, want the person's own, online, of the family's listing", got)
		}
		if due := h.consentDueOf(mine.ID); due != "" {
			t.Errorf("the family's listing still asks from %s", due)
		}
		if due := h.consentDueOf(theirs.ID); due != birthday {
			t.Errorf("the other account's listing asks from %q, want %s still: the family spoke for its own listing", due, birthday)
		}
		_, err = book(family, mine, sessions[2], booking.ConsentRequest{})
		testenv.Must(t, err, "the next booking asks no more")
		if b.ID == "" {
			t.Error("no booking")
		}
	})

	t.Run("staff never refuse the child, and the desk's consent is the child's own", func(t *testing.T) {
		_, err := book(other, theirs, sessions[1], booking.ConsentRequest{})
		wantErr(t, "the other account, not confirmed yet", err, booking.ErrPersonConsent)
		_, err = h.svc.BookFor(h.ctx, clerk, booking.StaffBookRequest{IdentityRequest: child, SessionID: sessions[1].ID, Channel: booking.ChannelOnsite})
		testenv.Must(t, err, "a walk-in of the child without a consent this time (a person on file is never refused)")
		if due := h.consentDueOf(theirs.ID); due != birthday {
			t.Errorf("a walk-in without consent ended the ask (%q)", due)
		}
		_, err = h.svc.BookFor(h.ctx, clerk, booking.StaffBookRequest{IdentityRequest: child, SessionID: sessions[3].ID,
			Channel: booking.ChannelOnsite, Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}})
		testenv.Must(t, err, "a walk-in of the child who signs the notice")
		if due := h.consentDueOf(theirs.ID); due != "" {
			t.Errorf("the child's own consent at the desk left the other account's ask (%s)", due)
		}
		got := h.staffConsents(mine.IdentityID)
		if last := got[len(got)-1]; last.Channel != "desk" || last.Staff != clerk.AccountID || last.By != "holder" {
			t.Errorf("the desk's consent = %+v, want the child's own, by the clerk", last)
		}
		// The other account's instance cached the ask: it reads the row
		// again and books.
		_, err = h.svc.JoinWaitlist(h.ctx, other.actor, booking.JoinWaitlistRequest{SessionID: sessions[1].ID, PatientID: theirs.ID})
		if err != nil && strings.Contains(err.Error(), "person_consent") {
			t.Errorf("the other account is still asked after the desk's consent: %v", err)
		}
	})
}

// TestPersonLeavesAFamilyList (security.md's "Not covered here", session
// 24): a person whose identity is verified — online the account holding
// them as its verified self, at the desk their ID card — sees which other
// accounts list them as a family member (the account's number masked,
// what it calls them) and takes themselves off a list: audited, the
// listing account told in words it already held, its past bookings of the
// person kept. A listing with something pending is refused (cancel
// first); an unverified self sees nothing and removes nothing.
func TestPersonLeavesAFamilyList(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	clerk := h.staffOf(booking.RoleClerk, h.hosp.ID)
	op := h.staffOf(booking.RoleOperator, h.hosp.ID)
	me := h.person("林小梅")
	mine := h.userOf(me)
	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: me, AccountPhone: mine.phone, NumberRung: true})
	testenv.Must(t, err, "bind my account at the desk")
	aunt := h.userOf(h.person("林阿姨"))
	auntsRow := h.addMember(&aunt, me, "", "child")
	stranger := h.userOf(h.person("赵某"))
	strangersRow := h.addMember(&stranger, me, "", "other")
	unrelated := h.userOf(h.person("钱某"))
	unrelatedRow := h.addMember(&unrelated, h.person("钱小"), "", "child")
	s := h.deskSession(deskOpts{online: 3})

	ls, err := h.svc.ListedBy(h.ctx, mine.actor)
	testenv.Must(t, err, "list who lists me")
	if len(ls) != 2 || ls[0].ID != auntsRow.ID || ls[1].ID != strangersRow.ID || ls[0].Relationship != booking.RelChild {
		t.Fatalf("ListedBy = %+v, want the aunt's (child) and the stranger's listings", ls)
	}
	if ls[0].PhoneMasked == "" || strings.Contains(ls[0].PhoneMasked, aunt.phone) {
		t.Errorf("the aunt's account shows as %q, want her number masked", ls[0].PhoneMasked)
	}

	t.Run("an unverified self sees and removes nothing", func(t *testing.T) {
		ls, err := h.svc.ListedBy(h.ctx, aunt.actor)
		if err != nil || len(ls) != 0 {
			t.Errorf("the aunt's ListedBy = %+v, %v; want nothing", ls, err)
		}
		_, err = h.svc.LeaveListing(h.ctx, stranger.actor, auntsRow.ID)
		wantErr(t, "a removal by an account without a verified self", err, booking.ErrForbidden)
		_, err = h.svc.LeaveListing(h.ctx, mine.actor, unrelatedRow.ID)
		wantErr(t, "a removal from a listing of someone else", err, booking.ErrPatientNotFound)
		_, err = h.svc.DeskListedBy(h.ctx, op, me)
		wantErr(t, "an operator's desk read", err, booking.ErrForbidden)
	})

	b := h.mustBook(aunt, len(aunt.patients)-1, s, "")
	t.Run("a listing with a booking pending stays", func(t *testing.T) {
		_, err := h.svc.LeaveListing(h.ctx, mine.actor, auntsRow.ID)
		wantErr(t, "a removal while the aunt's booking of me is pending", err, booking.ErrPatientPending)
	})
	h.mustCancel(mine.actor, b.ID) // as the verified self, under "made for you"

	l, err := h.svc.LeaveListing(h.ctx, mine.actor, auntsRow.ID)
	testenv.Must(t, err, "take myself off the aunt's list")
	if l.ID != auntsRow.ID {
		t.Errorf("left %s, want the aunt's listing %s", l.ID, auntsRow.ID)
	}
	_, err = h.svc.LeaveListing(h.ctx, mine.actor, auntsRow.ID)
	wantErr(t, "the same removal again", err, booking.ErrPatientNotFound)
	if got := h.memberRow(auntsRow.ID); !got.Removed {
		t.Error("the aunt's row of me is not removed")
	}
	if _, err := h.book(aunt, len(aunt.patients)-1, s, ""); err == nil {
		t.Error("the aunt still books me after I left her list")
	}
	kept, err := h.svc.Bookings(h.ctx, aunt.actor)
	testenv.Must(t, err, "the aunt's bookings")
	if len(kept) != 1 || kept[0].ID != b.ID || kept[0].Status != booking.StatusCancelled {
		t.Errorf("the aunt's bookings after my leaving = %+v, want her past booking of me kept", kept)
	}
	var kind, body string
	testenv.Must(t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT kind, body FROM notifications WHERE account_id = $1 AND kind = 'listing_removed_by_person'`,
		aunt.actor.AccountID).Scan(&kind, &body), "read the aunt's notice")
	if !strings.Contains(body, auntsRow.MaskedName) || strings.Contains(body, me.Name) || strings.Contains(body, me.IDNumber) ||
		strings.Contains(body, mine.phone) || strings.Contains(body, mine.phone[len(mine.phone)-4:]) {
		t.Errorf("the aunt's notice %q: want my masked name as she listed it, nothing of mine beyond it", body)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'listing_removed_by_person' AND actor_id = $1 AND target = $2`,
		mine.actor.AccountID, "patient:"+auntsRow.ID); n != 1 {
		t.Errorf("%d audit rows of my leaving, want 1", n)
	}

	t.Run("at the desk with the card", func(t *testing.T) {
		wrong := me
		wrong.Name = "林小妹"
		_, err := h.svc.DeskListedBy(h.ctx, clerk, wrong)
		wantErr(t, "a card under another name than the verified one", err, booking.ErrVerifiedNameDiffers)
		ls, err := h.svc.DeskListedBy(h.ctx, clerk, me)
		testenv.Must(t, err, "the desk reads who lists me")
		if len(ls) != 1 || ls[0].ID != strangersRow.ID {
			t.Fatalf("DeskListedBy = %+v, want the stranger's listing only (my own account's self is not a listing)", ls)
		}
		if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'person_listings_read' AND actor_id = $1`, clerk.AccountID); n != 1 {
			t.Errorf("%d audit rows of the desk's read, want 1", n)
		}
		_, err = h.svc.DeskLeaveListing(h.ctx, clerk, me, strangersRow.ID)
		testenv.Must(t, err, "the desk takes me off the stranger's list")
		if n := h.count(`SELECT count(*) FROM notifications WHERE account_id = $1 AND kind = 'listing_removed_by_person'`, stranger.actor.AccountID); n != 1 {
			t.Errorf("the stranger got %d notices, want 1", n)
		}
		if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'listing_removed_by_person' AND actor_id = $1`, clerk.AccountID); n != 1 {
			t.Errorf("%d audit rows of the desk's removal, want 1", n)
		}
		if ls, _ := h.svc.ListedBy(h.ctx, mine.actor); len(ls) != 0 {
			t.Errorf("still listed by %+v", ls)
		}
	})
}
