package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// Session 22's lottery points over the real binary.

// publishLottery publishes, through the API, a session days ahead whose
// online pool is a lottery opening at opens (a ten-minute window) beside
// the other pools given; it answers the session's id and the reply.
func publishLottery(t *testing.T, svc *service, admin, doc string, days int, opens time.Time, others ...map[string]any) (string, reply) {
	t.Helper()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(loc)
	start := time.Date(now.Year(), now.Month(), now.Day()+days, 8, 0, 0, 0, loc)
	pools := []map[string]any{{"channel": "online", "quota": 4, "release_at": opens.Format(time.RFC3339), "release_mode": "lottery",
		"opens_at": opens.Format(time.RFC3339), "draw_at": opens.Add(10 * time.Minute).Format(time.RFC3339)}}
	r := svc.do("POST", "/v1/admin/sessions", admin, map[string]any{
		"doctor_id": doc, "date": start.Format(time.DateOnly), "period": "morning",
		"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(4 * time.Hour).Format(time.RFC3339),
		"channels": append(pools, others...),
	})
	if r.status != 201 {
		t.Fatalf("publish a lottery session = %d %s", r.status, r.body)
	}
	var out struct {
		ID string `json:"session_id"`
	}
	r.decode(t, &out)
	return out.ID, r
}

// publishedAt reads the online pool's published_at from the public draw
// record; zero when absent.
func (s *service) publishedAt(id string) time.Time {
	s.t.Helper()
	var ds []struct {
		Channel     string `json:"channel"`
		OpensAt     string `json:"opens_at"`
		PublishedAt string `json:"published_at"`
	}
	r := s.do("GET", "/v1/lottery/sessions/"+id, "", nil)
	if r.status != 200 {
		s.t.Fatalf("GET the draw record = %d %s", r.status, r.body)
	}
	r.decode(s.t, &ds)
	for _, d := range ds {
		if d.Channel == "online" && d.PublishedAt != "" {
			at, err := time.Parse(time.RFC3339, d.PublishedAt)
			if err != nil {
				s.t.Errorf("published_at %q: %v", d.PublishedAt, err)
			}
			return at
		}
	}
	return time.Time{}
}

// TestLotteryRecordSaysWhenPublished (review20 M1's last part): the public
// draw record says when the pool's rules — its mode, release and window —
// became public (published_at), so that anyone can check the notice the
// public had before the window; an edit of the window publishes it anew, an
// edit of its quota alone does not; `fairslot lottery verify` prints it.
func TestLotteryRecordSaysWhenPublished(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 3)
	svc := startService(t, sch, nil)
	admin := svc.staffLogin(booking.RoleAdmin, 1)
	opens := time.Now().Add(50 * time.Hour).Truncate(time.Minute)
	before := time.Now().Truncate(time.Second)
	id, _ := publishLottery(t, svc, admin, sch.Doctors[0].ID, 5, opens)
	after := time.Now().Add(time.Second)
	first := svc.publishedAt(id)
	if first.Before(before) || first.After(after) {
		t.Fatalf("published_at = %v; want the publish's time, in [%v, %v]", first, before, after)
	}
	// Only the quota changes: the rules the public read stand.
	v := svc.sessionVersion(admin, id)
	if r := svc.do("PATCH", "/v1/admin/sessions/"+id, admin, map[string]any{"version": v,
		"channels": []map[string]any{{"channel": "online", "quota": 6}}}); r.status != 200 {
		t.Fatalf("PATCH the quota = %d %s", r.status, r.body)
	}
	if got := svc.publishedAt(id); !got.Equal(first) {
		t.Errorf("published_at after a quota's edit = %v; want %v kept", got, first)
	}
	// The window moves a day later: published anew.
	time.Sleep(time.Until(first.Add(1100 * time.Millisecond))) // a later second
	later := opens.Add(24 * time.Hour)
	v = svc.sessionVersion(admin, id)
	if r := svc.do("PATCH", "/v1/admin/sessions/"+id, admin, map[string]any{"version": v,
		"channels": []map[string]any{{"channel": "online", "release_at": later.Format(time.RFC3339), "release_mode": "lottery",
			"opens_at": later.Format(time.RFC3339), "draw_at": later.Add(10 * time.Minute).Format(time.RFC3339)}}}); r.status != 200 {
		t.Fatalf("PATCH the window = %d %s", r.status, r.body)
	}
	moved := svc.publishedAt(id)
	if !moved.After(first) {
		t.Errorf("published_at after the window moved = %v; want later than %v", moved, first)
	}
	var out strings.Builder
	_ = run(t.Context(), []string{"lottery", "verify", "--session", id}, svc.getenv, &out, svc.logs)
	if !strings.Contains(out.String(), "published "+moved.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339)) ||
		!strings.Contains(out.String(), "before its window") {
		t.Errorf("verify printed %q; want when the pool was published and the notice before its window", out.String())
	}
}

// TestExtraSlotsBeforeTheDrawJoinIt (review20 L1, before the draw): slots a
// doctor agrees to add (加号) to a lottery session whose draw is still to
// come join the draw's pool — every entrant's chance grows alike, and the
// record's slots say so — instead of going to the on-site pool first-come,
// where whoever the desk or the phone served first had them while the
// entrants waited for the draw.
func TestExtraSlotsBeforeTheDrawJoinIt(t *testing.T) {
	const slots, extra = 2, 2
	// Extra slots join a draw more than booking.PoolEditMargin (a minute)
	// away: the test adds them at once, with 20 s to start the binary.
	draw := time.Now().Add(booking.PoolEditMargin + 20*time.Second).Truncate(time.Second)
	sch := lotterySchedule(t, slots, draw)
	sess := sch.Sessions[0]
	svc := startService(t, sch, map[string]string{"FAIRSLOT_DRAW_GRACE": "0"})
	admin := svc.staffLogin(booking.RoleAdmin, 1)
	poll(t, "the seed's commitment is published", func() bool { return svc.onlinePool(sess).SeedCommitment != "" })

	r := svc.do("POST", "/v1/desk/sessions/"+sess.ID+"/extra-slots", admin, map[string]any{"count": extra, "reason": "专家同意加号", "authorised_by": "王医生"})
	var added struct {
		Channel string `json:"channel"`
		SlotNos []int  `json:"slot_nos"`
	}
	r.decode(t, &added)
	if r.status != 201 || added.Channel != "online" || len(added.SlotNos) != extra {
		t.Fatalf("extra slots before the draw = %d %s; want 201, %d slots in the lottery's online pool", r.status, r.body, extra)
	}
	var rec []struct {
		Slots int `json:"slots"`
	}
	svc.do("GET", "/v1/lottery/sessions/"+sess.ID, "", nil).decode(t, &rec)
	if len(rec) != 1 || rec[0].Slots != slots+extra {
		t.Errorf("the draw record's slots before the draw = %+v; want %d", rec, slots+extra)
	}
	people := make([]patient, slots+extra)
	ids := make([]string, len(people))
	for i := range people {
		people[i] = svc.newPatient(300 + i)
		r := svc.do("POST", "/v1/bookings", people[i].token, map[string]any{"session_id": sess.ID, "patient_id": people[i].patientID})
		var e struct {
			ID string `json:"request_id"`
		}
		r.decode(t, &e)
		if r.status != 202 {
			t.Fatalf("entry %d = %d %s", i, r.status, r.body)
		}
		ids[i] = e.ID
	}
	status := func(i int) string {
		var e struct {
			Status string `json:"status"`
		}
		svc.do("GET", "/v1/lottery/requests/"+ids[i], people[i].token, nil).decode(t, &e)
		return e.Status
	}
	time.Sleep(time.Until(draw))
	poll(t, "the draw runs", func() bool { return status(0) != "entered" })
	for i := range people {
		if st := status(i); st != "won" {
			t.Errorf("entry %d is %s; want won: %d entries for %d slots and %d extra", i, st, len(people), slots, extra)
		}
	}
}

// warningsOf reads the warnings of an administrator's session answer.
func warningsOf(t *testing.T, r reply) []string {
	t.Helper()
	var out struct {
		Warnings []struct {
			Code    string `json:"code"`
			Channel string `json:"channel"`
			Message string `json:"message"`
		} `json:"warnings"`
	}
	r.decode(t, &out)
	var got []string
	for _, w := range out.Warnings {
		if w.Message == "" {
			t.Errorf("warning %s of %s has no message", w.Code, w.Channel)
		}
		got = append(got, w.Code+":"+w.Channel)
	}
	return got
}

// TestFirstComeBesideLotteryIsWarned (review20 L1): a first-come pool that
// opens before a lottery pool of the same session is drawn is where speed
// buys a slot of a scarce session. Not refused — a hospital may mean it —
// but the administrator is told, in the publish's answer, the session's
// read and an edit's; a pool released after the draw is no warning.
func TestFirstComeBesideLotteryIsWarned(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 3)
	svc := startService(t, sch, nil)
	admin := svc.staffLogin(booking.RoleAdmin, 1)
	opens := time.Now().Add(50 * time.Hour).Truncate(time.Minute)
	phone := map[string]any{"channel": "phone", "quota": 2, "release_at": opens.Format(time.RFC3339)}
	onsite := map[string]any{"channel": "onsite", "quota": 2, "release_at": opens.Add(time.Hour).Format(time.RFC3339)}
	id, r := publishLottery(t, svc, admin, sch.Doctors[0].ID, 5, opens, phone, onsite)
	if got := warningsOf(t, r); !slices.Equal(got, []string{"first_come_beside_lottery:phone"}) {
		t.Errorf("the publish's warnings = %v; want the phone pool's, released with the window (not the on-site pool's, after the draw): %s", got, r.body)
	}
	if got := warningsOf(t, svc.do("GET", "/v1/admin/sessions/"+id, admin, nil)); !slices.Equal(got, []string{"first_come_beside_lottery:phone"}) {
		t.Errorf("GET the session's warnings = %v; want the phone pool's", got)
	}
	r = svc.do("PATCH", "/v1/admin/sessions/"+id, admin, map[string]any{"version": svc.sessionVersion(admin, id),
		"channels": []map[string]any{{"channel": "phone", "release_at": opens.Add(time.Hour).Format(time.RFC3339)}}})
	if r.status != 200 {
		t.Fatalf("PATCH the phone pool after the draw = %d %s", r.status, r.body)
	}
	if got := warningsOf(t, r); len(got) != 0 {
		t.Errorf("warnings once the phone pool opens after the draw = %v; want none", got)
	}
}
