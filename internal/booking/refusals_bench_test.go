package booking

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"fairslot/internal/identity"
)

// BenchmarkKnownRefusal is what the fast reject path costs the API for one
// sold-out answer from memory (KnownRefusalOf): without recording the
// refused attempt, recording it (an append to the buffer), and with the
// buffer full (a drop, counted). No Redis or SQL: the answer comes from
// memory, and the writer is not running.
//
//	go test -run '^$' -bench KnownRefusal -benchmem ./internal/booking/
func BenchmarkKnownRefusal(b *testing.B) {
	keys, err := identity.NewKeyring(make([]byte, identity.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 2, 8, 0, 1, 0, time.UTC)
	sess, err := BuildSession(SessionSpec{HospitalID: NewID(), DepartmentID: NewID(), DoctorID: NewID(), VisitDate: "2026-11-09",
		Period: "morning", StartsAt: now.Add(7 * 24 * time.Hour), EndsAt: now.Add(7*24*time.Hour + 4*time.Hour),
		Quotas: []ChannelQuota{{Channel: ChannelOnline, Quota: 10, ReleaseAt: now.Add(-time.Second)}}})
	if err != nil {
		b.Fatal(err)
	}
	actor := Actor{AccountID: NewID(), Role: RolePatient}
	req := BookRequest{SessionID: sess.ID, PatientID: NewID(), Channel: ChannelOnline,
		Origin: Origin{IP: "198.51.100.9", DeviceID: "dv-bench"}}
	for _, bc := range []struct {
		name   string
		buffer int
	}{{"not recorded", -1}, {"recorded", 32768}, {"buffer full", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := NewService(Config{PasswordIterations: 1000, RefusalBuffer: bc.buffer, Now: func() time.Time { return now }},
				nil, nil, keys, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			s.catalog.Store(NewCatalog(Schedule{Sessions: []Session{sess}}))
			s.memo.remember(sess.ID, ChannelOnline, ErrSoldOut, now, time.Time{})
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if s.KnownRefusalOf(actor, &req) == nil {
					b.Fatal("want an answer from memory")
				}
				// What the writer does every 250 ms, here every 8,192
				// attempts: take the buffer (a swap).
				if i++; i%8192 == 0 && s.refusals != nil && bc.buffer > 1 {
					s.refusals.take()
				}
			}
		})
	}
}

// TestSampleAccounts: over the budget, whole accounts are kept — every
// attempt of an account kept, none of one dropped — about the share asked.
func TestSampleAccounts(t *testing.T) {
	b := newRefusalBuf(5000)
	for range 1000 { // five attempts of each of 1,000 accounts
		a := NewID()
		for range 5 {
			if !b.put(&refused{account: a, reason: "sold_out"}) {
				t.Fatal("no room in the buffer")
			}
		}
	}
	sampleAccounts(b, 0.3)
	per := map[string]int{}
	for i := range b.recs {
		per[b.at(i).account]++
	}
	for a, n := range per {
		if n != 5 {
			t.Errorf("account %s kept %d of its 5 attempts, want all or none", a, n)
		}
	}
	if n := len(per); n < 240 || n > 360 {
		t.Errorf("kept %d of 1,000 accounts, want about 300", n)
	}
}
