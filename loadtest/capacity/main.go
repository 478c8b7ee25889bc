// Command capacity measures the numbers of docs/scaling.md's capacity model
// in one run, so their ratios can be compared:
//
//	go build -o bin/ ./cmd/fairslot ./loadtest/loadseed
//	go run ./loadtest/capacity -bin bin/fairslot -loadseed bin/loadseed -redis 127.0.0.1:16379 \
//	    -db local=$FAIRSLOT_TEST_DATABASE_URL -db replicated=$FAIRSLOT_TEST_HA_DATABASE_URL
//
// Redis (one shard): admissions per second (reserve.lua handing out slots,
// and refusing an empty pool), and memory per 1,000 slots free and booked.
// SQL (each -db): bookings committed per second by the booking commit
// (cockroach.Store.InsertBooking, one statement per booking) from 32
// workers, and the disk per 100,000 patients after loadtest/loadseed.
// Each database is made for the run and dropped after it; Redis keys live
// under a prefix of the run's own and are deleted after it.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"fairslot/internal/admission"
	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
)

type dbFlag []string

func (d *dbFlag) String() string     { return strings.Join(*d, ",") }
func (d *dbFlag) Set(v string) error { *d = append(*d, v); return nil }

type config struct {
	bin, loadseed, redisAddr, redisPassword string
	dbs                                     dbFlag
	workers                                 int
	patients                                int
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "capacity:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("capacity", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.bin, "bin", "bin/fairslot", "the fairslot binary (for migrate)")
	fs.StringVar(&c.loadseed, "loadseed", "bin/loadseed", "the seeding tool's binary (go build -o bin/ ./loadtest/loadseed)")
	fs.StringVar(&c.redisAddr, "redis", os.Getenv("FAIRSLOT_TEST_REDIS_ADDR"), "a single Redis: one shard")
	fs.StringVar(&c.redisPassword, "redis-password", os.Getenv("FAIRSLOT_TEST_REDIS_PASSWORD"), "its password")
	fs.Var(&c.dbs, "db", "label=URL of a PostgreSQL (or CockroachDB) whose user may create databases; repeatable")
	fs.IntVar(&c.workers, "workers", 32, "concurrent clients (the service's SQL pool is 32)")
	fs.IntVar(&c.patients, "patients", 100_000, "patients seeded per database (disk per patient)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.redisAddr == "" || len(c.dbs) == 0 {
		return errors.New("-redis and at least one -db are required")
	}
	fmt.Fprintf(stdout, "capacity run %s, %d workers\n\n", time.Now().UTC().Format(time.RFC3339), c.workers)
	rdb := redis.NewClient(&redis.Options{Addr: c.redisAddr, Password: c.redisPassword, PoolSize: 2 * c.workers})
	defer rdb.Close()
	if err := redisCapacity(ctx, rdb, c.workers, stdout); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	for _, d := range c.dbs {
		label, u, ok := strings.Cut(d, "=")
		if !ok {
			return fmt.Errorf("-db %q: want label=URL", d)
		}
		if err := sqlCapacity(ctx, c, label, u, stdout); err != nil {
			return fmt.Errorf("sql %s: %w", label, err)
		}
	}
	return nil
}

func token() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// usedMemory is Redis's INFO memory used_memory.
func usedMemory(ctx context.Context, rdb *redis.Client) (int64, error) {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, errors.New("no used_memory in INFO")
}

// redisCapacity loads 100 sessions of 100 slots (4 channel pools each) into
// one Redis, books every slot from `workers` clients, then keeps asking the
// empty pools.
func redisCapacity(ctx context.Context, rdb *redis.Client, workers int, out io.Writer) error {
	const sessions, slots = 100, 100
	prefix := "cap" + token()
	defer deletePrefix(context.WithoutCancel(ctx), rdb, prefix)
	g := admission.New(rdb, prefix, nil)
	if err := g.Preload(ctx); err != nil {
		return err
	}
	hosp := booking.NewID()
	day := time.Now().AddDate(0, 0, 3)
	date := day.Format(time.DateOnly)
	release := time.Now().Add(-time.Minute)
	var ss []*booking.Session
	m0, err := usedMemory(ctx, rdb)
	if err != nil {
		return err
	}
	for i := range sessions {
		s, err := booking.BuildSession(booking.SessionSpec{
			HospitalID: hosp, DepartmentID: booking.NewID(), DoctorID: booking.NewID(), VisitDate: date, Period: "morning",
			StartsAt: day, EndsAt: day.Add(4 * time.Hour),
			Quotas: []booking.ChannelQuota{
				{Channel: booking.ChannelOnline, Quota: slots * 70 / 100, ReleaseAt: release},
				{Channel: booking.ChannelPhone, Quota: slots * 15 / 100, ReleaseAt: release},
				{Channel: booking.ChannelOnsite, Quota: slots * 10 / 100, ReleaseAt: release},
				{Channel: booking.ChannelReferral, Quota: slots * 5 / 100, ReleaseAt: release},
			},
		})
		if err != nil {
			return fmt.Errorf("session %d: %w", i, err)
		}
		if err := g.Load(ctx, &s, nil, nil); err != nil {
			return err
		}
		ss = append(ss, &s)
	}
	m1, err := usedMemory(ctx, rdb)
	if err != nil {
		return err
	}

	// Every slot booked by an identity of its own.
	type job struct {
		s  *booking.Session
		ch booking.ChannelQuota
	}
	var jobs []job
	for _, s := range ss {
		for _, q := range s.Channels {
			for range q.Quota {
				jobs = append(jobs, job{s, q})
			}
		}
	}
	week, month := booking.PeriodKeys(date)
	reservation := func(j job) booking.Reservation {
		return booking.Reservation{BookingID: booking.NewID(), Nonce: token(), HospitalID: hosp, SessionID: j.s.ID,
			Channel: j.ch.Channel, IdentityKey: token() + token(), VisitDate: date, DepartmentID: j.s.DepartmentID,
			Week: week, Month: month, Today: time.Now().Format(time.DateOnly), Policy: booking.DefaultPolicy,
			HoldFor: time.Minute, KeepUntil: day.Add(48 * time.Hour)}
	}
	var held []booking.Reservation
	var mu sync.Mutex
	admitted, took, err := parallel(ctx, workers, len(jobs), func(i int) error {
		r := reservation(jobs[i])
		if _, _, err := g.Reserve(ctx, r); err != nil {
			return err
		}
		mu.Lock()
		held = append(held, r)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return fmt.Errorf("admit: %w", err)
	}
	if _, _, err := parallel(ctx, workers, len(held), func(i int) error {
		return g.Confirm(ctx, hosp, held[i].BookingID)
	}); err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	m2, err := usedMemory(ctx, rdb)
	if err != nil {
		return err
	}
	const refusals = 50_000
	refused, rtook, err := parallel(ctx, workers, refusals, func(i int) error {
		if _, _, err := g.Reserve(ctx, reservation(jobs[i%len(jobs)])); !errors.Is(err, booking.ErrSoldOut) {
			return fmt.Errorf("reserve on an empty pool = %v, want sold out", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("refuse: %w", err)
	}
	pings, ptook, err := parallel(ctx, workers, refusals, func(int) error { return rdb.Ping(ctx).Err() })
	if err != nil {
		return err
	}
	n := float64(len(jobs))
	fmt.Fprintf(out, "Redis, one shard (%s):\n", rdb.Options().Addr)
	fmt.Fprintf(out, "| what | result |\n|---|---|\n")
	fmt.Fprintf(out, "| admissions that hand out a slot (reserve.lua) | %.0f/s (%d in %.2fs) |\n", float64(admitted)/took.Seconds(), admitted, took.Seconds())
	fmt.Fprintf(out, "| admissions refused on an empty pool | %.0f/s |\n", float64(refused)/rtook.Seconds())
	fmt.Fprintf(out, "| PING, the floor | %.0f/s |\n", float64(pings)/ptook.Seconds())
	fmt.Fprintf(out, "| memory per 1,000 slots free (4 pools per session) | %.0f KB |\n", float64(m1-m0)/n*1000/1024)
	fmt.Fprintf(out, "| memory per 1,000 slots booked (hold, record, identity entry) | %.0f KB |\n\n", float64(m2-m0)/n*1000/1024)
	return nil
}

// parallel runs fn(0..n-1) from `workers` goroutines and returns how many
// ran and how long they took; the first error stops it.
func parallel(ctx context.Context, workers, n int, fn func(int) error) (int, time.Duration, error) {
	var next atomic.Int64
	var done atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(done.Load()), time.Since(start), first
}

func deletePrefix(ctx context.Context, rdb *redis.Client, prefix string) {
	iter := rdb.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 1000 {
			rdb.Del(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		rdb.Del(ctx, keys...)
	}
}

// sqlCapacity makes a database, seeds it with loadtest/loadseed, then
// commits one booking per slot from `workers` clients.
func sqlCapacity(ctx context.Context, c config, label, admin string, out io.Writer) error {
	name := "fairslot_cap_" + token()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		return err
	}
	defer func() {
		dctx := context.WithoutCancel(ctx)
		if _, err := conn.Exec(dctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			_, _ = conn.Exec(dctx, "DROP DATABASE IF EXISTS "+name+" CASCADE")
		}
		conn.Close(dctx)
	}()
	u, err := url.Parse(admin)
	if err != nil {
		return err
	}
	u.Path = "/" + name
	dir, err := os.MkdirTemp("", "capacity")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := append(os.Environ(), "FAIRSLOT_DATABASE_URL="+u.String(), "FAIRSLOT_REDIS_ADDR="+c.redisAddr,
		"FAIRSLOT_REDIS_PASSWORD="+c.redisPassword, "FAIRSLOT_REDIS_PREFIX=cap"+token(),
		"FAIRSLOT_SECRET_KEY="+base64.StdEncoding.EncodeToString(key))
	const sessions, slots = 40, 500
	for _, args := range [][]string{{c.bin, "migrate"}, {c.loadseed, "--out", dir, "--patients", fmt.Sprint(c.patients),
		"--sessions", fmt.Sprint(sessions), "--slots", fmt.Sprint(slots), "--release-at", "-1m"}} {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = env
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s %s: %w\n%s", args[0], args[1], err, b)
		}
	}
	db, err := cockroach.Open(ctx, u.String(), nil)
	if err != nil {
		return err
	}
	defer db.Close()
	var disk int64
	if err := db.Pool().QueryRow(ctx, `SELECT sum(pg_total_relation_size(c.oid))::INT8 FROM pg_class c
		WHERE c.relkind = 'r' AND c.relname IN ('accounts', 'identities', 'patients')`).Scan(&disk); err != nil {
		disk = -1 // CockroachDB: no pg_total_relation_size
	}

	type patient struct{ id, identity, account string }
	rows, _ := db.Pool().Query(ctx, `SELECT id::TEXT, identity_id::TEXT, account_id::TEXT FROM patients`)
	patients, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (patient, error) {
		var p patient
		err := r.Scan(&p.id, &p.identity, &p.account)
		return p, err
	})
	if err != nil {
		return err
	}
	type slot struct {
		session, hospital, dept, doctor, date string
		no                                    int
	}
	rows, _ = db.Pool().Query(ctx, `SELECT s.id::TEXT, s.hospital_id::TEXT, s.department_id::TEXT, s.doctor_id::TEXT,
		s.visit_date::TEXT, sl.slot_no FROM slots sl JOIN clinic_sessions s ON s.id = sl.session_id WHERE sl.channel = 'online'`)
	free, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (slot, error) {
		var s slot
		err := r.Scan(&s.session, &s.hospital, &s.dept, &s.doctor, &s.date, &s.no)
		return s, err
	})
	if err != nil {
		return err
	}
	if len(free) > len(patients) {
		free = free[:len(patients)]
	}
	store := cockroach.NewStore(db)
	lat := make([]time.Duration, len(free))
	n, took, err := parallel(ctx, c.workers, len(free), func(i int) error {
		s, p := free[i], patients[i]
		now := time.Now().Truncate(time.Microsecond)
		b := booking.Booking{ID: booking.NewID(), SessionID: s.session, HospitalID: s.hospital, DepartmentID: s.dept,
			DoctorID: s.doctor, VisitDate: s.date, SlotNo: s.no, PatientID: p.id, IdentityID: p.identity, AccountID: p.account,
			Channel: booking.ChannelOnline, Status: booking.StatusConfirmed, CreatedAt: now}
		ev := booking.Event{ID: booking.NewID(), TS: now, Type: booking.EventBooked, AccountID: p.account, PatientID: p.id,
			IdentityID: p.identity, BookingID: b.ID, SessionID: s.session, HospitalID: s.hospital, DepartmentID: s.dept,
			DoctorID: s.doctor, Channel: booking.ChannelOnline}
		start := time.Now()
		err := store.InsertBooking(ctx, b, ev)
		lat[i] = time.Since(start)
		return err
	})
	if err != nil {
		return fmt.Errorf("insert bookings: %w", err)
	}
	slices.Sort(lat)
	fmt.Fprintf(out, "SQL %s (%s, %s):\n", label, db.Flavor(), u.Redacted())
	fmt.Fprintf(out, "| what | result |\n|---|---|\n")
	fmt.Fprintf(out, "| bookings committed (one statement each, %d clients) | %.0f/s (%d in %.2fs), p50 %.1f ms, p99 %.1f ms |\n",
		c.workers, float64(n)/took.Seconds(), n, took.Seconds(), ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]))
	if disk >= 0 {
		fmt.Fprintf(out, "| disk per 100,000 patients (accounts, identities, patients with indexes) | %.0f MB |\n",
			float64(disk)/float64(len(patients))*100_000/(1<<20))
	}
	fmt.Fprintln(out)
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
