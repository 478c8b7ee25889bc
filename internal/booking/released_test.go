package booking_test

import (
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestPoolReleased: a first-come pool is released at its release time, a
// lottery pool when its window opens (which may be later); every view asks
// ChannelQuota.Released, so the API and the consoles agree.
func TestPoolReleased(t *testing.T) {
	at := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	first := booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: 5, ReleaseAt: at, Mode: booking.FirstCome}
	lottery := booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: 5, ReleaseAt: at, Mode: booking.Lottery,
		OpensAt: at.Add(time.Hour), DrawAt: at.Add(2 * time.Hour)}
	for _, c := range []struct {
		name string
		q    booking.ChannelQuota
		now  time.Time
		want bool
	}{
		{"first-come, a second before", first, at.Add(-time.Second), false},
		{"first-come, at its time", first, at, true},
		{"lottery, released but its window not open", lottery, at.Add(30 * time.Minute), false},
		{"lottery, its window open", lottery, at.Add(time.Hour), true},
	} {
		if got := c.q.Released(c.now); got != c.want {
			t.Errorf("%s: Released = %v, want %v", c.name, got, c.want)
		}
	}
}
