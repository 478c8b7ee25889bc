package cockroach_test

import (
	"reflect"
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestBookedCountsArePerPool: one query counts what a stop would end, for
// the schedule listing and a session's page alike — the active bookings
// by the pool of the slot each holds (the free slots beside them are that
// pool's), the waiting places and the live lottery entries. The listing
// had counted by the booking's channel and the session's page by the
// slot's: a booking made on one channel that holds another pool's slot
// was in different columns on the two pages.
func TestBookedCountsArePerPool(t *testing.T) {
	w := newWorld(t) // s1: slots 1–3 online, 4–5 phone; s2 a lottery session
	_, px := w.patientOf()
	_, py := w.patientOf()
	_, pz := w.patientOf()

	online := w.newBooking(w.s1, 1, px)
	testenv.Must(t, w.insert(online), "insert the online booking")
	across := w.newBooking(w.s1, 4, py) // a phone slot, booked on the desk's channel
	across.Channel = booking.ChannelOnsite
	testenv.Must(t, w.insert(across), "insert the booking across pools")
	cancelled := w.newBooking(w.s1, 2, pz)
	testenv.Must(t, w.insert(cancelled), "insert the booking to cancel")
	ev := booking.Event{ID: booking.NewID(), TS: now(), Type: booking.EventCancelled, BookingID: cancelled.ID,
		SessionID: cancelled.SessionID, HospitalID: cancelled.HospitalID}
	_, _, err := w.st.CancelBooking(w.ctx, cancelled.ID, false, booking.DefaultNoShowRules, ev, nil)
	testenv.Must(t, err, "cancel")

	_, pw := w.patientOf()
	place := booking.WaitlistEntry{ID: booking.NewID(), SessionID: w.s1.ID, HospitalID: w.hosp.ID, PatientID: pw.ID,
		IdentityID: pw.IdentityID, IdentityKey: pw.IdentityKey, AccountID: pw.AccountID, Status: booking.WaitlistWaiting, CreatedAt: now()}
	_, err = w.st.AddWaitlist(w.ctx, place, booking.Event{ID: booking.NewID(), TS: now(), Type: booking.EventWaitlisted,
		AccountID: pw.AccountID, PatientID: pw.ID, BookingID: place.ID, SessionID: w.s1.ID, HospitalID: w.hosp.ID})
	testenv.Must(t, err, "add a waiting place")

	q, _ := w.s2.Channel(booking.ChannelOnline) // a pool takes entries once its seed is committed
	c, err := booking.Commitment(booking.CommitV2, w.s2.ID, booking.ChannelOnline, []byte("seed"))
	testenv.Must(t, err, "commitment")
	testenv.Must(t, w.st.CommitSeeds(w.ctx, []booking.LotterySeed{{PoolKey: booking.PoolKey{SessionID: w.s2.ID, Channel: booking.ChannelOnline},
		HospitalID: w.hosp.ID, OpensAt: q.OpensAt, DrawAt: q.DrawAt, Sealed: []byte("sealed"), Sealing: booking.SealedForPool,
		Commitment: c, Recipe: booking.CommitV2, CreatedAt: now()}}), "commit the seed")
	e, eev := entryOf(w.s2, px)
	e.Commitment = c
	answers, err := w.st.InsertEntries(w.ctx, []booking.Entry{e}, []booking.Event{eev})
	testenv.Must(t, err, "insert an entry")
	testenv.Must(t, answers[0], "the entry")

	got, err := w.st.BookedCounts(w.ctx, []string{w.s1.ID, w.s2.ID, w.s3.ID})
	testenv.Must(t, err, "booked counts")
	want := map[string]booking.BookedCounts{
		w.s1.ID: {Bookings: map[booking.Channel]int{booking.ChannelOnline: 1, booking.ChannelPhone: 1}, Waiting: 1},
		w.s2.ID: {Entries: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("BookedCounts = %+v, want %+v", got, want)
	}
}
