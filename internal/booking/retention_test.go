package booking_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// ids runs a query of one text column and returns its rows.
func (h *harness) ids(query string) []string {
	h.t.Helper()
	rows, err := h.stack.DB.Pool().Query(h.ctx, query)
	testenv.Must(h.t, err, "query: %s", query)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	testenv.Must(h.t, err, "read: %s", query)
	return ids
}

// keptItems lists the items whose numbers are kept to call back, sorted.
func (h *harness) keptItems() []string {
	return h.ids(`SELECT item_id::TEXT FROM caller_phones ORDER BY item_id`)
}

// callBackItems lists the items of the call-back rows left (told or not),
// sorted.
func (h *harness) callBackItems() []string {
	return h.ids(`SELECT COALESCE(booking_id, waitlist_id, entry_id)::TEXT FROM notifications WHERE call_back ORDER BY 1`)
}

// callBackPart is what a run deleted of the call-back data (the rest of
// Purged is TestRetentionErases's).
func callBackPart(p booking.Purged) booking.Purged {
	return booking.Purged{CallBacks: p.CallBacks, CallerPhones: p.CallerPhones}
}

func sorted(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

// TestRetentionPurgesCallBackData: the numbers kept to call back
// (caller_phones: a phone booking's, a phone waitlist place's, a walk-in's
// contact number) and the call-back rows about them are deleted once their
// session's day has passed more than the grace (30 days) ago and no
// substitute's slot is held for an answer — told or never told alike —
// and nothing else: the near misses stay (a session whose day passed 29½
// days ago; a slot a substitute holds, not yet answered or lapsed; a row
// still on the list), and so do the bookings, the account's notice, the
// audit; a number stays while a row about its item does. A second run
// deletes nothing; the counts reach the stats. After the offer lapses and
// the grace runs out again, the rest goes. The job runs under its lease.
func TestRetentionPurgesCallBackData(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	if i := slices.IndexFunc(h.svc.Jobs(booking.Background{}), func(j booking.Job) bool { return j.Name == "retention" }); i < 0 ||
		!h.svc.Jobs(booking.Background{})[i].Exclusive || h.svc.Jobs(booking.Background{})[i].Every != time.Hour {
		t.Errorf("no hourly exclusive retention job among the Service's jobs")
	}
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	op, clerk := h.staffOf(booking.RoleOperator, h.hosp.ID), h.staffOf(booking.RoleClerk, h.hosp.ID)
	must := func(b booking.Booking, err error) booking.Booking {
		t.Helper()
		testenv.Must(t, err, "book")
		return b
	}

	// Day 0 (tomorrow): a caller, a walk-in with a contact number, a
	// caller's waitlist place and an account's booking; stopped.
	s0 := h.deskSession(deskOpts{online: 1, phone: 1, onsite: 1})
	caller := must(h.staffBook(op, h.person("孙老伯"), s0, booking.ChannelPhone, "13912345678"))
	walkIn := must(h.svc.BookFor(h.ctx, clerk, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: h.person("钱阿婆"), SessionID: s0.ID,
		Channel: booking.ChannelOnsite, ContactPhone: "13566667777"}))
	place, err := h.svc.JoinWaitlistFor(h.ctx, op, booking.StaffWaitlistRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IdentityRequest: h.person("吴先生"), SessionID: s0.ID,
		CallerPhone: "13700001111"})
	testenv.Must(t, err, "waitlist a caller")
	online := h.mustBook(h.user(1), 0, s0, "")
	// Day 1 and day 2: a caller each, stopped: either side of the line.
	s1 := h.deskSession(deskOpts{day: 1, phone: 1})
	past := must(h.staffBook(op, h.person("周阿姨"), s1, booking.ChannelPhone, "13600000001"))
	s2 := h.deskSession(deskOpts{day: 2, phone: 1})
	near := must(h.staffBook(op, h.person("郑老师"), s2, booking.ChannelPhone, "13600000002"))
	// Day 0, another clinic, stopped with a substitute: the slot held for
	// the caller is not answered.
	s3 := h.deskSession(deskOpts{dept: "Dermatology", phone: 1})
	sub := h.colleague("Dermatology", "attending physician", "")
	offered := must(h.staffBook(op, h.person("吴奶奶"), s3, booking.ChannelPhone, "13987654321"))

	for _, s := range []*booking.Session{s0, s1, s2} {
		_, err := h.svc.StopSession(h.ctx, admin, s.ID, "the doctor is ill")
		testenv.Must(t, err, "stop %s", s.VisitDate)
	}
	stop, err := h.svc.Stop(h.ctx, admin, s3.ID, booking.StopRequest{Reason: "the doctor is ill", SubstituteDoctorID: sub.ID})
	testenv.Must(t, err, "stop with a substitute")
	// The caller is told (a told row goes as an untold one does).
	list, err := h.svc.CallBacks(h.ctx, op)
	testenv.Must(t, err, "the list")
	for _, c := range list {
		if c.BookingID == caller.ID {
			_, err := h.svc.MarkCallBack(h.ctx, op, c.NotificationID, booking.CallTold, "", booking.Origin{})
			testenv.Must(t, err, "tell the caller")
		}
	}
	// Numbers whose item is gone: one kept 31 days before the run, one a
	// day before it.
	run := h.day.AddDate(0, 0, 32).Add(12 * time.Hour) // day 2 passed 29½ days before, day 1 30½
	oldOrphan, newOrphan := booking.NewID(), booking.NewID()
	testenv.Must(t, h.store.KeepCallerPhone(h.ctx, oldOrphan, caller.IdentityID, []byte("sealed"), "139****0000", false,
		run.AddDate(0, 0, -31)), "keep an old orphan")
	testenv.Must(t, h.store.KeepCallerPhone(h.ctx, newOrphan, caller.IdentityID, []byte("sealed"), "139****0000", false,
		run.AddDate(0, 0, -1)), "keep a new orphan")

	if got, want := h.keptItems(), sorted(caller.ID, walkIn.ID, place.ID, past.ID, near.ID, offered.ID, oldOrphan, newOrphan); !slices.Equal(got, want) {
		t.Fatalf("numbers kept before the run = %v, want %v", got, want)
	}
	// Day 1's row was rung a day before the run (as a row an offer keeps
	// open may be): the row stays, and so does the number it rings,
	// though the number's own item is past the grace.
	testenv.Must(t, func() error {
		_, err := h.stack.DB.Pool().Exec(h.ctx, `UPDATE notifications SET last_call_at = $2, call_attempts = 1 WHERE booking_id = $1`,
			past.ID, run.AddDate(0, 0, -1))
		return err
	}(), "ring day 1's row")

	if got, want := h.callBackItems(), sorted(caller.ID, walkIn.ID, place.ID, past.ID, near.ID, offered.ID); !slices.Equal(got, want) {
		t.Fatalf("call-back rows before the run = %v, want %v", got, want)
	}
	untouched := func() [4]int {
		return [4]int{
			h.count(`SELECT count(*) FROM notifications WHERE NOT call_back`),
			h.count(`SELECT count(*) FROM bookings`),
			h.count(`SELECT count(*) FROM waitlist`),
			h.count(`SELECT count(*) FROM audit_log`),
		}
	}
	before := untouched()
	if before[0] != 1 {
		t.Fatalf("notices of an account = %d, want the online booking's one", before[0])
	}

	t.Run("during the grace", func(t *testing.T) {
		defer h.clock.at(h.day.AddDate(0, 0, 30).Add(12 * time.Hour))() // day 0 passed 29½ days ago
		p, err := h.svc.Retain(h.ctx)
		testenv.Must(t, err, "purge")
		if callBackPart(p) != (booking.Purged{}) {
			t.Errorf("purged %+v within the grace, want nothing", p)
		}
	})

	defer h.clock.at(run)()
	p, err := h.svc.Retain(h.ctx)
	testenv.Must(t, err, "purge")
	if want := (booking.Purged{CallBacks: 3, CallerPhones: 4}); callBackPart(p) != want {
		t.Errorf("purged %+v, want %+v (the rows and numbers of day 0, and the old orphan)", p, want)
	}
	kept := sorted(past.ID, near.ID, offered.ID, newOrphan)
	if got := h.keptItems(); !slices.Equal(got, kept) {
		t.Errorf("numbers kept after the run = %v, want %v (day 1's rung lately, day 2's, the offered slot's, the new orphan)", got, kept)
	}
	if got, want := h.callBackItems(), sorted(past.ID, near.ID, offered.ID); !slices.Equal(got, want) {
		t.Errorf("call-back rows after the run = %v, want %v", got, want)
	}
	if got := untouched(); got != before {
		t.Errorf("account notices, bookings, waitlist places, audit entries = %v after the run, want %v untouched", got, before)
	}
	if st := h.svc.Stats(); st.CallBacksPurged != 3 || st.CallerPhonesPurged != 4 {
		t.Errorf("stats purged %d rows and %d numbers, want 3 and 4", st.CallBacksPurged, st.CallerPhonesPurged)
	}
	if _, err := h.svc.Booking(h.ctx, op, online.ID); err != nil {
		t.Errorf("the account's booking after the run: %v", err)
	}
	logs := h.stack.Logs.String()
	if !strings.Contains(logs, `msg="purged personal data past retention" component=booking call_backs=3 caller_phones=4 `) {
		t.Errorf("no log line of the run's counts in the service log")
	}
	for _, n := range []string{"12345678", "66667777", "00001111", "00000001"} {
		if strings.Contains(logs, n) {
			t.Errorf("the service log holds a number (…%s)", n)
		}
	}

	t.Run("again", func(t *testing.T) {
		p, err := h.svc.Retain(h.ctx)
		testenv.Must(t, err, "purge again")
		if p != (booking.Purged{}) {
			t.Errorf("a second run purged %+v, want nothing", p)
		}
		if got := h.keptItems(); !slices.Equal(got, kept) {
			t.Errorf("numbers kept after a second run = %v, want %v", got, kept)
		}
	})

	t.Run("once the offer lapsed and the grace ran out", func(t *testing.T) {
		func() {
			defer h.clock.at(stop.HoldUntil.Add(time.Second))()
			n, err := h.svc.LapseOffers(h.ctx)
			testenv.Must(t, err, "lapse")
			if n != 1 {
				t.Fatalf("%d offers lapsed, want 1", n)
			}
		}()
		defer h.clock.at(run.AddDate(0, 0, 31))()
		p, err := h.svc.Retain(h.ctx)
		testenv.Must(t, err, "purge")
		if want := (booking.Purged{CallBacks: 3, CallerPhones: 4}); callBackPart(p) != want {
			t.Errorf("purged %+v, want %+v", p, want)
		}
		if got := h.keptItems(); len(got) != 0 {
			t.Errorf("numbers kept = %v, want none", got)
		}
		if got := h.callBackItems(); len(got) != 0 {
			t.Errorf("call-back rows = %v, want none", got)
		}
	})
}
