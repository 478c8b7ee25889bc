// Command faults is fairslot's fault suite: it runs the real service
// binary against a private redis-server and PostgreSQL (through TCP proxies
// it controls), sends a recorded mix of bookings, cancellations, waitlist
// joins, phone and desk bookings, injects one fault mid-burst, and then
// checks SQL and Redis directly: every 201 is in SQL, no slot twice, no
// identity twice or over a quota, Redis equal to SQL after recovery, and
// how long until bookings succeed again. `make test-faults` runs the whole
// table (docs/reliability.md); a bounded subset runs in `make test`
// (faults_test.go).
//
//	go run ./loadtest/faults [-only NAME] [-attempts 1200] [-rate 50] [-out DIR]
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// Config says where the suite runs.
type Config struct {
	Root string // the module's root folder (to build cmd/fairslot)
	Dir  string // work folder: binary, server data, logs, histories
	// Ports of the private servers, their proxies and the service
	// instances: PGPort, PGPort+1 (proxy); RedisPort, RedisPort+1 (proxy);
	// HTTPPort, HTTPPort+1 (two instances).
	PGPort, RedisPort, HTTPPort int
	// AdminURL, when set, is a PostgreSQL (its postgres database) to use
	// instead of a private one; faults that stop PostgreSQL then refuse.
	AdminURL string
	Attempts int     // booking attempts per fault (1200)
	Rate     float64 // operations per second (50)
	Patients int     // accounts, each with one patient (120)
	Log      io.Writer
}

// Suite is the private servers and the service binary, shared by the runs
// of one table.
type Suite struct {
	cfg      Config
	bin      string
	redis    *Redis
	pg       *Postgres
	rproxy   *Proxy
	pproxy   *Proxy
	adminURL string
	secret   string
	runs     int
	dbs      []string // databases made on a shared server, dropped by Close
}

// NewSuite builds the binary and starts the servers and proxies.
func NewSuite(ctx context.Context, cfg Config) (*Suite, error) {
	if cfg.Attempts == 0 {
		cfg.Attempts = 1200
	}
	if cfg.Rate == 0 {
		cfg.Rate = 50
	}
	if cfg.Patients == 0 {
		cfg.Patients = 120
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	s := &Suite{cfg: cfg}
	for _, p := range []int{cfg.PGPort, cfg.PGPort + 1, cfg.RedisPort, cfg.RedisPort + 1, cfg.HTTPPort, cfg.HTTPPort + 1} {
		if p != cfg.PGPort && p != cfg.PGPort+1 || cfg.AdminURL == "" {
			if !freeTCP(p) {
				return nil, fmt.Errorf("port %d is in use: another fault run? (ports: Config)", p)
			}
		}
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s.secret = base64.StdEncoding.EncodeToString(key)
	s.logf("building cmd/fairslot")
	var err error
	if s.bin, err = Build(ctx, cfg.Root, cfg.Dir); err != nil {
		return nil, err
	}
	s.logf("starting redis-server on %d", cfg.RedisPort)
	if s.redis, err = StartRedis(ctx, cfg.Dir, cfg.RedisPort); err != nil {
		return nil, err
	}
	pgAddr := ""
	if cfg.AdminURL != "" {
		s.adminURL = cfg.AdminURL
		u, err := url.Parse(cfg.AdminURL)
		if err != nil {
			s.Close()
			return nil, err
		}
		pgAddr = u.Host
	} else {
		s.logf("starting PostgreSQL on %d", cfg.PGPort)
		if s.pg, err = StartPostgres(ctx, cfg.Dir, cfg.PGPort); err != nil {
			s.Close()
			return nil, err
		}
		s.adminURL = s.pg.URL("postgres")
		pgAddr = "127.0.0.1:" + strconv.Itoa(cfg.PGPort)
	}
	if s.rproxy, err = NewProxy("127.0.0.1:"+strconv.Itoa(cfg.RedisPort+1), s.redis.Addr()); err != nil {
		s.Close()
		return nil, err
	}
	if s.pproxy, err = NewProxy("127.0.0.1:"+strconv.Itoa(cfg.PGPort+1), pgAddr); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close stops everything the suite started.
func (s *Suite) Close() {
	for _, c := range []io.Closer{s.rproxy, s.pproxy} {
		if c != nil && c != (*Proxy)(nil) {
			_ = c.Close()
		}
	}
	if s.redis != nil {
		s.redis.Kill()
	}
	if s.pg != nil {
		s.pg.Stop()
	}
	for _, name := range s.dbs {
		_ = dropDatabase(context.Background(), s.adminURL, name)
	}
}

func (s *Suite) logf(format string, args ...any) {
	fmt.Fprintf(s.cfg.Log, "faults: "+format+"\n", args...)
}

// Row is one line of the fault table.
type Row struct {
	Fault     string   `json:"fault"`
	Attempts  int      `json:"attempts"`
	Requests  int      `json:"requests"`
	Confirmed int      `json:"confirmed"`
	Lost      int      `json:"lost"`
	Oversold  int      `json:"oversold"`
	Double    int      `json:"double"`
	Drift     int      `json:"drift"`
	NotFound  int      `json:"not_found"` // booking answers 404: never wanted
	Unknown   int      `json:"unknown"`   // operations given up on with the outcome unknown
	Promoted  int      `json:"promoted"`  // bookings from waitlist hand-overs
	FaultFor  float64  `json:"fault_seconds"`
	Recovery  float64  `json:"recovery_seconds"` // -1: no booking succeeded after the fault
	Answers   []string `json:"answers"`
	// Outage counts the booking answers to requests sent from the fault's
	// end (its cause removed: Redis restarted, a path resumed) until the
	// first 201, by "status code". (A request sent just before the cause
	// was removed may have been admitted before the fault.)
	Outage   map[string]int `json:"outage_answers"`
	Problems []string       `json:"problems,omitempty"`
}

// OK reports a clean row: nothing lost, oversold, double, drifted or 404.
func (r Row) OK() bool {
	return r.Lost == 0 && r.Oversold == 0 && r.Double == 0 && r.Drift == 0 && r.NotFound == 0 && r.Recovery >= 0
}

// Fault is one row's fault.
type Fault struct {
	Name      string
	Instances int  // service instances (1 or 2)
	Postgres  bool // stops PostgreSQL itself: needs the private one
	// Inject imposes the fault and removes its cause; it returns when the
	// cause was removed (a restart issued, a path resumed).
	Inject func(ctx context.Context, r *Run) error
}

// Run is one fault's run in progress.
type Run struct {
	s         *Suite
	Instances []*Instance
	mu        sync.Mutex
	alive     []string
	endedAt   time.Time
}

// Redis is the suite's private redis-server.
func (r *Run) Redis() *Redis { return r.s.redis }

// Postgres is the suite's private PostgreSQL.
func (r *Run) Postgres() *Postgres { return r.s.pg }

// RedisPath and SQLPath are the proxies the service reaches them through.
func (r *Run) RedisPath() *Proxy { return r.s.rproxy }
func (r *Run) SQLPath() *Proxy   { return r.s.pproxy }

// Ended records that the fault's cause is removed now.
func (r *Run) Ended() {
	r.mu.Lock()
	r.endedAt = time.Now()
	r.mu.Unlock()
}

func (r *Run) urls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.alive
}

// Run runs one fault: a fresh database and an empty Redis, the service,
// the people, the load with the fault injected at 30% of it, then the
// checks once every pending hold has settled.
func (s *Suite) Run(ctx context.Context, f Fault) (Row, error) {
	row := Row{Fault: f.Name, Recovery: -1}
	if f.Postgres && s.pg == nil {
		return row, fmt.Errorf("%s stops PostgreSQL: it needs the suite's private one", f.Name)
	}
	s.runs++
	s.rproxy.Resume()
	s.pproxy.Resume()
	direct := redis.NewClient(&redis.Options{Addr: s.redis.Addr()})
	defer direct.Close()
	if err := direct.FlushAll(ctx).Err(); err != nil {
		return row, fmt.Errorf("flush redis: %w", err)
	}
	dbName := fmt.Sprintf("faults_%d_%d", os.Getpid(), s.runs)
	dbURL, err := CreateDatabase(ctx, s.adminURL, dbName)
	if err != nil {
		return row, fmt.Errorf("create database: %w", err)
	}
	if s.pg == nil {
		s.dbs = append(s.dbs, dbName)
	}
	viaProxy, err := throughProxy(dbURL, s.pproxy.Addr())
	if err != nil {
		return row, err
	}
	// The instances log in as the service's own login, as in production
	// (serve refuses the tables' owner); migrate runs as the owner and
	// grants it.
	serviceURL, err := serviceLogin(viaProxy)
	if err != nil {
		return row, err
	}
	env := []string{
		"FAIRSLOT_DATABASE_URL=" + serviceURL,
		"FAIRSLOT_MIGRATE_DATABASE_URL=" + viaProxy,
		"FAIRSLOT_REDIS_ADDR=" + s.rproxy.Addr(),
		"FAIRSLOT_REDIS_PASSWORD=", // the private redis-server has none
		"FAIRSLOT_REDIS_PREFIX=fs",
		"FAIRSLOT_SECRET_KEY=" + s.secret,
		"FAIRSLOT_PASSWORD_ITERATIONS=1000",
		"FAIRSLOT_RATE_IP=1000000-S",
		"FAIRSLOT_RATE_ACCOUNT=1000000-S",
		"FAIRSLOT_RATE_STORE=memory",
		"FAIRSLOT_ADMIN_ADDR=off",
		// Short enough that a run settles in seconds, long enough for
		// the rule hold-for ≥ 4× commit-timeout.
		"FAIRSLOT_HOLD_FOR=8s",
		"FAIRSLOT_COMMIT_TIMEOUT=2s",
		"FAIRSLOT_SWEEP_EVERY=1s",
		"FAIRSLOT_RETURN_DELAY_MIN=1s",
		"FAIRSLOT_RETURN_DELAY_MAX=3s",
		// The suite's one operator stands for a whole call centre: its
		// hundreds of phone bookings a run are not one person's pace.
		"FAIRSLOT_OPERATOR_PER_HOUR=1000000",
		"FAIRSLOT_CLERK_WALK_INS_PER_DAY=1000000",
	}
	if err := s.cli(ctx, env, "migrate"); err != nil {
		return row, err
	}
	hospital, sessions, err := seedSchedule(ctx, dbURL)
	if err != nil {
		return row, err
	}
	for _, st := range []struct{ role, phone string }{{"clerk", "13900000002"}, {"operator", "13900000003"}} {
		staffEnv := append(slices.Clip(env), "FAIRSLOT_STAFF_PASSWORD=staff-password-"+st.role)
		if err := s.cli(ctx, staffEnv, "staff", "add", "--role", st.role, "--phone", st.phone, "--hospital", hospital); err != nil {
			return row, err
		}
	}

	run := &Run{s: s}
	for i := range max(1, f.Instances) {
		in := &Instance{Name: fmt.Sprintf("fairslot-%d", i+1), Port: s.cfg.HTTPPort + i, bin: s.bin, env: env,
			log: filepath.Join(s.cfg.Dir, fmt.Sprintf("%s.%s.log", slug(f.Name), fmt.Sprint(i+1)))}
		if err := in.Start(ctx); err != nil {
			return row, err
		}
		defer in.Stop()
		run.Instances = append(run.Instances, in)
		run.alive = append(run.alive, in.URL())
	}
	people, err := s.people(ctx, run.Instances[0].URL())
	if err != nil {
		return row, err
	}
	load := people
	load.Attempts, load.Rate, load.Sessions, load.Instances, load.Seed = s.cfg.Attempts, s.cfg.Rate, sessions, run.urls, uint64(s.runs)

	s.logf("%s: %d attempts at %.0f/s", f.Name, s.cfg.Attempts, s.cfg.Rate)
	var hist *History
	done := make(chan struct{})
	go func() { hist = load.Run(ctx); close(done) }()
	faultAt := time.Duration(0.3 * float64(s.cfg.Attempts) / s.cfg.Rate * float64(time.Second))
	var startedAt time.Time
	select {
	case <-time.After(faultAt):
		startedAt = time.Now()
		if err := f.Inject(ctx, run); err != nil {
			<-done
			return row, fmt.Errorf("inject %s: %w", f.Name, err)
		}
		if run.endedAt.IsZero() {
			run.Ended()
		}
	case <-done:
		return row, fmt.Errorf("the load ended before the fault")
	}
	<-done
	row.FaultFor = run.endedAt.Sub(startedAt).Seconds()
	if err := WaitQuiet(ctx, direct, "fs", 60*time.Second); err != nil {
		row.Problems = append(row.Problems, err.Error())
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return row, err
	}
	defer conn.Close(context.Background())
	events := hist.Events()
	v, err := Check(ctx, conn, direct, "fs", events)
	if err != nil {
		return row, fmt.Errorf("check: %w", err)
	}
	row.Attempts, row.Requests, row.Confirmed = v.Attempts, v.Requests, v.Confirmed
	row.Lost, row.Oversold, row.Double, row.Drift = len(v.Lost), len(v.Oversold), len(v.Double), len(v.Drift)
	row.Unknown, row.Promoted = v.Unknown, v.Promoted
	row.Problems = append(row.Problems, v.Lost...)
	row.Problems = append(row.Problems, v.Oversold...)
	row.Problems = append(row.Problems, v.Double...)
	row.Problems = append(row.Problems, v.Drift...)
	ended := hist.since(run.endedAt)
	for _, e := range events {
		if (e.Op == "book" || e.Op == "phone" || e.Op == "desk") && e.Status == 404 {
			row.NotFound++
			row.Problems = append(row.Problems, fmt.Sprintf("404 %s at %.1fs: %s", e.Code, e.T, e.Message))
		}
		if e.booking() && e.T >= ended {
			if r := e.T + e.MS/1000 - ended; row.Recovery < 0 || r < row.Recovery {
				row.Recovery = r
			}
		}
	}
	row.Outage = map[string]int{}
	for _, e := range events {
		if (e.Op == "book" || e.Op == "phone" || e.Op == "desk") && e.T >= ended && (row.Recovery < 0 || e.T+e.MS/1000 < ended+row.Recovery) {
			row.Outage[strings.TrimSpace(fmt.Sprintf("%d %s", e.Status, e.Code))]++
		}
	}
	for a, n := range v.Answers {
		row.Answers = append(row.Answers, fmt.Sprintf("%s: %d", a, n))
	}
	return row, writeHistory(filepath.Join(s.cfg.Dir, slug(f.Name)+".history.jsonl"), events)
}

// cli runs a fairslot command against the run's database and Redis.
func (s *Suite) cli(ctx context.Context, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("fairslot %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

func throughProxy(dbURL, addr string) (string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", err
	}
	u.Host = addr
	return u.String(), nil
}

// serviceLogin is ownerURL with the service's login (testenv.ServiceLogin)
// as its user and the owner's password, which migrate gives it.
func serviceLogin(ownerURL string) (string, error) {
	u, err := url.Parse(ownerURL)
	if err != nil {
		return "", err
	}
	if pw, ok := u.User.Password(); ok {
		u.User = url.UserPassword(testenv.ServiceLogin, pw)
	} else {
		u.User = url.User(testenv.ServiceLogin)
	}
	return u.String(), nil
}

// seedSchedule stores one hospital with three departments and a morning
// session each on the 2nd, 3rd and 4th day from now (so no cancellation is
// late): 20 online, 4 phone and 4 on-site slots each, all released. A
// full run sells the pools out about half way, so the rest is waitlist
// joins, cancellations and hand-overs.
func seedSchedule(ctx context.Context, dbURL string) (hospital string, sessions []string, err error) {
	db, err := cockroach.Open(ctx, dbURL, nil)
	if err != nil {
		return "", nil, err
	}
	defer db.Close()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return "", nil, err
	}
	h := booking.Hospital{ID: booking.NewID(), Name: "故障演练医院 Fault Drill Hospital", TimeZone: "Asia/Shanghai", Policy: booking.DefaultPolicy}
	sch := booking.Schedule{Hospitals: []booking.Hospital{h}}
	released := time.Now().Add(-time.Hour)
	now := time.Now().In(loc)
	var ids []string
	for d := range 3 {
		dept := booking.Department{ID: booking.NewID(), HospitalID: h.ID, Name: fmt.Sprintf("Department %d", d+1)}
		doc := booking.Doctor{ID: booking.NewID(), HospitalID: h.ID, DepartmentID: dept.ID, Name: fmt.Sprintf("Doctor %d", d+1)}
		sch.Departments, sch.Doctors = append(sch.Departments, dept), append(sch.Doctors, doc)
		for day := 2; day <= 4; day++ {
			start := time.Date(now.Year(), now.Month(), now.Day()+day, 8, 0, 0, 0, loc)
			ss, err := booking.BuildSession(booking.SessionSpec{HospitalID: h.ID, DepartmentID: dept.ID, DoctorID: doc.ID,
				VisitDate: start.Format(time.DateOnly), Period: "morning", StartsAt: start, EndsAt: start.Add(4 * time.Hour),
				Quotas: []booking.ChannelQuota{
					{Channel: booking.ChannelOnline, Quota: 20, ReleaseAt: released},
					{Channel: booking.ChannelPhone, Quota: 4, ReleaseAt: released},
					{Channel: booking.ChannelOnsite, Quota: 4, ReleaseAt: released},
				}})
			if err != nil {
				return "", nil, err
			}
			sch.Sessions = append(sch.Sessions, ss)
			ids = append(ids, ss.ID)
		}
	}
	return h.ID, ids, cockroach.NewStore(db).SaveSchedule(ctx, sch)
}

// people registers the patients through the API and logs the staff in;
// callers and walk-ins overlap half of the patients, so quotas follow one
// person across channels.
func (s *Suite) people(ctx context.Context, base string) (Load, error) {
	var l Load
	c := newAPI(base)
	var err error
	if l.Clerk, err = c.login(ctx, "13900000002", "staff-password-clerk"); err != nil {
		return l, err
	}
	if l.Operator, err = c.login(ctx, "13900000003", "staff-password-operator"); err != nil {
		return l, err
	}
	n := s.cfg.Patients
	l.Patients = make([]Person, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				p, err := c.patient(ctx, i+1)
				if err != nil {
					errs <- err
					continue
				}
				l.Patients[i] = p
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return l, err
	}
	for i := range n / 2 {
		l.Callers = append(l.Callers, person(n/2+i+1))
		l.WalkIns = append(l.WalkIns, person(n+i+1))
	}
	return l, nil
}

// person is the n-th test person: a valid resident ID (GB 11643) and a name.
func person(n int) Person {
	birth := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n/900)
	body := fmt.Sprintf("110105%s%03d", birth.Format("20060102"), n%900+100)
	return Person{IDNumber: body + string(identity.CheckDigit(body)), Name: "测试" + string(rune('甲'+n%10))}
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	return strings.Trim(b.String(), "-")
}

func writeHistory(path string, events []Event) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}
