package booking_test

import (
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
)

// Unit tests of the desk's, the phone's and the 停诊's rules over the fakes
// (world, rules_test.go): no Redis, no PostgreSQL.

// poolSession publishes a morning session (08:00–12:00, ten-minute slots)
// of a new doctor of dept on date with the given pools, each released an
// hour ago, and returns its id.
func (w *world) poolSession(date, dept string, pools map[booking.Channel]int) string {
	w.t.Helper()
	return w.publish(date, dept, pools, nil)
}

// publish is poolSession with a last change to the session before it is
// saved (mod, when set).
func (w *world) publish(date, dept string, pools map[booking.Channel]int, mod func(*booking.Session)) string {
	w.t.Helper()
	day, err := time.ParseInLocation(time.DateOnly, date, monday.Location())
	if err != nil {
		w.t.Fatalf("date %q: %v", date, err)
	}
	w.doctors++
	doc := booking.Doctor{ID: booking.NewID(), HospitalID: w.hospital.ID, DepartmentID: dept, Name: "医生"}
	s := booking.Session{ID: booking.NewID(), HospitalID: w.hospital.ID, DepartmentID: dept, DoctorID: doc.ID,
		VisitDate: date, Period: "morning", StartsAt: day.Add(8 * time.Hour), EndsAt: day.Add(12 * time.Hour)}
	no := 0
	for _, ch := range []booking.Channel{booking.ChannelOnline, booking.ChannelPhone, booking.ChannelOnsite} {
		if pools[ch] == 0 {
			continue
		}
		s.Channels = append(s.Channels, booking.ChannelQuota{Channel: ch, Quota: pools[ch], ReleaseAt: w.clock.Now().Add(-time.Hour)})
		for range pools[ch] {
			no++
			at := s.StartsAt.Add(time.Duration(no-1) * 10 * time.Minute)
			s.Slots = append(s.Slots, booking.Slot{No: no, Channel: ch, StartsAt: at, EndsAt: at.Add(10 * time.Minute)})
		}
	}
	if mod != nil {
		mod(&s)
	}
	err = w.store.SaveSchedule(w.ctx, booking.Schedule{
		Departments: []booking.Department{{ID: dept, HospitalID: w.hospital.ID, Name: dept}},
		Doctors:     []booking.Doctor{doc}, Sessions: []booking.Session{s}})
	if err != nil {
		w.t.Fatalf("save session: %v", err)
	}
	w.refresh()
	return s.ID
}

// staff is a staff member of the world's hospital.
func (w *world) staff(role booking.Role) booking.Actor {
	return booking.Actor{AccountID: booking.NewID(), Role: role, HospitalID: w.hospital.ID}
}

// card is a person's ID card: a valid resident ID (n picks it) and a name.
func card(n int, name string) booking.IdentityRequest {
	body := "11010119800101" + string(rune('0'+n/100%10)) + string(rune('0'+n/10%10)) + string(rune('0'+n%10))
	return booking.IdentityRequest{IDType: string(identity.ResidentID), IDNumber: body + string(identity.CheckDigit(body)), Name: name}
}

// A walk-in is booked by the clerk who has the card in hand: the name is
// verified, the booking is the clerk's (booked_by) and counts against the
// person's quotas like any other. Only staff of the hospital book for
// someone, and only on their own channel.
func TestRuleWalkIn(t *testing.T) {
	w := newWorld(t, booking.DefaultPolicy, booking.Config{})
	clerk := w.staff(booking.RoleClerk)
	today := w.poolSession("2026-12-07", "cardio", map[booking.Channel]int{booking.ChannelOnsite: 3})
	again := w.poolSession("2026-12-07", "cardio", map[booking.Channel]int{booking.ChannelOnsite: 3})
	zhang := card(1, "张三")
	walkIn := func(a booking.Actor, id booking.IdentityRequest, session string, ch booking.Channel) (booking.Booking, error) {
		return w.svc.BookFor(w.ctx, a, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: id, SessionID: session, Channel: ch})
	}

	b, err := walkIn(clerk, zhang, today, booking.ChannelOnsite)
	if err != nil {
		t.Fatalf("walk-in: %v", err)
	}
	if b.BookedBy != clerk.AccountID || b.Channel != booking.ChannelOnsite || b.AccountID != "" {
		t.Errorf("walk-in booked by %q on %s for account %q; want the clerk, onsite, no account", b.BookedBy, b.Channel, b.AccountID)
	}
	who, err := w.store.IdentityOf(w.ctx, b.IdentityID)
	if err != nil || !who.NameVerified || who.VerifiedBy != "desk" {
		t.Errorf("the walk-in's identity: verified %v by %q (%v); want verified by the desk", who.NameVerified, who.VerifiedBy, err)
	}
	_, err = walkIn(clerk, zhang, again, booking.ChannelOnsite)
	wantErr(t, "a second walk-in the same day and department", err, booking.ErrQuotaDayDept)

	_, err = walkIn(w.staff(booking.RoleOperator), card(2, "李四"), today, booking.ChannelOnsite)
	wantErr(t, "an operator on the desk's channel", err, booking.ErrChannelForbidden)
	elsewhere := booking.Actor{AccountID: booking.NewID(), Role: booking.RoleClerk, HospitalID: booking.NewID()}
	_, err = walkIn(elsewhere, card(3, "王五"), today, booking.ChannelOnsite)
	wantErr(t, "a clerk of another hospital", err, booking.ErrForbidden)
	_, err = walkIn(booking.Actor{AccountID: booking.NewID(), Role: booking.RolePatient}, card(4, "赵六"), today, booking.ChannelOnsite)
	wantErr(t, "a patient booking for a stranger", err, booking.ErrChannelForbidden)
}

// A caller's name is a claim: the phone books it, unless the person's
// verified name (the desk saw the card) is another; then nothing is booked.
func TestRuleCallerNameAgainstTheCard(t *testing.T) {
	w := newWorld(t, booking.DefaultPolicy, booking.Config{})
	clerk, operator := w.staff(booking.RoleClerk), w.staff(booking.RoleOperator)
	today := w.poolSession("2026-12-07", "cardio", map[booking.Channel]int{booking.ChannelOnsite: 2})
	tomorrow := w.poolSession("2026-12-08", "derm", map[booking.Channel]int{booking.ChannelPhone: 2})
	if _, err := w.svc.BookFor(w.ctx, clerk, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: card(1, "张三"), SessionID: today,
		Channel: booking.ChannelOnsite}); err != nil {
		t.Fatalf("walk-in: %v", err)
	}
	call := func(id booking.IdentityRequest) (booking.Booking, error) {
		return w.svc.BookFor(w.ctx, operator, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: id, SessionID: tomorrow,
			Channel: booking.ChannelPhone, CallerPhone: "13800000001"})
	}
	_, err := call(card(1, "张四"))
	wantErr(t, "a caller's name against the verified one", err, booking.ErrIdentityUnverified)
	if b, err := call(card(1, "张三")); err != nil || b.Channel != booking.ChannelPhone || b.BookedBy != operator.AccountID {
		t.Errorf("the caller with the card's name = %+v, %v; want a phone booking by the operator", b, err)
	}
	if b, err := call(card(2, "李四")); err != nil { // nobody knows this person yet: a claim is enough
		t.Errorf("a new caller = %+v, %v; want a booking", b, err)
	}
}

// Check-in is the clerk's, on the visit day while the session runs, with
// the card of the person under their verified name: another name is
// refused as verified_name_differs (the walk-in verified the name) and
// recorded, another person's card as identity_mismatch; a booking of
// another day is refused as checkin_closed; a checked-in booking is not
// checked in again.
func TestRuleCheckIn(t *testing.T) {
	w := newWorld(t, booking.DefaultPolicy, booking.Config{})
	clerk, operator := w.staff(booking.RoleClerk), w.staff(booking.RoleOperator)
	today := w.poolSession("2026-12-07", "cardio", map[booking.Channel]int{booking.ChannelOnsite: 2, booking.ChannelPhone: 2})
	tomorrow := w.poolSession("2026-12-08", "cardio", map[booking.Channel]int{booking.ChannelPhone: 2})
	zhang, li := card(1, "张三"), card(2, "李四")
	now, err := w.svc.BookFor(w.ctx, clerk, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: zhang, SessionID: today, Channel: booking.ChannelOnsite})
	if err != nil {
		t.Fatalf("walk-in: %v", err)
	}
	later, err := w.svc.BookFor(w.ctx, operator, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: li, SessionID: tomorrow,
		Channel: booking.ChannelPhone, CallerPhone: "13800000002"})
	if err != nil {
		t.Fatalf("phone booking: %v", err)
	}
	checkIn := func(a booking.Actor, id booking.IdentityRequest, b booking.Booking) (booking.Booking, error) {
		return w.svc.CheckIn(w.ctx, a, booking.CheckInRequest{IdentityRequest: id, BookingID: b.ID})
	}

	_, err = checkIn(operator, zhang, now)
	wantErr(t, "an operator checking in", err, booking.ErrForbidden)
	events := len(w.store.Events())
	_, err = checkIn(clerk, card(1, "张叁"), now)
	wantErr(t, "the card's name is another", err, booking.ErrVerifiedNameDiffers)
	if ev := w.store.Events(); len(ev) != events+1 || ev[len(ev)-1].Type != booking.EventRejected || ev[len(ev)-1].Reason != booking.ErrVerifiedNameDiffers.Code {
		t.Errorf("a refused check-in recorded %d events, the last %+v; want one rejected verified_name_differs", len(ev)-events, ev[len(ev)-1])
	}
	_, err = checkIn(clerk, li, now)
	wantErr(t, "another person's card", err, booking.ErrIdentityMismatch)
	_, err = checkIn(clerk, li, later)
	wantErr(t, "tomorrow's booking today", err, booking.ErrCheckinClosed)

	b, err := checkIn(clerk, zhang, now)
	if err != nil || b.Status != booking.StatusCheckedIn {
		t.Fatalf("check-in with the card = %s, %v; want checked_in", b.Status, err)
	}
	_, err = checkIn(clerk, zhang, now)
	wantErr(t, "checking in twice", err, booking.ErrBookingNotActive)

	wang := card(3, "王五")
	late, err := w.svc.BookFor(w.ctx, clerk, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: wang, SessionID: today, Channel: booking.ChannelOnsite})
	if err != nil {
		t.Fatalf("walk-in: %v", err)
	}
	w.clock.Set(monday.Add(2 * time.Hour)) // 12:00: the morning session is over
	_, err = checkIn(clerk, wang, late)
	wantErr(t, "after the session ended", err, booking.ErrCheckinClosed)
	w.clock.Set(monday.Add(24 * time.Hour))
	if _, err := checkIn(clerk, li, later); err != nil {
		t.Errorf("tomorrow's booking on its day = %v, want checked in", err)
	}
}

// A check-in refused for a mismatch names who showed the card, for scalper
// detection: the booked person under another name, and a family member of
// the account picked by mistake, are on the account; a person of another
// account is a stranger, named by their identity id; a card nobody
// registered is a stranger too, named by a keyed id that is the same each
// time the card comes and never the number. A matching check-in names
// nobody.
func TestRuleRefusedCheckInNamesWhoCame(t *testing.T) {
	w := newWorld(t, booking.DefaultPolicy, booking.Config{})
	clerk := w.staff(booking.RoleClerk)
	w.clock.Set(monday.Add(-24 * time.Hour)) // booked the day before
	today := w.poolSession("2026-12-07", "cardio", map[booking.Channel]int{booking.ChannelOnline: 4})
	holder := booking.Actor{AccountID: booking.NewID(), Role: booking.RolePatient}
	add := func(a booking.Actor, c booking.IdentityRequest, rel string) booking.Patient {
		t.Helper()
		p, err := w.svc.AddPatient(w.ctx, a, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: c.IDType, IDNumber: c.IDNumber, Name: c.Name,
			Relationship: rel}, booking.Origin{})
		if err != nil {
			t.Fatalf("add %s: %v", c.Name, err)
		}
		return p
	}
	mother, child := card(11, "陈母"), card(12, "陈子")
	self := add(holder, card(10, "陈父"), "self")
	add(holder, child, "child")
	add(holder, mother, "parent")
	stranger := card(13, "周某")
	other := add(booking.Actor{AccountID: booking.NewID(), Role: booking.RolePatient}, stranger, "self")
	b, err := w.svc.Book(w.ctx, holder, booking.BookRequest{SessionID: today, PatientID: self.ID, Channel: booking.ChannelOnline})
	if err != nil {
		t.Fatalf("book: %v", err)
	}
	w.clock.Set(monday)
	refused := func(c booking.IdentityRequest) booking.Event {
		t.Helper()
		n := len(w.store.Events())
		_, err := w.svc.CheckIn(w.ctx, clerk, booking.CheckInRequest{IdentityRequest: c, BookingID: b.ID})
		wantErr(t, c.Name, err, booking.ErrIdentityMismatch)
		evs := w.store.Events()
		if len(evs) != n+1 || evs[n].Type != booking.EventRejected || evs[n].PresentedOnAccount == nil {
			t.Fatalf("a refused check-in recorded %+v, want one rejected event naming who came", evs[n:])
		}
		return evs[n]
	}
	unregistered := card(14, "吴某")
	for _, c := range []struct {
		name     string
		card     booking.IdentityRequest
		identity string // "" for a keyed id of a card nobody registered
		on       bool
	}{
		{"the booked person under another name", card(10, "陈甫"), self.IdentityID, true},
		{"the child picked by mistake", child, "", true},
		{"the mother picked by mistake", mother, "", true},
		{"another account's person", stranger, other.IdentityID, false},
		{"a card nobody registered", unregistered, "", false},
	} {
		ev := refused(c.card)
		if *ev.PresentedOnAccount != c.on || ev.IdentityID != self.IdentityID || !booking.IsUUID(ev.PresentedIdentityID) ||
			(c.identity != "" && ev.PresentedIdentityID != c.identity) {
			t.Errorf("%s: presented %q on account %v (booked %q); want on account %v, identity %q", c.name,
				ev.PresentedIdentityID, *ev.PresentedOnAccount, ev.IdentityID, c.on, c.identity)
		}
		if strings.Contains(ev.PresentedIdentityID, c.card.IDNumber[6:14]) {
			t.Errorf("%s: the presented id %q carries the ID number", c.name, ev.PresentedIdentityID)
		}
	}
	if a, b := refused(unregistered), refused(unregistered); a.PresentedIdentityID != b.PresentedIdentityID {
		t.Errorf("the same unregistered card twice = %q, %q; want one keyed id", a.PresentedIdentityID, b.PresentedIdentityID)
	}
	if a, b := refused(unregistered), refused(card(15, "郑某")); a.PresentedIdentityID == b.PresentedIdentityID {
		t.Errorf("two unregistered cards share the id %q", a.PresentedIdentityID)
	}
	n := len(w.store.Events())
	if _, err := w.svc.CheckIn(w.ctx, clerk, booking.CheckInRequest{IdentityRequest: card(10, "陈父"), BookingID: b.ID}); err != nil {
		t.Fatalf("check-in with the card: %v", err)
	}
	if ev := w.store.Events()[n]; ev.Type != booking.EventCheckedIn || ev.PresentedIdentityID != "" || ev.PresentedOnAccount != nil {
		t.Errorf("a check-in recorded %+v, want no presented person", ev)
	}
}

// A stopped clinic (停诊) cancels its bookings without penalty: even in the
// late-cancellation window no bar follows, the person's quota is given back
// at once (they book the same department that day), each patient and each
// waiting person is told, in Chinese and English, and the session takes no
// booking again. Only the hospital's administrators stop a clinic, with a
// reason, once.
func TestRuleStopSession(t *testing.T) {
	rules := booking.NoShowRules{Window: 365 * 24 * time.Hour, Steps: []booking.NoShowStep{{Count: 1, Bar: 90 * 24 * time.Hour}}}
	w := newWorld(t, booking.Policy{PerDay: 1, PerWeek: 8, PerMonth: 12}, booking.Config{NoShowRules: rules})
	admin := w.staff(booking.RoleAdmin)
	stopped, other := w.session("2026-12-08", "cardio", 2), w.session("2026-12-08", "cardio", 3)
	p, q, r := w.person(), w.person(), w.person()
	bp, bq := w.mustBook(p, stopped), w.mustBook(q, stopped)
	if _, err := w.svc.JoinWaitlist(w.ctx, r.actor, booking.JoinWaitlistRequest{SessionID: stopped, PatientID: r.patient.ID}); err != nil {
		t.Fatalf("join the waitlist: %v", err)
	}
	w.clock.Set(monday.Add(6 * time.Hour)) // Monday 16:00: past the 15:00 deadline before Tuesday's visit

	_, err := w.svc.StopSession(w.ctx, w.staff(booking.RoleClerk), stopped, "医生出差")
	wantErr(t, "a clerk stopping a clinic", err, booking.ErrForbidden)
	_, err = w.svc.StopSession(w.ctx, admin, stopped, "")
	wantErr(t, "no reason", err, booking.ErrInvalidField)
	// One character is too short, counted in characters: "停" is three
	// bytes, and passed when the check counted bytes.
	_, err = w.svc.StopSession(w.ctx, admin, stopped, "停")
	wantErr(t, "a one-character reason", err, booking.ErrInvalidField)
	if err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("a one-character reason: %v, want it called too short", err)
	}
	res, err := w.svc.StopSession(w.ctx, admin, stopped, "医生出差")
	if err != nil || res.Cancelled != 2 || res.WaitlistEnded != 1 || res.Notified != 3 {
		t.Fatalf("stop = %+v, %v; want 2 bookings cancelled, 1 waitlist entry ended, 3 told", res, err)
	}
	for _, b := range []booking.Booking{bp, bq} {
		got, err := w.store.Booking(w.ctx, b.ID)
		if err != nil || got.Status != booking.StatusCancelled || got.LateCancel {
			t.Errorf("booking %s after the stop: %s, late %v (%v); want cancelled, never late", b.ID, got.Status, got.LateCancel, err)
		}
	}
	notes, err := w.svc.Notifications(w.ctx, admin, stopped)
	if err != nil || len(notes) != 3 {
		t.Fatalf("notifications = %d (%v), want 3", len(notes), err)
	}
	for _, n := range notes {
		ended := [2]string{"不计爽约", "without penalty"} // a booking's
		if n.WaitlistID != "" {
			ended = [2]string{"候补已结束", "waitlist place has ended"}
		}
		if n.Kind != "session_stopped" || !strings.Contains(n.Body, ended[0]) || !strings.Contains(n.Body, ended[1]) || !strings.Contains(n.Body, "医生出差") {
			t.Errorf("notification %s %q, want the 停诊 notice with its reason and %q", n.Kind, n.Body, ended[1])
		}
	}

	// No bar, quota back: the same department the same day, at once.
	if _, err := w.book(p, other); err != nil {
		t.Errorf("after the stop, the same day and department = %v, want a booking", err)
	}
	_, err = w.book(w.person(), stopped)
	wantErr(t, "booking the stopped session", err, booking.ErrSessionStopped)
	_, err = w.svc.StopSession(w.ctx, admin, stopped, "医生出差")
	wantErr(t, "stopping it twice", err, booking.ErrSessionStopped)

	// The contrast: the patient's own cancellation in the same window earns
	// the bar (the rules bar at one).
	w.cancel(q, w.mustBook(q, other))
	_, err = w.book(q, w.session("2026-12-10", "eye", 2))
	wantErr(t, "after a late cancellation of one's own", err, booking.ErrPatientBarred)
}

// A number alone tells an operator only whether it is on file: staff
// booked for a caller from it, an account gave it to a family member, or an
// account logs in with it. The caller who gives ID number and name hears
// of their bookings in the operator's hospital, with who they are to an
// account of the number; a booking is the number's to cancel only when it
// was made on a call from it — a refused attempt from another number gives
// that number no say. Only staff on the phone or at the desk look.
func TestRuleCallerKnown(t *testing.T) {
	w := newWorld(t, booking.DefaultPolicy, booking.Config{})
	operator := w.staff(booking.RoleOperator)
	tomorrow := w.poolSession("2026-12-08", "cardio", map[booking.Channel]int{booking.ChannelPhone: 2})
	zhang := card(1, "张三")
	b, err := w.svc.BookFor(w.ctx, operator, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: zhang, SessionID: tomorrow,
		Channel: booking.ChannelPhone, CallerPhone: "13800000001"})
	if err != nil {
		t.Fatalf("phone booking: %v", err)
	}
	_, err = w.svc.BookFor(w.ctx, operator, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: zhang, SessionID: tomorrow,
		Channel: booking.ChannelPhone, CallerPhone: "13800000009"})
	wantErr(t, "the same person from another number", err, booking.ErrAlreadyBooked)
	holder := w.account("13800000002")
	if _, err := w.addPatient(holder, card(2, "李四"), "self", "", ""); err != nil {
		t.Fatalf("self: %v", err)
	}
	if _, err := w.addPatient(holder, card(3, "王五"), "child", "13800000001", ""); err != nil {
		t.Fatalf("child with the caller's phone: %v", err)
	}

	for _, n := range []string{"138 0000 0001", "13800000002"} {
		if err := w.svc.CallerKnown(w.ctx, operator, n); err != nil {
			t.Errorf("CallerKnown(%s) = %v, want on file", n, err)
		}
	}
	l, err := w.svc.LookupCaller(w.ctx, operator, zhang, "13800000001", booking.CheckSpoken)
	if err != nil || len(l.Bookings) != 1 || l.Bookings[0].ID != b.ID || !l.FromCaller[b.ID] || l.Kin != (booking.Kin{}) {
		t.Errorf("the caller from the booking's number = %+v (%v), want the booking, theirs to cancel, nobody's family", l, err)
	}
	l, err = w.svc.LookupCaller(w.ctx, operator, zhang, "13800000009", booking.CheckSpoken)
	if err != nil || len(l.Bookings) != 1 || l.FromCaller[b.ID] {
		t.Errorf("the caller from the refused attempt's number = %+v (%v), want the booking heard of, not theirs to cancel", l, err)
	}
	_, err = w.svc.CancelForCaller(w.ctx, operator, b.ID, zhang, "13800000009", booking.Origin{})
	wantErr(t, "a cancel from the refused attempt's number", err, booking.ErrForbidden)
	// Who they are to the number's account is told of persons with
	// something at the operator's hospital (review21 L1): book them.
	later := w.poolSession("2026-12-09", "cardio", map[booking.Channel]int{booking.ChannelPhone: 2})
	for _, c := range []booking.IdentityRequest{card(3, "王五"), card(2, "李四")} {
		if _, err := w.svc.BookFor(w.ctx, operator, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: c, SessionID: later,
			Channel: booking.ChannelPhone, CallerPhone: "13800000003"}); err != nil {
			t.Fatalf("phone booking of %s: %v", c.Name, err)
		}
	}
	if l, err := w.svc.LookupCaller(w.ctx, operator, card(3, "王五"), "13800000001", booking.CheckSpoken); err != nil || l.Kin.Relationship != booking.RelChild {
		t.Errorf("the child given the number = %+v (%v), want a child", l.Kin, err)
	}
	if l, err := w.svc.LookupCaller(w.ctx, operator, card(2, "李四"), "13800000002", booking.CheckSpoken); err != nil || l.Kin.Relationship != booking.RelSelf {
		t.Errorf("the holder from their login = %+v (%v), want their self", l.Kin, err)
	}
	elsewhere := booking.Actor{AccountID: booking.NewID(), Role: booking.RoleOperator, HospitalID: booking.NewID()}
	_, err = w.svc.LookupCaller(w.ctx, elsewhere, zhang, "13800000001", booking.CheckSpoken)
	wantErr(t, "another hospital's operator (nothing at theirs)", err, booking.ErrPatientNotFound)
	err = w.svc.CallerKnown(w.ctx, operator, "13900000000")
	wantErr(t, "an unknown number", err, booking.ErrPatientNotFound)
	err = w.svc.CallerKnown(w.ctx, operator, "12345")
	wantErr(t, "not a mobile number", err, booking.ErrInvalidPhone)
	err = w.svc.CallerKnown(w.ctx, holder, "13800000001")
	wantErr(t, "a patient looking up a number", err, booking.ErrForbidden)
}
