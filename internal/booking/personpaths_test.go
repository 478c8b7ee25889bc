package booking_test

import (
	"slices"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// linkedPerson is one person the desk knows under two documents: a
// resident ID (the person's) and a passport linked to it, both verified
// from the cards. It returns the cards, the clerk who linked them and the
// person's identity id (the resident ID's row).
func (h *harness) linkedPerson(name string) (rid, pp booking.IdentityRequest, clerk booking.Actor, personID string) {
	h.t.Helper()
	rid, pp = h.person(name), h.passport(name)
	clerk = h.staff(booking.RoleClerk)
	for _, card := range []booking.IdentityRequest{rid, pp} {
		_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: card})
		testenv.Must(h.t, err, "the desk verifies a card")
	}
	_, err := h.svc.LinkIdentities(h.ctx, clerk, booking.LinkRequest{Person: rid, Document: pp})
	testenv.Must(h.t, err, "the desk links the documents")
	testenv.Must(h.t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT id::TEXT FROM identities WHERE id_hash = $1`, h.idHash(rid)).Scan(&personID),
		"read the person's identity")
	return rid, pp, clerk, personID
}

// storedUnder is the identity id a booking, entry or waitlist place
// is stored under.
func (h *harness) storedUnder(table, id string) string {
	h.t.Helper()
	var got string
	testenv.Must(h.t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT identity_id::TEXT FROM `+table+` WHERE id = $1`, id).Scan(&got),
		"read the identity of %s %s", table, id)
	return got
}

// TestLinkedDocumentWalksInAsThePerson: once the desk linked a passport to
// the person known by resident ID, a walk-in with the passport is the
// person — it books within the person's rules (one booking a visit day and
// department: the resident ID's booking that morning refuses the
// passport's walk-in in the same department that afternoon), its booking
// is stored under the person, and the desk's lookup of the passport lists
// the person's bookings. Seen failing: the walk-in was booked under the
// passport's own identity, beside the resident ID's booking.
func TestLinkedDocumentWalksInAsThePerson(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	morning := h.deskSession(deskOpts{dept: "Dermatology", online: 2, onsite: 2})
	afternoon := h.deskSession(deskOpts{dept: "Dermatology", period: "afternoon", onsite: 2})
	evening := h.deskSession(deskOpts{dept: "Orthopedics", period: "evening", onsite: 2})
	rid, pp, clerk, personID := h.linkedPerson("冯十")
	home := h.userOf(rid)
	mine := h.mustBook(home, 0, morning, "")

	_, err := h.staffBook(clerk, pp, afternoon, booking.ChannelOnsite, "")
	if err == nil {
		t.Errorf("the linked passport walks in to dermatology the afternoon the resident ID holds its morning")
	}
	b := h.mustWalkIn(clerk, pp, evening)
	if got := h.storedUnder("bookings", b.ID); got != personID {
		t.Errorf("the passport's walk-in is stored under identity %s, want the person's %s", got, personID)
	}
	l, err := h.svc.LookupIdentity(h.ctx, clerk, booking.DeskLookupRequest{IDType: pp.IDType, IDNumber: pp.IDNumber, Check: booking.CheckCardShown})
	testenv.Must(t, err, "the desk looks the passport up")
	for _, want := range []string{mine.ID, b.ID} {
		if !slices.ContainsFunc(l.Bookings, func(x booking.Booking) bool { return x.ID == want }) {
			t.Errorf("the lookup of the linked passport misses the person's booking %s: %+v", want, l.Bookings)
		}
	}
	if l.Identity.IDType != "passport" {
		t.Errorf("the lookup shows the %s, want the passport the clerk looked up", l.Identity.IDType)
	}
	// Either card checks the walk-in in.
	defer h.clock.at(evening.StartsAt.Add(-30 * time.Minute))()
	in, err := h.svc.CheckIn(h.ctx, clerk, booking.CheckInRequest{BookingID: b.ID, IdentityRequest: rid})
	testenv.Must(t, err, "the resident ID checks in the passport's walk-in")
	if in.Status != booking.StatusCheckedIn {
		t.Errorf("status after check-in = %s, want checked_in", in.Status)
	}
}

// TestLinkedDocumentCallsAsThePerson: the phone channel takes a linked
// passport as the person — an operator's booking in the department the
// resident ID holds that day is refused, one elsewhere is stored under the
// person; the caller's entry in a draw the resident ID entered online is
// refused (one entry a person a draw); a waitlist place is the person's;
// and an operator's lookup of the caller by passport lists the bookings
// made on the call. Seen failing: each was the passport's own.
func TestLinkedDocumentCallsAsThePerson(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	morning := h.deskSession(deskOpts{day: 1, dept: "Dermatology", online: 2, phone: 2})
	afternoon := h.deskSession(deskOpts{day: 1, dept: "Dermatology", period: "afternoon", phone: 2})
	evening := h.deskSession(deskOpts{day: 1, dept: "Orthopedics", period: "evening", phone: 2})
	full := h.deskSession(deskOpts{day: 2, dept: "Urology", phone: 1})
	draw := h.lotterySession(lotteryOpts{online: 2, phone: 2, dept: "Neurology"})
	rid, pp, _, personID := h.linkedPerson("褚十一")
	home := h.userOf(rid)
	h.mustEnter(home, 0, draw)
	op := h.staff(booking.RoleOperator)
	const line = "13700002222"

	r, err := h.svc.AttemptFor(h.ctx, op, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: pp, SessionID: draw.ID,
		Channel: booking.ChannelPhone, CallerPhone: line})
	if err == nil {
		t.Errorf("the linked passport enters by phone the draw the resident ID entered online: %+v", r.Entry)
	}

	h.mustBook(home, 0, morning, "")
	_, err = h.staffBook(op, pp, afternoon, booking.ChannelPhone, line)
	if err == nil {
		t.Errorf("the linked passport books by phone dermatology the afternoon the resident ID holds its morning")
	}
	b, err := h.staffBook(op, pp, evening, booking.ChannelPhone, line)
	testenv.Must(t, err, "the passport books orthopedics by phone")
	if got := h.storedUnder("bookings", b.ID); got != personID {
		t.Errorf("the passport's phone booking is stored under identity %s, want the person's %s", got, personID)
	}

	_, err = h.staffBook(op, h.person("卫十二"), full, booking.ChannelPhone, "13600000002")
	testenv.Must(t, err, "fill the phone pool")
	place, err := h.svc.JoinWaitlistFor(h.ctx, op, booking.StaffWaitlistRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IdentityRequest: pp, SessionID: full.ID, CallerPhone: line})
	testenv.Must(t, err, "the passport waits by phone")
	if got := h.storedUnder("waitlist", place.ID); got != personID {
		t.Errorf("the passport's waiting place is stored under identity %s, want the person's %s", got, personID)
	}
	if _, err := h.svc.JoinWaitlistFor(h.ctx, op, booking.StaffWaitlistRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IdentityRequest: rid, SessionID: full.ID, CallerPhone: line}); err == nil {
		t.Errorf("the resident ID takes a second waiting place in the session the passport waits in")
	}

	l, err := h.svc.LookupCaller(h.ctx, op, pp, line, booking.CheckSpoken)
	testenv.Must(t, err, "the operator looks the caller up by passport")
	if !l.FromCaller[b.ID] {
		t.Errorf("the caller's lookup by passport does not hold the booking made on the call: %+v", l.Bookings)
	}
}

// TestOtherInstanceFollowsTheLinkWithinAWatch: an instance that cached the
// passport's member before another instance linked it still counted it as
// a person of its own — the passport's account booked there the
// department the resident ID holds that day. Its next link watch (every
// second, with the catalog's: WatchLinks) forgets its cached patients, and
// the member reads as the person: refused. Seen failing: the watch did not
// see the link and the second booking was made.
func TestOtherInstanceFollowsTheLinkWithinAWatch(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	morning := h.deskSession(deskOpts{dept: "Dermatology", online: 2})
	afternoon := h.deskSession(deskOpts{dept: "Dermatology", period: "afternoon", online: 2})
	second := h.stack.Instance(t, booking.Config{Now: h.clock.Now})
	rid, pp := h.person("沈十四"), h.passport("沈十四")
	home, abroad := h.userOf(rid), h.userOf(pp)
	_, err := second.Patients(h.ctx, abroad.actor)
	testenv.Must(t, err, "the second instance caches the passport's member")
	_, err = second.WatchLinks(h.ctx)
	testenv.Must(t, err, "the second instance's link watch before the link")
	h.mustBook(home, 0, morning, "")

	clerk := h.staff(booking.RoleClerk)
	for _, card := range []booking.IdentityRequest{rid, pp} {
		_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: card})
		testenv.Must(t, err, "the desk verifies a card")
	}
	_, err = h.svc.LinkIdentities(h.ctx, clerk, booking.LinkRequest{Person: rid, Document: pp})
	testenv.Must(t, err, "the desk links the documents on the first instance")

	seen, err := second.WatchLinks(h.ctx)
	testenv.Must(t, err, "the second instance's link watch")
	if !seen {
		t.Errorf("the second instance's watch did not see the link")
	}
	b, err := second.Book(h.ctx, abroad.actor, booking.BookRequest{SessionID: afternoon.ID, PatientID: abroad.patients[0].ID,
		Channel: booking.ChannelOnline})
	if err == nil {
		t.Errorf("the passport's account books dermatology on the second instance the afternoon the person holds its morning: %s", b.ID)
	}
}

// TestLinkAgainMovesWhatTheWindowMade: in the second before another
// instance's link watch, that instance books for the linked passport's
// member under the document (its cached patient). The same link again
// moves that booking onto the person, so it counts and lists as the
// person's. Seen failing: a repeat of a link committed before moved
// nothing.
func TestLinkAgainMovesWhatTheWindowMade(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	s := h.deskSession(deskOpts{dept: "Dermatology", online: 2})
	second := h.stack.Instance(t, booking.Config{Now: h.clock.Now})
	rid, pp := h.person("韩十五"), h.passport("韩十五")
	h.userOf(rid)
	abroad := h.userOf(pp)
	_, err := second.Patients(h.ctx, abroad.actor)
	testenv.Must(t, err, "the second instance caches the passport's member")
	clerk := h.staff(booking.RoleClerk)
	for _, card := range []booking.IdentityRequest{rid, pp} {
		_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: card})
		testenv.Must(t, err, "the desk verifies a card")
	}
	link := booking.LinkRequest{Person: rid, Document: pp}
	_, err = h.svc.LinkIdentities(h.ctx, clerk, link)
	testenv.Must(t, err, "the desk links the documents")
	var personID string
	testenv.Must(t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT id::TEXT FROM identities WHERE id_hash = $1`, h.idHash(rid)).Scan(&personID),
		"read the person's identity")

	late, err := second.Book(h.ctx, abroad.actor, booking.BookRequest{SessionID: s.ID, PatientID: abroad.patients[0].ID,
		Channel: booking.ChannelOnline})
	testenv.Must(t, err, "the second instance books before its watch")
	if h.storedUnder("bookings", late.ID) == personID {
		t.Fatalf("the second instance (no jobs run in a test) booked under the person before its watch: no window to repair")
	}
	_, err = h.svc.LinkIdentities(h.ctx, clerk, link)
	testenv.Must(t, err, "the desk links the documents again")
	if got := h.storedUnder("bookings", late.ID); got != personID {
		t.Errorf("the booking made in the window is under identity %s after the link again, want the person's %s", got, personID)
	}
}

// TestLinkedWalkInReplays: a walk-in booked with a passport before the
// desk linked it to the person is the person's after the link (its row
// moved); the same request again (its Idempotency-Key, the same card)
// answers that booking, not idempotency_key_reused. Seen failing: the
// replay compared the card's own key with the booking's, now the person's.
func TestLinkedWalkInReplays(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	s := h.deskSession(deskOpts{dept: "Dermatology", onsite: 2})
	rid, pp := h.person("杨十六"), h.passport("杨十六")
	clerk := h.staff(booking.RoleClerk)
	req := booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: pp, SessionID: s.ID, Channel: booking.ChannelOnsite,
		IdempotencyKey: "walk-in-" + booking.NewID(), Origin: booking.Origin{IP: "10.1.2.3"}}
	first, err := h.svc.BookFor(h.ctx, clerk, req)
	testenv.Must(t, err, "the passport walks in")
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: rid})
	testenv.Must(t, err, "the desk verifies the resident ID")
	_, err = h.svc.LinkIdentities(h.ctx, clerk, booking.LinkRequest{Person: rid, Document: pp})
	testenv.Must(t, err, "the desk links the documents")
	again, err := h.svc.BookFor(h.ctx, clerk, req)
	if err != nil || again.ID != first.ID {
		t.Errorf("the walk-in's replay after the link = %s, %v; want booking %s", again.ID, err, first.ID)
	}
}
