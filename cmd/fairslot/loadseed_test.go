package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// TestLoadSeed seeds a small population with `fairslot loadseed`, checks its
// files against SQL and Redis, then serves it and books, looks up and checks
// in with the seeded tokens and identities.
func TestLoadSeed(t *testing.T) {
	zone := dayZone(t)
	ctx := context.Background()
	rdb, prefix := testenv.Redis(t)
	env := toolEnv(t, prefix)
	logs := &testenv.LogBuffer{}
	cmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, args, func(k string) string { return env[k] }, &out, logs)
		return out.String(), err
	}
	if out, err := cmd("migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s%s", err, out, logs)
	}
	dir := filepath.Join(t.TempDir(), "out")
	summary, err := cmd("loadseed", "--out", dir, "--patients", "30", "--bots", "2", "--bot-patients", "3",
		"--sessions", "2", "--slots", "5", "--release-at", "-1m", "--steady", "--time-zone", zone)
	if err != nil {
		t.Fatalf("loadseed: %v\n%s", err, logs)
	}
	if n := strings.Count(summary, "\n"); n != 1 || !strings.Contains(summary, "30 genuine patients, 2 bot accounts with 6 patients") {
		t.Errorf("summary = %q, want one line with the counts", summary)
	}

	// The files.
	rows := readCSV(t, filepath.Join(dir, "patients.csv"))
	if got, want := rows[0], []string{"token", "patient_id", "account_id", "kind"}; !slices.Equal(got, want) {
		t.Fatalf("patients.csv header = %v, want %v", got, want)
	}
	rows = rows[1:]
	type account struct {
		token    string
		kind     string
		patients []string
	}
	accounts := map[string]*account{}
	var accountIDs, patientIDs, genuine []string
	for _, r := range rows {
		a := accounts[r[2]]
		if a == nil {
			a = &account{token: r[0], kind: r[3]}
			accounts[r[2]] = a
			accountIDs = append(accountIDs, r[2])
		}
		if a.token != r[0] || a.kind != r[3] {
			t.Errorf("account %s has rows with different tokens or kinds", r[2])
		}
		a.patients = append(a.patients, r[1])
		patientIDs = append(patientIDs, r[1])
	}
	kinds := map[string][]int{}
	for _, id := range accountIDs {
		a := accounts[id]
		kinds[a.kind] = append(kinds[a.kind], len(a.patients))
		if a.kind == "genuine" {
			genuine = append(genuine, id)
		}
	}
	if got, want := len(rows), 36; got != want {
		t.Errorf("patients.csv has %d patients, want %d", got, want)
	}
	if got := kinds["genuine"]; len(got) != 30 || slices.Max(got) != 1 {
		t.Errorf("genuine accounts' patient counts = %v, want 30 accounts of 1", got)
	}
	if got := kinds["bot"]; !slices.Equal(got, []int{3, 3}) {
		t.Errorf("bot accounts' patient counts = %v, want [3 3]", got)
	}

	var sf struct {
		HospitalID string `json:"hospital_id"`
		ReleaseAt  string `json:"release_at"`
		Sessions   []struct {
			ID        string `json:"id"`
			Slots     int    `json:"slots"`
			Channel   string `json:"channel"`
			ReleaseAt string `json:"release_at"`
		} `json:"sessions"`
		SteadySessions []struct {
			ID    string         `json:"id"`
			Pools map[string]int `json:"pools"`
		} `json:"steady_sessions"`
	}
	readJSON(t, filepath.Join(dir, "sessions.json"), &sf)
	release, err := time.Parse(time.RFC3339, sf.ReleaseAt)
	if err != nil || time.Since(release) < 50*time.Second || time.Since(release) > 5*time.Minute {
		t.Errorf("release_at = %q, want about a minute ago", sf.ReleaseAt)
	}
	if len(sf.Sessions) != 2 {
		t.Fatalf("sessions.json lists %d sessions, want 2", len(sf.Sessions))
	}
	for _, s := range sf.Sessions {
		if s.Slots != 5 || s.Channel != "online" || s.ReleaseAt != sf.ReleaseAt {
			t.Errorf("session %+v, want 5 online slots released at %s", s, sf.ReleaseAt)
		}
	}
	wantPools := map[string]int{"online": 2, "phone": 1, "onsite": 2}
	if len(sf.SteadySessions) != 2 {
		t.Fatalf("sessions.json lists %d steady sessions, want 2", len(sf.SteadySessions))
	}
	for _, s := range sf.SteadySessions {
		if !maps.Equal(s.Pools, wantPools) {
			t.Errorf("steady session pools = %v, want %v", s.Pools, wantPools)
		}
	}
	var staff struct {
		Clerk     string   `json:"clerk_token"`
		Operator  string   `json:"operator_token"`
		Clerks    []string `json:"clerk_tokens"`
		Operators []string `json:"operator_tokens"`
	}
	readJSON(t, filepath.Join(dir, "staff.json"), &staff)
	if len(staff.Clerks) != 10 || len(staff.Operators) != 10 || staff.Clerks[0] != staff.Clerk || staff.Operators[0] != staff.Operator {
		t.Errorf("staff.json: %d clerk and %d operator tokens (first %v, %v), want 10 each, the first also on its own",
			len(staff.Clerks), len(staff.Operators), len(staff.Clerks) > 0 && staff.Clerks[0] == staff.Clerk,
			len(staff.Operators) > 0 && staff.Operators[0] == staff.Operator)
	}

	raw, err := os.ReadFile(filepath.Join(dir, "identities.csv"))
	testenv.Must(t, err, "read identities.csv")
	if !bytes.HasPrefix(raw, []byte("# synthetic test data")) {
		t.Errorf("identities.csv starts %q, want the synthetic-data comment", raw[:min(40, len(raw))])
	}
	ids := readCSV(t, filepath.Join(dir, "identities.csv"))
	if got, want := ids[0], []string{"patient_id", "id_type", "id_number", "name"}; !slices.Equal(got, want) {
		t.Fatalf("identities.csv header = %v, want %v", got, want)
	}
	ids = ids[1:]
	if len(ids) != 30 {
		t.Fatalf("identities.csv has %d people, want the 30 genuine patients", len(ids))
	}
	seen := map[string]bool{}
	for _, r := range ids {
		if accounts[rows[slices.IndexFunc(rows, func(p []string) bool { return p[1] == r[0] })][2]].kind != "genuine" {
			t.Errorf("identities.csv lists patient %s, want genuine patients only", r[0])
		}
		id, err := identity.Parse(r[1], r[2])
		if err != nil || id.Number != r[2] || seen[r[2]] {
			t.Errorf("identities.csv: patient %s has an invalid or repeated ID number (%v)", r[0], err)
		}
		seen[r[2]] = true
		if name, err := identity.NormalizeName(r[3]); err != nil || name != r[3] {
			t.Errorf("identities.csv: patient %s has an invalid name (%v)", r[0], err)
		}
	}

	// Redis: loadseed itself loaded the pools (nothing else has run yet).
	rkey := func(session, channel string) string {
		return prefix + ":{" + sf.HospitalID + "}:s:" + session + ":free:" + channel
	}
	for _, s := range sf.Sessions {
		if n := rdb.ZCard(ctx, rkey(s.ID, "online")).Val(); n != 5 {
			t.Errorf("session %s has %d free online slots in redis, want 5", s.ID, n)
		}
	}
	for _, s := range sf.SteadySessions {
		for ch, want := range wantPools {
			if n := rdb.ZCard(ctx, rkey(s.ID, ch)).Val(); n != int64(want) {
				t.Errorf("steady session %s has %d free %s slots in redis, want %d", s.ID, n, ch, want)
			}
		}
	}

	// The service over the seeded database and Redis keys. (startService
	// also makes a database and a prefix of its own; the env replaces them.)
	svc := startService(t, booking.Schedule{}, env)

	// SQL matches the files, and the rows are the service's own.
	t.Run("sql", func(t *testing.T) {
		in := "id::TEXT = ANY($1)"
		for _, c := range []struct {
			name  string
			query string
			args  []any
			want  int
		}{
			{"accounts", "SELECT count(*) FROM accounts WHERE role = 'patient' AND " + in, []any{accountIDs}, 32},
			{"all patient accounts", "SELECT count(*) FROM accounts WHERE role = 'patient'", nil, 32},
			{"patients", "SELECT count(*) FROM patients WHERE " + in, []any{patientIDs}, 36},
			{"patients of the accounts", "SELECT count(*) FROM patients WHERE account_id::TEXT = ANY($1)", []any{accountIDs}, 36},
			{"identities", "SELECT count(DISTINCT identity_id) FROM patients", nil, 36},
			{"all identities", "SELECT count(*) FROM identities", nil, 36},
			{"one self per account", "SELECT count(DISTINCT account_id) FROM patients WHERE is_self", nil, 32},
			{"genuine accounts with one patient", "SELECT count(*) FROM (SELECT account_id FROM patients WHERE account_id::TEXT = ANY($1) GROUP BY account_id HAVING count(*) = 1) x", []any{genuine}, 30},
			{"staff", "SELECT count(*) FROM accounts WHERE role IN ('clerk', 'operator')", nil, 20},
			{"hospital with default quotas", "SELECT count(*) FROM hospitals WHERE id = $1 AND name = 'Load-test hospital' AND per_day = 2 AND per_week = 8 AND per_month = 12", []any{sf.HospitalID}, 1},
			{"sessions", "SELECT count(*) FROM clinic_sessions WHERE hospital_id = $1 AND release_mode = 'first_come'", []any{sf.HospitalID}, 4},
			{"one session per doctor", "SELECT count(DISTINCT doctor_id) FROM clinic_sessions WHERE hospital_id = $1", []any{sf.HospitalID}, 4},
			{"slots", "SELECT count(*) FROM slots s JOIN clinic_sessions c ON c.id = s.session_id WHERE c.hospital_id = $1", []any{sf.HospitalID}, 20},
		} {
			if got := svc.count(c.query, c.args...); got != c.want {
				t.Errorf("%s: got %d, want %d", c.name, got, c.want)
			}
		}
		master, err := identity.ParseKey(env["FAIRSLOT_SECRET_KEY"])
		testenv.Must(t, err, "parse key")
		keys, err := identity.NewKeyring(master)
		testenv.Must(t, err, "keyring")
		phone := regexp.MustCompile(`^1[3-9][0-9]{9}$`)
		prows, err := svc.pool.Query(ctx, "SELECT phone_hash, phone_sealed, phone_masked FROM accounts")
		testenv.Must(t, err, "read accounts")
		for prows.Next() {
			var hash, sealed []byte
			var masked string
			testenv.Must(t, prows.Scan(&hash, &sealed, &masked), "scan account")
			p, err := keys.Open("phone", sealed)
			if err != nil || !phone.MatchString(p) || !bytes.Equal(hash, keys.Hash("phone", p)) || masked != identity.MaskPhone(p) {
				t.Errorf("an account's phone is not a mobile number stored as the service stores it (%v)", err)
			}
		}
		testenv.Must(t, prows.Err(), "read accounts")
		for _, r := range ids[:5] {
			var idHash, numSealed, nameHash, nameSealed []byte
			var numMasked, nameMasked string
			err := svc.pool.QueryRow(ctx, `SELECT i.id_hash, i.number_sealed, i.number_masked, i.name_hash, i.name_sealed, i.name_masked
				FROM patients p JOIN identities i ON i.id = p.identity_id WHERE p.id = $1`, r[0]).
				Scan(&idHash, &numSealed, &numMasked, &nameHash, &nameSealed, &nameMasked)
			testenv.Must(t, err, "read identity of %s", r[0])
			id, _ := identity.Parse(r[1], r[2])
			num, nerr := keys.Open("id_number", numSealed)
			name, merr := keys.Open("name", nameSealed)
			if nerr != nil || merr != nil || num != r[2] || name != r[3] || !bytes.Equal(idHash, keys.IDHash(id)) ||
				!bytes.Equal(nameHash, keys.Hash("name", r[3])) || numMasked != id.Masked() || nameMasked != identity.MaskName(r[3]) {
				t.Errorf("patient %s: identity row does not match identities.csv as the service would write it", r[0])
			}
		}
	})

	session := sf.Sessions[0].ID
	book := func(token, patientID, sessionID string) reply {
		return svc.do("POST", "/v1/bookings", token, map[string]string{"session_id": sessionID, "patient_id": patientID, "channel": "online"})
	}
	t.Run("genuine patient books", func(t *testing.T) {
		a := accounts[genuine[0]]
		if r := book(a.token, a.patients[0], session); r.status != 201 {
			t.Errorf("book = %d %s, want 201", r.status, r.body)
		}
		other := accounts[genuine[1]].patients[0]
		if r := book(a.token, other, session); r.status != 404 || r.code != "patient_not_found" {
			t.Errorf("book another account's patient = %d %s, want 404 patient_not_found", r.status, r.body)
		}
	})
	t.Run("bot books for each of its patients", func(t *testing.T) {
		for _, id := range accountIDs {
			a := accounts[id]
			if a.kind != "bot" {
				continue
			}
			for _, p := range a.patients {
				if r := book(a.token, p, session); r.status != 201 {
					t.Errorf("bot books for patient %s = %d %s, want 201", p, r.status, r.body)
				}
			}
			break
		}
		if got, want := svc.count("SELECT count(*) FROM bookings WHERE session_id = $1 AND status = 'confirmed'", session), 4; got != want {
			t.Errorf("session has %d bookings, want %d", got, want)
		}
	})

	steady := sf.SteadySessions[0].ID
	person := func(r []string) map[string]string {
		return map[string]string{"id_type": r[1], "id_number": r[2], "name": r[3]}
	}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := maps.Clone(m)
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	t.Run("desk looks up and checks in", func(t *testing.T) {
		var l struct {
			MaskedID string `json:"masked_id"`
			Name     string `json:"name"`
		}
		r := svc.do("POST", "/v1/desk/lookup", staff.Clerk, map[string]string{"id_type": ids[0][1], "id_number": ids[0][2]})
		if r.status != 200 {
			t.Fatalf("lookup = %d %s, want 200", r.status, r.body)
		}
		r.decode(t, &l)
		if id, _ := identity.Parse(ids[0][1], ids[0][2]); l.MaskedID != id.Masked() || l.Name != identity.MaskName(ids[0][3]) {
			t.Errorf("lookup found %+v, want the patient's masked ID and name", l)
		}
		// A walk-in, then their check-in: the desk works all session long.
		r = svc.do("POST", "/v1/desk/bookings", staff.Clerk, with(person(ids[2]), "session_id", steady))
		var b struct {
			ID     string `json:"booking_id"`
			Status string `json:"status"`
		}
		if r.status != 201 {
			t.Fatalf("walk-in = %d %s, want 201", r.status, r.body)
		}
		r.decode(t, &b)
		r = svc.do("POST", "/v1/desk/checkins", staff.Clerk, with(person(ids[2]), "booking_id", b.ID))
		if r.decode(t, &b); r.status != 200 || b.Status != "checked_in" {
			t.Errorf("check-in = %d %s, want 200 checked_in", r.status, r.body)
		}
	})
	t.Run("steady session takes online and phone bookings while remote booking is open", func(t *testing.T) {
		var startsAt time.Time
		testenv.Must(t, svc.pool.QueryRow(ctx, "SELECT starts_at FROM clinic_sessions WHERE id = $1", steady).Scan(&startsAt), "read session")
		tok := accounts[rows[slices.IndexFunc(rows, func(p []string) bool { return p[1] == ids[0][0] })][2]].token
		if time.Until(startsAt) < time.Minute {
			// Late in the hospital's day loadseed starts the steady
			// sessions early: remote booking is closed, only the desk books.
			if r := book(tok, ids[0][0], steady); r.status != 422 || r.code != "session_closed" {
				t.Errorf("online booking of a running session = %d %s, want 422 session_closed", r.status, r.body)
			}
			return
		}
		r := book(tok, ids[0][0], steady)
		var b struct {
			ID     string `json:"booking_id"`
			Status string `json:"status"`
		}
		if r.status != 201 {
			t.Fatalf("online booking = %d %s, want 201", r.status, r.body)
		}
		r.decode(t, &b)
		r = svc.do("POST", "/v1/desk/checkins", staff.Clerk, with(person(ids[0]), "booking_id", b.ID))
		if r.decode(t, &b); r.status != 200 || b.Status != "checked_in" {
			t.Errorf("check-in = %d %s, want 200 checked_in", r.status, r.body)
		}
		r = svc.do("POST", "/v1/phone/bookings", staff.Operator, with(person(ids[1]), "session_id", steady, "caller_phone", "13700000001"))
		if r.status != 201 {
			t.Errorf("phone booking = %d %s, want 201", r.status, r.body)
		}
	})

	t.Run("runs again into the same database", func(t *testing.T) {
		hospitals := svc.count("SELECT count(*) FROM hospitals")
		seed := func() error {
			_, err := cmd("loadseed", "--out", filepath.Join(t.TempDir(), "again"), "--patients", "3", "--sessions", "1", "--slots", "2", "--seed", "4242")
			return err
		}
		testenv.Must(t, seed(), "second loadseed")
		if got, want := svc.count("SELECT count(*) FROM hospitals"), hospitals+1; got != want {
			t.Errorf("hospitals = %d, want %d: a fresh one", got, want)
		}
		// The same seed names the same people: refused, and nothing written.
		if err := seed(); err == nil || !strings.Contains(err.Error(), "--seed") {
			t.Errorf("loadseed with a used --seed = %v, want an error naming --seed", err)
		}
		if got, want := svc.count("SELECT count(*) FROM hospitals"), hospitals+1; got != want {
			t.Errorf("hospitals = %d after a refused run, want %d", got, want)
		}
		if got, want := svc.count("SELECT count(*) FROM patients"), 36+3; got != want {
			t.Errorf("patients = %d after a refused run, want %d", got, want)
		}
	})

	// Nothing logged an ID number or a name in clear.
	all := logs.String() + svc.logs.String() + summary
	for _, r := range ids {
		if strings.Contains(all, r[2]) || strings.Contains(all, r[3]) {
			t.Errorf("logs contain patient %s's ID number or name in clear", r[0])
		}
	}
}

// dayZone is a time zone for the seeded hospital where the day has a few
// minutes left: --steady makes sessions of today in the hospital's zone, and
// the test needs some of it. Asia/Shanghai, unless it is within 3 minutes of
// midnight there; then Asia/Tokyo, an hour ahead (no waiting for the day).
func dayZone(t *testing.T) string {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	testenv.Must(t, err, "load zone")
	now := time.Now().In(loc)
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 5, 0, loc)
	if midnight.Sub(now) < 3*time.Minute {
		return "Asia/Tokyo"
	}
	return "Asia/Shanghai"
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	testenv.Must(t, err, "open %s", path)
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	rows, err := r.ReadAll()
	testenv.Must(t, err, "read %s", path)
	if len(rows) == 0 {
		t.Fatalf("%s is empty", path)
	}
	return rows
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	testenv.Must(t, err, "read %s", path)
	testenv.Must(t, json.Unmarshal(b, v), "decode %s", path)
}

// TestSteadyWindow: today's sessions start an hour ahead while the day
// allows, else end at midnight (maybe running already), and are refused in
// the day's last minutes.
func TestSteadyWindow(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Shanghai")
	testenv.Must(t, err, "load zone")
	at := func(h, m int) time.Time { return time.Date(2026, 11, 23, h, m, 30, 0, loc) }
	for _, c := range []struct {
		name       string
		now        time.Time
		slots      int
		start, end time.Time
		fails      bool
	}{
		{"small hours", at(1, 20), 50, at(2, 20), at(8, 20), false},
		{"evening: until midnight", at(20, 0), 50, at(21, 0), at(24, 0), false},
		{"many slots need a longer session", at(20, 0), 200, at(24, 0).Add(-200 * time.Minute), at(24, 0), false},
		{"late: running already", at(23, 30), 5, at(23, 0), at(24, 0), false},
		{"last minute", at(23, 59), 5, time.Time{}, time.Time{}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			start, end, err := steadyWindow(c.now, loc, c.slots)
			if c.fails {
				if err == nil {
					t.Errorf("steadyWindow(%s) = %s–%s, want an error", c.now.Format("15:04"), start, end)
				}
				return
			}
			// at() carries 30 seconds; windows are whole minutes.
			wantStart, wantEnd := c.start.Truncate(time.Minute), c.end.Truncate(time.Minute)
			if err != nil || !start.Equal(wantStart) || !end.Equal(wantEnd) || start.In(loc).Format(time.DateOnly) != "2026-11-23" {
				t.Errorf("steadyWindow(%s) = %s–%s, %v; want %s–%s today", c.now.Format("15:04"), start, end, err, wantStart, wantEnd)
			}
		})
	}
}

func TestParseReleaseAt(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 500_000_000, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"+30s", time.Date(2026, 11, 22, 10, 0, 30, 0, time.UTC), true},
		{"-1m", time.Date(2026, 11, 22, 9, 59, 0, 0, time.UTC), true},
		{"2026-11-23T08:00:00+08:00", time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), true},
		{"30s", time.Time{}, false},
		{"+soon", time.Time{}, false},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := parseReleaseAt(c.in, now)
			if (err == nil) != c.ok || !got.Equal(c.want) {
				t.Errorf("parseReleaseAt(%q) = %s, %v; want %s (ok %v)", c.in, got, err, c.want, c.ok)
			}
		})
	}
}
