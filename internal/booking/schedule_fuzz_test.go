package booking

import (
	"testing"
	"time"
)

// FuzzBuildSession: whatever the quotas and the session's length, a layout
// either is refused or holds exactly the quotas' slots, each at least a
// minute inside the session. Quotas near the largest int once wrapped
// around into a small sum and laid out slots until the memory ran out.
func FuzzBuildSession(f *testing.F) {
	f.Add(int64(16), int64(4), int64(4), int64(240))
	f.Add(int64(9223372036854775807), int64(9223372036854775807), int64(14), int64(180))
	f.Add(int64(-1), int64(2), int64(0), int64(60))
	f.Add(int64(1440), int64(0), int64(0), int64(1440))
	f.Fuzz(func(t *testing.T, online, phone, onsite, minutes int64) {
		start := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
		end := start.Add(time.Duration(minutes%(48*60)) * time.Minute)
		rel := start.AddDate(0, 0, -7)
		spec := SessionSpec{VisitDate: "2026-11-02", StartsAt: start, EndsAt: end, Quotas: []ChannelQuota{
			quota(ChannelOnline, int(online), rel), quota(ChannelPhone, int(phone), rel), quota(ChannelOnsite, int(onsite), rel)}}
		s, err := BuildSession(spec)
		if err != nil {
			return
		}
		want := online + phone + onsite
		if int64(len(s.Slots)) != want || want > int64(end.Sub(start)/time.Minute) {
			t.Fatalf("quotas %d+%d+%d over %s: %d slots", online, phone, onsite, end.Sub(start), len(s.Slots))
		}
		for _, sl := range s.Slots {
			if sl.StartsAt.Before(start) || sl.EndsAt.After(end) || sl.EndsAt.Sub(sl.StartsAt) < time.Minute {
				t.Fatalf("slot %d at %s–%s outside %s–%s or under a minute", sl.No, sl.StartsAt, sl.EndsAt, start, end)
			}
		}
	})
}
