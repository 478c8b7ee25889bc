package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// review19b's remaining findings (session 20) over the real binary.

// publishEarlyPool publishes, as admin, a session of doctor doc days ahead
// (08:00 to 12:00, Shanghai) whose online pool (10) is released already —
// an early pool, as a referral pool released 14 days ahead — and whose
// phone pool (4) opens 2 days before the visit at 08:00, on-site (4) the
// same day at 07:00. It returns the session's id and its start.
func publishEarlyPool(t *testing.T, svc *service, admin, doc string, days int) (string, time.Time) {
	t.Helper()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(loc)
	start := time.Date(now.Year(), now.Month(), now.Day()+days, 8, 0, 0, 0, loc)
	r := svc.do("POST", "/v1/admin/sessions", admin, map[string]any{
		"doctor_id": doc, "date": start.Format(time.DateOnly), "period": "morning",
		"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(4 * time.Hour).Format(time.RFC3339),
		"channels": []map[string]any{
			{"channel": "online", "quota": 10, "release_at": now.Add(-time.Minute).Format(time.RFC3339)},
			{"channel": "phone", "quota": 4, "release_at": start.AddDate(0, 0, -2).Format(time.RFC3339)},
			{"channel": "onsite", "quota": 4, "release_at": start.Add(-time.Hour).Format(time.RFC3339)},
		},
	})
	if r.status != 201 {
		t.Fatalf("publish a session with an early pool = %d %s", r.status, r.body)
	}
	var out struct {
		ID string `json:"session_id"`
	}
	r.decode(t, &out)
	return out.ID, start
}

// sessionVersion reads a session's version as an administrator's edit form
// does (GET).
func (s *service) sessionVersion(admin, id string) int64 {
	s.t.Helper()
	var v struct {
		Version int64 `json:"version"`
	}
	r := s.do("GET", "/v1/admin/sessions/"+id, admin, nil)
	if r.status != 200 {
		s.t.Errorf("GET session %s = %d %s", id, r.status, r.body)
		return 0
	}
	r.decode(s.t, &v)
	return v.Version
}

// slotsOf lists a session's slots of a channel as "no@start" strings, by
// number.
func (s *service) slotsOf(id, channel string) []string {
	s.t.Helper()
	rows, err := s.pool.Query(s.t.Context(), `SELECT slot_no, starts_at FROM slots WHERE session_id = $1 AND channel = $2 ORDER BY slot_no`, id, channel)
	if err != nil {
		s.t.Fatalf("read slots: %v", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n int
		var at time.Time
		if err := rows.Scan(&n, &at); err != nil {
			s.t.Fatalf("scan slot: %v", err)
		}
		out = append(out, fmt.Sprintf("%d@%s", n, at.UTC().Format("15:04:05")))
	}
	return out
}

// TestEarlyPoolLeavesTheOthersEditable (review19b M3): one pool released
// early (a referral pool 14 days ahead; here the online pool) froze the
// whole session: the phone pool's quota and release time, days before its
// own release, could not be corrected (409 session_released). A pool not
// yet released with nothing booked in it stays editable; the released
// pool, and the clinic's hours, do not change under the patients who see
// them.
func TestEarlyPoolLeavesTheOthersEditable(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 3)
	svc := startService(t, sch, nil)
	admin := svc.staffLogin(booking.RoleAdmin, 1)
	id, start := publishEarlyPool(t, svc, admin, sch.Doctors[0].ID, 10)
	online := svc.slotsOf(id, "online")
	phoneRelease := start.AddDate(0, 0, -2).Add(time.Hour)
	patch := func(body map[string]any) reply {
		body["version"] = svc.sessionVersion(admin, id)
		return svc.do("PATCH", "/v1/admin/sessions/"+id, admin, body)
	}
	r := patch(map[string]any{"channels": []map[string]any{
		{"channel": "phone", "quota": 6, "release_at": phoneRelease.Format(time.RFC3339)}}, "reason": "电话号源加两个，推迟一小时"})
	if r.status != 200 {
		t.Fatalf("PATCH the unreleased phone pool = %d %s, want 200", r.status, r.body)
	}
	var rel time.Time
	if err := svc.pool.QueryRow(t.Context(), `SELECT release_at FROM session_channels WHERE session_id = $1 AND channel = 'phone'`, id).Scan(&rel); err != nil {
		t.Fatalf("read the phone release: %v", err)
	}
	if !rel.Equal(phoneRelease) {
		t.Errorf("phone release = %s, want %s", rel, phoneRelease)
	}
	if n := len(svc.slotsOf(id, "phone")); n != 6 {
		t.Errorf("phone slots after the edit = %d, want 6", n)
	}
	if got := svc.slotsOf(id, "online"); fmt.Sprint(got) != fmt.Sprint(online) {
		t.Errorf("the released online pool's slots changed under its patients:\n was %v\n now %v", online, got)
	}
	// A release time moved alone keeps the pool's slots as they are.
	phone := svc.slotsOf(id, "phone")
	if r := patch(map[string]any{"channels": []map[string]any{{"channel": "phone", "release_at": phoneRelease.Add(time.Hour).Format(time.RFC3339)}}}); r.status != 200 {
		t.Errorf("PATCH the phone pool's release alone = %d %s, want 200", r.status, r.body)
	}
	if got := svc.slotsOf(id, "phone"); fmt.Sprint(got) != fmt.Sprint(phone) {
		t.Errorf("the phone pool's slots changed with its release time alone:\n was %v\n now %v", phone, got)
	}
	// The released pool and the clinic's hours stay as published.
	if r := patch(map[string]any{"channels": []map[string]any{{"channel": "online", "quota": 12}}}); r.status != 409 || r.code != "session_released" {
		t.Errorf("PATCH the released online pool = %d %s, want 409 session_released", r.status, r.body)
	}
	if r := patch(map[string]any{"ends_at": start.Add(5 * time.Hour).Format(time.RFC3339)}); r.status != 409 || r.code != "session_released" {
		t.Errorf("PATCH the clinic's hours with a pool released = %d %s, want 409 session_released", r.status, r.body)
	}
	svc.run("reconcile", "--check")

	// Patients hammer the released pool while the phone pool is edited:
	// no booking lost (every 201 is confirmed in SQL and held in Redis),
	// none oversold.
	const patients, edits = 24, 6
	people := make([]patient, patients)
	for i := range people {
		people[i] = svc.newPatient(100 + i)
	}
	var wg sync.WaitGroup
	replies := make([]reply, patients)
	for i, p := range people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": id, "patient_id": p.patientID})
		}()
	}
	quota := 6
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range edits {
			for {
				quota = 5 + 2*(i%2) // 5, 7, 5, …
				r := patch(map[string]any{"channels": []map[string]any{{"channel": "phone", "quota": quota}}, "reason": "调整电话号源"})
				if r.status == 409 && r.code == "edited_meanwhile" {
					continue
				}
				if r.status != 200 {
					t.Errorf("edit %d of the phone pool while the online pool is booked = %d %s, want 200", i, r.status, r.body)
				}
				break
			}
		}
	}()
	wg.Wait()
	booked := map[string]bool{}
	for i, r := range replies {
		switch {
		case r.status == 201:
			var b struct {
				ID string `json:"booking_id"`
			}
			r.decode(t, &b)
			booked[b.ID] = true
		case r.status == 409 && r.code == "sold_out":
		default:
			t.Errorf("patient %d's booking while the phone pool was edited = %d %s, want 201 or 409 sold_out", i, r.status, r.body)
		}
	}
	if len(booked) != 10 {
		t.Errorf("%d bookings of the online pool's 10 slots, want 10", len(booked))
	}
	for b := range booked {
		if n := svc.count(`SELECT count(*) FROM bookings b JOIN slots s ON s.session_id = b.session_id AND s.slot_no = b.slot_no
			WHERE b.id = $1 AND b.status = 'confirmed' AND s.channel = 'online'`, b); n != 1 {
			t.Errorf("booking %s answered 201 is not a confirmed online slot in SQL", b)
		}
	}
	if n := svc.count(`SELECT count(DISTINCT slot_no) FROM bookings WHERE session_id = $1 AND status = 'confirmed'`, id); n != len(booked) {
		t.Errorf("%d distinct slots booked for %d bookings", n, len(booked))
	}
	if n := len(svc.slotsOf(id, "phone")); n != quota {
		t.Errorf("phone slots after the edits = %d, want %d (the last edit's)", n, quota)
	}
	if got := svc.slotsOf(id, "online"); fmt.Sprint(got) != fmt.Sprint(online) {
		t.Errorf("the online pool's slots changed while it was booked:\n was %v\n now %v", online, got)
	}
	svc.run("reconcile", "--check")

	// Withdrawal: refused while anything is booked …
	if r := svc.do("DELETE", "/v1/admin/sessions/"+id+"?reason=wrong+week", admin, nil); r.status != 409 || r.code != "session_released" {
		t.Errorf("DELETE a session with bookings = %d %s, want 409 session_released", r.status, r.body)
	}
	// … and possible while nothing is, released or not: the mistaken week
	// is withdrawn instead of stopped.
	other, _ := publishEarlyPool(t, svc, admin, sch.Doctors[0].ID, 11)
	if r := svc.do("DELETE", "/v1/admin/sessions/"+other+"?reason=wrong+week", admin, nil); r.status != 200 {
		t.Errorf("DELETE a released session nothing is booked in = %d %s, want 200", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM clinic_sessions WHERE id = $1`, other); n != 0 {
		t.Errorf("the withdrawn session is still in SQL")
	}
	late := svc.newPatient(200)
	if r := svc.do("POST", "/v1/bookings", late.token, map[string]string{"session_id": other, "patient_id": late.patientID}); r.status != 404 || r.code != "session_not_found" {
		t.Errorf("booking the withdrawn session = %d %s, want 404 session_not_found", r.status, r.body)
	}
	svc.run("reconcile", "--check")
}

// TestMistakenStopIsRestored (review19b H1): a 停诊 clicked by mistake is
// undone within the hospital's window (30 minutes by default): the
// session is published again as it was, and each patient the stop
// cancelled has their booking back — the same slot, theirs before anyone
// else's — told by a session_restored notice. The stop names how many it
// cancels before it does (GET's booked counts; confirm_booked). A second
// restore, or one whose half-day is taken meanwhile, is refused.
func TestMistakenStopIsRestored(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 3, 3)
	svc := startService(t, sch, nil)
	admin := svc.staffLogin(booking.RoleAdmin, 1)
	id, _ := publishEarlyPool(t, svc, admin, sch.Doctors[0].ID, 10)
	p1, p2 := svc.newPatient(1), svc.newPatient(2)
	slots := map[string]int{}
	for _, p := range []patient{p1, p2} {
		r := svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": id, "patient_id": p.patientID})
		if r.status != 201 {
			t.Fatalf("book = %d %s", r.status, r.body)
		}
		var b struct {
			SlotNo int `json:"slot_no"`
		}
		r.decode(t, &b)
		slots[p.patientID] = b.SlotNo
	}
	// The console's preview: how many the stop would cancel.
	var view struct {
		Booked   int `json:"booked"`
		Channels []struct {
			Channel string `json:"channel"`
			Booked  int    `json:"booked"`
		} `json:"channels"`
	}
	svc.do("GET", "/v1/admin/sessions/"+id, admin, nil).decode(t, &view)
	online := -1
	for _, c := range view.Channels {
		if c.Channel == "online" {
			online = c.Booked
		}
	}
	if view.Booked != 2 || online != 2 {
		t.Errorf("GET the session: booked %d, online booked %d; want 2 and 2", view.Booked, online)
	}
	// The doctor runs late, and the patients were told so: a restore
	// publishes the clinic again with its room and its delay (session 23;
	// before, the restored session started on time again, untold).
	if r := svc.do("POST", "/v1/admin/sessions/"+id+"/announcements", admin, map[string]any{"room": "门诊楼2层5诊室",
		"delay_minutes": 25, "reason": "医生手术延迟", "version": svc.sessionVersion(admin, id)}); r.status != 200 {
		t.Fatalf("announce the delay = %d %s", r.status, r.body)
	}
	stop := func(confirm int) reply {
		return svc.do("POST", "/v1/admin/sessions/"+id+"/stop", admin, map[string]any{"reason": "误操作", "confirm_booked": confirm})
	}
	if r := stop(1); r.status != 409 || r.code != "booked_changed" || r.field != "confirm_booked" {
		t.Errorf("a stop confirming 1 booking of 2 = %d %s, want 409 booked_changed confirm_booked", r.status, r.body)
	}
	if r := stop(2); r.status != 200 {
		t.Fatalf("stop = %d %s", r.status, r.body)
	}

	r := svc.do("POST", "/v1/admin/sessions/"+id+"/restore", admin, map[string]any{"reason": "停诊点错了"})
	if r.status != 200 {
		t.Fatalf("restore the stopped session = %d %s, want 200", r.status, r.body)
	}
	var restored struct {
		SessionID string `json:"session_id"`
		Restored  int    `json:"restored"`
	}
	r.decode(t, &restored)
	if restored.Restored != 2 || restored.SessionID == "" || restored.SessionID == id {
		t.Fatalf("restore answered %s, want 2 bookings restored in a session of its own", r.body)
	}
	for _, p := range []patient{p1, p2} {
		if n := svc.count(`SELECT count(*) FROM bookings WHERE session_id = $1 AND patient_id = $2 AND slot_no = $3 AND status = 'confirmed'`,
			restored.SessionID, p.patientID, slots[p.patientID]); n != 1 {
			t.Errorf("patient's booking of slot %d is not back in the restored session", slots[p.patientID])
		}
		var ns struct {
			Notifications []struct {
				Kind string `json:"kind"`
			} `json:"notifications"`
		}
		svc.do("GET", "/v1/notifications", p.token, nil).decode(t, &ns)
		told := false
		for _, n := range ns.Notifications {
			told = told || n.Kind == "session_restored"
		}
		if !told {
			t.Errorf("the patient was not told of the restore: %+v", ns.Notifications)
		}
	}
	// The pools as they were: online 10 (2 of them held for the restored
	// bookings), phone and on-site not yet released.
	if n := svc.count(`SELECT quota FROM session_channels WHERE session_id = $1 AND channel = 'online'`, restored.SessionID); n != 10 {
		t.Errorf("restored online quota = %d, want 10", n)
	}
	if n := svc.count(`SELECT count(*) FROM session_channels a JOIN session_channels b ON a.channel = b.channel AND a.release_at = b.release_at
		WHERE a.session_id = $1 AND b.session_id = $2`, id, restored.SessionID); n != 3 {
		t.Errorf("%d pools restored with their release time, want 3", n)
	}
	if n := svc.count(`SELECT delay_minutes FROM clinic_sessions WHERE id = $1 AND room = '门诊楼2层5诊室'`, restored.SessionID); n != 25 {
		t.Errorf("the restored clinic's delay = %d minutes (in its room), want the 25 announced", n)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'session_restore' AND target = $1`, "session:"+id); n != 1 {
		t.Errorf("audit rows session_restore = %d, want 1", n)
	}
	late := svc.newPatient(3)
	if r := svc.do("POST", "/v1/bookings", late.token, map[string]string{"session_id": restored.SessionID, "patient_id": late.patientID}); r.status != 201 {
		t.Errorf("booking the restored session = %d %s, want 201", r.status, r.body)
	}
	svc.run("reconcile", "--check")
	if r := svc.do("POST", "/v1/admin/sessions/"+id+"/restore", admin, map[string]any{"reason": "again"}); r.status != 409 || r.code != "restore_closed" {
		t.Errorf("a second restore = %d %s, want 409 restore_closed", r.status, r.body)
	}

	// Its half-day published again meanwhile: the restore is refused.
	other, start := publishEarlyPool(t, svc, admin, sch.Doctors[1].ID, 12)
	if r := svc.do("POST", "/v1/admin/sessions/"+other+"/stop", admin, map[string]any{"reason": "误操作"}); r.status != 200 {
		t.Fatalf("stop = %d %s", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/admin/sessions", admin, map[string]any{
		"doctor_id": sch.Doctors[1].ID, "date": start.Format(time.DateOnly), "period": "morning",
		"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(3 * time.Hour).Format(time.RFC3339),
		"channels": []map[string]any{{"channel": "online", "quota": 8, "release_at": start.AddDate(0, 0, -3).Format(time.RFC3339)}},
	}); r.status != 201 {
		t.Fatalf("publish the half-day again = %d %s", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/admin/sessions/"+other+"/restore", admin, map[string]any{"reason": "恢复"}); r.status != 409 || r.code != "session_overlap" {
		t.Errorf("restore a stop whose half-day was published again = %d %s, want 409 session_overlap", r.status, r.body)
	}
}

// TestExtraSlotsByRole (review19b L4): a clerk adds extra slots (加号) on
// the visit day only, in the hospital's calendar — a clerk's 加号 three
// weeks ahead was taken — and an administrator enlarges a session on any
// day (the scheduler could not: 403). Both are capped by the policy's
// extra_slots_max and audited.
func TestExtraSlotsByRole(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 3)
	today := todaySession(t, &sch)
	svc := startService(t, sch, nil)
	admin := svc.staffLogin(booking.RoleAdmin, 1)
	clerk := svc.staffLogin(booking.RoleClerk, 2)
	ahead, _ := publishEarlyPool(t, svc, admin, sch.Doctors[0].ID, 21)
	extra := func(token, id string) reply {
		return svc.do("POST", "/v1/desk/sessions/"+id+"/extra-slots", token,
			map[string]any{"count": 2, "reason": "医生同意加号", "authorised_by": "吴医生"})
	}
	if r := extra(clerk, ahead); r.status != 403 || r.code != "forbidden" {
		t.Errorf("a clerk's extra slots three weeks ahead = %d %s, want 403 forbidden", r.status, r.body)
	}
	if r := extra(clerk, today.ID); r.status != 201 {
		t.Errorf("a clerk's extra slots on the visit day = %d %s, want 201", r.status, r.body)
	}
	if r := extra(admin, ahead); r.status != 201 {
		t.Errorf("an administrator's extra slots three weeks ahead = %d %s, want 201", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'extra_slots' AND target LIKE $1`, "session:"+ahead+" %"); n != 1 {
		var got string
		_ = svc.pool.QueryRow(t.Context(), `SELECT string_agg(action || ' ' || target, '; ') FROM audit_log`).Scan(&got)
		t.Errorf("audit rows of the administrator's extra slots = %d, want 1 (%s)", n, got)
	}
	if n := svc.count(`SELECT count(*) FROM slots s JOIN clinic_sessions c ON c.id = s.session_id
		WHERE s.session_id = $1 AND s.starts_at >= c.ends_at`, ahead); n != 2 {
		t.Errorf("extra slots of the session ahead = %d, want 2", n)
	}
	svc.run("reconcile", "--check")
}

// TestSubstituteTakesTheWaitlist (review19b L5): a clinic stopped with a
// substitute (替诊) carries its waiting places to the substitute's
// session, in their order, each patient told so — instead of ending them
// with the plain stop notice while the clinic goes on under another
// doctor.
func TestSubstituteTakesTheWaitlist(t *testing.T) {
	svc, sess, admin, _, sub, _, _ := offerFixture(t, 4601)
	for i := range 3 { // the online pool's 4 slots all booked
		p := svc.newPatient(4602 + i)
		if r := svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sess.ID, "patient_id": p.patientID}); r.status != 201 {
			t.Fatalf("book: %d %s", r.status, r.body)
		}
	}
	waiting := svc.newPatient(4610)
	r := svc.do("POST", "/v1/waitlist", waiting.token, map[string]string{"session_id": sess.ID, "patient_id": waiting.patientID})
	if r.status != 201 {
		t.Fatalf("join the waitlist = %d %s", r.status, r.body)
	}
	var place struct {
		ID string `json:"waitlist_id"`
	}
	r.decode(t, &place)
	r = svc.do("POST", "/v1/admin/sessions/"+sess.ID+"/stop", admin, map[string]string{"reason": "the doctor is ill", "substitute_doctor_id": sub.ID})
	if r.status != 200 {
		t.Fatalf("stop with a substitute = %d %s", r.status, r.body)
	}
	var stop struct {
		SubstituteSessionID string `json:"substitute_session_id"`
		Dropped             int    `json:"waitlist_dropped"`
		Carried             int    `json:"waitlist_carried"`
	}
	r.decode(t, &stop)
	if stop.Carried != 1 || stop.Dropped != 0 {
		t.Errorf("stop answered %s; want 1 waitlist place carried, none dropped", r.body)
	}
	if n := svc.count(`SELECT count(*) FROM waitlist WHERE id = $1 AND status = 'waiting' AND session_id = $2`, place.ID, stop.SubstituteSessionID); n != 1 {
		t.Errorf("the waiting place is not waiting in the substitute's session")
	}
	var ns struct {
		Notifications []struct {
			Kind string `json:"kind"`
			Body string `json:"body"`
		} `json:"notifications"`
	}
	svc.do("GET", "/v1/notifications", waiting.token, nil).decode(t, &ns)
	told := false
	for _, n := range ns.Notifications {
		told = told || n.Kind == "session_stopped" && strings.Contains(n.Body, "候补已转至")
	}
	if !told {
		t.Errorf("the waiting patient was not told the place moved to the substitute: %+v", ns.Notifications)
	}
	svc.run("reconcile", "--check")
}
