package booking

import (
	"slices"
	"testing"
	"time"
)

// TestReleasePatterns: release times are counted in the hospital's zone as
// days before the visit and a clock time, per channel and mode (a lottery
// pool by the opening of its window); stopped and past sessions do not count.
func TestReleasePatterns(t *testing.T) {
	h := &Hospital{ID: "h", TimeZone: "Asia/Shanghai"}
	loc := h.Location()
	at := func(day, hour int) time.Time { return time.Date(2026, 12, day, hour, 0, 0, 0, loc) }
	now := at(3, 12)
	session := func(visit int, qs ...ChannelQuota) *Session {
		return &Session{VisitDate: at(visit, 0).Format(time.DateOnly), StartsAt: at(visit, 8), EndsAt: at(visit, 12), Channels: qs}
	}
	online := func(day, hour int) ChannelQuota {
		return ChannelQuota{Channel: ChannelOnline, Quota: 10, ReleaseAt: at(day, hour), Mode: FirstCome}
	}
	stopped := session(12, online(5, 8))
	stopped.StoppedAt = now
	sessions := []*Session{
		session(10, online(3, 8), ChannelQuota{Channel: ChannelOnsite, Quota: 5, ReleaseAt: at(10, 7)}),
		session(11, online(4, 8)),
		session(12, ChannelQuota{Channel: ChannelOnline, Quota: 10, Mode: Lottery, OpensAt: at(11, 20), DrawAt: at(11, 21), ReleaseAt: at(11, 21)}),
		session(2, online(1, 8)), // visited already
		stopped,
	}
	got := releasePatterns(h, sessions, now)
	want := []ReleasePattern{
		{Channel: ChannelOnline, Mode: FirstCome, DaysBefore: 7, Clock: "08:00", Sessions: 2},
		{Channel: ChannelOnline, Mode: Lottery, DaysBefore: 1, Clock: "20:00", Sessions: 1},
		{Channel: ChannelOnsite, Mode: FirstCome, DaysBefore: 0, Clock: "07:00", Sessions: 1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("releasePatterns =\n%+v\nwant\n%+v", got, want)
	}
}
