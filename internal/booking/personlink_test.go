package booking_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// passport is a passport of its own for a test person.
func (h *harness) passport(name string) booking.IdentityRequest {
	return booking.IdentityRequest{IDType: "passport", IDNumber: fmt.Sprintf("E%08d", h.seq.Add(1)), Name: name}
}

// TestOneAccountOneNameEntersADrawOnce is review17 M4 before any desk
// visit: one account holds one person twice — 张三 by resident ID and 张三
// by passport — and enters the draw for both. The second entry is refused
// person_already_entered; the near miss, two members of other names, enter
// both.
func TestOneAccountOneNameEntersADrawOnce(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	draw := h.lotterySession(lotteryOpts{online: 2, dept: "Neurology"})
	u := h.userOf(h.person("张三"), h.passport("张三"), h.passport("李四"))
	h.mustEnter(u, 0, draw)
	_, err := h.enter(u, 1, draw, "")
	wantCode(t, "the same name by passport enters the draw the resident ID entered", err, "person_already_entered")
	if _, err := h.enter(u, 2, draw, ""); err != nil {
		t.Errorf("a member of another name enters the draw: %v", err)
	}
	if n := h.count(`SELECT count(*) FROM lottery_entries WHERE session_id = $1 AND status = 'entered'`, draw.ID); n != 2 {
		t.Errorf("live entries of the draw = %d, want 2 (张三 once, 李四)", n)
	}
}

// TestDeskLinkLeavesOneEntry is review17 M4 across accounts: one person is
// entered in one draw by resident ID from one account and by passport from
// another. The desk verifies both cards and links them: the later entry is
// withdrawn (documents_linked, audited as the clerk's, its maker told), one
// stands, and the person enters no more under either document. A link of
// documents whose verified names differ, or of an unverified one, is
// refused.
func TestDeskLinkLeavesOneEntry(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	draw := h.lotterySession(lotteryOpts{online: 3, dept: "Neurology"})
	later := h.lotterySession(lotteryOpts{online: 3, dept: "Dermatology", period: "afternoon"})
	rid, pp := h.person("王五"), h.passport("王五")
	home, abroad := h.userOf(rid), h.userOf(pp)
	first := h.mustEnter(home, 0, draw)
	second := h.mustEnter(abroad, 0, draw)

	clerk := h.staff(booking.RoleClerk)
	_, err := h.svc.LinkIdentities(h.ctx, clerk, booking.LinkRequest{Person: rid, Document: pp})
	wantCode(t, "a link before the names are verified", err, "link_unverified")
	for _, card := range []booking.IdentityRequest{rid, pp} {
		_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: card})
		testenv.Must(t, err, "the desk verifies a card")
	}
	other := h.passport("赵六")
	h.userOf(other)
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: other})
	testenv.Must(t, err, "the desk verifies another's card")
	_, err = h.svc.LinkIdentities(h.ctx, clerk, booking.LinkRequest{Person: rid, Document: other})
	wantCode(t, "a link of two verified names that differ", err, "link_names_differ")
	if _, err := h.svc.LinkIdentities(h.ctx, h.staff(booking.RoleOperator), booking.LinkRequest{Person: rid, Document: pp}); !errors.Is(err, booking.ErrForbidden) {
		t.Errorf("an operator links documents: %v, want forbidden", err)
	}

	_, err = h.svc.LinkIdentities(h.ctx, clerk, booking.LinkRequest{Person: rid, Document: pp})
	testenv.Must(t, err, "the desk links the passport to the person")

	if n := h.count(`SELECT count(*) FROM lottery_entries WHERE session_id = $1 AND status = 'entered'`, draw.ID); n != 1 {
		t.Errorf("live entries of the draw after the link = %d, want 1", n)
	}
	if n := h.count(`SELECT count(*) FROM lottery_entries WHERE id = $1 AND status = 'entered'`, first.ID); n != 1 {
		t.Errorf("the earlier entry is not the one kept")
	}
	if n := h.count(`SELECT count(*) FROM booking_events WHERE type = 'cancelled' AND booking_id = $1 AND reason = 'documents_linked'
		AND staff_id = $2`, second.ID, clerk.AccountID); n != 1 {
		t.Errorf("documents_linked withdrawal events of the later entry = %d, want 1", n)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE target = $1 AND actor_id = $2 AND reason LIKE '%documents_linked%'`,
		"lottery_entry:"+second.ID, clerk.AccountID); n != 1 {
		t.Errorf("audit entries of the withdrawal = %d, want 1", n)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_linked' AND actor_id = $1`, clerk.AccountID); n < 1 {
		t.Errorf("no identity_linked audit entry")
	}
	// Linked, the passport is the person: it enters no draw the resident
	// ID entered, and one entry more for either is one per draw (the
	// uniform answer: the entry is another account's).
	_, err = h.enter(abroad, 0, draw, "")
	wantUniform(t, "the passport enters the draw again after the link", err)
	h.mustEnter(abroad, 0, later)
	_, err = h.enter(home, 0, later, "")
	wantUniform(t, "the resident ID enters the draw the passport entered", err)

	_, err = h.svc.NotifyEvents(h.ctx)
	testenv.Must(t, err, "notify")
	ns, _, err := h.svc.MyNotifications(h.ctx, abroad.actor)
	testenv.Must(t, err, "notifications")
	told := false
	for _, n := range ns {
		told = told || n.BookingID == second.ID && (strings.Contains(n.Body, "同一人") || strings.Contains(n.Body, "one person"))
	}
	if !told {
		t.Errorf("the passport's account was not told of the withdrawn entry: %+v", ns)
	}
}

// TestLinkedDocumentsShareQuotas: a person books two clinics on one day by
// resident ID, and by passport from another account the same clinic's
// department that day. The link cancels the later booking (one a visit day
// and department), and from then on the passport books within the person's
// quotas: a third booking that day is refused by admission (the per-day quota, answered person_booked_elsewhere as the bookings are another account's), and
// SQL holds one active booking of the person a day and department.
func TestLinkedDocumentsShareQuotas(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	morning := h.session(sessionOpts{online: 3, dept: "Dermatology"})
	afternoon := h.session(sessionOpts{online: 3, dept: "Orthopedics", period: "afternoon"})
	again := h.session(sessionOpts{online: 3, dept: "Dermatology", period: "evening"})
	third := h.session(sessionOpts{online: 3, dept: "Urology", period: "evening"})
	rid, pp := h.person("孙七"), h.passport("孙七")
	home, abroad := h.userOf(rid), h.userOf(pp)
	h.mustBook(home, 0, morning, "")
	h.mustBook(home, 0, afternoon, "")
	dup := h.mustBook(abroad, 0, again, "") // before the link: another document, another person
	// The day after, the passport holds one clinic: kept by the link, it
	// counts toward the person's day from then on (its hold moves in
	// Redis to the person's key).
	d2 := h.day.AddDate(0, 0, 1)
	kept := h.mustBook(abroad, 0, h.session(sessionOpts{online: 3, dept: "Dermatology", day: d2}), "")
	d2b := h.session(sessionOpts{online: 3, dept: "Orthopedics", day: d2, period: "afternoon"})
	d2c := h.session(sessionOpts{online: 3, dept: "Urology", day: d2, period: "evening"})

	clerk := h.staff(booking.RoleClerk)
	for _, card := range []booking.IdentityRequest{rid, pp} {
		_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: card})
		testenv.Must(t, err, "the desk verifies a card")
	}
	_, err := h.svc.LinkIdentities(h.ctx, clerk, booking.LinkRequest{Person: rid, Document: pp})
	testenv.Must(t, err, "the desk links the documents")

	got, err := h.svc.Booking(h.ctx, abroad.actor, dup.ID)
	testenv.Must(t, err, "the passport's account reads its booking")
	if got.Status != booking.StatusCancelled || got.LateCancel {
		t.Errorf("the later booking that day in dermatology = %s (late %v), want cancelled, not late", got.Status, got.LateCancel)
	}
	if n := h.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled' AND late_cancel`, dup.ID); n != 0 {
		t.Errorf("the link's cancellation counts as late")
	}
	// The third clinic breaks only the per-day quota (2), counting the
	// resident ID's two bookings: the uniform answer, as they are another
	// account's.
	_, err = h.book(abroad, 0, third, "")
	wantUniform(t, "the passport books a third clinic that day", err)
	if n := h.count(`SELECT count(*) FROM bookings b JOIN identities i ON i.id = b.identity_id
		WHERE i.id_hash = $1 AND b.status = 'confirmed' AND b.visit_date = $2::DATE`, h.idHash(rid), h.date); n != 2 {
		t.Errorf("the person's active bookings on the first day = %d, want 2", n)
	}
	_, err = h.book(abroad, 0, again, "")
	if err == nil {
		t.Errorf("the passport books dermatology again that day after the link")
	}
	if got, err := h.svc.Booking(h.ctx, abroad.actor, kept.ID); err != nil || got.Status != booking.StatusConfirmed {
		t.Errorf("the passport's booking the day after = %+v, %v; want it kept", got, err)
	}
	h.mustBook(home, 0, d2b, "")
	_, err = h.book(home, 0, d2c, "")
	wantUniform(t, "the resident ID books a third clinic the day the passport holds one", err)
}

// TestNamesakesOfOtherDocumentsAreTwoWithoutALink: the near miss across
// accounts — two people of one name, one by resident ID, one by passport,
// in two accounts, are two people until the desk links them.
func TestNamesakesOfOtherDocumentsAreTwoWithoutALink(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	draw := h.lotterySession(lotteryOpts{online: 2, dept: "Neurology"})
	h.mustEnter(h.userOf(h.person("周八")), 0, draw)
	if _, err := h.enter(h.userOf(h.passport("周八")), 0, draw, ""); err != nil {
		t.Errorf("a namesake of another account enters: %v", err)
	}
}

// TestLinkedDocumentChecksIn: a booking the passport made before the link
// is the person's after it, and the passport (the card its maker booked
// with) checks it in, as the resident ID does; a stranger's card does not.
func TestLinkedDocumentChecksIn(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	s := h.session(sessionOpts{online: 2, dept: "Dermatology"})
	rid, pp := h.person("钱九"), h.passport("钱九")
	h.userOf(rid)
	b := h.mustBook(h.userOf(pp), 0, s, "")
	clerk := h.staff(booking.RoleClerk)
	for _, card := range []booking.IdentityRequest{rid, pp} {
		_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: card})
		testenv.Must(t, err, "the desk verifies a card")
	}
	_, err := h.svc.LinkIdentities(h.ctx, clerk, booking.LinkRequest{Person: rid, Document: pp})
	testenv.Must(t, err, "the desk links the documents")
	defer h.clock.at(s.StartsAt.Add(-30 * time.Minute))()
	_, err = h.svc.CheckIn(h.ctx, clerk, booking.CheckInRequest{BookingID: b.ID, IdentityRequest: h.passport("钱九")})
	wantCode(t, "another passport of the name checks the booking in", err, "identity_mismatch")
	in, err := h.svc.CheckIn(h.ctx, clerk, booking.CheckInRequest{BookingID: b.ID, IdentityRequest: pp})
	testenv.Must(t, err, "the passport checks in the booking it made, linked")
	if in.Status != booking.StatusCheckedIn {
		t.Errorf("status after check-in = %s, want checked_in", in.Status)
	}
}
