package admission

import (
	"errors"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// The admission benchmarks measure one reserve round trip on the real Redis,
// next to a PING measured in the same run: the ratio is what to compare
// across machines, not the absolute numbers.
//
//	go test -run '^$' -bench . -benchtime 20000x ./internal/admission/

func benchGate(b *testing.B, quota int) (*Gate, *booking.Session) {
	b.Helper()
	rdb, prefix := testenv.Redis(b)
	g := New(rdb, prefix, nil)
	testenv.Must(b, g.Preload(b.Context()), "preload")
	d := time.Now().In(shanghai).AddDate(0, 0, 1)
	day := time.Date(d.Year(), d.Month(), d.Day(), 8, 0, 0, 0, shanghai)
	s, err := booking.BuildSession(booking.SessionSpec{
		HospitalID: booking.NewID(), DepartmentID: booking.NewID(), DoctorID: booking.NewID(),
		VisitDate: day.Format(time.DateOnly), Period: "morning", StartsAt: day, EndsAt: day.Add(12 * time.Hour),
		Quotas: []booking.ChannelQuota{{Channel: booking.ChannelOnline, Quota: quota, ReleaseAt: time.Now().Add(-time.Hour)}},
	})
	testenv.Must(b, err, "build session")
	testenv.Must(b, g.Load(b.Context(), &s, nil, nil), "load")
	markWhole(b, g, s.HospitalID)
	return g, &s
}

func benchReservation(s *booking.Session) booking.Reservation {
	week, month := booking.PeriodKeys(s.VisitDate)
	return booking.Reservation{
		BookingID: booking.NewID(), Nonce: testenv.Token(), HospitalID: s.HospitalID, SessionID: s.ID,
		Channel: booking.ChannelOnline, IdentityKey: testenv.Token() + testenv.Token(), VisitDate: s.VisitDate,
		DepartmentID: s.DepartmentID, Week: week, Month: month, Today: time.Now().In(shanghai).Format(time.DateOnly),
		Policy: booking.DefaultPolicy, HoldFor: time.Minute, KeepUntil: s.EndsAt.Add(48 * time.Hour),
	}
}

// BenchmarkPing is the floor: one Redis round trip that does nothing.
func BenchmarkPing(b *testing.B) {
	rdb, _ := testenv.Redis(b)
	b.SetParallelism(16) // many clients in flight, as at release
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := rdb.Ping(b.Context()).Err(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkReserveSoldOut is the release-minute common case: the pool is
// empty and the script refuses after its checks.
func BenchmarkReserveSoldOut(b *testing.B) {
	g, s := benchGate(b, 1)
	if _, _, err := g.Reserve(b.Context(), benchReservation(s)); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(16) // many clients in flight, as at release
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := g.Reserve(b.Context(), benchReservation(s)); !errors.Is(err, booking.ErrSoldOut) {
				b.Errorf("reserve = %v, want sold out", err)
				return
			}
		}
	})
}

// BenchmarkReserveRelease is a winner's admission and its release: two
// round trips that take and give back a slot.
func BenchmarkReserveRelease(b *testing.B) {
	g, s := benchGate(b, 64)
	b.SetParallelism(16) // many clients in flight, as at release
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := benchReservation(s)
			slot, _, err := g.Reserve(b.Context(), r)
			if err != nil {
				b.Error(err)
				return
			}
			h := booking.Hold{HospitalID: r.HospitalID, SessionID: r.SessionID, BookingID: r.BookingID, SlotNo: slot, Channel: r.Channel, IdentityKey: r.IdentityKey}
			if err := g.Release(b.Context(), h, booking.Release{ReturnSlot: true, Forget: true}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkEnter is a lottery entry's admission: the window, the bar and the
// quotas checked, the entry and its quota hold written, in one round trip.
// Every entry is a new person (the release minute's case).
func BenchmarkEnter(b *testing.B) {
	g, s := benchGate(b, 50)
	q := &s.Channels[0]
	q.Mode, q.OpensAt, q.DrawAt = booking.Lottery, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	q.Draw = &booking.DrawRecord{Status: booking.DrawOpen}
	testenv.Must(b, g.Load(b.Context(), s, nil, nil), "load the lottery window")
	b.SetParallelism(16) // many clients in flight, as at release
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := g.Enter(b.Context(), benchReservation(s)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
