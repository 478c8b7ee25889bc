package booking_test

import (
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// Tests of review21 M7's retention (session 23, retention.go): what a
// patient was told, persons nobody lists, closed cases' texts. Real
// PostgreSQL and Redis; the clock is moved, never slept on.

// retainAt runs the retention job once with the clock at at.
func (h *harness) retainAt(at time.Time) booking.Purged {
	h.t.Helper()
	defer h.clock.at(at)()
	p, err := h.svc.Retain(h.ctx)
	testenv.Must(h.t, err, "retain")
	return p
}

// TestRetentionPurgesNotifications: the job deletes a closed account's
// notifications 30 days after the closing (not 29), and a read notification
// a year after it was written (not a day sooner); an unread one of an open
// account stays however old.
func TestRetentionPurgesNotifications(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	closing, open := h.user(0), h.user(0)
	start := time.Now()
	note := func(u user, written time.Time, read bool) string {
		t.Helper()
		id := booking.NewID()
		var readAt *time.Time
		if read {
			readAt = &written
		}
		_, err := h.stack.DB.Pool().Exec(h.ctx, `INSERT INTO notifications (id, hospital_id, kind, account_id, body, created_at, read_at)
			VALUES ($1, $2, 'case_answered', $3, '您的投诉已答复', $4, $5)`, id, h.hosp.ID, u.actor.AccountID, written, readAt)
		testenv.Must(t, err, "write a notification")
		return id
	}
	kept := func(id string) bool { return h.count(`SELECT count(*) FROM notifications WHERE id = $1`, id) == 1 }
	ofClosed := []string{note(closing, start, false), note(closing, start, true)}
	_, err := h.closeOnline(closing)
	testenv.Must(t, err, "close the account")
	var closedAt time.Time
	testenv.Must(t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT closed_at FROM accounts WHERE id = $1`, closing.actor.AccountID).Scan(&closedAt), "closed at")
	// Its two and the closing's own notices (requested; accounts23).
	ofClosedAll := h.count(`SELECT count(*) FROM notifications WHERE account_id = $1`, closing.actor.AccountID)
	if ofClosedAll < 2 {
		t.Fatalf("the closed account holds %d notifications, want its 2 at least", ofClosedAll)
	}
	run := closedAt.AddDate(0, 0, 365) // the read ones' year is counted from start
	readOld := note(open, run.AddDate(0, 0, -366), true)
	readDayShort := note(open, run.AddDate(0, 0, -364), true)
	unreadOld := note(open, run.AddDate(0, 0, -400), false)

	t.Run("29 days after the closing", func(t *testing.T) {
		h.retainAt(closedAt.AddDate(0, 0, 29))
		for _, id := range ofClosed {
			if !kept(id) {
				t.Errorf("a closed account's notification is gone 29 days after the closing, want kept 30")
			}
		}
	})
	t.Run("31 days after the closing", func(t *testing.T) {
		p := h.retainAt(closedAt.AddDate(0, 0, 31))
		for _, id := range ofClosed {
			if kept(id) {
				t.Errorf("a closed account's notification is kept 31 days after the closing")
			}
		}
		if p.Notifications != ofClosedAll {
			t.Errorf("the run counted %d notifications, want the closed account's %d", p.Notifications, ofClosedAll)
		}
	})
	p := h.retainAt(run)
	if kept(readOld) {
		t.Errorf("a notification read and written 366 days ago is kept")
	}
	if !kept(readDayShort) {
		t.Errorf("a notification read and written 364 days ago is gone")
	}
	if !kept(unreadOld) {
		t.Errorf("an unread notification of an open account is gone")
	}
	if p.Notifications != 1 {
		t.Errorf("the run counted %d notifications, want 1", p.Notifications)
	}
	if st := h.svc.Stats(); st.NotificationsPurged != uint64(ofClosedAll)+1 {
		t.Errorf("stats purged %d notifications, want %d", st.NotificationsPurged, ofClosedAll+1)
	}
}

// sealedOf is what SQL keeps of a person: whether the sealed number and
// name are left, and the hashes and masks.
type sealedOf struct {
	Number, Name             bool
	IDHash, NameHash         string
	NumberMasked, NameMasked string
}

func (h *harness) sealedOf(identityID string) sealedOf {
	h.t.Helper()
	var s sealedOf
	testenv.Must(h.t, h.stack.DB.Pool().QueryRow(h.ctx, `
		SELECT number_sealed <> ''::BYTEA, name_sealed <> ''::BYTEA, encode(id_hash, 'hex'), encode(name_hash, 'hex'), number_masked, name_masked
		  FROM identities WHERE id = $1`, identityID).Scan(&s.Number, &s.Name, &s.IDHash, &s.NameHash, &s.NumberMasked, &s.NameMasked),
		"read identity %s", identityID)
	return s
}

// TestRetentionErasesPersonsNobodyLists: the job erases a person's sealed
// ID number and name once no account lists them, no bar names them, no
// booking of theirs is to come, and a year has passed since the last of
// those — keeping the keyed hashes and masks, so the desk still finds them
// and their old booking, and the one-a-day rule still counts them. The near
// misses keep theirs: a person still listed, one removed a day short of a
// year, one whose visit was a day short of a year ago, one with a booking
// to come, one barred until within the year. A person met again is sealed
// again from what they give.
func TestRetentionErasesPersonsNobodyLists(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	op := h.staffOf(booking.RoleOperator, h.hosp.ID)
	start := time.Now()
	run := start.AddDate(0, 0, 368)
	s0 := h.deskSession(deskOpts{phone: 5})         // tomorrow: 367 days before the run
	s3 := h.deskSession(deskOpts{day: 3, phone: 5}) // 364 days before the run
	later := h.deskSession(deskOpts{day: 4, phone: 5})
	book := func(who booking.IdentityRequest, s *booking.Session) (identityID, bookingID string) {
		t.Helper()
		b, err := h.staffBook(op, who, s, booking.ChannelPhone, "13700000001")
		testenv.Must(t, err, "book %s", who.Name)
		testenv.Must(t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT identity_id::TEXT FROM bookings WHERE id = $1`, b.ID).Scan(&identityID), "its person")
		return identityID, b.ID
	}
	goneWho := h.person("周一")
	gone, goneBooking := book(goneWho, s0)
	visitDayShort, _ := book(h.person("周二"), s3)
	toCome, toComeBooking := book(h.person("周三"), s0)
	_, err := h.stack.DB.Pool().Exec(h.ctx, `UPDATE bookings SET visit_date = $2::DATE WHERE id = $1`, toComeBooking,
		run.AddDate(0, 0, 2).Format(time.DateOnly))
	testenv.Must(t, err, "move the booking to after the run")
	barred, barredBooking := book(h.person("周四"), s0)
	_, err = h.stack.DB.Pool().Exec(h.ctx, `INSERT INTO bars (trigger_booking_id, identity_id, no_shows, until, created_at) VALUES ($1, $2, 3, $3, $4)`,
		barredBooking, barred, start.AddDate(0, 0, 10), start)
	testenv.Must(t, err, "bar them")

	u := h.user(0)
	listedWho, removedWho, removedLateWho := h.person("吴一"), h.person("吴二"), h.person("吴三")
	listedP := h.addMember(&u, listedWho, "13800000201", "parent")
	removedP := h.addMember(&u, removedWho, "13800000202", "parent")
	removedLateP := h.addMember(&u, removedLateWho, "13800000203", "child")
	testenv.Must(t, h.svc.RemovePatient(h.ctx, u.actor, removedP.ID), "remove")
	func() {
		defer h.clock.at(start.AddDate(0, 0, 4))()
		testenv.Must(t, h.svc.RemovePatient(h.ctx, u.actor, removedLateP.ID), "remove later")
	}()
	identityOfPatient := func(p booking.Patient) string {
		var id string
		testenv.Must(t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT identity_id::TEXT FROM patients WHERE id = $1`, p.ID).Scan(&id), "identity")
		return id
	}
	listed, removed, removedLate := identityOfPatient(listedP), identityOfPatient(removedP), identityOfPatient(removedLateP)
	before := map[string]sealedOf{}
	for _, id := range []string{gone, visitDayShort, toCome, barred, listed, removed, removedLate} {
		before[id] = h.sealedOf(id)
		if !before[id].Number || !before[id].Name {
			t.Fatalf("a person holds no sealed number or name before the run: %+v", before[id])
		}
	}

	if p := h.retainAt(start.AddDate(0, 0, 365)); p.Identities != 0 {
		t.Errorf("erased %d persons 364 days after their visit, want none", p.Identities)
	}
	func() {
		defer h.clock.at(run)()
		p, err := h.svc.Retain(h.ctx)
		testenv.Must(t, err, "retain")
		if p.Identities != 2 {
			t.Errorf("erased %d persons, want 2 (the one whose visit was 367 days ago, the one removed 368 days ago)", p.Identities)
		}
		for _, id := range []string{gone, removed} {
			want := before[id]
			want.Number, want.Name = false, false
			if got := h.sealedOf(id); got != want {
				t.Errorf("an erased person = %+v, want %+v (the sealed number and name gone, hashes and masks kept)", got, want)
			}
		}
		for name, id := range map[string]string{"visited 364 days ago": visitDayShort, "with a booking to come": toCome,
			"barred until 358 days ago": barred, "listed": listed, "removed 364 days ago": removedLate} {
			if got := h.sealedOf(id); got != before[id] {
				t.Errorf("the person %s = %+v, want %+v untouched", name, got, before[id])
			}
		}
		if st := h.svc.Stats(); st.IdentitiesErased != 2 {
			t.Errorf("stats erased %d persons, want 2", st.IdentitiesErased)
		}
		again, err := h.svc.Retain(h.ctx)
		testenv.Must(t, err, "retain again")
		if again.Identities != 0 {
			t.Errorf("a second run erased %d persons, want none", again.Identities)
		}
	}()

	// The readers cope: the desk and the operator still find the erased
	// person by number and name (the hashes), with their old booking under
	// its mask; the roster still lists it.
	if got := h.identityOf(goneWho); got != gone {
		t.Errorf("the desk finds the erased person as %q, want %s", got, gone)
	}
	l, err := h.svc.LookupCaller(h.ctx, op, goneWho, "13700000001", booking.CheckSpoken)
	testenv.Must(t, err, "look up the erased person by phone")
	if len(l.Bookings) != 1 || l.Bookings[0].ID != goneBooking {
		t.Errorf("the lookup of an erased person = %+v, want their old booking", l.Bookings)
	}
	// Met again: booked once more, their number and name are sealed again.
	_, again := book(goneWho, later)
	if again == goneBooking {
		t.Fatalf("the new booking is the old one")
	}
	if got := h.sealedOf(gone); !got.Number || !got.Name || got.IDHash != before[gone].IDHash {
		t.Errorf("the erased person met again = %+v, want their number and name sealed again", got)
	}
}

// TestRetentionErasesClosedCaseTexts: a closed case's free texts (the
// patient's text, the answer, the closing note) are emptied the
// complaint-record period (3 years) after it closed, not a day sooner, and
// never while it is open; its kind, category, dates and outcome stay.
func TestRetentionErasesClosedCaseTexts(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	admin := h.staffOf(booking.RoleAdmin, "")
	u := h.user(1)
	file := func() booking.Case {
		t.Helper()
		c, err := h.svc.FileCase(h.ctx, u.actor, booking.CaseRequest{Kind: booking.CaseComplaint, HospitalID: h.hosp.ID,
			Category: "service", Text: "挂号窗口态度很差，我等了两个小时"}, booking.Origin{})
		testenv.Must(t, err, "file a complaint")
		_, err = h.svc.AnswerCase(h.ctx, admin, c.ID, booking.CaseAnswer{Answer: "已向窗口负责人核实并致歉"})
		testenv.Must(t, err, "answer")
		return c
	}
	start := time.Now()
	old, dayShort, open := file(), file(), file()
	closeAt := func(c booking.Case, at time.Time) {
		t.Helper()
		defer h.clock.at(at)()
		_, err := h.svc.CloseCase(h.ctx, admin, c.ID, "已处理完毕")
		testenv.Must(t, err, "close")
	}
	closeAt(old, start)
	closeAt(dayShort, start.AddDate(0, 0, 2))
	type texts struct {
		Body, Answer, Note, Kind, Category, Status string
		Closed                                     bool
	}
	read := func(c booking.Case) texts {
		t.Helper()
		var x texts
		testenv.Must(t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT body, answer, close_note, kind, category, status, closed_at IS NOT NULL
			FROM patient_cases WHERE id = $1`, c.ID).Scan(&x.Body, &x.Answer, &x.Note, &x.Kind, &x.Category, &x.Status, &x.Closed), "read case")
		return x
	}
	before := map[string]texts{}
	for _, c := range []booking.Case{old, dayShort, open} {
		before[c.ID] = read(c)
	}
	p := h.retainAt(start.AddDate(3, 0, 1))
	if p.CaseTexts != 1 {
		t.Errorf("erased the texts of %d cases, want 1", p.CaseTexts)
	}
	want := before[old.ID]
	want.Body, want.Answer, want.Note = "", "", ""
	if got := read(old); got != want {
		t.Errorf("the case closed 3 years and a day ago = %+v, want %+v", got, want)
	}
	for name, c := range map[string]booking.Case{"closed a day short of 3 years": dayShort, "still open": open} {
		if got := read(c); got != before[c.ID] {
			t.Errorf("the case %s = %+v, want %+v untouched", name, got, before[c.ID])
		}
	}
	got, err := h.svc.Case(h.ctx, admin, old.ID)
	if err != nil || got.Status != booking.CaseClosed || got.Text != "" {
		t.Errorf("the erased case reads %+v (%v), want it closed without its text", got, err)
	}
	if st := h.svc.Stats(); st.CaseTextsErased != 1 {
		t.Errorf("stats erased %d cases' texts, want 1", st.CaseTextsErased)
	}
}
