package main

import (
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// review19b's M5 over the real binary (session 21).

// listed is a session as the public listing shows it.
type listed struct {
	ID           string `json:"session_id"`
	Room         string `json:"room"`
	DelayMinutes int    `json:"delay_minutes"`
	Version      int64  `json:"version"`
}

// listedSession finds session id in its hospital's public listing of date.
func (s *service) listedSession(hospital, date, id string) listed {
	s.t.Helper()
	var ss []listed
	r := s.do("GET", "/v1/hospitals/"+hospital+"/sessions?date="+date, "", nil)
	if r.status != 200 {
		s.t.Fatalf("GET the listing = %d %s", r.status, r.body)
	}
	r.decode(s.t, &ss)
	for _, x := range ss {
		if x.ID == id {
			return x
		}
	}
	s.t.Fatalf("session %s not in the listing of %s", id, date)
	return listed{}
}

// TestRoomAndDelayAreTold (review19b M5): a clinic's room (诊室) changed or
// its start delayed could not be told to anyone — the only notice a
// session's patients ever got was the stop's. An administrator records the
// room, a clerk the day's delay; the listing shows both; every booking of
// the session is told, an account in its console, a walk-in no account
// lists on the hospital's call-back list; a change from a stale version is
// refused, a clerk changes no room and delays no other day's clinic.
func TestRoomAndDelayAreTold(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 3)
	today := todaySession(t, &sch)
	svc := startService(t, sch, nil)
	admin := svc.staffLogin(booking.RoleAdmin, 1)
	clerk := svc.staffLogin(booking.RoleClerk, 2)
	hospital := sch.Hospitals[0].ID
	id, start := publishEarlyPool(t, svc, admin, sch.Doctors[0].ID, 10)
	p1 := svc.newPatient(1)
	if r := svc.do("POST", "/v1/bookings", p1.token, map[string]string{"session_id": id, "patient_id": p1.patientID}); r.status != 201 {
		t.Fatalf("book = %d %s", r.status, r.body)
	}
	announce := func(token, path string, body map[string]any) reply {
		return svc.do("POST", path, token, body)
	}
	v := svc.sessionVersion(admin, id)
	room := map[string]any{"room": "门诊楼3层12诊室", "reason": "诊室调整", "version": v}
	if r := announce(clerk, "/v1/admin/sessions/"+id+"/announcements", room); r.status != 403 {
		t.Errorf("a clerk's room change = %d %s, want 403", r.status, r.body)
	}
	// The reason goes to every patient and the append-only audit: a phone
	// number in it is refused, as in every staff text kept for good (review21 M4).
	numbered := map[string]any{"room": "门诊楼3层12诊室", "reason": "有问题请联系 13800138000", "version": v}
	if r := announce(admin, "/v1/admin/sessions/"+id+"/announcements", numbered); r.status != 400 || r.code != "invalid_field" {
		t.Errorf("a reason holding a phone number = %d %s, want 400 invalid_field", r.status, r.body)
	}
	r := announce(admin, "/v1/admin/sessions/"+id+"/announcements", room)
	if r.status != 200 {
		t.Fatalf("announce the room = %d %s, want 200", r.status, r.body)
	}
	var told struct {
		Notified   int    `json:"notified"`
		ToCallBack int    `json:"to_call_back"`
		Room       string `json:"room"`
	}
	r.decode(t, &told)
	if told.Notified != 1 || told.Room != "门诊楼3层12诊室" {
		t.Errorf("the room's announcement answered %s; want the room and 1 notified", r.body)
	}
	if got := svc.listedSession(hospital, start.Format(time.DateOnly), id); got.Room != "门诊楼3层12诊室" {
		t.Errorf("the listing's room = %q, want 门诊楼3层12诊室", got.Room)
	}
	var ns struct {
		Notifications []struct {
			Kind string `json:"kind"`
			Body string `json:"body"`
		} `json:"notifications"`
	}
	svc.do("GET", "/v1/notifications", p1.token, nil).decode(t, &ns)
	heard := false
	for _, n := range ns.Notifications {
		heard = heard || n.Kind == "session_changed" && strings.Contains(n.Body, "门诊楼3层12诊室")
	}
	if !heard {
		t.Errorf("the booked patient was not told of the room: %+v", ns.Notifications)
	}
	// The announcement raised the version: the same change again is stale.
	if r := announce(admin, "/v1/admin/sessions/"+id+"/announcements", room); r.status != 409 || r.code != "edited_meanwhile" {
		t.Errorf("an announcement from the version before = %d %s, want 409 edited_meanwhile", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'session_announce' AND target = $1`, "session:"+id); n != 1 {
		t.Errorf("audit rows session_announce = %d, want 1", n)
	}
	// A clerk announces the delay of the day's clinic only.
	delay := func(sid string) reply {
		return announce(clerk, "/v1/desk/sessions/"+sid+"/delay", map[string]any{"delay_minutes": 40, "reason": "医生临时会诊，晚到",
			"version": svc.sessionVersion(admin, sid)})
	}
	if r := delay(id); r.status != 403 || r.code != "forbidden" {
		t.Errorf("a clerk's delay of a clinic ten days ahead = %d %s, want 403 forbidden", r.status, r.body)
	}
	walkIn := map[string]string{"privacy_consent": booking.PrivacyNoticeVersion, "id_type": "resident_id", "id_number": residentID(70), "name": "周七", "session_id": today.ID}
	if r := svc.do("POST", "/v1/desk/bookings", clerk, walkIn); r.status != 201 {
		t.Fatalf("walk-in = %d %s", r.status, r.body)
	}
	r = delay(today.ID)
	if r.status != 200 {
		t.Fatalf("the clerk's delay of today's clinic = %d %s, want 200", r.status, r.body)
	}
	r.decode(t, &told)
	if told.ToCallBack != 1 {
		t.Errorf("the delay answered %s; want the walk-in on the call-back list", r.body)
	}
	if got := svc.listedSession(hospital, today.VisitDate, today.ID); got.DelayMinutes != 40 {
		t.Errorf("the listing's delay = %d, want 40", got.DelayMinutes)
	}
	if n := svc.count(`SELECT count(*) FROM notifications WHERE session_id = $1 AND kind = 'session_changed' AND call_back AND account_id IS NULL
		AND body LIKE '%40%'`, today.ID); n != 1 {
		t.Errorf("call-back notices of the delay = %d, want 1", n)
	}
}

// TestMovedClinicKeepsItsBookings (review19b M5): a clinic moved to another
// time (改期) after release meant stopping it — every patient cancelled —
// and publishing it again for whoever came first. The move keeps the
// session and its bookings at their numbers, on the new day, each patient
// told (session_moved); the listing says where it moved from; Redis agrees
// with SQL afterwards; a move from a stale version is refused.
func TestMovedClinicKeepsItsBookings(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 3)
	svc := startService(t, sch, nil)
	admin := svc.staffLogin(booking.RoleAdmin, 1)
	hospital := sch.Hospitals[0].ID
	id, start := publishEarlyPool(t, svc, admin, sch.Doctors[0].ID, 10)
	p1 := svc.newPatient(1)
	r := svc.do("POST", "/v1/bookings", p1.token, map[string]string{"session_id": id, "patient_id": p1.patientID})
	if r.status != 201 {
		t.Fatalf("book = %d %s", r.status, r.body)
	}
	var b struct {
		ID     string `json:"booking_id"`
		SlotNo int    `json:"slot_no"`
	}
	r.decode(t, &b)
	to := start.AddDate(0, 0, 2).Add(time.Hour) // two days later, 09:00
	v := svc.sessionVersion(admin, id)
	move := map[string]any{"date": to.Format(time.DateOnly), "period": "morning", "starts_at": to.Format(time.RFC3339),
		"reason": "医生外出学术会议", "version": v}
	numbered := map[string]any{"date": to.Format(time.DateOnly), "period": "morning", "starts_at": to.Format(time.RFC3339),
		"reason": "改期咨询 13800138000", "version": v}
	if r := svc.do("POST", "/v1/admin/sessions/"+id+"/move", admin, numbered); r.status != 400 || r.code != "invalid_field" {
		t.Errorf("a move's reason holding a phone number = %d %s, want 400 invalid_field (review21 M4)", r.status, r.body)
	}
	r = svc.do("POST", "/v1/admin/sessions/"+id+"/move", admin, move)
	if r.status != 200 {
		t.Fatalf("move the clinic = %d %s, want 200", r.status, r.body)
	}
	var moved struct {
		Moved     int    `json:"moved"`
		Cancelled int    `json:"cancelled"`
		Notified  int    `json:"notified"`
		StartsAt  string `json:"starts_at"`
		MovedFrom string `json:"moved_from"`
	}
	r.decode(t, &moved)
	if moved.Moved != 1 || moved.Cancelled != 0 || moved.Notified != 1 {
		t.Errorf("the move answered %s; want 1 booking moved and told, none cancelled", r.body)
	}
	if n := svc.count(`SELECT count(*) FROM bookings WHERE id = $1 AND session_id = $2 AND slot_no = $3 AND status = 'confirmed' AND visit_date = $4::DATE`,
		b.ID, id, b.SlotNo, to.Format(time.DateOnly)); n != 1 {
		t.Errorf("the booking is not confirmed at its number on the new day")
	}
	var ss []struct {
		ID        string `json:"session_id"`
		StartsAt  string `json:"starts_at"`
		MovedFrom string `json:"moved_from"`
	}
	svc.do("GET", "/v1/hospitals/"+hospital+"/sessions?date="+to.Format(time.DateOnly), "", nil).decode(t, &ss)
	found := false
	for _, x := range ss {
		if x.ID == id {
			found = true
			if got, _ := time.Parse(time.RFC3339, x.StartsAt); !got.Equal(to) {
				t.Errorf("listed start = %s, want %s", x.StartsAt, to)
			}
			if got, _ := time.Parse(time.RFC3339, x.MovedFrom); !got.Equal(start) {
				t.Errorf("listed moved_from = %q, want %s", x.MovedFrom, start)
			}
		}
	}
	if !found {
		t.Errorf("the moved session is not listed on its new day")
	}
	var ns struct {
		Notifications []struct {
			Kind string `json:"kind"`
		} `json:"notifications"`
	}
	svc.do("GET", "/v1/notifications", p1.token, nil).decode(t, &ns)
	heard := false
	for _, n := range ns.Notifications {
		heard = heard || n.Kind == "session_moved"
	}
	if !heard {
		t.Errorf("the patient was not told of the move: %+v", ns.Notifications)
	}
	if r := svc.do("POST", "/v1/admin/sessions/"+id+"/move", admin, move); r.status != 409 || r.code != "edited_meanwhile" {
		t.Errorf("a move from the version before = %d %s, want 409 edited_meanwhile", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'session_move' AND target = $1`, "session:"+id); n != 1 {
		t.Errorf("audit rows session_move = %d, want 1", n)
	}
	p2 := svc.newPatient(2)
	if r := svc.do("POST", "/v1/bookings", p2.token, map[string]string{"session_id": id, "patient_id": p2.patientID}); r.status != 201 {
		t.Errorf("booking the moved clinic = %d %s, want 201", r.status, r.body)
	}
	svc.run("reconcile", "--check")
}
