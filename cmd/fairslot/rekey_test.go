package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// TestRekeyMovesEverythingToTheNewKey (review21b H4): `fairslot rekey`
// moves a hospital's data to a new master key. It refuses while an instance
// serves; stopped midway (--max-batches) it keeps every instance from
// starting, with either key, and a second run finishes it. Then every
// sealed value opens under the new key only, every keyed hash is the new
// key's hash of its clear value (an event's reference to a number no
// longer kept is hashed again as it is), and with only the new key the
// patients log in, find their bookings, book, export, and the desk finds
// them by their card.
func TestRekeyMovesEverythingToTheNewKey(t *testing.T) {
	ctx := context.Background()
	sch := schedule(t, time.Now().Add(-time.Minute), 12, 12, 12, 1, 4)
	sch.Sessions[4] = asLottery(t, sch.Sessions[4], time.Now().Add(time.Hour).Truncate(time.Second))
	s := startService(t, sch, nil)
	oldText := s.env["FAIRSLOT_SECRET_KEY"]
	oldKeys := keyringOf(t, oldText)
	newFile, newKeys := newKeyFile(t)

	// A demo-size hospital: twenty patients, each booked, one with a
	// family member, a caller booked by phone, a clerk and an operator.
	var people []patient
	for n := range 20 {
		p := s.newPatient(7300 + n)
		people = append(people, p)
		if r := s.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sch.Sessions[n%2].ID, "patient_id": p.patientID}); r.status != 201 {
			t.Fatalf("book: %d %s", r.status, r.body)
		}
	}
	if r := s.do("POST", "/v1/patients", people[0].token, map[string]any{"id_type": "resident_id", "id_number": residentID(7399),
		"name": "家属乙", "relationship": "parent", "phone": "13900007399"}); r.status != 201 {
		t.Fatalf("add a family member: %d %s", r.status, r.body)
	}
	// A full session and a waitlist place.
	if r := s.do("POST", "/v1/bookings", people[19].token, map[string]string{"session_id": sch.Sessions[3].ID, "patient_id": people[19].patientID}); r.status != 201 {
		t.Fatalf("book the one slot: %d %s", r.status, r.body)
	}
	if r := s.do("POST", "/v1/waitlist", people[18].token, map[string]string{"session_id": sch.Sessions[3].ID, "patient_id": people[18].patientID}); r.status != 201 {
		t.Fatalf("join the waitlist: %d %s", r.status, r.body)
	}
	operator := s.staffLogin(booking.RoleOperator, 7301)
	caller := map[string]string{"id_type": "resident_id", "id_number": residentID(7398), "name": "来电丙", "caller_phone": "13900007398",
		"privacy_consent": booking.PrivacyNoticeVersion}
	if r := s.do("POST", "/v1/phone/bookings", operator, with(caller, "session_id", sch.Sessions[0].ID)); r.status != 201 {
		t.Fatalf("book a caller by phone: %d %s", r.status, r.body)
	}
	// An event naming a number nobody holds any more (changed, erased):
	// its reference cannot be derived again.
	goneRef := "hash:" + booking.IdentityKey(oldKeys.Hash("phone", "13900007000"))
	if _, err := s.pool.Exec(ctx, `UPDATE booking_events SET phone = $1 WHERE id = (SELECT id FROM booking_events WHERE phone <> '' ORDER BY id LIMIT 1)`, goneRef); err != nil {
		t.Fatal(err)
	}
	seeded := seedKeyedValues(t, s, sch, people, oldKeys, goneRef)
	var redisBefore int
	rdb := redis.NewClient(&redis.Options{Addr: s.env["FAIRSLOT_REDIS_ADDR"], Password: s.env["FAIRSLOT_REDIS_PASSWORD"]})
	t.Cleanup(func() { rdb.Close() })
	keysUnder := func() int {
		ks, err := rdb.Keys(ctx, s.env["FAIRSLOT_REDIS_PREFIX"]+":{*").Result()
		testenv.Must(t, err, "redis keys")
		return len(ks)
	}
	redisBefore = keysUnder()

	rekeyArgs := []string{"rekey", "--new-key-file", newFile, "--batch", "3"}
	// serve records its presence lease before its check for a rotation,
	// so from its first second a rekey sees it (no wait for a job lease:
	// TestRekeyRefusedInServesFirstSeconds).
	var out strings.Builder
	if err := run(ctx, rekeyArgs, s.getenv, &out, &out); err == nil || !strings.Contains(err.Error(), "an instance is serving") {
		t.Fatalf("rekey while serve runs = %v, want it refused\n%s", err, out.String())
	}
	s.stopServe()

	// Stopped midway: the progress is kept, and nothing starts meanwhile.
	got := s.run(append(rekeyArgs, "--max-batches", "4")...)
	if !strings.Contains(got, "stopped after 4 batches") {
		t.Fatalf("rekey --max-batches 4 printed %q", got)
	}
	// 4 batches of 3 rows: 12 of the 24 accounts (the operator's, the
	// clerk's, the administrator's and the closed one's too) are the new key's, the rest still
	// the old key's; the closed one holds no number.
	var moved, left, closedFirst int
	testenv.Must(t, s.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT phone_sealed FROM accounts ORDER BY id LIMIT 12) a
	                                       WHERE length(phone_sealed) = 0`).Scan(&closedFirst), "closed among the first 12")
	rows, err := s.pool.Query(ctx, `SELECT phone_sealed FROM accounts`)
	testenv.Must(t, err, "accounts")
	for rows.Next() {
		var sealed []byte
		testenv.Must(t, rows.Scan(&sealed), "scan")
		if _, err := newKeys.Open("phone", sealed); err == nil {
			moved++
		} else if _, err := oldKeys.Open("phone", sealed); err == nil {
			left++
		}
	}
	rows.Close()
	if moved != 12-closedFirst || left != 11+closedFirst {
		t.Errorf("after 4 batches of 3: %d accounts under the new key and %d under the old, want %d and %d", moved, left, 12-closedFirst, 11+closedFirst)
	}
	if check := s.run("key", "check"); !strings.Contains(check, "rotation under way") || !strings.Contains(check, cockroach.ShortFingerprint(newKeys.Fingerprint())) {
		t.Errorf("key check during the rotation printed %q", check)
	}
	for _, env := range []map[string]string{nil, {"FAIRSLOT_SECRET_KEY_FILE": newFile}} {
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		out.Reset()
		err := run(sctx, []string{"serve"}, s.getenvWith(env), &out, &out)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "rotation (`fairslot rekey`) is under way") {
			t.Errorf("serve during the rotation (new key: %v) = %v, want it refused", env != nil, err)
		}
	}

	got = s.run(rekeyArgs...)
	if !strings.Contains(got, "now the new key's") {
		t.Fatalf("the second rekey printed %q", got)
	}
	if n := keysUnder(); redisBefore == 0 || n != 0 {
		t.Errorf("redis keys of the hospitals' state: %d before, %d after the rekey; want some, then none", redisBefore, n)
	}
	if got := s.run(rekeyArgs...); !strings.Contains(got, "already the new key") {
		t.Errorf("a third rekey printed %q", got)
	}
	// The closed account's number is held by nobody now: its events'
	// references are hashed again as they are, as goneRef's.
	closedRef := "hash:" + booking.IdentityKey(oldKeys.Hash("phone", seeded.phones[3]))
	checkRekeyed(t, s, oldKeys, newKeys, goneRef, closedRef)
	checkSeededRekeyed(t, s, seeded, oldKeys, newKeys, goneRef)

	// Only the new key from here on; the old one is refused.
	out.Reset()
	if err := run(ctx, []string{"serve"}, s.getenv, &out, &out); err == nil || !strings.Contains(err.Error(), "not the one this database's data") {
		t.Errorf("serve with the old key after the rotation = %v, want it refused", err)
	}
	s.env["FAIRSLOT_SECRET_KEY"], s.env["FAIRSLOT_SECRET_KEY_FILE"] = "", newFile
	s.serve()
	if r := s.do("GET", "/v1/patients", people[0].token, nil); r.status != 401 {
		t.Errorf("a token from before (the master key's token key) = %d, want 401", r.status)
	}
	for i, p := range people {
		var tok struct{ Token string }
		s.do("POST", "/v1/auth/login", "", map[string]string{"phone": p.phone, "password": "password-" + p.phone}).decode(t, &tok)
		if tok.Token == "" {
			t.Fatalf("patient %d cannot log in after the rekey", i)
		}
		if r := s.do("GET", "/v1/patients", tok.Token, nil); r.status != 200 || !strings.Contains(string(r.body), p.patientID) {
			t.Errorf("patient %d's list = %d %s", i, r.status, r.body)
		}
		if r := s.do("GET", "/v1/bookings", tok.Token, nil); r.status != 200 || !strings.Contains(string(r.body), sch.Sessions[i%2].ID) {
			t.Errorf("patient %d's bookings = %d %s", i, r.status, r.body)
		}
		if i < 6 {
			if r := s.do("POST", "/v1/bookings", tok.Token, map[string]string{"session_id": sch.Sessions[2].ID, "patient_id": p.patientID}); r.status != 201 {
				t.Errorf("patient %d books after the rekey: %d %s", i, r.status, r.body)
			}
		}
		if i == 0 {
			if r := s.do("GET", "/v1/me/export", tok.Token, nil); r.status != 200 || !strings.Contains(string(r.body), sch.Sessions[0].ID) {
				t.Errorf("export after the rekey = %d %s", r.status, r.body)
			}
			// The same person on another account is the same person: the
			// ID number's hash finds it.
			other := s.newPatient(7350)
			r := s.do("POST", "/v1/patients", other.token, map[string]any{"id_type": "resident_id", "id_number": residentID(7300),
				"name": "测试" + string(rune('甲'+7300%10)), "relationship": "other"})
			if r.status != 201 {
				t.Fatalf("add a known person to another account: %d %s", r.status, r.body)
			}
			var pt struct {
				PatientID string `json:"patient_id"`
			}
			r.decode(t, &pt)
			if r := s.do("POST", "/v1/bookings", other.token, map[string]string{"session_id": sch.Sessions[0].ID, "patient_id": pt.PatientID}); r.status == 201 {
				t.Errorf("the same person booked twice in one session through another account after the rekey: %s", r.body)
			}
		}
	}
	if r := s.do("POST", "/v1/accounts", "", map[string]string{"phone": people[3].phone, "password": "another-password"}); r.status != 409 || r.code != "phone_taken" {
		t.Errorf("signing up with a registered number after the rekey = %d %s, want 409 phone_taken", r.status, r.body)
	}
	clerk := s.staffLogin(booking.RoleClerk, 7302)
	card := map[string]string{"id_type": "resident_id", "id_number": residentID(7305), "identity_check": "card_shown"}
	if r := s.do("POST", "/v1/desk/lookup", clerk, card); r.status != 200 || !strings.Contains(string(r.body), `"bookings":[{`) {
		t.Errorf("the desk looks a patient up by card after the rekey = %d %s", r.status, r.body)
	}
	operator = s.staffLogin(booking.RoleOperator, 7303)
	if r := s.do("POST", "/v1/phone/bookings", operator, with(caller, "session_id", sch.Sessions[0].ID)); r.status == 201 {
		t.Errorf("the caller booked the same session again after the rekey: the ID hash no longer finds them: %s", r.body)
	}
	if r := s.do("POST", "/v1/phone/bookings", operator, with(caller, "session_id", sch.Sessions[1].ID)); r.status != 201 {
		t.Errorf("the caller books another session by phone after the rekey: %d %s", r.status, r.body)
	}
	file := filepath.Join(t.TempDir(), "events.jsonl")
	s.run("events", "--out", file)
	if b, err := os.ReadFile(file); err != nil || !strings.Contains(string(b), "hash:") {
		t.Errorf("events export after the rekey: %v, %d bytes with a phone reference", err, len(b))
	}
}

func keyringOf(t *testing.T, text string) *identity.Keyring {
	t.Helper()
	raw, err := identity.ParseKey(text)
	testenv.Must(t, err, "parse key")
	k, err := identity.NewKeyring(raw)
	testenv.Must(t, err, "keyring")
	return k
}

// checkRekeyed checks every sealed value and keyed hash of the database
// against the new key.
func checkRekeyed(t *testing.T, s *service, old, nw *identity.Keyring, goneRef, closedRef string) {
	t.Helper()
	ctx := context.Background()
	opens := func(what, purpose string, sealed []byte) string {
		t.Helper()
		if _, err := old.Open(purpose, sealed); err == nil {
			t.Errorf("%s still opens under the old key", what)
		}
		p, err := nw.Open(purpose, sealed)
		if err != nil {
			t.Errorf("%s does not open under the new key: %v", what, err)
		}
		return p
	}
	phones, names := map[string]bool{}, map[string]bool{}
	rows, err := s.pool.Query(ctx, `SELECT id::TEXT, phone_sealed, phone_hash FROM accounts`)
	testenv.Must(t, err, "accounts")
	n := 0
	for rows.Next() {
		var id string
		var sealed, hash []byte
		testenv.Must(t, rows.Scan(&id, &sealed, &hash), "scan")
		if len(sealed) == 0 {
			continue // a closed account's tombstone: checkSeededRekeyed
		}
		p := opens("account "+id+"'s phone", "phone", sealed)
		if !hmac.Equal(hash, nw.Hash("phone", p)) {
			t.Errorf("account %s's phone hash is not the new key's", id)
		}
		phones[p], n = true, n+1
	}
	rows.Close()
	rows, err = s.pool.Query(ctx, `SELECT id::TEXT, phone_sealed, phone_hash, name_sealed, name_hash FROM patients`)
	testenv.Must(t, err, "patients")
	for rows.Next() {
		var id string
		var ps, ph, ns, nh []byte
		testenv.Must(t, rows.Scan(&id, &ps, &ph, &ns, &nh), "scan")
		if ps != nil {
			p := opens("patient "+id+"'s phone", "phone", ps)
			if !hmac.Equal(ph, nw.Hash("phone", p)) {
				t.Errorf("patient %s's phone hash is not the new key's", id)
			}
			phones[p] = true
		}
		if ns != nil {
			nm := opens("patient "+id+"'s name", "name", ns)
			if nh != nil && !hmac.Equal(nh, nw.Hash("name", nm)) {
				t.Errorf("patient %s's name hash is not the new key's", id)
			}
			names[string(nw.Hash("name", nm))] = true
		}
	}
	rows.Close()
	rows, err = s.pool.Query(ctx, `SELECT id::TEXT, id_type, number_sealed, id_hash, name_sealed, name_hash FROM identities`)
	testenv.Must(t, err, "identities")
	ids := 0
	for rows.Next() {
		var id, typ string
		var num, idh, ns, nh []byte
		testenv.Must(t, rows.Scan(&id, &typ, &num, &idh, &ns, &nh), "scan")
		if len(num) == 0 {
			continue // erased by retention: checkSeededRekeyed
		}
		number := opens("identity "+id+"'s number", "id_number", num)
		if !hmac.Equal(idh, nw.IDHash(identity.ID{Type: identity.Type(typ), Number: number})) {
			t.Errorf("identity %s's id hash is not the new key's", id)
		}
		nm := opens("identity "+id+"'s name", "name", ns)
		if !hmac.Equal(nh, nw.Hash("name", nm)) {
			t.Errorf("identity %s's name hash is not the new key's", id)
		}
		names[string(nh)], ids = true, ids+1
	}
	rows.Close()
	var kept []byte
	testenv.Must(t, s.pool.QueryRow(ctx, `SELECT phone_sealed FROM caller_phones LIMIT 1`).Scan(&kept), "the caller's kept number")
	phones[opens("the kept number", "phone", kept)] = true
	if n < 20 || ids < 22 {
		t.Fatalf("%d accounts and %d identities checked, want the test's", n, ids)
	}
	for _, table := range []string{"bookings", "waitlist"} {
		rows, err = s.pool.Query(ctx, `SELECT id::TEXT, name_hash FROM `+table)
		testenv.Must(t, err, "%s", table)
		hashed := 0
		for rows.Next() {
			var id string
			var nh []byte
			testenv.Must(t, rows.Scan(&id, &nh), "scan")
			if nh != nil && !names[string(nh)] {
				t.Errorf("%s %s's name hash is no new-key hash of a name the database holds", table, id)
			}
			if nh != nil {
				hashed++
			}
		}
		rows.Close()
		if hashed == 0 && table == "bookings" {
			t.Errorf("no %s row with a name hash checked", table)
		}
	}
	refs := map[string]bool{}
	for p := range phones {
		refs["hash:"+booking.IdentityKey(nw.Hash("phone", p))] = true
	}
	orphan := "hash:" + booking.IdentityKey(nw.Hash("rekeyed phone ref", goneRef))
	closedOrphan := "hash:" + booking.IdentityKey(nw.Hash("rekeyed phone ref", closedRef))
	rows, err = s.pool.Query(ctx, `SELECT phone FROM booking_events WHERE phone <> ''`)
	testenv.Must(t, err, "events")
	var seen, orphans int
	for rows.Next() {
		var ref string
		testenv.Must(t, rows.Scan(&ref), "scan")
		switch {
		case refs[ref]:
			seen++
		case ref == orphan:
			orphans++
		case ref == closedOrphan:
		default:
			t.Errorf("an event's phone reference %s is neither the new key's hash of a number the database holds nor the orphan", ref)
		}
	}
	rows.Close()
	if seen == 0 || orphans != 1 {
		t.Errorf("events: %d references of held numbers, %d orphans; want some and 1", seen, orphans)
	}
}

// newKeyFile writes a new random master key to a file only its owner reads
// and returns the file and the key's keyring.
func newKeyFile(t *testing.T) (string, *identity.Keyring) {
	t.Helper()
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	file := filepath.Join(t.TempDir(), "new.key")
	testenv.Must(t, os.WriteFile(file, []byte(base64.StdEncoding.EncodeToString(raw)+"\n"), 0o600), "write the new key")
	keys, err := identity.NewKeyring(raw)
	testenv.Must(t, err, "new keyring")
	return file, keys
}

// TestRekeyRefusedInServesFirstSeconds (session 24): a serve that has
// passed its check for a rotation but not yet taken a job lease is
// serving all the same; a rekey started then must be refused. The
// interleaving is forced: the test holds the rows of every one-instance
// job's lease locked (FOR UPDATE), so serve, past its check, waits at its
// first claim; the test waits until PostgreSQL says a backend is blocked
// by its lock, runs rekey, and only then lets serve go on. Before the
// fix serve recorded nothing before its check, and the rekey went through
// under it.
func TestRekeyRefusedInServesFirstSeconds(t *testing.T) {
	ctx := context.Background()
	s, newFile := stoppedForRace(t, 7600)
	fpBefore := keyFingerprint(t, s)

	var exclusive []string
	for _, j := range new(booking.Service).Jobs(booking.Background{}) {
		if j.Exclusive {
			exclusive = append(exclusive, j.Name)
		}
	}
	for _, job := range exclusive {
		if _, err := s.pool.Exec(ctx, `INSERT INTO job_leases (job, holder, expires_at, acquired_at)
		                               VALUES ($1, 'test', now() - INTERVAL '1 hour', now() - INTERVAL '1 hour')
		                               ON CONFLICT (job) DO UPDATE SET holder = 'test', expires_at = excluded.expires_at`, job); err != nil {
			t.Fatal(err)
		}
	}
	lock, err := s.pool.Begin(ctx)
	testenv.Must(t, err, "begin")
	defer func() { _ = lock.Rollback(ctx) }()
	var locker int
	testenv.Must(t, lock.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&locker), "backend pid")
	if _, err := lock.Exec(ctx, `SELECT job FROM job_leases WHERE job = ANY($1) FOR UPDATE`, exclusive); err != nil {
		t.Fatal(err)
	}

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- run(sctx, []string{"serve"}, s.getenv, io.Discard, s.logs) }()
	// Wait for serve to be past its check, at its first lease claim.
	waitBlocked(t, s, locker, 1, done)

	var out strings.Builder
	rerr := run(ctx, []string{"rekey", "--new-key-file", newFile}, s.getenv, &out, &out)
	_ = lock.Rollback(ctx) // serve goes on
	if rerr == nil || !strings.Contains(rerr.Error(), "an instance is serving") {
		t.Errorf("rekey while a serve was starting = %v, want it refused\n%s", rerr, out.String())
	}
	if fp := keyFingerprint(t, s); !bytes.Equal(fp, fpBefore) {
		t.Errorf("the database's key changed under a serve that was starting")
	}
	var rotations int
	testenv.Must(t, s.pool.QueryRow(ctx, `SELECT count(*) FROM rekey`).Scan(&rotations), "rekey rows")
	if rotations != 0 {
		t.Errorf("a refused rekey left its rotation recorded (%d rows): no instance would start", rotations)
	}
	s.stop(stop, done)
}

// stoppedForRace is a hospital with three patients (newPatient(n) on),
// its serve stopped, and a new key's file, for the race tests; they watch
// the lock waits with PostgreSQL's pg_blocking_pids.
func stoppedForRace(t *testing.T, n int) (*service, string) {
	t.Helper()
	s := startService(t, schedule(t, time.Now().Add(-time.Minute), 4, 4), nil)
	for i := range 3 {
		s.newPatient(n + i)
	}
	s.stopServe()
	var version string
	testenv.Must(t, s.pool.QueryRow(context.Background(), `SELECT version()`).Scan(&version), "version")
	if strings.Contains(version, "CockroachDB") {
		t.Skip("the wait is observed with pg_blocking_pids, PostgreSQL's")
	}
	newFile, _ := newKeyFile(t)
	return s, newFile
}

// waitBlocked waits until n backends wait for the lock of the backend
// locker holds; a command that ends meanwhile (done) fails the test.
func waitBlocked(t *testing.T, s *service, locker, n int, done <-chan error) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; {
		var blocked int
		testenv.Must(t, s.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE $1::INT = ANY(pg_blocking_pids(pid))`, locker).Scan(&blocked), "blocked backends")
		if blocked >= n {
			return
		}
		select {
		case err := <-done:
			t.Fatalf("a command ended before it reached the lock: %v\n%s", err, s.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d commands reached the lock in 60 s\n%s", blocked, n, s.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRekeyAndServeStartingTogether (session 24): a rekey that has
// recorded its rotation but not yet read the leases, and a serve that has
// recorded its presence but not yet read the rotation — both held at that
// point by the test's lock on job_leases, then let go together. The two
// transactions are serializable and each reads what the other writes, so
// one of them sees the other: exactly one goes through.
func TestRekeyAndServeStartingTogether(t *testing.T) {
	ctx := context.Background()
	s, newFile := stoppedForRace(t, 7610)
	lock, err := s.pool.Begin(ctx)
	testenv.Must(t, err, "begin")
	defer func() { _ = lock.Rollback(ctx) }()
	var locker int
	testenv.Must(t, lock.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&locker), "backend pid")
	if _, err := lock.Exec(ctx, `LOCK TABLE job_leases IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	rekeyDone := make(chan error, 1)
	var out strings.Builder
	go func() { rekeyDone <- run(ctx, []string{"rekey", "--new-key-file", newFile}, s.getenv, &out, &out) }()
	waitBlocked(t, s, locker, 1, rekeyDone) // rekey: its rotation written, reading the leases
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	serveDone := make(chan error, 1)
	pr, pw := io.Pipe()
	go func() { serveDone <- run(sctx, []string{"serve"}, s.getenv, pw, s.logs); pw.Close() }()
	waitBlocked(t, s, locker, 2, serveDone) // serve: its presence written, before reading the rotation
	_ = lock.Rollback(ctx)

	rerr := <-rekeyDone
	rekeyed := rerr == nil
	if rerr != nil && !strings.Contains(rerr.Error(), "an instance is serving") {
		t.Fatalf("rekey = %v, want it done or refused as serving\n%s", rerr, out.String())
	}
	// serve prints its address once it serves, or ends refused.
	line, _ := bufio.NewReader(pr).ReadString('\n')
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	served := strings.Contains(line, "http://")
	stop()
	serr := <-serveDone
	switch {
	case rekeyed && served:
		t.Errorf("both went through: the rekey moved the data to the new key while a serve started with the old one")
	case !rekeyed && !served:
		t.Errorf("neither went through: rekey %v; serve %v", rerr, serr)
	case rekeyed && (serr == nil || !strings.Contains(serr.Error(), "rotation (`fairslot rekey`) is under way")):
		t.Errorf("serve after a rekey that went through = %v, want it refused as a rotation under way", serr)
	case served && serr != nil:
		t.Errorf("serve returned %v, want a clean shutdown", serr)
	}
	t.Logf("rekey went through: %v; serve went through: %v", rekeyed, served)
}

func keyFingerprint(t *testing.T, s *service) []byte {
	t.Helper()
	var fp []byte
	testenv.Must(t, s.pool.QueryRow(context.Background(), `SELECT fingerprint FROM key_check WHERE id = 1`).Scan(&fp), "key fingerprint")
	return fp
}

// seededValues are the keyed values seedKeyedValues put in the database,
// and every clear value behind the test's keyed values, for the scan
// that no value of the old key is left anywhere.
type seededValues struct {
	closedAccount string // a closed account's id: its tombstone is a keyed hash of it
	heldPhone     string // a report's number an account holds
	entryName     string // the lottery entrant's name
	ip            string // an address the events hold in clear
	oldDev        string // a device pseudonym of a device no event holds
	oldPresented  string // the keyed id of a card nobody registered, shown at the desk
	phones, names []string
	ids           []identity.ID
	readerID      string // a desk card reader (review25 H1): its key is sealed
	readerKey     string // as registered (hex), shown once
}

// seedKeyedValues adds to the rekey test's hospital what holds keyed
// values beyond accounts, people and bookings: a lottery entry (its name
// hash), two scalper reports (the hash of a number an account holds, and
// of the number nobody holds that goneRef names), a closed account (its
// tombstone) and a flag whose stored reasons name a number, an address
// and a device by their keyed references, as the detector writes them.
func seedKeyedValues(t *testing.T, s *service, sch booking.Schedule, people []patient, old *identity.Keyring, goneRef string) seededValues {
	t.Helper()
	ctx := context.Background()
	v := seededValues{heldPhone: people[2].phone, entryName: "测试" + string(rune('甲'+7310%10))}
	// The pool takes entries once the lottery job has committed its seed
	// (within seconds of serve's start).
	var r reply
	poll(t, "the lottery takes entries", func() bool {
		r = s.do("POST", "/v1/bookings", people[10].token, map[string]string{"session_id": sch.Sessions[4].ID, "patient_id": people[10].patientID})
		return r.code != "not_released"
	})
	if r.status != 202 {
		t.Fatalf("enter the lottery: %d %s", r.status, r.body)
	}
	for i, phone := range []string{v.heldPhone, "13900007000"} {
		if r := s.do("POST", "/v1/reports", people[6+i].token, map[string]string{"text": "offered me a slot for 500 yuan", "hospital_id": s.hospital,
			"offered_by_phone": phone}); r.status != 201 {
			t.Fatalf("report a scalper's number: %d %s", r.status, r.body)
		}
	}
	clerk := s.staffLogin(booking.RoleClerk, 7304)
	closing := s.newPatient(7360)
	if r := s.do("POST", "/v1/desk/account-closures", clerk, map[string]string{"id_type": "resident_id", "id_number": residentID(7360),
		"name": "测试" + string(rune('甲'+7360%10))}); r.status != 200 {
		t.Fatalf("close an account at the desk: %d %s", r.status, r.body)
	}
	testenv.Must(t, s.pool.QueryRow(ctx, `SELECT id::TEXT FROM accounts WHERE closed_at IS NOT NULL`).Scan(&v.closedAccount), "the closed account")
	testenv.Must(t, s.pool.QueryRow(ctx, `SELECT ip FROM booking_events WHERE ip <> '' LIMIT 1`).Scan(&v.ip), "an event's address")
	// A stranger's card shown at the desk for a booking: nobody registered
	// it, so the event names it by a keyed id of its ID hash.
	v.oldPresented = booking.KeyedID(old.Hash("presented_card", string(old.IDHash(identity.ID{Type: identity.ResidentID, Number: residentID(7370)}))))
	if _, err := s.pool.Exec(ctx, `UPDATE booking_events SET presented_identity_id = $1::UUID
	                               WHERE id = (SELECT id FROM booking_events WHERE presented_identity_id IS NULL ORDER BY id DESC LIMIT 1)`, v.oldPresented); err != nil {
		t.Fatal(err)
	}
	// A year on, retention erases the closed account's person (no booking,
	// no bar): the number and name go, their hashes stay (erase_identities).
	if _, err := s.pool.Exec(ctx, `UPDATE identities SET number_sealed = ''::BYTEA, name_sealed = ''::BYTEA
	                               WHERE id = (SELECT identity_id FROM patients WHERE account_id = $1::UUID)`, v.closedAccount); err != nil {
		t.Fatal(err)
	}

	ref := func(p string) string { return "hash:" + booking.IdentityKey(old.Hash("phone", p)) }
	ip := "ip:" + booking.IdentityKey(old.Hash("event_ip", v.ip))
	v.oldDev = "dev:" + booking.IdentityKey(old.Hash("event_dev", "dv-long-gone"))
	reasons, err := json.Marshal([]map[string]any{
		{"signal": "accounts_per_phone", "kind": "scale", "points": 0.5,
			"detail": "phone " + ref(v.heldPhone) + ": used by 4 accounts; a family shares a phone among three at most", "detail_zh": "手机号 " + ref(v.heldPhone) + " 被 4 个账号使用"},
		{"signal": "persons_per_phone", "kind": "scale", "points": 0,
			"detail": "phone " + goneRef + ": 9 different patients within 30 days across 4 accounts", "detail_zh": "手机号 " + goneRef + " 在 30 天内出现 9 位不同的就诊人"},
		{"signal": "own_line", "kind": "link", "points": 0.25,
			"detail": "ip " + ip + ": the own line of 2 of the flagged accounts (2 accounts use it in all)", "detail_zh": "IP " + ip + "：是 2 个已标记账号的常用线路"},
		{"signal": "accounts_per_device", "kind": "scale", "points": 0.5,
			"detail": "device " + v.oldDev + ": used by 3 accounts", "detail_zh": "设备 " + v.oldDev + " 被 3 个账号使用"},
	})
	testenv.Must(t, err, "reasons")
	if _, err := s.pool.Exec(ctx, `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at)
	                               VALUES ('rekey-test-flag', 1.25, 'open', $1, '[]', '[]', now(), now())`, string(reasons)); err != nil {
		t.Fatal(err)
	}

	// A desk card reader, whose key is kept sealed.
	admin := s.staffLoginAt(booking.RoleAdmin, 7306, s.hospital)
	var reader struct {
		ID  string `json:"reader_id"`
		Key string `json:"key"`
	}
	if r := s.do("POST", "/v1/admin/card-readers", admin, map[string]string{"name": "窗口 3 读卡器"}); r.status != 201 {
		t.Fatalf("register a card reader: %d %s", r.status, r.body)
	} else {
		r.decode(t, &reader)
	}
	v.readerID, v.readerKey = reader.ID, reader.Key

	v.phones = []string{"13900007399", "13900007398", "13900007000", closing.phone}
	for _, p := range people {
		v.phones = append(v.phones, p.phone)
	}
	v.names = []string{"家属乙", "来电丙"}
	for n := range 10 {
		v.names = append(v.names, "测试"+string(rune('甲'+n)))
	}
	for _, n := range []int{7360, 7398, 7399} {
		v.ids = append(v.ids, identity.ID{Type: identity.ResidentID, Number: residentID(n)})
	}
	for n := range 20 {
		v.ids = append(v.ids, identity.ID{Type: identity.ResidentID, Number: residentID(7300 + n)})
	}
	return v
}

// checkSeededRekeyed checks what seedKeyedValues added against the new
// key: found by the new key's lookups, and then that no value of the old
// key is left in any row of any table (every hash as hex, every phone
// reference, pseudonym and audit tag of the clear values the test made).
func checkSeededRekeyed(t *testing.T, s *service, v seededValues, old, nw *identity.Keyring, goneRef string) {
	t.Helper()
	ctx := context.Background()
	orphanRef := "hash:" + booking.IdentityKey(nw.Hash("rekeyed phone ref", goneRef))

	var readerKey []byte
	testenv.Must(t, s.pool.QueryRow(ctx, `SELECT key_sealed FROM card_readers WHERE id = $1::UUID`, v.readerID).Scan(&readerKey), "the card reader")
	if key, err := nw.Open("card_reader_key", readerKey); err != nil || key != v.readerKey {
		t.Errorf("the card reader's key after the rekey: %v (the same key: %v), want it sealed under the new key", err, key == v.readerKey)
	}

	var tomb []byte
	testenv.Must(t, s.pool.QueryRow(ctx, `SELECT phone_hash FROM accounts WHERE id = $1::UUID`, v.closedAccount).Scan(&tomb), "the closed account")
	if !hmac.Equal(tomb, nw.Hash("closed_account", v.closedAccount)) {
		t.Errorf("the closed account's tombstone is not the new key's")
	}
	// The erased person's hashes, with no number or name to derive them
	// from, are hashed again as they are.
	var idh, nh []byte
	testenv.Must(t, s.pool.QueryRow(ctx, `SELECT id_hash, name_hash FROM identities WHERE number_sealed = ''::BYTEA`).Scan(&idh, &nh), "the erased person")
	if !hmac.Equal(idh, nw.Hash("rekeyed id", string(old.IDHash(identity.ID{Type: identity.ResidentID, Number: residentID(7360)})))) ||
		!hmac.Equal(nh, nw.Hash("rekeyed name", string(old.Hash("name", "测试"+string(rune('甲'+7360%10)))))) {
		t.Errorf("the erased person's hashes are not the old ones hashed again under the new key")
	}
	var presented int
	testenv.Must(t, s.pool.QueryRow(ctx, `SELECT count(*) FROM booking_events WHERE presented_identity_id = $1::UUID`,
		booking.KeyedID(nw.Hash("rekeyed presented_card", v.oldPresented))).Scan(&presented), "the presented card")
	if presented != 1 {
		t.Errorf("events naming the unregistered card by its id hashed again under the new key: %d, want 1", presented)
	}
	var entryHash []byte
	testenv.Must(t, s.pool.QueryRow(ctx, `SELECT name_hash FROM lottery_entries`).Scan(&entryHash), "the lottery entry")
	if !hmac.Equal(entryHash, nw.Hash("name", v.entryName)) {
		t.Errorf("the lottery entry's name hash is not the new key's hash of the entrant's name")
	}
	rows, err := s.pool.Query(ctx, `SELECT offered_phone_hash FROM patient_cases WHERE offered_phone_hash IS NOT NULL`)
	testenv.Must(t, err, "reports")
	var held, gone int
	for rows.Next() {
		var h []byte
		testenv.Must(t, rows.Scan(&h), "scan")
		switch {
		case hmac.Equal(h, nw.Hash("phone", v.heldPhone)):
			held++
		case "hash:"+booking.IdentityKey(h) == orphanRef:
			gone++ // the detector links it to the events naming that number, as before
		default:
			t.Errorf("a report's number hash is neither the new key's hash of the number nor the events' reference to the gone one")
		}
	}
	rows.Close()
	if held != 1 || gone != 1 {
		t.Errorf("reports: %d of a held number, %d of the gone one; want 1 and 1", held, gone)
	}
	var reasons string
	testenv.Must(t, s.pool.QueryRow(ctx, `SELECT reasons::TEXT FROM flags WHERE id = 'rekey-test-flag'`).Scan(&reasons), "the flag")
	for what, want := range map[string]string{
		"the held number's reference":       "hash:" + booking.IdentityKey(nw.Hash("phone", v.heldPhone)),
		"the gone number's, as the events'": orphanRef,
		"the address's pseudonym":           "ip:" + booking.IdentityKey(nw.Hash("event_ip", v.ip)),
		"the gone device's":                 "dev:" + booking.IdentityKey(nw.Hash("rekeyed event_dev", v.oldDev)),
	} {
		if strings.Count(reasons, want) != 2 { // in English and in Chinese
			t.Errorf("the flag's reasons do not name %s under the new key (%s) in both languages: %s", what, want, reasons)
		}
	}

	// No value of the old key anywhere.
	olds := map[string]string{
		"the closed account's tombstone": booking.IdentityKey(old.Hash("closed_account", v.closedAccount)),
		"the address's pseudonym":        booking.IdentityKey(old.Hash("event_ip", v.ip)),
		"the gone device's pseudonym":    strings.TrimPrefix(v.oldDev, "dev:"),
		"the unregistered card's id":     v.oldPresented,
	}
	for _, p := range v.phones {
		k := booking.IdentityKey(old.Hash("phone", p))
		olds["the hash of phone "+p] = k
		olds["the audit tag of phone "+p] = "#" + k[:8]
	}
	for _, n := range v.names {
		olds["the hash of name "+n] = booking.IdentityKey(old.Hash("name", n))
	}
	for _, id := range v.ids {
		olds["the hash of ID number "+id.Number] = booking.IdentityKey(old.IDHash(id))
	}
	tables, err := s.pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	testenv.Must(t, err, "tables")
	var names []string
	for tables.Next() {
		var n string
		testenv.Must(t, tables.Scan(&n), "scan")
		names = append(names, n)
	}
	tables.Close()
	if len(names) < 30 {
		t.Fatalf("%d tables found, want the schema's", len(names))
	}
	for _, table := range names {
		rows, err := s.pool.Query(ctx, `SELECT row_to_json(t)::TEXT FROM "`+table+`" t`)
		testenv.Must(t, err, "%s", table)
		for rows.Next() {
			var row string
			testenv.Must(t, rows.Scan(&row), "scan")
			for what, k := range olds {
				if strings.Contains(row, k) {
					t.Errorf("%s of the old key is left in %s: %s", what, table, row)
				}
			}
		}
		rows.Close()
	}
}

// TestRekeyWaitsForTheTools (session 25): serve held a presence lease a
// rekey checks, but the tools that write keyed hashes and sealed values
// (retention, staff add and password, reconcile, seed, hospital add, the
// lottery's and staff journal's commands…) did not: a rekey run while one
// of them wrote left old-key values behind. Every tool now holds the same
// lease while it works (tool.run, one place for all): a rekey refuses
// while one works, the lease is given back when it ends, and a tool, as a
// serve, refuses to start while a rotation is under way.
func TestRekeyWaitsForTheTools(t *testing.T) {
	ctx := context.Background()
	s, newFile := stoppedForRace(t, 7620)
	fpBefore := keyFingerprint(t, s)

	var rerr error
	var out strings.Builder
	writer := tool{name: "retention", work: func(ctx context.Context, d *deps) error {
		// A rekey while this tool works, as an operator in another shell.
		rerr = run(ctx, []string{"rekey", "--new-key-file", newFile}, s.getenv, &out, &out)
		return nil
	}}
	testenv.Must(t, writer.run(ctx, nil, s.getenv, s.logs), "a tool at work")
	if rerr == nil || !strings.Contains(rerr.Error(), "an instance is serving") {
		t.Errorf("rekey while a tool worked = %v, want it refused\n%s", rerr, out.String())
	}
	if fp := keyFingerprint(t, s); !bytes.Equal(fp, fpBefore) {
		t.Errorf("the database's key changed under a tool at work")
	}

	// The tool ended: its lease given back, a rotation goes on; while it
	// is under way (stopped after a batch), the tools refuse to start.
	out.Reset()
	if err := run(ctx, []string{"rekey", "--new-key-file", newFile, "--batch", "1", "--max-batches", "1"}, s.getenv, &out, &out); err != nil {
		t.Fatalf("rekey after the tool ended = %v, want it begun\n%s", err, out.String())
	}
	for _, cmd := range [][]string{{"retention"}, {"reconcile"}} {
		if err := run(ctx, cmd, s.getenv, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "rotation (`fairslot rekey`) is under way") {
			t.Errorf("%v during a rotation = %v, want it refused", cmd, err)
		}
	}
	var left int
	testenv.Must(t, s.pool.QueryRow(ctx, `SELECT count(*) FROM job_leases WHERE job LIKE 'instance %' AND expires_at > now()`).Scan(&left), "presence leases")
	if left != 0 {
		t.Errorf("%d presence leases left by tools that ended or were refused", left)
	}
}
