package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"fairslot/internal/testenv"
)

// TestFastRejectSkipsRedis: once the pool is empty, an attempt answered from
// memory costs no Redis round trip, not even the shared rate limits (their
// in-memory tier still counts it). The shared account counter in Redis is
// the witness: it counts only the attempts that went the whole way.
func TestFastRejectSkipsRedis(t *testing.T) {
	const attempts = 20
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	sess := sch.Sessions[0]
	svc := startService(t, sch, map[string]string{"FAIRSLOT_SOLD_OUT_FOR": "1s"})
	winner, loser := svc.newPatient(1), svc.newPatient(2)
	if t.Failed() {
		t.FailNow()
	}
	if r := svc.do("POST", "/v1/bookings", winner.token, map[string]string{"session_id": sess.ID, "patient_id": winner.patientID}); r.status != 201 {
		t.Fatalf("first booking: %d %s", r.status, r.body)
	}
	for i := range attempts {
		r := svc.do("POST", "/v1/bookings", loser.token, map[string]string{"session_id": sess.ID, "patient_id": loser.patientID})
		if r.status != 409 || r.code != "sold_out" {
			t.Fatalf("attempt %d: %d %s, want 409 sold_out", i, r.status, r.body)
		}
	}

	ctx := context.Background()
	var account string
	testenv.Must(t, svc.pool.QueryRow(ctx, `SELECT account_id FROM patients WHERE id = $1`, loser.patientID).Scan(&account), "account")
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv(testenv.RedisAddrEnv), Password: testenv.RedisPassword()})
	defer rdb.Close()
	shared, err := rdb.Get(ctx, svc.env["FAIRSLOT_REDIS_PREFIX"]+":rl:acct:"+account).Int()
	if err != nil && err != redis.Nil {
		t.Fatalf("read the shared counter: %v", err)
	}
	// The counter also holds the loser's POST /v1/patients. The first
	// attempt met the empty pool in Redis; the next ones, within 1s of an
	// answer from Redis, came from memory.
	if shared < 1 || shared >= attempts {
		t.Errorf("the shared account counter is %d after %d sold-out attempts; want at least the first "+
			"and fewer than all (the rest answered from memory)", shared, attempts)
	}
	t.Logf("%d of %d sold-out attempts reached Redis", shared, attempts)
}

// TestFastRejectStillCountsAgainstTheAccount: an answer from memory costs no
// Redis, but it still counts in the instance's own tier of the account's
// rate limit, so hammering an empty pool ends in 429 as it did before.
func TestFastRejectStillCountsAgainstTheAccount(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	sess := sch.Sessions[0]
	svc := startService(t, sch, map[string]string{"FAIRSLOT_SOLD_OUT_FOR": "1s", "FAIRSLOT_RATE_ACCOUNT": "5-M"})
	winner, loser := svc.newPatient(1), svc.newPatient(2)
	if t.Failed() {
		t.FailNow()
	}
	attempt := func(p patient) reply {
		return svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sess.ID, "patient_id": p.patientID})
	}
	if r := attempt(winner); r.status != 201 {
		t.Fatalf("first booking: %d %s", r.status, r.body)
	}
	// The loser's POST /v1/patients was its first request of the minute;
	// four attempts fill the five, answered from Redis or from memory.
	for i := range 4 {
		if r := attempt(loser); r.status != 409 || r.code != "sold_out" {
			t.Fatalf("attempt %d: %d %s, want 409 sold_out", i+1, r.status, r.body)
		}
	}
	if r := attempt(loser); r.status != 429 {
		t.Errorf("the sixth request of the minute: %d %s, want 429", r.status, r.body)
	}
}
