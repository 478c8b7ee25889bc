package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"fairslot/internal/auth"
	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/identity"
)

// config is what one run makes, and the clock and zone it makes it on.
type config struct {
	out         string
	patients    int
	bots        int
	botPatients int
	sessions    int
	slots       int
	releaseAt   string
	steady      bool
	seed        int64
	tokenTTL    time.Duration
	lottery     time.Duration // the release sessions' online pools are lotteries drawn this long after release
	timeZone    string        // the hospital's zone, as given

	now     func() time.Time // the clock: --release-at offsets, today's sessions, tokens
	loc     *time.Location   // timeZone loaded
	release time.Time        // releaseAt parsed
}

// Limits of loadseed's flags. Bot accounts stay within the service's own
// limit of patients per account (booking.Config.Limits), so the detector and
// the API see accounts the service could have made; a session's slots must
// fit in one day at a minute each.
const (
	maxBotPatients   = 5
	maxLoadSlots     = 900
	maxLoadPatients  = 10_000_000
	identitiesInDesk = 5000 // genuine patients written in clear to identities.csv
	doctorsPerDept   = 5
	minSteadyLeft    = 2 * time.Minute // of the hospital's day, for --steady
)

func (c *config) register(f *flag.FlagSet, e env) {
	f.StringVar(&c.out, "out", e.Str("LOADSEED_OUT", ""), "directory for patients.csv, sessions.json, staff.json and identities.csv (required; created)")
	f.IntVar(&c.patients, "patients", e.Int("LOADSEED_PATIENTS", 200_000), "genuine patient accounts, each with one self patient")
	f.IntVar(&c.bots, "bots", e.Int("LOADSEED_BOTS", 0), "scalper accounts")
	f.IntVar(&c.botPatients, "bot-patients", e.Int("LOADSEED_BOT_PATIENTS", 5), "patients (distinct identities) on each scalper account")
	f.IntVar(&c.sessions, "sessions", e.Int("LOADSEED_SESSIONS", 20), "expert sessions released at --release-at, one per doctor")
	f.IntVar(&c.slots, "slots", e.Int("LOADSEED_SLOTS", 50), "slots per session")
	f.StringVar(&c.releaseAt, "release-at", e.Str("LOADSEED_RELEASE_AT", "+60s"), "when the sessions' online pools open: RFC3339, or an offset from the start of the command (+30s, -1m)")
	f.BoolVar(&c.steady, "steady", e.Bool("LOADSEED_STEADY"), "also make sessions open now for today (online, phone, onsite pools), 10 clerks and 10 operators")
	f.Int64Var(&c.seed, "seed", int64(e.Int("LOADSEED_SEED", 0)), "picks the block of phone and ID numbers (0: random); the same seed twice fails on the second run")
	f.DurationVar(&c.tokenTTL, "token-ttl", e.Dur("LOADSEED_TOKEN_TTL", 24*time.Hour), "lifetime of the minted bearer tokens")
	f.StringVar(&c.timeZone, "time-zone", e.Str("LOADSEED_TIME_ZONE", "Asia/Shanghai"), "the hospital's time zone (IANA name): its days, its release times and the --steady sessions of today are in it")
	f.DurationVar(&c.lottery, "lottery-window", e.Dur("LOADSEED_LOTTERY_WINDOW", 0), "make the release sessions' online pools lotteries taking entries from --release-at for this long, then drawn (0: first-come)")
}

func (c *config) check() error {
	var errs []error
	if c.out == "" {
		errs = append(errs, errors.New("--out is required"))
	}
	if c.patients < 0 || c.bots < 0 || c.patients+c.bots*c.botPatients > maxLoadPatients {
		errs = append(errs, fmt.Errorf("--patients and --bots must be 0 or more, with at most %d patients in all", maxLoadPatients))
	}
	if c.botPatients < 1 || c.botPatients > maxBotPatients {
		errs = append(errs, fmt.Errorf("--bot-patients must be 1 to %d (the service's limit per account)", maxBotPatients))
	}
	if c.sessions < 1 || c.sessions > 10_000 {
		errs = append(errs, errors.New("--sessions must be 1 to 10000"))
	}
	if c.slots < 1 || c.slots > maxLoadSlots || (c.steady && c.slots < 3) {
		errs = append(errs, fmt.Errorf("--slots must be 1 to %d (3 or more with --steady: one per pool)", maxLoadSlots))
	}
	if c.tokenTTL <= 0 {
		errs = append(errs, errors.New("--token-ttl must be positive"))
	}
	if c.lottery < 0 || c.lottery > 24*time.Hour {
		errs = append(errs, errors.New("--lottery-window must be from 0 (first-come) to 24h"))
	}
	var err error
	if c.release, err = parseReleaseAt(c.releaseAt, c.now()); err != nil {
		errs = append(errs, err)
	}
	if c.loc, err = time.LoadLocation(c.timeZone); err != nil {
		errs = append(errs, fmt.Errorf("--time-zone: %w", err))
	}
	return errors.Join(errs...)
}

// parseReleaseAt reads an RFC3339 time or a signed offset from now. The
// result is whole seconds, so sessions.json states it exactly.
func parseReleaseAt(s string, now time.Time) (time.Time, error) {
	if strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
		d, err := time.ParseDuration(s)
		if err != nil {
			return time.Time{}, fmt.Errorf("--release-at: %w", err)
		}
		return now.Add(d).Truncate(time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--release-at: want RFC3339 or an offset like +30s: %w", err)
	}
	return t.Truncate(time.Second), nil
}

// seeded is what one run made, for the files and the summary.
type seeded struct {
	hospitalID string
	release    []*booking.Session
	steady     []*booking.Session
	people     []seedPerson
	clerks     []string // tokens
	operators  []string // tokens
}

// seedPerson is one patient row with what the files need of it. The clear
// ID number and name are kept only for the first identitiesInDesk genuine
// patients.
type seedPerson struct {
	token, patientID, accountID string
	bot                         bool
	idNumber, name              string
}

func (c *config) run(ctx context.Context, d *deps, iterations int, stdout, stderr io.Writer) error {
	began := time.Now() // for the summary's duration only; the run's time is c.now
	start := c.now()
	keys := d.keys // the Service's keyring, from the same master key
	if err := os.MkdirAll(c.out, 0o750); err != nil {
		return fmt.Errorf("--out: %w", err)
	}

	sch, out, err := c.schedule(start, c.loc)
	if err != nil {
		return err
	}
	if len(out.steady) > 0 && !out.steady[0].StartsAt.After(start) {
		fmt.Fprintf(stderr, "loadseed: too late in the day in %s for remote booking: the steady sessions are running already, so only the desk books them (until midnight there)\n", c.loc)
	}
	if c.seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		c.seed = int64(binary.BigEndian.Uint64(b[:]) >> 1)
		if c.seed == 0 {
			c.seed = 1
		}
	}
	pop, err := c.population(keys, iterations, start)
	if err != nil {
		return err
	}
	for i := range pop.staff {
		pop.staff[i].HospitalID = out.hospitalID // clerks and operators work there
	}
	if err := d.store.BulkLoad(ctx, append(pop.accounts[:len(pop.accounts):len(pop.accounts)], pop.staff...), pop.patients); err != nil {
		if errors.Is(err, cockroach.ErrAlreadyLoaded) {
			return fmt.Errorf("write population: %w: the phone and ID numbers of seed %d are taken; nothing was written: run again with another --seed, or none", err, c.seed)
		}
		return fmt.Errorf("write population: %w", err)
	}
	if err := d.store.SaveSchedule(ctx, sch); err != nil {
		return fmt.Errorf("save schedule: %w", err)
	}
	for _, s := range pop.staff {
		err := d.store.RecordAudit(ctx, booking.AuditEntry{ID: booking.NewID(), TS: start, ActorRole: "cli",
			Action: "staff_added", Target: "account:" + s.ID, Reason: "loadseed role " + string(s.Role), HospitalID: s.HospitalID})
		if err != nil {
			return fmt.Errorf("record staff: %w", err)
		}
	}
	// Fresh statistics: the planner otherwise sees the bulk-loaded tables as
	// empty (autovacuum's analyze comes later), and picks slow plans. Only
	// the tables' owner may analyze them: the service's login would skip
	// them all with a warning.
	if err := cmp.Or(d.owner, d.db).Analyze(ctx); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	// Same path as `fairslot reconcile` and serve's start: the catalog reads
	// the new sessions from SQL and load.lua installs their pools in Redis.
	// A serve already running picks them up on its next refresh.
	if _, err := d.svc.Refresh(ctx); err != nil {
		return fmt.Errorf("load sessions into redis: %w", err)
	}

	signer := auth.NewSigner(keys.TokenKey(), c.tokenTTL)
	out.people = pop.people(signer, start)
	if c.steady {
		for _, a := range pop.staff {
			tok, _ := signer.MintClaims(auth.Claims{AccountID: a.ID, Role: string(a.Role), HospitalID: a.HospitalID}, start)
			if a.Role == booking.RoleClerk {
				out.clerks = append(out.clerks, tok)
			} else {
				out.operators = append(out.operators, tok)
			}
		}
	}
	if err := c.writeFiles(out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loadseed: hospital %s: %d genuine patients, %d bot accounts with %d patients, %d sessions × %d slots released %s, %d steady sessions, seed %d; files in %s; %.1fs\n",
		out.hospitalID, c.patients, c.bots, c.bots*c.botPatients, len(out.release), c.slots,
		c.release.Format(time.RFC3339), len(out.steady), c.seed, c.out, time.Since(began).Seconds())
	return nil
}

// deskStaff is how many clerks, and how many operators, --steady makes: a
// large hospital's desk windows and phone lines, each within the per-account
// rate limit.
const deskStaff = 10

// schedule lays out the new hospital: the release sessions, at 08:00 three
// days after the release, with only an online pool; and with --steady as
// many sessions of today, released an hour ago, over online, phone and onsite
// pools (steadyWindow says when they run). Every session has its own doctor,
// five doctors to a department.
func (c *config) schedule(now time.Time, loc *time.Location) (booking.Schedule, seeded, error) {
	h := booking.Hospital{ID: booking.NewID(), Name: "Load-test hospital", TimeZone: loc.String(), Policy: booking.DefaultPolicy}
	sch := booking.Schedule{Hospitals: []booking.Hospital{h}}
	out := seeded{hospitalID: h.ID}
	doctors := 0
	newDoctor := func() (dept, doc string) {
		if doctors%doctorsPerDept == 0 {
			sch.Departments = append(sch.Departments, booking.Department{ID: booking.NewID(), HospitalID: h.ID,
				Name: fmt.Sprintf("Load-test department %d", len(sch.Departments)+1)})
		}
		doctors++
		d := booking.Doctor{ID: booking.NewID(), HospitalID: h.ID, DepartmentID: sch.Departments[len(sch.Departments)-1].ID,
			Name: fmt.Sprintf("Load-test doctor %d", doctors), Title: "主任医师 Chief Physician"}
		sch.Doctors = append(sch.Doctors, d)
		return d.DepartmentID, d.ID
	}

	rel := c.release.In(loc)
	day := time.Date(rel.Year(), rel.Month(), rel.Day()+3, 8, 0, 0, 0, loc)
	length := max(4*time.Hour, time.Duration(c.slots)*time.Minute)
	if !day.After(now) {
		return sch, out, fmt.Errorf("--release-at %s is too far in the past: its sessions (three days later) would be over", c.release.Format(time.RFC3339))
	}
	pool := booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: c.slots, ReleaseAt: c.release, Mode: booking.FirstCome}
	if c.lottery > 0 {
		pool.Mode, pool.OpensAt, pool.DrawAt = booking.Lottery, c.release, c.release.Add(c.lottery)
	}
	for range c.sessions {
		dept, doc := newDoctor()
		s, err := booking.BuildSession(booking.SessionSpec{
			HospitalID: h.ID, DepartmentID: dept, DoctorID: doc, VisitDate: day.Format(time.DateOnly),
			Period: "morning", StartsAt: day, EndsAt: day.Add(length),
			Quotas: []booking.ChannelQuota{pool},
		})
		if err != nil {
			return sch, out, fmt.Errorf("lay out session: %w", err)
		}
		sch.Sessions = append(sch.Sessions, s)
	}

	if c.steady {
		start, end, err := steadyWindow(now, loc, c.slots)
		if err != nil {
			return sch, out, err
		}
		online, phone := c.slots/2, c.slots/4
		onsite := c.slots - online - phone
		released := now.Add(-time.Hour).Truncate(time.Second)
		for range c.sessions {
			dept, doc := newDoctor()
			s, err := booking.BuildSession(booking.SessionSpec{
				HospitalID: h.ID, DepartmentID: dept, DoctorID: doc, VisitDate: start.Format(time.DateOnly),
				Period: period(start), StartsAt: start, EndsAt: end, Mode: booking.FirstCome,
				Quotas: []booking.ChannelQuota{
					{Channel: booking.ChannelOnline, Quota: online, ReleaseAt: released},
					{Channel: booking.ChannelPhone, Quota: phone, ReleaseAt: released},
					{Channel: booking.ChannelOnsite, Quota: onsite, ReleaseAt: released},
				},
			})
			if err != nil {
				return sch, out, fmt.Errorf("lay out steady session: %w", err)
			}
			sch.Sessions = append(sch.Sessions, s)
		}
	}
	for i := range sch.Sessions {
		if i < c.sessions {
			out.release = append(out.release, &sch.Sessions[i])
		} else {
			out.steady = append(out.steady, &sch.Sessions[i])
		}
	}
	return sch, out, nil
}

// steadyWindow is when today's sessions run. Remote booking closes when a
// session starts, and check-in and walk-ins need the visit day and a session
// not yet over. So they start an hour from now (online and phone stay
// bookable meanwhile) and run until midnight in the hospital's zone, at most
// six hours. Late in the day there is no room for that: they then end at
// midnight and start early enough to hold their slots, maybe in the past
// (running: only the desk can book them). With under a few minutes of the
// day left there is nothing to make.
func steadyWindow(now time.Time, loc *time.Location, slots int) (start, end time.Time, err error) {
	local := now.In(loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, loc)
	need := max(time.Hour, time.Duration(slots)*time.Minute) // a slot needs a minute
	// Whole minutes: slot times must read back from SQL exactly.
	start = local.Truncate(time.Minute).Add(time.Hour)
	end = start.Add(6 * time.Hour)
	if end.After(midnight) {
		end = midnight
	}
	if end.Sub(start) < need {
		start, end = midnight.Add(-need), midnight
	}
	if end.Sub(local) < minSteadyLeft {
		return start, end, fmt.Errorf("--steady makes sessions of today in %s, and it is %s there: run it after midnight",
			loc, local.Format("15:04"))
	}
	return start, end, nil
}

func period(t time.Time) string {
	switch {
	case t.Hour() < 12:
		return "morning"
	case t.Hour() < 18:
		return "afternoon"
	}
	return "evening"
}

// population is the rows of the seeded accounts, identities and patients,
// built as the service builds them (booking.Service.createAccount and
// resolve): keyed hashes, sealed copies and masked forms from the keyring.
type population struct {
	accounts   []booking.Account
	identities []booking.Identity
	patients   []booking.NewPatient
	staff      []booking.Account
	// clear[i] is identities[i]'s number and name, kept for identities.csv.
	clear [][2]string
	cfg   *config
}

// Numbers. Phones are 1[3-9] and nine digits: 7×10⁹ of them. Resident IDs
// are a real county code, a birth date from 1940 on, a three-digit sequence
// and the check digit. A run takes one contiguous block of each, at an
// offset picked by --seed, so runs do not collide unless their blocks
// overlap (two runs of 200,000 people: about once in 2,000), and then the
// unique indexes refuse the whole population.
const (
	phoneSpace = 7_000_000_000
	birthDays  = 23_000 // 1940-01-01 to 2002
	idSpace    = int64(len(countyCodes)) * birthDays * 999
)

var countyCodes = [...]string{
	"110101", "110105", "110108", "120101", "130102", "140105", "210102", "220102",
	"230102", "310101", "310104", "310115", "320102", "320505", "330102", "330106",
	"340102", "350102", "360102", "370102", "370202", "410102", "420102", "430102",
	"440103", "440106", "440304", "440305", "500103", "510104", "610102", "650102",
}

var (
	surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤")
	given    = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力婷鹏宇飞凤梅琳晶欣怡晨浩然宁博涵轩瑞佳思雨嘉亮斌海燕春")
	epoch    = time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC)
)

// residentIDAt is the n-th resident ID of the block.
func residentIDAt(n int64) string {
	seq := n%999 + 1 // sequence 000 is not issued
	n /= 999
	birth := epoch.AddDate(0, 0, int(n%birthDays))
	body := countyCodes[n/birthDays%int64(len(countyCodes))] + birth.Format("20060102") + fmt.Sprintf("%03d", seq)
	return body + string(identity.CheckDigit(body))
}

// phoneAt is the n-th mobile number of the block.
func phoneAt(n int64) string {
	return fmt.Sprintf("1%d%09d", 3+n/1_000_000_000, n%1_000_000_000)
}

// nameAt is a plausible Chinese name; names need not be unique.
func nameAt(n int64) string {
	h := uint64(n) * 0x9e3779b97f4a7c15 // spread neighbours over the lists
	r := []rune{surnames[h%uint64(len(surnames))], given[h>>20%uint64(len(given))]}
	if h>>40%3 != 0 {
		r = append(r, given[h>>44%uint64(len(given))])
	}
	return string(r)
}

func (c *config) population(keys *identity.Keyring, iterations int, now time.Time) (*population, error) {
	// One password hash for every seeded account: PBKDF2 at production cost
	// is tenths of a second each, hours for 200,000 accounts. The password is
	// random and written nowhere; the accounts are used through the tokens
	// minted for them.
	var pw [18]byte
	_, _ = rand.Read(pw[:])
	hash, err := auth.HashPassword(base64.RawURLEncoding.EncodeToString(pw[:]), iterations)
	if err != nil {
		return nil, err
	}
	accounts := c.patients + c.bots
	people := c.patients + c.bots*c.botPatients
	staff := 0
	if c.steady {
		staff = 2 * deskStaff
	}
	rng := mrand.New(mrand.NewPCG(uint64(c.seed), 0x6c6f61647365656e))
	phoneBase := rng.Int64N(phoneSpace - int64(accounts+staff))
	idBase := rng.Int64N(idSpace - int64(people))

	p := &population{
		accounts:   make([]booking.Account, accounts),
		identities: make([]booking.Identity, people),
		patients:   make([]booking.NewPatient, people),
		clear:      make([][2]string, people),
		cfg:        c,
	}
	account := func(n int64, role booking.Role) (booking.Account, error) {
		phone, err := identity.NormalizePhone(phoneAt(phoneBase + n))
		if err != nil {
			return booking.Account{}, fmt.Errorf("make phone: %w", err)
		}
		return booking.Account{ID: booking.NewID(), Role: role, PhoneHash: keys.Hash("phone", phone),
			PhoneSealed: keys.Seal("phone", phone), PhoneMasked: identity.MaskPhone(phone),
			PasswordHash: hash, CreatedAt: now}, nil
	}
	person := func(n int, accountID string, self bool) error {
		id, err := identity.Parse(string(identity.ResidentID), residentIDAt(idBase+int64(n)))
		if err != nil {
			return fmt.Errorf("make id number: %w", err)
		}
		name, err := identity.NormalizeName(nameAt(idBase + int64(n)))
		if err != nil {
			return fmt.Errorf("make name: %w", err)
		}
		p.identities[n] = booking.Identity{ID: booking.NewID(), IDType: string(id.Type), IDHash: keys.IDHash(id),
			NumberSealed: keys.Seal("id_number", id.Number), NumberMasked: id.Masked(),
			NameHash: keys.Hash("name", name), NameSealed: keys.Seal("name", name), NameMasked: identity.MaskName(name)}
		rel := booking.RelOther
		if self {
			rel = booking.RelSelf
		}
		p.patients[n] = booking.NewPatient{ID: booking.NewID(), AccountID: accountID, IsSelf: self, Identity: p.identities[n],
			Relationship: rel, BirthYear: id.BirthYear()}
		if n < identitiesInDesk && n < c.patients {
			p.clear[n] = [2]string{id.Number, name}
		}
		return nil
	}
	// Account a has patients first(a) … first(a)+k-1: genuine accounts one,
	// bots botPatients, after the genuine ones.
	build := func(a int) error {
		acc, err := account(int64(a), booking.RolePatient)
		if err != nil {
			return err
		}
		p.accounts[a] = acc
		first, k := a, 1
		if a >= c.patients {
			first, k = c.patients+(a-c.patients)*c.botPatients, c.botPatients
		}
		for j := range k {
			if err := person(first+j, acc.ID, j == 0); err != nil {
				return err
			}
		}
		return nil
	}

	// Hashing and sealing are most of the work: spread them over the CPUs.
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for a := w; a < accounts; a += workers {
				if err := build(a); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i := range staff {
		role := booking.RoleClerk
		if i%2 == 1 {
			role = booking.RoleOperator
		}
		acc, err := account(int64(accounts+i), role)
		if err != nil {
			return nil, err
		}
		p.staff = append(p.staff, acc)
	}
	return p, nil
}

// people mints a token per account and lists the patients in the order of
// patients.csv.
func (p *population) people(signer *auth.Signer, now time.Time) []seedPerson {
	tokens := make(map[string]string, len(p.accounts))
	for _, a := range p.accounts {
		tokens[a.ID], _ = signer.Mint(a.ID, string(a.Role), now)
	}
	out := make([]seedPerson, len(p.patients))
	for i, x := range p.patients {
		out[i] = seedPerson{token: tokens[x.AccountID], patientID: x.ID, accountID: x.AccountID,
			bot: i >= p.cfg.patients, idNumber: p.clear[i][0], name: p.clear[i][1]}
	}
	return out
}

// The files' formats; loadtest/ reads them.
type (
	sessionsFile struct {
		HospitalID     string          `json:"hospital_id"`
		ReleaseAt      string          `json:"release_at"`
		ReleaseMode    string          `json:"release_mode"`
		DrawAt         string          `json:"draw_at,omitempty"` // lottery: when the pools are drawn
		Sessions       []releasedEntry `json:"sessions"`
		SteadySessions []steadyEntry   `json:"steady_sessions"`
	}
	releasedEntry struct {
		ID          string `json:"id"`
		Slots       int    `json:"slots"`
		Channel     string `json:"channel"`
		ReleaseAt   string `json:"release_at"`
		ReleaseMode string `json:"release_mode"`
	}
	steadyEntry struct {
		ID    string         `json:"id"`
		Pools map[string]int `json:"pools"`
	}
	staffFile struct {
		ClerkToken     string   `json:"clerk_token"` // the first of each
		OperatorToken  string   `json:"operator_token"`
		ClerkTokens    []string `json:"clerk_tokens"`
		OperatorTokens []string `json:"operator_tokens"`
	}
)

func (c *config) writeFiles(s seeded) error {
	mode := booking.FirstCome
	sf := sessionsFile{HospitalID: s.hospitalID, ReleaseAt: c.release.UTC().Format(time.RFC3339),
		Sessions: []releasedEntry{}, SteadySessions: []steadyEntry{}}
	if c.lottery > 0 {
		mode, sf.DrawAt = booking.Lottery, c.release.Add(c.lottery).UTC().Format(time.RFC3339)
	}
	sf.ReleaseMode = string(mode)
	for _, x := range s.release {
		sf.Sessions = append(sf.Sessions, releasedEntry{ID: x.ID, Slots: len(x.Slots), Channel: string(booking.ChannelOnline),
			ReleaseAt: c.release.UTC().Format(time.RFC3339), ReleaseMode: string(mode)})
	}
	for _, x := range s.steady {
		pools := map[string]int{}
		for _, q := range x.Channels {
			pools[string(q.Channel)] = q.Quota
		}
		sf.SteadySessions = append(sf.SteadySessions, steadyEntry{ID: x.ID, Pools: pools})
	}
	if err := writeJSONFile(filepath.Join(c.out, "sessions.json"), sf); err != nil {
		return err
	}

	// patients.csv and staff.json hold bearer tokens: owner-only.
	err := writeFile(filepath.Join(c.out, "patients.csv"), func(w *bufio.Writer) error {
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"token", "patient_id", "account_id", "kind"})
		for _, p := range s.people {
			kind := "genuine"
			if p.bot {
				kind = "bot"
			}
			_ = cw.Write([]string{p.token, p.patientID, p.accountID, kind})
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil || !c.steady {
		return err
	}
	if err := writeJSONFile(filepath.Join(c.out, "staff.json"), staffFile{ClerkToken: s.clerks[0], OperatorToken: s.operators[0],
		ClerkTokens: s.clerks, OperatorTokens: s.operators}); err != nil {
		return err
	}
	return writeFile(filepath.Join(c.out, "identities.csv"), func(w *bufio.Writer) error {
		_, _ = w.WriteString("# synthetic test data from loadtest/loadseed: invented people, generated ID numbers and names; keep it in the git-ignored --out directory\n")
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"patient_id", "id_type", "id_number", "name"})
		for _, p := range s.people {
			if p.idNumber != "" {
				_ = cw.Write([]string{p.patientID, string(identity.ResidentID), p.idNumber, p.name})
			}
		}
		cw.Flush()
		return cw.Error()
	})
}

func writeJSONFile(path string, v any) error {
	return writeFile(path, func(w *bufio.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

func writeFile(path string, fill func(*bufio.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = fill(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
