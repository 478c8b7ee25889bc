package web

import (
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestFirstComeBesideLotteryWarnedInBrowser (review20 L1): the session's
// page warns its administrator of a first-come pool that opens before the
// session's lottery is drawn — speed buys a slot of a scarce session there
// — and names that pool only (the on-site pool, released after the draw,
// is no warning). axe-clean.
func TestFirstComeBesideLotteryWarnedInBrowser(t *testing.T) {
	s := newSite(t)
	src := axeSource(t)
	password := "admin password 1"
	admin := s.newHospitalAdmin(password)
	day := weekAhead().AddDate(0, 0, 1)
	opens := time.Now().Add(3 * 24 * time.Hour).Truncate(time.Minute)
	sess := s.addSession(s.doctors[0], day.Format(time.DateOnly), day.Add(8*time.Hour), day.Add(12*time.Hour),
		booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: 6, ReleaseAt: opens, Mode: booking.Lottery, OpensAt: opens, DrawAt: opens.Add(10 * time.Minute)},
		booking.ChannelQuota{Channel: booking.ChannelPhone, Quota: 2, ReleaseAt: opens},
		booking.ChannelQuota{Channel: booking.ChannelOnsite, Quota: 2, ReleaseAt: day.Add(7 * time.Hour)})

	b := newBrowser(t, s.base, 3*time.Minute)
	b.signInAt("admin", admin, password, "/admin/schedule")
	b.open("/admin/sessions/" + sess.ID)
	b.contains("#session-warnings", "先到先得")
	b.count("#session-warnings #warn-phone", 1)
	b.count("#session-warnings #warn-onsite", 0)
	b.axeClean(src, "/admin/sessions/{id} with a warning")
}
