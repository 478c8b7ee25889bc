package booking_test

import (
	"strings"
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// TestPersonToldOfWhatOthersMade: another account adds person P (P's ID
// number and true name) and books P, enters P in a draw and puts
// P on a waitlist. The notify job tells P's own account, P's verified self,
// of each: the session, that another account made it (its phone masked,
// nothing else of it), and what to do — in Chinese, then in English; the
// maker is told of its booking as before, the same event told twice in two
// kinds. Reading the events again, or from another instance, tells nobody
// twice. Near misses tell nobody more: P's own booking, a walk-in and a
// phone booking staff made for P, a family member without an account of
// their own, and a person whose self is not verified (not bound at the
// desk: whoever claimed the ID first would learn where the person goes).
// The entry's draw, won, tells P of the booking it became.
func TestPersonToldOfWhatOthersMade(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	booked := h.session(sessionOpts{online: 3, dept: "Neurology"})
	draw := h.lotterySession(lotteryOpts{online: 2})
	full := h.session(sessionOpts{online: 1, dept: "Dermatology", day: h.day.AddDate(0, 0, 1)})
	own := h.session(sessionOpts{online: 2, dept: "Psychiatry", day: h.day.AddDate(0, 0, 1)})
	desk := h.deskSession(deskOpts{dept: "Orthopedics", day: 2, onsite: 1})
	phone := h.deskSession(deskOpts{dept: "Urology", day: 2, phone: 1})
	h.mustBook(h.user(1), 0, full, "") // sold out: the waitlist is open

	person := h.person("王芳")
	p := h.userOf(person)
	_, err := h.svc.VerifyIdentity(h.ctx, h.staff(booking.RoleClerk), booking.VerifyRequest{IdentityRequest: person, AccountPhone: p.phone, NumberRung: true})
	testenv.Must(t, err, "the desk binds P's account as P's verified self")
	unbound := h.person("孙丽")
	q := h.userOf(unbound)                              // Q's own account, never bound at the desk
	maker := h.userOf(h.person("李娜"), person, unbound)  // the squatter knows the true name
	family := h.userOf(h.person("赵强"), h.person("赵小宝")) // a child with no account of their own

	mb := h.mustBook(maker, 1, booked, "")
	me := h.mustEnter(maker, 1, draw)
	place, err := h.svc.JoinWaitlist(h.ctx, maker.actor, booking.JoinWaitlistRequest{SessionID: full.ID, PatientID: maker.patients[1].ID})
	testenv.Must(t, err, "the maker puts P on the waitlist")
	h.mustBook(maker, 2, booked, "")  // Q, unverified
	h.mustBook(family, 1, booked, "") // the child
	h.mustBook(p, 0, own, "")         // P's own
	h.mustWalkIn(h.staffOf(booking.RoleClerk, h.hosp.ID), person, desk)
	_, err = h.staffBook(h.staffOf(booking.RoleOperator, h.hosp.ID), person, phone, booking.ChannelPhone, "13912345678")
	testenv.Must(t, err, "an operator books P by phone")

	_, err = h.svc.NotifyEvents(h.ctx)
	testenv.Must(t, err, "notify")
	ns, _, err := h.svc.MyNotifications(h.ctx, p.actor)
	testenv.Must(t, err, "P's notifications")
	masked := identity.MaskPhone(maker.phone)
	got := map[string]booking.Notification{}
	for _, n := range ns {
		if n.Kind != booking.NotificationMadeByOther {
			continue
		}
		switch {
		case strings.Contains(n.Body, "booked you:"):
			got["booking"] = n
		case strings.Contains(n.Body, "entered you in the draw"):
			got["entry"] = n
		case strings.Contains(n.Body, "put you on the waitlist"):
			got["place"] = n
		default:
			t.Errorf("P was told %q, not one of the three", n.Body)
		}
		zh, en := strings.Index(n.Body, "另一账号（"+masked+"）"), strings.Index(n.Body, "Another account ("+masked+")")
		if zh < 0 || en < zh || !strings.Contains(n.Body, "我的预约") || !strings.Contains(n.Body, "My bookings") ||
			!strings.Contains(n.Body, "举报") || !strings.Contains(n.Body, "report it") {
			t.Errorf("P's notice %q; want the maker as its masked phone %s, Chinese then English, and where to end and report it", n.Body, masked)
		}
		for _, secret := range []string{maker.phone, "李娜", "王芳", person.IDNumber} {
			if strings.Contains(n.Body, secret) {
				t.Errorf("P's notice %q names %q in clear", n.Body, secret)
			}
		}
	}
	if len(got) != 3 {
		t.Fatalf("P was told of %d things another account made, want the booking, the entry and the waitlist place: %+v", len(got), got)
	}
	if n := got["booking"]; n.BookingID != mb.ID || !strings.Contains(n.Body, booked.VisitDate) || !strings.Contains(n.Body, "取消") {
		t.Errorf("booking notice = %+v; want booking %s, its visit date %s, and to cancel it", n, mb.ID, booked.VisitDate)
	}
	if n := got["entry"]; n.EntryID != me.ID || !strings.Contains(n.Body, "撤回") || !strings.Contains(n.Body, "withdraw it") {
		t.Errorf("entry notice = %+v; want entry %s and to withdraw it", n, me.ID)
	}
	// The place's notice names the place, so that it leads to its card
	// (lows17: the waitlisted event named none, and the notice led to the
	// list).
	if n := got["place"]; n.WaitlistID != place.ID || !strings.Contains(n.Body, full.VisitDate) || !strings.Contains(n.Body, "leave it") {
		t.Errorf("waitlist notice = %+v; want place %s, the session's date %s and to leave it", n, place.ID, full.VisitDate)
	}
	// The maker is told of its booking as before: the event has two
	// notices, one of each kind.
	if c := h.count(`SELECT count(*) FROM notifications n JOIN booking_events e ON e.id = n.event_id
		WHERE e.booking_id = $1 AND e.type = 'booked'`, mb.ID); c != 2 {
		t.Errorf("notices of the maker's booking event = %d, want 2 (the maker's, P's)", c)
	}
	// Nobody else is told that another account made something for them:
	// not Q (unverified), the child's family account, or anyone for P's
	// own booking and the staff's.
	if c := h.count(`SELECT count(*) FROM notifications WHERE kind = 'made_by_other_account'`); c != 3 {
		t.Errorf("made_by_other_account notices = %d, want P's 3", c)
	}
	for who, u := range map[string]user{"Q, unverified,": q, "the family account": family, "the maker": maker} {
		ns, _, err := h.svc.MyNotifications(h.ctx, u.actor)
		testenv.Must(t, err, "%s's notifications", who)
		for _, n := range ns {
			if n.Kind == booking.NotificationMadeByOther {
				t.Errorf("%s was told %q", who, n.Body)
			}
		}
	}

	// Read again, here and on another instance taking the job over: told
	// once.
	if n, err := h.svc.NotifyEvents(h.ctx); err != nil || n != 0 {
		t.Errorf("NotifyEvents again = %d, %v; want nothing told twice", n, err)
	}
	other := h.stack.Instance(t, booking.Config{Now: h.clock.Now})
	if n, err := other.NotifyEvents(h.ctx); err != nil || n != 0 {
		t.Errorf("NotifyEvents on another instance = %d, %v; want 0", n, err)
	}
	if c := h.count(`SELECT count(*) FROM notifications WHERE kind = 'made_by_other_account'`); c != 3 {
		t.Errorf("made_by_other_account notices after the re-reads = %d, want 3", c)
	}

	// The entry wins its draw: the booking it became is told too, the one
	// P now holds and may cancel.
	h.drawAll(h.svc, draw)
	_, err = h.svc.NotifyEvents(h.ctx)
	testenv.Must(t, err, "notify the draw")
	var won []booking.Notification
	ns, _, err = h.svc.MyNotifications(h.ctx, p.actor)
	testenv.Must(t, err, "P's notifications after the draw")
	for _, n := range ns {
		if n.Kind == booking.NotificationMadeByOther && strings.Contains(n.Body, "A draw another account ("+masked+") entered you in booked you:") {
			won = append(won, n)
		}
	}
	if len(won) != 1 || won[0].BookingID == "" || !strings.Contains(won[0].Body, "中签") {
		t.Errorf("P's notices of the draw = %+v; want one, naming the booking it made", won)
	}
	h.checkClean()
}
