package booking_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"fairslot/internal/admission"
	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// releaseVariant is a database the release-second commit benchmark writes
// into: the migrated schema, then ddl (run as the test database's owner),
// through a pool opened with opts.
type releaseVariant struct {
	name string
	ddl  []string
	opts []cockroach.Option
	// cold closes the pool's connections before each burst, as on a
	// service whose pool has not yet booked: the burst opens the
	// connections it needs, and each runs the booking statement for the
	// first time. fill then opens every connection the pool may hold
	// (cockroach.DB.Fill) before the burst.
	cold, fill bool
	// used, with fill, has every connection read the tables a booking
	// references before the burst, as a service's reads do before a
	// release (its connections have touched their pages).
	used bool
	// cfg, when set, changes the service's configuration (the group
	// commit's batch size and writers).
	cfg func(*booking.Config)
	// chunks, when set, writes the burst without the group commit: the
	// burst cut into releaseChunk-row chunks, releaseChunkWriters at once,
	// each chunk either through the store's InsertBookings (the group
	// commit's statement) or, with copy, as a COPY of its bookings and one
	// of their events in one transaction — no checks, no ON CONFLICT, no
	// per-row answers: the floor of what a row costs PostgreSQL in the
	// bookings and events tables, to price the statement's form.
	chunks, copy bool
	// noConfirm leaves out each batch's confirm in Redis (the follow-up
	// that holds its writer's turn): the service's admission confirms
	// nothing.
	noConfirm bool
}

// unconfirmed is an admission whose Confirm does nothing
// (releaseVariant.noConfirm).
type unconfirmed struct{ booking.Admission }

func (unconfirmed) Confirm(context.Context, string, ...string) error { return nil }

// releaseVariants are the databases BenchmarkReleaseCommit compares, the
// first the baseline every ratio is taken against. FAIRSLOT_RELEASE_VARIANTS
// (names, comma-separated) picks some; the first named is then the
// baseline.
var releaseVariants = []releaseVariant{
	// The pool after it has written bookings (every round's but the first).
	{name: "schema"},
	// A pool whose connections have not booked: opened by the burst, or
	// opened before it (by other work) and not readied; serve's before
	// cockroach.Warm.
	{name: "cold", cold: true},
	{name: "cold-filled", cold: true, fill: true},
	// serve's pool: every connection opened before the burst and readied
	// as it opened (cockroach.Warm), none of them having booked.
	{name: "warm", opts: []cockroach.Option{cockroach.Warm()}, cold: true, fill: true},
	// Both after reading the tables a booking references on every
	// connection.
	{name: "cold-used", cold: true, fill: true, used: true},
	{name: "warm-used", opts: []cockroach.Option{cockroach.Warm()}, cold: true, fill: true, used: true},
	// Less work per row, tried and left out (docs/performance.md): the
	// session's foreign key (implied by the slot's); every foreign key;
	// the bookings' and the events' secondary indexes.
	{name: "no-session-fk", ddl: []string{`ALTER TABLE bookings DROP CONSTRAINT bookings_session_id_fkey`}},
	{name: "no-fks", ddl: []string{
		`ALTER TABLE bookings DROP CONSTRAINT bookings_session_id_fkey`,
		`ALTER TABLE bookings DROP CONSTRAINT bookings_session_id_slot_no_fkey`,
		`ALTER TABLE bookings DROP CONSTRAINT bookings_patient_id_fkey`,
		`ALTER TABLE bookings DROP CONSTRAINT bookings_identity_id_fkey`,
		`ALTER TABLE bookings DROP CONSTRAINT bookings_account_id_fkey`,
		`ALTER TABLE bookings DROP CONSTRAINT bookings_booked_by_fkey`}},
	{name: "no-booking-indexes", ddl: []string{
		`DROP INDEX bookings_by_account`, `DROP INDEX bookings_by_hospital_date`,
		`DROP INDEX bookings_by_identity`, `DROP INDEX bookings_by_session`}},
	{name: "no-event-indexes", ddl: []string{
		`DROP INDEX booking_events_by_account`, `DROP INDEX booking_events_by_phone`,
		`DROP INDEX booking_events_by_ts`, `DROP INDEX booking_events_notify_read`}},
	// The group commit's lanes and batches (perf21): one writer instead of
	// 8; batches of at most 32 rows instead of 250.
	{name: "writers-1", cfg: func(c *booking.Config) { c.BookingWriters = 1 }},
	{name: "writers-2", cfg: func(c *booking.Config) { c.BookingWriters = 2 }},
	{name: "batch-32", cfg: func(c *booking.Config) { c.BookingBatch = 32 }},
	// The statement's form (perf21): the burst in even chunks through the
	// group commit's statement, and as COPY. (Each batch first without ON
	// CONFLICT, and another statement opened only for N waiting rows, were
	// measured at 8c38d3a and left out: docs/performance.md.)
	{name: "insert-chunks", chunks: true},
	{name: "copy-chunks", chunks: true, copy: true},
	// The group commit without its batches' confirm in Redis (perf21).
	{name: "no-confirm", noConfirm: true},
}

// The chunked variants' chunk size and writers: the group commit's 8
// writers, the burst spread evenly over them.
const releaseChunk, releaseChunkWriters = 125, 8

// The release second's shape: its winners book 20 sessions of 50 slots of
// one hospital and department, from as many connections as the load
// generator holds.
const releaseSessions, releaseSlots, releaseCallers = 20, 50, 512

// BenchmarkReleaseCommit is the release second's commit: a burst of 1,000
// bookings (20 sessions × 50 slots, one hospital and department, every
// winner a patient of an account of its own, as the release minute's) from
// 512 concurrent callers through the real group commit with its defaults
// (250 rows a batch, 8 writers), into each schema of releaseVariants in
// turn, in its own database of the test PostgreSQL. Each round writes one
// burst into every variant (the order rotating) after a CHECKPOINT, on
// sessions and people made for it, so each variant pays the same; b.N is
// the rounds, after one burst each not counted. It reports, per variant,
// the median over the rounds of rows/s (1,000 over the burst's time), of a
// caller's p50 and p99 wait and of PostgreSQL's CPU time and minor page
// faults per 1,000 rows (its processes' in /proc, when the server runs on
// this machine), and the medians of the per-round ratios of rows/s and of
// that CPU to the first variant's: only those ratios compare on a shared
// machine. FAIRSLOT_RELEASE_SECOND_URL adds a second server's variants. Each round's
// log line has the burst's figures and the benchmark's own CPU.
//
//	go test -run '^$' -bench ReleaseCommit -benchtime 10x -v ./internal/booking/
func BenchmarkReleaseCommit(b *testing.B) {
	ctx := context.Background()
	variants := releaseVariants
	if names := os.Getenv("FAIRSLOT_RELEASE_VARIANTS"); names != "" {
		variants = nil
		for n := range strings.SplitSeq(names, ",") {
			i := slices.IndexFunc(releaseVariants, func(v releaseVariant) bool { return v.name == strings.TrimSpace(n) })
			if i < 0 {
				b.Fatalf("no variant %q", n)
			}
			variants = append(variants, releaseVariants[i])
		}
	}
	// FAIRSLOT_RELEASE_SECOND_URL, the admin URL of a second PostgreSQL (a
	// server setting to compare, such as huge pages), runs every variant
	// there too, named with "@2", after the first server's.
	urls := []string{os.Getenv(testenv.DatabaseURLEnv)}
	if second := os.Getenv("FAIRSLOT_RELEASE_SECOND_URL"); second != "" {
		urls = append(urls, second)
	}
	rdb, prefix := testenv.Redis(b)
	gate := admission.New(rdb, prefix, prometheus.NewRegistry())
	keys, err := identity.NewKeyring(make([]byte, identity.KeySize))
	testenv.Must(b, err, "keyring")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	var benches []*releaseBench
	for server, admin := range urls {
		for _, v := range variants {
			b.Setenv(testenv.DatabaseURLEnv, admin)
			url := testenv.DatabaseURL(b)
			if server > 0 {
				v.name += "@" + strconv.Itoa(server+1)
			}
			owner, err := cockroach.Open(ctx, url, nil)
			testenv.Must(b, err, "open")
			_, err = owner.Migrate(ctx)
			testenv.Must(b, err, "migrate")
			for _, stmt := range v.ddl {
				_, err := owner.Pool().Exec(ctx, stmt)
				testenv.Must(b, err, "%s: %s", v.name, stmt)
			}
			owner.Close()
			db, err := cockroach.Open(ctx, url, nil, v.opts...)
			testenv.Must(b, err, "open")
			b.Cleanup(db.Close)
			store := cockroach.NewStore(db)
			rb := &releaseBench{variant: v}
			cfg := booking.Config{PasswordIterations: 1000, CommitMetrics: &rb.batches}
			if v.cfg != nil {
				v.cfg(&cfg)
			}
			var adm booking.Admission = gate
			if v.noConfirm {
				adm = unconfirmed{gate}
			}
			svc, err := booking.NewService(cfg, store, adm, keys, log)
			testenv.Must(b, err, "service")
			b.Cleanup(svc.Close)
			rb.db, rb.store, rb.svc = db, store, svc
			rb.hosp = booking.Hospital{ID: booking.NewID(), Name: "Bench", TimeZone: "Asia/Shanghai", Policy: booking.DefaultPolicy}
			rb.dept = booking.Department{ID: booking.NewID(), HospitalID: rb.hosp.ID, Name: "Cardiology"}
			testenv.Must(b, store.SaveSchedule(ctx, booking.Schedule{Hospitals: []booking.Hospital{rb.hosp}, Departments: []booking.Department{rb.dept}}), "hospital")
			benches = append(benches, rb)
		}
	}

	// One burst each first, not counted: a database's first writes and a
	// pool's first bookings are the cold case itself, which the cold
	// variants repeat every round.
	for _, rb := range benches {
		rb.run(b, rb.prepare(b, -1))
	}
	b.ResetTimer()
	for round := range b.N {
		for k := range benches {
			rb := benches[(round+k)%len(benches)]
			b.StopTimer()
			burst := rb.prepare(b, round)
			b.StartTimer()
			r := rb.run(b, burst)
			rb.results = append(rb.results, r)
			b.Logf("round %d %-20s %6.0f rows/s  p50 %6.1f ms  p99 %6.1f ms  CPU per 1,000 rows: PostgreSQL %5.0f ms, service %5.0f ms; PostgreSQL's minor faults %6.0f; a row allocated %.1f objects, %.0f bytes; %d batches, %d of one row",
				round, rb.variant.name, r.rowsPerSec, r.p50, r.p99, r.pgCPU, r.selfCPU, r.pgFaults, r.objects, r.bytes, r.batches, r.ones)
		}
	}
	b.StopTimer()
	base := benches[0]
	for _, rb := range benches {
		med := func(f func(releaseResult) float64) float64 {
			xs := make([]float64, len(rb.results))
			for i, r := range rb.results {
				xs[i] = f(r)
			}
			slices.Sort(xs)
			return xs[len(xs)/2]
		}
		b.ReportMetric(med(func(r releaseResult) float64 { return r.rowsPerSec }), rb.variant.name+"-rows/s")
		b.ReportMetric(med(func(r releaseResult) float64 { return r.p50 }), rb.variant.name+"-p50-ms")
		b.ReportMetric(med(func(r releaseResult) float64 { return r.p99 }), rb.variant.name+"-p99-ms")
		b.ReportMetric(med(func(r releaseResult) float64 { return r.objects }), rb.variant.name+"-objects/row")
		b.ReportMetric(med(func(r releaseResult) float64 { return r.bytes }), rb.variant.name+"-B/row")
		cpu := base.results[0].pgCPU > 0 // PostgreSQL's processes were readable
		if cpu {
			b.ReportMetric(med(func(r releaseResult) float64 { return r.pgCPU }), rb.variant.name+"-pg-cpu-ms/1000rows")
			b.ReportMetric(med(func(r releaseResult) float64 { return r.pgFaults }), rb.variant.name+"-pg-faults/1000rows")
		}
		if rb == base {
			continue
		}
		ratio := func(f func(releaseResult) float64) float64 {
			xs := make([]float64, len(rb.results))
			for i, r := range rb.results {
				xs[i] = f(r) / f(base.results[i])
			}
			slices.Sort(xs)
			return xs[len(xs)/2]
		}
		b.ReportMetric(ratio(func(r releaseResult) float64 { return r.rowsPerSec }), rb.variant.name+"-rows/s-x")
		if cpu {
			b.ReportMetric(ratio(func(r releaseResult) float64 { return r.pgCPU }), rb.variant.name+"-pg-cpu-x")
		}
	}
}

// releaseBench is one variant's database and service.
type releaseBench struct {
	variant releaseVariant
	db      *cockroach.DB
	store   *cockroach.Store
	svc     *booking.Service
	hosp    booking.Hospital
	dept    booking.Department
	results []releaseResult
	// postmaster is the test PostgreSQL's, once known (postgresCPU).
	postmaster int
	// batches counts the group commit's batches and their rows.
	batches batchCount
}

// batchCount is a booking.CommitMetrics that counts batches: all, and
// those of one row.
type batchCount struct{ n, ones, rows atomic.Int64 }

func (c *batchCount) Batch(_ string, waits []time.Duration, _ time.Duration) {
	c.n.Add(1)
	c.rows.Add(int64(len(waits)))
	if len(waits) == 1 {
		c.ones.Add(1)
	}
}

func (c *batchCount) Answered(string, time.Duration) {}

// releaseResult is a burst's: rows/s, a caller's p50 and p99 wait (ms),
// the CPU time PostgreSQL and this process spent per 1,000 rows (ms), and
// PostgreSQL's minor page faults per 1,000 rows.
type releaseResult struct {
	rowsPerSec, p50, p99, pgCPU, selfCPU, pgFaults, objects, bytes float64
	// batches and ones are the group commit's batches in the burst, and
	// those of one row (0 for the chunked variants).
	batches, ones int64
}

// heapAllocs are the objects and bytes this process has allocated so far
// (runtime/metrics: every allocation, not a sample).
func heapAllocs() (objects, allocated uint64) {
	m := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(m)
	return m[0].Value.Uint64(), m[1].Value.Uint64()
}

// prepare makes a round's sessions and people (an account, an identity
// with a verified name, and the account's self patient for each winner)
// and returns the burst's bookings and events, the sessions interleaved as
// their pools' winners arrive.
func (rb *releaseBench) prepare(b *testing.B, round int) []pendingCommit {
	ctx := context.Background()
	day := time.Now().AddDate(0, 0, 7+round).Truncate(24 * time.Hour)
	release := time.Now().Add(-time.Second)
	var sch booking.Schedule
	for i := range releaseSessions {
		doc := booking.Doctor{ID: booking.NewID(), HospitalID: rb.hosp.ID, DepartmentID: rb.dept.ID, Name: fmt.Sprintf("Dr %d-%d", round, i)}
		s, err := booking.BuildSession(booking.SessionSpec{HospitalID: rb.hosp.ID, DepartmentID: rb.dept.ID, DoctorID: doc.ID,
			VisitDate: day.Format(time.DateOnly), Period: "morning", StartsAt: day.Add(8 * time.Hour), EndsAt: day.Add(12 * time.Hour),
			Quotas: []booking.ChannelQuota{{Channel: booking.ChannelOnline, Quota: releaseSlots, ReleaseAt: release}}})
		testenv.Must(b, err, "build session")
		sch.Doctors, sch.Sessions = append(sch.Doctors, doc), append(sch.Sessions, s)
	}
	testenv.Must(b, rb.store.SaveSchedule(ctx, sch), "save schedule")

	n := releaseSessions * releaseSlots
	acct, ident, pat := make([]string, n), make([]string, n), make([]string, n)
	phone, idHash, name := make([][]byte, n), make([][]byte, n), make([][]byte, n)
	for i := range n {
		acct[i], ident[i], pat[i] = booking.NewID(), booking.NewID(), booking.NewID()
		phone[i], idHash[i], name[i] = []byte(rand.Text()), []byte(rand.Text()), []byte(rand.Text())
	}
	_, err := rb.db.Pool().Exec(ctx, `
		WITH a AS (
		    INSERT INTO accounts (id, role, phone_hash, phone_sealed, phone_masked, password_hash)
		    SELECT a, 'patient', p, '\x00', '138****0000', 'x' FROM unnest($1::UUID[], $3::BYTEA[]) AS t (a, p)
		), i AS (
		    INSERT INTO identities (id, id_type, id_hash, number_sealed, number_masked, name_hash, name_sealed, name_masked, name_verified_at)
		    SELECT i, 'resident_id', h, '\x00', '1101**********123X', nm, '\x00', '张*', now()
		      FROM unnest($2::UUID[], $4::BYTEA[], $5::BYTEA[]) AS t (i, h, nm)
		)
		SELECT 1`, acct, ident, phone, idHash, name)
	testenv.Must(b, err, "accounts and identities")
	_, err = rb.db.Pool().Exec(ctx, `
		INSERT INTO patients (id, account_id, identity_id, is_self, phone_hash, phone_sealed, phone_masked, name_hash, name_sealed, name_masked, relationship)
		SELECT p, a, i, true, ph, '\x00', '138****0000', nm, '\x00', '张*', 'self'
		  FROM unnest($1::UUID[], $2::UUID[], $3::UUID[], $4::BYTEA[], $5::BYTEA[]) AS t (a, i, p, ph, nm)`,
		acct, ident, pat, phone, name)
	testenv.Must(b, err, "patients")

	burst := make([]pendingCommit, n)
	now := time.Now().Truncate(time.Microsecond)
	for k := range n {
		s := sch.Sessions[k%releaseSessions]
		bk := booking.Booking{ID: booking.NewID(), SessionID: s.ID, HospitalID: rb.hosp.ID, DepartmentID: rb.dept.ID,
			DoctorID: s.DoctorID, VisitDate: s.VisitDate, SlotNo: k/releaseSessions + 1, PatientID: pat[k], IdentityID: ident[k],
			AccountID: acct[k], NameHash: string(name[k]), Channel: booking.ChannelOnline, Status: booking.StatusConfirmed,
			IdempotencyKey: rand.Text()[:16], CreatedAt: now}
		ev := booking.Event{ID: booking.NewID(), TS: now, Type: booking.EventBooked, AccountID: acct[k], PatientID: pat[k],
			IdentityID: ident[k], BookingID: bk.ID, SessionID: s.ID, HospitalID: rb.hosp.ID, DepartmentID: rb.dept.ID,
			DoctorID: s.DoctorID, Channel: booking.ChannelOnline, ReleaseAt: release, IP: "10.0.0.1", DeviceID: "bench-device"}
		burst[k] = pendingCommit{bk, ev}
	}
	// Every variant starts its burst from a checkpoint: the pages it
	// touches pay their first write to the log alike (best effort: the
	// test database's owner may not be a superuser).
	_, _ = rb.db.Pool().Exec(ctx, `CHECKPOINT`)
	if rb.variant.cold {
		rb.db.Pool().Reset()
		if rb.variant.fill {
			testenv.Must(b, rb.db.Fill(ctx), "%s: fill", rb.variant.name)
		}
		if rb.variant.used {
			rb.readOnEach(b)
		}
	}
	return burst
}

// readOnEach reads, on every connection of the pool at once, the tables a
// booking references and those it writes.
func (rb *releaseBench) readOnEach(b *testing.B) {
	ctx := context.Background()
	n := int(rb.db.Pool().Config().MaxConns)
	conns := make([]*pgxpool.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	for range n {
		c, err := rb.db.Pool().Acquire(ctx)
		testenv.Must(b, err, "acquire")
		conns = append(conns, c)
		for _, table := range []string{"accounts", "identities", "patients", "clinic_sessions", "slots", "bookings", "booking_events"} {
			_, err := c.Exec(ctx, "SELECT count(*) FROM "+table)
			testenv.Must(b, err, "read %s", table)
		}
	}
}

type pendingCommit struct {
	b  booking.Booking
	ev booking.Event
}

// run commits a burst from releaseCallers callers, each taking the next
// booking as soon as its last is answered.
func (rb *releaseBench) run(b *testing.B, burst []pendingCommit) releaseResult {
	ctx := context.Background()
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	lat := make([]time.Duration, len(burst))
	batches0, ones0 := rb.batches.n.Load(), rb.batches.ones.Load()
	pg0, faults0 := rb.postgresCPU()
	self0 := selfCPU()
	objects0, bytes0 := heapAllocs()
	start := time.Now()
	if rb.variant.chunks {
		rb.writeChunks(b, burst, lat)
	}
	for range releaseCallers {
		if rb.variant.chunks {
			break
		}
		wg.Go(func() {
			for {
				k := int(next.Add(1)) - 1
				if k >= len(burst) {
					return
				}
				t0 := time.Now()
				if err := rb.svc.Commit(ctx, burst[k].b, burst[k].ev); err != nil {
					failed.Store(err)
				}
				lat[k] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	objects, allocated := heapAllocs()
	pg, faults := rb.postgresCPU()
	pg, faults, self := pg-pg0, faults-faults0, selfCPU()-self0
	if err, ok := failed.Load().(error); ok {
		b.Fatalf("%s: a commit failed: %v", rb.variant.name, err)
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return releaseResult{rowsPerSec: float64(len(burst)) / took.Seconds(), p50: ms(lat[len(lat)/2]), p99: ms(lat[len(lat)*99/100]),
		pgCPU: ms(pg) * 1000 / float64(len(burst)), selfCPU: ms(self) * 1000 / float64(len(burst)),
		pgFaults: float64(faults) * 1000 / float64(len(burst)),
		objects:  float64(objects-objects0) / float64(len(burst)), bytes: float64(allocated-bytes0) / float64(len(burst)),
		batches: rb.batches.n.Load() - batches0, ones: rb.batches.ones.Load() - ones0}
}

// writeChunks writes the burst in chunks (releaseVariant.chunks), each
// row's latency that of its chunk.
func (rb *releaseBench) writeChunks(b *testing.B, burst []pendingCommit, lat []time.Duration) {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for range releaseChunkWriters {
		wg.Go(func() {
			for {
				lo := int(next.Add(releaseChunk)) - releaseChunk
				if lo >= len(burst) {
					return
				}
				chunk := burst[lo:min(lo+releaseChunk, len(burst))]
				t0 := time.Now()
				var err error
				if rb.variant.copy {
					err = rb.copyChunk(ctx, chunk)
				} else {
					bs, evs := make([]booking.Booking, len(chunk)), make([]booking.Event, len(chunk))
					for i, c := range chunk {
						bs[i], evs[i] = c.b, c.ev
					}
					var errs []error
					errs, err = rb.store.InsertBookings(ctx, bs, evs)
					for _, e := range errs {
						err = errors.Join(err, e)
					}
				}
				if err != nil {
					failed.Store(err)
				}
				for i := range chunk {
					lat[lo+i] = time.Since(t0)
				}
			}
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		b.Fatalf("%s: a chunk failed: %v", rb.variant.name, err)
	}
}

// copyChunk writes a chunk's bookings and events by COPY in one
// transaction (releaseVariant.copy).
func (rb *releaseBench) copyChunk(ctx context.Context, chunk []pendingCommit) error {
	id := func(s string) pgtype.UUID {
		var u pgtype.UUID
		if s != "" {
			_ = u.Scan(s)
		}
		return u
	}
	return pgx.BeginFunc(ctx, rb.db.Pool(), func(tx pgx.Tx) error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"bookings"}, []string{"id", "session_id", "slot_no", "hospital_id",
			"department_id", "doctor_id", "visit_date", "patient_id", "identity_id", "account_id", "channel", "status",
			"idempotency_key", "created_at", "booked_by", "name_hash", "allotted"},
			pgx.CopyFromSlice(len(chunk), func(i int) ([]any, error) {
				bk := chunk[i].b
				day, err := time.Parse(time.DateOnly, bk.VisitDate)
				return []any{id(bk.ID), id(bk.SessionID), int32(bk.SlotNo), id(bk.HospitalID), id(bk.DepartmentID),
					id(bk.DoctorID), pgtype.Date{Time: day, Valid: true}, id(bk.PatientID), id(bk.IdentityID), id(bk.AccountID),
					string(bk.Channel), string(bk.Status), bk.IdempotencyKey, bk.CreatedAt, id(bk.BookedBy), []byte(bk.NameHash),
					bk.Allotted}, err
			}))
		if err != nil {
			return err
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"booking_events"}, []string{"id", "ts", "type", "account_id", "patient_id",
			"booking_id", "session_id", "hospital_id", "department_id", "doctor_id", "channel", "ip", "device_id", "phone",
			"release_at", "reason", "staff_id", "identity_id"},
			pgx.CopyFromSlice(len(chunk), func(i int) ([]any, error) {
				ev := chunk[i].ev
				return []any{id(ev.ID), ev.TS, string(ev.Type), id(ev.AccountID), id(ev.PatientID), id(ev.BookingID),
					id(ev.SessionID), id(ev.HospitalID), id(ev.DepartmentID), id(ev.DoctorID), string(ev.Channel), ev.IP,
					ev.DeviceID, ev.Phone, ev.ReleaseAt, ev.Reason, id(ev.StaffID), id(ev.IdentityID)}, nil
			}))
		return err
	})
}

// postgresCPU is the CPU time and the minor page faults of the test
// PostgreSQL's processes so far: the postmaster's, its children's and those
// of the children it reaped, read from /proc (0 when the server is not on
// this machine, or not readable).
func (rb *releaseBench) postgresCPU() (time.Duration, int64) {
	if rb.postmaster == 0 {
		var backend int
		if err := rb.db.Pool().QueryRow(context.Background(), `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
			return 0, 0
		}
		if st, ok := procStat(backend); ok {
			rb.postmaster = st.ppid
		}
	}
	dir, err := os.ReadDir("/proc")
	if err != nil || rb.postmaster == 0 {
		return 0, 0
	}
	var ticks, faults int64
	for _, e := range dir {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := procStat(pid); ok && (pid == rb.postmaster || st.ppid == rb.postmaster) {
			ticks += st.utime + st.stime
			faults += st.minflt
			if pid == rb.postmaster {
				ticks += st.cutime + st.cstime
				faults += st.cminflt
			}
		}
	}
	return time.Duration(ticks) * time.Second / 100, faults // USER_HZ
}

type procStats struct {
	ppid                         int
	minflt, cminflt              int64
	utime, stime, cutime, cstime int64
}

// procStat reads /proc/PID/stat (proc(5)).
func procStat(pid int) (procStats, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStats{}, false
	}
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return procStats{}, false
	}
	f := strings.Fields(string(raw[i+1:])) // f[0] is field 3, the state
	if len(f) < 15 {
		return procStats{}, false
	}
	n := func(k int) int64 { v, _ := strconv.ParseInt(f[k-3], 10, 64); return v }
	return procStats{ppid: int(n(4)), minflt: n(10), cminflt: n(11), utime: n(14), stime: n(15), cutime: n(16), cstime: n(17)}, true
}

// selfCPU is this process's CPU time so far (the service's side of the
// commit: the group commit, encoding, the callers).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
