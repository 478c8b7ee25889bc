package cockroach

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"fairslot/internal/booking"
)

// This file holds the SQL of lottery release: entries written in batches,
// the pools' seeds and commitments, and the draw's claim and stages.

// poolRecordScan scans a draw's public record (the columns shared by
// channels_from and lottery_pools, from commitment on).
type poolRecordScan struct {
	commitment, seed, digest                             []byte
	recipe                                               int32
	status                                               string
	drawnAt                                              *time.Time
	slots, entries, eligible, heldOut, excluded, winners int32
	unverified                                           *int32
}

func (p *poolRecordScan) dest() []any {
	return []any{&p.commitment, &p.recipe, &p.seed, &p.status, &p.drawnAt, &p.digest,
		&p.slots, &p.entries, &p.eligible, &p.heldOut, &p.excluded, &p.winners, &p.unverified}
}

func (p *poolRecordScan) record() booking.DrawRecord {
	r := booking.DrawRecord{Commitment: p.commitment, Recipe: int(p.recipe), Seed: p.seed, Status: p.status, Digest: p.digest,
		Slots: int(p.slots), Entered: int(p.entries), Eligible: int(p.eligible), HeldOut: int(p.heldOut),
		Excluded: int(p.excluded), Winners: int(p.winners)}
	if p.drawnAt != nil {
		r.DrawnAt = *p.drawnAt
	}
	if p.unverified != nil {
		n := int(*p.unverified)
		r.Unverified = &n
	}
	return r
}

// optionalID is one element of nullableIDs: nil for "", else a pointer to
// its own copy of v (one allocation, where nullableIDs([]string{v})[0]
// made two for every row of a booking batch, "" included).
func optionalID(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// nullableIDs turns "" into NULL elements of a UUID array.
func nullableIDs(ids []string) []*string {
	out := make([]*string, len(ids))
	for i := range ids {
		if ids[i] != "" {
			out[i] = &ids[i]
		}
	}
	return out
}

// InsertEntries commits a batch of entries and their events in one round
// trip (DB.Batch1: one implicit transaction, READ COMMITTED): the pools
// still open are locked FOR SHARE (the fence against a draw's claim, which
// waits for the lock), then one statement inserts the entries of open pools
// and the events of those that went in. Uniqueness (one live entry per
// person per session) is the index's. Only when some entry met a conflict
// does a second query tell a replay from a second entry of the person.
func (s *Store) InsertEntries(ctx context.Context, entries []booking.Entry, events []booking.Event) (_ []error, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var sessions uuidArray
	seen := map[string]bool{}
	var cols entryColumns
	var evs eventArrays
	var au auditArrays
	for i, e := range entries {
		if !seen[e.SessionID] {
			seen[e.SessionID] = true
			sessions.add(e.SessionID)
		}
		cols.add(e)
		evs.add(events[i])
		if a, staff := booking.StaffEntryAudit(e); staff {
			au.add(e.ID, a)
		}
	}
	if err := errors.Join(sessions.err(), cols.err(), evs.err()); err != nil {
		return nil, err
	}
	open := map[booking.PoolKey]bool{}
	inserted := map[string]bool{}
	unverified := map[string]bool{} // kept out by the name guard
	deceased := map[string]bool{}   // kept out: the person's death was recorded
	err := s.db.Batch1(ctx, "insert_entries", func(b *pgx.Batch) {
		b.Queue(q("open_pools_for_share"), sessions.v)
		// $1–$10 the entries, $11–$28 their events, $29 the entries' names,
		// $30 their commitments, $31–$39 the audit entries of staff's.
		b.Queue(q("insert_entries_with_events"), append(append(append(append(cols.args(), evs.args()...), cols.nameHash, cols.commitment), au.args()...), evs.card)...)
	}, func(br pgx.BatchResults) error {
		clear(open)
		clear(inserted)
		clear(unverified)
		clear(deceased)
		rows, _ := br.Query()
		var sid, ch string
		if _, err := pgx.ForEachRow(rows, []any{&sid, &ch}, func() error {
			open[booking.PoolKey{SessionID: sid, Channel: booking.Channel(ch)}] = true
			return nil
		}); err != nil {
			return err
		}
		rows, _ = br.Query()
		var id string
		var in, dead bool
		_, err := pgx.ForEachRow(rows, []any{&id, &in, &dead}, func() error {
			switch {
			case in:
				inserted[id] = true
			case dead:
				deceased[id] = true
			default:
				unverified[id] = true
			}
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	// who is the session and person each id went in for, in this batch or
	// before it: a repeat for the same is the same entry (a retry may bring
	// one twice); for another, a reused idempotency key.
	type who struct{ session, identity string }
	went := make(map[string]who, len(inserted))
	answers := make([]error, len(entries))
	var conflicted []string
	for i, e := range entries {
		switch {
		case !open[booking.PoolKey{SessionID: e.SessionID, Channel: e.Channel}]:
			answers[i] = booking.ErrEntryClosed
		case inserted[e.ID]:
			if _, ok := went[e.ID]; !ok {
				went[e.ID] = who{e.SessionID, e.IdentityID}
			}
		default:
			conflicted = append(conflicted, e.ID)
		}
	}
	if len(conflicted) > 0 {
		rows, _ := s.db.pool.Query(ctx, q("entries_by_id"), conflicted)
		var id, sid, identity string
		if _, err := pgx.ForEachRow(rows, []any{&id, &sid, &identity}, func() error {
			went[id] = who{sid, identity}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	for i, e := range entries {
		if answers[i] != nil {
			continue
		}
		switch x, ok := went[e.ID]; {
		case ok && x == who{e.SessionID, e.IdentityID}:
			// in: this entry, or a repeat of it
		case ok:
			answers[i] = booking.ErrIdempotencyReuse
		case deceased[e.ID]:
			answers[i] = booking.ErrIdentityDeceased
		case unverified[e.ID]:
			answers[i] = booking.ErrIdentityUnverified
		default:
			answers[i] = booking.ErrAlreadyEntered // a live entry of the person in the session
		}
	}
	return answers, nil
}

// uuidArray is a UUID[] parameter that pgx sends in binary. A []string
// for a UUID[] is sent as text, after pgx has tried binary and built an
// error to say it cannot: that, the quoting of each element and the plan
// made again for every statement were 14 % of the entry path's CPU
// (docs/performance.md, "The entry path, a third time"). "" is NULL; a
// malformed id is kept and refuses the statement (err).
type uuidArray struct {
	v   []pgtype.UUID
	bad string
}

func (a *uuidArray) add(s string) {
	var u pgtype.UUID
	if s != "" {
		var ok bool
		if u, ok = scanUUID(s); !ok {
			a.bad = s
		}
	}
	a.v = append(a.v, u)
}

func (a *uuidArray) err() error {
	if a.bad != "" {
		return fmt.Errorf("not a uuid: %q", a.bad)
	}
	return nil
}

// entryColumns are entries as the parallel arrays of insert_entries.
type entryColumns struct {
	id, session, hospital, identity uuidArray
	patient, account, bookedBy      uuidArray
	channel                         []string
	waitlist                        []bool
	created                         []time.Time
	nameHash                        [][]byte
	commitment                      [][]byte
}

func (c *entryColumns) add(e booking.Entry) {
	c.id.add(e.ID)
	c.session.add(e.SessionID)
	c.channel = append(c.channel, string(e.Channel))
	c.hospital.add(e.HospitalID)
	c.identity.add(e.IdentityID)
	c.patient.add(e.PatientID)
	c.account.add(e.AccountID)
	c.bookedBy.add(e.BookedBy)
	c.waitlist = append(c.waitlist, e.Waitlist)
	c.created = append(c.created, e.CreatedAt)
	var name []byte // NULL when empty
	if e.NameHash != "" {
		name = []byte(e.NameHash)
	}
	c.nameHash = append(c.nameHash, name)
	c.commitment = append(c.commitment, e.Commitment)
}

func (c *entryColumns) args() []any {
	return []any{c.id.v, c.session.v, c.channel, c.hospital.v, c.identity.v, c.patient.v, c.account.v, c.bookedBy.v,
		c.waitlist, c.created}
}

func (c *entryColumns) err() error {
	return errors.Join(c.id.err(), c.session.err(), c.hospital.err(), c.identity.err(), c.patient.err(), c.account.err(),
		c.bookedBy.err())
}

// eventArrays are events as the parallel arrays of insert_events.
type eventArrays struct {
	id                                           uuidArray
	ts                                           []time.Time
	typ, channel, ip, device, phone, reason      []string
	account, patient, booking, session, hospital uuidArray
	department, doctor, staff, identity          uuidArray
	releaseAt                                    []pgtype.Timestamptz
	card                                         []string // card_source, the last parameter of the query (review25 H1)
}

func (c *eventArrays) add(ev booking.Event) {
	c.id.add(ev.ID)
	c.ts = append(c.ts, ev.TS)
	c.typ = append(c.typ, string(ev.Type))
	c.account.add(ev.AccountID)
	c.patient.add(ev.PatientID)
	c.booking.add(ev.BookingID)
	c.session.add(ev.SessionID)
	c.hospital.add(ev.HospitalID)
	c.department.add(ev.DepartmentID)
	c.doctor.add(ev.DoctorID)
	c.channel = append(c.channel, string(ev.Channel))
	c.ip = append(c.ip, ev.IP)
	c.device = append(c.device, ev.DeviceID)
	c.phone = append(c.phone, ev.Phone)
	c.releaseAt = append(c.releaseAt, pgtype.Timestamptz{Time: ev.ReleaseAt, Valid: !ev.ReleaseAt.IsZero()})
	c.reason = append(c.reason, ev.Reason)
	c.staff.add(ev.StaffID)
	c.identity.add(ev.IdentityID)
	c.card = append(c.card, ev.CardSource)
}

func (c *eventArrays) args() []any {
	return []any{c.id.v, c.ts, c.typ, c.account.v, c.patient.v, c.booking.v, c.session.v, c.hospital.v, c.department.v,
		c.doctor.v, c.channel, c.ip, c.device, c.phone, c.releaseAt, c.reason, c.staff.v, c.identity.v}
}

func (c *eventArrays) err() error {
	return errors.Join(c.id.err(), c.account.err(), c.patient.err(), c.booking.err(), c.session.err(), c.hospital.err(),
		c.department.err(), c.doctor.err(), c.staff.err(), c.identity.err())
}

func entryQuery(clause string) string { return q("entry_rows") + "\n" + q(clause) }

func scanEntry(r pgx.CollectableRow) (booking.Entry, error) {
	var e booking.Entry
	var idHash, nameHash []byte
	var ch string
	var rank int32
	err := r.Scan(&e.ID, &e.SessionID, &e.HospitalID, &ch, &e.IdentityID, &idHash, &e.PatientID, &e.AccountID,
		&e.BookedBy, &e.Waitlist, &e.Status, &rank, &e.Reason, &e.FlagID, &e.CreatedAt, &e.UpdatedAt,
		&e.NumberMasked, &e.NameMasked, &nameHash, &e.Commitment)
	e.Channel, e.Rank, e.IdentityKey = booking.Channel(ch), int(rank), booking.IdentityKey(idHash)
	e.NameHash = string(nameHash)
	return e, err
}

// Entry reads one entry.
func (s *Store) Entry(ctx context.Context, id string) (_ booking.Entry, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, entryQuery("entry"), id)
	e, err := pgx.CollectExactlyOneRow(rows, scanEntry)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, booking.ErrEntryNotFound
	}
	return e, err
}

// EntriesOfAccount lists an account's entries, newest first.
func (s *Store) EntriesOfAccount(ctx context.Context, accountID string) (_ []booking.Entry, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, entryQuery("entries_of_account"), accountID)
	return pgx.CollectRows(rows, scanEntry)
}

// LiveEntriesMadeBy is booking.LotteryStore's.
func (s *Store) LiveEntriesMadeBy(ctx context.Context, accountID, after string, limit int) (_ []booking.Entry, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, entryQuery("live_entries_made_by"), accountID, nullUUID(after), limit)
	return pgx.CollectRows(rows, scanEntry)
}

// PoolEntries lists a pool's entries, ranked ones in drawn order first.
func (s *Store) PoolEntries(ctx context.Context, k booking.PoolKey) (_ []booking.Entry, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, entryQuery("pool_entries"), k.SessionID, string(k.Channel))
	return pgx.CollectRows(rows, scanEntry)
}

// LiveEntries lists the entries that hold their quota (entered, held out)
// in a hospital's sessions from a visit date on.
func (s *Store) LiveEntries(ctx context.Context, hospitalID, fromDate string) (_ []booking.Entry, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, entryQuery("live_entries"), hospitalID, fromDate)
	return pgx.CollectRows(rows, scanEntry)
}

// HeldOutEntries lists the entries a flag holds out of draws.
func (s *Store) HeldOutEntries(ctx context.Context, flagID string) (_ []booking.Entry, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, entryQuery("held_out_entries"), flagID)
	return pgx.CollectRows(rows, scanEntry)
}

// EntryStatuses reads the status of each entry id that exists.
func (s *Store) EntryStatuses(ctx context.Context, ids []string) (_ map[string]string, rerr error) {
	defer func() { rerr = translate(rerr) }()
	out := make(map[string]string, len(ids))
	rows, _ := s.db.pool.Query(ctx, q("entry_statuses"), ids)
	var id, st string
	_, err := pgx.ForEachRow(rows, []any{&id, &st}, func() error {
		out[id] = st
		return nil
	})
	return out, err
}

// WithdrawEntry withdraws an entered entry while its pool is open (the
// pool row FOR SHARE, as an entry batch holds it), with its event.
func (s *Store) WithdrawEntry(ctx context.Context, id string, at time.Time, ev booking.Event, audit *booking.AuditEntry) (_ booking.Entry, rerr error) {
	defer func() { rerr = translate(rerr) }()
	e, err := s.Entry(ctx, id)
	if err != nil {
		return e, err
	}
	err = s.db.TxAt(ctx, "withdraw_entry", pgx.ReadCommitted, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, q("pool_status_for_share"), e.SessionID, string(e.Channel)).Scan(&status)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if status != booking.DrawOpen {
			return booking.ErrEntryClosed
		}
		tag, err := tx.Exec(ctx, q("withdraw_entry"), id, at)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return booking.ErrEntryClosed
		}
		if audit != nil {
			if err := insertAudit(ctx, tx, *audit); err != nil {
				return err
			}
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return booking.Entry{}, err
	}
	return s.Entry(ctx, id)
}

// CommitSeeds stores pools' seeds, each with its audit row; a pool that
// has one keeps it (and its audit row is not written again).
func (s *Store) CommitSeeds(ctx context.Context, seeds []booking.LotterySeed) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "commit_seeds", func(tx pgx.Tx) error {
		for _, x := range seeds {
			tag, err := tx.Exec(ctx, q("insert_seed"), x.SessionID, string(x.Channel), x.HospitalID, x.OpensAt, x.DrawAt,
				x.Sealed, x.Commitment, x.CreatedAt, x.Sealing, x.Recipe)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 && x.Audit.Action != "" {
				if err := insertAudit(ctx, tx, x.Audit); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// PoolsSharingSeed lists the pools other than k whose commitment is
// commitment or whose published seed is seed: none, for a seed made for
// one pool (lottery verify).
func (s *Store) PoolsSharingSeed(ctx context.Context, k booking.PoolKey, commitment, seed []byte) (_ []booking.PoolKey, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("pools_sharing_seed"), k.SessionID, string(k.Channel), commitment, seed)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.PoolKey, error) {
		var p booking.PoolKey
		var ch string
		err := r.Scan(&p.SessionID, &ch)
		p.Channel = booking.Channel(ch)
		return p, err
	})
}

// DuePools lists pools not yet drawn whose draw time is at or before due.
func (s *Store) DuePools(ctx context.Context, due time.Time) (_ []booking.PoolKey, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("due_pools"), due)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.PoolKey, error) {
		var k booking.PoolKey
		var ch string
		err := r.Scan(&k.SessionID, &ch)
		k.Channel = booking.Channel(ch)
		return k, err
	})
}

// ClaimDraw claims a pool's draw with a lease (claim_draw: one statement,
// whose row lock waits for the entry batches in flight).
func (s *Store) ClaimDraw(ctx context.Context, k booking.PoolKey, owner string, due, now, leaseUntil time.Time) (_ booking.DrawClaim, _ bool, rerr error) {
	defer func() { rerr = translate(rerr) }()
	c := booking.DrawClaim{LotterySeed: booking.LotterySeed{PoolKey: k}}
	err := s.db.pool.QueryRow(ctx, q("claim_draw"), k.SessionID, string(k.Channel), owner, now, leaseUntil, due,
		booking.NewestSealing, booking.NewestRecipe).
		Scan(&c.HospitalID, &c.OpensAt, &c.DrawAt, &c.Sealed, &c.Commitment, &c.Stage, &c.CreatedAt, &c.Sealing, &c.Recipe)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	}
	return c, err == nil, err
}

// SaveRanking stores a draw's ranking: the drawn order, the screening and
// the pool's counts, while owner holds the lease.
func (s *Store) SaveRanking(ctx context.Context, k booking.PoolKey, owner string, r booking.Ranking, leaseUntil time.Time) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	ids, ranks := make([]string, len(r.Eligible)), make([]int32, len(r.Eligible))
	for i, e := range r.Eligible {
		ids[i], ranks[i] = e.ID, int32(e.Rank)
	}
	held := 0
	var sIDs, sStatus, sReason, sFlag []string
	for _, e := range r.Screened {
		if e.Status == booking.EntryHeldOut {
			held++
		}
		sIDs, sStatus, sReason, sFlag = append(sIDs, e.ID), append(sStatus, e.Status), append(sReason, e.Reason), append(sFlag, e.FlagID)
	}
	now := time.Now()
	return s.db.Tx(ctx, "save_ranking", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, q("save_ranking_pool"), k.SessionID, string(k.Channel), owner, r.Digest, r.Slots,
			r.Entries, len(r.Eligible), held, len(r.Screened)-held, leaseUntil, ids)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return booking.ErrLeaseLost
		}
		if _, err := tx.Exec(ctx, q("rank_entries"), ids, ranks, now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, q("decide_entries"), sIDs, sStatus, sReason, sFlag, now)
		return err
	})
}

// SaveOutcomes stores every ranked entry's outcome, while owner holds the
// lease.
func (s *Store) SaveOutcomes(ctx context.Context, k booking.PoolKey, owner string, outcomes []booking.Entry, leaseUntil time.Time) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	var ids, status, reason, flags []string
	for _, e := range outcomes {
		ids, status, reason, flags = append(ids, e.ID), append(status, e.Status), append(reason, e.Reason), append(flags, e.FlagID)
	}
	return s.db.Tx(ctx, "save_outcomes", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, q("save_outcomes_pool"), k.SessionID, string(k.Channel), owner, leaseUntil)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return booking.ErrLeaseLost
		}
		_, err = tx.Exec(ctx, q("decide_entries"), ids, status, reason, flags, time.Now())
		return err
	})
}

// FinishDraw marks the draw done, publishes the seed and writes its audit
// row. A pool some other run finished already is left as it is.
func (s *Store) FinishDraw(ctx context.Context, k booking.PoolKey, owner string, r booking.DrawResult) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "finish_draw", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, q("finish_draw"), k.SessionID, string(k.Channel), owner, r.Seed, r.Winners, r.DrawnAt)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var status string
			if err := tx.QueryRow(ctx, q("pool_status"), k.SessionID, string(k.Channel)).Scan(&status); err != nil {
				return err
			}
			if status == booking.DrawDrawn {
				return nil
			}
			return booking.ErrLeaseLost
		}
		if err := insertEntryNotifications(ctx, tx, r.Notifications); err != nil {
			return err
		}
		// Every instance sees the draw within --catalog-watch, not at its
		// next refresh: what a drawn pool's extra and returned slots do
		// depends on it (review22 M1).
		if err := bumpCatalog(ctx, tx); err != nil {
			return err
		}
		return insertAudit(ctx, tx, r.Audit)
	})
}

// insertEntryNotifications writes a draw's notifications to its entrants
// in tx, in one statement; one already written (its id) is skipped.
func insertEntryNotifications(ctx context.Context, tx pgx.Tx, ns []booking.Notification) error {
	if len(ns) == 0 {
		return nil
	}
	var ids, hospitals, sessions, kinds, accounts, identities, entries, bodies []string
	var at []time.Time
	var calls []bool
	for _, n := range ns {
		ids, hospitals, sessions, kinds = append(ids, n.ID), append(hospitals, n.HospitalID), append(sessions, n.SessionID), append(kinds, n.Kind)
		accounts, identities, entries = append(accounts, n.AccountID), append(identities, n.IdentityID), append(entries, n.EntryID)
		bodies, at, calls = append(bodies, n.Body), append(at, n.CreatedAt), append(calls, n.CallBack)
	}
	_, err := tx.Exec(ctx, caseQueries["insert_entry_notifications"], ids, hospitals, nullableIDs(sessions), kinds,
		nullableIDs(accounts), nullableIDs(identities), nullableIDs(entries), bodies, at, calls)
	return err
}

// SettleHeldOut moves held-out entries to their final status.
func (s *Store) SettleHeldOut(ctx context.Context, ids []string, status string, at time.Time, ns []booking.Notification) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "settle_held_out", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, q("settle_held_out"), ids, status, at); err != nil {
			return err
		}
		return insertEntryNotifications(ctx, tx, ns)
	})
}

// LotteryPools lists the lottery pools of sessions with their records.
func (s *Store) LotteryPools(ctx context.Context, sessionIDs []string) (_ []booking.PoolRecord, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("lottery_pools"), sessionIDs)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.PoolRecord, error) {
		var p booking.PoolRecord
		var ch string
		var rec poolRecordScan
		err := r.Scan(append([]any{&p.SessionID, &ch, &p.HospitalID, &p.OpensAt, &p.DrawAt}, rec.dest()...)...)
		p.Channel, p.DrawRecord = booking.Channel(ch), rec.record()
		return p, err
	})
}
