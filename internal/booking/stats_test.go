package booking

import (
	"testing"
	"time"
)

// TestDrawsOverdue: a lottery pool counts as overdue a minute after its draw
// time and grace until the catalog shows it drawn; first-come pools never.
func TestDrawsOverdue(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, chinaStandardTime)
	h := Hospital{ID: NewID(), Name: "H", TimeZone: "Asia/Shanghai", Policy: DefaultPolicy}
	build := func(drawAt time.Time, draw *DrawRecord) Session {
		t.Helper()
		s, err := BuildSession(SessionSpec{HospitalID: h.ID, DepartmentID: NewID(), DoctorID: NewID(), VisitDate: "2026-12-04",
			Period: "morning", StartsAt: now.Add(24 * time.Hour), EndsAt: now.Add(28 * time.Hour),
			Quotas: []ChannelQuota{{Channel: ChannelOnline, Quota: 2, ReleaseAt: drawAt.Add(-10 * time.Minute), Mode: Lottery, DrawAt: drawAt},
				{Channel: ChannelPhone, Quota: 2, ReleaseAt: now.Add(-time.Hour)}}})
		if err != nil {
			t.Fatalf("build session: %v", err)
		}
		s.Channels[0].Draw = draw
		return s
	}
	s := &Service{cfg: Config{Now: func() time.Time { return now }, DrawGrace: 2 * time.Second}}
	for _, c := range []struct {
		name   string
		drawAt time.Time
		draw   *DrawRecord
		want   int
	}{
		{"draw time a minute and more ago, not drawn", now.Add(-2 * time.Minute), nil, 1},
		{"drawing for that long", now.Add(-2 * time.Minute), &DrawRecord{Status: DrawDrawing}, 1},
		{"drawn", now.Add(-2 * time.Minute), &DrawRecord{Status: DrawDrawn}, 0},
		{"draw time 30 s ago: the draw may be running", now.Add(-30 * time.Second), nil, 0},
		{"draw time to come", now.Add(time.Hour), nil, 0},
	} {
		s.catalog.Store(NewCatalog(Schedule{Hospitals: []Hospital{h}, Sessions: []Session{build(c.drawAt, c.draw)}}))
		if got := s.DrawsOverdue(); got != c.want {
			t.Errorf("%s: DrawsOverdue = %d, want %d", c.name, got, c.want)
		}
	}
}
