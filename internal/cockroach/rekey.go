package cockroach

// A master key rotation (`fairslot rekey`, review21b H4): every value sealed
// under the old master key is opened and sealed again under the new one,
// and every keyed hash is derived again from its clear value, in batches,
// each batch one transaction that also records how far its step got
// (rekey_progress, migration 0073_a), so a run that died midway is finished
// by running it again. docs/operations.md, "Master key compromised".

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
)

// RekeyOptions says what a run of Rekey does.
type RekeyOptions struct {
	Old, New *identity.Keyring
	// Batch is the rows of one transaction (500 when 0).
	Batch int
	// MaxBatches stops the run after that many batches, its progress
	// recorded (0: run to the end): a long rotation spread over quiet
	// hours, and the test that stops one midway.
	MaxBatches int
	// Refuse says why the run may not go on while the leases given are
	// live (an instance may be serving): the rotation's start, in the
	// transaction that records it, and every batch read them. Nil: a
	// plain error naming them.
	Refuse func(live []LiveLease) error
	// Cleared is called once every row is rewritten, before the new key is
	// recorded: the command empties the Redis state built from the old
	// hashes there. A run that dies after it calls it again.
	Cleared func(context.Context) error
}

// RekeyResult is what a run did: the rows rewritten by step, and the keyed
// hashes whose clear value the database no longer holds ("orphans", by
// step), which are hashed again under the new key as they are (choice (b)
// of docs/operations.md: they link to each other, never to a new value).
type RekeyResult struct {
	Done    bool
	Rows    map[string]int64
	Orphans map[string]int64
}

// ErrRekeyOther refuses a run whose keys are not those of the rotation
// under way, or of the database.
var ErrRekeyOther = errors.New("rekey")

// RekeyState is the rotation under way, if any: the fingerprints of the key
// the data moves from and of the one it moves to.
type RekeyState struct{ Old, New []byte }

// RekeyInProgress returns the rotation under way, or nil.
func (db *DB) RekeyInProgress(ctx context.Context) (*RekeyState, error) {
	st, err := rekeyState(ctx, db.pool)
	if err != nil {
		return nil, fmt.Errorf("read the master key rotation under way: %w", translate(err))
	}
	return st, nil
}

// LiveLease is a job lease an instance holds (job_leases): while one is
// there an instance may be serving.
type LiveLease struct {
	Job, Holder string
	Until       string
}

// LiveLeases lists the job leases that have not expired by the database's
// clock. Every serve renews its one-instance jobs' leases (notify every 2 s,
// 12 s each), and gives them back when it stops, so a serving deployment
// always has one; one left by a process that was killed runs out by itself.
func (db *DB) LiveLeases(ctx context.Context) ([]LiveLease, error) {
	return liveLeases(ctx, db.pool)
}

// InstanceJob is the job_leases name of an instance's presence lease (a
// job of its own, never contended): serve takes it before its check for a
// rotation and renews it while it runs (Arrive), so rekey sees a serve in
// its first seconds too, before it holds any job's lease.
func InstanceJob(holder string) string { return "instance " + holder }

// errRotating rolls back a transaction that found the rotation under way.
var errRotating = errors.New("a master key rotation is under way")

// Arrive records that holder is serving — its presence lease, until ttl
// from the database's now — and reads the rotation under way, in one
// serializable transaction; rekey records its rotation and reads the live
// leases in one too (Rekey). Each writes before it reads, so of a serve
// and a rekey that start together one always sees the other: serve
// refuses to start, or rekey to run. A rotation found rolls the lease
// back: an instance that does not start leaves no presence behind.
// Renewing the lease is Arrive again: a serve whose lease ran out (SQL
// unreachable for longer than ttl) and finds a rotation begun meanwhile
// must stop.
func (db *DB) Arrive(ctx context.Context, holder string, ttl time.Duration) (*RekeyState, error) {
	var st *RekeyState
	err := db.Tx(ctx, "arrive", func(tx pgx.Tx) error {
		st = nil
		var got string
		if err := tx.QueryRow(ctx, leaseQueries["claim_lease"], InstanceJob(holder), holder, ttl.Milliseconds()).Scan(&got); err != nil {
			return err
		}
		s, err := rekeyState(ctx, tx)
		if err != nil || s == nil {
			return err
		}
		st = s
		return errRotating
	})
	if errors.Is(err, errRotating) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("record this instance's presence: %w", translate(err))
	}
	return nil, nil
}

// Depart gives holder's presence lease back (a clean shutdown).
func (db *DB) Depart(ctx context.Context, holder string) error {
	if _, err := db.pool.Exec(ctx, leaseQueries["release_lease"], InstanceJob(holder), holder); err != nil {
		return fmt.Errorf("release this instance's presence: %w", translate(err))
	}
	return nil
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func rekeyState(ctx context.Context, q querier) (*RekeyState, error) {
	var st RekeyState
	err := q.QueryRow(ctx, `SELECT old_fingerprint, new_fingerprint FROM rekey WHERE id = 1`).Scan(&st.Old, &st.New)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &st, nil
}

func liveLeases(ctx context.Context, q querier) ([]LiveLease, error) {
	rows, err := q.Query(ctx, `SELECT job, holder, expires_at::TEXT FROM job_leases WHERE expires_at > now() ORDER BY job`)
	if err != nil {
		return nil, fmt.Errorf("read the job leases: %w", translate(err))
	}
	defer rows.Close()
	var out []LiveLease
	for rows.Next() {
		var l LiveLease
		if err := rows.Scan(&l.Job, &l.Holder, &l.Until); err != nil {
			return nil, fmt.Errorf("read the job leases: %w", translate(err))
		}
		out = append(out, l)
	}
	return out, translate(rows.Err())
}

// rekeyRun is one run's keys and the maps from a keyed hash under the old
// key to the same value's hash under the new one.
type rekeyRun struct {
	old, new *identity.Keyring
	phones   map[string][]byte // old Hash("phone", p) → new
	names    map[string][]byte // old Hash("name", n) → new
	refs     map[string]string // an event's phone reference, old → new
	// pseudonyms: an address's or a device's keyed pseudonym ("ip:…",
	// "dev:…", booking.NetworkPseudonyms), old → new, for every address
	// and device the events still hold in clear.
	pseudonyms map[string]string
	// tags: a caller's tag in a staff audit entry ("139****7398 #1a2b3c4d",
	// booking's callerTag), old → new, for every number held sealed.
	tags    map[string]string
	orphans int64
}

// tokens are the keyed references a flag's stored reasons name: a phone
// reference ("hash:" and 24 hex digits, as the events carry it) and an
// address's or a device's pseudonym (booking.NetworkPseudonyms).
var tokens = regexp.MustCompile(`\b(hash|ip|dev):[0-9a-f]{24}\b`)

// callerTags are the callers an audit entry names: the number masked and
// the first 8 hex digits of its keyed hash (booking's callerTag).
var callerTags = regexp.MustCompile(`\bcaller (\S+ #[0-9a-f]{8})\b`)

// phoneRef is the new key's reference for an old phone reference: the
// same number's, or the old one hashed again as it is (as an event's).
func (r *rekeyRun) phoneRef(old string) string {
	if ref, ok := r.refs[old]; ok {
		return ref
	}
	return "hash:" + booking.IdentityKey(r.orphan("phone ref", []byte(old)))
}

// token rewrites one reference a flag's reasons name.
func (r *rekeyRun) token(old string) string {
	kind, _, _ := strings.Cut(old, ":")
	if kind == "hash" {
		return r.phoneRef(old)
	}
	if p, ok := r.pseudonyms[old]; ok {
		return p
	}
	return kind + ":" + booking.IdentityKey(r.orphan("event_"+kind, []byte(old)))
}

// open opens a value sealed under either key (a step that died midway left
// both kinds in the tables it read the maps from).
func (r *rekeyRun) open(purpose string, sealed []byte) (string, error) {
	if p, err := r.old.Open(purpose, sealed); err == nil {
		return p, nil
	}
	return r.new.Open(purpose, sealed)
}

// orphan is a keyed hash whose clear value is gone, hashed under the new key:
// equal ones stay equal, none matches a value hashed afresh, and the old key
// no longer tests a guess against it.
func (r *rekeyRun) orphan(purpose string, old []byte) []byte {
	r.orphans++
	return r.new.Hash("rekeyed "+purpose, string(old))
}

// reseal opens a value sealed under the old key and seals it under the new.
func (r *rekeyRun) reseal(purpose string, sealed []byte) ([]byte, string, error) {
	p, err := r.old.Open(purpose, sealed)
	if err != nil {
		return nil, "", err
	}
	return r.new.Seal(purpose, p), p, nil
}

// pair rewrites a sealed value and the keyed hash of the same value: the
// hash is derived again when it is the old key's hash of what the seal
// holds, and is an orphan otherwise (a placeholder, a value changed since).
func (r *rekeyRun) pair(purpose, hashPurpose string, sealed, hash []byte) ([]byte, []byte, error) {
	if len(sealed) == 0 {
		if hash == nil {
			return sealed, nil, nil
		}
		return sealed, r.orphan(hashPurpose, hash), nil
	}
	s, p, err := r.reseal(purpose, sealed)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case hash == nil:
		return s, nil, nil
	case hmac.Equal(hash, keyedHash(r.old, hashPurpose, p)), hashPurpose == "name" && hmac.Equal(hash, r.old.Hash("name", p)):
		return s, keyedHash(r.new, hashPurpose, p), nil
	}
	return s, r.orphan(hashPurpose, hash), nil
}

func (r *rekeyRun) mapped(m map[string][]byte, purpose string, old []byte) []byte {
	if old == nil {
		return nil
	}
	if h, ok := m[string(old)]; ok {
		return h
	}
	return r.orphan(purpose, old)
}

// rekeyStep is one table's rewrite: query reads a batch of rows after the
// key $1 (at most $2), the first column the row's key as text; row scans
// one and returns the statement and arguments that rewrite it ("" none).
type rekeyStep struct {
	name, query, start string
	// maps: the step maps hashes by their clear value (rekeyRun's maps).
	maps bool
	row  func(r *rekeyRun, rows pgx.Rows) (key, stmt string, args []any, err error)
}

const uuidZero = "00000000-0000-0000-0000-000000000000"

func byUUID(table, cols string) string {
	return "SELECT id::TEXT, " + cols + " FROM " + table + " WHERE id > $1::UUID ORDER BY id LIMIT $2"
}

var rekeySteps = []rekeyStep{
	{name: "accounts", start: uuidZero, query: byUUID("accounts", "phone_sealed, phone_hash"),
		row: func(r *rekeyRun, rows pgx.Rows) (string, string, []any, error) {
			var id string
			var sealed, hash []byte
			if err := rows.Scan(&id, &sealed, &hash); err != nil {
				return "", "", nil, err
			}
			var s, h []byte
			var err error
			if len(sealed) == 0 && hmac.Equal(hash, r.old.Hash("closed_account", id)) {
				s, h = sealed, r.new.Hash("closed_account", id)
			} else if s, h, err = r.pair("phone", "phone", sealed, hash); err != nil {
				return "", "", nil, fmt.Errorf("account %s: %w", id, err)
			}
			return id, `UPDATE accounts SET phone_sealed = $2, phone_hash = $3 WHERE id = $1::UUID`, []any{id, s, h}, nil
		}},
	{name: "patients", start: uuidZero, query: byUUID("patients", "phone_sealed, phone_hash, name_sealed, name_hash"),
		row: func(r *rekeyRun, rows pgx.Rows) (string, string, []any, error) {
			var id string
			var ps, ph, ns, nh []byte
			if err := rows.Scan(&id, &ps, &ph, &ns, &nh); err != nil {
				return "", "", nil, err
			}
			ps2, ph2, err := r.pair("phone", "phone", ps, ph)
			if err != nil {
				return "", "", nil, fmt.Errorf("patient %s: %w", id, err)
			}
			ns2, nh2, err := r.pair("name", "name", ns, nh)
			if err != nil {
				return "", "", nil, fmt.Errorf("patient %s: %w", id, err)
			}
			return id, `UPDATE patients SET phone_sealed = $2, phone_hash = $3, name_sealed = $4, name_hash = $5 WHERE id = $1::UUID`,
				[]any{id, ps2, ph2, ns2, nh2}, nil
		}},
	{name: "identities", start: uuidZero, query: byUUID("identities", "id_type, number_sealed, id_hash, name_sealed, name_hash"),
		row: func(r *rekeyRun, rows pgx.Rows) (string, string, []any, error) {
			var id, typ string
			var num, idh, ns, nh []byte
			if err := rows.Scan(&id, &typ, &num, &idh, &ns, &nh); err != nil {
				return "", "", nil, err
			}
			// A person idle for a year has had their number and name
			// erased (retention's erase_identities), the hashes kept to
			// find them when they come back: with nothing to derive them
			// from, they are hashed again as they are, and a return after
			// the rotation is a new person.
			num2, idh2 := num, []byte(nil)
			if len(num) == 0 {
				idh2 = r.orphan("id", idh)
			} else {
				var n string
				var err error
				if num2, n, err = r.reseal("id_number", num); err != nil {
					return "", "", nil, fmt.Errorf("identity %s: %w", id, err)
				}
				doc := identity.ID{Type: identity.Type(typ), Number: n}
				idh2 = r.new.IDHash(doc)
				if !hmac.Equal(idh, r.old.IDHash(doc)) {
					return "", "", nil, fmt.Errorf("identity %s: its id_hash is not the old key's hash of its sealed number", id)
				}
			}
			ns2, nh2, err := r.pair("name", "name", ns, nh)
			if err != nil {
				return "", "", nil, fmt.Errorf("identity %s: %w", id, err)
			}
			return id, `UPDATE identities SET number_sealed = $2, id_hash = $3, name_sealed = $4, name_hash = $5 WHERE id = $1::UUID`,
				[]any{id, num2, idh2, ns2, nh2}, nil
		}},
	{name: "caller_phones", start: uuidZero,
		query: `SELECT item_id::TEXT, phone_sealed FROM caller_phones WHERE item_id > $1::UUID ORDER BY item_id LIMIT $2`,
		row: func(r *rekeyRun, rows pgx.Rows) (string, string, []any, error) {
			var id string
			var sealed []byte
			if err := rows.Scan(&id, &sealed); err != nil {
				return "", "", nil, err
			}
			if len(sealed) == 0 {
				return id, "", nil, nil
			}
			s, _, err := r.reseal("phone", sealed)
			if err != nil {
				return "", "", nil, fmt.Errorf("kept number %s: %w", id, err)
			}
			return id, `UPDATE caller_phones SET phone_sealed = $2 WHERE item_id = $1::UUID`, []any{id, s}, nil
		}},
	// A pool's seed, sealed for the pool (or, before 0060, for the purpose
	// alone). The commitment is a hash of the clear seed, not keyed: it
	// holds across keys, and a drawn seed is public.
	{name: "lottery_pools",
		query: `SELECT session_id::TEXT || '/' || channel, session_id::TEXT, channel, seed_sealing, seed_sealed FROM lottery_pools
		         WHERE seed_sealed IS NOT NULL AND session_id::TEXT || '/' || channel > $1 ORDER BY 1 LIMIT $2`,
		row: func(r *rekeyRun, rows pgx.Rows) (string, string, []any, error) {
			var key, sid, ch string
			var sealing int
			var sealed []byte
			if err := rows.Scan(&key, &sid, &ch, &sealing, &sealed); err != nil {
				return "", "", nil, err
			}
			purpose := booking.SeedPurpose(sid, booking.Channel(ch))
			if sealing == booking.SealedForPurpose {
				purpose = booking.SeedPurposeAlone
			}
			s, _, err := r.reseal(purpose, sealed)
			if err != nil {
				return "", "", nil, fmt.Errorf("lottery pool %s: %w", key, err)
			}
			return key, `UPDATE lottery_pools SET seed_sealed = $3 WHERE session_id = $1::UUID AND channel = $2`, []any{sid, ch, s}, nil
		}},
	{name: "bookings", start: uuidZero, maps: true, query: byUUID("bookings", "name_hash, booked_name_hash"),
		row: func(r *rekeyRun, rows pgx.Rows) (string, string, []any, error) {
			var id string
			var nh, bh []byte
			if err := rows.Scan(&id, &nh, &bh); err != nil {
				return "", "", nil, err
			}
			if nh == nil && bh == nil {
				return id, "", nil, nil
			}
			return id, `UPDATE bookings SET name_hash = $2, booked_name_hash = $3 WHERE id = $1::UUID`,
				[]any{id, r.mapped(r.names, "name", nh), r.mapped(r.names, "name", bh)}, nil
		}},
	{name: "identity_former_names", start: uuidZero, query: byUUID("identity_former_names", "name_sealed, name_hash"),
		row: func(r *rekeyRun, rows pgx.Rows) (string, string, []any, error) {
			var id string
			var ns, nh []byte
			if err := rows.Scan(&id, &ns, &nh); err != nil {
				return "", "", nil, err
			}
			ns2, nh2, err := r.pair("name", "name", ns, nh)
			if err != nil {
				return "", "", nil, fmt.Errorf("former name %s: %w", id, err)
			}
			return id, `UPDATE identity_former_names SET name_sealed = $2, name_hash = $3 WHERE id = $1::UUID`, []any{id, ns2, nh2}, nil
		}},
	hashStep("waitlist", "name_hash", byName),
	hashStep("lottery_entries", "name_hash", byName),
	// A report's number: the same number's new hash, or, for a number no
	// account, family member or kept number holds, the hash whose
	// reference is the events' orphan of that number (their phone step),
	// so the detector still links the report to the events that name it.
	hashStep("patient_cases", "offered_phone_hash", func(r *rekeyRun, h []byte) []byte {
		if h2, ok := r.phones[string(h)]; ok {
			return h2
		}
		return r.orphan("phone ref", []byte("hash:"+booking.IdentityKey(h)))
	}),
	// A desk card reader's key (review25 H1) is sealed: opened and sealed
	// again, or every read of the reader would be refused after the
	// rotation as another key's.
	{name: "card_readers", start: uuidZero, query: byUUID("card_readers", "key_sealed"),
		row: func(r *rekeyRun, rows pgx.Rows) (string, string, []any, error) {
			var id string
			var sealed []byte
			if err := rows.Scan(&id, &sealed); err != nil {
				return "", "", nil, err
			}
			s, _, err := r.reseal("card_reader_key", sealed)
			if err != nil {
				return "", "", nil, fmt.Errorf("card reader %s: %w", id, err)
			}
			return id, `UPDATE card_readers SET key_sealed = $2 WHERE id = $1::UUID`, []any{id, s}, nil
		}},
	// A flag's reasons name numbers, addresses and devices by their keyed
	// references, in English and Chinese: each is rewritten as the events'
	// and the timeline's will read under the new key.
	{name: "flags", start: "", maps: true,
		query: `SELECT id, reasons::TEXT FROM flags WHERE id > $1 ORDER BY id LIMIT $2`,
		row: func(r *rekeyRun, rows pgx.Rows) (string, string, []any, error) {
			var id, reasons string
			if err := rows.Scan(&id, &reasons); err != nil {
				return "", "", nil, err
			}
			rewritten := tokens.ReplaceAllStringFunc(reasons, r.token)
			if rewritten == reasons {
				return id, "", nil, nil
			}
			return id, `UPDATE flags SET reasons = $2::JSONB WHERE id = $1`, []any{id, rewritten}, nil
		}},
	// A staff audit entry names a caller masked with a tag of the
	// number's keyed hash; with the old key and the mask's seven digits
	// the tag gives the number away (10,000 guesses). Rewritten as the
	// same number's new tag, or hashed again as it is.
	{name: "audit_log", start: uuidZero, maps: true,
		query: `SELECT id::TEXT, reason FROM audit_log WHERE id > $1::UUID ORDER BY id LIMIT $2`,
		row: func(r *rekeyRun, rows pgx.Rows) (string, string, []any, error) {
			var id, reason string
			if err := rows.Scan(&id, &reason); err != nil {
				return "", "", nil, err
			}
			rewritten := callerTags.ReplaceAllStringFunc(reason, func(m string) string {
				tag := strings.TrimPrefix(m, "caller ")
				if t, ok := r.tags[tag]; ok {
					return "caller " + t
				}
				mask, _, _ := strings.Cut(tag, " #")
				return "caller " + mask + " #" + booking.IdentityKey(r.orphan("caller tag", []byte(tag)))[:8]
			})
			if rewritten == reason {
				return id, "", nil, nil
			}
			return id, `UPDATE audit_log SET reason = $2 WHERE id = $1::UUID`, []any{id, rewritten}, nil
		}},
	// Events' phone references: those of a number an account, a family
	// member or a kept number still holds are derived again, so the
	// detector links old events to new ones; the others (the number was
	// changed, released or erased) are orphans. A card nobody registered,
	// shown at the desk, is named by a keyed id (booking.KeyedID of its ID
	// hash): its number was never kept, so it is an orphan too; an id of
	// an identity row stays.
	{name: "booking_events", start: uuidZero, maps: true,
		query: `SELECT e.id::TEXT, e.phone, COALESCE(e.presented_identity_id::TEXT, ''), i.id IS NULL
		          FROM booking_events e LEFT JOIN identities i ON i.id = e.presented_identity_id
		         WHERE e.id > $1::UUID AND (e.phone <> '' OR e.presented_identity_id IS NOT NULL AND i.id IS NULL)
		         ORDER BY e.id LIMIT $2`,
		row: func(r *rekeyRun, rows pgx.Rows) (string, string, []any, error) {
			var id, ref, presented string
			var keyed bool
			if err := rows.Scan(&id, &ref, &presented, &keyed); err != nil {
				return "", "", nil, err
			}
			if ref != "" {
				ref = r.phoneRef(ref)
			}
			if presented != "" && keyed {
				presented = booking.KeyedID(r.orphan("presented_card", []byte(presented)))
			}
			return id, `UPDATE booking_events SET phone = $2, presented_identity_id = NULLIF($3, '')::UUID WHERE id = $1::UUID`,
				[]any{id, ref, presented}, nil
		}},
}

// hashStep rewrites one column of keyed hashes with rehash (not called
// for a NULL).
func hashStep(table, column string, rehash func(r *rekeyRun, old []byte) []byte) rekeyStep {
	return rekeyStep{name: table, start: uuidZero, maps: true, query: byUUID(table, column),
		row: func(r *rekeyRun, rows pgx.Rows) (string, string, []any, error) {
			var id string
			var h []byte
			if err := rows.Scan(&id, &h); err != nil {
				return "", "", nil, err
			}
			if h == nil {
				return id, "", nil, nil
			}
			return id, `UPDATE ` + table + ` SET ` + column + ` = $2 WHERE id = $1::UUID`, []any{id, rehash(r, h)}, nil
		}}
}

// byName maps a name hash through the names' map.
func byName(r *rekeyRun, old []byte) []byte { return r.mapped(r.names, "name", old) }

// buildMaps reads every phone and name the database holds sealed (under
// either key: a run that died midway left both) into the maps from the old
// key's hash of each to the new key's.
func (db *DB) buildMaps(ctx context.Context, r *rekeyRun) error {
	r.phones, r.names, r.refs = map[string][]byte{}, map[string][]byte{}, map[string]string{}
	r.pseudonyms, r.tags = map[string]string{}, map[string]string{}
	read := func(purpose, q string, into map[string][]byte) error {
		rows, err := db.pool.Query(ctx, q)
		if err != nil {
			return fmt.Errorf("read sealed %ss: %w", purpose, translate(err))
		}
		defer rows.Close()
		for rows.Next() {
			var sealed []byte
			if err := rows.Scan(&sealed); err != nil {
				return translate(err)
			}
			p, err := r.open(purpose, sealed)
			if err != nil {
				return fmt.Errorf("a sealed %s opens under neither key: %w", purpose, err)
			}
			oh, nh := keyedHash(r.old, purpose, p), keyedHash(r.new, purpose, p)
			into[string(oh)] = nh
			if purpose == "name" {
				// A name hashed before names were hashed by their key
				// (identity.NameKey, session 24) moves to its key's hash.
				into[string(r.old.Hash(purpose, p))] = nh
			}
			if purpose == "phone" {
				ok, nk := booking.IdentityKey(oh), booking.IdentityKey(nh)
				r.refs["hash:"+ok] = "hash:" + nk
				mask := identity.MaskPhone(p)
				r.tags[mask+" #"+ok[:8]] = mask + " #" + nk[:8]
			}
		}
		return translate(rows.Err())
	}
	if err := read("phone", `SELECT phone_sealed FROM accounts WHERE length(phone_sealed) > 0
	                         UNION ALL SELECT phone_sealed FROM patients WHERE length(phone_sealed) > 0
	                         UNION ALL SELECT phone_sealed FROM caller_phones WHERE length(phone_sealed) > 0`, r.phones); err != nil {
		return err
	}
	if err := read("name", `SELECT name_sealed FROM identities WHERE length(name_sealed) > 0
	                     UNION ALL SELECT name_sealed FROM patients WHERE length(name_sealed) > 0
	                     UNION ALL SELECT name_sealed FROM identity_former_names WHERE length(name_sealed) > 0`, r.names); err != nil {
		return err
	}
	// The addresses and devices the events hold in clear (within the
	// detection window: retention empties them after).
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT 'ip', ip FROM booking_events WHERE ip <> ''
	                                 UNION SELECT DISTINCT 'dev', device_id FROM booking_events WHERE device_id <> ''`)
	if err != nil {
		return fmt.Errorf("read the events' addresses and devices: %w", translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		var kind, v string
		if err := rows.Scan(&kind, &v); err != nil {
			return translate(err)
		}
		r.pseudonyms[kind+":"+booking.IdentityKey(r.old.Hash("event_"+kind, v))] = kind + ":" + booking.IdentityKey(r.new.Hash("event_"+kind, v))
	}
	return translate(rows.Err())
}

// keyedHash is k's hash of a clear value of purpose: a name's is its
// key's (identity.NameKey), as booking hashes it.
func keyedHash(k *identity.Keyring, purpose, p string) []byte {
	if purpose == "name" {
		return k.Hash(purpose, identity.NameKey(p))
	}
	return k.Hash(purpose, p)
}

// Rekey moves the database from o.Old to o.New, or goes on with the move
// a run with the same keys began. The database's recorded key (key_check)
// must be o.Old's until the run ends; the rekey row keeps every instance
// from starting meanwhile, with either key.
func (db *DB) Rekey(ctx context.Context, o RekeyOptions) (RekeyResult, error) {
	res := RekeyResult{Rows: map[string]int64{}, Orphans: map[string]int64{}}
	if o.Batch <= 0 {
		o.Batch = 500
	}
	oldFP, newFP := o.Old.Fingerprint(), o.New.Fingerprint()
	if hmac.Equal(oldFP, newFP) {
		return res, fmt.Errorf("%w: the new key is the key in use", ErrRekeyOther)
	}
	recorded, err := db.KeyFingerprint(ctx)
	if err != nil {
		return res, err
	}
	if !hmac.Equal(recorded, oldFP) {
		return res, fmt.Errorf("%w: --secret-key-file is not the key this database's data is sealed with (fingerprint %s)", ErrRekeyOther, ShortFingerprint(recorded))
	}
	refuse := func(live []LiveLease) error {
		if o.Refuse != nil {
			return o.Refuse(live)
		}
		return fmt.Errorf("%d job leases are live: an instance may be serving", len(live))
	}
	// The rotation is recorded, and the leases read, in one serializable
	// transaction, as serve records its presence and reads the rotation
	// (Arrive): one of the two always sees the other. Leases found roll
	// the record back (a rotation that never began keeps nothing from
	// starting).
	var st *RekeyState
	var live []LiveLease
	err = db.Tx(ctx, "rekey", func(tx pgx.Tx) error {
		st, live = nil, nil
		if _, err := tx.Exec(ctx, `INSERT INTO rekey (id, old_fingerprint, new_fingerprint, started_at) VALUES (1, $1, $2, now())
		                           ON CONFLICT (id) DO NOTHING`, oldFP, newFP); err != nil {
			return err
		}
		var err error
		if st, err = rekeyState(ctx, tx); err != nil {
			return err
		}
		if live, err = liveLeases(ctx, tx); err != nil {
			return err
		}
		if len(live) > 0 {
			return errRotating
		}
		return nil
	})
	if len(live) > 0 && errors.Is(err, errRotating) {
		return res, refuse(live)
	}
	if err != nil {
		return res, fmt.Errorf("record the rotation: %w", translate(err))
	}
	if st == nil {
		return res, fmt.Errorf("%w: the rotation's record vanished: is another rekey running?", ErrRekeyOther)
	}
	if !hmac.Equal(st.Old, oldFP) || !hmac.Equal(st.New, newFP) {
		return res, fmt.Errorf("%w: a rotation to another key is under way (fingerprint %s): finish it with that --new-key-file", ErrRekeyOther, ShortFingerprint(st.New))
	}
	guard := func(ctx context.Context) error {
		live, err := db.LiveLeases(ctx)
		if err != nil {
			return err
		}
		if len(live) > 0 {
			return refuse(live)
		}
		return nil
	}
	r := &rekeyRun{old: o.Old, new: o.New}
	batches := 0
	for _, s := range rekeySteps {
		after, done, err := db.rekeyProgress(ctx, s)
		if err != nil {
			return res, err
		}
		if done {
			continue
		}
		if s.maps && r.phones == nil {
			if err := db.buildMaps(ctx, r); err != nil {
				return res, err
			}
		}
		for !done {
			if o.MaxBatches > 0 && batches >= o.MaxBatches {
				return res, nil
			}
			if err := guard(ctx); err != nil {
				return res, err
			}
			r.orphans = 0
			var n int
			if after, n, done, err = db.rekeyBatch(ctx, r, s, after, o.Batch); err != nil {
				return res, fmt.Errorf("rekey %s: %w", s.name, err)
			}
			batches++
			res.Rows[s.name] += int64(n)
			res.Orphans[s.name] += r.orphans
		}
	}
	if err := guard(ctx); err != nil {
		return res, err
	}
	// Reset codes are a hash of a code and an account under the old key,
	// the code itself never kept: they cannot be carried over, and live
	// 30 minutes. The desk issues another.
	if _, err := db.pool.Exec(ctx, `DELETE FROM password_reset_codes WHERE true`); err != nil {
		return res, fmt.Errorf("rekey: drop the password reset codes: %w", translate(err))
	}
	// A desk login move waiting its cooling-off (review25 H4) holds such a
	// code's hash too: it is dropped, and the desk asks again.
	if _, err := db.pool.Exec(ctx, `DELETE FROM pending_login_moves WHERE true`); err != nil {
		return res, fmt.Errorf("rekey: drop the pending login moves: %w", translate(err))
	}
	if o.Cleared != nil {
		if err := o.Cleared(ctx); err != nil {
			return res, err
		}
	}
	err = db.Tx(ctx, "rekey", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE key_check SET fingerprint = $1, recorded_at = now() WHERE id = 1`, newFP); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM rekey_progress WHERE true`); err != nil {
			return err
		}
		// Every name is now its key's hash (buildMaps maps both forms).
		if err := recordNameKey(ctx, tx, identity.NameKeyVersion); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM rekey WHERE id = 1`)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("rekey: record the new key: %w", translate(err))
	}
	res.Done = true
	return res, nil
}

// NameKeyVersion is the form the database's names may still be hashed in
// (identity.NameKeyVersion; migration 0086_a): one row read, for serve's
// and migrate's warning while it is older than this build's.
func (db *DB) NameKeyVersion(ctx context.Context) (int, error) {
	var v int
	if err := db.pool.QueryRow(ctx, `SELECT version FROM name_key WHERE id = 1`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read the form names are hashed in: %w", translate(err))
	}
	return v, nil
}

// recordNameKey records that every name is hashed in form v.
func recordNameKey(ctx context.Context, tx pgx.Tx, v int) error {
	_, err := tx.Exec(ctx, `INSERT INTO name_key (id, version, recorded_at) VALUES (1, $1, now())
	                        ON CONFLICT (id) DO UPDATE SET version = excluded.version, recorded_at = excluded.recorded_at`, v)
	return err
}

func (db *DB) rekeyProgress(ctx context.Context, s rekeyStep) (string, bool, error) {
	after, done := s.start, false
	err := db.pool.QueryRow(ctx, `SELECT after_key, done FROM rekey_progress WHERE step = $1`, s.name).Scan(&after, &done)
	if errors.Is(err, pgx.ErrNoRows) {
		return s.start, false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read the rotation's progress: %w", translate(err))
	}
	return after, done, nil
}

// rekeyBatch rewrites the rows of one batch and records the step's
// progress in the same transaction.
func (db *DB) rekeyBatch(ctx context.Context, r *rekeyRun, s rekeyStep, after string, n int) (string, int, bool, error) {
	var last string
	var count int
	var rowErr error // a row that cannot be rewritten: said as it is, not as an outage
	err := db.Tx(ctx, "rekey", func(tx pgx.Tx) error {
		count, last = 0, after
		rows, err := tx.Query(ctx, s.query, after, n)
		if err != nil {
			return err
		}
		var b pgx.Batch
		for rows.Next() {
			key, stmt, args, err := s.row(r, rows)
			if err != nil {
				rows.Close()
				rowErr = err
				return err
			}
			last, count = key, count+1
			if stmt != "" {
				b.Queue(stmt, args...)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if b.Len() > 0 {
			if err := tx.SendBatch(ctx, &b).Close(); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO rekey_progress (step, after_key, done, rows_done, at) VALUES ($1, $2, $3, $4, now())
		                       ON CONFLICT (step) DO UPDATE SET after_key = excluded.after_key, done = excluded.done,
		                              rows_done = rekey_progress.rows_done + excluded.rows_done, at = excluded.at`,
			s.name, last, count < n, count)
		return err
	})
	if rowErr != nil {
		return "", 0, false, rowErr
	}
	if err != nil {
		return "", 0, false, translate(err)
	}
	return last, count, count < n, nil
}

// ShortFingerprint is how a key's fingerprint is shown: its first 12 hex
// digits (it reveals nothing of the key either way).
func ShortFingerprint(fp []byte) string {
	if len(fp) == 0 {
		return "(none)"
	}
	return fmt.Sprintf("%x", fp[:min(6, len(fp))])
}
