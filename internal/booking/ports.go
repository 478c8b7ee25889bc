package booking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"fairslot/internal/identity"
)

// Page is one page of a list a client reads a page at a time (GET
// /v1/bookings, /v1/waitlist, /v1/admin/flags): the items after the item
// whose id is After ("" from the start) in the list's order, Limit of them
// (0: the list's page size). A full page may have more behind it.
type Page struct {
	After string
	Limit int
}

// checkLimit refuses a page's limit outside 1 to max (0 is the default).
func checkLimit(p Page, max int) error {
	if p.Limit < 0 || p.Limit > max {
		return FieldErrorf(ErrInvalidField, "limit", "limit is a number of items, from 1 to %d", max)
	}
	return nil
}

// Size is p's limit, or size when it has none.
func (p Page) Size(size int) int {
	if p.Limit > 0 {
		return p.Limit
	}
	return size
}

// The page sizes of the lists (what GET answers without ?limit, and the
// most it answers with one).
const (
	BookingPageSize  = 500
	WaitlistPageSize = 200
	FlagPageSize     = 500
)

// Reservation asks Admission for one slot of a session's channel pool for one
// identity, under the hospital's policy.
type Reservation struct {
	BookingID string
	// Nonce is fresh for every HTTP request. A second Reserve with the same
	// BookingID and Nonce is a client-library retry of this very call and
	// gets the same slot; with another Nonce it is a replayed request.
	Nonce        string
	HospitalID   string
	SessionID    string
	Channel      Channel
	IdentityKey  string
	VisitDate    string // YYYY-MM-DD
	DepartmentID string
	Week         string // ISO week of VisitDate, e.g. 2026-W48
	Month        string // e.g. 2026-11
	Today        string // the hospital's current civil date: older holds no longer count
	Policy       Policy
	// Location is the hospital's zone: a refusal that names a time (a
	// bar's end) says it there, as every time a patient reads (nil: China
	// Standard Time, the stand-in zone).
	Location *time.Location
	// HoldFor is how long the hold stays "pending" before the sweeper may
	// release it if SQL has no booking for it.
	HoldFor time.Duration
	// KeepUntil is when the record of this booking id may be forgotten.
	KeepUntil time.Time
	// Draw marks the booking of a lottery winner by the draw: the pool's
	// lottery gate is passed, and the entry's quota hold (same id) becomes
	// the booking's instead of counting against it.
	Draw bool
	// Limits are the caller's shared rate limits, counted first in the same
	// round trip as the entry (Enter) or the booking attempt (Reserve)
	// (SharedLimit). When one is over, nothing else happens and the call
	// answers *LimitError (ErrRateLimited).
	Limits []SharedLimit
}

// SharedLimit is one shared rate-limit counter (per client IP, per account)
// that admission counts with an entry, in the same round trip, exactly as
// the API's limiter store (ulule/limiter's Redis store) counts it for every
// other request: one more on Key, which expires Period after its first
// count; over Limit is refused. Booking attempts and entries so share one
// count (docs/design.md, "The shared limits in the entry's round trip").
type SharedLimit struct {
	Key    string // the store's key, prefix included
	Limit  int64
	Period time.Duration
}

// Hold is a slot that Admission has handed to a booking id.
type Hold struct {
	HospitalID  string
	SessionID   string
	BookingID   string
	SlotNo      int
	Channel     Channel
	IdentityKey string
	// PendingUntil is the hold's pending deadline when Admission.Holds read
	// it; zero once its commit was confirmed.
	PendingUntil time.Time
}

// HoldOf returns the hold a booking has in Admission.
func HoldOf(b Booking) Hold {
	return Hold{HospitalID: b.HospitalID, SessionID: b.SessionID, BookingID: b.ID,
		SlotNo: b.SlotNo, Channel: b.Channel, IdentityKey: b.IdentityKey}
}

// StaleHold is a hold SQL has no active booking for.
type StaleHold struct {
	Hold
	Forget bool // SQL has no row at all: forget the booking id so a retry runs again
	// Cancelled: SQL has the booking cancelled (or otherwise no longer
	// active). Its hold is released even while pending: the cancellation
	// committed, and its mark (Pend) protects nothing any more.
	Cancelled bool
}

// Release says how a hold is given back.
type Release struct {
	ReturnSlot bool // put the slot back in its free pool (false when SQL says it is taken)
	Forget     bool // forget the booking id, so a retry of a failed request runs again
	// OnlyIfExpired skips a hold whose pending deadline has not passed: the
	// sweeper and reconciliation must never free a slot whose commit may
	// still be in flight.
	OnlyIfExpired bool
}

// Placing is what Admission needs to judge whether a waitlisted identity may
// take a returned slot of a session, and to hold it for them.
type Placing struct {
	VisitDate    string
	DepartmentID string
	Week, Month  string
	Today        string
	Policy       Policy
	HoldFor      time.Duration
	KeepUntil    time.Time
	// Now is the service's clock: a round's end is by it.
	Now time.Time
	// Round is how long a returned slot that finds nobody waiting is held
	// for those who join the waitlist (0: not held); Delay the random delay
	// after which, if nobody joined, it rejoins its pool.
	Round, Delay time.Duration
}

// Return says where a slot given back by its holder goes: to the first
// eligible identity on the session's waitlist; else, for a cancellation,
// held for the waitlist for a Round and drawn among those who joined by its
// end, and only if nobody did back to its pool after Delay (a random moment,
// so returns cannot be watched); for a desk reissue, to the To pool at once.
// While a round is open every returned slot of the session waits for it.
type Return struct {
	Placing
	Reissue bool
	To      Channel
}

// PlaceWhen says when Place places a delayed slot.
type PlaceWhen int

const (
	// PlaceIfDue places it once its delay (or its round) is over, waitlist
	// first, else its pool (the sweeper).
	PlaceIfDue PlaceWhen = iota
	// PlaceNow places it now, round or not: waitlist first, else its pool
	// (the desk's reissue).
	PlaceNow
	// PlaceReturned places it now as a slot given back: waitlist first,
	// else held for the waitlist's round (an open one, or a new one), else
	// it keeps waiting out its random delay (a pool move).
	PlaceReturned
)

// Placement is where a returned slot went.
type Placement struct {
	Outcome string   // Placed* below, or "none" when the booking held nothing
	Served  string   // the waitlist entry (and booking) id that got the slot
	Skipped []string // waitlist entries passed over as no longer eligible
}

// Placement outcomes.
const (
	PlacedNone     = "none"
	PlacedPool     = "pool"
	PlacedDelayed  = "delayed"
	PlacedHeld     = "held" // held for the waitlist until its round ends
	PlacedWaitlist = "waitlist"
	PlacedGone     = "gone" // the slot was no longer waiting to be placed
	PlacedNotDue   = "notdue"
)

// DelayedSlot is a returned slot waiting out its random delay.
type DelayedSlot struct {
	HospitalID string
	SessionID  string
	SlotNo     int
	Channel    Channel
}

// Admission is the atomic gate in front of SQL: it decides in one round trip
// whether a booking attempt may proceed and, if so, which slot it gets.
// Losers stop here and never reach SQL.
//
// Like Store, it is the sum of narrow ports, one per use case; the Service
// takes the whole.
type Admission interface {
	Ping(ctx context.Context) error
	HoldGate
	SlotReturns
	WaitQueue
	PoolMover
	BarGate
	StateKeeper
	LotteryGate
}

// HoldGate is the booking path's part of Admission: a hold taken, made
// durable, or given back (book.go).
type HoldGate interface {
	// Reserve checks release time, bar, quotas and a free slot, in that order
	// and before writing anything, then takes the slot. replay is true when
	// the booking id was already admitted by an earlier request.
	Reserve(ctx context.Context, r Reservation) (slotNo int, replay bool, err error)
	// Confirm marks holds of one hospital durable once their SQL rows are
	// committed (a batch of them in one round trip).
	Confirm(ctx context.Context, hospitalID string, bookingIDs ...string) error
	// Pend makes a held booking pending again for pendFor, before SQL
	// changes it (a cancellation): if the process dies between SQL and
	// the change's Redis step, the sweeper settles the hold against SQL
	// at the deadline. A booking Admission holds no record of is left
	// alone, and a later deadline kept.
	Pend(ctx context.Context, hospitalID, bookingID string, pendFor time.Duration) error
	// Release gives a hold back to its pool (or drops it).
	Release(ctx context.Context, h Hold, how Release) error
	// SoldOut says whether Reserve would still answer sold_out to any
	// attempt on the pool that passes the person's checks: the hospital's
	// state whole, the channel released (a lottery pool drawn) and its
	// pool empty. It writes nothing.
	SoldOut(ctx context.Context, s *Session, ch Channel) (bool, error)
}

// SlotReturns places slots their holders gave back: the waitlist first,
// else their pool, at once or after a random delay (waitlist.go, desk.go).
type SlotReturns interface {
	// Return gives back a slot its holder no longer wants (cancellation,
	// reissue): waitlist first, in one atomic step. Entries nobody may be
	// served from are passed by (Skipped), and on an error too the
	// placement names those that have left the line.
	Return(ctx context.Context, h Hold, r Return) (Placement, error)
	// Delayed lists returned slots whose delay is over.
	Delayed(ctx context.Context, hospitalID string, now time.Time, limit int) ([]DelayedSlot, error)
	// Place places a delayed slot: waitlist first, else as when says.
	// Skipped as for Return.
	Place(ctx context.Context, d DelayedSlot, p Placing, to Channel, when PlaceWhen) (Placement, error)
	// Redelay makes each of a hospital's slots that is free in its pool
	// wait delay() again among the returned slots, so Place gives it out
	// (the waitlist first); a slot not free is left. It returns how many
	// wait.
	Redelay(ctx context.Context, slots []DelayedSlot, delay func() time.Duration) (int, error)
}

// WaitQueue keeps each session's waitlist in order.
type WaitQueue interface {
	// JoinWaitlist appends an entry to a session's waitlist and returns its
	// position; LeaveWaitlist removes it.
	// An entry whose round has not ended by now waits in its round (position
	// 0) and joins the line, in the order of the round's keys, when it ends.
	JoinWaitlist(ctx context.Context, hospitalID, sessionID string, e WaitlistRef, now time.Time) (int, error)
	LeaveWaitlist(ctx context.Context, hospitalID, sessionID string, e WaitlistRef, now time.Time) error
	// Refusal says why a returned slot of the session would pass the
	// identity by at its turn (a bar, a booking or entry in the session, a
	// quota: ErrPatientBarred, ErrAlreadyBooked, …), as Place judges it;
	// nil when it would not. It writes nothing.
	Refusal(ctx context.Context, hospitalID, sessionID, identityKey string, p Placing) error
	// WaitRound is when the session's latest waitlist round ends (zero:
	// none is known).
	WaitRound(ctx context.Context, hospitalID, sessionID string) (time.Time, error)
	// Waitlist lists a session's waitlist entries in order.
	Waitlist(ctx context.Context, hospitalID, sessionID string) ([]WaitlistRef, error)
	// SyncWaitlist removes closed entries and appends missing ones.
	SyncWaitlist(ctx context.Context, hospitalID, sessionID string, drop, add []WaitlistRef, now time.Time) error
}

// PoolMover moves free slots between a session's channel pools and counts
// them (the desk, the consoles' availability).
type PoolMover interface {
	// MoveFree moves up to n free slots from one channel pool of a session
	// to another as returned slots: each waits out a delay() among the
	// delayed slots, free in no pool, to be handed out (Place with
	// PlaceReturned). With slots given (n 0) it moves exactly those back:
	// from the pool they were moved to (parked, or free there), to the
	// pool they came from.
	// It returns the slots moved and, when none was free, how many of the
	// from pool's are held for the waitlist's round.
	MoveFree(ctx context.Context, s *Session, from, to Channel, n int, releaseAt time.Time, slots []int,
		delay func() time.Duration) (moved []int, heldForRound int, err error)
	// Remaining counts the free slots of each session, per channel.
	Remaining(ctx context.Context, sessions []*Session) ([]map[Channel]int, error)
	// HeldForWaitlist counts each session's slots held for its waitlist's
	// round, any channel's, and says when that round ends (zero: none).
	HeldForWaitlist(ctx context.Context, sessions []*Session) ([]WaitlistHold, error)
}

// WaitlistHold is what a session holds for its waitlist's round: Slots
// slots, handed out when the round ends at Until.
type WaitlistHold struct {
	Slots int
	Until time.Time
}

// BarGate applies bars (no-shows, confirmed flags) where bookings are
// admitted.
type BarGate interface {
	// Bar bars an identity from booking until a time, in every hospital given.
	Bar(ctx context.Context, hospitalIDs []string, identityKey string, until time.Time) error
	// MovePerson makes a document the desk linked to a person count as
	// the person in each hospital given: the document's holds and bar move
	// to the person's key (LinkIdentities). Idempotent.
	MovePerson(ctx context.Context, hospitalIDs []string, fromKey, toKey string) error
}

// StateKeeper keeps Admission's state in step with SQL: reconciliation,
// the sweeper, reloads after Redis lost its data, a session closed while
// its schedule changes, and Service.Check's snapshot (reconcile.go,
// heal.go, check.go).
type StateKeeper interface {
	// Holds lists the holds of the given sessions.
	Holds(ctx context.Context, hospitalID string, sessionIDs []string) ([]Hold, error)
	// Close stops admission to a session before its schedule changes: every
	// pool's release time and lottery window is removed (attempts are then
	// refused as channel_closed) and its free pools emptied. Holds stay;
	// Load (reconciliation) opens it again as SQL says.
	// A mark keeps it closed for up to hold, whatever a reconciliation
	// meanwhile loads, until Reopen.
	Close(ctx context.Context, s *Session, hold time.Duration) error
	// Reopen drops Close's mark; the next Load opens the session as SQL
	// says.
	Reopen(ctx context.Context, s *Session) error
	// Load makes a session's state match SQL: active are its SQL-active
	// bookings, stale are holds that SQL does not know (released unless
	// their commit may still be in flight).
	Load(ctx context.Context, s *Session, active []Booking, stale []StaleHold) error
	// Expired lists holds whose pending deadline passed before now.
	Expired(ctx context.Context, hospitalID string, now time.Time, limit int) ([]Hold, error)
	// States says, for each hospital, whether its state is whole: loaded
	// from SQL, completely, by the Admission server that runs now. Reserve
	// refuses with ErrStateMissing while a hospital's state is missing.
	States(ctx context.Context, hospitalIDs []string) ([]StateStatus, error)
	// BeginReload claims the reload of a hospital's state from SQL for up
	// to ttl and marks the state missing, so Reserve refuses until
	// EndReload. ok is false while another instance holds the claim.
	BeginReload(ctx context.Context, hospitalID, token string, ttl time.Duration) (ok bool, err error)
	// EndReload marks the state whole again. ok is false when the claim is
	// gone: the Admission server lost its data during the reload (or the
	// claim expired), so the reload must run again.
	EndReload(ctx context.Context, hospitalID, token string) (ok bool, err error)
	// Snapshot reads what Admission holds for a hospital's sessions and for
	// the given identities, changing nothing (Service.Check).
	Snapshot(ctx context.Context, hospitalID string, sessions []*Session, identityKeys []string) (AdmissionSnapshot, error)
}

// StateStatus says whether Admission's state of a hospital can be trusted.
type StateStatus uint8

// The states of a hospital's admission state.
const (
	StateWhole StateStatus = iota
	// StateMissing: there is no mark of a complete load, so the data was
	// lost (Redis restarted empty, flushed) or never loaded.
	StateMissing
	// StateStale: the mark was written by another Redis process than the
	// one running now (it restarted from its own files, or a replica took
	// over): the latest writes may be lost.
	StateStale
	// StateReloading: an instance is reloading it from SQL.
	StateReloading
)

func (s StateStatus) String() string {
	switch s {
	case StateWhole:
		return "whole"
	case StateMissing:
		return "missing"
	case StateStale:
		return "stale"
	case StateReloading:
		return "reloading"
	}
	return "unknown"
}

// AdmissionSnapshot is what Admission holds for one hospital.
type AdmissionSnapshot struct {
	Status   StateStatus
	Sessions map[string]SessionSnapshot
	// Identities: identity key → booking id → the hold's entry
	// ("date|dept|week|month|session|slot"), for the identities asked for
	// and those of every held booking.
	Identities map[string]map[string]string
	Records    map[string]Hold      // booking id → its record, for held bookings
	Pending    map[string]time.Time // booking id → deadline
	// EntriesPending: lottery entry id → deadline, for entries whose
	// commit may be in flight.
	EntriesPending map[string]time.Time
	Delayed        []DelayedSlot
	Bars           map[string]time.Time // identity key → barred until
}

// SessionSnapshot is what Admission holds for one session.
type SessionSnapshot struct {
	Exists   bool // its meta is there
	Release  map[Channel]time.Time
	Free     map[Channel][]int
	Held     map[int]string // slot → booking id
	Waitlist []WaitlistRef
}

// EntryRef is a lottery entry as Admission keeps it.
type EntryRef struct {
	HospitalID  string
	SessionID   string
	EntryID     string
	Channel     Channel
	IdentityKey string
}

// LotteryGate is Admission's part in lottery release: entries hold their
// quota in Redis from the moment they are admitted until the draw.
type LotteryGate interface {
	// Enter admits a lottery entry (r.BookingID is the entry id): the
	// pool's window is open by the Redis clock, the identity is not barred,
	// is within its quotas, counting the entry, and has no entry or booking
	// in the session. Checks come before any write. The entry then holds its
	// quota and is pending until ConfirmEntries. replay is true when the id
	// was admitted by an earlier request. ErrWindowClosed means the pool no
	// longer takes entries: the attempt is a booking attempt.
	Enter(ctx context.Context, r Reservation) (replay bool, err error)
	// ConfirmEntries marks entries durable once their SQL rows are committed.
	ConfirmEntries(ctx context.Context, hospitalID string, ids []string) error
	// ReleaseEntries forgets entries and gives their quota back, unless
	// keepHold (a winner's hold is its booking's now). With onlyIfExpired an
	// entry whose pending deadline has not passed is left alone and
	// returned.
	ReleaseEntries(ctx context.Context, refs []EntryRef, keepHold, onlyIfExpired bool) (skipped []string, err error)
	// ExpiredEntries lists entries whose pending deadline passed.
	ExpiredEntries(ctx context.Context, hospitalID string, now time.Time, limit int) ([]EntryRef, error)
	// Entries lists the live entries of sessions of one hospital.
	Entries(ctx context.Context, hospitalID string, sessionIDs []string) ([]EntryRef, error)
	// LoadEntries adds live entries Redis lacks (holding their quota again)
	// and drops stale ones (unless their commit may still be in flight).
	LoadEntries(ctx context.Context, s *Session, live []Entry, stale []EntryRef) error
	// Drawn opens a pool to first-come once its draw is done; what the draw
	// left is first held for the waitlist's round (round > 0), as a returned
	// slot that finds nobody waiting. It returns how many slots it held.
	Drawn(ctx context.Context, s *Session, ch Channel, now time.Time, round time.Duration) (int, error)
}

// WaitlistRef is a waitlist entry as Admission keeps it.
type WaitlistRef struct {
	ID          string
	IdentityKey string
	// RoundEnd is when the entry's round ends (unix ms, the service's
	// clock), and Key its random key, which orders it within the round; a
	// lottery loser (or any entry without rounds) has no round and goes to
	// the end of the line at once.
	RoundEnd int64
	Key      uint64
}

// Schedule is a set of hospitals and their clinic sessions, as stored.
type Schedule struct {
	Hospitals   []Hospital
	Departments []Department
	Doctors     []Doctor
	Sessions    []Session
}

// NewPatient is a patient to add, with the identity already validated,
// hashed and sealed.
type NewPatient struct {
	ID        string
	AccountID string
	Identity  Identity // ID is used when the identity is new
	IsSelf    bool
	// Relationship to the account holder; BirthYear from the ID document
	// (0: the document carries none).
	Relationship Relationship
	BirthYear    int
	PhoneHash    []byte
	PhoneSealed  []byte
	PhoneMasked  string
	// Consent is the holder's consent for this person, written with the
	// row (its patient and identity ids filled in by the store).
	Consent *Consent
	// ConsentDue: the day a child added on a guardian's consent turns 14
	// (Patient.ConsentDue); empty for anyone else.
	ConsentDue string
}

// AccountLimits are the platform's rules on accounts and their patients.
type AccountLimits struct {
	MaxPatients        int // patients per account
	MaxAccountsOnPhone int // accounts whose patients share one phone number
}

// SelfBinding is the desk's binding of a patient account as a person's
// verified self (Store.VerifyName; none when AccountID is empty).
type SelfBinding struct {
	AccountID string
	// NewPatientID, BirthYear and MaxPatients make the person the
	// account's bound self when the account does not list them: the
	// owner whose own add was refused identity_taken (a squatter's false
	// self held the number) is bound in the one visit to the desk.
	NewPatientID string
	BirthYear    int
	MaxPatients  int
	// HolderChanged is the account's notice, written only when the
	// binding makes the person its holder in place of another it had
	// claimed online (never bound): a bound holder is never replaced
	// (ErrHolderBound).
	HolderChanged Notification
	// Consent, when the holder signed the privacy notice at the binding
	// (deskBindingConsent): the account's consent, recorded with the
	// binding (its identity the bound person's), the account's version set.
	Consent *Consent
}

// NameChange is what a desk verification changes of a person's name
// beyond the name itself (review24 H3). A correction (Replace) makes the
// verified name it replaces a former name (曾用名); Former are names the
// clerk saw as the person's former ones (the 户口簿's 曾用名, the police's
// 更名证明) though none was verified. A former name was the person's: every
// account's list entry (claim) of the person under it, and every confirmed
// booking and waiting waitlist place under it, takes the verified name (a
// booking's booked_name_hash keeps the one it was made under), and each
// account whose list changed is told (Notice, copied per account): nothing
// made under a former name is voided (voidDisproved voids only names never
// the person's). A lottery entry keeps the name it was entered under (an
// entry's record is written once): it is not voided either. The former names
// are kept, hashed and sealed as names are, so a lookup by either name
// finds the person (IsFormerName).
type NameChange struct {
	Replace bool
	Former  []FormerName
	Notice  Notification
}

// FormerName is a name the person was known by: the keyed hash of its key
// and the name sealed; RecordedAt, when the desk recorded it (read back
// only: FormerNames).
type FormerName struct {
	Hash, Sealed []byte
	RecordedAt   time.Time
}

// AccountPolicy is a change of the platform's account limits, as a
// platform administrator set it, from EffectiveFrom on; the list of them is
// the history. Accounts span hospitals, so no one hospital sets these.
type AccountPolicy struct {
	ID            string
	EffectiveFrom time.Time
	Limits        AccountLimits
	Reason        string
	SetBy         string
	SetAt         time.Time
}

// AuditEntry is one staff action.
type AuditEntry struct {
	ID        string
	TS        time.Time
	ActorID   string
	ActorRole Role
	Action    string
	Target    string
	Reason    string
	// HospitalID is the hospital the action was in, when it was in one: a
	// hospital's administrator reads its entries. A verification or name
	// correction of a person is also copied to every other hospital where
	// the person holds a booking, entry or waitlist place (Store.VerifyName;
	// the copy's reason ends with AuditOfPersonHere).
	HospitalID string
	// ActorName is the staff member's work name, when the store read it
	// with the entry (never written: the account holds it); empty on a copy
	// of another hospital's action (ActorHospitalElsewhere).
	ActorName string
	// ActorHospitalElsewhere is, on an entry whose actor works for another
	// hospital than the entry's (the copy of a desk action to every
	// hospital where the person holds something), the actor's hospital:
	// what its readers are shown with the role instead of the work name of
	// another hospital's staff. Read, never written.
	ActorHospitalElsewhere string
}

// Verdict is what a real-name check says of a name and an ID number.
type Verdict int

// The verdicts.
const (
	// Unverifiable: the verifier cannot tell (the local default for every
	// remote channel: only the desk, with the card, can).
	Unverifiable Verdict = iota
	NameMatches          // the name is the ID number's holder's
	NameDiffers          // the name is not the ID number's holder's
)

// IdentityVerifier checks a name against an ID number, as hospitals buy
// from a real-name provider (实名认证). Its answer depends on the person,
// never on what fairslot has stored, so it reveals nothing about which ID
// numbers fairslot knows.
type IdentityVerifier interface {
	Verify(ctx context.Context, id identity.ID, name string) (Verdict, error)
}

// DeskOnly is the local default IdentityVerifier: nothing can be verified
// remotely; the registration desk verifies with the physical card
// (Service.VerifyIdentity, check-in and walk-ins).
type DeskOnly struct{}

// Verify answers Unverifiable.
func (DeskOnly) Verify(context.Context, identity.ID, string) (Verdict, error) {
	return Unverifiable, nil
}

// LoginGuard limits failed logins per account key (the phone's keyed hash),
// across instances.
type LoginGuard interface {
	// Wait is how long key must wait before its password is checked again;
	// zero to go on.
	Wait(ctx context.Context, key string) (time.Duration, error)
	// Failed counts a failed attempt of key.
	Failed(ctx context.Context, key string) error
	// Succeeded forgets key's failures.
	Succeeded(ctx context.Context, key string) error
}

// Revocation says that the tokens of an account older than Generation no
// longer count.
type Revocation struct {
	AccountID  string
	Generation int
	At         time.Time
}

// Store is the system of record (CockroachDB, or PostgreSQL on one machine).
// Unique constraints in it are the final guard against double booking.
//
// It is the sum of the narrow stores below, one per use case, so that each
// part of the domain (and each in-memory fake in bookingtest) names only
// what it uses; the Service, which runs every use case, takes the whole, as
// cmd/fairslot wires it (docs/design.md, "Ports").
type Store interface {
	// Ping checks the database answers and takes writes: an error that
	// wraps ErrReadOnly says it answers but refuses writes.
	Ping(ctx context.Context) error
	CatalogStore
	SourceStore
	AccountStore
	EventLog
	BookingStore
	DeskStore
	NoShowStore
	WaitlistStore
	ReviewStore
	LotteryStore
	CaseStore
	NotificationStore
	CallBackStore
	RetentionStore
}

// CatalogStore is what the catalog is loaded from: the schedule of every
// hospital and its version.
type CatalogStore interface {
	LoadSchedule(ctx context.Context, fromDate string) (Schedule, error)
	SaveSchedule(ctx context.Context, s Schedule) error
	// CatalogVersion reads the schedule's version, raised in the
	// transaction of every change of it (0 before any).
	CatalogVersion(ctx context.Context) (int64, error)
}

// SourceStore is a hospital's management of its slot sources (号源):
// sessions, clinic stops and its policy (sources.go).
type SourceStore interface {
	// CreateSession stores a new session with its pools and slots and the
	// audit entry; ErrSessionOverlap when the doctor has a session at an
	// overlapping time (or in the same period of the day).
	CreateSession(ctx context.Context, s Session, a AuditEntry) error
	// CreateSessions stores several sessions as CreateSession does one, all
	// or none, with one audit entry.
	CreateSessions(ctx context.Context, s []Session, a AuditEntry) error
	// UpdateSession replaces a session's times, pools and slots, and
	// DeleteSession removes it, each with the audit entry; both refuse with
	// ErrSessionReleased once anything was booked, entered or waitlisted in
	// it or a lottery seed committed, and ErrSessionNotFound when it is gone.
	UpdateSession(ctx context.Context, s Session, a AuditEntry) error
	// UpdatePools changes only the pools named of a session a pool of
	// which has opened: their rows and slots become s's, nothing else of
	// the session changes, its version (checked against s.Version unless 0)
	// goes up. ErrSessionReleased if one of them is released at opensBy or
	// anything was booked or entered in it; ErrStoppedUnchangeable,
	// ErrEditedMeanwhile, ErrSessionNotFound as UpdateSession.
	UpdatePools(ctx context.Context, s Session, pools []Channel, opensBy time.Time, a AuditEntry) error
	// DeleteSession removes a session (its pools, slots and lottery seeds
	// with it) unless anything was booked, entered or waitlisted in it
	// (ErrSessionReleased), released or not.
	// version, when not 0, is the session's version it was made from
	// (ErrEditedMeanwhile otherwise), as StopSession's.
	DeleteSession(ctx context.Context, id string, version int64, a AuditEntry) error
	// StopSession marks a session stopped at now (at version, when not 0:
	// ErrEditedMeanwhile when it changed since; the stop raises it) and, in the same
	// transaction, cancels its active bookings without penalty (the open
	// substitute offers of those held there end: withdrawn), ends its
	// waiting waitlist entries and live lottery entries, writes a
	// notification for each (the one of body for its kind, or sub.Notice for
	// a booking with sub, sub.Unlisted for one of a person on no account's
	// list; it names the member, For(Patient.Label()), read in
	// the same transaction, where there is one), the cancellations' events
	// and the audit entry. ErrSessionStopped if it was stopped already.
	// With sub, the same transaction publishes sub.Session for the
	// substitute doctor (ErrSessionOverlap, ErrDoctorRetired as a publish)
	// and holds each cancelled booking's slot there: a booking of the same
	// person, channel and slot number, and its offer, open until
	// sub.HoldUntil.
	StopSession(ctx context.Context, id string, version int64, now time.Time, reason string, body StopNotices, sub *Substitution, a AuditEntry) (StopResult, error)
	// SetHoliday adds a day to a hospital's holiday calendar (or renames
	// it), DeleteHoliday takes one off (ErrNotFound), each with the audit
	// entry; Holidays lists a hospital's from one date to another,
	// inclusive, in date order.
	SetHoliday(ctx context.Context, h Holiday, a AuditEntry) error
	DeleteHoliday(ctx context.Context, hospitalID, date string, a AuditEntry) error
	Holidays(ctx context.Context, hospitalID, from, to string) ([]Holiday, error)
	// RestoreSession restores a stop (RestoreSession): it publishes x, the
	// stopped session's copy, as CreateSession does (ErrSessionOverlap,
	// ErrDoctorRetired), and books each patient the stop cancelled back into
	// it at their slot, told n.Restored (or n.Kept, not booked back, when
	// they hold another booking that day in that department), all in one
	// transaction with the audit entry. ErrRestoreClosed when the stop was
	// before since, restored already, named a substitute, or the session is
	// not stopped.
	RestoreSession(ctx context.Context, stoppedID string, x Session, since time.Time, n RestoreNotices, a AuditEntry) (RestoreResult, error)
	// AnnounceSession sets s's room and delay at the version s.Version
	// (ErrEditedMeanwhile otherwise; ErrSessionStopped, ErrSessionNotFound)
	// and, in the same transaction with the audit entry, tells each active
	// booking, waiting place and live lottery entry of it n (a
	// session_changed notification naming its member, For(Patient.Label());
	// on the call-back list when no account lists the person).
	AnnounceSession(ctx context.Context, s Session, n Notice, a AuditEntry) (AnnounceResult, error)
	// MoveSession moves session s (its new day, period, times and slot
	// times; s.Version the version the move was made from,
	// ErrEditedMeanwhile otherwise; ErrSessionOverlap for the doctor's
	// other clinic then; ErrStoppedUnchangeable) from oldStart, in one
	// transaction with the audit entry: the bookings of a person who holds
	// another active booking in the department on the new day cancelled
	// (never late, a cancelled event session_moved, told n.Cancelled), the
	// others' visit day moved, every booking, waiting place and live entry
	// left told n.Moved (session_moved; the call-back list for a person no
	// account lists).
	MoveSession(ctx context.Context, s Session, oldStart time.Time, n MoveNotices, a AuditEntry) (MoveResult, error)
	// Offer reads the substitute offer of a held booking
	// (ErrOfferNotFound); OffersOfAccount those of an account, open ones
	// first; DueOffers the open ones whose time is up at now, or whose
	// held booking is no longer confirmed. Each reads the held booking's
	// status with the offer (SubstituteOffer.BookingStatus, HeldStopped).
	Offer(ctx context.Context, bookingID string) (SubstituteOffer, error)
	OffersOfAccount(ctx context.Context, accountID string) ([]SubstituteOffer, error)
	// OffersOfBookings reads the offers of those held bookings that have
	// one (by primary key; the others are left out).
	OffersOfBookings(ctx context.Context, bookingIDs []string) ([]SubstituteOffer, error)
	DueOffers(ctx context.Context, now time.Time) ([]SubstituteOffer, error)
	// SettleOffer moves an open offer to status at at by actor while its
	// held booking is in bookingStatus (confirmed, for an answer; the
	// state it ended in, for an offer left open over an ended booking);
	// ErrOfferClosed if the offer is not open or the booking has moved.
	// The changes of a held booking settle its offer in their own
	// transactions: CancelBooking (OfferEnd), CheckIn (accepted),
	// StopSession of the substitute's clinic (withdrawn).
	SettleOffer(ctx context.Context, bookingID, status string, at time.Time, by string, bookingStatus Status) (SubstituteOffer, error)
	// SetPolicy records a hospital's policy change with its audit entry
	// (and raises the catalog's version).
	SetPolicy(ctx context.Context, c PolicyChange, a AuditEntry) error
	// SetAccountPolicy records a change of the platform's account limits
	// with its audit entry; AccountPolicies lists every change by
	// effective time (then by when it was set).
	SetAccountPolicy(ctx context.Context, c AccountPolicy, a AuditEntry) error
	AccountPolicies(ctx context.Context) ([]AccountPolicy, error)
	// AddHospital inserts a hospital with its audit entry, raising the
	// catalog's version.
	AddHospital(ctx context.Context, h Hospital, a AuditEntry) error
	// SaveDepartment inserts (create) or renames a department, with the
	// audit entry, raising the catalog's version; ErrDepartmentExists when
	// the hospital has another of that name. A create whose id is stored
	// already (a repeat) changes nothing.
	SaveDepartment(ctx context.Context, d Department, create bool, a AuditEntry) error
	// RetireDepartment marks a department retired at at; ErrDepartmentInUse
	// while a doctor who is not retired works in it.
	RetireDepartment(ctx context.Context, id string, at time.Time, a AuditEntry) error
	// SaveDoctor inserts (create) or updates a doctor as SaveDepartment
	// does a department; ErrDepartmentRetired when the department is
	// retired, ErrDoctorRetired when an edited doctor is.
	// notices (Service.feeOrTitleNotices: one per session, Kind, Body,
	// SessionID) are written for every confirmed booking of their session
	// in the same transaction, each naming the booking and its account or
	// person.
	SaveDoctor(ctx context.Context, d Doctor, create bool, a AuditEntry, notices []Notification) error
	// RetireDoctor marks a doctor retired at at; ErrDoctorHasSessions while
	// the doctor has a session that is not stopped and ends after at.
	// CreateSession(s) refuse a retired doctor with ErrDoctorRetired.
	RetireDoctor(ctx context.Context, id string, at time.Time, a AuditEntry) error
	// SaveTemplate inserts (create) or replaces a stored weekly template
	// with its audit entry; Template reads one (ErrTemplateNotFound),
	// Templates a doctor's by name, DeleteTemplate removes one.
	SaveTemplate(ctx context.Context, t StoredTemplate, create bool, a AuditEntry) error
	Template(ctx context.Context, id string) (StoredTemplate, error)
	Templates(ctx context.Context, doctorID string) ([]StoredTemplate, error)
	DeleteTemplate(ctx context.Context, id string, a AuditEntry) error
	// SessionNotifications lists the notifications written for a session.
	SessionNotifications(ctx context.Context, sessionID string) ([]Notification, error)
}

// AccountStore keeps accounts, their logins and their patients
// (accounts.go, patients.go, revoke.go).
type AccountStore interface {
	// CreateAccount writes a's consent (a.Consent, when given) and sets
	// the account's consented version in the same transaction.
	CreateAccount(ctx context.Context, a Account, ev Event) error
	// RecordConsent writes a consent to the privacy notice; an account's
	// own (no patient) also sets the account's consented version.
	RecordConsent(ctx context.Context, c Consent) error
	// Consents lists the consents of an account, oldest first.
	Consents(ctx context.Context, accountID string) ([]Consent, error)
	// BindingsToReview lists the accounts' selves the binding rule would
	// refuse or question (booking.BindingsToReview): a self born in or
	// after minorFrom is Minor.
	BindingsToReview(ctx context.Context, minorFrom int) ([]BindingToReview, error)
	// UnreadListings lists up to limit listings made before 0084 that
	// migration 0087 marked for their 14th-birthday day (FillConsentDue).
	UnreadListings(ctx context.Context, limit int) ([]UnreadListing, error)
	// SetConsentDue sets a marked listing's day (empty: none) and clears
	// its mark. A day is not set where the person's own consent (not a
	// guardian's) was recorded from from on, for this listing or for
	// every listing of them (clear_consent_due's rule): it ended the ask.
	SetConsentDue(ctx context.Context, patientID, day string, from time.Time) error
	// FlagsConcerning lists the flags that name the account or one of the
	// persons (identity ids), newest first (at most 100).
	FlagsConcerning(ctx context.Context, accountID string, identityIDs []string) ([]Flag, error)
	// EventsOfAccount lists the account's own events, newest first.
	EventsOfAccount(ctx context.Context, accountID string, limit int) ([]Event, error)
	AccountByPhone(ctx context.Context, phoneHash []byte) (Account, error)
	AccountByID(ctx context.Context, id string) (Account, error)
	// RevokeTokens raises an account's token generation (and, with a
	// password hash, sets the new password in the same write); it returns
	// the new generation. A closed account is not written: ErrNotFound.
	RevokeTokens(ctx context.Context, accountID, newPasswordHash string, at time.Time) (int, error)
	// Revocations lists the accounts whose tokens were revoked at or after
	// since.
	Revocations(ctx context.Context, since time.Time) ([]Revocation, error)
	// ResetPassword is RevokeTokens with a new password hash and the
	// change's audit entry, in one transaction.
	ResetPassword(ctx context.Context, accountID, passwordHash string, at time.Time, a AuditEntry) (int, error)
	// SaveResetCode stores an account's password reset code (replacing an
	// earlier one) with the clerk's audit entry, in one transaction.
	SaveResetCode(ctx context.Context, c StoredResetCode, a AuditEntry) error
	// RedeemResetCode uses up the account's reset code of codeHash if it
	// has not expired at at, sets the new password hash and raises the
	// token generation, with the audit entry, in one transaction; it
	// returns the generation. No such code: ErrInvalidResetCode, nothing
	// changed.
	RedeemResetCode(ctx context.Context, accountID string, codeHash []byte, at time.Time, passwordHash string, a AuditEntry) (int, error)
	// CloseAccount closes an open patient account, in one transaction
	// with its audit entry (stamped at): its login number's keyed hash
	// gives way to tombstone (the number is free at once), its sealed
	// number and password hash go, its token generation rises (returned);
	// every patient on its list is removed and its self released, bound or
	// claimed; its reset code is dropped. An account closed already, or
	// none: ErrNoChange, nothing written; one blocked (a block in force,
	// however recent): ErrAccountBlocked, nothing written.
	// A desk closing keeps its clerk and whether the login was taken
	// (by), for the job that sweeps it again; a pending closing is done
	// with.
	CloseAccount(ctx context.Context, accountID string, tombstone []byte, at time.Time, by ClosedBy, a AuditEntry) (int, error)
	// ClosedAccountsLeft lists accounts closed since since, or whose
	// online closing is pending (Pending), that still have something they
	// made live at now (a confirmed booking of a session not started, a
	// waiting place, an entry still entered): at most 100, the pending
	// first, then the earliest closed, each with who closed it.
	ClosedAccountsLeft(ctx context.Context, now, since time.Time) ([]ClosedBy, error)
	// RequestClosing makes the open account's closing pending until due,
	// in one transaction with its audit entry (stamped at): its token
	// generation rises (returned), so every token ends. One closed or
	// pending already: ErrNoChange; one blocked (a block in force):
	// ErrAccountBlocked; nothing written. The notification n tells the
	// account, in the same transaction.
	RequestClosing(ctx context.Context, accountID string, at, due time.Time, a AuditEntry, n Notification) (int, error)
	// CancelClosing cancels the account's pending closing, with its audit
	// entry and the account's notification n, in one transaction. None
	// pending: ErrNoChange, nothing written.
	CancelClosing(ctx context.Context, accountID string, a AuditEntry, n Notification) error
	// ClosingsDue lists open accounts whose pending closing is due at now:
	// at most 100, the earliest due first.
	ClosingsDue(ctx context.Context, now time.Time) ([]string, error)
	// PendingClosings lists the open accounts whose online closing is
	// pending (in its cooling-off), whenever due: each instance holds them
	// to refuse their new bookings, entries and waitlist places.
	PendingClosings(ctx context.Context) ([]string, error)
	// AccountOfSelf is the open account whose self (本人, bound or
	// claimed, still listed) is the identity: ErrNotFound when none.
	AccountOfSelf(ctx context.Context, identityID string) (string, error)
	// AccountUnderReview is whether an open detector flag (not yet
	// decided by an administrator) names the account.
	AccountUnderReview(ctx context.Context, accountID string) (bool, error)
	// OverdueFlags counts the open flags opened before a time: past their
	// decision deadline.
	OverdueFlags(ctx context.Context, openedBefore time.Time) (int, error)
	// SetDisabled disables an account, raising its token generation, or
	// enables it, with the audit entry, in one transaction; it returns the
	// generation. An account already so is ErrNoChange, nothing written.
	SetDisabled(ctx context.Context, accountID string, disabled bool, at time.Time, a AuditEntry) (int, error)
	// StaffAccounts lists the staff accounts of a hospital (of every one
	// with hospitalID empty), or the one of phoneHash when not nil.
	StaffAccounts(ctx context.Context, hospitalID string, phoneHash []byte) ([]StaffAccount, error)
	// AddPatient adds an identity to an account under the account's claim
	// of its name (p.Identity's name fields). A claim never conflicts with
	// another account's claim; it is refused (ErrIdentityUnverified) only
	// when the identity's name is verified and is another. With
	// p.Identity.NameVerified (a provider confirmed the claim), the claim
	// becomes the identity's verified name.
	AddPatient(ctx context.Context, p NewPatient, limits AccountLimits, ev Event) (Patient, error)
	// Patient reads a patient, a removed one too (Removed set).
	Patient(ctx context.Context, id string) (Patient, error)
	// Patients lists an account's patients still on its list.
	Patients(ctx context.Context, accountID string) ([]Patient, error)
	// NamesakeEntered says whether another member of the account under
	// the patient's name, with another type of document, has an entry in
	// the session's draw (one person at a draw).
	NamesakeEntered(ctx context.Context, accountID, patientID, sessionID string) (bool, error)
	// PatientsByID reads the patients of the given ids that exist, removed
	// ones too: the members notifications name.
	PatientsByID(ctx context.Context, ids []string) ([]Patient, error)
	// RemovePatient takes a member off an account's list (a soft delete:
	// removed_at), freeing its place, with its audit entry, in one
	// transaction that first locks the row and then finds the member has
	// nothing pending: ErrPatientPending (with what is pending in the
	// message) when it has a confirmed booking, a live lottery entry or a
	// waiting waitlist place; ErrPatientNotFound when the account has no
	// such member on its list. A booking committed after the removal is
	// refused by the booking insert itself (ErrPatientRemoved).
	RemovePatient(ctx context.Context, accountID, patientID string, at time.Time, a AuditEntry) error
	// ListingsOf lists the accounts but except (empty: none) that list the
	// person (personID: any of their documents) as a family member, not
	// as their self, on their lists now, oldest first.
	ListingsOf(ctx context.Context, personID, except string) ([]Listing, error)
	// RemoveListing is RemovePatient of a member the person removed from
	// the account's list (leaveListing): the same locks and refusals,
	// with the audit entry and the notification to the account in the
	// same transaction.
	RemoveListing(ctx context.Context, accountID, patientID string, at time.Time, a AuditEntry, n Notification) error
	// UpdatePatient applies e to a patient of the account still on its
	// list, with the audit entries of what it changes, all in one
	// transaction or none of it: a new phone's accounts are counted first
	// (ErrPhoneLimit past lim.MaxAccountsOnPhone, as AddPatient); a
	// relationship is never set on the account's self
	// (ErrPatientNotFound, as for a row that is not the account's or is
	// removed).
	UpdatePatient(ctx context.Context, accountID, patientID string, e PatientEdit, lim AccountLimits, audits []AuditEntry) (Patient, error)
	// ChangeAccountPhone moves an account to a new login number and ends
	// its tokens (the new generation is returned), with its audit entry, in
	// one transaction; the members it gave its old number as theirs (still
	// listed) get the new one: ErrPhoneTaken when another account logs in with the
	// number. Other accounts' members listing it do not count (a login
	// number is its holder's, as at registration). A closed account is not
	// written: ErrNotFound.
	ChangeAccountPhone(ctx context.Context, accountID string, to AccountPhone, at time.Time, a AuditEntry) (int, error)
	// ReleaseAccountPhone gives an account the placeholder login number
	// to (a recycled number's release) and ends its tokens, returning the
	// new generation; its members listed with the old number (oldHash)
	// lose it; the audit entry and the account's notification are written
	// in the same transaction. ErrNotFound when the account is gone or no
	// longer logs in with oldHash (released or changed meanwhile).
	ReleaseAccountPhone(ctx context.Context, accountID string, oldHash []byte, to AccountPhone, at time.Time, a AuditEntry, n Notification) (int, error)
	// SelfAccount is the account that holds an identity as its self
	// (本人); ErrNotFound when none does.
	SelfAccount(ctx context.Context, identityID string) (Account, error)
	// RestoreAccountPhone gives a released account (its login number the
	// placeholder ReleasedPhoneMasked) a new login number, as
	// ChangeAccountPhone; ErrAccountNotReleased when the account has a
	// number by the time it is written (another clerk's restore won).
	RestoreAccountPhone(ctx context.Context, accountID string, to AccountPhone, at time.Time, a AuditEntry) (int, error)
	// MoveLogin moves a taken login back to its holder (MoveLoginBack):
	// the account's login number becomes to, every token ends (the new
	// generation is returned), the password hash is emptied (no password
	// opens it until the reset code rc is redeemed), the members it listed
	// with the old number get the new one, and rc, the audit entry and the
	// account's notification are written, in one transaction. ErrPhoneTaken
	// when another account logs in with to; ErrNotFound when the account is
	// closed.
	MoveLogin(ctx context.Context, accountID string, to AccountPhone, rc StoredResetCode, at time.Time, a AuditEntry, n Notification) (int, error)
	// MoveLogin with a pending move (CompleteLoginMove): the pending
	// row of m's account is deleted in the same transaction, and
	// ErrNoChange (nothing written) when it is gone or is not m (the holder
	// cancelled it meanwhile).
	CompleteLoginMove(ctx context.Context, m PendingLoginMove, rc StoredResetCode, at time.Time, a AuditEntry, n Notification) (int, error)
	// RequestLoginMove stores a desk login move waiting for its cooling-off
	// (review25 H4) with its audit entry and the account's notification, in
	// one transaction. ErrLoginMovePending when one waits already.
	RequestLoginMove(ctx context.Context, m PendingLoginMove, a AuditEntry, n Notification) error
	// PendingLoginMove is the account's waiting login move; ErrNotFound
	// when none waits.
	PendingLoginMove(ctx context.Context, accountID string) (PendingLoginMove, error)
	// CancelLoginMove deletes the account's waiting login move with the
	// audit entry and the notification; ErrNoChange when none waits.
	CancelLoginMove(ctx context.Context, accountID string, a AuditEntry, n Notification) error
	// LoginMovesDue lists the waiting login moves due at now.
	LoginMovesDue(ctx context.Context, now time.Time) ([]PendingLoginMove, error)
	// SaveCardReader stores a newly registered card reader with its audit
	// entry, in one transaction.
	SaveCardReader(ctx context.Context, r CardReader, a AuditEntry) error
	// CardReader is one card reader, by id; ErrNotFound when unknown.
	CardReader(ctx context.Context, id string) (CardReader, error)
	// CardReaders lists a hospital's card readers, oldest first.
	CardReaders(ctx context.Context, hospitalID string) ([]CardReader, error)
	// RetireCardReader marks a reader retired at at with its audit entry;
	// ErrNoChange when it was retired already.
	RetireCardReader(ctx context.Context, id string, at time.Time, a AuditEntry) error
	// AccountLastUsed is the latest of the account's creation, its last
	// token change (login number or password changed, logout, reset) and
	// its last event (a login, a booking, a cancellation, …).
	AccountLastUsed(ctx context.Context, accountID string) (time.Time, error)
	// StaffActionsSince counts the audit entries of the actions written
	// by the staff account actorID at or after since.
	StaffActionsSince(ctx context.Context, actorID string, since time.Time, actions ...string) (int, error)
	// StaffFreedSince is the latest time at or after since the staff
	// account staffID freed a booked slot of session sessionID (a
	// cancelled or reissued event it made); zero when it did not.
	StaffFreedSince(ctx context.Context, staffID, sessionID string, since time.Time) (time.Time, error)
	// CallerPersonsSince lists the distinct persons (identity ids) staff
	// booked, entered in a draw or waitlisted at or after since on calls
	// from the number phoneRef, or cancelled an account's booking for as
	// the patient on the line (the booked, lottery_entered, waitlisted and
	// cancelled events with a staff member and that phone: only
	// cancelForPatient's cancellation carries one).
	CallerPersonsSince(ctx context.Context, phoneRef string, since time.Time) ([]string, error)
	// StaffLookupsSince counts the persons (audit targets) the staff
	// account actorID looked up (identity_lookup) at or after since, other
	// than target: all of them, and those whose entry's reason is LIKE
	// noCard, with the first of these' time.
	StaffLookupsSince(ctx context.Context, actorID string, since time.Time, target, noCard string) (StaffLookups, error)
}

// EventLog records the booking events detection reads and the staff's
// audit entries.
type EventLog interface {
	RecordEvent(ctx context.Context, ev Event) error
	// RecordEvents stores a batch of events at once (refused attempts).
	RecordEvents(ctx context.Context, evs []Event) error
	RecordAudit(ctx context.Context, a AuditEntry) error
	// RecordAuditOfPerson stores an audit entry of staff reading or changing
	// a person (identityID) and, in the same transaction, its copy for
	// every other hospital where the person holds a confirmed booking, a
	// lottery entry taking part or a waiting waitlist place, the copy's
	// reason ending with AuditOfPersonHere (as VerifyName's).
	RecordAuditOfPerson(ctx context.Context, identityID string, a AuditEntry) error
	// HospitalsOfPerson lists the hospitals where the person (identityID)
	// holds a confirmed booking, a lottery entry taking part or a waiting
	// waitlist place: those RecordAuditOfPerson copies an entry to.
	HospitalsOfPerson(ctx context.Context, identityID string) ([]string, error)
	// KeyedAudit is the audit entry with this id, its target, reason and
	// hospital read (ErrNotFound when there is none): how a desk write
	// whose id an Idempotency-Key made knows a repeat of itself from
	// another request, and where a desk appeal was filed.
	KeyedAudit(ctx context.Context, id string) (AuditEntry, error)
}

// BookingStore is the booking path's system of record: the commit, the
// read-back, a patient's list and cancellation, and what reconciliation
// compares Admission with (book.go, reconcile.go).
type BookingStore interface {
	// InsertBookings commits a batch of bookings, each with its event and,
	// for a booking staff made, its audit entry (StaffBookingAudit), in
	// one transaction, and answers each booking: nil; ErrSlotTaken or
	// ErrQuotaDayDept when a unique constraint refuses it; ErrInProgress
	// when its id is already booked; ErrIdentityUnverified when its name is
	// not its identity's verified name. A refused booking never fails the
	// others. The second result is an error of the whole batch: nothing
	// committed, or ErrOutcomeUnknown when it may or may not have.
	InsertBookings(ctx context.Context, bs []Booking, evs []Event) ([]error, error)
	Booking(ctx context.Context, id string) (Booking, error)
	// Bookings lists the bookings an account owns: those it made, and those
	// staff made (by phone, at the desk) for the identity the account holds
	// as its verified self.
	// A page at a time (Page), newest first by (created_at, id);
	// ErrNotFound when p.After is not one of them.
	Bookings(ctx context.Context, accountID string, p Page) ([]Booking, error)
	// FutureBookingsMadeBy lists the confirmed bookings the account made
	// whose session has not started at now, all of them (what a closing
	// cancels).
	FutureBookingsMadeBy(ctx context.Context, accountID string, now time.Time) ([]Booking, error)
	// CancelBooking moves a confirmed booking to cancelled, or returns
	// ErrBookingNotActive. A late cancellation counts as a no-show and may
	// earn a bar, returned.
	// With audit (a staff member cancelled), the entry is written in the
	// same transaction, and so is the end of the booking's open substitute
	// offer (OfferEnd: declined or lapsed; when the cancellation answers
	// the offer and it is not open, nothing changes: ErrOfferClosed).
	CancelBooking(ctx context.Context, id string, late bool, rules NoShowRules, ev Event, audit *AuditEntry) (Booking, []Bar, error)
	ActiveBookings(ctx context.Context, hospitalID, fromDate string) ([]Booking, error)
	// BookedCounts counts, for each session given, what a stop (停诊) would
	// end: its active bookings (confirmed, checked in) per pool — the
	// channel of the slot each holds, as the free slots beside them are
	// counted —, its waiting places and its live lottery entries. The
	// administrators' schedule listing, a session's page and the stop's
	// check read it. A session with none of them is absent.
	BookedCounts(ctx context.Context, sessionIDs []string) (map[string]BookedCounts, error)
	// ReturnedSlots lists, by session, the slots of a hospital's sessions
	// (visit from fromDate on) that a booking gave back — cancelled, or a
	// no-show's — and no active booking holds.
	ReturnedSlots(ctx context.Context, hospitalID, fromDate string) (map[string][]int, error)
	BookingStatuses(ctx context.Context, ids []string) (map[string]Status, error)
	// MadeByOthers lists the bookings (visit from fromDate on), lottery
	// entries and waitlist places (open, or made since) of an identity
	// that patient accounts other than accountID made, with those
	// accounts' masked phones (Service.MadeByOthers).
	MadeByOthers(ctx context.Context, identityID, accountID, fromDate string, since time.Time) (MadeByOthers, error)
	// MadeByAccount is MadeByOthers' other half: what accountID itself
	// made for the identity, the same reads but no phones (explainRefusal).
	MadeByAccount(ctx context.Context, identityID, accountID, fromDate string, since time.Time) (MadeByOthers, error)
}

// DeskStore is the staff channels' and the desk's: identities found and
// verified, the roster, check-in and extra or moved slots (desk.go,
// phone.go).
type DeskStore interface {
	IdentityOf(ctx context.Context, id string) (Identity, error)
	IdentityByHash(ctx context.Context, idHash []byte) (Identity, error)
	// EnsureIdentity returns the identity with i's ID hash, inserting i if
	// there is none. With i.NameVerified (a provider, or the desk saw the
	// card), i's name becomes the identity's verified name — the desk's
	// never replaces another verified one (ErrVerifiedNameDiffers);
	// otherwise an identity whose verified name is another is
	// ErrIdentityUnverified, and an unverified one is returned as it is.
	EnsureIdentity(ctx context.Context, i Identity) (Identity, error)
	// VerifyName makes name (i's name fields) the verified name of the
	// person with i's ID hash, inserting i (with i.ID) if there is none, with
	// the desk's audit entry. Another account's self claim of the person
	// under another name (not bound by the desk) stops being a self, as
	// DropDisprovedSelves drops it, in the same transaction. With
	// bind.AccountID, that account's patient of the identity becomes its
	// bound self (taking it from any other account); an account that does
	// not list the person and names nobody as its self gets the row
	// bind.NewPatientID as its bound self, under the account's patient
	// limit (ErrTooManyPatients); one that names another self is
	// ErrPatientNotFound (a mistyped phone never rebinds a stranger).
	// An account whose holder (本人) is another person, bound by the desk,
	// is ErrHolderBound; one whose holder, another person, was claimed
	// online only loses it (其他 other), the audit entry's reason saying
	// so, with the notice bind.HolderChanged.
	// Every other hospital where the person holds a confirmed booking, a
	// lottery entry taking part or a waiting waitlist place gets a copy of
	// the audit entry, its reason ending with AuditOfPersonHere.
	// Another verified name is replaced only with change.Replace (a
	// clerk's correction), else ErrVerifiedNameDiffers; the name it
	// replaces and change.Former become the person's former names, and
	// what any account listed or made under one takes i's name
	// (NameChange). One transaction: an error leaves the person as they
	// were.
	VerifyName(ctx context.Context, i Identity, bind SelfBinding, change NameChange, a AuditEntry) error
	// MarkDeceased records the person's death (RecordDeath) with the audit
	// entry, copied to every other hospital where they hold a confirmed
	// booking, a live entry or a waiting place; one transaction. A death
	// recorded before stays as it was (the entry is written again).
	MarkDeceased(ctx context.Context, identityID string, at time.Time, a AuditEntry) error
	// DeathRecordedIn reports whether the person's death was recorded at,
	// or its audit entry copied to, hospital hospitalID (LiftDeath).
	DeathRecordedIn(ctx context.Context, identityID, hospitalID string) (bool, error)
	// LiftDeath lifts a death record made in error, with the audit entry
	// (copied to every other hospital the death's entry went to) and n, a
	// notice told to each account listing the person; one transaction. It
	// returns how many accounts were told; ErrNothingHere when no death is
	// recorded for the person.
	LiftDeath(ctx context.Context, identityID string, a AuditEntry, n Notification) (int, error)
	// IsFormerName reports whether nameHash is a former name of identity
	// identityID (NameChange).
	IsFormerName(ctx context.Context, identityID string, nameHash []byte) (bool, error)
	// FormerNames lists the former names kept of identity identityID,
	// oldest first (the copy of the person's data); none once the
	// retention job erased the person.
	FormerNames(ctx context.Context, identityID string) ([]FormerName, error)
	// DropDisprovedSelves ends every self claim of identity identityID
	// that another account made under a name other than nameHash (the
	// name the desk verified) and the desk never bound: the row stays on
	// its account as 其他 other. Each drop is audited (self_disproved,
	// actor and time from a) and is a cancelled event with reason
	// name_disproved naming the account and its patient, which tells the
	// account. It returns the patient rows dropped.
	DropDisprovedSelves(ctx context.Context, identityID string, nameHash []byte, a AuditEntry) ([]string, error)
	// SealedNames reads, by id, the sealed names behind keyed hashes: the
	// name of identity identityID and the claims of the patient rows
	// patientIDs (each the name its account gave), for a comparison that
	// needs the names themselves (voidDisproved's identity.NearName). A
	// claim the retention job erased, or a row from before claims, is
	// left out.
	SealedNames(ctx context.Context, identityID string, patientIDs []string) (map[string]SealedName, error)
	// CorrectBookingName puts name to on confirmed booking id made under
	// from (its name_hash; booked_name_hash keeps from), with the desk's
	// audit entry and the notice n to the booking's account, in one
	// transaction; false, and nothing changes, when the booking is not
	// confirmed under from any more.
	CorrectBookingName(ctx context.Context, id string, from, to []byte, a AuditEntry, n Notification) (bool, error)
	// LinkIdentity makes document docID (and every document linked to it)
	// the person personID's: its bookings, lottery entries, waitlist
	// places, bars and blocks move to the person, with the audit entry
	// (copied as VerifyName's), in one transaction. A row meeting the
	// person's under a per-person unique index is ErrLinkConflict and
	// nothing is linked.
	LinkIdentity(ctx context.Context, docID, personID string, a AuditEntry) error
	// PersonLinks is how many ID documents the desk has linked to a
	// person. A link adds one (a linked document is never linked again:
	// ErrLinkedElsewhere; nothing unlinks), so a change is a new link
	// (WatchLinks).
	PersonLinks(ctx context.Context) (int64, error)
	AccountHasIdentity(ctx context.Context, accountID, identityID string) (bool, error)
	BookingsOfIdentity(ctx context.Context, identityID, fromDate string) ([]Booking, error)
	// BookingsOfCaller is BookingsOfIdentity cut to the bookings a call
	// from a number has a say in: those an account logging in with it made
	// (phoneHash), those made for a family member an account gave it, and
	// those staff made for the person when staff acted for them on a call
	// from it (events whose phone is phoneRef) or when the person's verified
	// self's account logs in with it.
	BookingsOfCaller(ctx context.Context, identityID, fromDate string, phoneHash []byte, phoneRef string) ([]Booking, error)
	// IdentitiesByPhone finds up to limit people a phone number is known
	// for: those staff booked, entered or waitlisted for a caller ringing
	// from it (events whose phone is phoneRef), the patients given it as
	// their phone, and the self of the account whose login it is.
	IdentitiesByPhone(ctx context.Context, phoneHash []byte, phoneRef string, limit int) ([]Identity, error)
	// PhoneKin tells, by identity id, who the people an account gave the
	// phone number to (or the holder whose login it is) are to that
	// account: the holder's self first, else a family member's entry.
	PhoneKin(ctx context.Context, phoneHash []byte) (map[string]Kin, error)
	// PatientsWithPhone lists the patients (family list entries) still
	// listed whose account gave them this number as their own contact
	// number: a booking made for one of them answers to a call from it
	// made by the patient (CancelForCaller, review23 M2).
	PatientsWithPhone(ctx context.Context, phoneHash []byte) ([]string, error)
	// Roster lists a hospital's booked, checked-in and no-show bookings of
	// a visit date by session and slot, with their identities' masked forms.
	Roster(ctx context.Context, hospitalID, visitDate string) ([]RosterEntry, error)
	// CheckIn moves a confirmed booking to checked in, with its event and
	// audit entry, and makes card's name (the clerk read it from the ID
	// card) the verified name of the identity card.ID; if another name is
	// verified, nothing changes (ErrVerifiedNameDiffers). A held booking's
	// open substitute offer is accepted in the same transaction (the
	// patient came), decided by ev.StaffID.
	CheckIn(ctx context.Context, id string, at time.Time, ev Event, a AuditEntry, card Identity) (Booking, error)
	RecordStaffAction(ctx context.Context, ev Event, a AuditEntry) error
	AddSlots(ctx context.Context, sessionID string, ch Channel, count, most int, start, end, releaseAt time.Time, a AuditEntry) ([]Slot, error)
	MoveSlots(ctx context.Context, sessionID string, slots []int, from, to Channel, releaseAt time.Time, a AuditEntry) error
}

// PatientEdit is what UpdatePatient changes of a member: the relationship
// (empty: unchanged) and the contact phone (nil: unchanged; a zero
// AccountPhone clears it).
type PatientEdit struct {
	Relationship Relationship
	Phone        *AccountPhone
}

// SealedName is a name's keyed hash and its sealed copy.
type SealedName struct {
	Hash, Sealed []byte
}

// NoShowStore marks no-shows and keeps the bars they earn.
type NoShowStore interface {
	// rules gives the no-show rules of the hospital where a no-show
	// happened (its policy in effect at now).
	MarkNoShows(ctx context.Context, now time.Time, rules func(hospitalID string) NoShowRules) (int, []Bar, error)
	MarkNoShow(ctx context.Context, id string, now time.Time, rules NoShowRules, ev Event, a AuditEntry) ([]Bar, error)
	ActiveBars(ctx context.Context, now time.Time) ([]Bar, error)
	// NoShowRecords reads each identity's no-shows and late cancellations
	// with a visit from since on, and its bar and block in force at now.
	NoShowRecords(ctx context.Context, identityIDs []string, since, now time.Time) (map[string]NoShowRecord, error)
}

// WaitlistStore is the waitlist's system of record (waitlist.go).
type WaitlistStore interface {
	// AddWaitlist writes a staff-made entry's audit entry
	// (StaffWaitlistAudit) in the same commit.
	// It refuses ErrAlreadyBooked while the identity holds a booking in
	// the session, ErrAlreadyWaitlisted while it waits there.
	AddWaitlist(ctx context.Context, e WaitlistEntry, ev Event) (WaitlistEntry, error)
	// AddWaitlistBeside stores an account's place whatever the identity
	// holds or waits for in the session (JoinWaitlist, when what another
	// account made must not show); only the account's own waiting place
	// refuses it (ErrAlreadyWaitlisted). Beside a waiting place in a round
	// still open it takes that place's round and key, so the person is not
	// drawn twice in one round.
	AddWaitlistBeside(ctx context.Context, e WaitlistEntry, ev Event) (WaitlistEntry, error)
	WaitlistEntry(ctx context.Context, id string) (WaitlistEntry, error)
	WaitlistOfAccount(ctx context.Context, accountID string, p Page) ([]WaitlistEntry, error)
	// WaitingPlacesMadeBy lists the waiting places the account made, by
	// id after after (empty: from the first), at most limit (no position).
	WaitingPlacesMadeBy(ctx context.Context, accountID, after string, limit int) ([]WaitlistEntry, error)
	WaitingEntries(ctx context.Context, hospitalID string) ([]WaitlistEntry, error)
	WaitlistStatuses(ctx context.Context, ids []string) (map[string]string, error)
	// CloseWaitlist ends waiting entries, with their event and audit entry
	// (the person's verified self left a place another account made) in
	// the same transaction when given.
	CloseWaitlist(ctx context.Context, ids []string, status string, at time.Time, ev *Event, audit *AuditEntry) error
	// PromoteWaitlist commits the booking a waitlist entry turned into (the
	// booking's id is the entry's) and marks the entry served; it refuses
	// (ErrAccountBlocked, nothing written) an entry whose account is blocked
	// at b.CreatedAt.
	PromoteWaitlist(ctx context.Context, b Booking, ev Event) error
	// WaitingOfPerson lists an identity's waiting places in a session (one
	// per account, and one by phone), oldest first.
	WaitingOfPerson(ctx context.Context, sessionID, identityID string) ([]WaitlistEntry, error)
	// EndPlaces ends the waiting places ids as skipped at at and, in the
	// same transaction, tells each one's account with the body of the same
	// index (kind cancelled, naming the place); a place no longer waiting,
	// or with no account, is told nothing.
	EndPlaces(ctx context.Context, ids, bodies []string, at time.Time) error
}

// ReviewStore is scalper detection's and the administrators' review: the
// event stream, flags and their decisions, the audit log and the blocked
// accounts (flags.go).
type ReviewStore interface {
	EventsSince(ctx context.Context, since time.Time) ([]Event, error)
	EventsOfGroup(ctx context.Context, since time.Time, accountIDs, identityIDs []string) ([]Event, error)
	Flags(ctx context.Context, status string, p Page) ([]Flag, error)
	// FlagsOfAccounts lists every flag in a status, scoring at least
	// minScore, that names one of the accounts, highest score first: all
	// of them, however many other flags are in that status.
	FlagsOfAccounts(ctx context.Context, status string, accountIDs []string, minScore float64) ([]Flag, error)
	Flag(ctx context.Context, id string) (Flag, error)
	SaveFlags(ctx context.Context, flags []Flag, now time.Time, reopenAt float64) (int, error)
	// DecideFlag records the decision; confirming blocks the flag's
	// accounts and bars the identities of bar (nothing else) until
	// blockUntil, raises the catalog's version (every instance reloads its
	// blocked accounts at its catalog watch), and returns the bars made.
	// A dismissal's record (its reason code, who asked first) is stored
	// with it; nil keeps the flag's.
	DecideFlag(ctx context.Context, id, status, note string, by Actor, now, blockUntil time.Time, bar []string, dismissal *Dismissal, a AuditEntry) ([]Bar, error)
	// RequestDismissal records the first administrator's dismissal of an
	// open flag that wants a second one's (review25 M1), with its audit
	// entry; the flag stays open. ErrFlagDecided if it is not open or a
	// dismissal is already pending.
	RequestDismissal(ctx context.Context, id string, d Dismissal, now time.Time, a AuditEntry) error
	// FutureBookingsOfGroup lists the confirmed bookings, of sessions that
	// start after now, that the accounts made themselves: not a staff
	// member's booking on their behalf, nor another account's.
	FutureBookingsOfGroup(ctx context.Context, now time.Time, accountIDs []string) ([]Booking, error)
	// PersonsElsewhere says, of the identities, which ones an account
	// outside accountIDs lists (not removed), on how many such accounts,
	// and whether one of them is the person's verified self.
	PersonsElsewhere(ctx context.Context, accountIDs, identityIDs []string) (map[string]Elsewhere, error)
	// AuditSince lists at most AuditPageSize staff actions since a time,
	// newest first by (time, id): of one hospital, or all with hospitalID
	// "", and with before not empty only those after the entry of that id
	// in that order (the next page; ErrNotFound when there is no such
	// entry of the hospital).
	AuditSince(ctx context.Context, since time.Time, hospitalID, before string, f AuditFilter) ([]AuditEntry, error)
	// BlockedAccounts is the accounts blocked at now, each with the end of
	// its block (zero: until lifted), so that an instance holding the set
	// between reloads judges each block by the clock, not by when it read.
	BlockedAccounts(ctx context.Context, now time.Time) (map[string]time.Time, error)
}

// PoolKey names a channel pool of a session.
type PoolKey struct {
	SessionID string
	Channel   Channel
}

// LotterySeed is a lottery pool's seed, sealed, with its commitment, as
// written when the pool's entry window opens.
type LotterySeed struct {
	PoolKey
	HospitalID      string
	OpensAt, DrawAt time.Time
	Sealed          []byte
	// Sealing is how Sealed was sealed (SealedFor*): a draw opens the seed
	// only that way.
	Sealing    int
	Commitment []byte
	// Recipe is how Commitment was made from the seed (CommitV*).
	Recipe    int
	CreatedAt time.Time
	// Audit is the lottery_seed_committed row written with the seed, when
	// the seed is the pool's (a pool that has one keeps it, unaudited again).
	Audit AuditEntry
}

// How a pool's seed is sealed (lottery_pools.seed_sealing).
const (
	// SealedForPurpose: for the purpose alone. Pools committed before the
	// pool binding, or by an instance of the previous release during a
	// rolling upgrade (migration 0060's column default); a copy of such a seal
	// in another pool's row would open, which the unique commitment and the
	// entries' commitments stop.
	SealedForPurpose = 1
	// SealedForPool: for the purpose and the pool (SeedPurpose).
	SealedForPool = 2
)

// NewestSealing and NewestRecipe are the newest seed sealing and commitment
// recipe this build knows. A pool a newer build sealed or committed is left
// to an instance of that build (Store.ClaimDraw never claims it for this
// one): during a rolling upgrade or after a rollback, an older instance had
// claimed such a pool, failed to open its seed every run with "message
// authentication failed" and renewed its lease, holding the draw from the
// instances that could draw it until it was stopped (review21b H1).
const (
	NewestSealing = SealedForPool
	NewestRecipe  = CommitV2
)

// DrawClaim is a pool's draw as the instance that claimed it finds it.
type DrawClaim struct {
	LotterySeed
	Stage string // DrawStage* below: how far an earlier claim got
}

// The stages a draw records as it goes, so a draw cut short resumes there.
const (
	DrawStageNone   = ""       // nothing done yet
	DrawStageRanked = "ranked" // the drawn order and the screening stored
	DrawStageBooked = "booked" // the winners booked and every outcome stored
)

// ErrLeaseLost is returned by a draw's stage when the pool's lease was
// taken over: another instance draws it now, and this one stops.
var ErrLeaseLost = errors.New("the draw's lease was taken over")

// DrawResult is what a finished draw stores.
type DrawResult struct {
	Seed    []byte // published from now on
	Winners int
	DrawnAt time.Time
	Audit   AuditEntry
	// Notifications tell the entrants the draw did not book their result
	// (lottery_lost, lottery_waitlisted), stored with the record: a draw
	// that finished told them, one that did not told nobody.
	Notifications []Notification
}

// Ranking is the first stage of a draw: the drawn order of the eligible
// entries and the screening of the others.
type Ranking struct {
	Digest   []byte
	Slots    int
	Entries  int     // every entry in the draw's reach: entered when the draw began
	Eligible []Entry // in drawn order; Rank set
	Screened []Entry // held out or excluded; Status, Reason, FlagID set
}

// LotteryStore is the system of record of lottery release.
type LotteryStore interface {
	// InsertEntries commits a batch of entries with their events, in one
	// transaction, and answers each: nil, ErrAlreadyEntered (a live entry
	// of the person in the session), ErrEntryClosed (the pool's draw has
	// begun), ErrIdentityUnverified (the entry's name is not its identity's
	// verified name, as at a booking's commit), or an error of the whole
	// batch. An entry whose id exists with
	// the same person and session is answered nil (a replay).
	InsertEntries(ctx context.Context, entries []Entry, events []Event) ([]error, error)
	Entry(ctx context.Context, id string) (Entry, error)
	EntriesOfAccount(ctx context.Context, accountID string) ([]Entry, error)
	// LiveEntriesMadeBy lists the entries the account made still entered,
	// by id after after (empty: from the first), at most limit.
	LiveEntriesMadeBy(ctx context.Context, accountID, after string, limit int) ([]Entry, error)
	// WithdrawEntry moves an entry from entered to withdrawn, while its
	// pool's draw has not begun (else ErrEntryClosed).
	WithdrawEntry(ctx context.Context, id string, at time.Time, ev Event, audit *AuditEntry) (Entry, error)
	// LiveEntries lists the entered and held-out entries of a hospital's
	// sessions from a visit date on: those that hold their quota.
	LiveEntries(ctx context.Context, hospitalID, fromDate string) ([]Entry, error)
	EntryStatuses(ctx context.Context, ids []string) (map[string]string, error)

	// CommitSeeds stores the seeds of pools whose window opens; a pool that
	// has one keeps it.
	CommitSeeds(ctx context.Context, seeds []LotterySeed) error
	// DuePools lists pools not yet drawn whose draw time is at or before
	// due.
	DuePools(ctx context.Context, due time.Time) ([]PoolKey, error)
	// ClaimDraw claims a pool's draw for owner until leaseUntil, when its
	// draw time is at or before due and nobody holds a lease. Claiming marks
	// the pool drawing: no entry is added or withdrawn after that.
	ClaimDraw(ctx context.Context, k PoolKey, owner string, due, now, leaseUntil time.Time) (DrawClaim, bool, error)
	// PoolEntries lists a pool's entries, in drawn order for ranked ones.
	PoolEntries(ctx context.Context, k PoolKey) ([]Entry, error)
	// SaveRanking stores a draw's first stage, if owner still holds the lease.
	SaveRanking(ctx context.Context, k PoolKey, owner string, r Ranking, leaseUntil time.Time) error
	// SaveOutcomes stores the outcome of every ranked entry (won, lost,
	// waitlisted, with the reason a winner in order was passed over), if
	// owner still holds the lease.
	SaveOutcomes(ctx context.Context, k PoolKey, owner string, outcomes []Entry, leaseUntil time.Time) error
	// FinishDraw marks the draw done, publishes the seed and audits it.
	FinishDraw(ctx context.Context, k PoolKey, owner string, r DrawResult) error
	// HeldOutEntries lists the entries a flag held out of draws.
	HeldOutEntries(ctx context.Context, flagID string) ([]Entry, error)
	// SettleHeldOut moves held-out entries to their final status and, in
	// the same transaction, writes the notifications telling their
	// entrants (one already written, by its id, is skipped).
	SettleHeldOut(ctx context.Context, ids []string, status string, at time.Time, ns []Notification) error
	// LotteryPools lists the pools of the given sessions with their records.
	LotteryPools(ctx context.Context, sessionIDs []string) ([]PoolRecord, error)
}

// PoolRecord is a lottery pool and its draw as stored.
type PoolRecord struct {
	PoolKey
	HospitalID string
	OpensAt    time.Time
	DrawAt     time.Time
	DrawRecord
}

// NoShowRules say when no-shows bar an identity from booking.
type NoShowRules struct {
	Window time.Duration // no-shows counted over this window (365 days)
	Steps  []NoShowStep  // ascending by Count
}

// NoShowStep bars for Bar once Count no-shows are reached.
type NoShowStep struct {
	Count int
	Bar   time.Duration
}

// DefaultNoShowRules: 3 no-shows in 12 months bar for 90 days, 6 for 180.
var DefaultNoShowRules = NoShowRules{Window: 365 * 24 * time.Hour, Steps: []NoShowStep{{3, 90 * 24 * time.Hour}, {6, 180 * 24 * time.Hour}}}

// Crossed returns the highest step whose count lies in (prev, n]: the bar
// earned by going from prev to n no-shows.
func (r NoShowRules) Crossed(prev, n int) (NoShowStep, bool) {
	for i := len(r.Steps) - 1; i >= 0; i-- {
		if st := r.Steps[i]; prev < st.Count && st.Count <= n {
			return st, true
		}
	}
	return NoShowStep{}, false
}

// StaffBookingAudit is the audit entry of a booking staff made (b.BookedBy
// set): the store writes it in the booking's own commit, so a staff booking
// is never without one. Its id is derived from the booking's, so a retried
// commit writes it once.
func StaffBookingAudit(b Booking) (AuditEntry, bool) {
	if b.BookedBy == "" {
		return AuditEntry{}, false
	}
	role, action := RoleClerk, "desk_booking"
	if b.Channel == ChannelPhone {
		role, action = RoleOperator, "phone_booking"
	}
	if b.BookedByRole != "" {
		role = b.BookedByRole
	}
	reason := fmt.Sprintf("%s booking, session %s, slot %d", b.Channel, b.SessionID, b.SlotNo)
	if b.Caller != "" {
		reason += ", caller " + b.Caller
	}
	return AuditEntry{ID: NameID("audit", b.ID), TS: b.CreatedAt, ActorID: b.BookedBy, ActorRole: role,
		Action: action, Target: "booking:" + b.ID, Reason: reason, HospitalID: b.HospitalID}, true
}
