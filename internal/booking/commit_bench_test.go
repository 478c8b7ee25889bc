package booking_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"fairslot/internal/admission"
	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// BenchmarkCommit is the booking commit alone (Service's commit step, as
// Book and the draw run it after admission), against the test PostgreSQL:
// bookings committed per second one by one (a batch of at most one row,
// 32 statements in flight, as the pool allows: the commit before the group
// commit) and grouped (the defaults), from a number of concurrent callers.
// Every booking is of its own slot and person, so none is refused. Besides
// commits/s it reports each commit's p50 and p99 (what a caller waits).
//
//	go test -run '^$' -bench Commit -benchtime 3000x ./internal/booking/
func BenchmarkCommit(b *testing.B) {
	ctx := context.Background()
	db, err := cockroach.Open(ctx, testenv.DatabaseURL(b), nil)
	testenv.Must(b, err, "open")
	b.Cleanup(db.Close)
	_, err = db.Migrate(ctx)
	testenv.Must(b, err, "migrate")
	store := cockroach.NewStore(db)
	rdb, prefix := testenv.Redis(b)
	gate := admission.New(rdb, prefix, prometheus.NewRegistry())
	keys, err := identity.NewKeyring(make([]byte, identity.KeySize))
	testenv.Must(b, err, "keyring")

	// Slots and people for every booking the runs below make.
	const sessions, perSession = 200, 200
	hosp := booking.Hospital{ID: booking.NewID(), Name: "Bench", TimeZone: "Asia/Shanghai", Policy: booking.DefaultPolicy}
	dept := booking.Department{ID: booking.NewID(), HospitalID: hosp.ID, Name: "Cardiology"}
	sch := booking.Schedule{Hospitals: []booking.Hospital{hosp}, Departments: []booking.Department{dept}}
	day := time.Now().AddDate(0, 0, 7).Truncate(24 * time.Hour)
	for i := range sessions {
		doc := booking.Doctor{ID: booking.NewID(), HospitalID: hosp.ID, DepartmentID: dept.ID, Name: fmt.Sprintf("Dr %d", i)}
		s, err := booking.BuildSession(booking.SessionSpec{HospitalID: hosp.ID, DepartmentID: dept.ID, DoctorID: doc.ID,
			VisitDate: day.AddDate(0, 0, i/2).Format(time.DateOnly), Period: []string{"morning", "afternoon"}[i%2],
			StartsAt: day.AddDate(0, 0, i/2).Add(time.Duration(8+6*(i%2)) * time.Hour), EndsAt: day.AddDate(0, 0, i/2).Add(time.Duration(12+6*(i%2)) * time.Hour),
			Quotas: []booking.ChannelQuota{{Channel: booking.ChannelOnline, Quota: perSession, ReleaseAt: time.Now().Add(-time.Hour)}}})
		testenv.Must(b, err, "build session")
		sch.Doctors, sch.Sessions = append(sch.Doctors, doc), append(sch.Sessions, s)
	}
	testenv.Must(b, store.SaveSchedule(ctx, sch), "save schedule")
	var people []string
	rows, _ := db.Pool().Query(ctx, `INSERT INTO identities (id, id_type, id_hash, number_sealed, number_masked, name_hash, name_sealed, name_masked)
		SELECT gen_random_uuid(), 'resident_id', sha256(g::TEXT::BYTEA), '\x00', '1101**********123X', '\x01', '\x00', '张*'
		  FROM generate_series(1, $1) g RETURNING id::TEXT`, sessions*perSession)
	people, err = pgx.CollectRows(rows, pgx.RowTo[string])
	testenv.Must(b, err, "people")
	var next atomic.Int64 // the next free (slot, person)
	newBooking := func() (booking.Booking, booking.Event) {
		n := int(next.Add(1)) - 1
		if n >= sessions*perSession {
			b.Fatal("out of slots: raise sessions or lower -benchtime")
		}
		s := sch.Sessions[n/perSession]
		now := time.Now().Truncate(time.Microsecond)
		bk := booking.Booking{ID: booking.NewID(), SessionID: s.ID, HospitalID: hosp.ID, DepartmentID: dept.ID, DoctorID: s.DoctorID,
			VisitDate: s.VisitDate, SlotNo: n%perSession + 1, IdentityID: people[n], BookedBy: "", Channel: booking.ChannelOnline,
			Status: booking.StatusConfirmed, CreatedAt: now}
		ev := booking.Event{ID: booking.NewID(), TS: now, Type: booking.EventBooked, IdentityID: people[n], BookingID: bk.ID,
			SessionID: s.ID, HospitalID: hosp.ID, DepartmentID: dept.ID, DoctorID: s.DoctorID, Channel: booking.ChannelOnline}
		return bk, ev
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, callers := range []int{1, 16, 64, 256} {
		for _, mode := range []struct {
			name           string
			batch, writers int
		}{{"one-by-one", 1, 32}, {"grouped", 0, 0}} {
			b.Run(fmt.Sprintf("%s/callers=%d", mode.name, callers), func(b *testing.B) {
				svc, err := booking.NewService(booking.Config{PasswordIterations: 1000, BookingBatch: mode.batch, BookingWriters: mode.writers},
					store, gate, keys, log)
				testenv.Must(b, err, "service")
				defer svc.Close()
				var left atomic.Int64
				left.Store(int64(b.N))
				var failed atomic.Value
				var wg sync.WaitGroup
				var mu sync.Mutex
				lat := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				start := time.Now()
				for range callers {
					wg.Go(func() {
						var mine []time.Duration
						for left.Add(-1) >= 0 {
							bk, ev := newBooking()
							t0 := time.Now()
							if err := svc.Commit(ctx, bk, ev); err != nil {
								failed.Store(err)
							}
							mine = append(mine, time.Since(t0))
						}
						mu.Lock()
						lat = append(lat, mine...)
						mu.Unlock()
					})
				}
				wg.Wait()
				took := time.Since(start)
				b.StopTimer()
				if err, ok := failed.Load().(error); ok {
					b.Fatalf("a commit failed: %v", err)
				}
				b.ReportMetric(float64(b.N)/took.Seconds(), "commits/s")
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			})
		}
	}
}
