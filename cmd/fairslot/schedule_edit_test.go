package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// review19b: a 号源 manager's edits of a published session over the real
// binary.

// publishAhead publishes, as admin, a session of the schedule's first
// doctor days ahead (08:00 to 12:00, Shanghai): online 10 released 7 days
// before at 08:00, phone 4 and on-site 4 the same. It returns the
// session's id and its start.
func publishAhead(t *testing.T, svc *service, sch booking.Schedule, admin string, days int) (string, time.Time) {
	t.Helper()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(loc)
	start := time.Date(now.Year(), now.Month(), now.Day()+days, 8, 0, 0, 0, loc)
	rel := func(before int) string { return start.AddDate(0, 0, -before).Format(time.RFC3339) }
	r := svc.do("POST", "/v1/admin/sessions", admin, map[string]any{
		"doctor_id": sch.Doctors[0].ID, "date": start.Format(time.DateOnly), "period": "morning",
		"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(4 * time.Hour).Format(time.RFC3339),
		"channels": []map[string]any{
			{"channel": "online", "quota": 10, "release_at": rel(7)},
			{"channel": "phone", "quota": 4, "release_at": rel(7)},
			{"channel": "onsite", "quota": 4, "release_at": rel(7)},
		},
	})
	if r.status != 201 {
		t.Fatalf("publish a session %d days ahead = %d %s", days, r.status, r.body)
	}
	var out struct {
		ID string `json:"session_id"`
	}
	r.decode(t, &out)
	return out.ID, start
}

// moveOnlineRelease edits publishAhead's session id (starting at start):
// its online release to online, the other pools as published.
func moveOnlineRelease(t *testing.T, svc *service, admin, id string, start, online time.Time) reply {
	t.Helper()
	announced := start.AddDate(0, 0, -7)
	var v struct {
		Version int64 `json:"version"`
	}
	svc.do("GET", "/v1/admin/sessions/"+id, admin, nil).decode(t, &v)
	return svc.do("PATCH", "/v1/admin/sessions/"+id, admin, map[string]any{"version": v.Version,
		"date": start.Format(time.DateOnly), "period": "morning",
		"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(4 * time.Hour).Format(time.RFC3339),
		"channels": []map[string]any{
			{"channel": "online", "quota": 10, "release_at": online.Format(time.RFC3339)},
			{"channel": "phone", "quota": 4, "release_at": announced.Format(time.RFC3339)},
			{"channel": "onsite", "quota": 4, "release_at": announced.Format(time.RFC3339)},
		},
		"reason": "提前放号",
	})
}

// TestReleaseMovesEarlierOnlyWithNotice (review19b H2): an announced
// release time is not moved earlier to less than the hospital's notice
// (24 hours unless its policy says): refused 422 release_notice, the
// session as it was. Moved earlier with the notice, or later, it is
// changed. A template week whose computed release has passed is refused
// 422 release_passed unless the request says open_past_releases.
func TestReleaseMovesEarlierOnlyWithNotice(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 3, 3)
	svc := startService(t, sch, nil)
	admin := svc.staffLogin(booking.RoleAdmin, 1)
	id, start := publishAhead(t, svc, sch, admin, 20)
	announced := start.AddDate(0, 0, -7)
	edit := func(online time.Time) reply { return moveOnlineRelease(t, svc, admin, id, start, online) }
	online := func() time.Time {
		var at time.Time
		if err := svc.pool.QueryRow(t.Context(), `SELECT release_at FROM session_channels WHERE session_id = $1 AND channel = 'online'`, id).Scan(&at); err != nil {
			t.Fatalf("read the online release: %v", err)
		}
		return at
	}
	soon := time.Now().Add(time.Minute).Truncate(time.Second)
	if r := edit(soon); r.status != 422 || r.code != "release_notice" {
		t.Errorf("online release moved from %s to in a minute = %d %s, want 422 release_notice", announced, r.status, r.body)
	}
	if got := online(); !got.Equal(announced) {
		t.Errorf("online release after the refusal = %s, want %s as announced", got, announced)
	}
	// Its near miss: earlier, but more than a day's notice.
	notice := time.Now().Add(25 * time.Hour).Truncate(time.Second)
	if r := edit(notice); r.status != 200 {
		t.Errorf("online release moved earlier with 25 hours' notice = %d %s, want 200", r.status, r.body)
	}
	if got := online(); !got.Equal(notice) {
		t.Errorf("online release = %s, want %s", got, notice)
	}
	later := announced.Add(time.Hour)
	if r := edit(later); r.status != 200 {
		t.Errorf("online release moved later = %d %s, want 200", r.status, r.body)
	}
	if got := online(); !got.Equal(later) {
		t.Errorf("online release = %s, want %s", got, later)
	}

	// A template week whose referral pool's release (14 days before) has
	// passed: refused unless the request opens it knowingly.
	loc, _ := time.LoadLocation("Asia/Shanghai")
	monday := time.Now().In(loc).AddDate(0, 0, 7)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDate(0, 0, 1)
	}
	week := func(open bool) reply {
		body := map[string]any{"week_of": monday.Format(time.DateOnly),
			"days": []map[string]any{{"weekday": 2, "period": "afternoon", "start": "13:30", "end": "17:00"}},
			"channels": []map[string]any{
				{"channel": "online", "quota": 10, "days_before": 1, "at": "08:00"},
				{"channel": "referral", "quota": 2, "days_before": 14, "at": "08:00"},
				{"channel": "onsite", "quota": 4, "days_before": 0, "at": "07:00"},
			}}
		if open {
			body["open_past_releases"] = true
		}
		return svc.do("POST", fmt.Sprintf("/v1/admin/doctors/%s/weeks", sch.Doctors[1].ID), admin, body)
	}
	if r := week(false); r.status != 422 || r.code != "release_passed" {
		t.Errorf("a week whose referral release has passed = %d %s, want 422 release_passed", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM clinic_sessions WHERE doctor_id = $1`, sch.Doctors[1].ID); n != 1 {
		t.Errorf("the doctor has %d sessions after the refused week, want 1 (the schedule's)", n)
	}
	if r := week(true); r.status != 201 {
		t.Errorf("the same week with open_past_releases = %d %s, want 201", r.status, r.body)
	}
}

// TestPatchChangesOnlyWhatItSays (review19b M1): PATCH of a session is a
// partial update. A body with one pool's release time changes that and
// nothing else: the other pools stay, and the extra slots (加号) a clerk
// added with the doctor's consent stay. The audit row says what changed.
// An administrator reads the session first (GET).
func TestPatchChangesOnlyWhatItSays(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 3)
	svc := startService(t, sch, nil)
	admin := svc.staffLogin(booking.RoleAdmin, 1)
	id, start := publishAhead(t, svc, sch, admin, 20)
	// The scheduler's 加号 weeks ahead (a clerk's is the visit day's only).
	if r := svc.do("POST", "/v1/desk/sessions/"+id+"/extra-slots", admin,
		map[string]any{"count": 2, "reason": "医生同意加号", "authorised_by": "吴医生"}); r.status != 201 {
		t.Fatalf("extra slots = %d %s", r.status, r.body)
	}
	r := svc.do("GET", "/v1/admin/sessions/"+id, admin, nil)
	if r.status != 200 {
		t.Fatalf("GET the session = %d %s, want 200", r.status, r.body)
	}
	var read struct {
		Version  int64 `json:"version"`
		Channels []struct {
			Channel    string `json:"channel"`
			Quota      int    `json:"quota"`
			ExtraSlots int    `json:"extra_slots"`
		} `json:"channels"`
	}
	r.decode(t, &read)
	extra := map[string]int{}
	for _, c := range read.Channels {
		extra[c.Channel] = c.ExtraSlots
	}
	if extra["onsite"] != 2 {
		t.Errorf("GET says the on-site pool has %d extra slots, want 2 (%s)", extra["onsite"], r.body)
	}

	// patch sends body with the version last read, if the session has one.
	patch := func(body map[string]any) reply {
		if read.Version != 0 {
			body["version"] = read.Version
		}
		return svc.do("PATCH", "/v1/admin/sessions/"+id, admin, body)
	}
	later := start.AddDate(0, 0, -7).Add(time.Hour)
	r = patch(map[string]any{"channels": []map[string]any{{"channel": "online", "release_at": later.Format(time.RFC3339)}}, "reason": "推迟一小时"})
	if r.status != 200 {
		t.Fatalf("PATCH with one pool's release time = %d %s, want 200", r.status, r.body)
	}
	pools := func() map[string]int {
		rows, err := svc.pool.Query(t.Context(), `SELECT channel, quota FROM session_channels WHERE session_id = $1`, id)
		if err != nil {
			t.Fatalf("read pools: %v", err)
		}
		defer rows.Close()
		got := map[string]int{}
		for rows.Next() {
			var ch string
			var n int
			if err := rows.Scan(&ch, &n); err != nil {
				t.Fatalf("scan pool: %v", err)
			}
			got[ch] = n
		}
		return got
	}
	want := map[string]int{"online": 10, "phone": 4, "onsite": 6}
	if got := pools(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pools after the PATCH = %v, want %v (nothing but the online release changed)", got, want)
	}
	if n := svc.count(`SELECT count(*) FROM slots WHERE session_id = $1`, id); n != 20 {
		t.Errorf("the session has %d slots after the PATCH, want 20 (18 and the 2 extra)", n)
	}
	if n := svc.count(`SELECT count(*) FROM slots s JOIN clinic_sessions c ON c.id = s.session_id
		WHERE s.session_id = $1 AND s.starts_at >= c.ends_at AND s.channel = 'onsite'`, id); n != 2 {
		t.Errorf("the session has %d extra on-site slots after the PATCH, want 2", n)
	}
	var reason string
	if err := svc.pool.QueryRow(t.Context(), `SELECT reason FROM audit_log WHERE action = 'session_update' AND target = $1`,
		"session:"+id).Scan(&reason); err != nil {
		t.Fatalf("read the audit row: %v", err)
	}
	for _, part := range []string{"online release", "2 extra slots", "推迟一小时"} {
		if !strings.Contains(reason, part) {
			t.Errorf("the audit row %q does not say %q", reason, part)
		}
	}

	// A quota below the pool's extra slots would drop them: refused.
	r = svc.do("GET", "/v1/admin/sessions/"+id, admin, nil)
	r.decode(t, &read)
	r = patch(map[string]any{"channels": []map[string]any{{"channel": "onsite", "quota": 1}}, "reason": "少放现场号"})
	if r.status != 400 || r.code != "invalid_field" {
		t.Errorf("on-site quota 1 below its 2 extra slots = %d %s, want 400 invalid_field", r.status, r.body)
	}
	if got := pools(); got["onsite"] != 6 {
		t.Errorf("on-site pool after the refusal = %d, want 6", got["onsite"])
	}
}

// TestStaleEditIsRefused (review19b M2): two schedulers edit the same
// session from the same view. The first is changed; the second, sent with
// the version both read, is refused 409 edited_meanwhile and changes
// nothing, instead of both told 200 and the first edit lost. A PATCH sends
// the version it read (body or If-Match); without it, 400
// version_required. A clerk's extra slots (加号) change the version too.
func TestStaleEditIsRefused(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 3)
	svc := startService(t, sch, nil)
	a := svc.staffLogin(booking.RoleAdmin, 1)
	b := svc.staffLogin(booking.RoleAdmin, 3)
	id, _ := publishAhead(t, svc, sch, a, 20)
	version := func() int64 {
		r := svc.do("GET", "/v1/admin/sessions/"+id, a, nil)
		var v struct {
			Version int64 `json:"version"`
		}
		r.decode(t, &v)
		if v.Version == 0 || r.header.Get("ETag") != fmt.Sprintf("%q", fmt.Sprint(v.Version)) {
			t.Fatalf("GET the session: version %d, ETag %q", v.Version, r.header.Get("ETag"))
		}
		return v.Version
	}
	quota := func(ch string) int {
		return svc.count(`SELECT quota FROM session_channels WHERE session_id = $1 AND channel = $2`, id, ch)
	}
	seen := version()
	edit := func(token, ch string, n int, headers ...string) reply {
		body := map[string]any{"channels": []map[string]any{{"channel": ch, "quota": n}}, "reason": "加号源"}
		if len(headers) == 0 {
			body["version"] = seen
		}
		return svc.do("PATCH", "/v1/admin/sessions/"+id, token, body, headers...)
	}
	if r := edit(a, "online", 16); r.status != 200 {
		t.Fatalf("the first scheduler's edit = %d %s, want 200", r.status, r.body)
	}
	if r := edit(b, "onsite", 8); r.status != 409 || r.code != "edited_meanwhile" {
		t.Errorf("the second scheduler's edit from the same view = %d %s, want 409 edited_meanwhile", r.status, r.body)
	}
	if on, site := quota("online"), quota("onsite"); on != 16 || site != 4 {
		t.Errorf("pools after both = online %d, on-site %d; want 16 and 4 (the first edit kept, the stale one refused)", on, site)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'session_update' AND target = $1`, "session:"+id); n != 1 {
		t.Errorf("audit rows of edits = %d, want 1 (the refused one wrote none)", n)
	}
	// Read again, the second scheduler's edit goes through, by If-Match.
	seen = version()
	if r := edit(b, "onsite", 8, "If-Match", fmt.Sprintf("%q", fmt.Sprint(seen))); r.status != 200 {
		t.Errorf("the edit after reading again (If-Match) = %d %s, want 200", r.status, r.body)
	}
	if on, site := quota("online"), quota("onsite"); on != 16 || site != 8 {
		t.Errorf("pools = online %d, on-site %d; want 16 and 8", on, site)
	}
	// Without a version: refused, nothing changed.
	r := svc.do("PATCH", "/v1/admin/sessions/"+id, a, map[string]any{"channels": []map[string]any{{"channel": "online", "quota": 9}}})
	if r.status != 400 || r.code != "version_required" {
		t.Errorf("a PATCH without a version = %d %s, want 400 version_required", r.status, r.body)
	}
	// A 加号 moves the version: an edit from before it is stale.
	seen = version()
	if r := svc.do("POST", "/v1/desk/sessions/"+id+"/extra-slots", b,
		map[string]any{"count": 1, "reason": "医生同意加号", "authorised_by": "吴医生"}); r.status != 201 {
		t.Fatalf("extra slots = %d %s", r.status, r.body)
	}
	if r := edit(a, "onsite", 9); r.status != 409 || r.code != "edited_meanwhile" {
		t.Errorf("an edit from before the extra slots = %d %s, want 409 edited_meanwhile", r.status, r.body)
	}
}
