package main

import (
	"context"
	"maps"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// watchingInstance starts a second instance over a's database and Redis
// that reloads its whole catalog only after an hour (--refresh-every) and
// learns of changes only through its catalog watch (the default second).
func watchingInstance(t *testing.T, a *service) *service {
	t.Helper()
	env := maps.Clone(a.env)
	env["FAIRSLOT_REFRESH_EVERY"], env["FAIRSLOT_DRAW_GRACE"] = "1h", "1m"
	b := &service{t: t, logs: &testenv.LogBuffer{}, stdout: &testenv.LogBuffer{}, env: env, pool: a.pool, hospital: a.hospital}
	b.serve()
	return b
}

// TestReviewDecisionsReachEveryInstance (session 23): a confirmed flag
// blocks its accounts, an upheld appeal lifts a block, and each instance
// checks tokens against the blocked accounts it loaded. Neither decision
// raised the catalog's version, so another instance kept the old set until
// its next full reload (--refresh-every, 30 s; an hour here): the blocked
// account went on through it (its bookings refused only by SQL at commit,
// its waitlist places and entries taken), and the account whose block was
// lifted was still refused there. Both decisions now raise the version, so
// every instance follows within its catalog watch; a lifted person's bar is
// Redis's, cleared at once for every instance.
func TestReviewDecisionsReachEveryInstance(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 3, 3, 3)
	a := startService(t, sch, nil)
	b := watchingInstance(t, a)
	ctx := context.Background()
	alice, dan := a.newPatient(2301), a.newPatient(2302)
	admin1 := a.staffLoginAt(booking.RoleAdmin, 2310, "")
	admin2 := a.staffLoginAt(booking.RoleAdmin, 2311, "")
	aliceMother, _ := a.motherOnTwoLists(alice, dan, 2303, "李桂芳")
	var danAccount, motherID, danSelf string
	testenv.Must(t, a.pool.QueryRow(ctx, `SELECT account_id::TEXT, identity_id::TEXT,
		(SELECT identity_id::TEXT FROM patients WHERE id = $2) FROM patients WHERE id = $1`,
		dan.patientID, aliceMother).Scan(&danAccount, &danSelf, &motherID), "ids")
	book := func(on *service, tok, patientID string, i int) reply {
		return on.do("POST", "/v1/bookings", tok, map[string]string{"session_id": sch.Sessions[i].ID, "patient_id": patientID, "channel": "online"})
	}
	if r := b.do("GET", "/v1/bookings", dan.token, nil); r.status != 200 {
		t.Fatalf("Dan reads his bookings through b = %d %s", r.status, r.body)
	}

	_, err := a.pool.Exec(ctx, `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at)
		VALUES ('flg_reach23', 2, 'open', '[]', to_jsonb(ARRAY[$1::TEXT]), to_jsonb(ARRAY[$2::TEXT, $3::TEXT]), now(), now())`,
		danAccount, motherID, danSelf)
	testenv.Must(t, err, "write the flag")
	version := func() int { return a.count(`SELECT COALESCE(max(version), 0) FROM catalog_version`) }
	before := version()
	if r := a.do("POST", "/v1/admin/flags/flg_reach23/decision", admin1,
		map[string]any{"action": "confirm", "note": "resold slots", "also_bar": []string{motherID}}); r.status != 200 {
		t.Fatalf("confirm on a = %d %s", r.status, r.body)
	}
	if after := version(); after <= before {
		t.Errorf("the catalog's version across the confirmation: %d, then %d; want it raised", before, after)
	}
	poll(t, "b refuses the blocked account (its catalog watch, not its hourly reload)", func() bool {
		r := b.do("GET", "/v1/bookings", dan.token, nil)
		return r.status == 403 && r.code == "account_blocked"
	})
	if r := b.do("POST", "/v1/waitlist", dan.token, map[string]string{"session_id": sch.Sessions[1].ID, "patient_id": dan.patientID}); r.status != 403 || r.code != "account_blocked" {
		t.Errorf("the blocked account joins a waitlist through b = %d %s, want 403 account_blocked", r.status, r.body)
	}
	if r := book(b, alice.token, aliceMother, 0); r.status != 422 || r.code != "patient_barred" {
		t.Errorf("Alice books her barred mother through b = %d %s, want 422 patient_barred", r.status, r.body)
	}

	// The mother's own appeal, upheld on a: her bar is Redis's, cleared at once.
	var appeal struct {
		ID string `json:"appeal_id"`
	}
	a.do("POST", "/v1/person-appeals", alice.token, map[string]string{"patient_id": aliceMother, "text": "这是我母亲，她不是号贩子。"}).decode(t, &appeal)
	lift := map[string]any{"answer": "经复核，解除限制。", "lift_block": true, "close": true}
	if r := a.do("POST", "/v1/admin/cases/"+appeal.ID+"/answer", admin2, lift); r.status != 200 {
		t.Fatalf("uphold the mother's appeal on a = %d %s", r.status, r.body)
	}
	if r := book(b, alice.token, aliceMother, 0); r.status != 201 {
		t.Errorf("Alice books her mother through b after the upheld appeal = %d %s, want 201", r.status, r.body)
	}

	// Dan's appeal, upheld on a: b lets his account in again.
	var blocked struct {
		Blocked struct {
			AppealToken string `json:"appeal_token"`
		} `json:"blocked"`
	}
	creds := map[string]string{"phone": dan.phone, "password": "password-" + dan.phone}
	a.do("POST", "/v1/auth/login", "", creds).decode(t, &blocked)
	a.do("POST", "/v1/appeals", "", map[string]string{"appeal_token": blocked.Blocked.AppealToken, "text": "都是我家人的预约。"}).decode(t, &appeal)
	before = version()
	if r := a.do("POST", "/v1/admin/cases/"+appeal.ID+"/answer", admin2, lift); r.status != 200 {
		t.Fatalf("uphold Dan's appeal on a = %d %s", r.status, r.body)
	}
	if after := version(); after <= before {
		t.Errorf("the catalog's version across the lifted block: %d, then %d; want it raised", before, after)
	}
	var tok struct{ Token string }
	b.do("POST", "/v1/auth/login", "", creds).decode(t, &tok)
	if tok.Token == "" {
		t.Fatalf("Dan signs in through b after the upheld appeal: no token")
	}
	poll(t, "b lets the lifted account in (its catalog watch, not its hourly reload)", func() bool {
		return b.do("GET", "/v1/bookings", tok.Token, nil).status == 200
	})
	if r := book(b, tok.Token, dan.patientID, 1); r.status != 201 {
		t.Errorf("Dan books through b after the upheld appeal = %d %s, want 201", r.status, r.body)
	}
}
