package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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

	seen, err := loggedIDs(filepath.Join(o.runDir, "booked.log"), "BOOKED ")
	if err != nil {
		add("every 201 is in SQL", false, "read booked.log: %v", err)
	} else {
		found, err := count(`SELECT count(*) FROM bookings WHERE id = ANY($1::uuid[]) AND (`+active+` OR status = 'cancelled')`, seen)
		if err != nil {
			add("every 201 is in SQL", false, "query failed: %v", err)
		} else {
			add("every 201 is in SQL", found == int64(len(seen)), "%d of the %d bookings the load generator was answered 201 for", found, len(seen))
		}
		// A lottery's winners were booked by the draw, not answered 201.
		total, err := count(`SELECT count(*) FROM bookings WHERE id NOT IN (SELECT id FROM lottery_entries WHERE status = 'won')`)
		if err == nil {
			add("every SQL booking was answered 201 or won a draw", total == int64(len(seen)),
				"%d bookings in SQL besides the draws' winners, %d answered 201 (a client that gave up before its answer would show here)", total, len(seen))
		}
	}
	if o.mode == "lottery" {
		out = append(out, e.checkLottery(ctx, o, seeded)...)
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

// loggedIDs reads the ids the load generator logs: "BOOKED <id>" per 201,
// "ENTERED <request id>" per 202.
func loggedIDs(path, prefix string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), prefix); ok {
			ids = append(ids, id)
		}
	}
	return ids, sc.Err()
}

// waitDraws waits until every released pool's lottery is drawn: the
// service's own lottery job draws them after their draw time.
func (e *env) waitDraws(ctx context.Context, seeded seedFile) error {
	at, err := time.Parse(time.RFC3339, seeded.DrawAt)
	if err != nil {
		return fmt.Errorf("sessions.json draw_at: %w", err)
	}
	deadline := at.Add(3 * time.Minute)
	// A connection of its own: the sampler queries e.db meanwhile, and a
	// pgx.Conn takes one query at a time ("conn busy").
	db, err := pgx.Connect(ctx, e.dbURL)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	for {
		var drawn int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM lottery_pools WHERE status = 'drawn'`).Scan(&drawn); err != nil {
			return err
		}
		if drawn >= len(seeded.Sessions) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d pools drawn 3 minutes after their draw time", drawn, len(seeded.Sessions))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// checkLottery runs the invariants of a lottery release: every 202 is a
// stored entry and every stored entry was answered 202; one live entry per
// person per session; every pool drawn with min(slots, eligible) winners,
// each booked under its entry's id; and every draw verifies from its seed.
func (e *env) checkLottery(ctx context.Context, o options, seeded seedFile) []report.Check {
	var out []report.Check
	add := func(name string, ok bool, format string, args ...any) {
		out = append(out, report.Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	}
	count := func(q string, args ...any) int64 {
		var n int64
		if err := e.db.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			return -1
		}
		return n
	}
	entered, err := loggedIDs(filepath.Join(o.runDir, "booked.log"), "ENTERED ")
	if err != nil {
		add("every 202 is a stored entry", false, "read booked.log: %v", err)
		return out
	}
	found := count(`SELECT count(*) FROM lottery_entries WHERE id = ANY($1::uuid[])`, entered)
	add("every 202 is a stored entry", found == int64(len(entered)), "%d of the %d entries answered 202", found, len(entered))
	total := count(`SELECT count(*) FROM lottery_entries`)
	add("every stored entry was answered 202", total == int64(len(entered)), "%d entries in SQL, %d answered 202", total, len(entered))
	twice := count(`SELECT count(*) FROM (SELECT session_id, identity_id FROM lottery_entries WHERE status <> 'withdrawn'
		GROUP BY 1, 2 HAVING count(*) > 1) AS x`)
	add("no person entered a session twice", twice == 0, "%d offending pairs", twice)
	bad := count(`SELECT count(*) FROM lottery_pools WHERE status <> 'drawn' OR winners <> LEAST(slots, eligible)`)
	var winners, eligible int64
	_ = e.db.QueryRow(ctx, `SELECT COALESCE(sum(winners), 0), COALESCE(sum(eligible), 0) FROM lottery_pools`).Scan(&winners, &eligible)
	add("every pool drawn with min(slots, eligible) winners", bad == 0, "%d pools off; %d winners of %d eligible entries in %d pools", bad, winners, eligible, len(seeded.Sessions))
	unbooked := count(`SELECT count(*) FROM lottery_entries e WHERE e.status = 'won'
		AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.id = e.id AND b.identity_id = e.identity_id AND b.session_id = e.session_id)`)
	add("every winner booked under its entry's id", unbooked == 0, "%d winners without their booking", unbooked)
	failed := 0
	var first string
	for _, s := range seeded.Sessions {
		var buf strings.Builder
		if err := e.fairslot(ctx, o.bin, &buf, "lottery", "verify", "--session", s.ID); err != nil {
			failed++
			if first == "" {
				first = oneLine(buf.String())
			}
		}
	}
	add("every draw verifies from its seed (fairslot lottery verify)", failed == 0, "%d of %d draws failed %s", failed, len(seeded.Sessions), first)
	return out
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// shares are how entries, identities and slots split between genuine
// patients and the bots (patients.csv's kind).
type shares struct {
	Mode          string  `json:"mode"`
	Screened      bool    `json:"screened"`
	Identities    int     `json:"identities"`
	BotIdent      int     `json:"bot_identities"`
	Entries       int64   `json:"entries"` // lottery entries; booking attempts recorded under first-come
	BotEntries    int64   `json:"bot_entries"`
	HeldOut       int64   `json:"held_out"`
	BotHeldOut    int64   `json:"bot_held_out"`
	Slots         int64   `json:"slots_won"`
	BotSlots      int64   `json:"bot_slots_won"`
	Pools         int     `json:"pools"`
	IdentityShare float64 `json:"identity_share"`
	EntryShare    float64 `json:"entry_share"`
	SlotShare     float64 `json:"slot_share"`
	// The 95 % binomial interval of the entry share over Slots draws: where
	// the bots' slot share falls if the draw gives no edge.
	Low  float64 `json:"interval_low"`
	High float64 `json:"interval_high"`
}

// shares reads the split from SQL.
func (e *env) shares(ctx context.Context, o options) (shares, error) {
	sh := shares{Mode: o.mode, Screened: o.mode == "lottery" && o.screen}
	f, err := os.Open(filepath.Join(o.runDir, "patients.csv"))
	if err != nil {
		return sh, err
	}
	defer f.Close()
	var bots []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		switch {
		case len(fields) < 4 || fields[0] == "token":
		case fields[3] == "bot":
			bots = append(bots, fields[2])
			sh.BotIdent++
			sh.Identities++
		default:
			sh.Identities++
		}
	}
	q := func(sql string, dst ...any) error { return e.db.QueryRow(ctx, sql, bots).Scan(dst...) }
	if err := q(`SELECT count(*), count(*) FILTER (WHERE account_id = ANY($1::uuid[]))
		FROM bookings WHERE status IN ('confirmed', 'checked_in')`, &sh.Slots, &sh.BotSlots); err != nil {
		return sh, err
	}
	if o.mode == "lottery" {
		if err := q(`SELECT count(*), count(*) FILTER (WHERE account_id = ANY($1::uuid[])),
			count(*) FILTER (WHERE status = 'held_out'), count(*) FILTER (WHERE status = 'held_out' AND account_id = ANY($1::uuid[]))
			FROM lottery_entries WHERE status <> 'withdrawn'`, &sh.Entries, &sh.BotEntries, &sh.HeldOut, &sh.BotHeldOut); err != nil {
			return sh, err
		}
	}
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM session_channels WHERE channel = 'online'`).Scan(&sh.Pools); err != nil {
		return sh, err
	}
	ratio := func(a, b int64) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	sh.IdentityShare = ratio(int64(sh.BotIdent), int64(sh.Identities))
	sh.EntryShare = ratio(sh.BotEntries, sh.Entries)
	sh.SlotShare = ratio(sh.BotSlots, sh.Slots)
	sh.Low, sh.High = wilson(sh.EntryShare, sh.Slots)
	return sh, nil
}

// wilson is the 95 % Wilson score interval of a proportion p over n trials.
func wilson(p float64, n int64) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	const z = 1.959964
	nf := float64(n)
	centre := (p + z*z/(2*nf)) / (1 + z*z/nf)
	half := z / (1 + z*z/nf) * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	return max(0, centre-half), min(1, centre+half)
}

func (sh shares) String() string {
	s := fmt.Sprintf("Slots won: bots %d of %d (%.1f%%) with %d of the %d identities (%.1f%%)",
		sh.BotSlots, sh.Slots, 100*sh.SlotShare, sh.BotIdent, sh.Identities, 100*sh.IdentityShare)
	if sh.Mode == "lottery" {
		s += fmt.Sprintf(" and %d of the %d lottery entries (%.1f%%; %d held out for review)", sh.BotEntries, sh.Entries, 100*sh.EntryShare, sh.HeldOut)
	}
	return s + "."
}

// markdown is the run's section of docs/fairness.md.
func (sh shares) markdown(o options) string {
	var b strings.Builder
	title := "first-come"
	if sh.Mode == "lottery" {
		title = "lottery, screening on"
		if !sh.Screened {
			title = "lottery, screening off"
		}
	}
	fmt.Fprintf(&b, "### scalper_mix, %s (%s)\n\n```sh\n%s\n```\n\n", title, time.Now().UTC().Format("2006-01-02 15:04 UTC"), meta(o, nil).Command)
	fmt.Fprintf(&b, "| | bots | everyone | bots' share |\n|---|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| identities | %d | %d | %.2f%% |\n", sh.BotIdent, sh.Identities, 100*sh.IdentityShare)
	if sh.Mode == "lottery" {
		fmt.Fprintf(&b, "| lottery entries | %d | %d | %.2f%% |\n", sh.BotEntries, sh.Entries, 100*sh.EntryShare)
		fmt.Fprintf(&b, "| entries held out for review | %d | %d | |\n", sh.BotHeldOut, sh.HeldOut)
	} else {
		fmt.Fprintf(&b, "| lottery entries | – | – | (first-come takes none) |\n")
	}
	fmt.Fprintf(&b, "| slots won (%d pools) | %d | %d | **%.2f%%** |\n\n", sh.Pools, sh.BotSlots, sh.Slots, 100*sh.SlotShare)
	switch {
	case sh.Mode != "lottery":
		fmt.Fprintf(&b, "First-come: the bots' slot share is %.1f× their share of the identities.\n", sh.SlotShare/max(sh.IdentityShare, 1e-9))
		return b.String()
	}
	fmt.Fprintf(&b, "95 %% binomial (Wilson) interval of the bots' entry share over %d slots: %.2f%% – %.2f%%. ", sh.Slots, 100*sh.Low, 100*sh.High)
	switch {
	case sh.Screened:
		fmt.Fprintf(&b, "Their slot share is %s half their identity share (%.2f%%).\n",
			map[bool]string{true: "below", false: "NOT below"}[sh.SlotShare < sh.IdentityShare/2], 50*sh.IdentityShare)
	default:
		fmt.Fprintf(&b, "Their slot share %s that interval.\n", map[bool]string{true: "lies within", false: "lies OUTSIDE"}[sh.SlotShare >= sh.Low && sh.SlotShare <= sh.High])
	}
	return b.String()
}
