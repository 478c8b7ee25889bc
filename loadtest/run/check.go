package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fairslot/loadtest/report"
)

// check runs the invariants after the load: nothing in SQL or Redis may be
// wrong, whatever the latency was.
func (e *env) check(ctx context.Context, o options, sc scenario, seeded seedFile, s *sampler) []report.Check {
	var out []report.Check
	add := func(name string, ok bool, format string, args ...any) {
		out = append(out, report.Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	}
	count := func(q string, args ...any) (int64, error) {
		var n int64
		err := e.db.QueryRow(ctx, q, args...).Scan(&n)
		return n, err
	}
	rows := func(name, q string, args ...any) {
		n, err := count("SELECT count(*) FROM ("+q+") AS bad", args...)
		switch {
		case err != nil:
			add(name, false, "query failed: %v", err)
		default:
			add(name, n == 0, "%d offending rows", n)
		}
	}
	const active = `status IN ('confirmed', 'checked_in')`

	var fivexx float64
	for _, l := range s.lines {
		if m, ok := l["outcomes"].(map[string]float64); ok {
			fivexx += m["5xx"]
		}
	}
	add("no 5xx answers", fivexx == 0, "%.0f answers with a 5xx status (service-side count)", fivexx)

	rows("no slot booked twice",
		`SELECT session_id, slot_no FROM bookings WHERE `+active+` GROUP BY 1, 2 HAVING count(*) > 1`)
	rows("no oversell: active bookings never exceed a pool's slots",
		`SELECT b.session_id, b.channel FROM bookings b WHERE b.`+active+` GROUP BY 1, 2
		 HAVING count(*) > (SELECT count(*) FROM slots s WHERE s.session_id = b.session_id AND s.channel = b.channel)`)
	rows("no identity twice on a day in a department",
		`SELECT identity_id FROM bookings WHERE `+active+` GROUP BY identity_id, visit_date, department_id HAVING count(*) > 1`)
	rows("no identity over its daily quota",
		`SELECT b.identity_id FROM bookings b JOIN hospitals h ON h.id = b.hospital_id WHERE b.`+active+`
		 GROUP BY b.identity_id, b.visit_date, h.per_day HAVING count(*) > h.per_day`)

	seen, err := bookedIDs(filepath.Join(o.runDir, "booked.log"))
	if err != nil {
		add("every 201 is in SQL", false, "read booked.log: %v", err)
	} else {
		found, err := count(`SELECT count(*) FROM bookings WHERE id = ANY($1::uuid[]) AND (`+active+` OR status = 'cancelled')`, seen)
		if err != nil {
			add("every 201 is in SQL", false, "query failed: %v", err)
		} else {
			add("every 201 is in SQL", found == int64(len(seen)), "%d of the %d bookings the load generator was answered 201 for", found, len(seen))
		}
		total, err := count(`SELECT count(*) FROM bookings`)
		if err == nil {
			add("every SQL booking was answered 201", total == int64(len(seen)),
				"%d bookings in SQL, %d answered 201 (a client that gave up before its answer would show here)", total, len(seen))
		}
	}

	var rc strings.Builder
	if err := e.fairslot(ctx, o.bin, &rc, "reconcile", "--check"); err != nil {
		add("Redis agrees with SQL", false, "fairslot reconcile --check: %v %s", err, oneLine(rc.String()))
	} else {
		add("Redis agrees with SQL", true, "fairslot reconcile --check: %s", oneLine(rc.String()))
	}
	if sc.steady {
		ok, detail := growth(s)
		add("no memory growth over the steady run", ok, "%s", detail)
	}
	return out
}

// growth compares resident memory over the last minute with the minute
// half way through the run, when the caches have filled (the patient cache
// grows with the patients seen, up to its bound): more than 10% is growth.
func growth(s *sampler) (bool, string) {
	var rss []float64
	for _, l := range s.lines {
		if v, ok := l["rss_mb"].(float64); ok {
			rss = append(rss, v)
		}
	}
	if len(rss) < 180 {
		return true, fmt.Sprintf("run shorter than 3 minutes (%d samples): not judged", len(rss))
	}
	mean := func(xs []float64) float64 {
		t := 0.0
		for _, x := range xs {
			t += x
		}
		return t / float64(len(xs))
	}
	mid := len(rss) / 2
	early, late := mean(rss[mid-60:mid]), mean(rss[len(rss)-60:])
	return late <= early*1.10, fmt.Sprintf("resident %.1f MB in the minute half way, %.1f MB in the last minute (%+.1f%%); %.1f MB at the start",
		early, late, (late/early-1)*100, rss[0])
}

// bookedIDs reads the "BOOKED <id>" lines the load generator logs per 201.
func bookedIDs(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "BOOKED "); ok {
			ids = append(ids, id)
		}
	}
	return ids, sc.Err()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// shares says how the booked slots split between genuine patients and the
// bots (patients.csv's kind), in SQL.
func (e *env) shares(ctx context.Context, runDir string) string {
	f, err := os.Open(filepath.Join(runDir, "patients.csv"))
	if err != nil {
		return "shares: " + err.Error()
	}
	defer f.Close()
	var bots []string
	genuine, botPatients := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		switch {
		case len(fields) < 4 || fields[0] == "token":
		case fields[3] == "bot":
			bots = append(bots, fields[2])
			botPatients++
		default:
			genuine++
		}
	}
	var total, won int64
	err = e.db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE account_id = ANY($1::uuid[]))
		FROM bookings WHERE status IN ('confirmed', 'checked_in')`, bots).Scan(&total, &won)
	if err != nil || total == 0 {
		return fmt.Sprintf("shares: no bookings (%v)", err)
	}
	return fmt.Sprintf("Slots won: bots %d of %d (%.1f%%) with %d of the %d identities (%.1f%%); genuine patients %d (%.1f%%).",
		won, total, 100*float64(won)/float64(total), botPatients, genuine+botPatients,
		100*float64(botPatients)/float64(genuine+botPatients), total-won, 100*float64(total-won)/float64(total))
}
