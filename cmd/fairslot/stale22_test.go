package main

import (
	"maps"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// Decisions an instance took from its in-memory catalog about something
// another instance changed (review22 M1 and its "not reproduced" point).
// The stale instance in these tests learns of changes only after an hour,
// which makes the window of up to --catalog-watch every instance has one a
// test can hit.

// staleInstance starts a second instance over a's database and Redis that
// reloads its catalog only after an hour, and draws a lottery a minute after
// its time (so a, with no grace, draws it).
func staleInstance(t *testing.T, a *service) *service {
	t.Helper()
	env := maps.Clone(a.env)
	env["FAIRSLOT_CATALOG_WATCH"], env["FAIRSLOT_REFRESH_EVERY"], env["FAIRSLOT_DRAW_GRACE"] = "1h", "1h", "1m"
	stale := &service{t: t, logs: &testenv.LogBuffer{}, stdout: &testenv.LogBuffer{}, env: env, pool: a.pool, hospital: a.hospital}
	stale.serve()
	return stale
}

// TestExtraSlotsAfterADrawThroughAStaleInstance (review22 M1): 加号 on a
// drawn lottery clinic go to the draw's waitlist first, the losers in drawn
// order (review20 L1). Through an instance that had not yet seen the draw
// (drawn by another), they were refused as if the draw were still to come
// (422 lottery_release) — or, before extra slots joined an undrawn draw,
// went first-come to the desk's pool past the waiting losers — until its
// next 30 s refresh. The draw now raises the catalog's version, and the
// extra slots' pool is decided from SQL's state, not the catalog's.
func TestExtraSlotsAfterADrawThroughAStaleInstance(t *testing.T) {
	const slots = 2
	draw := time.Now().Add(25 * time.Second).Truncate(time.Second)
	sch := lotterySchedule(t, slots, draw)
	sess := sch.Sessions[0]
	a := startService(t, sch, map[string]string{"FAIRSLOT_DRAW_GRACE": "0"})
	admin := a.staffLogin(booking.RoleAdmin, 1)
	poll(t, "the seed's commitment is published", func() bool { return a.onlinePool(sess).SeedCommitment != "" })
	stale := staleInstance(t, a)

	people := make([]patient, 2*slots)
	for i := range people {
		people[i] = a.newPatient(400 + i)
		r := a.do("POST", "/v1/bookings", people[i].token, map[string]any{"session_id": sess.ID, "patient_id": people[i].patientID, "waitlist": true})
		if r.status != 202 {
			t.Fatalf("entry %d = %d %s", i, r.status, r.body)
		}
	}
	version := func() int { return a.count(`SELECT COALESCE(max(version), 0) FROM catalog_version`) }
	before := version()
	time.Sleep(time.Until(draw))
	poll(t, "the draw is done", func() bool { return a.onlinePool(sess).DrawStatus == "drawn" })
	if after := version(); after <= before {
		t.Errorf("the catalog's version across the draw: %d, then %d; want it raised, so every instance sees the draw within --catalog-watch", before, after)
	}
	waiting := `SELECT count(*) FROM waitlist WHERE session_id = $1 AND status = $2`
	if n := a.count(waiting, sess.ID, "waiting"); n != slots {
		t.Fatalf("%d losers wait after the draw; want %d", n, slots)
	}

	r := stale.do("POST", "/v1/desk/sessions/"+sess.ID+"/extra-slots", admin, map[string]any{"count": 1, "reason": "专家同意加号", "authorised_by": "王医生"})
	if r.status != 201 {
		t.Fatalf("extra slots through the instance that has not seen the draw = %d %s; want 201", r.status, r.body)
	}
	if n := a.count(waiting, sess.ID, "served"); n != 1 {
		t.Errorf("%d of the draw's waiting losers served by the extra slot; want 1, the head of the line", n)
	}
	if n := a.count(`SELECT count(*) FROM bookings WHERE session_id = $1 AND channel = 'onsite' AND status = 'confirmed'`, sess.ID); n != 1 {
		t.Errorf("%d on-site bookings after the extra slot; want 1, the waitlist's", n)
	}
}

// TestBlockedAccountThroughAStaleInstance (review22, not reproduced there):
// a confirmed scalper flag blocks its accounts; an instance learns of the
// block from SQL. A blocked account booking, through an instance that has
// not reloaded since, a person the flag could not bar (another account
// lists them) must be refused, as it is through the instance that decided.
func TestBlockedAccountThroughAStaleInstance(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 4)
	a := startService(t, sch, nil)
	stale := staleInstance(t, a)
	ctx := t.Context()
	admin := a.staffLoginAt(booking.RoleAdmin, 4910, "")
	dan, outsider := a.newPatient(4901), a.newPatient(4902)
	mother := map[string]any{"id_type": "resident_id", "id_number": residentID(4903), "name": "周桂兰", "relationship": "parent"}
	var m struct {
		PatientID string `json:"patient_id"`
	}
	a.do("POST", "/v1/patients", dan.token, mother).decode(t, &m)
	if r := a.do("POST", "/v1/patients", outsider.token, mother); r.status != 201 {
		t.Fatalf("the outside account lists the mother = %d %s", r.status, r.body)
	}
	var account, motherID string
	testenv.Must(t, a.pool.QueryRow(ctx, `SELECT account_id::TEXT, (SELECT identity_id::TEXT FROM patients WHERE id = $2)
		FROM patients WHERE id = $1`, dan.patientID, m.PatientID).Scan(&account, &motherID), "ids")
	_, err := a.pool.Exec(ctx, `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at)
		VALUES ('flg_stale', 2, 'open', '[]', to_jsonb(ARRAY[$1::TEXT]), to_jsonb(ARRAY[$2::TEXT]), now(), now())`, account, motherID)
	testenv.Must(t, err, "write the flag")
	if r := a.do("POST", "/v1/admin/flags/flg_stale/decision", admin, map[string]any{"action": "confirm", "note": "resold slots"}); r.status != 200 {
		t.Fatalf("confirm = %d %s", r.status, r.body)
	}
	book := map[string]string{"session_id": sch.Sessions[0].ID, "patient_id": m.PatientID}
	if r := a.do("POST", "/v1/bookings", dan.token, book); r.status != 403 || r.code != "account_blocked" {
		t.Errorf("the blocked account books through the instance that decided = %d %s, want 403 account_blocked", r.status, r.body)
	}
	if r := stale.do("POST", "/v1/bookings", dan.token, book); r.status != 403 || r.code != "account_blocked" {
		t.Errorf("the blocked account books through another instance = %d %s, want 403 account_blocked", r.status, r.body)
	}
	if n := a.count(`SELECT count(*) FROM bookings WHERE account_id = $1 AND status = 'confirmed'`, account); n != 0 {
		t.Errorf("the blocked account has %d confirmed booking(s)", n)
	}
}
