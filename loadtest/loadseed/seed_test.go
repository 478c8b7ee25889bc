package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/envflag"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// TestLoadSeed seeds a small population with loadseed, checks its files
// against SQL and Redis, then books, looks up and checks in with the seeded
// tokens and identities through a Service over the same database and Redis.
func TestLoadSeed(t *testing.T) {
	zone := morningZone(time.Now())
	ctx := context.Background()
	rdb, prefix := testenv.Redis(t)
	env, owner := seedEnv(t, prefix)
	logs := &testenv.LogBuffer{}
	cmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, args, func(k string) string { return env[k] }, time.Now, &out, logs)
		return out.String(), err
	}
	dir := filepath.Join(t.TempDir(), "out")
	summary, err := cmd("--out", dir, "--patients", "30", "--bots", "2", "--bot-patients", "3",
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

	// A Service over the seeded database and Redis keys, as serve wires it,
	// with its own connections and an empty catalog until it loads SQL's.
	svc := openService(t, env)
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		testenv.Must(t, owner.Pool().QueryRow(ctx, query, args...).Scan(&n), "count: %s", query)
		return n
	}

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
			{"selves as AddPatient writes them", "SELECT count(*) FROM patients WHERE is_self AND relationship = 'self'", nil, 32},
			{"birth years from the resident IDs", "SELECT count(*) FROM patients p JOIN identities i ON i.id = p.identity_id WHERE p.birth_year BETWEEN 1940 AND 2003 AND p.name_hash = i.name_hash", nil, 36},
			{"staff", "SELECT count(*) FROM accounts WHERE role IN ('clerk', 'operator')", nil, 20},
			{"hospital with default quotas", "SELECT count(*) FROM hospitals WHERE id = $1 AND name = 'Load-test hospital' AND per_day = 2 AND per_week = 8 AND per_month = 12", []any{sf.HospitalID}, 1},
			{"sessions", "SELECT count(*) FROM clinic_sessions WHERE hospital_id = $1 AND release_mode = 'first_come'", []any{sf.HospitalID}, 4},
			{"one session per doctor", "SELECT count(DISTINCT doctor_id) FROM clinic_sessions WHERE hospital_id = $1", []any{sf.HospitalID}, 4},
			{"slots", "SELECT count(*) FROM slots s JOIN clinic_sessions c ON c.id = s.session_id WHERE c.hospital_id = $1", []any{sf.HospitalID}, 20},
		} {
			if got := count(c.query, c.args...); got != c.want {
				t.Errorf("%s: got %d, want %d", c.name, got, c.want)
			}
		}
		master, err := identity.ParseKey(env["FAIRSLOT_SECRET_KEY"])
		testenv.Must(t, err, "parse key")
		keys, err := identity.NewKeyring(master)
		testenv.Must(t, err, "keyring")
		phone := regexp.MustCompile(`^1[3-9][0-9]{9}$`)
		prows, err := owner.Pool().Query(ctx, "SELECT phone_hash, phone_sealed, phone_masked FROM accounts")
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
			err := owner.Pool().QueryRow(ctx, `SELECT i.id_hash, i.number_sealed, i.number_masked, i.name_hash, i.name_sealed, i.name_masked
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
	actor := func(token string) booking.Actor {
		t.Helper()
		a, err := svc.Authenticate([]byte(token))
		testenv.Must(t, err, "authenticate a seeded token")
		return a
	}
	book := func(token, patientID, sessionID string) (booking.Booking, error) {
		return svc.Book(ctx, actor(token), booking.BookRequest{SessionID: sessionID, PatientID: patientID, Channel: booking.ChannelOnline})
	}
	t.Run("genuine patient books", func(t *testing.T) {
		a := accounts[genuine[0]]
		if _, err := book(a.token, a.patients[0], session); err != nil {
			t.Errorf("book = %v, want a booking", err)
		}
		other := accounts[genuine[1]].patients[0]
		if _, err := book(a.token, other, session); !errors.Is(err, booking.ErrPatientNotFound) {
			t.Errorf("book another account's patient = %v, want patient_not_found", err)
		}
	})
	t.Run("bot books for each of its patients", func(t *testing.T) {
		for _, id := range accountIDs {
			a := accounts[id]
			if a.kind != "bot" {
				continue
			}
			for _, p := range a.patients {
				if _, err := book(a.token, p, session); err != nil {
					t.Errorf("bot books for patient %s = %v, want a booking", p, err)
				}
			}
			break
		}
		if got, want := count("SELECT count(*) FROM bookings WHERE session_id = $1 AND status = 'confirmed'", session), 4; got != want {
			t.Errorf("session has %d bookings, want %d", got, want)
		}
	})

	steady := sf.SteadySessions[0].ID
	person := func(r []string) booking.IdentityRequest {
		return booking.IdentityRequest{IDType: r[1], IDNumber: r[2], Name: r[3]}
	}
	clerk, operator := actor(staff.Clerk), actor(staff.Operator)
	t.Run("desk looks up and checks in", func(t *testing.T) {
		l, err := svc.LookupIdentity(ctx, clerk, booking.DeskLookupRequest{IDType: ids[0][1], IDNumber: ids[0][2], Check: booking.CheckCardRead})
		testenv.Must(t, err, "lookup")
		if id, _ := identity.Parse(ids[0][1], ids[0][2]); l.Identity.NumberMasked != id.Masked() || l.Identity.NameMasked != identity.MaskName(ids[0][3]) {
			t.Errorf("lookup found %s %s, want the patient's masked ID and name", l.Identity.NumberMasked, l.Identity.NameMasked)
		}
		// A walk-in, then their check-in: the desk works all session long.
		b, err := svc.BookFor(ctx, clerk, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: person(ids[2]), SessionID: steady, Channel: booking.ChannelOnsite})
		testenv.Must(t, err, "walk-in")
		b, err = svc.CheckIn(ctx, clerk, booking.CheckInRequest{IdentityRequest: person(ids[2]), BookingID: b.ID})
		if err != nil || b.Status != booking.StatusCheckedIn {
			t.Errorf("check-in = %s, %v; want checked_in", b.Status, err)
		}
	})
	t.Run("steady session takes online and phone bookings before it starts", func(t *testing.T) {
		// morningZone makes it mid-morning at the hospital: today's
		// sessions start an hour from now, so remote booking is open.
		tok := accounts[rows[slices.IndexFunc(rows, func(p []string) bool { return p[1] == ids[0][0] })][2]].token
		b, err := book(tok, ids[0][0], steady)
		testenv.Must(t, err, "online booking")
		b, err = svc.CheckIn(ctx, clerk, booking.CheckInRequest{IdentityRequest: person(ids[0]), BookingID: b.ID})
		if err != nil || b.Status != booking.StatusCheckedIn {
			t.Errorf("check-in = %s, %v; want checked_in", b.Status, err)
		}
		_, err = svc.BookFor(ctx, operator, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: person(ids[1]), SessionID: steady,
			Channel: booking.ChannelPhone, CallerPhone: "13700000001"})
		if err != nil {
			t.Errorf("phone booking = %v, want a booking", err)
		}
	})

	t.Run("runs again into the same database", func(t *testing.T) {
		hospitals := count("SELECT count(*) FROM hospitals")
		seed := func() error {
			_, err := cmd("--out", filepath.Join(t.TempDir(), "again"), "--patients", "3", "--sessions", "1", "--slots", "2", "--seed", "4242")
			return err
		}
		testenv.Must(t, seed(), "second loadseed")
		if got, want := count("SELECT count(*) FROM hospitals"), hospitals+1; got != want {
			t.Errorf("hospitals = %d, want %d: a fresh one", got, want)
		}
		// The same seed names the same people: refused, and nothing written.
		if err := seed(); err == nil || !strings.Contains(err.Error(), "--seed") {
			t.Errorf("loadseed with a used --seed = %v, want an error naming --seed", err)
		}
		if got, want := count("SELECT count(*) FROM hospitals"), hospitals+1; got != want {
			t.Errorf("hospitals = %d after a refused run, want %d", got, want)
		}
		if got, want := count("SELECT count(*) FROM patients"), 36+3; got != want {
			t.Errorf("patients = %d after a refused run, want %d", got, want)
		}
	})

	// Nothing logged an ID number or a name in clear.
	all := logs.String() + summary
	for _, r := range ids {
		if strings.Contains(all, r[2]) || strings.Contains(all, r[3]) {
			t.Errorf("logs contain patient %s's ID number or name in clear", r[0])
		}
	}
}

// morningZone names a time zone where it is mid-morning at now (10:00 to
// 10:59): --steady makes sessions of today in the hospital's zone, starting
// an hour on, and the test books them remotely before they start. Etc/GMT-N
// is UTC+N; N runs from -12 to +14, so every hour of UTC has one.
func morningZone(now time.Time) string {
	n := 10 - now.UTC().Hour()
	if n < -12 {
		n += 24
	}
	return fmt.Sprintf("Etc/GMT%+d", -n)
}

// seedEnv is the service's configuration for a database and Redis prefix
// of the test's own, as the load tests give it: the tables' owner migrated
// the database and granted the service's login. It returns the owner's
// connection for the test's own reads.
func seedEnv(t *testing.T, prefix string) (map[string]string, *cockroach.DB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ownerURL := testenv.DatabaseURL(t)
	owner, err := cockroach.Open(ctx, ownerURL, nil)
	testenv.Must(t, err, "open the test database")
	t.Cleanup(owner.Close)
	_, err = owner.Migrate(ctx)
	testenv.Must(t, err, "migrate")
	testenv.GrantService(t, owner, ownerURL)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return map[string]string{
		"FAIRSLOT_MIGRATE_DATABASE_URL": ownerURL,
		"FAIRSLOT_DATABASE_URL":         testenv.ServiceURL(t, ownerURL),
		"FAIRSLOT_REDIS_ADDR":           os.Getenv(testenv.RedisAddrEnv),
		"FAIRSLOT_REDIS_PASSWORD":       testenv.RedisPassword(),
		"FAIRSLOT_REDIS_PREFIX":         prefix,
		"FAIRSLOT_SECRET_KEY":           base64.StdEncoding.EncodeToString(key),
		"FAIRSLOT_PASSWORD_ITERATIONS":  "1000",
	}, owner
}

// openService is a Service on env's database, Redis and key, its catalog
// loaded from SQL.
func openService(t *testing.T, vars map[string]string) *booking.Service {
	t.Helper()
	var cn conn
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	cn.register(fs, envflag.New(func(k string) string { return vars[k] }))
	testenv.Must(t, fs.Parse(nil), "parse")
	cn.ownerURL = ""
	d, err := cn.open(context.Background(), time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	testenv.Must(t, err, "open the service")
	t.Cleanup(d.Close)
	_, err = d.svc.LoadCatalog(context.Background())
	testenv.Must(t, err, "load the catalog")
	return d.svc
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

// TestScheduleOnItsClock lays out a hospital on a clock stopped ten minutes
// before midnight in Shanghai, with no services and no waiting: the release
// sessions are three days after the release, at 08:00 there; today's
// sessions end at midnight and have started already (only the desk books
// them); everything reads the given clock, none the wall clock.
func TestScheduleOnItsClock(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	testenv.Must(t, err, "load zone")
	now := time.Date(2026, 11, 23, 23, 50, 0, 0, shanghai)
	c := config{out: t.TempDir(), patients: 1, botPatients: 1, sessions: 2, slots: 5, steady: true, tokenTTL: time.Hour,
		releaseAt: "-1m", timeZone: "Asia/Shanghai", now: func() time.Time { return now }}
	testenv.Must(t, c.check(), "check")
	if want := now.Add(-time.Minute); !c.release.Equal(want) {
		t.Errorf("release = %s, want %s: a minute before the given clock", c.release, want)
	}
	sch, out, err := c.schedule(c.now(), c.loc)
	testenv.Must(t, err, "schedule")
	if got := sch.Hospitals[0].TimeZone; got != "Asia/Shanghai" {
		t.Errorf("hospital zone = %q, want Asia/Shanghai", got)
	}
	if len(out.release) != 2 || len(out.steady) != 2 {
		t.Fatalf("%d release and %d steady sessions, want 2 and 2", len(out.release), len(out.steady))
	}
	wantDay := time.Date(2026, 11, 26, 8, 0, 0, 0, shanghai)
	for _, s := range out.release {
		if !s.StartsAt.Equal(wantDay) || s.VisitDate != "2026-11-26" || !s.Channels[0].ReleaseAt.Equal(c.release) {
			t.Errorf("release session starts %s on %s, released %s; want %s, released %s",
				s.StartsAt, s.VisitDate, s.Channels[0].ReleaseAt, wantDay, c.release)
		}
	}
	start, midnight := time.Date(2026, 11, 23, 23, 0, 0, 0, shanghai), time.Date(2026, 11, 24, 0, 0, 0, 0, shanghai)
	for _, s := range out.steady {
		if !s.StartsAt.Equal(start) || !s.EndsAt.Equal(midnight) || s.VisitDate != "2026-11-23" {
			t.Errorf("steady session %s–%s on %s, want %s–%s on 2026-11-23", s.StartsAt, s.EndsAt, s.VisitDate, start, midnight)
		}
		for _, q := range s.Channels {
			if want := now.Add(-time.Hour); !q.ReleaseAt.Equal(want) {
				t.Errorf("steady %s pool released %s, want an hour before the clock (%s)", q.Channel, q.ReleaseAt, want)
			}
		}
	}
	c.now = func() time.Time { return now.Add(9 * time.Minute) } // 23:59: too late for today
	testenv.Must(t, c.check(), "check")
	if _, _, err := c.schedule(c.now(), c.loc); err == nil || !strings.Contains(err.Error(), "after midnight") {
		t.Errorf("schedule at 23:59 = %v, want the error that says to run it after midnight", err)
	}
}
