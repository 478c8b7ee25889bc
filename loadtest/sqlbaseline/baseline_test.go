package main

import (
	"bufio"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"fairslot/internal/admission"
	"fairslot/internal/auth"
	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/httpapi"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// fixture is a migrated database of the test's own with one hospital, and
// the master key the baseline is started with.
type fixture struct {
	url        string
	db         *cockroach.DB
	secret     string
	keys       *identity.Keyring
	signer     *auth.Signer
	hospitalID string
	zone       *time.Location
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	f := &fixture{url: testenv.DatabaseURL(t), hospitalID: booking.NewID()}
	var err error
	f.db, err = cockroach.Open(ctx, f.url, nil)
	testenv.Must(t, err, "open test database")
	t.Cleanup(f.db.Close)
	_, err = f.db.Migrate(ctx)
	testenv.Must(t, err, "migrate")
	master := make([]byte, identity.KeySize)
	_, _ = crand.Read(master)
	f.secret = hex.EncodeToString(master)
	f.keys, err = identity.NewKeyring(master)
	testenv.Must(t, err, "keyring")
	f.signer = auth.NewSigner(f.keys.TokenKey(), 12*time.Hour)
	f.zone, err = time.LoadLocation("Asia/Shanghai")
	testenv.Must(t, err, "load zone")
	f.exec(t, `INSERT INTO hospitals (id, name, time_zone) VALUES ($1, 'Baseline Hospital', 'Asia/Shanghai')`, f.hospitalID)
	return f
}

func (f *fixture) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	_, err := f.db.Pool().Exec(t.Context(), sql, args...)
	testenv.Must(t, err, "exec %.60q", sql)
}

// sessionSpec describes a session to create; the zero value of each field
// is the usual case.
type sessionSpec struct {
	department string              // an existing department; "": a new one
	period     string              // "": morning
	online     int                 // online slots 1..online; 0: no online pool
	phone      int                 // phone slots after them
	release    time.Time           // of both pools; zero: a minute ago
	startsIn   time.Duration       // from now; 0: tomorrow 08:00 local
	mode       booking.ReleaseMode // "": first come
}

type sessionFx struct {
	id, department, visitDate string
}

// session creates a session with its own doctor, 7-minute slots.
func (f *fixture) session(t *testing.T, sp sessionSpec) sessionFx {
	t.Helper()
	if sp.department == "" {
		sp.department = booking.NewID()
		f.exec(t, `INSERT INTO departments (id, hospital_id, name) VALUES ($1, $2, $3)`, sp.department, f.hospitalID, "Dept "+sp.department[:8])
	}
	doctor := booking.NewID()
	f.exec(t, `INSERT INTO doctors (id, hospital_id, department_id, name) VALUES ($1, $2, $3, 'Dr')`, doctor, f.hospitalID, sp.department)
	now := time.Now().In(f.zone)
	starts := time.Date(now.Year(), now.Month(), now.Day()+1, 8, 0, 0, 0, f.zone)
	if sp.startsIn != 0 {
		starts = now.Add(sp.startsIn).Truncate(time.Second)
	}
	if sp.release.IsZero() {
		sp.release = now.Add(-time.Minute)
	}
	if sp.period == "" {
		sp.period = "morning"
	}
	if sp.mode == "" {
		sp.mode = booking.FirstCome
	}
	s := sessionFx{id: booking.NewID(), department: sp.department, visitDate: starts.Format(time.DateOnly)}
	f.exec(t, `INSERT INTO clinic_sessions (id, hospital_id, department_id, doctor_id, visit_date, period, starts_at, ends_at, release_mode)
	           VALUES ($1, $2, $3, $4, $5::DATE, $6, $7, $8, $9)`,
		s.id, f.hospitalID, sp.department, doctor, s.visitDate, sp.period, starts, starts.Add(4*time.Hour), string(sp.mode))
	slot := 0
	for _, pool := range []struct {
		ch booking.Channel
		n  int
	}{{booking.ChannelOnline, sp.online}, {booking.ChannelPhone, sp.phone}} {
		if pool.n == 0 {
			continue
		}
		f.exec(t, `INSERT INTO session_channels (session_id, channel, quota, release_at) VALUES ($1, $2, $3, $4)`,
			s.id, string(pool.ch), pool.n, sp.release)
		for range pool.n {
			slot++
			at := starts.Add(time.Duration(slot-1) * 7 * time.Minute)
			f.exec(t, `INSERT INTO slots (session_id, slot_no, channel, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5)`,
				s.id, slot, string(pool.ch), at, at.Add(7*time.Minute))
		}
	}
	return s
}

// person is a patient account whose one patient is its holder.
type person struct {
	account, patient, identity, token string
}

// people creates n accounts, each with one person on its list, directly in
// SQL (the hashes and sealed columns only need to be unique and present).
func (f *fixture) people(t *testing.T, n int) []person {
	t.Helper()
	out := make([]person, n)
	b := &pgx.Batch{}
	random := func() []byte {
		p := make([]byte, 32)
		_, _ = crand.Read(p)
		return p
	}
	for i := range out {
		p := person{account: booking.NewID(), patient: booking.NewID(), identity: booking.NewID()}
		p.token, _ = f.signer.Mint(p.account, string(booking.RolePatient), time.Now())
		out[i] = p
		b.Queue(`INSERT INTO accounts (id, role, phone_hash, phone_sealed, phone_masked, password_hash) VALUES ($1, 'patient', $2, $3, '138****0000', 'x')`,
			p.account, random(), random())
		b.Queue(`INSERT INTO identities (id, id_type, id_hash, number_sealed, number_masked, name_hash, name_sealed, name_masked)
		         VALUES ($1, 'resident_id', $2, $3, '110***********0000', $4, $5, '张*')`,
			p.identity, random(), random(), random(), random())
		b.Queue(`INSERT INTO patients (id, account_id, identity_id, is_self) VALUES ($1, $2, $3, true)`, p.patient, p.account, p.identity)
	}
	testenv.Must(t, f.db.Pool().SendBatch(t.Context(), b).Close(), "insert people")
	return out
}

// start runs the real run() on port 0 with the fixture's database and key
// (through the FAIRSLOT_* environment) and extra flags, and returns its base
// URL. It must stop cleanly when the test ends.
func (f *fixture) start(t *testing.T, args ...string) string {
	t.Helper()
	env := map[string]string{"FAIRSLOT_DATABASE_URL": f.url, "FAIRSLOT_SECRET_KEY": f.secret}
	logs := &testenv.LogBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		// A request may wait for the row lock behind the whole stampede:
		// on a busy machine that exceeds the benchmark's 5 s, and these
		// tests prove the answers, not the speed.
		err := run(ctx, append([]string{"--http-addr", "127.0.0.1:0", "--request-timeout", "2m"}, args...), func(k string) string { return env[k] }, pw, logs)
		pw.Close()
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("read start line: %v (run: %v)\n%s", err, <-done, logs)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "sqlbaseline: ")
	if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") {
		cancel()
		t.Fatalf("start line = %q, want %q", line, "sqlbaseline: http://127.0.0.1:PORT")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run after SIGINT: %v, want nil", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("run did not stop")
		}
		if t.Failed() {
			t.Logf("sqlbaseline log:\n%s", logs)
		}
	})
	return base
}

// answer is what a client reads from POST /v1/bookings.
type answer struct {
	status    int
	code      string
	bookingID string
	slotNo    int
	raw       string
}

func post(t *testing.T, client *http.Client, base, token, body string) answer {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/v1/bookings", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Errorf("POST /v1/bookings: %v", err)
		return answer{}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
		BookingID string `json:"booking_id"`
		SlotNo    int    `json:"slot_no"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Errorf("answer %d is not JSON: %q", resp.StatusCode, raw)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	return answer{status: resp.StatusCode, code: out.Error.Code, bookingID: out.BookingID, slotNo: out.SlotNo, raw: string(raw)}
}

func bookBody(session, patient string) string {
	return fmt.Sprintf(`{"session_id":%q,"patient_id":%q,"channel":"online"}`, session, patient)
}

func newClient(conns int) *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns},
	}
}

// TestStampede proves no oversell and no double booking: 200 people, each
// trying twice at once, on a pool of 20 online slots (with 5 phone slots
// beside it that must not be handed out), from 200 goroutines.
func TestStampede(t *testing.T) {
	f := newFixture(t)
	people := f.people(t, 200)
	modes := []struct {
		name string
		args []string
		// exact: every attempt is answered 201, sold_out or already_booked.
		// SERIALIZABLE may also give up after its retries (503).
		exact bool
	}{
		{"read committed", nil, true},
		{"read committed without pre-check", []string{"--sold-out-precheck=false"}, true},
		{"serializable", []string{"--isolation", "serializable"}, false},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			base := f.start(t, m.args...)
			// A department of its own: the same people book again.
			sess := f.session(t, sessionSpec{online: 20, phone: 5})
			jobs := make([]int, 0, 2*len(people))
			for i := range people {
				jobs = append(jobs, i, i)
			}
			rand.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
			queue := make(chan int, len(jobs))
			for _, j := range jobs {
				queue <- j
			}
			close(queue)

			type result struct {
				who int
				answer
			}
			var (
				mu      sync.Mutex
				results []result
				wg      sync.WaitGroup
				ready   = make(chan struct{})
				client  = newClient(len(people))
			)
			began := time.Now()
			for range len(people) {
				wg.Go(func() {
					<-ready
					for who := range queue {
						a := post(t, client, base, people[who].token, bookBody(sess.id, people[who].patient))
						mu.Lock()
						results = append(results, result{who, a})
						mu.Unlock()
					}
				})
			}
			close(ready)
			wg.Wait()
			elapsed := time.Since(began)

			counts := map[string]int{}
			byID := map[string]int{} // booking id → slot
			slots := map[int]bool{}
			bookedBy := map[int]bool{}
			for _, r := range results {
				key := fmt.Sprintf("%d %s", r.status, r.code)
				counts[key]++
				switch {
				case r.status == http.StatusCreated:
					if _, dup := byID[r.bookingID]; dup || r.bookingID == "" {
						t.Errorf("booking id %q answered twice or empty", r.bookingID)
					}
					byID[r.bookingID] = r.slotNo
					if slots[r.slotNo] || r.slotNo < 1 || r.slotNo > 20 {
						t.Errorf("slot %d answered twice or not an online slot", r.slotNo)
					}
					slots[r.slotNo] = true
					if bookedBy[r.who] {
						t.Errorf("person %d got two bookings", r.who)
					}
					bookedBy[r.who] = true
				case r.status == http.StatusConflict && (r.code == "sold_out" || r.code == "already_booked"):
				case !m.exact && r.status == http.StatusServiceUnavailable && r.code == "unavailable":
				default:
					t.Errorf("unexpected answer %d: %s", r.status, r.raw)
				}
			}
			t.Logf("%d attempts in %v: %v", len(results), elapsed.Round(time.Millisecond), counts)
			if got := len(results); got != len(jobs) {
				t.Errorf("answers = %d, want %d", got, len(jobs))
			}
			if got := len(byID); m.exact && got != 20 || got > 20 || got == 0 {
				t.Errorf("201s = %d, want 20 (exact: %v)", got, m.exact)
			}
			// already_booked only for someone who did book.
			for _, r := range results {
				if r.code == "already_booked" && !bookedBy[r.who] {
					t.Errorf("person %d answered already_booked without a booking", r.who)
				}
			}

			// SQL agrees with the answers, and holds no double booking.
			rows, _ := f.db.Pool().Query(t.Context(),
				`SELECT id::TEXT, slot_no, identity_id::TEXT, patient_id::TEXT, channel, status FROM bookings WHERE session_id = $1`, sess.id)
			type row struct {
				ID, Identity, Patient, Channel, Status string
				Slot                                   int
			}
			got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
				var x row
				return x, r.Scan(&x.ID, &x.Slot, &x.Identity, &x.Patient, &x.Channel, &x.Status)
			})
			testenv.Must(t, err, "read bookings")
			if len(got) != len(byID) {
				t.Errorf("bookings in SQL = %d, 201 answers = %d", len(got), len(byID))
			}
			sqlSlots, sqlIdentities := map[int]bool{}, map[string]bool{}
			patientIdentity := map[string]string{}
			for _, p := range people {
				patientIdentity[p.patient] = p.identity
			}
			for _, r := range got {
				if sqlSlots[r.Slot] {
					t.Errorf("slot %d booked twice in SQL", r.Slot)
				}
				sqlSlots[r.Slot] = true
				if sqlIdentities[r.Identity] {
					t.Errorf("identity %s booked twice in SQL", r.Identity)
				}
				sqlIdentities[r.Identity] = true
				if slot, ok := byID[r.ID]; !ok || slot != r.Slot {
					t.Errorf("SQL booking %s (slot %d) was answered as slot %d (answered: %v)", r.ID, r.Slot, slot, ok)
				}
				if r.Status != "confirmed" || r.Channel != "online" || patientIdentity[r.Patient] != r.Identity {
					t.Errorf("SQL booking %s: status %s, channel %s, patient %s of identity %s", r.ID, r.Status, r.Channel, r.Patient, r.Identity)
				}
			}
			ids := make([]string, 0, len(byID))
			for id := range byID {
				ids = append(ids, id)
			}
			var events int
			err = f.db.Pool().QueryRow(t.Context(),
				`SELECT count(*) FROM booking_events WHERE type = 'booked' AND session_id = $1 AND booking_id = ANY ($2::UUID[]) AND identity_id IS NOT NULL`,
				sess.id, ids).Scan(&events)
			testenv.Must(t, err, "count events")
			if events != len(byID) {
				t.Errorf("booked events = %d, want %d", events, len(byID))
			}
		})
	}
}

// TestContract checks the answers other than a stampede's, in fairslot's
// shapes and codes; the cases run in order.
func TestContract(t *testing.T) {
	f := newFixture(t)
	base := f.start(t)
	client := newClient(4)
	people := f.people(t, 3)
	me, other := people[0], people[1]

	open := f.session(t, sessionSpec{online: 3, phone: 1})
	sameDayDept := f.session(t, sessionSpec{department: open.department, period: "afternoon", online: 3})
	notReleased := f.session(t, sessionSpec{online: 3, release: time.Now().Add(time.Hour)})
	started := f.session(t, sessionSpec{online: 3, startsIn: -time.Hour})
	lottery := f.session(t, sessionSpec{online: 3, mode: booking.Lottery})
	phoneOnly := f.session(t, sessionSpec{phone: 3})
	soldOut := f.session(t, sessionSpec{online: 1})

	now := time.Now()
	clerk, _ := f.signer.Mint(booking.NewID(), string(booking.RoleClerk), now)
	expired, _ := f.signer.Mint(me.account, string(booking.RolePatient), now.Add(-13*time.Hour))
	otherKey := make([]byte, 32)
	_, _ = crand.Read(otherKey)
	forged, _ := auth.NewSigner(otherKey, time.Hour).Mint(me.account, string(booking.RolePatient), now)

	tests := []struct {
		name, token, body string
		status            int
		code              string
	}{
		{"no token", "", bookBody(open.id, me.patient), 401, "unauthenticated"},
		{"garbage token", "not-a-token", bookBody(open.id, me.patient), 401, "invalid_token"},
		{"token of another key", forged, bookBody(open.id, me.patient), 401, "invalid_token"},
		{"expired token", expired, bookBody(open.id, me.patient), 401, "token_expired"},
		{"empty body", me.token, "", 400, "invalid_json"},
		{"not JSON", me.token, "{", 400, "invalid_json"},
		{"two values", me.token, bookBody(open.id, me.patient) + "{}", 400, "invalid_json"},
		{"unknown field", me.token, `{"session_id":"a","patient_id":"b","slot":1}`, 400, "invalid_field"},
		{"wrong type", me.token, `{"session_id":1,"patient_id":"b"}`, 400, "invalid_field"},
		{"no patient", me.token, fmt.Sprintf(`{"session_id":%q}`, open.id), 400, "invalid_field"},
		{"unknown channel", me.token, fmt.Sprintf(`{"session_id":%q,"patient_id":%q,"channel":"fax"}`, open.id, me.patient), 400, "invalid_channel"},
		{"phone channel", me.token, fmt.Sprintf(`{"session_id":%q,"patient_id":%q,"channel":"phone"}`, phoneOnly.id, me.patient), 403, "channel_forbidden"},
		{"clerk", clerk, bookBody(open.id, me.patient), 403, "channel_forbidden"},
		{"unknown session", me.token, bookBody(booking.NewID(), me.patient), 404, "session_not_found"},
		{"malformed session id", me.token, bookBody("nope", me.patient), 404, "session_not_found"},
		{"session started", me.token, bookBody(started.id, me.patient), 422, "session_closed"},
		{"lottery session", me.token, bookBody(lottery.id, me.patient), 422, "lottery_release"},
		{"another account's patient", me.token, bookBody(open.id, other.patient), 404, "patient_not_found"},
		{"unknown patient", me.token, bookBody(open.id, booking.NewID()), 404, "patient_not_found"},
		{"no online pool", me.token, bookBody(phoneOnly.id, me.patient), 422, "channel_closed"},
		{"not released", me.token, bookBody(notReleased.id, me.patient), 422, "not_released"},
		{"books", me.token, bookBody(open.id, me.patient), 201, ""},
		{"again", me.token, bookBody(open.id, me.patient), 409, "already_booked"},
		{"same day and department", me.token, bookBody(sameDayDept.id, me.patient), 422, "quota_day_department"},
		{"last slot", other.token, bookBody(soldOut.id, other.patient), 201, ""},
		{"sold out", people[2].token, bookBody(soldOut.id, people[2].patient), 409, "sold_out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := post(t, client, base, tc.token, tc.body)
			if a.status != tc.status || a.code != tc.code {
				t.Errorf("got %d %q, want %d %q: %s", a.status, a.code, tc.status, tc.code, a.raw)
			}
		})
	}

	t.Run("booking answer", func(t *testing.T) {
		var b httpapi.BookingOut
		err := f.db.Pool().QueryRow(t.Context(), `SELECT id::TEXT, slot_no FROM bookings WHERE session_id = $1`, open.id).Scan(&b.ID, &b.SlotNo)
		testenv.Must(t, err, "read booking")
		a := post(t, client, base, people[2].token, bookBody(open.id, people[2].patient))
		var got httpapi.BookingOut
		if err := json.Unmarshal([]byte(a.raw), &got); err != nil || a.status != 201 {
			t.Fatalf("got %d %s (%v), want 201", a.status, a.raw, err)
		}
		if got.SlotNo != b.SlotNo+1 || got.SessionID != open.id || got.PatientID != people[2].patient ||
			got.HospitalID != f.hospitalID || got.DepartmentID != open.department || got.VisitDate != open.visitDate ||
			got.Channel != "online" || got.Status != "confirmed" ||
			!strings.HasSuffix(got.SlotStart, "+08:00") || !strings.HasSuffix(got.CreatedAt, "+08:00") {
			t.Errorf("answer = %+v, want the next slot after %d of session %s, times in +08:00", got, b.SlotNo, open.id)
		}
	})

	routes := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"other route", "POST", "/v1/patients", 404, "route_not_found"},
		{"other method", "GET", "/v1/bookings", 405, "method_not_allowed"},
	}
	for _, tc := range routes {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, nil)
			req.Header.Set("Authorization", "Bearer "+me.token)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out struct{ Error struct{ Code string } }
			_ = json.NewDecoder(resp.Body).Decode(&out)
			if resp.StatusCode != tc.status || out.Error.Code != tc.code {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, out.Error.Code, tc.status, tc.code)
			}
		})
	}
}

// TestFairslotTokens books with a token and a patient made by fairslot's
// own Service (Login, AddPatient) over the same database and master key.
func TestFairslotTokens(t *testing.T) {
	f := newFixture(t)
	base := f.start(t)
	ctx := t.Context()
	rdb, prefix := testenv.Redis(t)
	gate := admission.New(rdb, prefix, prometheus.NewRegistry())
	testenv.Must(t, gate.Preload(ctx), "preload scripts")
	svc, err := booking.NewService(booking.Config{PasswordIterations: 1000}, cockroach.NewStore(f.db), gate, f.keys,
		slog.New(slog.DiscardHandler))
	testenv.Must(t, err, "new service")

	const phone, password = "13800138000", "correct horse battery"
	_, err = svc.CreateAccount(ctx, phone, password, "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{})
	testenv.Must(t, err, "create account")
	tok, err := svc.Login(ctx, phone, password, booking.Origin{})
	testenv.Must(t, err, "login")
	actor, err := svc.Authenticate([]byte(tok.Token))
	testenv.Must(t, err, "authenticate")
	first17 := "11010519800101123"
	p, err := svc.AddPatient(ctx, actor, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: "resident_id",
		IDNumber: first17 + string(identity.CheckDigit(first17)), Name: "张三", IsSelf: true}, booking.Origin{})
	testenv.Must(t, err, "add patient")

	sess := f.session(t, sessionSpec{online: 2})
	a := post(t, newClient(1), base, tok.Token, bookBody(sess.id, p.ID))
	if a.status != 201 || a.slotNo != 1 {
		t.Errorf("got %d %s, want 201 with slot 1", a.status, a.raw)
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no secret key", nil, nil, "--secret-key"},
		{"bad secret key", []string{"--secret-key", "short"}, nil, "--secret-key"},
		{"unknown isolation", []string{"--isolation", "snapshot"}, map[string]string{"FAIRSLOT_SECRET_KEY": strings.Repeat("ab", 32)}, "--isolation"},
		{"no request timeout", []string{"--request-timeout", "0s"}, map[string]string{"FAIRSLOT_SECRET_KEY": strings.Repeat("ab", 32)}, "--request-timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := run(t.Context(), tc.args, func(k string) string { return tc.env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}
