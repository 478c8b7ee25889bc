package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"fairslot/internal/testenv"
)

// redisOf is a client of the service's Redis and the prefix of its keys.
func (s *service) redisOf() (*redis.Client, string) {
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv(testenv.RedisAddrEnv), Password: testenv.RedisPassword()})
	s.t.Cleanup(func() { rdb.Close() })
	return rdb, s.env["FAIRSLOT_REDIS_PREFIX"]
}

// check runs `fairslot reconcile --check` and returns its output and error.
func (s *service) check() (string, error) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"reconcile", "--check"}, s.getenv, &out, s.logs)
	return out.String(), err
}

// TestReconcileCheckFindsHandMadeDrift: `reconcile --check` names each
// difference (session, slot, kind), exits non-zero, and changes nothing;
// `reconcile` repairs.
func TestReconcileCheckFindsHandMadeDrift(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 4)
	sess := sch.Sessions[0]
	svc := startService(t, sch, nil)
	p := svc.newPatient(1)
	var b struct {
		ID     string `json:"booking_id"`
		SlotNo int    `json:"slot_no"`
	}
	r := svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sess.ID, "patient_id": p.patientID})
	if r.status != 201 {
		t.Fatalf("book = %d %s", r.status, r.body)
	}
	r.decode(t, &b)
	if out, err := svc.check(); err != nil {
		t.Fatalf("reconcile --check before any drift: %v\n%s", err, out)
	}

	rdb, prefix := svc.redisOf()
	ctx := context.Background()
	base := prefix + ":{" + sess.HospitalID + "}:s:" + sess.ID
	testenv.Must(t, rdb.ZRem(ctx, base+":free:online", "4").Err(), "drop a free slot")
	testenv.Must(t, rdb.HDel(ctx, base+":held", fmt.Sprint(b.SlotNo)).Err(), "drop a held slot")

	want := []string{
		fmt.Sprintf("session %s slot %d not_held: booking %s", sess.ID, b.SlotNo, b.ID),
		fmt.Sprintf("session %s slot 4 lost_slot:", sess.ID),
	}
	for i := range 2 { // twice: the first run changed nothing the second could miss
		out, err := svc.check()
		if code := exitCode(err); code != 1 {
			t.Errorf("run %d: reconcile --check on a hand-made drift exits %d (%v), want 1\n%s", i, code, err, out)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("run %d: reconcile --check printed\n%s\nwant a line starting %q", i, out, w)
			}
		}
	}
	if n := rdb.ZCard(ctx, base+":free:online").Val(); n != 2 {
		t.Errorf("online pool has %d free slots after --check, want the 2 the drift left", n)
	}
	if rdb.HExists(ctx, base+":held", fmt.Sprint(b.SlotNo)).Val() {
		t.Error("--check put the held slot back: it must only read")
	}

	svc.run("reconcile")
	if out, err := svc.check(); err != nil {
		t.Errorf("reconcile --check after reconcile: %v\n%s", err, out)
	}
}

// TestRedisLossEndToEnd: the served binary, after Redis lost its data,
// answers every booking attempt 503 (never 404) and /readyz not ready with
// the reason, while another instance holds the reload; once that instance
// is gone, bookings succeed again by themselves within 10 s.
func TestRedisLossEndToEnd(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 6)
	sess := sch.Sessions[0]
	adminAddr := freeAddr(t)
	svc := startService(t, sch, map[string]string{"FAIRSLOT_ADMIN_ADDR": adminAddr})
	ps := []patient{svc.newPatient(1), svc.newPatient(2)}
	book := func(p patient, key string) reply {
		return svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sess.ID, "patient_id": p.patientID},
			"Idempotency-Key", key)
	}
	if r := book(ps[0], "before"); r.status != 201 {
		t.Fatalf("book before the loss = %d %s", r.status, r.body)
	}

	// Redis loses every key of the service, and in the same step another
	// instance claims the reload (so the in-between lasts until the test
	// ends it).
	rdb, prefix := svc.redisOf()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, prefix+":*").Result()
	testenv.Must(t, err, "list keys")
	claim := prefix + ":{" + sess.HospitalID + "}:reloading"
	_, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, keys...)
		p.Set(ctx, claim, "another instance", time.Minute)
		return nil
	})
	testenv.Must(t, err, "lose the data")

	for i := range 5 {
		r := book(ps[1], fmt.Sprintf("during-%d", i))
		if r.status != 503 || r.code != "unavailable" || !strings.Contains(string(r.body), "nothing was booked") {
			t.Errorf("attempt %d while the state is missing = %d %s, want 503 unavailable, nothing booked", i, r.status, r.body)
		}
		// The reload takes seconds: the answer says when to try again.
		if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 {
			t.Errorf("attempt %d while the state is missing: Retry-After %q, want whole seconds, at least 1", i, r.header.Get("Retry-After"))
		}
	}
	// The load balancer is told not ready and a short why, no hospital
	// and no Redis internals (review19a L9); the admin port says which
	// hospital and why.
	if r := svc.do("GET", "/readyz", "", nil); r.status != 503 || !strings.Contains(string(r.body), "being rebuilt") {
		t.Errorf("readyz while the state is missing = %d %s, want 503 saying the booking state is being rebuilt", r.status, r.body)
	} else {
		for _, private := range []string{sess.HospitalID, sch.Hospitals[0].Name, "claim", "Redis"} {
			if strings.Contains(string(r.body), private) {
				t.Errorf("readyz on the API port = %s; it names %q, which only the admin port should", r.body, private)
			}
		}
	}
	if status, body := adminGet(t, adminAddr, "/readyz"); status != 503 || !strings.Contains(body, "claim is held") || !strings.Contains(body, sch.Hospitals[0].Name) {
		t.Errorf("readyz on the admin port while the state is missing = %d %s, want 503 naming the hospital and the reload", status, body)
	}

	// The other instance dies mid-reload; its claim is gone (here at once,
	// in life after --reload-timeout). The heal job (every second) or the
	// next attempt reloads: 10 s leaves a busy machine ten heal periods.
	testenv.Must(t, rdb.Del(ctx, claim).Err(), "drop the claim")
	start := time.Now()
	deadline := start.Add(10 * time.Second)
	statuses := map[string]int{}
	for i := 0; ; i++ {
		r := book(ps[1], fmt.Sprintf("after-%d", i))
		statuses[fmt.Sprintf("%d %s", r.status, r.code)]++
		if r.status == 201 {
			break
		}
		if r.status != 503 {
			t.Errorf("attempt %d before recovery = %d %s, want 503", i, r.status, r.body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no booking succeeded within 10 s of the claim's end: %v", statuses)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("booking succeeded again %s after the claim ended; answers %v", time.Since(start).Round(time.Millisecond), statuses)
	if r := svc.do("GET", "/readyz", "", nil); r.status != 200 {
		t.Errorf("readyz after recovery = %d %s, want 200", r.status, r.body)
	}
	if status, body := adminGet(t, adminAddr, "/readyz"); status != 200 {
		t.Errorf("readyz on the admin port after recovery = %d %s, want 200", status, body)
	}
	if r := book(ps[0], "before"); r.status != 201 {
		t.Errorf("the first booking's key after recovery = %d %s, want its 201 again", r.status, r.body)
	}
	if out, err := svc.check(); err != nil {
		t.Errorf("reconcile --check after recovery: %v\n%s", err, out)
	}
	if n := svc.count(`SELECT count(*) FROM bookings WHERE status = 'confirmed'`); n != 2 {
		t.Errorf("%d confirmed bookings, want 2", n)
	}
}

// TestReconcileCheckCannotCompareExitsTwo: `reconcile --check` exits 2 when
// it cannot compare (Redis or SQL unreachable), 1 only for differences
// found (TestReconcileCheckFindsHandMadeDrift), so a script tells "repair"
// from "look at the connections"; both exited 1 before ops11.
func TestReconcileCheckCannotCompareExitsTwo(t *testing.T) {
	svc := startService(t, schedule(t, time.Now().Add(-time.Minute), 1), nil)
	if out, err := svc.check(); exitCode(err) != 0 {
		t.Fatalf("reconcile --check of an agreeing system: %v\n%s", err, out)
	}
	// A loopback port where nothing listens any more.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	testenv.Must(t, err, "listen")
	closed := l.Addr().String()
	l.Close()
	for name, env := range map[string][2]string{
		"redis unreachable": {"FAIRSLOT_REDIS_ADDR", closed},
		"sql unreachable":   {"FAIRSLOT_DATABASE_URL", "postgres://fairslot_app@" + closed + "/fairslot?sslmode=disable&connect_timeout=2"},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errs bytes.Buffer
			err := run(context.Background(), []string{"reconcile", "--check"}, func(k string) string {
				if k == env[0] {
					return env[1]
				}
				return svc.env[k]
			}, &out, &errs)
			if code := exitCode(err); code != 2 || !strings.Contains(err.Error(), "cannot compare") {
				t.Errorf("reconcile --check with %s exits %d (%v), want 2, saying it cannot compare", name, code, err)
			}
		})
	}
}

// adminGet reads a path of a service's admin address.
func adminGet(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Errorf("GET %s on the admin port: %v", path, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
