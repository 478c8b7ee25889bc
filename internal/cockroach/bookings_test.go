package cockroach_test

import (
	"errors"
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// slotOn is the first slot of s in channel ch numbered from `from` on.
func slotOn(t *testing.T, s booking.Session, ch booking.Channel, from int) int {
	t.Helper()
	for n := from; ; n++ {
		sl, ok := s.Slot(n)
		if !ok {
			t.Fatalf("session %s has no %s slot from %d", s.ID, ch, from)
		}
		if sl.Channel == ch {
			return n
		}
	}
}

// TestInsertBookingsPerRow: in one batch, every row a rule refuses gets its
// own answer and leaves nothing behind (no booking, event or audit entry),
// and the others commit with their events and, for staff bookings, their
// audit entries.
func TestInsertBookingsPerRow(t *testing.T) {
	w := newWorld(t)
	patient := func() booking.Patient { _, p := w.patientOf(); return p }
	px := patient()
	held := w.newBooking(w.s1, slotOn(t, w.s1, booking.ChannelOnline, 1), px)
	testenv.Must(t, w.insert(held), "insert the booking already there")

	staff := w.createAccount()
	byPhone := func(slot int, p booking.Patient) booking.Booking {
		b := w.newBooking(w.s1, slot, p)
		b.PatientID, b.AccountID, b.BookedBy = "", "", staff.ID
		return b
	}
	// A person whose name is verified as another than the booking's.
	pn := patient()
	_, err := w.db.Pool().Exec(w.ctx, `UPDATE identities SET name_verified_at = now() WHERE id = $1`, pn.IdentityID)
	testenv.Must(t, err, "verify a name")
	unverified := w.newBooking(w.s1, slotOn(t, w.s1, booking.ChannelOnline, 3), pn)
	unverified.NameHash = string(randomBytes(32))

	dupID := w.newBooking(w.s3, slotOn(t, w.s3, booking.ChannelOnline, 1), patient())
	dupID.ID = held.ID
	s3b := slotOn(t, w.s3, booking.ChannelOnline, slotOn(t, w.s3, booking.ChannelOnline, 1)+1)
	phone := slotOn(t, w.s1, booking.ChannelPhone, 1)
	rows := []struct {
		name string
		b    booking.Booking
		want error // nil: committed
	}{
		{"a free slot", w.newBooking(w.s1, slotOn(t, w.s1, booking.ChannelOnline, 2), patient()), nil},
		{"the slot of a booking already there (drift)", w.newBooking(w.s1, held.SlotNo, patient()), booking.ErrSlotTaken},
		{"the same person, day and department", w.newBooking(w.s2, slotOn(t, w.s2, booking.ChannelOnline, 1), px), booking.ErrQuotaDayDept},
		{"the id of a booking already there", dupID, booking.ErrInProgress},
		{"a name that is not the verified one", unverified, booking.ErrIdentityUnverified},
		{"a staff booking", byPhone(phone, patient()), nil},
		{"a staff booking of a slot taken in this batch", byPhone(phone, patient()), booking.ErrSlotTaken},
		{"first of two for one slot in this batch", w.newBooking(w.s3, s3b, patient()), nil},
		{"second of two for one slot in this batch", w.newBooking(w.s3, s3b, patient()), booking.ErrSlotTaken},
	}
	bs, evs := make([]booking.Booking, len(rows)), make([]booking.Event, len(rows))
	for i, r := range rows {
		bs[i], evs[i] = r.b, bookedEvent(r.b)
	}
	bookings, events, audits := w.count(`SELECT count(*) FROM bookings`), w.count(`SELECT count(*) FROM booking_events`),
		w.count(`SELECT count(*) FROM audit_log`)
	answers, err := w.st.InsertBookings(w.ctx, bs, evs)
	testenv.Must(t, err, "InsertBookings")
	if len(answers) != len(rows) {
		t.Fatalf("answers = %d, want %d", len(answers), len(rows))
	}
	committed, staffIn := 0, 0
	for i, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			if !errors.Is(answers[i], r.want) || (r.want == nil) != (answers[i] == nil) {
				t.Errorf("answer = %v, want %v", answers[i], r.want)
			}
			if r.want != nil {
				if n := w.count(`SELECT count(*) FROM booking_events WHERE id = $1`, evs[i].ID); n != 0 {
					t.Errorf("events of the refused row = %d, want 0", n)
				}
				if n := w.count(`SELECT count(*) FROM audit_log WHERE target = $1`, "booking:"+r.b.ID); r.b.ID != held.ID && n != 0 {
					t.Errorf("audit entries of the refused row = %d, want 0", n)
				}
				return
			}
			committed++
			got, err := w.st.Booking(w.ctx, r.b.ID)
			testenv.Must(t, err, "read back")
			if got.SessionID != r.b.SessionID || got.SlotNo != r.b.SlotNo || got.IdentityID != r.b.IdentityID || got.BookedBy != r.b.BookedBy {
				t.Errorf("read back %+v, want %+v", got, r.b)
			}
			if n := w.count(`SELECT count(*) FROM booking_events WHERE id = $1 AND booking_id = $2`, evs[i].ID, r.b.ID); n != 1 {
				t.Errorf("its event = %d rows, want 1", n)
			}
			wantAudit := 0
			if r.b.BookedBy != "" {
				wantAudit = 1
				staffIn++
			}
			if n := w.count(`SELECT count(*) FROM audit_log WHERE target = $1 AND action = 'phone_booking'`, "booking:"+r.b.ID); n != wantAudit {
				t.Errorf("its audit entries = %d, want %d", n, wantAudit)
			}
		})
	}
	if n := w.count(`SELECT count(*) FROM bookings`); n != bookings+committed {
		t.Errorf("bookings = %d, want %d", n, bookings+committed)
	}
	if n := w.count(`SELECT count(*) FROM booking_events`); n != events+committed {
		t.Errorf("events = %d, want %d", n, events+committed)
	}
	if n := w.count(`SELECT count(*) FROM audit_log`); n != audits+staffIn {
		t.Errorf("audit entries = %d, want %d", n, audits+staffIn)
	}
}

// TestInsertBookingsConflictGone: a row refused by a booking that is
// cancelled before the store reads why is written again, not answered with
// a reason that no longer holds.
func TestInsertBookingsConflictGone(t *testing.T) {
	w := newWorld(t)
	_, px := w.patientOf()
	_, py := w.patientOf()
	slot := slotOn(t, w.s1, booking.ChannelOnline, 1)
	held := w.newBooking(w.s1, slot, px)
	testenv.Must(t, w.insert(held), "insert the booking already there")
	calls := 0
	cockroach.OnRefused(w.st, func() {
		calls++
		ev := booking.Event{ID: booking.NewID(), TS: now(), Type: booking.EventCancelled, BookingID: held.ID,
			SessionID: held.SessionID, HospitalID: held.HospitalID}
		_, _, err := w.st.CancelBooking(w.ctx, held.ID, false, booking.DefaultNoShowRules, ev, nil)
		testenv.Must(t, err, "cancel the booking the row met")
	})
	b := w.newBooking(w.s1, slot, py)
	answers, err := w.st.InsertBookings(w.ctx, []booking.Booking{b}, []booking.Event{bookedEvent(b)})
	testenv.Must(t, err, "InsertBookings")
	if answers[0] != nil {
		t.Errorf("answer = %v, want nil (written again once the slot was free)", answers[0])
	}
	if calls != 1 {
		t.Errorf("rows left out = %d times, want 1", calls)
	}
	if _, err := w.st.Booking(w.ctx, b.ID); err != nil {
		t.Errorf("the booking in SQL: %v", err)
	}
}

// TestInsertBookingsBatchOutcomeUnknown: a batch whose answer never
// arrives is one unknown outcome for all its rows, whether it committed
// (all of them are there) or not (none is); no row is answered alone.
func TestInsertBookingsBatchOutcomeUnknown(t *testing.T) {
	w := newWorld(t)
	direct := w.db.Pool().Config().ConnString()
	proxy := newCommitCutter(t, hostOf(t, direct))
	st := cockroach.NewStore(openDB(t, withHost(t, direct, proxy.addr()), nil))
	batch := func(session booking.Session, ch booking.Channel) ([]booking.Booking, []booking.Event) {
		var bs []booking.Booking
		var evs []booking.Event
		for n := 1; len(bs) < 2; n++ {
			if sl, ok := session.Slot(n); ok && sl.Channel == ch {
				_, p := w.patientOf()
				b := w.newBooking(session, n, p)
				bs, evs = append(bs, b), append(evs, bookedEvent(b))
			}
		}
		return bs, evs
	}
	// A first batch through the proxy, so the next is a plain Bind/Execute/Sync.
	bs, evs := batch(w.s3, booking.ChannelOnline)
	if _, err := st.InsertBookings(w.ctx, bs[:1], evs[:1]); err != nil {
		t.Fatalf("first batch: %v", err)
	}
	for _, tt := range []struct {
		name          string
		mode          int32
		session       booking.Session
		ch            booking.Channel
		wantCommitted bool
	}{
		{"answer lost after the commit", cutStatementAfterAnswer, w.s1, booking.ChannelOnline, true},
		{"connection lost before the commit", cutStatementBeforeSend, w.s1, booking.ChannelPhone, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bs, evs := batch(tt.session, tt.ch)
			cutsBefore := proxy.cuts.Load()
			proxy.arm(tt.mode)
			answers, err := st.InsertBookings(w.ctx, bs, evs)
			proxy.arm(cutNone)
			if proxy.cuts.Load() != cutsBefore+1 {
				t.Fatalf("the proxy did not cut the batch (InsertBookings = %v, %v)", answers, err)
			}
			if !errors.Is(err, booking.ErrOutcomeUnknown) || answers != nil {
				t.Errorf("InsertBookings = %v, %v; want no answers and ErrOutcomeUnknown", answers, err)
			}
			for _, b := range bs {
				_, err := w.st.Booking(w.ctx, b.ID)
				if got := err == nil; got != tt.wantCommitted {
					t.Errorf("booking %s committed = %v (%v), want %v", b.ID, got, err, tt.wantCommitted)
				}
			}
		})
	}
}
