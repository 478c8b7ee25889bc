package web

import (
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestAnnounceAndRescheduleInBrowser (sources22): the API could tell a
// session's patients of a room change or a delay and move a clinic to
// another time (改期), but the admin console had no form for either. On a
// session's page the administrator records the room and a 30-minute delay
// (the booked patient is told; the page says how many) and then moves the
// clinic two days later (the booking goes with it; the page says so); a
// move onto a half-day the doctor already holds is refused in Chinese.
func TestAnnounceAndRescheduleInBrowser(t *testing.T) {
	s := newSite(t)
	src := axeSource(t)
	password := "admin password 1"
	admin := s.newHospitalAdmin(password)
	s.selfBookedOnline(newPhone(), residentID(7501), "孙改")

	b := newBrowser(t, s.base, 3*time.Minute)
	b.signInAt("admin", admin, password, "/admin/schedule")
	b.open("/admin/sessions/" + s.open.ID)
	b.axeClean(src, "/admin/sessions/{id} with the room, delay and move forms")
	b.fill("#announce-form input[name=room]", "门诊楼3层12诊室")
	b.fill("#announce-form input[name=delay_minutes]", "30")
	b.fill("#announce-form input[name=reason]", "诊室调整，医生晚到")
	b.click("#announce-form button[type=submit]", "ok=announced")
	b.contains("#flash", "已通知 1 位患者")
	sess, _ := s.svc.Catalog().Session(s.open.ID)
	if sess.Room != "门诊楼3层12诊室" || sess.DelayMinutes != 30 {
		t.Errorf("the session's room %q, delay %d; want 门诊楼3层12诊室, 30", sess.Room, sess.DelayMinutes)
	}
	if n := s.count(`SELECT count(*) FROM notifications WHERE session_id = $1 AND kind = 'session_changed' AND body LIKE '%门诊楼3层12诊室%'`, s.open.ID); n != 1 {
		t.Errorf("room notices = %d, want 1", n)
	}

	// A move onto the doctor's own clinic of another day is refused in
	// Chinese.
	var doc booking.Doctor
	for _, d := range s.doctors {
		if d.ID == s.open.DoctorID {
			doc = d
		}
	}
	busy := s.open.StartsAt.AddDate(0, 0, 3)
	s.addSession(doc, busy.In(shanghai).Format(time.DateOnly), busy, busy.Add(4*time.Hour),
		booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: 2, ReleaseAt: time.Now().Add(time.Hour)})
	b.set("#reschedule-form input[name=date]", busy.In(shanghai).Format(time.DateOnly))
	b.set("#reschedule-form select[name=period]", s.open.Period)
	b.set("#reschedule-form input[name=start]", busy.In(shanghai).Format("15:04"))
	b.fill("#reschedule-form input[name=reason]", "医生外出学术会议")
	b.click("#reschedule-form button[type=submit]", "/admin/sessions/"+s.open.ID+"/reschedule")
	b.contains("#error", "该医生在这个时间已有出诊")
	if v, _ := s.svc.Catalog().Session(s.open.ID); !v.StartsAt.Equal(s.open.StartsAt) {
		t.Fatalf("the refused move moved the session to %s", v.StartsAt)
	}

	to := s.open.StartsAt.AddDate(0, 0, 2).Add(time.Hour)
	b.set("#reschedule-form input[name=date]", to.In(shanghai).Format(time.DateOnly))
	b.set("#reschedule-form select[name=period]", "morning")
	b.set("#reschedule-form input[name=start]", to.In(shanghai).Format("15:04"))
	b.fill("#reschedule-form input[name=reason]", "医生外出学术会议")
	b.click("#reschedule-form button[type=submit]", "ok=rescheduled")
	b.contains("#flash", "已改期：1 个预约随出诊改期")
	moved, _ := s.svc.Catalog().Session(s.open.ID)
	if !moved.StartsAt.Equal(to) {
		t.Errorf("the session starts %s, want %s", moved.StartsAt, to)
	}
	if n := s.count(`SELECT count(*) FROM bookings WHERE session_id = $1 AND status = 'confirmed' AND visit_date = $2::DATE`,
		s.open.ID, to.In(shanghai).Format(time.DateOnly)); n != 1 {
		t.Errorf("confirmed bookings on the new day = %d, want 1", n)
	}
	if got := b.text("#session-summary"); !strings.Contains(got, to.In(shanghai).Format(time.DateOnly)) {
		t.Errorf("the page's summary %q does not give the new date", got)
	}
}
