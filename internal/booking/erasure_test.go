package booking_test

import (
	"slices"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// Tests of what the retention job erases past its need (session 17,
// retention.go) and of the caller lookup of a removed family member, over
// the real PostgreSQL and Redis. The clock is moved, never slept on.

// memberRow is what SQL keeps of a family member's number and name.
type memberRow struct {
	PhoneHash, PhoneSealed, NameSealed, NameHash bool // set (not NULL)
	PhoneMasked, NameMasked                      string
	Removed                                      bool
}

func (h *harness) memberRow(id string) memberRow {
	h.t.Helper()
	var m memberRow
	testenv.Must(h.t, h.stack.DB.Pool().QueryRow(h.ctx, `
		SELECT phone_hash IS NOT NULL, phone_sealed IS NOT NULL, name_sealed IS NOT NULL, name_hash IS NOT NULL,
		       phone_masked, name_masked, removed_at IS NOT NULL
		  FROM patients WHERE id = $1`, id).
		Scan(&m.PhoneHash, &m.PhoneSealed, &m.NameSealed, &m.NameHash, &m.PhoneMasked, &m.NameMasked, &m.Removed), "read member %s", id)
	return m
}

// addMember adds a family member with a phone to u's list.
func (h *harness) addMember(u *user, who booking.IdentityRequest, phone, rel string) booking.Patient {
	h.t.Helper()
	p, err := h.svc.AddPatient(h.ctx, u.actor, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: who.IDType, IDNumber: who.IDNumber,
		Name: who.Name, Phone: phone, Relationship: rel}, booking.Origin{})
	testenv.Must(h.t, err, "add %s", rel)
	u.patients = append(u.patients, p)
	return p
}

// TestRemovedMemberLeavesTheCallerLookup: once an account removes a family
// member, the number it gave for them finds them no more, and gives a call
// from it no say in the bookings the account made for them — the account
// no longer speaks for them (a member with anything pending is not
// removed). The number's keyed hash goes at the removal; the sealed number
// and name stay for the grace (TestRetentionErasesRemovedMembers). A row
// removed before this rule, still holding its hash, is passed by too.
// Another account that lists the person with the same number still finds
// them (its own row), and the account that lists them again does.
func TestRemovedMemberLeavesTheCallerLookup(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	op := h.staffOf(booking.RoleOperator, h.hosp.ID)
	u := h.user(1)
	mum := h.person("王秀英")
	const mumPhone = "13811112222"
	m := h.addMember(&u, mum, mumPhone, "parent")
	s := h.session(sessionOpts{online: 2})
	b := h.mustBook(u, 1, s, "")
	// A number-only lookup while she is listed: her, as the account's
	// parent, with the booking the account made for her.
	testenv.Must(t, h.svc.CallerKnown(h.ctx, op, mumPhone), "her number is on file while she is listed")
	found, err := h.svc.LookupCaller(h.ctx, op, mum, mumPhone, booking.CheckSpoken)
	testenv.Must(t, err, "look her up from her number while listed")
	if found.Kin.Relationship != booking.RelParent || len(found.Bookings) != 1 || found.Bookings[0].ID != b.ID {
		t.Fatalf("lookup while listed = %+v, want her as a parent with the account's booking", found)
	}
	_, err = h.svc.Cancel(h.ctx, u.actor, b.ID, booking.Origin{})
	testenv.Must(t, err, "cancel her booking (a pending one refuses the removal)")
	var hash []byte
	testenv.Must(t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT phone_hash FROM patients WHERE id = $1`, m.ID).Scan(&hash), "read her hash")

	testenv.Must(t, h.svc.RemovePatient(h.ctx, u.actor, m.ID), "remove her")

	err = h.svc.CallerKnown(h.ctx, op, mumPhone)
	wantErr(t, "a removed member's number", err, booking.ErrPatientNotFound)
	l, err := h.svc.LookupCaller(h.ctx, op, mum, mumPhone, booking.CheckSpoken)
	testenv.Must(t, err, "look her up by ID and name from her number")
	if len(l.Bookings) != 0 {
		t.Errorf("a call from a removed member's number has a say in %d of the account's bookings for her, want none", len(l.Bookings))
	}
	if got := h.memberRow(m.ID); got.PhoneHash || !got.PhoneSealed || !got.NameSealed || got.PhoneMasked == "" || got.NameMasked == "" {
		t.Errorf("her row after the removal = %+v, want the hash gone, the sealed number and name kept for the grace", got)
	}

	t.Run("a row removed before the rule", func(t *testing.T) {
		_, err := h.stack.DB.Pool().Exec(h.ctx, `UPDATE patients SET phone_hash = $2 WHERE id = $1`, m.ID, hash)
		testenv.Must(t, err, "give the removed row its hash back")
		defer func() {
			_, err := h.stack.DB.Pool().Exec(h.ctx, `UPDATE patients SET phone_hash = NULL WHERE id = $1`, m.ID)
			testenv.Must(t, err, "take it away again")
		}()
		err = h.svc.CallerKnown(h.ctx, op, mumPhone)
		wantErr(t, "a removed member's number still hashed", err, booking.ErrPatientNotFound)
		l, err := h.svc.LookupCaller(h.ctx, op, mum, mumPhone, booking.CheckSpoken)
		testenv.Must(t, err, "look her up by ID and name")
		if len(l.Bookings) != 0 {
			t.Errorf("a removed row's hash gives a say in %d bookings, want none", len(l.Bookings))
		}
	})

	t.Run("another account lists her", func(t *testing.T) {
		sis := h.user(1)
		h.addMember(&sis, mum, mumPhone, "parent")
		testenv.Must(t, h.svc.CallerKnown(h.ctx, op, mumPhone), "her number is on file again")
		found, err := h.svc.LookupCaller(h.ctx, op, mum, mumPhone, booking.CheckSpoken)
		testenv.Must(t, err, "look her up from her number")
		if found.Kin.Relationship != booking.RelParent || len(found.Bookings) != 0 {
			t.Errorf("lookup = %+v, want her (the other account's parent) without the first account's booking", found)
		}
	})

	t.Run("listed again", func(t *testing.T) {
		const newPhone = "13833334444"
		back := h.addMember(&u, mum, newPhone, "parent")
		if back.ID != m.ID {
			t.Fatalf("added back as %s, want her row %s", back.ID, m.ID)
		}
		testenv.Must(t, h.svc.CallerKnown(h.ctx, op, newPhone), "her new number is on file")
		found, err := h.svc.LookupCaller(h.ctx, op, mum, newPhone, booking.CheckSpoken)
		testenv.Must(t, err, "look her up from her new number")
		if len(found.Bookings) != 1 || found.Bookings[0].ID != b.ID {
			t.Errorf("lookup of the new number = %+v, want her with the account's booking", found)
		}
		if got := h.memberRow(m.ID); !got.PhoneHash || !got.PhoneSealed || !got.NameSealed || got.Removed {
			t.Errorf("her row listed again = %+v, want everything the new add gave", got)
		}
	})
}

// TestRetentionErasesRemovedMembers: the retention job erases the number
// (hash, sealed, masked) and the sealed name of a member removed more than
// the grace (30 days) ago — not a day sooner, not of a member still listed
// or listed again — and leaves the row, its identity, masked name and name
// hash, and the bookings made for it. A second run changes nothing.
func TestRetentionErasesRemovedMembers(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	u := h.user(1)
	gone := h.addMember(&u, h.person("赵一"), "13800000101", "child")
	lately := h.addMember(&u, h.person("赵二"), "13800000102", "child")
	listed := h.addMember(&u, h.person("赵三"), "13800000103", "spouse")
	backWho := h.person("赵四")
	back := h.addMember(&u, backWho, "13800000104", "parent")
	s := h.session(sessionOpts{online: 1})
	b := h.mustBook(u, 1, s, "")
	_, err := h.svc.Cancel(h.ctx, u.actor, b.ID, booking.Origin{})
	testenv.Must(t, err, "cancel")

	start := time.Now()
	remove := func(p booking.Patient, at time.Time) {
		t.Helper()
		defer h.clock.at(at)()
		testenv.Must(t, h.svc.RemovePatient(h.ctx, u.actor, p.ID), "remove")
	}
	remove(gone, start)
	remove(back, start)
	remove(lately, start.AddDate(0, 0, 2))
	func() {
		defer h.clock.at(start.AddDate(0, 0, 1))()
		if got := h.addMember(&u, backWho, "13800000114", "parent"); got.ID != back.ID {
			t.Fatalf("listed again as %s, want the row %s", got.ID, back.ID)
		}
	}()
	bookings := h.count(`SELECT count(*) FROM bookings`)
	before := map[string]memberRow{}
	for _, p := range []booking.Patient{gone, lately, listed, back} {
		before[p.ID] = h.memberRow(p.ID)
	}

	t.Run("a day before the deadline", func(t *testing.T) {
		defer h.clock.at(start.AddDate(0, 0, 29))()
		p, err := h.svc.Retain(h.ctx)
		testenv.Must(t, err, "retain")
		if p.RemovedMembers != 0 {
			t.Errorf("erased %d removed members 29 days after the removal, want none", p.RemovedMembers)
		}
	})
	defer h.clock.at(start.AddDate(0, 0, 31))()
	p, err := h.svc.Retain(h.ctx)
	testenv.Must(t, err, "retain")
	if p.RemovedMembers != 1 {
		t.Errorf("erased %d removed members, want 1 (removed 31 days ago)", p.RemovedMembers)
	}
	if got, want := h.memberRow(gone.ID), (memberRow{NameHash: true, NameMasked: before[gone.ID].NameMasked, Removed: true}); got != want {
		t.Errorf("the member removed 31 days ago = %+v, want %+v (number and sealed name gone; masked name and name hash kept)", got, want)
	}
	for _, p := range []booking.Patient{lately, listed} {
		if got := h.memberRow(p.ID); got != before[p.ID] {
			t.Errorf("member %s = %+v after the run, want %+v untouched", p.ID, got, before[p.ID])
		}
	}
	if n := h.count(`SELECT count(*) FROM patients WHERE id = $1 AND identity_id IS NOT NULL`, gone.ID); n != 1 {
		t.Errorf("the erased member's row or identity is gone")
	}
	if n := h.count(`SELECT count(*) FROM bookings`); n != bookings {
		t.Errorf("%d bookings after the run, want %d", n, bookings)
	}
	if st := h.svc.Stats(); st.RemovedMembersErased != 1 {
		t.Errorf("stats erased %d removed members, want 1", st.RemovedMembersErased)
	}
	t.Run("again", func(t *testing.T) {
		p, err := h.svc.Retain(h.ctx)
		testenv.Must(t, err, "retain again")
		if p.RemovedMembers != 0 {
			t.Errorf("a second run erased %d removed members, want none", p.RemovedMembers)
		}
	})
}

// eventPhones runs a query of the events' phone column.
func (h *harness) eventPhones(query string, args ...any) []string {
	h.t.Helper()
	rows, err := h.stack.DB.Pool().Query(h.ctx, query, args...)
	testenv.Must(h.t, err, "query: %s", query)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		testenv.Must(h.t, rows.Scan(&p), "scan")
		out = append(out, p)
	}
	return out
}

// TestRetentionErasesEventPhones: the job empties an event's phone
// reference once the event is older than the detection window and the
// grace (30 days) and its session's day, if it has one, passed as long
// ago; the events stay. The near misses keep theirs: a phone booking of a
// session whose day passed 28½ days before (the event itself 32 days old),
// a login 29 days before. A caller found by number only through an erased
// event is found no more; the other still is.
func TestRetentionErasesEventPhones(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	op := h.staffOf(booking.RoleOperator, h.hosp.ID)
	s0 := h.deskSession(deskOpts{phone: 1})
	s3 := h.deskSession(deskOpts{day: 3, phone: 1})
	const oldCaller, newCaller = "13600000010", "13600000013"
	past, err := h.staffBook(op, h.person("钱老伯"), s0, booking.ChannelPhone, oldCaller)
	testenv.Must(t, err, "book a caller on day 0")
	near, err := h.staffBook(op, h.person("孙阿姨"), s3, booking.ChannelPhone, newCaller)
	testenv.Must(t, err, "book a caller on day 3")
	u := h.user(0)
	run := h.day.AddDate(0, 0, 32).Add(12 * time.Hour) // day 0 passed 31½ days before, day 3 28½
	login := func(at time.Time) {
		defer h.clock.at(at)()
		h.login(u.phone)
	}
	login(run.AddDate(0, 0, -31))
	login(run.AddDate(0, 0, -29))
	events := h.count(`SELECT count(*) FROM booking_events`)
	withPhone := h.count(`SELECT count(*) FROM booking_events WHERE phone <> ''`)
	phoneOf := func(bookingID string) string {
		p := h.eventPhones(`SELECT phone FROM booking_events WHERE booking_id = $1 AND type = 'booked'`, bookingID)
		if len(p) != 1 {
			t.Fatalf("%d booked events of %s, want 1", len(p), bookingID)
		}
		return p[0]
	}
	logins := func() []string {
		return h.eventPhones(`SELECT phone FROM booking_events WHERE account_id = $1 AND type = 'login' ORDER BY ts`, u.actor.AccountID)
	}
	if phoneOf(past.ID) == "" || phoneOf(near.ID) == "" || len(logins()) != 3 || slices.Contains(logins(), "") {
		t.Fatalf("events before the run hold no phone reference")
	}

	defer h.clock.at(run)()
	p, err := h.svc.Retain(h.ctx)
	testenv.Must(t, err, "retain")
	if got := phoneOf(past.ID); got != "" {
		t.Errorf("day 0's phone booking event keeps its phone reference")
	}
	if got := phoneOf(near.ID); got == "" {
		t.Errorf("day 3's phone booking event (its day passed 28½ days ago) lost its phone reference")
	}
	// The logins: at account creation's time (with the harness), 31 days
	// and 29 days before the run.
	if got := logins(); len(got) != 3 || got[0] != "" || got[1] != "" || got[2] == "" {
		t.Errorf("logins' phone references after the run = %q, want the first two emptied and the last (29 days old) kept", got)
	}
	if n := h.count(`SELECT count(*) FROM booking_events`); n != events {
		t.Errorf("%d events after the run, want %d: the events stay", n, events)
	}
	if emptied := withPhone - h.count(`SELECT count(*) FROM booking_events WHERE phone <> ''`); p.EventPhones != emptied || emptied < 4 {
		t.Errorf("the run counted %d events' phones, and emptied %d (want at least day 0's booking, the account's creation, two logins)",
			p.EventPhones, emptied)
	}
	if st := h.svc.Stats(); st.EventPhonesErased != uint64(p.EventPhones) {
		t.Errorf("stats erased %d events' phones, want %d", st.EventPhonesErased, p.EventPhones)
	}
	err = h.svc.CallerKnown(h.ctx, op, oldCaller)
	wantErr(t, "a caller known only by an erased event", err, booking.ErrPatientNotFound)
	if err := h.svc.CallerKnown(h.ctx, op, newCaller); err != nil {
		t.Errorf("the day-3 caller's number: %v, want on file", err)
	}
	t.Run("again", func(t *testing.T) {
		p, err := h.svc.Retain(h.ctx)
		testenv.Must(t, err, "retain again")
		if p.EventPhones != 0 {
			t.Errorf("a second run emptied %d events' phones, want none", p.EventPhones)
		}
	})
}

// TestRetentionErasesReportPhones: the number a report says a slot was
// offered from (hash and mask) is erased once the report is closed, more
// than the grace (30 days) ago, filed before the detection window, and no
// open flag links it or holds it as evidence; the case stays. Near misses:
// closed 29 days before, still open, linked to an open flag, attached to
// one by the detector. Once the flag is decided, they go too.
func TestRetentionErasesReportPhones(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	admin := h.staffOf(booking.RoleAdmin, "")
	u := h.user(1)
	report := func(phone string) booking.Case {
		t.Helper()
		c, err := h.svc.FileCase(h.ctx, u.actor, booking.CaseRequest{Kind: booking.CaseReport, HospitalID: h.hosp.ID,
			Text: "someone sold me a slot for 500 yuan", OfferedPhone: phone}, booking.Origin{})
		testenv.Must(t, err, "file a report")
		return c
	}
	closeAt := func(c booking.Case, at time.Time) {
		t.Helper()
		defer h.clock.at(at)()
		_, err := h.svc.CloseCase(h.ctx, admin, c.ID, "looked into")
		testenv.Must(t, err, "close")
	}
	closed, lately, open, linked, attached := report("13500000001"), report("13500000002"), report("13500000003"),
		report("13500000004"), report("13500000005")
	start := time.Now()
	const flagID = "flag-retention-test"
	_, err := h.store.SaveFlags(h.ctx, []booking.Flag{{ID: flagID, Score: 9, Status: booking.FlagOpen,
		AccountIDs: []string{booking.NewID()}, CreatedAt: start, CaseIDs: []string{attached.ID}}}, start, 0)
	testenv.Must(t, err, "the detector's flag")
	_, err = h.svc.AnswerCase(h.ctx, admin, linked.ID, booking.CaseAnswer{Answer: "linked to a flag", FlagID: flagID})
	testenv.Must(t, err, "link a report")
	closeAt(closed, start)
	closeAt(linked, start)
	closeAt(attached, start)
	closeAt(lately, start.AddDate(0, 0, 2))

	offered := func(c booking.Case) (hash bool, masked string) {
		t.Helper()
		testenv.Must(t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT offered_phone_hash IS NOT NULL, offered_phone_masked FROM patient_cases WHERE id = $1`,
			c.ID).Scan(&hash, &masked), "read the case")
		return hash, masked
	}
	cases := h.count(`SELECT count(*) FROM patient_cases`)

	defer h.clock.at(start.AddDate(0, 0, 31))()
	p, err := h.svc.Retain(h.ctx)
	testenv.Must(t, err, "retain")
	if p.ReportPhones != 1 {
		t.Errorf("erased %d reports' numbers, want 1", p.ReportPhones)
	}
	if hash, masked := offered(closed); hash || masked != "" {
		t.Errorf("the report closed 31 days ago keeps its offered number (%v, %q)", hash, masked)
	}
	for name, c := range map[string]booking.Case{"closed 29 days ago": lately, "open": open, "linked to an open flag": linked,
		"attached to an open flag": attached} {
		if hash, masked := offered(c); !hash || masked == "" {
			t.Errorf("the report %s lost its offered number", name)
		}
	}
	if n := h.count(`SELECT count(*) FROM patient_cases`); n != cases {
		t.Errorf("%d cases after the run, want %d", n, cases)
	}
	got, err := h.svc.Case(h.ctx, admin, closed.ID)
	if err != nil || got.Text != closed.Text || got.OfferedPhoneMasked != "" {
		t.Errorf("the erased report reads %+v (%v), want its text without a number", got, err)
	}

	t.Run("once the flag is decided", func(t *testing.T) {
		_, err := h.svc.DecideFlag(h.ctx, admin, flagID, booking.Decision{Action: "dismiss", Note: "not a scalper", ReasonCode: "family"})
		testenv.Must(t, err, "dismiss the flag")
		p, err := h.svc.Retain(h.ctx)
		testenv.Must(t, err, "retain")
		if p.ReportPhones != 2 {
			t.Errorf("erased %d reports' numbers, want the linked and the attached one", p.ReportPhones)
		}
		if st := h.svc.Stats(); st.ReportPhonesErased != 3 {
			t.Errorf("stats erased %d reports' numbers, want 3", st.ReportPhonesErased)
		}
	})
}
