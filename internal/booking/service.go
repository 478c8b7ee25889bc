package booking

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fairslot/internal/auth"
	"fairslot/internal/identity"
)

// Config tunes the Service. Zero values take the defaults in parentheses.
type Config struct {
	// HoldFor is how long an admitted hold may wait for its SQL commit
	// before the sweeper may release it (30s). It must be far longer than
	// CommitTimeout, so a slow commit is never overtaken by the sweeper.
	HoldFor time.Duration
	// CommitTimeout bounds the SQL transaction of one booking (5s).
	CommitTimeout time.Duration
	// IdempotencyWindow is how long a booking id is remembered in Redis for
	// Idempotency-Key replays (24h).
	IdempotencyWindow time.Duration
	// Limits are the account rules (5 patients, 3 accounts per phone).
	Limits AccountLimits
	// OperatorActsPerHour bounds the phone bookings, draw entries and
	// waitlist places one operator makes in any hour
	// (DefaultOperatorActsPerHour; callerbounds.go).
	OperatorActsPerHour int
	// OnlyReadsVerify makes only a registered reader's read (or a chipless
	// document typed from it) verify a name at a walk-in or check-in
	// (review25 L1). Off, every desk read verifies as before and the audit
	// states how the card was read: a hospital turns it on once every desk
	// window has a registered reader, else its walk-ins verify nobody.
	OnlyReadsVerify bool
	// PasswordIterations is the PBKDF2 work factor (600,000).
	PasswordIterations int
	// TokenTTL is how long a login lasts (12h).
	TokenTTL time.Duration
	// NoShowRules say when no-shows bar an identity (3 in 12 months: 90
	// days; 6: 180 days).
	NoShowRules NoShowRules
	// ReturnDelayMin and ReturnDelayMax bound the random delay before a
	// cancelled slot nobody on the waitlist could take rejoins its pool
	// (5 and 60 minutes).
	ReturnDelayMin, ReturnDelayMax time.Duration
	// ReturnRound is how long a returned slot that finds nobody on its
	// session's waitlist is held for those who join it (10 minutes), before
	// it is drawn among them, or, if nobody joined, rejoins its pool after
	// the random delay. Negative: not held (the delay alone, as before).
	ReturnRound time.Duration
	// Detector finds scalper flags in the event stream (internal/detect).
	// Without one, detection runs find nothing.
	Detector Detector
	// Sender delivers patients' notifications (notify.go): the console's
	// own outbox (ConsoleSender) unless an SMS or push channel is given.
	Sender Sender
	// DetectWindow is how far back detection reads events (30 days).
	DetectWindow time.Duration
	// CallBackGrace is how long a number kept to call a person back, and
	// the call-back rows about them, outlive their need (30 days;
	// retention.go): the time for a complaint about the call.
	CallBackGrace time.Duration
	// CaseRecordYears is the hospital's complaint-record period: a closed
	// case's free texts are erased this many years after it closed (3;
	// retention.go).
	CaseRecordYears int
	// BlockFor is how long a confirmed flag blocks its accounts and
	// identities (365 days).
	BlockFor time.Duration
	// FlagDecisionWithin is an open flag's decision deadline (7 days):
	// past it the flag is overdue (fairslot_flags_overdue) and its hold
	// on lottery entries lapses (review21 M1).
	FlagDecisionWithin time.Duration
	// ReopenAt: a dismissed flag reopens when its score reaches this many
	// times the score it was dismissed at (1.5).
	ReopenAt float64
	// Verifier checks names against ID numbers (a real-name provider). The
	// default, DeskOnly, verifies nothing remotely: the desk does, with the
	// card.
	Verifier IdentityVerifier
	// CardSigner checks the signature of a desk card reader's read
	// (cardread.go): without one, every card marker of a read is refused
	// and the desk types numbers with the reason.
	CardSigner CardSigner
	// LoginMoveCoolingOff is how long a desk login move the card did not
	// prove waits for the account's holder (review25 H4): 24 hours unless
	// set.
	LoginMoveCoolingOff time.Duration
	// LoginGuard limits failed logins across instances, per known device
	// (a device token's own failures) and, for a client without one, per
	// phone and source address; LoginPhoneGuard per phone, for every
	// client without a device token together: the ceiling on guesses at
	// one account (login.go). nil: no such limit (the per-IP limit of the
	// HTTP layer still applies).
	LoginGuard, LoginPhoneGuard LoginGuard
	// ClaimGuard and ClaimIPGuard count the identity refusals of adding a
	// patient (identity_taken, identity_unverified) per account ("acct:"+
	// id) and per client address ("ip:"+address); past their limit an
	// account or address adds nobody for the rest of the window
	// (identity_claims_limited), so whether an ID number is registered
	// cannot be probed for free (claims.go). nil: no limit.
	ClaimGuard, ClaimIPGuard LoginGuard
	// RealNameGuard and RealNameAccountGuard count the Verifier's denials
	// (a name the register does not give the ID number) per ID number
	// ("id:"+hex of its keyed hash) and per asking account ("acct:"+id),
	// across instances; past either, no name for that number, or from that
	// account, is checked for the rest of the window (429
	// realname_checks_limited), so that a provider's match or mismatch
	// cannot be used to guess a person's name from their number, nor the
	// hospital's paid checks burnt (realname.go). nil: no limit. Unused
	// with DeskOnly, which answers nothing to guess from.
	RealNameGuard, RealNameAccountGuard LoginGuard
	// ReportIPGuard counts the reports and complaints filed per client
	// address ("ip:"+address), across instances; past its limit the
	// address files none for the rest of the window (429
	// reports_limited), so that free accounts behind one address cannot
	// fill the administrators' queue (cases.go). nil: no limit.
	ReportIPGuard LoginGuard
	// PasswordHashers bounds how many password hashes are computed at once
	// (half the CPUs, at least 1): each costs ~0.2 s of a core, and a login
	// flood must not starve bookings.
	PasswordHashers int
	// SoldOutFor is how long a sold_out or not_released answer from
	// admission is reused, from memory, for attempts on the same pool
	// without an Idempotency-Key (100ms; fastreject.go). Negative turns the
	// fast reject path off.
	SoldOutFor time.Duration
	// EntryMemoFor is how long an instance answers a person's repeat
	// attempts on a lottery pool 409 already_entered from memory, after it
	// answered them 202 or admission refused them already_entered (30s,
	// HoldFor's default; never past the draw time; entrymemo.go). Negative
	// turns the entry memo off.
	EntryMemoFor time.Duration
	// ReloadTimeout bounds one reload of a hospital's state from SQL after
	// Redis lost it, and one drift reconciliation of a session; it is also
	// how long a reload's claim in Redis lasts, so an instance that dies
	// mid-reload holds the others back at most this long (30s).
	ReloadTimeout time.Duration
	// Refused attempts become events (refusals.go): at most RefusalBuffer
	// wait in memory (32,768; negative: none are recorded), written every
	// RefusalFlush (250ms), at most RefusalRate a second on average (2,000;
	// over it, whole accounts are kept), keeping RefusalsPerSecond alike a
	// second (4).
	RefusalBuffer     int
	RefusalFlush      time.Duration
	RefusalRate       int
	RefusalsPerSecond int
	// LotteryHoldScore: the entries of accounts and persons in an open flag
	// scoring at least this are held out of lottery draws for review (1.0,
	// the detector's flag threshold; negative: none are).
	LotteryHoldScore float64
	// DrawGrace is how long after a pool's draw time its draw begins (2s),
	// so that entries admitted just before reach SQL, or are refused, first.
	DrawGrace time.Duration
	// PublicDrawsFor is how long what anyone may read of a session's
	// lottery draws is kept before SQL is read again (1s; publicDraws).
	PublicDrawsFor time.Duration
	// ClosingCoolingOff is how long a holder's online closing stays
	// pending, unless its holder cancels it, before the job completes it (7
	// days by default; docs/security.md, "Closing an account").
	ClosingCoolingOff time.Duration
	// NoCardLookups is how many persons a clerk looks up without the card
	// in an hour before further ones are refused (lookups_limited), and
	// LookupsMarkedOver how many persons a clerk looks up in an hour
	// before each further one is marked in the audit (desk.go; 10 and 60
	// by default).
	NoCardLookups, LookupsMarkedOver int
	// ClerkWalkInsPerDay and ClerkExtraSlotsPerDay are a clerk's daily
	// budgets of walk-ins and of extra slots (review25 H3; deskbounds.go:
	// DefaultClerkWalkInsPerDay, DefaultClerkExtraSlotsPerDay).
	ClerkWalkInsPerDay, ClerkExtraSlotsPerDay int
	// FreedSlotWait is how long a clerk who freed a booked slot of a
	// session (a desk cancellation, a reissue) books no walk-in into that
	// session (review25 H2; DefaultFreedSlotWait).
	FreedSlotWait time.Duration
	// DeskMetrics receives the lookups those limits refused or marked
	// (none when nil).
	DeskMetrics DeskMetrics
	// ClosingPage is how many waiting places or lottery entries a closing
	// reads at a time, page after page until none is left
	// (ClosingPageSize; tests set fewer, never more).
	ClosingPage int
	// DrawPage is the most entries one page of a published draw lists
	// (DrawPageSize; tests set fewer, never more).
	DrawPage int
	// DrawLease is how long a draw's claim lasts before another instance
	// may take the draw over (60s); each stage renews it.
	DrawLease time.Duration
	// SeedLead is how long before its entry window opens a lottery pool's
	// seed is made and its commitment published (5m).
	SeedLead time.Duration
	// EntryBatch bounds the entries committed in one SQL transaction (500),
	// EntryWriters the transactions in flight at once (8, of the pool's 32
	// connections).
	EntryBatch, EntryWriters int
	// BookingBatch bounds the bookings committed in one SQL statement (250),
	// BookingWriters the statements in flight at once (8, of the pool's 32
	// connections; 4 until 2026-12-03, when the release second's group
	// commit took half the time with 8 or 16): commits that arrive while
	// those are written wait and go together in the next (book.go,
	// docs/performance.md).
	BookingBatch, BookingWriters int
	// LotteryMetrics receives lottery outcomes (none when nil).
	LotteryMetrics LotteryMetrics
	// Metrics receives bookings and refused attempts (none when nil).
	Metrics Metrics
	// CommitMetrics receives the group commits' batches (none when nil).
	CommitMetrics CommitMetrics
	// Now is the clock (time.Now).
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.Sender == nil {
		c.Sender = ConsoleSender{}
	}
	if c.PublicDrawsFor <= 0 {
		c.PublicDrawsFor = time.Second
	}
	if c.LoginMoveCoolingOff <= 0 {
		c.LoginMoveCoolingOff = 24 * time.Hour
	}
	if c.ClosingCoolingOff <= 0 {
		c.ClosingCoolingOff = DefaultClosingCoolingOff
	}
	if c.NoCardLookups <= 0 {
		c.NoCardLookups = DefaultNoCardLookups
	}
	if c.LookupsMarkedOver <= 0 {
		c.LookupsMarkedOver = DefaultLookupsMarkedOver
	}
	if c.ClerkWalkInsPerDay <= 0 {
		c.ClerkWalkInsPerDay = DefaultClerkWalkInsPerDay
	}
	if c.ClerkExtraSlotsPerDay <= 0 {
		c.ClerkExtraSlotsPerDay = DefaultClerkExtraSlotsPerDay
	}
	if c.FreedSlotWait <= 0 {
		c.FreedSlotWait = DefaultFreedSlotWait
	}
	if c.DeskMetrics == nil {
		c.DeskMetrics = noDeskMetrics{}
	}
	if c.ClosingPage <= 0 || c.ClosingPage > ClosingPageSize {
		c.ClosingPage = ClosingPageSize
	}
	if c.DrawPage <= 0 || c.DrawPage > DrawPageSize {
		c.DrawPage = DrawPageSize
	}
	if c.HoldFor <= 0 {
		c.HoldFor = 30 * time.Second
	}
	if c.CommitTimeout <= 0 {
		c.CommitTimeout = 5 * time.Second
	}
	if c.IdempotencyWindow <= 0 {
		c.IdempotencyWindow = 24 * time.Hour
	}
	if c.Limits.MaxPatients <= 0 {
		c.Limits.MaxPatients = 5
	}
	if c.Limits.MaxAccountsOnPhone <= 0 {
		c.Limits.MaxAccountsOnPhone = 3
	}
	if c.OperatorActsPerHour <= 0 {
		c.OperatorActsPerHour = DefaultOperatorActsPerHour
	}
	if c.PasswordIterations <= 0 {
		c.PasswordIterations = 600_000
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = 12 * time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.DetectWindow <= 0 {
		c.DetectWindow = 30 * 24 * time.Hour
	}
	if c.BlockFor <= 0 {
		c.BlockFor = 365 * 24 * time.Hour
	}
	if c.CallBackGrace <= 0 {
		c.CallBackGrace = DefaultCallBackGrace
	}
	if c.CaseRecordYears <= 0 {
		c.CaseRecordYears = DefaultCaseRecordYears
	}
	if c.FlagDecisionWithin <= 0 {
		c.FlagDecisionWithin = 7 * 24 * time.Hour
	}
	if c.ReopenAt <= 1 {
		c.ReopenAt = 1.5
	}
	if len(c.NoShowRules.Steps) == 0 {
		c.NoShowRules = DefaultNoShowRules
	}
	if c.ReturnDelayMax <= 0 {
		c.ReturnDelayMin, c.ReturnDelayMax = 5*time.Minute, 60*time.Minute
	}
	if c.ReturnRound == 0 {
		c.ReturnRound = DefaultReturnRound
	}
	if c.SoldOutFor == 0 {
		c.SoldOutFor = 100 * time.Millisecond
	}
	if c.EntryMemoFor == 0 {
		c.EntryMemoFor = 30 * time.Second
	}
	if c.Verifier == nil {
		c.Verifier = DeskOnly{}
	}
	if c.PasswordHashers <= 0 {
		c.PasswordHashers = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if c.ReloadTimeout <= 0 {
		c.ReloadTimeout = 30 * time.Second
	}
	if c.RefusalBuffer == 0 {
		c.RefusalBuffer = 32768
	}
	if c.RefusalFlush <= 0 {
		c.RefusalFlush = 250 * time.Millisecond
	}
	if c.RefusalRate <= 0 {
		c.RefusalRate = 2000
	}
	if c.RefusalsPerSecond <= 0 {
		c.RefusalsPerSecond = 4
	}
	if c.LotteryHoldScore == 0 {
		c.LotteryHoldScore = 1.0
	}
	if c.DrawGrace <= 0 {
		c.DrawGrace = 2 * time.Second
	}
	if c.DrawLease <= 0 {
		c.DrawLease = time.Minute
	}
	if c.SeedLead <= 0 {
		c.SeedLead = 5 * time.Minute
	}
	if c.EntryBatch <= 0 {
		c.EntryBatch = 500
	}
	if c.EntryWriters <= 0 {
		c.EntryWriters = 8
	}
	if c.BookingBatch <= 0 {
		c.BookingBatch = 250
	}
	if c.BookingWriters <= 0 {
		c.BookingWriters = 8
	}
	if c.LotteryMetrics == nil {
		c.LotteryMetrics = noLotteryMetrics{}
	}
	if c.Metrics == nil {
		c.Metrics = noMetrics{}
	}
	if c.CommitMetrics == nil {
		c.CommitMetrics = noCommitMetrics{}
	}
	return c
}

// Service runs fairslot's use cases over a Store and an Admission gate.
type Service struct {
	cfg     Config
	store   Store
	adm     Admission
	keys    *identity.Keyring
	tokens  *auth.Signer
	log     *slog.Logger
	catalog atomic.Pointer[Catalog]
	// refreshing orders the reloads of the catalog: each reads SQL and
	// stores what it read while holding it, so a reload that read before a
	// session was published can never store its older schedule after the
	// one that published it (which hid a new session until the next watch).
	refreshing sync.Mutex
	// catalogVersion is the schedule's version (Store.CatalogVersion) read
	// before the catalog in use was loaded; WatchCatalog reloads when SQL's
	// moved past it.
	catalogVersion atomic.Int64
	// personLinks is how many documents the desk had linked when this
	// instance last looked (WatchLinks).
	personLinks atomic.Int64
	// blocked holds the accounts a confirmed flag blocked, each with the
	// end of its block (zero: until lifted). Tokens are stateless, so
	// Authenticate checks this set, reloaded with the catalog; it compares
	// each end with the clock, so a block that ran out between two reloads
	// no longer refuses (session 24).
	blocked atomic.Pointer[map[string]time.Time]
	// closing holds the accounts whose online closing is pending (its
	// cooling-off): their new bookings, entries and waitlist places are
	// refused (closingRefused). Read with the catalog and every
	// RevocationPoll (WatchRevocations), and set at once by this
	// instance's request, cancellation, login and account read; copied on
	// write under closingMu.
	closing   atomic.Pointer[map[string]bool]
	closingMu sync.Mutex
	// revoked holds, per account, the token generation below which its
	// tokens no longer count (logout, password change): a map lookup per
	// request, filled by Refresh and WatchRevocations (revoke.go).
	revoked  sync.Map // account id → Revocation
	patients *patientCache
	// hashSlots bounds the password hashes computed at once.
	hashSlots chan struct{}
	// verifyPassword is auth.VerifyPassword (a test holds it to see the
	// bound on hashing at work).
	verifyPassword func(hash, password string) bool
	memo           *refusalMemo // the fast reject path; nil when off
	entryMemo      *entryMemo   // repeat entries answered from memory; nil when off
	explained      explanations // refusals explained as made by another account (byothers.go)
	stats          opsStats     // counts for the operators' metrics (stats.go)
	refusals       *refusalLog  // refused attempts on their way to SQL; nil when off
	entries        *groupCommit[pendingEntry]
	bookings       *groupCommit[pendingBooking]
	writes         writeHealth // whether SQL takes writes, as last learnt (writehealth.go)
	owner          string      // this instance, as it claims lottery draws
	notified       eventCursor // where the notify job reads the event log (notify_events.go)
	drawing        sync.Mutex
	public         *publicDraws // the anonymous view of lottery draws, kept a moment
	// dummyHash equalises login time for unknown phones.
	dummyHash string

	tasks *tasks // on-demand background work (jobs.go), joined by Close
	// health holds the hospitals whose admission state this instance saw
	// not whole (heal.go); copied on write under healthMu.
	health   atomic.Pointer[map[string]hospitalHealth]
	healthMu sync.Mutex
	reloads  atomic.Int64
	// dirty are the sessions to reconcile whose last try failed.
	dirty   map[string]bool
	dirtyMu sync.Mutex
}

// NewService wires a Service. Call Refresh before serving so the catalog is
// loaded.
func NewService(cfg Config, store Store, adm Admission, keys *identity.Keyring, log *slog.Logger) (*Service, error) {
	cfg = cfg.withDefaults()
	dummy, err := auth.HashPassword("not a real password", cfg.PasswordIterations)
	if err != nil {
		return nil, fmt.Errorf("new service: %w", err)
	}
	s := &Service{
		cfg:            cfg,
		store:          store,
		adm:            adm,
		keys:           keys,
		tokens:         auth.NewSigner(keys.TokenKey(), cfg.TokenTTL),
		log:            log,
		patients:       newPatientCache(400_000), // the release hour of a large hospital: ~200,000 patients
		dummyHash:      dummy,
		hashSlots:      make(chan struct{}, cfg.PasswordHashers),
		verifyPassword: auth.VerifyPassword,
		tasks:          newTasks(log),
		dirty:          map[string]bool{},
		owner:          newID(),
		public:         newPublicDraws(),
	}
	s.health.Store(&map[string]hospitalHealth{})
	s.writes.window = cfg.HoldFor
	s.entries = newGroupCommit("entry", cfg.EntryBatch, cfg.EntryWriters, s.writeEntries)
	s.entries.after = s.confirmEntries
	s.bookings = newGroupCommit("booking", cfg.BookingBatch, cfg.BookingWriters, s.writeBookings)
	s.bookings.after, s.bookings.afterKeepsTurn = s.confirmBatch, true
	s.entries.metrics, s.bookings.metrics = cfg.CommitMetrics, cfg.CommitMetrics
	if cfg.SoldOutFor > 0 {
		s.memo = newRefusalMemo(cfg.SoldOutFor)
		s.adm = memoGate{Admission: adm, memo: s.memo}
	}
	if cfg.EntryMemoFor > 0 {
		s.entryMemo = newEntryMemo(cfg.EntryMemoFor)
		s.adm = entryGate{Admission: s.adm, memo: s.entryMemo}
	}
	if cfg.RefusalBuffer > 0 {
		s.refusals = newRefusalLog(cfg.RefusalBuffer)
	}
	s.catalog.Store(NewCatalog(Schedule{}))
	return s, nil
}

// Close cancels the Service's background tasks (a reload, a drift
// reconciliation) and waits for them and for the booking batches' confirms
// still running (each bounded by CommitTimeout). Call it before closing the
// Store and the Admission connections.
func (s *Service) Close() {
	s.tasks.close()
	s.bookings.wait()
}

// followUp is the context of work that follows a committed change (giving
// a slot back, applying bars): detached from the client, who may hang up,
// and bounded, at three commits' time.
func (s *Service) followUp(ctx context.Context) (context.Context, context.CancelFunc) {
	return Detach(ctx, 3*s.cfg.CommitTimeout)
}

// Catalog returns the current schedule snapshot.
func (s *Service) Catalog() *Catalog { return s.catalog.Load() }

// ClosingCoolingOff is how long a holder's online closing stays pending
// (Config.ClosingCoolingOff).
func (s *Service) ClosingCoolingOff() time.Duration { return s.cfg.ClosingCoolingOff }

// Now is the Service's clock (Config.Now): the adapters read it to show what
// is released, overdue or in force, so they judge by the domain's time.
func (s *Service) Now() time.Time { return s.cfg.Now() }

// Authenticate verifies a bearer token: its signature and expiry, that its
// account is not blocked, and that its generation was not revoked (logout,
// password change). It does no I/O.
func (s *Service) Authenticate(token []byte) (Actor, error) {
	c, err := s.tokens.Verify(token, s.cfg.Now())
	switch {
	case errors.Is(err, auth.ErrExpiredToken):
		return Actor{}, ErrTokenExpired
	case err != nil:
		return Actor{}, ErrInvalidToken
	}
	if s.blockedNow(c.AccountID) {
		return Actor{}, ErrAccountBlocked
	}
	if r, ok := s.revoked.Load(c.AccountID); ok && int64(c.Generation) < int64(r.(Revocation).Generation) {
		return Actor{}, ErrTokenRevoked
	}
	return Actor{AccountID: c.AccountID, Role: Role(c.Role), HospitalID: c.HospitalID}, nil
}

// blockedNow says whether the set of blocked accounts holds a block of the
// account in force at the clock's now: one until lifted, or one whose end is
// still to come. A block read at the last reload and since run out no
// longer counts; a block whose end is later than the reload that read it
// still does, however long after it the check runs.
func (s *Service) blockedNow(accountID string) bool {
	m := s.blocked.Load()
	if m == nil {
		return false
	}
	until, ok := (*m)[accountID]
	return ok && (until.IsZero() || s.cfg.Now().Before(until))
}

// loadBlocked reloads the set of blocked accounts.
func (s *Service) loadBlocked(ctx context.Context) error {
	m, err := s.store.BlockedAccounts(ctx, s.cfg.Now())
	if err != nil {
		return err
	}
	s.blocked.Store(&m)
	return nil
}

// newID returns a random (version 4) UUID. Random keys spread writes over a
// CockroachDB cluster; sequences would make one hot range.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return formatUUID(b, 4)
}

// KeyedID is a version 8 UUID made of a keyed hash's first 16 bytes: the
// id of a card nobody registered (presented), the same for the same card
// under one key.
func KeyedID(hash []byte) string {
	var b [16]byte
	copy(b[:], hash)
	return formatUUID(b, 8)
}

func formatUUID(b [16]byte, version byte) string {
	b[6] = b[6]&0x0f | version<<4
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// NewID returns a fresh random id, for adapters and tools that create rows.
func NewID() string { return newID() }

func newNonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// NoShowRules are the service's default rules that bar identities for
// no-shows: those of a hospital whose policy names none. A page about one
// hospital states that hospital's (HospitalNoShowRules).
func (s *Service) NoShowRules() NoShowRules { return s.cfg.NoShowRules }

// HospitalNoShowRules are the no-show rules of hospitalID's policy in force
// now, by which a no-show or late cancellation there is judged: for pages
// that state them before a patient books or cancels. An unknown hospital
// has the defaults.
func (s *Service) HospitalNoShowRules(hospitalID string) NoShowRules {
	return s.noShowRules(hospitalID, s.cfg.Now())
}

// idempotentID derives the booking id of a request that carries an
// Idempotency-Key, so that every repeat of it names the same booking.
func (s *Service) idempotentID(accountID, key string) string {
	var b [16]byte
	copy(b[:], s.keys.Hash("idempotency", accountID+"\x00"+key))
	return formatUUID(b, 8)
}

// isUUID reports whether id is a canonical UUID; ids from URLs are checked
// before they reach SQL, so a malformed one is a 404, not a driver error.
// IsUUID reports whether id is a canonical UUID (any hex case), as SQL's
// ::UUID accepts it: ids from a request are checked before they reach SQL.
func IsUUID(id string) bool { return isUUID(id) }

func isUUID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// NameID derives a stable UUID from names, for seed data that must keep
// its ids when loaded again.
func NameID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	var b [16]byte
	copy(b[:], h[:])
	return formatUUID(b, 8)
}
