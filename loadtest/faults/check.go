package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// The checker reads SQL and Redis directly, with its own queries and its
// own reading of the key layout (docs/design.md), not through the
// service's code: what it finds wrong, the service could not have hidden.

// Verdict is what the checker found after one run.
type Verdict struct {
	Attempts  int      // booking attempts (online, phone, desk)
	Requests  int      // requests sent, retries included
	Confirmed int      // distinct bookings answered 201
	Lost      []string // answered 201, yet not in SQL, or cancelled though nobody asked
	Oversold  []string // a slot booked twice, or a pool with more bookings than slots
	Double    []string // an identity twice in a session or a day's department, or over a quota
	Drift     []string // Redis differs from SQL after recovery
	Unknown   int      // operations whose last answer left the outcome unknown (gave up)
	Promoted  int      // bookings made by waitlist hand-overs
	Answers   map[string]int
}

// OK reports no lost, oversold, double booking and no drift.
func (v Verdict) OK() bool {
	return len(v.Lost) == 0 && len(v.Oversold) == 0 && len(v.Double) == 0 && len(v.Drift) == 0
}

// Check reads the database at db and Redis at rdb (keys under prefix) and
// judges them against the history.
func Check(ctx context.Context, db *pgx.Conn, rdb *redis.Client, prefix string, events []Event) (Verdict, error) {
	v := Verdict{Answers: map[string]int{}}
	confirmed := map[string]bool{}
	cancelAsked := map[string]bool{}
	lastOf := map[string]Event{}
	for _, e := range events {
		v.Requests++
		v.Answers[fmt.Sprintf("%s %d %s", e.Op, e.Status, e.Code)]++
		if e.Try == 0 && (e.Op == "book" || e.Op == "phone" || e.Op == "desk") {
			v.Attempts++
		}
		if e.booking() && e.BookingID != "" {
			confirmed[e.BookingID] = true
		}
		if e.Op == "cancel" {
			cancelAsked[e.BookingID] = true
		}
		if prev, ok := lastOf[e.Key]; !ok || e.Try > prev.Try {
			lastOf[e.Key] = e
		}
	}
	v.Confirmed = len(confirmed)
	for _, e := range lastOf {
		if e.Status == 0 || e.Status >= 500 || e.Code == "request_in_progress" {
			v.Unknown++
		}
	}

	// Every 201 is in SQL, and only a cancellation someone asked for ended it.
	ids := slices.Collect(func(yield func(string) bool) {
		for id := range confirmed {
			if !yield(id) {
				return
			}
		}
	})
	status := map[string]string{}
	rows, err := db.Query(ctx, `SELECT id::TEXT, status FROM bookings WHERE id = ANY($1::UUID[])`, ids)
	if err != nil {
		return v, err
	}
	for rows.Next() {
		var id, st string
		if err := rows.Scan(&id, &st); err != nil {
			return v, err
		}
		status[id] = st
	}
	if err := rows.Err(); err != nil {
		return v, err
	}
	for _, id := range ids {
		switch st, ok := status[id]; {
		case !ok:
			v.Lost = append(v.Lost, id+": answered 201, not in SQL")
		case st == "cancelled" && !cancelAsked[id]:
			v.Lost = append(v.Lost, id+": answered 201, cancelled though nobody asked")
		}
	}
	if err := db.QueryRow(ctx, `SELECT count(*) FROM bookings b JOIN waitlist w ON w.id = b.id`).Scan(&v.Promoted); err != nil {
		return v, err
	}

	const active = `status IN ('confirmed', 'checked_in')`
	bad := func(into *[]string, what, q string) error {
		rows, err := db.Query(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a, b string
			var n int
			if err := rows.Scan(&a, &b, &n); err != nil {
				return err
			}
			*into = append(*into, fmt.Sprintf("%s %s %s: %d", what, a, b, n))
		}
		return rows.Err()
	}
	checks := []struct {
		into    *[]string
		what, q string
	}{
		{into: &v.Oversold, what: "slot booked twice", q: `SELECT session_id::TEXT, slot_no::TEXT, count(*)::INT FROM bookings
			WHERE ` + active + ` GROUP BY session_id, slot_no HAVING count(*) > 1`},
		{into: &v.Oversold, what: "pool over its slots", q: `SELECT b.session_id::TEXT, b.channel, count(*)::INT FROM bookings b
			WHERE b.` + active + ` GROUP BY b.session_id, b.channel
			HAVING count(*) > (SELECT count(*) FROM slots s WHERE s.session_id = b.session_id AND s.channel = b.channel)`},
		{into: &v.Double, what: "identity twice in a session", q: `SELECT identity_id::TEXT, session_id::TEXT, count(*)::INT FROM bookings
			WHERE ` + active + ` GROUP BY identity_id, session_id HAVING count(*) > 1`},
		{into: &v.Double, what: "identity twice on a day in a department", q: `SELECT identity_id::TEXT, visit_date::TEXT || ' ' || department_id::TEXT,
			count(*)::INT FROM bookings WHERE ` + active + ` GROUP BY identity_id, visit_date, department_id HAVING count(*) > 1`},
		{into: &v.Double, what: "identity over its daily quota", q: `SELECT b.identity_id::TEXT, b.visit_date::TEXT, count(*)::INT
			FROM bookings b JOIN hospitals h ON h.id = b.hospital_id WHERE b.` + active + `
			GROUP BY b.identity_id, b.visit_date, h.per_day HAVING count(*) > h.per_day`},
		{into: &v.Double, what: "identity over its weekly quota", q: `SELECT b.identity_id::TEXT, to_char(b.visit_date, 'IYYY-IW'), count(*)::INT
			FROM bookings b JOIN hospitals h ON h.id = b.hospital_id WHERE b.` + active + `
			GROUP BY b.identity_id, to_char(b.visit_date, 'IYYY-IW'), h.per_week HAVING count(*) > h.per_week`},
		{into: &v.Double, what: "identity over its monthly quota", q: `SELECT b.identity_id::TEXT, to_char(b.visit_date, 'YYYY-MM'), count(*)::INT
			FROM bookings b JOIN hospitals h ON h.id = b.hospital_id WHERE b.` + active + `
			GROUP BY b.identity_id, to_char(b.visit_date, 'YYYY-MM'), h.per_month HAVING count(*) > h.per_month`},
	}
	for _, c := range checks {
		if err := bad(c.into, c.what, c.q); err != nil {
			return v, fmt.Errorf("%s: %w", c.what, err)
		}
	}
	drift, err := redisDrift(ctx, db, rdb, prefix)
	if err != nil {
		return v, err
	}
	v.Drift = drift
	return v, nil
}

// redisDrift compares Redis with SQL for every session: each active booking
// holds its slot, in the session's held hash, counted in its identity's
// quotas; every other slot is free in its own channel's pool or waiting out
// a return delay, and nowhere else; the hospital's mark is there.
func redisDrift(ctx context.Context, db *pgx.Conn, rdb *redis.Client, prefix string) ([]string, error) {
	type slot struct {
		hospital, channel, booking, identity string
	}
	slots := map[string]map[int]*slot{} // session → slot → what SQL says
	hospitals := map[string]bool{}
	rows, err := db.Query(ctx, `SELECT s.session_id::TEXT, s.slot_no, s.channel, cs.hospital_id::TEXT,
		COALESCE(b.id::TEXT, ''), COALESCE(i.id_hash, ''::BYTEA)
		FROM slots s JOIN clinic_sessions cs ON cs.id = s.session_id
		LEFT JOIN bookings b ON b.session_id = s.session_id AND b.slot_no = s.slot_no AND b.status IN ('confirmed', 'checked_in')
		LEFT JOIN identities i ON i.id = b.identity_id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var sid, ch, hid, bid string
		var n int
		var idHash []byte
		if err := rows.Scan(&sid, &n, &ch, &hid, &bid, &idHash); err != nil {
			return nil, err
		}
		if slots[sid] == nil {
			slots[sid] = map[int]*slot{}
		}
		ik := ""
		if len(idHash) >= 12 {
			ik = hex.EncodeToString(idHash[:12]) // the identity's key in Redis: 96 bits of its keyed hash
		}
		slots[sid][n] = &slot{hospital: hid, channel: ch, booking: bid, identity: ik}
		hospitals[hid] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []string
	for hid := range hospitals {
		if n, err := rdb.Exists(ctx, prefix+":{"+hid+"}:loaded").Result(); err != nil {
			return nil, err
		} else if n == 0 {
			out = append(out, "hospital "+hid+": no mark of a complete load")
		}
	}
	channels := []string{"online", "phone", "onsite", "referral"}
	for sid, ss := range slots {
		var hid string
		for _, s := range ss {
			hid = s.hospital
			break
		}
		base := prefix + ":{" + hid + "}:"
		held, err := rdb.HGetAll(ctx, base+"s:"+sid+":held").Result()
		if err != nil {
			return nil, err
		}
		where := map[int][]string{}
		for _, ch := range channels {
			free, err := rdb.ZRange(ctx, base+"s:"+sid+":free:"+ch, 0, -1).Result()
			if err != nil {
				return nil, err
			}
			for _, f := range free {
				n, _ := strconv.Atoi(f)
				where[n] = append(where[n], "free:"+ch)
			}
		}
		delayed, err := rdb.ZRange(ctx, base+"delayed", 0, -1).Result()
		if err != nil {
			return nil, err
		}
		for _, d := range delayed {
			f := strings.Split(d, "|")
			if len(f) == 3 && f[0] == sid {
				n, _ := strconv.Atoi(f[1])
				where[n] = append(where[n], "delayed")
			}
		}
		for n, s := range ss {
			h, isHeld := held[strconv.Itoa(n)]
			switch {
			case s.booking != "" && h != s.booking:
				out = append(out, fmt.Sprintf("session %s slot %d: booked by %s in SQL, held by %q in Redis", sid, n, s.booking, h))
			case s.booking == "" && isHeld:
				out = append(out, fmt.Sprintf("session %s slot %d: free in SQL, held by %s in Redis", sid, n, h))
			case s.booking != "" && len(where[n]) > 0:
				out = append(out, fmt.Sprintf("session %s slot %d: booked, yet also %v in Redis", sid, n, where[n]))
			case s.booking == "" && !(len(where[n]) == 1 && (where[n][0] == "free:"+s.channel || where[n][0] == "delayed")):
				out = append(out, fmt.Sprintf("session %s slot %d (%s): free in SQL, %v in Redis", sid, n, s.channel, where[n]))
			}
			if s.booking != "" {
				if ok, err := rdb.HExists(ctx, base+"i:"+s.identity, s.booking).Result(); err != nil {
					return nil, err
				} else if !ok {
					out = append(out, fmt.Sprintf("session %s slot %d: booking %s not counted in its identity's quotas", sid, n, s.booking))
				}
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// WaitQuiet waits until Redis has no pending hold left (every commit
// settled: confirmed, or released by the sweeper after --hold-for), or the
// timeout passes.
func WaitQuiet(ctx context.Context, rdb *redis.Client, prefix string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		keys, err := rdb.Keys(ctx, prefix+":{*}:pending").Result()
		if err == nil {
			n := int64(0)
			for _, k := range keys {
				c, _ := rdb.ZCard(ctx, k).Result()
				n += c
			}
			if n == 0 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pending holds left after %s (err %v)", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
