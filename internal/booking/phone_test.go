package booking_test

import (
	"errors"
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestPhoneWaitlistAndCallers: an operator puts a caller on a sold-out
// session's waitlist by phone (no account, the operator as booked_by,
// audited in the same commit), a returned slot becomes the caller's booking
// under the name they gave, and a phone number finds the people booked from
// it, masked, with their bookings.
func TestPhoneWaitlistAndCallers(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	db := h.sql()
	s := h.session(sessionOpts{online: 1, phone: 1})
	free := h.session(sessionOpts{online: 1, phone: 1, period: "afternoon"})
	op, clerk := h.staff(booking.RoleOperator), h.staff(booking.RoleClerk)
	first, second := h.person("王芳"), h.person("陈静")
	const firstPhone, secondPhone = "13812345678", "13900001111"

	b, err := h.staffBook(op, first, s, booking.ChannelPhone, firstPhone)
	testenv.Must(t, err, "phone booking")
	join := func(a booking.Actor, who booking.IdentityRequest, sess *booking.Session, phone string) (booking.WaitlistEntry, error) {
		return h.svc.JoinWaitlistFor(h.ctx, a, booking.StaffWaitlistRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IdentityRequest: who, SessionID: sess.ID, CallerPhone: phone})
	}
	e, err := join(op, second, s, secondPhone)
	testenv.Must(t, err, "waitlist a caller by phone")
	if e.Position != 1 || e.Status != booking.WaitlistWaiting || e.AccountID != "" || e.PatientID != "" || e.BookedBy != op.AccountID {
		t.Errorf("JoinWaitlistFor = position %d status %s account %q patient %q booked by %q; want 1, waiting, none, none, the operator",
			e.Position, e.Status, e.AccountID, e.PatientID, e.BookedBy)
	}
	db.wantCount("phone waitlist audit rows", 1, `SELECT count(*) FROM audit_log WHERE action = 'phone_waitlist' AND actor_id = $1 AND target = $2`,
		op.AccountID, "waitlist:"+e.ID)
	db.wantCount("waitlisted events by the operator", 1, `SELECT count(*) FROM booking_events WHERE type = 'waitlisted' AND staff_id = $1
		AND channel = 'phone' AND phone LIKE 'hash:%' AND account_id IS NULL`, op.AccountID)

	refusals := []struct {
		name string
		a    booking.Actor
		who  booking.IdentityRequest
		sess *booking.Session
		ph   string
		want *booking.Error
	}{
		{"a clerk", clerk, h.person("李雷"), s, secondPhone, booking.ErrForbidden},
		{"the same caller again", op, second, s, secondPhone, booking.ErrAlreadyWaitlisted},
		{"the caller already booked", op, first, s, firstPhone, booking.ErrAlreadyBooked},
		{"a session with free phone slots", op, h.person("李雷"), free, secondPhone, booking.ErrSlotsAvailable},
		{"no caller phone", op, h.person("李雷"), s, "", booking.ErrInvalidPhone},
		{"an invalid ID number", op, booking.IdentityRequest{IDType: "resident_id", IDNumber: "110105194912310029", Name: "李雷"}, s, secondPhone, booking.ErrInvalidIDNumber},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			_, err := join(tt.a, tt.who, tt.sess, tt.ph)
			wantErr(t, tt.name, err, tt.want)
		})
	}
	db.wantCount("waiting entries", 1, `SELECT count(*) FROM waitlist WHERE status = 'waiting'`)

	// The first caller cancels by phone: the slot goes to the second, as a
	// booking with the entry's id, made under the name they gave.
	h.callerCancel(op, first, firstPhone, b.ID)
	got := h.stored(e.ID)
	if got.Status != booking.StatusConfirmed || got.BookedBy != op.AccountID || got.AccountID != "" || got.SessionID != s.ID {
		t.Errorf("the waitlist's booking = %s booked by %q account %q session %s; want confirmed, the operator, none, %s",
			got.Status, got.BookedBy, got.AccountID, got.SessionID, s.ID)
	}
	db.wantCount("served entries with a booking under the caller's name", 1, `SELECT count(*) FROM waitlist w JOIN bookings b ON b.id = w.id
		WHERE w.status = 'served' AND b.name_hash = w.name_hash AND b.booked_by IS NOT NULL`)

	// The desk's roster of the day lists the waitlist's booking, masked, and
	// not the cancelled one; only the hospital's clerks read it.
	roster, err := h.svc.Roster(h.ctx, clerk, s.HospitalID, s.VisitDate)
	testenv.Must(t, err, "the day's roster")
	if len(roster) != 1 || roster[0].ID != e.ID || roster[0].NameMasked != "陈*" || roster[0].NumberMasked == "" || roster[0].SessionID != s.ID {
		t.Errorf("Roster = %+v; want only %s, 陈*, masked", roster, e.ID)
	}
	_, err = h.svc.Roster(h.ctx, op, s.HospitalID, s.VisitDate)
	wantErr(t, "an operator reading the roster", err, booking.ErrForbidden)
	_, err = h.svc.Roster(h.ctx, clerk, booking.NewID(), s.VisitDate)
	wantErr(t, "another hospital's roster", err, booking.ErrHospitalNotFound)

	// A number alone finds nobody, only that it is on file; the caller
	// who gives ID number and name hears of their bookings, and a booking
	// made on a call from the number they ring from is theirs to cancel.
	testenv.Must(t, h.svc.CallerKnown(h.ctx, op, firstPhone), "the first number is on file")
	testenv.Must(t, h.svc.CallerKnown(h.ctx, clerk, secondPhone), "the second number is on file")
	l, err := h.svc.LookupCaller(h.ctx, op, second, secondPhone, booking.CheckSpoken)
	testenv.Must(t, err, "look the second caller up")
	if l.Identity.ID != got.IdentityID || len(l.Bookings) != 1 || l.Bookings[0].ID != e.ID || !l.FromCaller[e.ID] {
		t.Errorf("LookupCaller(second) = %+v; want identity %s with booking %s, made on a call from the number", l, got.IdentityID, e.ID)
	}
	l, err = h.svc.LookupCaller(h.ctx, op, second, firstPhone, booking.CheckSpoken)
	testenv.Must(t, err, "look the second caller up from the first number")
	if len(l.Bookings) != 1 || l.FromCaller[e.ID] {
		t.Errorf("LookupCaller(second, first number) = %+v; want the booking heard of, not made on a call from that number", l)
	}
	_, err = h.svc.CancelForCaller(h.ctx, op, e.ID, second, firstPhone, booking.Origin{})
	wantErr(t, "a cancel from another number", err, booking.ErrForbidden)
	err = h.svc.CallerKnown(h.ctx, op, "13700000000")
	wantErr(t, "an unknown number", err, booking.ErrPatientNotFound)
	err = h.svc.CallerKnown(h.ctx, h.user(0).actor, firstPhone)
	wantErr(t, "a patient", err, booking.ErrForbidden)
	db.wantCount("caller lookups audited with the masked phone", 3,
		`SELECT count(*) FROM audit_log WHERE action = 'caller_lookup' AND target LIKE 'phone:1%****%'`)
	h.checkClean()
}

// TestPhoneKeyRepeatedWithAnotherName: an operator's Idempotency-Key
// repeated for the same session and ID number but another name is another
// request (409 idempotency_key_reused), not the booking made under the
// first name: a booking is made under a name, which check-in and the phone
// console's lookup compare with. It used to return the first booking.
func TestPhoneKeyRepeatedWithAnotherName(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.session(sessionOpts{phone: 3})
	op := h.staff(booking.RoleOperator)
	req := booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: h.person("周八"), SessionID: s.ID, Channel: booking.ChannelPhone,
		CallerPhone: "13877778888", IdempotencyKey: "op-key-1"}
	first, err := h.svc.BookFor(h.ctx, op, req)
	testenv.Must(t, err, "book by phone")
	again, err := h.svc.BookFor(h.ctx, op, req)
	testenv.Must(t, err, "repeat")
	if again.ID != first.ID || !again.Replayed {
		t.Errorf("the same request again = %s (replayed %v), want %s replayed", again.ID, again.Replayed, first.ID)
	}
	req.Name = "吴九"
	got, err := h.svc.BookFor(h.ctx, op, req)
	wantErr(t, "the same key and ID number under another name", err, booking.ErrIdempotencyReuse)
	if got.ID != "" {
		t.Errorf("the repeat under another name answered booking %s, want none", got.ID)
	}
	h.checkClean()
}

// TestPatientLeavesByPhoneWhatHerFamilyMade (session 25): callers24 let a
// patient cancel by phone a booking her daughter's account made for her;
// her lottery entry and waitlist place stayed out of her reach (the
// operator withdrew only the entries they made, and no waitlist place).
// One rule for the three (patientOnLine): her ID number and the name it was
// made under, spoken, from the contact number the account gave for her —
// not another name, a stranger's number, nor the daughter's own login —
// with the caller bounds; the event is the person's (…_by_person_on_phone,
// the operator and the number's reference), the audit names the caller
// masked with its tag, and the daughter's account is told.
func TestPatientLeavesByPhoneWhatHerFamilyMade(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	draw := h.lotterySession(lotteryOpts{online: 2, dept: "Neurology"})
	full := h.deskSession(deskOpts{day: 1, dept: "Cardiology", online: 1})
	h.mustBook(h.user(1), 0, full, "")
	op := h.staffOf(booking.RoleOperator, h.hosp.ID)
	daughter := h.user(1)
	motherPhone := "13711112501"
	mother := booking.IdentityRequest{IDType: "resident_id", IDNumber: residentID(2501), Name: "王秀英"}
	m, err := h.svc.AddPatient(h.ctx, daughter.actor, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion},
		IDType: mother.IDType, IDNumber: mother.IDNumber, Name: mother.Name, Relationship: "parent", Phone: motherPhone}, booking.Origin{})
	testenv.Must(t, err, "the daughter adds her mother")
	daughter.patients = append(daughter.patients, m)
	entry := h.mustEnter(daughter, 1, draw)
	place, err := h.svc.JoinWaitlist(h.ctx, daughter.actor, booking.JoinWaitlistRequest{SessionID: full.ID, PatientID: m.ID})
	testenv.Must(t, err, "the daughter puts her mother on the waitlist")

	withdraw := func(req booking.IdentityRequest, phone string) error {
		_, err := h.svc.WithdrawEntryForCaller(h.ctx, op, entry.ID, req, phone, booking.Origin{})
		return err
	}
	leave := func(req booking.IdentityRequest, phone string) error {
		return h.svc.LeaveWaitlistForCaller(h.ctx, op, place.ID, req, phone, booking.Origin{})
	}
	other := mother
	other.Name = "王秀瑛"
	for _, tc := range []struct {
		what  string
		req   booking.IdentityRequest
		phone string
	}{
		{"her ID under another name, from her number", other, motherPhone},
		{"her ID and name from the daughter's login", mother, daughter.phone},
		{"her ID and name from a stranger's number", mother, "13611112502"},
	} {
		if err := withdraw(tc.req, tc.phone); !errors.Is(err, booking.ErrEntryNotFound) {
			t.Errorf("withdraw the entry, %s: %v, want entry_not_found", tc.what, err)
		}
		if err := leave(tc.req, tc.phone); !errors.Is(err, booking.ErrWaitlistNotFound) {
			t.Errorf("leave the waitlist, %s: %v, want waitlist_not_found", tc.what, err)
		}
	}
	db := h.sql()
	db.wantCount("the entry still entered after the refusals", 1, `SELECT count(*) FROM lottery_entries WHERE id = $1 AND status = 'entered'`, entry.ID)
	db.wantCount("the place still waiting after the refusals", 1, `SELECT count(*) FROM waitlist WHERE id = $1 AND status = 'waiting'`, place.ID)

	testenv.Must(t, withdraw(mother, motherPhone), "the mother withdraws her entry by phone")
	testenv.Must(t, leave(mother, motherPhone), "the mother leaves her waitlist place by phone")
	db.wantCount("the entry withdrawn", 1, `SELECT count(*) FROM lottery_entries WHERE id = $1 AND status <> 'entered'`, entry.ID)
	db.wantCount("the place left", 1, `SELECT count(*) FROM waitlist WHERE id = $1 AND status = 'cancelled'`, place.ID)
	db.wantCount("the events are the person's by phone, with the operator and the number's reference", 2, `SELECT count(*) FROM booking_events
		WHERE type = 'cancelled' AND identity_id = $1 AND staff_id = $2 AND phone <> ''
		  AND reason IN ('lottery_withdrawn_by_person_on_phone', 'left_waitlist_by_person_on_phone')`, entry.IdentityID, op.AccountID)
	db.wantCount("the audit names the caller masked with its tag", 2, `SELECT count(*) FROM audit_log
		WHERE actor_id = $1 AND action IN ('lottery_withdrawn', 'waitlist_left') AND target IN ($2, $3)
		  AND reason LIKE '%made by an account for the person, % for the person on the phone%caller 137****2501 #%'`,
		op.AccountID, "lottery_entry:"+entry.ID, "waitlist:"+place.ID)
	_, err = h.svc.NotifyEvents(h.ctx)
	testenv.Must(t, err, "notifications from events")
	db.wantCount("the daughter's account told of both", 2, `SELECT count(*) FROM notifications WHERE account_id = $1 AND body LIKE '%致电医院电话预约中心%'`, daughter.actor.AccountID)
}
