package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// lotterySchedule is schedule() with the online pool of its one session a
// lottery that opened a minute ago and draws at draw.
func lotterySchedule(t *testing.T, slots int, draw time.Time) booking.Schedule {
	t.Helper()
	sch := schedule(t, time.Now().Add(-time.Minute), slots)
	sch.Sessions[0] = asLottery(t, sch.Sessions[0], draw)
	return sch
}

// asLottery is s with its online pool (its first) a lottery drawn at draw.
func asLottery(t *testing.T, s booking.Session, draw time.Time) booking.Session {
	t.Helper()
	spec := booking.SessionSpec{ID: s.ID, HospitalID: s.HospitalID, DepartmentID: s.DepartmentID, DoctorID: s.DoctorID,
		VisitDate: s.VisitDate, Period: s.Period, StartsAt: s.StartsAt, EndsAt: s.EndsAt, Quotas: s.Channels}
	spec.Quotas[0].Mode, spec.Quotas[0].DrawAt = booking.Lottery, draw
	l, err := booking.BuildSession(spec)
	testenv.Must(t, err, "build the lottery session")
	return l
}

type channelView struct {
	Channel        string `json:"channel"`
	Remaining      int    `json:"remaining"`
	Mode           string `json:"release_mode"`
	DrawAt         string `json:"draw_at"`
	DrawStatus     string `json:"draw_status"`
	SeedCommitment string `json:"seed_commitment"`
	Recipe         int    `json:"commitment_recipe"`
	Seed           string `json:"seed"`
}

func (s *service) onlinePool(sess booking.Session) channelView {
	s.t.Helper()
	var ss []struct {
		ID       string        `json:"session_id"`
		Mode     string        `json:"release_mode"`
		Channels []channelView `json:"channels"`
	}
	s.do("GET", "/v1/hospitals/"+sess.HospitalID+"/sessions", "", nil).decode(s.t, &ss)
	if len(ss) != 1 || ss[0].Mode != "lottery" || ss[0].Channels[0].Channel != "online" {
		s.t.Fatalf("sessions = %+v, want the one lottery session", ss)
	}
	return ss[0].Channels[0]
}

// poll calls cond every 100 ms until it holds, for at most 30 s: the
// lottery job runs every 2 s on the service's own timer.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30s", what)
		}
	}
}

// TestLotteryEndToEnd: a lottery pool over the real binary, from the
// commitment in the listing to entries (202), the draw on the service's own
// timer, the results, the revealed seed, and `fairslot lottery verify`.
func TestLotteryEndToEnd(t *testing.T) {
	const slots, entrants = 3, 5
	// The window must outlast starting the binary and six entries on a
	// loaded machine: at 6 s the draw began before the last entries there,
	// and at 20 s with a load average of 30 (several test suites at once).
	draw := time.Now().Add(40 * time.Second).Truncate(time.Second)
	sch := lotterySchedule(t, slots, draw)
	sess := sch.Sessions[0]
	svc := startService(t, sch, map[string]string{"FAIRSLOT_DRAW_GRACE": "0"})

	var pool channelView
	poll(t, "the seed's commitment is published", func() bool { pool = svc.onlinePool(sess); return pool.SeedCommitment != "" })
	if pool.Mode != "lottery" || pool.DrawStatus != "open" || pool.Seed != "" || pool.Remaining != slots {
		t.Errorf("lottery pool before the draw = %+v", pool)
	}
	// Before the draw there is nothing to verify, and nothing wrong: the
	// pool waits with its commitment, exit 2 (it printed FAIL, exit 1).
	var early bytes.Buffer
	err := run(context.Background(), []string{"lottery", "verify", "--session", sess.ID}, svc.getenv, &early, svc.logs)
	if exitCode(err) != 2 || !strings.Contains(early.String(), "wait online pool of session "+sess.ID+": not drawn yet (open); its commitment") || strings.Contains(early.String(), "FAIL") {
		t.Errorf("verify before the draw: exit %d, printed %q; want exit 2 and the pool waiting", exitCode(err), early.String())
	}

	people := make([]patient, entrants+1)
	requests := make([]string, entrants+1)
	for i := range people {
		people[i] = svc.newPatient(100 + i)
		body := map[string]any{"session_id": sess.ID, "patient_id": people[i].patientID}
		r := svc.do("POST", "/v1/bookings", people[i].token, body)
		var e struct {
			ID         string `json:"request_id"`
			DrawAt     string `json:"draw_at"`
			Status     string `json:"status"`
			Commitment string `json:"seed_commitment"`
		}
		r.decode(t, &e)
		at, _ := time.Parse(time.RFC3339, e.DrawAt)
		if r.status != 202 || e.ID == "" || !at.Equal(draw) || e.Status != "entered" {
			t.Fatalf("entry %d = %d %s; want 202 with a request id and draw_at %s", i, r.status, r.body, draw.Format(time.RFC3339))
		}
		// The receipt holds the commitment in force (review20 H1).
		if e.Commitment != pool.SeedCommitment {
			t.Errorf("entry %d's 202 names seed_commitment %q; want the pool's %s", i, e.Commitment, pool.SeedCommitment)
		}
		var got struct {
			Commitment string `json:"seed_commitment"`
		}
		svc.do("GET", "/v1/lottery/requests/"+e.ID, people[i].token, nil).decode(t, &got)
		if got.Commitment != pool.SeedCommitment {
			t.Errorf("GET entry %d names seed_commitment %q; want %s", i, got.Commitment, pool.SeedCommitment)
		}
		requests[i] = e.ID
		if r := svc.do("POST", "/v1/bookings", people[i].token, body); r.status != 409 || r.code != "already_entered" {
			t.Errorf("second entry = %d %s, want 409 already_entered", r.status, r.body)
		}
	}
	// The last one withdraws before the draw.
	last := len(people) - 1
	if r := svc.do("DELETE", "/v1/lottery/requests/"+requests[last], people[last].token, nil); r.status != 200 || !bytes.Contains(r.body, []byte(`"withdrawn"`)) {
		t.Errorf("withdraw = %d %s, want 200 withdrawn", r.status, r.body)
	}
	if r := svc.do("GET", "/v1/lottery/requests/"+requests[0], people[1].token, nil); r.status != 404 {
		t.Errorf("another account's entry = %d, want 404", r.status)
	}
	// The public record before the draw: the pool's slots and the entries
	// so far (the withdrawn one not counted), none of them listed.
	var before []struct {
		Status  string `json:"status"`
		Slots   int    `json:"slots"`
		Entered int    `json:"entered"`
		Entries []any  `json:"entries"`
	}
	svc.do("GET", "/v1/lottery/sessions/"+sess.ID, "", nil).decode(t, &before)
	if len(before) != 1 || before[0].Status != "open" || before[0].Slots != slots || before[0].Entered != entrants || len(before[0].Entries) != 0 {
		t.Errorf("GET /v1/lottery/sessions before the draw = %+v; want open, %d slots, %d entered, no entries", before, slots, entrants)
	}

	status := func(i int) (string, string) {
		var e struct {
			Status    string `json:"status"`
			BookingID string `json:"booking_id"`
		}
		svc.do("GET", "/v1/lottery/requests/"+requests[i], people[i].token, nil).decode(t, &e)
		return e.Status, e.BookingID
	}
	time.Sleep(time.Until(draw)) // the window's end; the job's 2 s timer follows
	poll(t, "the draw runs", func() bool { st, _ := status(0); return st != "entered" })
	won := 0
	for i := range entrants {
		st, bid := status(i)
		switch st {
		case "won":
			won++
			if r := svc.do("GET", "/v1/bookings/"+bid, people[i].token, nil); r.status != 200 {
				t.Errorf("winner %d's booking %s = %d %s", i, bid, r.status, r.body)
			}
		case "lost":
		default:
			t.Errorf("entry %d is %s after the draw", i, st)
		}
	}
	if won != slots {
		t.Errorf("%d winners, want %d", won, slots)
	}
	poll(t, "the seed is published", func() bool { pool = svc.onlinePool(sess); return pool.Seed != "" })
	seed, _ := hex.DecodeString(pool.Seed)
	// As an outsider computes it (docs/design.md): recipe 2, bound to the pool.
	c := sha256.Sum256(append([]byte("fairslot commit v2\n"+sess.ID+"\nonline\n"), seed...))
	if hex.EncodeToString(c[:]) != pool.SeedCommitment || pool.Recipe != 2 || pool.DrawStatus != "drawn" {
		t.Errorf("after the draw: seed %s, commitment %s by recipe %d, status %s; want recipe 2's commitment of the seed",
			pool.Seed, pool.SeedCommitment, pool.Recipe, pool.DrawStatus)
	}
	// The public record counts the entries of persons nobody verified
	// (review20 M3): here every one, made through the API.
	var after []struct {
		Eligible   int  `json:"eligible"`
		Unverified *int `json:"unverified"`
		Recipe     int  `json:"commitment_recipe"`
	}
	svc.do("GET", "/v1/lottery/sessions/"+sess.ID, "", nil).decode(t, &after)
	if len(after) != 1 || after[0].Unverified == nil || *after[0].Unverified != after[0].Eligible || after[0].Recipe != 2 {
		t.Errorf("GET /v1/lottery/sessions after the draw = %+v; want unverified = eligible, recipe 2", after)
	}
	// What the draw left is first-come now: nothing.
	late := svc.newPatient(200)
	r := svc.do("POST", "/v1/bookings", late.token, map[string]any{"session_id": sess.ID, "patient_id": late.patientID})
	if r.status != 409 || r.code != "sold_out" {
		t.Errorf("after the draw = %d %s, want the first-come answer 409 sold_out", r.status, r.body)
	}

	t.Run("verify", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "draw.json")
		svc.run("lottery", "entries", "--session", sess.ID, "--out", file)
		if out := svc.run("lottery", "verify", "--session", sess.ID, "--entries", file); !strings.Contains(out, "ok   online pool") {
			t.Errorf("verify printed %q", out)
		}
		svc.run("lottery", "verify", "--session", sess.ID) // from the database
		var draws []map[string]any
		b, err := os.ReadFile(file)
		testenv.Must(t, err, "read the entries file")
		testenv.Must(t, json.Unmarshal(b, &draws), "decode the entries file")
		tamper := map[string]func(d map[string]any){
			"an entry in the draw dropped": func(d map[string]any) {
				// The file lists the entries by request id: drop one that
				// was drawn (a withdrawn one is in no draw).
				es := d["entries"].([]any)
				for i, e := range es {
					if _, ranked := e.(map[string]any)["rank"]; ranked {
						d["entries"] = append(es[:i:i], es[i+1:]...)
						return
					}
				}
			},
			"another seed": func(d map[string]any) {
				s := []byte(d["seed"].(string))
				if s[0] == '0' {
					s[0] = '1'
				} else {
					s[0] = '0'
				}
				d["seed"] = string(s)
			},
		}
		for name, f := range tamper {
			var copied []map[string]any
			_ = json.Unmarshal(b, &copied)
			f(copied[0])
			bad, _ := json.Marshal(copied)
			path := filepath.Join(t.TempDir(), "tampered.json")
			testenv.Must(t, os.WriteFile(path, bad, 0o644), "write")
			var out bytes.Buffer
			err := run(context.Background(), []string{"lottery", "verify", "--session", sess.ID, "--entries", path}, svc.getenv, &out, svc.logs)
			if err == nil || !strings.Contains(out.String(), "FAIL") {
				t.Errorf("verify of a file with %s = %v, printed %q; want a failure", name, err, out.String())
			}
		}
	})
	t.Run("verify refuses a seed another pool published", func(t *testing.T) {
		// The review's copy, the other way round: another pool of the
		// session holding this pool's seed (the unique index keeps two
		// rows from one commitment, not from one published seed).
		_, err := svc.pool.Exec(context.Background(), `INSERT INTO lottery_pools (session_id, channel, hospital_id, opens_at, draw_at,
			seed_sealed, commitment, seed, status, created_at)
			SELECT session_id, 'phone', hospital_id, opens_at, draw_at, seed_sealed, '\x00'::BYTEA, seed, 'drawn', created_at
			  FROM lottery_pools WHERE session_id = $1 AND channel = 'online'`, sess.ID)
		testenv.Must(t, err, "copy the seed into another pool")
		defer svc.pool.Exec(context.Background(), `DELETE FROM lottery_pools WHERE session_id = $1 AND channel = 'phone'`, sess.ID)
		var out bytes.Buffer
		err = run(context.Background(), []string{"lottery", "verify", "--session", sess.ID}, svc.getenv, &out, svc.logs)
		if err == nil || !strings.Contains(out.String(), "FAIL online pool") || strings.Contains(out.String(), "ok   online pool") {
			t.Errorf("verify with the seed in two pools = %v, printed %q; want the online pool to FAIL", err, out.String())
		}
	})
	t.Run("public pages", func(t *testing.T) {
		type page []struct {
			Seed    string `json:"seed"`
			Winners int    `json:"winners"`
			Entries []struct {
				ID string `json:"request_id"`
			} `json:"entries"`
			Next string `json:"entries_next"`
		}
		var first, rest page
		svc.do("GET", "/v1/lottery/sessions/"+sess.ID, "", nil).decode(t, &first)
		if len(first) != 1 || first[0].Seed != pool.Seed || first[0].Winners != slots || len(first[0].Entries) != entrants+1 || first[0].Next != "" {
			t.Fatalf("first page = %+v; want the drawn pool, its seed, %d winners, its %d entries (one withdrawn), no next page", first, slots, entrants+1)
		}
		var ids []string
		for _, e := range first[0].Entries {
			ids = append(ids, e.ID)
		}
		if !slices.IsSorted(ids) {
			t.Errorf("entries %v; want them in request id order, the order verify hashes them in", ids)
		}
		svc.do("GET", "/v1/lottery/sessions/"+sess.ID+"?channel=online&after="+ids[1], "", nil).decode(t, &rest)
		if len(rest) != 1 || rest[0].Seed != pool.Seed || len(rest[0].Entries) != entrants-1 || rest[0].Entries[0].ID != ids[2] {
			t.Errorf("page after the second entry = %+v; want the pool's record and the entries from %s on", rest, ids[2])
		}
		for _, q := range []string{"?after=" + ids[0], "?channel=online&after=12345", "?channel=phone"} {
			if r := svc.do("GET", "/v1/lottery/sessions/"+sess.ID+q, "", nil); r.status != 400 || r.code != "invalid_cursor" {
				t.Errorf("GET …%s = %d %s; want 400 invalid_cursor", q, r.status, r.body)
			}
		}
	})
	svc.run("reconcile", "--check")
}

// TestLotteryRepeatsFromMemory: over the real binary, a person's repeat
// attempts after their 202 are answered 409 already_entered from memory
// (fairslot_known_entries_total counts them), and once the entry is
// withdrawn the person enters again at once: the memo forgot them.
func TestLotteryRepeatsFromMemory(t *testing.T) {
	admin := freeAddr(t)
	sch := lotterySchedule(t, 2, time.Now().Add(5*time.Minute).Truncate(time.Second))
	sess := sch.Sessions[0]
	svc := startService(t, sch, map[string]string{"FAIRSLOT_ADMIN_ADDR": admin})
	poll(t, "the seed's commitment is published", func() bool { return svc.onlinePool(sess).SeedCommitment != "" })
	known := func() float64 {
		resp, err := http.Get("http://" + admin + "/metrics")
		testenv.Must(t, err, "scrape")
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "fairslot_known_entries_total "); ok {
				f, err := strconv.ParseFloat(v, 64)
				testenv.Must(t, err, "parse %q", v)
				return f
			}
		}
		t.Fatal("no fairslot_known_entries_total in /metrics")
		return 0
	}

	p := svc.newPatient(1)
	body := map[string]any{"session_id": sess.ID, "patient_id": p.patientID}
	enter := func() string {
		t.Helper()
		var e struct {
			ID string `json:"request_id"`
		}
		r := svc.do("POST", "/v1/bookings", p.token, body)
		r.decode(t, &e)
		if r.status != 202 || e.ID == "" {
			t.Fatalf("entry = %d %s, want 202", r.status, r.body)
		}
		return e.ID
	}
	repeat := func(n int) {
		t.Helper()
		for range n {
			if r := svc.do("POST", "/v1/bookings", p.token, body); r.status != 409 || r.code != "already_entered" {
				t.Fatalf("repeat = %d %s, want 409 already_entered", r.status, r.body)
			}
		}
	}
	id := enter()
	repeat(3)
	if got := known(); got != 3 {
		t.Errorf("repeats answered from memory = %g, want 3", got)
	}
	if r := svc.do("DELETE", "/v1/lottery/requests/"+id, p.token, nil); r.status != 200 {
		t.Fatalf("withdraw = %d %s", r.status, r.body)
	}
	again := enter()
	if again == id {
		t.Errorf("the new entry has the withdrawn one's id")
	}
	repeat(1)
	if got := known(); got != 4 {
		t.Errorf("repeats answered from memory = %g, want 4", got)
	}
	svc.run("reconcile", "--check")
}

// TestLotteryEntryCountsTheSharedLimits: an entry's shared rate limits are
// counted by admission with the entry (one Redis round trip), under the
// same counters as every other request's, across instances: once, not
// twice, and an entry over the shared limit is refused 429 with
// Retry-After, where the instance's own (in-memory) limit would let it
// through.
func TestLotteryEntryCountsTheSharedLimits(t *testing.T) {
	sch := lotterySchedule(t, 2, time.Now().Add(5*time.Minute).Truncate(time.Second))
	sess := sch.Sessions[0]
	a := sharedLimitAcrossInstances(t, sch, func(a *service) {
		poll(t, "the seed's commitment is published", func() bool { return a.onlinePool(sess).SeedCommitment != "" })
	}, 202, "entry")
	var n int
	testenv.Must(t, a.pool.QueryRow(t.Context(), `SELECT count(*) FROM lottery_entries WHERE session_id = $1`, sess.ID).Scan(&n), "count entries")
	if n != 1 {
		t.Errorf("entries stored = %d, want 1", n)
	}
}

// TestStoppedLotteryRecord: a clinic stopped (停诊) while its lottery takes
// entries has a public record that says so — status stopped, stopped_at —
// and `lottery verify` says the clinic was stopped, when, and that no draw
// was made or needed, and exits 0. Before, the record read open with
// nobody entered, and verify answered "wait … not drawn yet" (exit 2).
func TestStoppedLotteryRecord(t *testing.T) {
	sch := lotterySchedule(t, 2, time.Now().Add(time.Minute).Truncate(time.Second))
	sess := sch.Sessions[0]
	svc := startService(t, sch, nil)
	poll(t, "the seed's commitment is published", func() bool { return svc.onlinePool(sess).SeedCommitment != "" })
	p := svc.newPatient(300)
	if r := svc.do("POST", "/v1/bookings", p.token, map[string]any{"session_id": sess.ID, "patient_id": p.patientID}); r.status != 202 {
		t.Fatalf("entry = %d %s, want 202", r.status, r.body)
	}
	admin := svc.staffLoginAt(booking.RoleAdmin, 1, sess.HospitalID)
	if r := svc.do("POST", "/v1/admin/sessions/"+sess.ID+"/stop", admin, map[string]string{"reason": "the doctor is ill"}); r.status != 200 {
		t.Fatalf("stop = %d %s, want 200", r.status, r.body)
	}
	if pool := svc.onlinePool(sess); pool.DrawStatus != "stopped" {
		t.Errorf("the session listing's draw_status after the stop = %q, want stopped", pool.DrawStatus)
	}
	var rec []struct {
		Status    string `json:"status"`
		StoppedAt string `json:"stopped_at"`
		Seed      string `json:"seed"`
	}
	svc.do("GET", "/v1/lottery/sessions/"+sess.ID, "", nil).decode(t, &rec)
	if len(rec) != 1 || rec[0].Status != "stopped" || rec[0].StoppedAt == "" || rec[0].Seed != "" {
		t.Errorf("GET /v1/lottery/sessions after the stop = %+v; want the pool stopped, when, no seed", rec)
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"lottery", "verify", "--session", sess.ID}, svc.getenv, &out, svc.logs)
	if err != nil || !strings.Contains(out.String(), "stop online pool of session "+sess.ID+": the clinic was stopped at ") ||
		!strings.Contains(out.String(), "no draw was made or needed") {
		t.Errorf("verify after the stop: %v, printed %q; want exit 0 and the clinic stopped, no draw needed", err, out.String())
	}
}
