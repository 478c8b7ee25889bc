package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/booking/bookingtest"
	"fairslot/internal/identity"
)

// TestViewsReadTheServiceClock: what the API shows as released or in force
// is judged by the Service's clock, never the wall clock. The Service's
// clock stands in 2030, a day after the pools' release (the wall clock is
// years before it): the pools are released; moved back two days, they are
// not.
func TestViewsReadTheServiceClock(t *testing.T) {
	ctx := context.Background()
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2030, 3, 4, 10, 0, 0, 0, loc)
	clock := bookingtest.NewClock(now)
	store := bookingtest.NewStore()
	h := booking.Hospital{ID: booking.NewID(), Name: "协和", TimeZone: "Asia/Shanghai", Policy: booking.DefaultPolicy}
	dept := booking.Department{ID: booking.NewID(), HospitalID: h.ID, Name: "心内科"}
	doc := booking.Doctor{ID: booking.NewID(), HospitalID: h.ID, DepartmentID: dept.ID, Name: "医生"}
	day := time.Date(2030, 3, 6, 8, 0, 0, 0, loc)
	s, err := booking.BuildSession(booking.SessionSpec{HospitalID: h.ID, DepartmentID: dept.ID, DoctorID: doc.ID,
		VisitDate: "2030-03-06", Period: "morning", StartsAt: day, EndsAt: day.Add(4 * time.Hour),
		Quotas: []booking.ChannelQuota{
			{Channel: booking.ChannelOnline, Quota: 2, ReleaseAt: now.Add(-24 * time.Hour)},
			{Channel: booking.ChannelPhone, Quota: 2, ReleaseAt: now.Add(-24 * time.Hour)},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SaveSchedule(ctx, booking.Schedule{Hospitals: []booking.Hospital{h}, Departments: []booking.Department{dept},
		Doctors: []booking.Doctor{doc}, Sessions: []booking.Session{s}}); err != nil {
		t.Fatal(err)
	}
	master := make([]byte, identity.KeySize)
	_, _ = rand.Read(master)
	keys, err := identity.NewKeyring(master)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := booking.NewService(booking.Config{Now: clock.Now}, store, bookingtest.NewAdmission(clock.Now), keys, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	if _, err := svc.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	srv := newTestServer(t, Config{}, nil)
	srv.svc = svc

	resp := serveOne(srv, "GET", "/v1/hospitals/"+h.ID+"/sessions?date=2030-03-06", "127.0.0.1:1234", "")
	var got []struct {
		Channels []struct {
			Channel  string `json:"channel"`
			Released bool   `json:"released"`
		} `json:"channels"`
	}
	if err := json.Unmarshal(resp.Body(), &got); err != nil || resp.StatusCode() != 200 || len(got) != 1 {
		t.Fatalf("sessions = %d %s (%v), want one session", resp.StatusCode(), resp.Body(), err)
	}
	for _, c := range got[0].Channels {
		if !c.Released {
			t.Errorf("%s pool released = false, want true: the Service's clock is a day past its release", c.Channel)
		}
	}
	clock.Set(now.Add(-48 * time.Hour))
	resp = serveOne(srv, "GET", "/v1/hospitals/"+h.ID+"/sessions?date=2030-03-06", "127.0.0.1:1234", "")
	if err := json.Unmarshal(resp.Body(), &got); err != nil || len(got) != 1 {
		t.Fatalf("sessions = %d %s (%v), want one session", resp.StatusCode(), resp.Body(), err)
	}
	for _, c := range got[0].Channels {
		if c.Released {
			t.Errorf("%s pool released = true with the clock a day before its release, want false", c.Channel)
		}
	}
}
