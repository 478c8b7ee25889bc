package main

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// review19b's M7 over the real binary (session 22).

// bulkReply is a bulk request's answer.
type bulkReply struct {
	Sessions []struct {
		ID        string `json:"session_id"`
		Outcome   string `json:"outcome"`
		Booked    int    `json:"booked"`
		Cancelled int    `json:"cancelled"`
		Notified  int    `json:"notified"`
		Version   int64  `json:"version"`
		Error     *struct {
			Code string `json:"code"`
		} `json:"error"`
	} `json:"sessions"`
	Counts map[string]int `json:"counts"`
	More   int            `json:"more"`
}

func (b bulkReply) outcomes() map[string]string {
	out := map[string]string{}
	for _, s := range b.Sessions {
		out[s.ID] = s.Outcome
	}
	return out
}

// TestHolidaysAndBulkStop (review19b M7): a 国庆 week meant remembering to
// skip the holidays in every doctor's template, then withdrawing or stopping
// each clinic already published, one call each. A day on the hospital's
// holiday calendar withdraws the clinics published on it that nothing is
// booked in (the booked one is kept, named, for a stop that tells its
// patients), and templates publish nothing on it; a bulk stop of a
// department over a range stops each clinic through its own stop — its
// patients told, its bookings cancelled, one audit row each — answers per
// session, and a repeat does nothing twice; a dry run changes nothing.
func TestHolidaysAndBulkStop(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 3, 3, 3)
	svc := startService(t, sch, nil)
	admin := svc.staffLogin(booking.RoleAdmin, 1)
	clerk := svc.staffLogin(booking.RoleClerk, 2)
	hospital := sch.Hospitals[0].ID
	doc0, doc1, doc2 := sch.Doctors[0].ID, sch.Doctors[1].ID, sch.Doctors[2].ID
	dept0 := sch.Departments[0].ID
	// The holiday is a Wednesday at least 10 days ahead.
	now := time.Now().In(testenv.Shanghai)
	days := 10
	for now.AddDate(0, 0, days).Weekday() != time.Wednesday {
		days++
	}
	booked, day := publishEarlyPool(t, svc, admin, doc0, days)
	empty1, _ := publishEarlyPool(t, svc, admin, doc1, days)
	empty2, _ := publishEarlyPool(t, svc, admin, doc2, days)
	next0, _ := publishEarlyPool(t, svc, admin, doc0, days+1)
	date := day.Format(time.DateOnly)
	p1 := svc.newPatient(1)
	if r := svc.do("POST", "/v1/bookings", p1.token, map[string]string{"session_id": booked, "patient_id": p1.patientID}); r.status != 201 {
		t.Fatalf("book = %d %s", r.status, r.body)
	}
	holidays := "/v1/admin/hospitals/" + hospital + "/holidays"
	if r := svc.do("POST", holidays, clerk, map[string]string{"date": date, "name": "国庆节"}); r.status != 403 {
		t.Errorf("a clerk's holiday = %d %s, want 403", r.status, r.body)
	}
	r := svc.do("POST", holidays, admin, map[string]string{"date": date, "name": "国庆节", "reason": "国务院放假安排"})
	if r.status != 200 {
		t.Fatalf("add the holiday = %d %s, want 200", r.status, r.body)
	}
	var added struct {
		Date     string    `json:"date"`
		Sessions bulkReply `json:"sessions"`
	}
	r.decode(t, &added)
	got := added.Sessions.outcomes()
	want := map[string]string{booked: "kept", empty1: "withdrawn", empty2: "withdrawn"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the holiday's sessions = %v, want %v (%s)", got, want, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM clinic_sessions WHERE id = ANY($1::UUID[])`, []string{empty1, empty2}); n != 0 {
		t.Errorf("withdrawn sessions left in SQL = %d, want 0", n)
	}
	var list struct {
		Holidays []struct {
			Date string `json:"date"`
			Name string `json:"name"`
		} `json:"holidays"`
	}
	svc.do("GET", holidays, admin, nil).decode(t, &list)
	if len(list.Holidays) != 1 || list.Holidays[0].Date != date || list.Holidays[0].Name != "国庆节" {
		t.Errorf("the calendar = %+v, want %s 国庆节", list.Holidays, date)
	}
	// A template's week publishes nothing on the holiday: Wednesday is
	// skipped, Thursday published.
	monday := day.AddDate(0, 0, -2).Format(time.DateOnly)
	week := map[string]any{"week_of": monday,
		"days": []map[string]any{{"weekday": 3, "period": "afternoon", "start": "14:00", "end": "17:00"},
			{"weekday": 4, "period": "afternoon", "start": "14:00", "end": "17:00"}},
		"channels": []map[string]any{{"channel": "online", "quota": 4, "days_before": 7, "at": "08:00"}}}
	r = svc.do("POST", "/v1/admin/doctors/"+doc1+"/weeks", admin, week)
	if r.status != 201 {
		t.Fatalf("publish the week = %d %s", r.status, r.body)
	}
	var published []struct {
		Date string `json:"date"`
	}
	r.decode(t, &published)
	if len(published) != 1 || published[0].Date != day.AddDate(0, 0, 1).Format(time.DateOnly) {
		t.Errorf("the week published %+v, want only Thursday %s", published, day.AddDate(0, 0, 1).Format(time.DateOnly))
	}

	// The department's clinics of the holiday and the day after, stopped
	// in one request: first a dry run.
	bulk := "/v1/admin/hospitals/" + hospital + "/sessions/bulk"
	req := map[string]any{"action": "stop", "from": date, "to": day.AddDate(0, 0, 1).Format(time.DateOnly),
		"department_id": dept0, "reason": "国庆节停诊", "dry_run": true}
	if r := svc.do("POST", bulk, clerk, req); r.status != 403 {
		t.Errorf("a clerk's bulk stop = %d %s, want 403", r.status, r.body)
	}
	r = svc.do("POST", bulk, admin, req)
	if r.status != 200 {
		t.Fatalf("the dry run = %d %s", r.status, r.body)
	}
	var dry bulkReply
	r.decode(t, &dry)
	if got, want := dry.outcomes(), map[string]string{booked: "would_stop", next0: "would_stop"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the dry run = %v, want %v", got, want)
	}
	if n := svc.count(`SELECT count(*) FROM clinic_sessions WHERE id = ANY($1::UUID[]) AND stopped_at IS NOT NULL`, []string{booked, next0}); n != 0 {
		t.Errorf("the dry run stopped %d sessions", n)
	}
	req["dry_run"] = false
	r = svc.do("POST", bulk, admin, req)
	if r.status != 200 {
		t.Fatalf("the bulk stop = %d %s", r.status, r.body)
	}
	var done bulkReply
	r.decode(t, &done)
	if got, want := done.outcomes(), map[string]string{booked: "stopped", next0: "stopped"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the bulk stop = %v, want %v (%s)", got, want, r.body)
	}
	for _, s := range done.Sessions {
		if s.ID == booked && (s.Cancelled != 1 || s.Notified != 1) {
			t.Errorf("the booked session's stop cancelled %d and told %d, want 1 and 1", s.Cancelled, s.Notified)
		}
	}
	if n := svc.count(`SELECT count(*) FROM bookings WHERE session_id = $1 AND status = 'cancelled'`, booked); n != 1 {
		t.Errorf("cancelled bookings of the stopped session = %d, want 1", n)
	}
	if n := svc.count(`SELECT count(*) FROM notifications WHERE session_id = $1 AND kind = 'session_stopped' AND body LIKE '%国庆节停诊%'`, booked); n != 1 {
		t.Errorf("stop notices with the bulk's reason = %d, want 1", n)
	}
	audits := func() int {
		return svc.count(`SELECT count(*) FROM audit_log WHERE action = 'session_stop' AND target = ANY($1)`, []string{"session:" + booked, "session:" + next0})
	}
	if n := audits(); n != 2 {
		t.Errorf("audit rows session_stop = %d, want one a session", n)
	}
	// A repeat does nothing twice.
	r = svc.do("POST", bulk, admin, req)
	var again bulkReply
	r.decode(t, &again)
	if got, want := again.outcomes(), map[string]string{booked: "already_stopped", next0: "already_stopped"}; r.status != 200 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the repeat = %d %v, want 200 %v", r.status, got, want)
	}
	if n := audits(); n != 2 {
		t.Errorf("audit rows session_stop after the repeat = %d, want 2", n)
	}
	// Bad ranges are refused.
	for _, bad := range []map[string]any{
		{"action": "stop", "from": date, "to": day.AddDate(0, 0, -1).Format(time.DateOnly), "reason": "x停诊"},
		{"action": "stop", "from": date, "to": day.AddDate(0, 0, 40).Format(time.DateOnly), "reason": "x停诊"},
		{"action": "cancel", "from": date, "to": date, "reason": "x停诊"},
	} {
		if r := svc.do("POST", bulk, admin, bad); r.status != 400 || r.code != "invalid_field" {
			t.Errorf("bulk %v = %d %s, want 400 invalid_field", bad, r.status, r.body)
		}
	}
	// Off the calendar, the template publishes on the day again.
	q := url.Values{"date": {date}, "reason": {"安排调整"}}
	if r := svc.do("DELETE", holidays+"?"+q.Encode(), admin, nil); r.status != 200 {
		t.Fatalf("delete the holiday = %d %s", r.status, r.body)
	}
	if r := svc.do("DELETE", holidays+"?"+q.Encode(), admin, nil); r.status != 404 {
		t.Errorf("delete it again = %d %s, want 404", r.status, r.body)
	}
	r = svc.do("POST", "/v1/admin/doctors/"+doc2+"/weeks", admin, week)
	if r.status != 201 {
		t.Fatalf("publish the week again = %d %s", r.status, r.body)
	}
	r.decode(t, &published)
	if len(published) != 2 {
		t.Errorf("the week off the calendar published %d sessions, want 2", len(published))
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action IN ('holiday_set', 'holiday_delete') AND hospital_id = $1`, hospital); n != 2 {
		t.Errorf("holiday audit rows = %d, want 2", n)
	}
	svc.run("reconcile", "--check")
}

// TestMoveKeepsTheOtherBookingOfTheDay (review19b M5's move, sources22): a
// person holds one booking a day in a department. A clinic moved onto a day
// on which one of its patients already holds another booking in the
// department (another doctor's) leaves that one as it is and cancels the
// moved one — never late, a cancelled event with reason session_moved, the
// patient told why — while a patient with nothing else that day moves with
// the clinic.
func TestMoveKeepsTheOtherBookingOfTheDay(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 3)
	svc := startService(t, sch, nil)
	admin := svc.staffLogin(booking.RoleAdmin, 1)
	moving, kept, start := svc.twoClinicsOfADepartment(admin, sch)
	book := svc.book
	p1, p2 := svc.newPatient(1), svc.newPatient(2)
	p1Moving, p1Kept := book(p1, moving), book(p1, kept)
	p2Moving := book(p2, moving)
	to := start.AddDate(0, 0, 2).Add(6 * time.Hour) // the other booking's day, 14:00
	r := svc.moveTo(admin, moving, to, "afternoon", svc.sessionVersion(admin, moving))
	if r.status != 200 {
		t.Fatalf("move = %d %s", r.status, r.body)
	}
	var moved struct {
		Moved     int `json:"moved"`
		Cancelled int `json:"cancelled"`
	}
	r.decode(t, &moved)
	if moved.Moved != 1 || moved.Cancelled != 1 {
		t.Errorf("the move answered %s; want 1 moved, 1 cancelled", r.body)
	}
	status := func(id string) (st string, late bool, day string) {
		t.Helper()
		testenv.Must(t, svc.pool.QueryRow(t.Context(), `SELECT status, late_cancel, visit_date::TEXT FROM bookings WHERE id = $1`, id).Scan(&st, &late, &day), "read %s", id)
		return st, late, day
	}
	newDay := to.Format(time.DateOnly)
	for _, c := range []struct {
		name, id, status, day string
	}{
		{"p1's other booking that day", p1Kept, "confirmed", newDay},
		{"p1's moved booking", p1Moving, "cancelled", newDay},
		{"p2's moved booking", p2Moving, "confirmed", newDay},
	} {
		st, late, day := status(c.id)
		if st != c.status || late || day != c.day {
			t.Errorf("%s: %s late=%v on %s; want %s, not late, on %s", c.name, st, late, day, c.status, c.day)
		}
	}
	if n := svc.count(`SELECT count(*) FROM booking_events WHERE booking_id = $1 AND type = 'cancelled' AND reason = 'session_moved'`, p1Moving); n != 1 {
		t.Errorf("cancelled events of p1's moved booking with reason session_moved = %d, want 1", n)
	}
	if n := svc.count(`SELECT count(*) FROM notifications WHERE booking_id = $1 AND kind = 'session_moved' AND body LIKE '%已取消%'`, p1Moving); n != 1 {
		t.Errorf("notices telling p1 the moved booking was cancelled = %d, want 1", n)
	}
	// p1's own list: the other booking stands, the moved one is cancelled.
	var mine []struct {
		ID     string `json:"booking_id"`
		Status string `json:"status"`
	}
	svc.do("GET", "/v1/bookings", p1.token, nil).decode(t, &mine)
	got := map[string]string{}
	for _, b := range mine {
		got[b.ID] = b.Status
	}
	if got[p1Kept] != "confirmed" || got[p1Moving] != "cancelled" {
		t.Errorf("p1's bookings = %v; want %s confirmed, %s cancelled", got, p1Kept, p1Moving)
	}
	svc.run("reconcile", "--check")
}

// TestMoveMeetingABookingCommittedMeanwhile (review22 L1): a booking of one
// of the moving clinic's patients, on the new day in the same department,
// committed after the move read its conflicts but before it moved the
// bookings, made the move fail as 409 session_overlap ("the doctor already
// has a session at this time": false). The move must find that booking on a
// second reading and cancel the moved one, as it does for one committed
// before it. The booking committed meanwhile is a cancelled one made active
// again in a transaction held open until the move waits on it.
func TestMoveMeetingABookingCommittedMeanwhile(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 3)
	svc := startService(t, sch, nil)
	admin := svc.staffLogin(booking.RoleAdmin, 1)
	moving, kept, start := svc.twoClinicsOfADepartment(admin, sch)
	book := svc.book
	p1 := svc.newPatient(1)
	p1Moving, p1Kept := book(p1, moving), book(p1, kept)
	if r := svc.do("DELETE", "/v1/bookings/"+p1Kept, p1.token, nil); r.status != 200 {
		t.Fatalf("cancel the other booking: %d %s", r.status, r.body)
	}
	// The other booking becomes active again in a transaction the move
	// cannot see when it reads its conflicts.
	tx, err := svc.pool.Begin(t.Context())
	testenv.Must(t, err, "begin")
	defer func() { _ = tx.Rollback(context.Background()) }()
	_, err = tx.Exec(t.Context(), `UPDATE bookings SET status = 'confirmed' WHERE id = $1`, p1Kept)
	testenv.Must(t, err, "make the other booking active again")

	to := start.AddDate(0, 0, 2).Add(6 * time.Hour) // the other booking's day, 14:00
	version := svc.sessionVersion(admin, moving)
	done := make(chan reply, 1)
	go func() {
		done <- svc.moveTo(admin, moving, to, "afternoon", version)
	}()
	// Wait until the move waits on the other booking's index entry, then
	// commit it.
	deadline := time.Now().Add(30 * time.Second)
	for svc.count(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%visit_date%'`) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the move never waited on the other booking")
		}
		time.Sleep(20 * time.Millisecond)
	}
	testenv.Must(t, tx.Commit(t.Context()), "commit the other booking")
	r := <-done
	if r.status != 200 {
		t.Fatalf("move = %d %s; want 200, the moved booking cancelled", r.status, r.body)
	}
	var moved struct {
		Moved     int `json:"moved"`
		Cancelled int `json:"cancelled"`
	}
	r.decode(t, &moved)
	if moved.Moved != 0 || moved.Cancelled != 1 {
		t.Errorf("the move answered %s; want 0 moved, 1 cancelled", r.body)
	}
	var st string
	testenv.Must(t, svc.pool.QueryRow(t.Context(), `SELECT status FROM bookings WHERE id = $1`, p1Moving).Scan(&st), "read the moved booking")
	if st != "cancelled" {
		t.Errorf("the moved booking is %s, want cancelled", st)
	}
}

// TestMoveClearsTheOldDaysDelay (review22 L2): a delay is of one visit day.
// A clinic announced 90 minutes late and then moved to another day kept
// delay_minutes, so the new day's listing said it starts 90 minutes late
// where the move's notice gave the new start. The move clears the delay,
// answers no delay and tells the patients the delay no longer holds.
func TestMoveClearsTheOldDaysDelay(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 3)
	svc := startService(t, sch, nil)
	admin := svc.staffLogin(booking.RoleAdmin, 1)
	moving, start := publishEarlyPool(t, svc, admin, sch.Doctors[0].ID, 10)
	p := svc.newPatient(1)
	svc.book(p, moving)
	r := svc.do("POST", "/v1/admin/sessions/"+moving+"/announcements", admin, map[string]any{"delay_minutes": 90, "reason": "医生晚到",
		"version": svc.sessionVersion(admin, moving)})
	if r.status != 200 {
		t.Fatalf("announce the delay: %d %s", r.status, r.body)
	}
	to := start.AddDate(0, 0, 2).Add(6 * time.Hour)
	r = svc.moveTo(admin, moving, to, "afternoon", svc.sessionVersion(admin, moving))
	if r.status != 200 {
		t.Fatalf("move = %d %s", r.status, r.body)
	}
	var moved struct {
		Delay *int `json:"delay_minutes"`
	}
	r.decode(t, &moved)
	if moved.Delay != nil && *moved.Delay != 0 { // absent: on time
		t.Errorf("the move answered %s; want no delay", r.body)
	}
	if n := svc.count(`SELECT count(*) FROM clinic_sessions WHERE id = $1 AND delay_minutes = 0`, moving); n != 1 {
		t.Errorf("the moved session keeps the old day's delay")
	}
	if n := svc.count(`SELECT count(*) FROM notifications WHERE session_id = $1 AND kind = 'session_moved' AND body LIKE '%准时开诊%'`, moving); n != 1 {
		t.Errorf("move notices saying the delay no longer holds = %d, want 1", n)
	}
}

// TestRestoredMovedClinicKeepsItsFreeCancel (review22 L3): the move promised
// its patients a free cancellation until the clinic's new start. A moved
// clinic stopped by mistake and restored lost that promise: the copy the
// restore publishes carried neither moved_at nor moved_from, and the
// restored booking answered the hospital's ordinary deadline (15:00 the day
// before). The copy keeps the move, and the restored booking its free
// cancellation until the new start.
func TestRestoredMovedClinicKeepsItsFreeCancel(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 3)
	svc := startService(t, sch, nil)
	admin := svc.staffLogin(booking.RoleAdmin, 1)
	moving, start := publishEarlyPool(t, svc, admin, sch.Doctors[0].ID, 10)
	p := svc.newPatient(1)
	svc.book(p, moving)
	to := start.AddDate(0, 0, 2).Add(6 * time.Hour)
	r := svc.moveTo(admin, moving, to, "afternoon", svc.sessionVersion(admin, moving))
	if r.status != 200 {
		t.Fatalf("move = %d %s", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/admin/sessions/"+moving+"/stop", admin, map[string]any{"reason": "误操作", "confirm_booked": 1}); r.status != 200 {
		t.Fatalf("stop = %d %s", r.status, r.body)
	}
	r = svc.do("POST", "/v1/admin/sessions/"+moving+"/restore", admin, map[string]any{"reason": "停诊点错了"})
	if r.status != 200 {
		t.Fatalf("restore = %d %s", r.status, r.body)
	}
	var restored struct {
		SessionID string `json:"session_id"`
		Restored  int    `json:"restored"`
	}
	r.decode(t, &restored)
	if restored.Restored != 1 {
		t.Fatalf("restore answered %s, want 1 booking back", r.body)
	}
	if n := svc.count(`SELECT count(*) FROM clinic_sessions c JOIN clinic_sessions s ON s.id = $2
		WHERE c.id = $1 AND c.moved_at = s.moved_at AND c.moved_from = s.moved_from`, restored.SessionID, moving); n != 1 {
		t.Errorf("the restored copy does not carry the move (moved_at, moved_from)")
	}
	var mine []struct {
		SessionID       string `json:"session_id"`
		Status          string `json:"status"`
		FreeCancelUntil string `json:"free_cancel_until"`
	}
	svc.do("GET", "/v1/bookings", p.token, nil).decode(t, &mine)
	found := false
	for _, b := range mine {
		if b.SessionID != restored.SessionID || b.Status != "confirmed" {
			continue
		}
		found = true
		got, err := time.Parse(time.RFC3339, b.FreeCancelUntil)
		if err != nil || !got.Equal(to) {
			t.Errorf("the restored booking is free to cancel until %q, want the moved clinic's start %s", b.FreeCancelUntil, to.Format(time.RFC3339))
		}
	}
	if !found {
		t.Errorf("no confirmed booking of the restored copy in %+v", mine)
	}
}

// twoClinicsOfADepartment publishes a clinic of the schedule's first doctor
// in ten days (moving) and one of another doctor of the same department in
// twelve (kept): a move of the first onto the second's day meets its
// patients' bookings there.
func (s *service) twoClinicsOfADepartment(admin string, sch booking.Schedule) (moving, kept string, start time.Time) {
	t := s.t.(*testing.T)
	t.Helper()
	var other struct {
		ID string `json:"doctor_id"`
	}
	r := s.do("POST", "/v1/admin/doctors", admin, map[string]string{"department_id": sch.Departments[0].ID, "name": "Dr Same Dept"})
	if r.status != 201 {
		t.Fatalf("create the department's other doctor: %d %s", r.status, r.body)
	}
	r.decode(t, &other)
	moving, start = publishEarlyPool(t, s, admin, sch.Doctors[0].ID, 10)
	kept, _ = publishEarlyPool(t, s, admin, other.ID, 12)
	return moving, kept, start
}

// book books session for p online (201, or the test stops) and returns the
// booking's id.
func (s *service) book(p patient, session string) string {
	s.t.Helper()
	r := s.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": session, "patient_id": p.patientID})
	if r.status != 201 {
		s.t.Fatalf("book %s: %d %s", session, r.status, r.body)
	}
	var b struct {
		ID string `json:"booking_id"`
	}
	r.decode(s.t, &b)
	return b.ID
}

// moveTo moves session id (改期) to start at `to`, in period, from its
// version, for the reason every move test gives, and answers the reply.
func (s *service) moveTo(admin, id string, to time.Time, period string, version int64) reply {
	s.t.Helper()
	return s.do("POST", "/v1/admin/sessions/"+id+"/move", admin, map[string]any{"date": to.Format(time.DateOnly), "period": period,
		"starts_at": to.Format(time.RFC3339), "reason": "医生外出学术会议", "version": version})
}
