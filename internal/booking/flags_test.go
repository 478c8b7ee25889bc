package booking_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/booking/bookingtest"
	"fairslot/internal/testenv"
)

// Tests of scalper detection and review over the real Redis and PostgreSQL:
// the event stream the detector reads, how detection runs record flags, an
// administrator's decisions (and what confirming does to accounts,
// identities, bookings and the waitlist), the evidence timeline and the
// audit log. The detector is bookingtest.Detector, which returns chosen
// flags and keeps the events it was given; internal/detect has tests of its
// own.

// detect runs detection and checks how many flags it opened.
func (h *harness) detect(want int) {
	h.t.Helper()
	n, err := h.svc.Detect(h.ctx)
	testenv.Must(h.t, err, "detect")
	if n != want {
		h.t.Errorf("Detect opened %d flags, want %d", n, want)
	}
}

// account creates a patient account under a known phone, from origin o, with
// these people as its patients, the first one its holder.
func (h *harness) account(phone string, o booking.Origin, people ...booking.IdentityRequest) user {
	h.t.Helper()
	_, err := h.svc.CreateAccount(h.ctx, phone, password, "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, o)
	testenv.Must(h.t, err, "create account")
	u := user{actor: h.login(phone)}
	for i, p := range people {
		h.addPatient(&u, p, i == 0, "")
	}
	return u
}

// addPatient adds a person to u's list, with a contact phone when given.
func (h *harness) addPatient(u *user, p booking.IdentityRequest, self bool, phone string) booking.Patient {
	h.t.Helper()
	pt, err := h.svc.AddPatient(h.ctx, u.actor, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: p.IDType, IDNumber: p.IDNumber,
		Name: p.Name, IsSelf: self, Phone: phone}, booking.Origin{IP: "198.51.100.30", DeviceID: "dv-ring"})
	testenv.Must(h.t, err, "add patient")
	u.patients = append(u.patients, pt)
	return pt
}

// staffAt creates a staff account under a known phone and logs it in.
func (h *harness) staffAt(phone string, role booking.Role) booking.Actor {
	h.t.Helper()
	_, err := h.svc.CreateStaff(h.ctx, booking.StaffRequest{Phone: phone, Password: password, Role: role, HospitalID: h.staffHospital(role)})
	testenv.Must(h.t, err, "create staff")
	return h.login(phone)
}

// ring is a flag over the accounts and identities of users, plus extra
// person keys.
func ring(id string, score float64, users []user, reasons ...booking.FlagReason) booking.Flag {
	f := booking.Flag{ID: id, Score: score, Reasons: reasons, AccountIDs: []string{}, PatientIDs: []string{}}
	for _, u := range users {
		f.AccountIDs = append(f.AccountIDs, u.actor.AccountID)
		for _, p := range u.patients {
			f.PatientIDs = append(f.PatientIDs, p.IdentityID)
		}
	}
	return f
}

func reason(signal, detail string) booking.FlagReason {
	return booking.FlagReason{Signal: signal, Detail: detail}
}

func (h *harness) decide(admin booking.Actor, id, action, note string) booking.Flag {
	h.t.Helper()
	d := booking.Decision{Action: action, Note: note, Origin: booking.Origin{IP: "10.0.0.9"}}
	if action == "dismiss" {
		d.ReasonCode = "family" // review25 M1: a dismissal says why
	}
	f, err := h.svc.DecideFlag(h.ctx, admin, id, d)
	testenv.Must(h.t, err, "%s flag %s", action, id)
	return f
}

// flagNow reads one flag as an administrator sees it.
func (h *harness) flagNow(admin booking.Actor, id string) booking.Flag {
	h.t.Helper()
	ev, err := h.svc.Flag(h.ctx, admin, id)
	testenv.Must(h.t, err, "flag %s", id)
	return ev.Flag
}

// sameEvidence compares what a detector said about a flag with what is stored.
func sameEvidence(t *testing.T, what string, got, want booking.Flag) {
	t.Helper()
	if got.ID != want.ID || got.Score != want.Score || !reflect.DeepEqual(got.Reasons, want.Reasons) ||
		!slices.Equal(got.AccountIDs, want.AccountIDs) || !slices.Equal(got.PatientIDs, want.PatientIDs) {
		t.Errorf("%s:\n got  id %s score %v reasons %v accounts %v persons %v\n want id %s score %v reasons %v accounts %v persons %v",
			what, got.ID, got.Score, got.Reasons, got.AccountIDs, got.PatientIDs,
			want.ID, want.Score, want.Reasons, want.AccountIDs, want.PatientIDs)
	}
}

// wantFlags checks the list of flags in a status, in order.
func (h *harness) wantFlags(admin booking.Actor, status string, want ...booking.Flag) {
	h.t.Helper()
	got, err := h.svc.Flags(h.ctx, admin, status)
	testenv.Must(h.t, err, "flags %q", status)
	if len(got) != len(want) {
		var ids []string
		for _, f := range got {
			ids = append(ids, f.ID)
		}
		h.t.Errorf("Flags(%q) = %v, want %d flags", status, ids, len(want))
		return
	}
	wantStatus := status
	if wantStatus == "" {
		wantStatus = booking.FlagOpen
	}
	for i := range want {
		sameEvidence(h.t, "Flags("+status+")["+want[i].ID+"]", got[i], want[i])
		if got[i].Status != wantStatus {
			h.t.Errorf("Flags(%q): flag %s has status %s", status, got[i].ID, got[i].Status)
		}
	}
}

// eventKey is what an event says about who did what, for comparison.
type eventKey struct {
	Type     booking.EventType
	Account  string
	Patient  string
	Identity string
	Booking  string
	Session  string
	Staff    string
	Channel  booking.Channel
	HasPhone bool
	Reason   string
}

func keyOf(e booking.Event) eventKey {
	return eventKey{Type: e.Type, Account: e.AccountID, Patient: e.PatientID, Identity: e.IdentityID,
		Booking: e.BookingID, Session: e.SessionID, Staff: e.StaffID, Channel: e.Channel,
		HasPhone: e.Phone != "", Reason: e.Reason}
}

func eventIDs(events []booking.Event) []string {
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	return ids
}

// inTimeOrder fails unless events are ordered by time.
func inTimeOrder(t *testing.T, what string, events []booking.Event) {
	t.Helper()
	for i := 1; i < len(events); i++ {
		if events[i].TS.Before(events[i-1].TS) {
			t.Errorf("%s: event %d (%s at %s) comes after event %d (%s at %s)", what, i, events[i].Type,
				events[i].TS.Format(time.RFC3339Nano), i-1, events[i-1].Type, events[i-1].TS.Format(time.RFC3339Nano))
		}
	}
}

// noClearPII fails when any string field of any event, or its JSON form,
// holds one of the clear values.
func noClearPII(t *testing.T, events []booking.Event, clear []string) {
	t.Helper()
	for _, e := range events {
		v := reflect.ValueOf(e)
		var fields []string
		for i := range v.NumField() {
			if f := v.Field(i); f.Kind() == reflect.String {
				fields = append(fields, v.Type().Field(i).Name+"="+f.String())
			}
		}
		js, err := json.Marshal(e)
		testenv.Must(t, err, "marshal event")
		fields = append(fields, "json="+string(js))
		for _, f := range fields {
			for _, c := range clear {
				if strings.Contains(f, c) {
					t.Errorf("event %s (%s) holds a clear identity number, name or phone in %s", e.ID, e.Type, f)
				}
			}
		}
		if e.Phone != "" && !strings.HasPrefix(e.Phone, "hash:") {
			t.Errorf("event %s (%s) has phone %q, want a keyed hash", e.ID, e.Type, e.Phone)
		}
	}
}

func TestEventsForDetection(t *testing.T) {
	det := &bookingtest.Detector{}
	h := newHarness(t, harnessConfig{detector: det.Detect})
	// The day after tomorrow, so no cancellation is late.
	sA := h.deskSession(deskOpts{day: 1, online: 1, phone: 1})
	sB := h.deskSession(deskOpts{day: 1, dept: "Surgery", online: 2})
	since := h.clock.Now().Add(-time.Minute)

	opPhone, clerkPhone, alicePhone, bobPhone := h.phone(), h.phone(), h.phone(), h.phone()
	const contactPhone, callerPhone, callerDigits = "137 0000 1234", "+86 138-0013-8000", "13800138000"
	a1, a2, b1, caller := h.person("赵敏"), h.person("钱多多"), h.person("孙悟空"), h.person("欧阳锋")
	op := h.staffAt(opPhone, booking.RoleOperator)
	clerk := h.staffAt(clerkPhone, booking.RoleClerk)
	alice := h.account(alicePhone, booking.Origin{IP: "198.51.100.7", DeviceID: "dv-alice"}, a1)
	h.addPatient(&alice, a2, false, contactPhone)
	bob := h.account(bobPhone, booking.Origin{}, b1)

	aliceA := h.mustBook(alice, 0, sA, "")
	aliceB := h.mustBook(alice, 1, sB, "")
	h.mustCancel(alice.actor, aliceB.ID)
	phoned, err := h.staffBook(op, caller, sA, booking.ChannelPhone, callerPhone)
	testenv.Must(t, err, "phone booking")
	h.callerCancel(op, caller, callerPhone, phoned.ID)
	entry := h.join(bob, sA)
	bobB := h.mustBook(bob, 0, sB, "")
	func() {
		defer h.clock.at(sA.StartsAt.Add(-30 * time.Minute))()
		_, err := h.svc.CheckIn(h.ctx, clerk, booking.CheckInRequest{BookingID: aliceA.ID, IdentityRequest: a1})
		testenv.Must(t, err, "check in")
	}()
	h.clock.set(sB.EndsAt.Add(time.Hour))
	defer h.clock.reset()
	n, _, err := h.svc.MarkNoShows(h.ctx)
	testenv.Must(t, err, "mark no-shows")
	if n != 1 {
		t.Errorf("MarkNoShows = %d, want 1 (bob's booking of session B)", n)
	}

	pa1, pa2, pb1 := alice.patients[0], alice.patients[1], bob.patients[0]
	want := []eventKey{
		{Type: booking.EventAccountCreated, Account: op.AccountID, HasPhone: true},
		{Type: booking.EventLogin, Account: op.AccountID, HasPhone: true},
		{Type: booking.EventAccountCreated, Account: clerk.AccountID, HasPhone: true},
		{Type: booking.EventLogin, Account: clerk.AccountID, HasPhone: true},
		{Type: booking.EventAccountCreated, Account: alice.actor.AccountID, HasPhone: true},
		{Type: booking.EventLogin, Account: alice.actor.AccountID, HasPhone: true},
		{Type: booking.EventPatientAdded, Account: alice.actor.AccountID, Patient: pa1.ID, Identity: pa1.IdentityID},
		{Type: booking.EventPatientAdded, Account: alice.actor.AccountID, Patient: pa2.ID, Identity: pa2.IdentityID, HasPhone: true},
		{Type: booking.EventAccountCreated, Account: bob.actor.AccountID, HasPhone: true},
		{Type: booking.EventLogin, Account: bob.actor.AccountID, HasPhone: true},
		{Type: booking.EventPatientAdded, Account: bob.actor.AccountID, Patient: pb1.ID, Identity: pb1.IdentityID},
		{Type: booking.EventBooked, Account: alice.actor.AccountID, Patient: pa1.ID, Identity: pa1.IdentityID,
			Booking: aliceA.ID, Session: sA.ID, Channel: booking.ChannelOnline},
		{Type: booking.EventBooked, Account: alice.actor.AccountID, Patient: pa2.ID, Identity: pa2.IdentityID,
			Booking: aliceB.ID, Session: sB.ID, Channel: booking.ChannelOnline},
		{Type: booking.EventCancelled, Account: alice.actor.AccountID, Patient: pa2.ID, Identity: pa2.IdentityID,
			Booking: aliceB.ID, Session: sB.ID, Channel: booking.ChannelOnline},
		{Type: booking.EventBooked, Identity: phoned.IdentityID, Booking: phoned.ID, Session: sA.ID, Staff: op.AccountID,
			Channel: booking.ChannelPhone, HasPhone: true},
		{Type: booking.EventCancelled, Identity: phoned.IdentityID, Booking: phoned.ID, Session: sA.ID, Staff: op.AccountID,
			Channel: booking.ChannelPhone},
		// A waitlisted event names its place where a booking's names the
		// booking (since lows17).
		{Type: booking.EventWaitlisted, Account: bob.actor.AccountID, Patient: pb1.ID, Identity: pb1.IdentityID,
			Booking: entry.ID, Session: sA.ID, Channel: booking.ChannelOnline},
		{Type: booking.EventBooked, Account: bob.actor.AccountID, Patient: pb1.ID, Identity: pb1.IdentityID,
			Booking: bobB.ID, Session: sB.ID, Channel: booking.ChannelOnline},
		{Type: booking.EventCheckedIn, Account: alice.actor.AccountID, Patient: pa1.ID, Identity: pa1.IdentityID,
			Booking: aliceA.ID, Session: sA.ID, Staff: clerk.AccountID, Channel: booking.ChannelOnline},
		{Type: booking.EventNoShow, Account: bob.actor.AccountID, Patient: pb1.ID, Identity: pb1.IdentityID,
			Booking: bobB.ID, Session: sB.ID, Channel: booking.ChannelOnline},
	}

	events, err := h.store.EventsSince(h.ctx, since)
	testenv.Must(t, err, "events since")
	inTimeOrder(t, "EventsSince", events)
	got := make([]eventKey, len(events))
	for i, e := range events {
		got[i] = keyOf(e)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("EventsSince: got %d events, want %d", len(got), len(want))
		for i := range max(len(got), len(want)) {
			var g, w eventKey
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Errorf("event %d:\n got  %+v\n want %+v", i, g, w)
			}
		}
	}
	for _, e := range events {
		if e.ID == "" || e.TS.IsZero() {
			t.Errorf("event %+v has no id or no time", e)
		}
		if e.HospitalID != "" && e.HospitalID != h.hosp.ID {
			t.Errorf("event %s names hospital %s, want %s", e.ID, e.HospitalID, h.hosp.ID)
		}
		if e.Type == booking.EventWaitlisted && e.SessionID != entry.SessionID {
			t.Errorf("waitlisted event names session %s, want %s", e.SessionID, entry.SessionID)
		}
	}
	if len(events) > 4 && (events[4].IP != "198.51.100.7" || events[4].DeviceID != "dv-alice") {
		t.Errorf("alice's account_created event has ip %q device %q, want the request's 198.51.100.7, dv-alice", events[4].IP, events[4].DeviceID)
	}
	var clear []string
	for _, p := range []booking.IdentityRequest{a1, a2, b1, caller} {
		clear = append(clear, p.IDNumber, p.Name)
	}
	clear = append(clear, opPhone, clerkPhone, alicePhone, bobPhone, strings.ReplaceAll(contactPhone, " ", ""), callerDigits)
	noClearPII(t, events, clear)

	// Detection is handed exactly the stored events of its window, their
	// IP addresses and device ids as keyed pseudonyms (review21 M5: equal
	// where the values are, which is all the detector compares).
	wantSeen := slices.Clone(events)
	booking.NetworkPseudonyms(h.stack.Keys, wantSeen)
	if len(wantSeen) > 4 && (wantSeen[4].IP == events[4].IP || wantSeen[4].DeviceID == events[4].DeviceID) {
		t.Errorf("the pseudonyms keep alice's ip %q and device %q in clear", wantSeen[4].IP, wantSeen[4].DeviceID)
	}
	det.Returns()
	h.detect(0)
	if got := det.Last(); !reflect.DeepEqual(eventIDs(got), eventIDs(wantSeen)) || !reflect.DeepEqual(got, wantSeen) {
		t.Errorf("Detect gave the detector %d events %v, want the %d stored ones %v, pseudonymous", len(got), eventIDs(got), len(wantSeen), eventIDs(wantSeen))
	}
	// Thirty days on, only the events of the visit day are in the window.
	h.clock.set(time.Now().Add(30*24*time.Hour + time.Hour))
	h.detect(0)
	var types []booking.EventType
	for _, e := range det.Last() {
		types = append(types, e.Type)
	}
	if wantTypes := []booking.EventType{booking.EventCheckedIn, booking.EventNoShow}; !slices.Equal(types, wantTypes) {
		t.Errorf("Detect 30 days later gave the detector %v, want %v", types, wantTypes)
	}
}

func TestFlagSaveRules(t *testing.T) {
	det := &bookingtest.Detector{}
	h := newHarness(t, harnessConfig{detector: det.Detect})
	admin, clerk := h.staff(booking.RoleAdmin), h.staff(booking.RoleClerk)
	ringA, ringB := []user{h.user(2), h.user(1)}, []user{h.user(1)}
	a := ring("ring-a", 3, ringA, reason("shared_device", "1 device, 3 patient cards"))
	b := ring("ring-b", 5, ringB, reason("hand_off", "2 cancel-then-rebook hand-offs within 40 s"))

	// A new flag opens; the list is by score, highest first.
	det.Returns(a, b)
	h.detect(2)
	h.wantFlags(admin, "", b, a)
	h.wantFlags(admin, booking.FlagOpen, b, a)
	h.wantFlags(admin, booking.FlagDismissed)
	created := h.flagNow(admin, a.ID)
	if created.CreatedAt.IsZero() || !created.DecidedAt.IsZero() || created.DecidedBy != "" {
		t.Errorf("new flag created at %v, decided at %v by %q; want a creation time and no decision", created.CreatedAt, created.DecidedAt, created.DecidedBy)
	}

	// An open flag takes the newer evidence.
	a.Score, a.Reasons = 6, []booking.FlagReason{reason("shared_device", "1 device, 3 patient cards"), reason("reaction_time", "12 bookings 40 ms after release")}
	det.Returns(a, b)
	h.detect(0)
	h.wantFlags(admin, "", a, b)
	if got := h.flagNow(admin, a.ID); !got.CreatedAt.Equal(created.CreatedAt) || !got.UpdatedAt.After(created.UpdatedAt) {
		t.Errorf("updated flag: created %v, updated %v; want created %v kept and a later update than %v",
			got.CreatedAt, got.UpdatedAt, created.CreatedAt, created.UpdatedAt)
	}

	// Dismissed: allow-listed until the score reaches 1.5 times the score
	// it was dismissed at.
	dismissed := h.decide(admin, a.ID, "dismiss", "family shares a tablet")
	if dismissed.Status != booking.FlagDismissed || dismissed.DecidedScore != 6 || dismissed.DecidedBy != admin.AccountID ||
		dismissed.Note != "family shares a tablet" || dismissed.DecidedAt.IsZero() {
		t.Errorf("DecideFlag(dismiss) = status %s, decided score %v by %q note %q at %v; want dismissed at 6 by the admin with the note",
			dismissed.Status, dismissed.DecidedScore, dismissed.DecidedBy, dismissed.Note, dismissed.DecidedAt)
	}
	h.wantFlags(admin, "", b)
	h.wantFlags(admin, booking.FlagDismissed, a)
	for _, tt := range []struct {
		name   string
		score  float64
		status string
		opened int
	}{
		{"same score", 6, booking.FlagDismissed, 0},
		{"slightly higher", 7.5, booking.FlagDismissed, 0},
		{"just below 1.5 times", 8.99, booking.FlagDismissed, 0},
		{"1.5 times", 9, booking.FlagOpen, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			next := a
			next.Score = tt.score
			next.Reasons = append(slices.Clone(a.Reasons), reason("hand_off", "more"))
			det.Returns(next, b)
			h.detect(tt.opened)
			got := h.flagNow(admin, a.ID)
			if got.Status != tt.status {
				t.Errorf("at score %v the dismissed flag is %s, want %s", tt.score, got.Status, tt.status)
			}
			if tt.status == booking.FlagDismissed {
				sameEvidence(t, "dismissed flag", got, a) // the evidence it was dismissed on
				h.wantFlags(admin, "", b)
			} else {
				sameEvidence(t, "reopened flag", got, next)
				h.wantFlags(admin, "", next, b)
			}
		})
	}
	// Dismissed again, it is measured against the new score.
	a.Score, a.Reasons = 9, append(slices.Clone(a.Reasons), reason("hand_off", "more"))
	if got := h.decide(admin, a.ID, "dismiss", "still the family tablet"); got.DecidedScore != 9 {
		t.Errorf("second dismissal at score %v, want 9", got.DecidedScore)
	}
	a2 := a
	a2.Score = 12
	det.Returns(a2, b)
	h.detect(0)
	h.wantFlags(admin, booking.FlagDismissed, a)

	// Confirmed is final.
	h.decide(admin, b.ID, "confirm", "ring of bots")
	stronger := b
	stronger.Score, stronger.Reasons = 100, []booking.FlagReason{reason("reaction_time", "everything")}
	det.Returns(stronger)
	h.detect(0)
	h.wantFlags(admin, booking.FlagConfirmed, b)
	h.wantFlags(admin, "")
	det.Returns(stronger, a2)
	h.detect(0)
	h.wantFlags(admin, booking.FlagConfirmed, b)

	// Only administrators list flags, and only by a known status.
	for _, actor := range []booking.Actor{clerk, ringB[0].actor} {
		_, err := h.svc.Flags(h.ctx, actor, "")
		wantErr(t, "Flags as "+string(actor.Role), err, booking.ErrForbidden)
	}
	_, err := h.svc.Flags(h.ctx, admin, "pending")
	wantErr(t, "Flags(pending)", err, booking.ErrInvalidField)
}

func TestFlagDecisionRefusals(t *testing.T) {
	det := &bookingtest.Detector{}
	h := newHarness(t, harnessConfig{detector: det.Detect})
	db := h.sql()
	admin, clerk, op := h.staff(booking.RoleAdmin), h.staff(booking.RoleClerk), h.staff(booking.RoleOperator)
	suspect, decided := h.user(1), h.user(1)
	open := ring("ring-open", 4, []user{suspect}, reason("shared_ip", "7 accounts on one IP"))
	done := ring("ring-done", 4, []user{decided}, reason("shared_ip", "5 accounts on one IP"))
	det.Returns(open, done)
	h.detect(2)
	h.decide(admin, done.ID, "dismiss", "a hospital kiosk")

	tests := []struct {
		name   string
		actor  booking.Actor
		id     string
		action string
		note   string
		want   *booking.Error
		msg    string // what the admin is told, when it matters
	}{
		{"clerk", clerk, open.ID, "confirm", "ring", booking.ErrForbidden, ""},
		{"operator", op, open.ID, "confirm", "ring", booking.ErrForbidden, ""},
		{"patient", suspect.actor, open.ID, "dismiss", "not me", booking.ErrForbidden, ""},
		{"unknown action", admin, open.ID, "block", "ring", booking.ErrInvalidField, ""},
		{"no action", admin, open.ID, "", "ring", booking.ErrInvalidField, ""},
		{"no note", admin, open.ID, "confirm", "", booking.ErrInvalidField, "the note is required: write at least 2 characters"},
		{"blank note", admin, open.ID, "confirm", "   ", booking.ErrInvalidField, "the note is required: write at least 2 characters"},
		{"one-letter note", admin, open.ID, "confirm", "x", booking.ErrInvalidField, "the note is too short (it has 1): write at least 2 characters"},
		{"one-character note", admin, open.ID, "dismiss", " 否 ", booking.ErrInvalidField, "the note is too short (it has 1): write at least 2 characters"},
		{"unknown flag", admin, "ring-unknown", "confirm", "ring", booking.ErrFlagNotFound, ""},
		{"unknown flag, dismiss", admin, "ring-unknown", "dismiss", "ring", booking.ErrFlagNotFound, ""},
		{"decided flag, confirm", admin, done.ID, "confirm", "changed my mind", booking.ErrFlagDecided, ""},
		{"decided flag, dismiss again", admin, done.ID, "dismiss", "again", booking.ErrFlagDecided, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := booking.Decision{Action: tt.action, Note: tt.note}
			if tt.action == "dismiss" {
				d.ReasonCode = "family"
			}
			_, err := h.svc.DecideFlag(h.ctx, tt.actor, tt.id, d)
			wantErr(t, "DecideFlag", err, tt.want)
			if tt.msg != "" {
				wantMessage(t, "DecideFlag", err, tt.msg)
			}
			if got := h.flagNow(admin, open.ID).Status; got != booking.FlagOpen {
				t.Errorf("flag %s after a refused decision is %s, want open", open.ID, got)
			}
			if got := h.flagNow(admin, done.ID); got.Status != booking.FlagDismissed || got.Note != "a hospital kiosk" {
				t.Errorf("flag %s after a refused decision is %s with note %q, want dismissed with the first note", done.ID, got.Status, got.Note)
			}
			db.wantCount("audit rows of flag decisions", 1, `SELECT count(*) FROM audit_log WHERE action LIKE 'flag\_%'`)
			db.wantCount("blocked accounts", 0, `SELECT count(*) FROM accounts WHERE blocked`)
			db.wantCount("identity blocks", 0, `SELECT count(*) FROM identity_blocks`)
		})
	}
	_, err := h.svc.Flag(h.ctx, admin, "ring-unknown")
	wantErr(t, "Flag(unknown)", err, booking.ErrFlagNotFound)
}

func TestFlagConfirm(t *testing.T) {
	det := &bookingtest.Detector{}
	h := newHarness(t, harnessConfig{detector: det.Detect})
	db := h.sql()
	// Every session is stored before the clock moves to the first one.
	past := h.deskSession(deskOpts{online: 1})                                       // day 0, started by the decision
	wl := h.deskSession(deskOpts{day: 1, online: 2})                                 // a genuine patient waits
	nowl := h.deskSession(deskOpts{day: 1, dept: "Surgery", online: 1})              // nobody waits
	phoneS := h.deskSession(deskOpts{day: 2, phone: 1, online: 1})                   // the ring's phone and second account
	gone := h.deskSession(deskOpts{day: 2, dept: "Dentistry", online: 1})            // cancelled before the decision
	later := h.deskSession(deskOpts{day: 3, dept: "Oncology", online: 3, onsite: 2}) // tried after the decision
	admin, op, clerk := h.staff(booking.RoleAdmin), h.staff(booking.RoleOperator), h.staff(booking.RoleClerk)

	p0, p1, p2 := h.person("马小云"), h.person("马小腾"), h.person("马小化")
	phoneA, phoneB := h.phone(), h.phone()
	ringA := h.account(phoneA, booking.Origin{DeviceID: "dv-77"}, p0, p1)
	ringB := h.account(phoneB, booking.Origin{DeviceID: "dv-77"}, p2)
	family := h.user(1) // lists p0 too, and is not part of the ring
	famP0 := h.addPatient(&family, p0, false, "")
	g1, g2 := h.user(1), h.user(1)

	pastB := h.mustBook(ringA, 0, past, "")
	wlB := h.mustBook(ringA, 0, wl, "")
	g1B := h.mustBook(g1, 0, wl, "")
	ringEntry, err := h.svc.JoinWaitlist(h.ctx, ringA.actor, booking.JoinWaitlistRequest{SessionID: wl.ID, PatientID: ringA.patients[1].ID})
	testenv.Must(t, err, "the ring's second person joins the waitlist")
	g2Entry := h.join(g2, wl)
	nowlB := h.mustBook(ringA, 1, nowl, "")
	phoneB0, err := h.staffBook(op, p0, phoneS, booking.ChannelPhone, "13912340000")
	testenv.Must(t, err, "phone booking for p0")
	p2B := h.mustBook(ringB, 0, phoneS, "")
	goneB := h.mustCancel(ringA.actor, h.mustBook(ringA, 1, gone, "").ID)
	h.placeReturned()
	h.wantOnline(gone, 1)
	h.checkClean()

	h.clock.set(past.StartsAt.Add(30 * time.Minute))
	defer h.clock.reset()
	f := ring("ring-77", 8.5, nil, reason("shared_device", "device dv-77 on 2 accounts, 3 patient cards"))
	f.AccountIDs = []string{ringA.actor.AccountID, ringB.actor.AccountID}
	f.PatientIDs = []string{ringA.patients[0].IdentityID, ringA.patients[1].IdentityID}
	det.Returns(f)
	h.detect(1)
	const note = "one device, hand-offs to buyers"
	// p0 is on the family's list too: the flag page shows them apart, and
	// the administrator names them to bar them all the same.
	ev, err := h.svc.Flag(h.ctx, admin, f.ID)
	testenv.Must(t, err, "the flag's evidence")
	if want := map[string]booking.Elsewhere{p0ID(ringA): {Accounts: 1}}; !reflect.DeepEqual(ev.Elsewhere, want) {
		t.Errorf("persons listed outside the group = %v, want %v", ev.Elsewhere, want)
	}
	got, err := h.svc.DecideFlag(h.ctx, admin, f.ID, booking.Decision{Action: "confirm", Note: note, AlsoBar: []string{p0ID(ringA)}})
	testenv.Must(t, err, "confirm naming p0")
	if got.Status != booking.FlagConfirmed || got.DecidedBy != admin.AccountID || got.Note != note || got.DecidedScore != f.Score {
		t.Errorf("DecideFlag(confirm) = status %s by %q note %q at score %v; want confirmed by the admin with the note at %v",
			got.Status, got.DecidedBy, got.Note, got.DecidedScore, f.Score)
	}
	db.wantCount("flag_confirm audit rows", 1,
		`SELECT count(*) FROM audit_log WHERE action = 'flag_confirm' AND target = $1 AND actor_id = $2 AND actor_role = 'admin' AND reason = $3`,
		"flag:"+f.ID, admin.AccountID, note+" (also_bar: "+p0ID(ringA)+")") // the persons named barred too (review21 H1)
	db.wantCount("identity blocks", 2, `SELECT count(*) FROM identity_blocks WHERE flag_id = $1`, f.ID)

	t.Run("accounts blocked", func(t *testing.T) {
		for _, phone := range []string{phoneA, phoneB} {
			_, err := h.svc.Login(h.ctx, phone, password, booking.Origin{})
			wantErr(t, "login of a ring account", err, booking.ErrAccountBlocked)
		}
		db.wantCount("blocked accounts", 2, `SELECT count(*) FROM accounts WHERE blocked AND blocked_until > now()`)
	})

	t.Run("future bookings cancelled", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			b    booking.Booking
		}{{"online, waitlisted session", wlB}, {"online, no waitlist", nowlB},
			{"the second account's other patient", p2B}} {
			got := h.stored(tt.b.ID)
			if got.Status != booking.StatusCancelled || got.LateCancel || got.CancelledAt.IsZero() {
				t.Errorf("%s: booking %s is %s (late %v), want cancelled, not late", tt.name, tt.b.ID, got.Status, got.LateCancel)
			}
			db.wantCount(tt.name+": cancelled events naming the flag", 1,
				`SELECT count(*) FROM booking_events WHERE booking_id = $1 AND type = 'cancelled' AND reason = $2 AND staff_id = $3`,
				tt.b.ID, "flag_confirmed:"+f.ID, admin.AccountID)
		}
		db.wantCount("cancelled events naming the flag", 3, `SELECT count(*) FROM booking_events WHERE reason = $1`, "flag_confirmed:"+f.ID)
	})

	t.Run("past, cancelled, staff-made and other people's bookings untouched", func(t *testing.T) {
		// An operator booked p0 on the phone: staff made it, not the ring
		// (review21 H1 b); the bar stops what comes next.
		if got := h.stored(phoneB0.ID); got.Status != booking.StatusConfirmed {
			t.Errorf("the operator's phone booking of the named person is %s, want confirmed", got.Status)
		}
		if got := h.stored(pastB.ID); got.Status != booking.StatusConfirmed {
			t.Errorf("the booking whose slot has started is %s, want confirmed", got.Status)
		}
		if got := h.stored(goneB.ID); got.Status != booking.StatusCancelled || !got.CancelledAt.Equal(goneB.CancelledAt) {
			t.Errorf("the booking cancelled before = %s at %v, want cancelled at %v", got.Status, got.CancelledAt, goneB.CancelledAt)
		}
		if got := h.stored(g1B.ID); got.Status != booking.StatusConfirmed {
			t.Errorf("the genuine patient's booking is %s, want confirmed", got.Status)
		}
		for _, id := range []string{pastB.ID, goneB.ID, g1B.ID, phoneB0.ID} {
			db.wantCount("flag events of "+id, 0, `SELECT count(*) FROM booking_events WHERE booking_id = $1 AND reason LIKE 'flag%'`, id)
		}
	})

	t.Run("slots go to the waitlist first", func(t *testing.T) {
		got, err := h.svc.Booking(h.ctx, g2.actor, g2Entry.ID)
		if err != nil || got.Status != booking.StatusConfirmed || got.SlotNo != wlB.SlotNo {
			t.Errorf("the waiting genuine patient's booking = %+v, %v; want confirmed on slot %d", got, err, wlB.SlotNo)
		}
		if got := h.entry(g2Entry.ID).Status; got != booking.WaitlistServed {
			t.Errorf("the genuine patient's entry is %s, want served", got)
		}
		if got := h.entry(ringEntry.ID).Status; got != booking.WaitlistSkipped {
			t.Errorf("the barred ring member's entry, ahead in line, is %s, want skipped", got)
		}
		h.wantOnline(wl, 0)
		// With no one waiting, the slots wait out their delay first.
		if n := len(h.delayedOf(nowl)); n != 1 {
			t.Errorf("session without a waitlist: %d delayed slots, want 1", n)
		}
		// The phone session's operator booking stays; the ring's own
		// online booking there is the one slot returned.
		if n := len(h.delayedOf(phoneS)); n != 1 {
			t.Errorf("phone session: %d delayed slots, want 1", n)
		}
		h.wantOnline(nowl, 0)
		h.wantRemaining(phoneS, booking.ChannelPhone, 0)
		h.placeReturned()
		h.wantOnline(nowl, 1)
		h.wantRemaining(phoneS, booking.ChannelPhone, 0)
		h.wantOnline(phoneS, 1)
		h.checkClean()
	})

	barred := func(t *testing.T, when string) {
		t.Helper()
		tests := []struct {
			name string
			book func() error
		}{
			{"the ring account's token, p0", func() error { _, err := h.book(ringA, 0, later, ""); return err }},
			{"the ring account's token, p1", func() error { _, err := h.book(ringA, 1, later, ""); return err }},
			{"another account listing p0", func() error {
				_, err := h.svc.Book(h.ctx, family.actor, booking.BookRequest{SessionID: later.ID, PatientID: famP0.ID, Channel: booking.ChannelOnline})
				return err
			}},
			{"walk-in at the desk", func() error { _, err := h.staffBook(clerk, p0, later, booking.ChannelOnsite, ""); return err }},
			{"walk-in of p1 at the desk", func() error { _, err := h.staffBook(clerk, p1, later, booking.ChannelOnsite, ""); return err }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := h.remaining(later)
				wantErr(t, when, tt.book(), booking.ErrPatientBarred)
				if after := h.remaining(later); !reflect.DeepEqual(after, before) {
					t.Errorf("a barred booking changed the pools: %v, then %v", before, after)
				}
			})
		}
	}
	t.Run("identities barred", func(t *testing.T) { barred(t, "after the confirmation") })
	// The family's own holder is not in the ring and still books.
	h.mustBook(family, 0, later, "")

	t.Run("bars survive the loss of Redis", func(t *testing.T) {
		if n := h.dropRedis(); n == 0 {
			t.Fatal("no Redis keys under the gate's prefix")
		}
		testenv.Must(t, h.svc.Reconcile(h.ctx), "reconcile")
		h.checkClean()
		barred(t, "after reconciliation")
	})
	h.checkClean()
}

func p0ID(u user) string { return u.patients[0].IdentityID }

func TestFlagConfirmUnknownPersonKeys(t *testing.T) {
	det := &bookingtest.Detector{}
	h := newHarness(t, harnessConfig{detector: det.Detect})
	db := h.sql()
	s := h.deskSession(deskOpts{day: 1, online: 2})
	admin := h.staff(booking.RoleAdmin)
	suspect := h.user(1)
	b := h.mustBook(suspect, 0, s, "")
	// A detector may name persons by keys that are no identity: a patient
	// id, a key from an offline trace, a string shaped like a UUID.
	f := ring("ring-keys", 3, []user{suspect}, reason("shared_phone", "1 phone on 4 accounts"))
	f.AccountIDs = append(f.AccountIDs, "a1", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz")
	f.PatientIDs = append(f.PatientIDs, suspect.patients[0].ID, booking.NewID(), "p9", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz")
	det.Returns(f)
	h.detect(1)
	ev, err := h.svc.Flag(h.ctx, admin, f.ID)
	testenv.Must(t, err, "evidence of a flag with foreign keys")
	if len(ev.Timeline) == 0 {
		t.Error("the timeline of the flag is empty, want the suspect's events")
	}
	h.decide(admin, f.ID, "confirm", "confirmed on the known members")
	db.wantCount("identity blocks", 1, `SELECT count(*) FROM identity_blocks WHERE flag_id = $1`, f.ID)
	if got := h.stored(b.ID).Status; got != booking.StatusCancelled {
		t.Errorf("the suspect's booking is %s, want cancelled", got)
	}
	_, err = h.book(suspect, 0, s, "")
	wantErr(t, "the suspect books again", err, booking.ErrPatientBarred)
	h.placeReturned()
	h.checkClean()
}

func TestFlagDismiss(t *testing.T) {
	det := &bookingtest.Detector{}
	h := newHarness(t, harnessConfig{detector: det.Detect})
	db := h.sql()
	s := h.deskSession(deskOpts{day: 1, online: 3})
	other := h.deskSession(deskOpts{day: 2, online: 3})
	admin := h.staff(booking.RoleAdmin)
	phone := h.phone()
	suspect := h.account(phone, booking.Origin{}, h.person("林黛玉"))
	b := h.mustBook(suspect, 0, s, "")
	f := ring("ring-kiosk", 2.5, []user{suspect}, reason("shared_ip", "9 accounts on one IP"))
	det.Returns(f)
	h.detect(1)
	const note = "the IP is the hospital's self-service kiosk"
	got := h.decide(admin, f.ID, "dismiss", note)
	if got.Status != booking.FlagDismissed {
		t.Errorf("DecideFlag(dismiss) = %s, want dismissed", got.Status)
	}
	db.wantCount("flag_dismiss audit rows", 1,
		`SELECT count(*) FROM audit_log WHERE action = 'flag_dismiss' AND target = $1 AND actor_id = $2 AND reason = $3`,
		"flag:"+f.ID, admin.AccountID, "(family) "+note)
	db.wantCount("blocked accounts", 0, `SELECT count(*) FROM accounts WHERE blocked`)
	db.wantCount("identity blocks", 0, `SELECT count(*) FROM identity_blocks`)
	if got := h.stored(b.ID).Status; got != booking.StatusConfirmed {
		t.Errorf("the booking after a dismissal is %s, want confirmed", got)
	}
	h.login(phone)
	h.mustBook(suspect, 0, other, "")
	h.checkClean()
}

func TestFlagEvidence(t *testing.T) {
	det := &bookingtest.Detector{}
	h := newHarness(t, harnessConfig{detector: det.Detect})
	s := h.deskSession(deskOpts{day: 1, online: 3, phone: 1})
	admin, op := h.staff(booking.RoleAdmin), h.staff(booking.RoleOperator)
	since := h.clock.Now().Add(-time.Minute)
	p0, p1 := h.person("贾宝玉"), h.person("贾环")
	phone := h.phone()
	suspect := h.account(phone, booking.Origin{DeviceID: "dv-9"}, p0)
	family := h.userOf(h.person("薛宝钗"))
	h.addPatient(&family, p0, false, "") // the family's event names p0: in the timeline
	bystander := h.user(1)

	b := h.mustBook(suspect, 0, s, "")
	h.mustCancel(suspect.actor, b.ID)
	h.mustBook(family, 0, s, "")
	_, err := h.staffBook(op, p1, s, booking.ChannelPhone, "13700009999")
	testenv.Must(t, err, "phone booking of p1")
	h.mustBook(bystander, 0, s, "")

	f := ring("ring-jia", 4.2, []user{suspect}, reason("phone_reissue", "1 operator, 3 bookings of 2 people"))
	f.AccountIDs = append(f.AccountIDs, "device:dv-9")
	f.PatientIDs = append(f.PatientIDs, h.identityOf(p1))
	det.Returns(f)
	h.detect(1)

	ev, err := h.svc.Flag(h.ctx, admin, f.ID)
	testenv.Must(t, err, "flag evidence")
	sameEvidence(t, "the flag", ev.Flag, f)
	if ev.Status != booking.FlagOpen {
		t.Errorf("flag status %s, want open", ev.Status)
	}
	all, err := h.store.EventsSince(h.ctx, since)
	testenv.Must(t, err, "events")
	members := map[string]bool{}
	for _, id := range append(slices.Clone(f.AccountIDs), f.PatientIDs...) {
		members[id] = true
	}
	var want []booking.Event
	for _, e := range all {
		if members[e.AccountID] || members[e.IdentityID] {
			want = append(want, e)
		}
	}
	if !slices.Equal(eventIDs(ev.Timeline), eventIDs(want)) {
		t.Errorf("timeline:\n got  %d events %v\n want %d events %v", len(ev.Timeline), typesOf(ev.Timeline), len(want), typesOf(want))
	}
	inTimeOrder(t, "timeline", ev.Timeline)
	// The timeline holds the suspect's own events, the family's addition of
	// p0 and the operator's booking of p1, and nobody else's.
	var fromFamily, fromOperator int
	for _, e := range ev.Timeline {
		switch {
		case e.AccountID == family.actor.AccountID && e.IdentityID == family.patients[1].IdentityID:
			fromFamily++
		case e.StaffID == op.AccountID:
			fromOperator++
		case e.AccountID != suspect.actor.AccountID:
			t.Errorf("timeline holds event %s (%s) of account %q, identity %q, outside the group", e.ID, e.Type, e.AccountID, e.IdentityID)
		}
	}
	if fromFamily != 1 || fromOperator != 1 {
		t.Errorf("timeline holds %d events of the family naming p0 and %d of the operator; want 1 and 1", fromFamily, fromOperator)
	}

	_, err = h.svc.Flag(h.ctx, op, f.ID)
	wantErr(t, "Flag as an operator", err, booking.ErrForbidden)
	_, err = h.svc.Flag(h.ctx, suspect.actor, f.ID)
	wantErr(t, "Flag as a patient", err, booking.ErrForbidden)
	_, err = h.svc.Flag(h.ctx, admin, "ring-none")
	wantErr(t, "Flag(unknown)", err, booking.ErrFlagNotFound)

	// The timeline covers the detection window only.
	h.clock.set(time.Now().Add(31 * 24 * time.Hour))
	defer h.clock.reset()
	h.login(phone)
	ev, err = h.svc.Flag(h.ctx, admin, f.ID)
	testenv.Must(t, err, "flag evidence a month later")
	if types := typesOf(ev.Timeline); !slices.Equal(types, []booking.EventType{booking.EventLogin}) {
		t.Errorf("timeline a month later = %v, want the one login since", types)
	}
}

// identityOf is the identity id of a known person.
func (h *harness) identityOf(p booking.IdentityRequest) string {
	h.t.Helper()
	clerk := h.staff(booking.RoleClerk)
	got, err := h.svc.LookupIdentity(h.ctx, clerk, booking.DeskLookupRequest{IDType: p.IDType, IDNumber: p.IDNumber, Check: booking.CheckCardShown})
	testenv.Must(h.t, err, "look up identity")
	return got.Identity.ID
}

func typesOf(events []booking.Event) []booking.EventType {
	out := make([]booking.EventType, len(events))
	for i, e := range events {
		out[i] = e.Type
	}
	return out
}

func TestAuditLog(t *testing.T) {
	det := &bookingtest.Detector{}
	h := newHarness(t, harnessConfig{detector: det.Detect})
	s := h.deskSession(deskOpts{day: 1, online: 1, onsite: 1})
	admin, clerk, op := h.staff(booking.RoleAdmin), h.staff(booking.RoleClerk), h.staff(booking.RoleOperator)
	suspect, other := h.user(1), h.user(1)
	f1 := ring("ring-1", 2, []user{suspect}, reason("shared_ip", "4 accounts on one IP"))
	f2 := ring("ring-2", 3, []user{other}, reason("no_shows", "5 no-shows in 30 days"))
	det.Returns(f1, f2)
	h.detect(2)

	since := h.clock.Now()
	h.decide(admin, f1.ID, "dismiss", "a shared office")
	mid := h.clock.Now()
	// The scheduler's 加号 (a clerk's is the visit day's only: review19b L4).
	_, err := h.svc.AddExtraSlots(h.ctx, admin, booking.ExtraSlotsRequest{SessionID: s.ID, Count: 2, Reason: "long queue", AuthorisedBy: "Dr Li"})
	testenv.Must(t, err, "extra slots")
	h.decide(admin, f2.ID, "confirm", "no-show farm")

	type row struct {
		actor  string
		role   booking.Role
		action string
		target string
	}
	rows := func(entries []booking.AuditEntry) []row {
		var out []row
		for _, a := range entries {
			out = append(out, row{a.ActorID, a.ActorRole, a.Action, a.Target})
		}
		return out
	}
	confirm := row{admin.AccountID, booking.RoleAdmin, "flag_confirm", "flag:" + f2.ID}
	extra := row{admin.AccountID, booking.RoleAdmin, "extra_slots", "session:" + s.ID + " slots:3,4"} // after the session's two slots
	dismiss := row{admin.AccountID, booking.RoleAdmin, "flag_dismiss", "flag:" + f1.ID}
	for _, tt := range []struct {
		name  string
		since time.Time
		want  []row
	}{
		{"since before the decisions", since, []row{confirm, extra, dismiss}},
		{"since after the dismissal", mid, []row{confirm, extra}},
		{"since now", h.clock.Now().Add(time.Second), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.svc.Audit(h.ctx, admin, tt.since)
			testenv.Must(t, err, "audit")
			if !slices.Equal(rows(got), tt.want) {
				t.Errorf("Audit:\n got  %+v\n want %+v", rows(got), tt.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i].TS.After(got[i-1].TS) {
					t.Errorf("audit entry %d at %v is newer than entry %d at %v", i, got[i].TS, i-1, got[i-1].TS)
				}
			}
			for _, a := range got {
				if a.ID == "" || a.TS.Before(tt.since) || a.Reason == "" {
					t.Errorf("audit entry %+v: want an id, a time since %v and a reason", a, tt.since)
				}
			}
		})
	}
	got, err := h.svc.Audit(h.ctx, admin, since)
	testenv.Must(t, err, "audit")
	// A dismissal's row names its reason code before the note (review25 M1).
	if len(got) == 3 && (got[0].Reason != "no-show farm" || got[2].Reason != "(family) a shared office") {
		t.Errorf("audit reasons = %q, %q; want the decisions' notes", got[0].Reason, got[2].Reason)
	}
	for _, actor := range []booking.Actor{clerk, op, suspect.actor} {
		_, err := h.svc.Audit(h.ctx, actor, since)
		wantErr(t, "Audit as "+string(actor.Role), err, booking.ErrForbidden)
	}
	h.checkClean()
}
