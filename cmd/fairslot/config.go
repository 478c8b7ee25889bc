package main

import (
	"cmp"
	"context"
	"crypto/hmac"
	"errors"
	"fairslot/internal/cardreader"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"fairslot/internal/admission"
	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/detect"
	"fairslot/internal/envflag"
	"fairslot/internal/identity"
)

// env reads FAIRSLOT_* variables as flag defaults (envflag, shared with
// the load tests' tools).
type env = envflag.Env

// common is the configuration every command shares: where the data lives.
type common struct {
	databaseURL        string
	redisAddr          string
	redisPassword      string // from FAIRSLOT_REDIS_PASSWORD only: a flag would show in process listings
	redisPrefix        string
	secretKey          string // FAIRSLOT_SECRET_KEY: never a flag
	secretKeyFile      string
	master             []byte // the master key, read by validate
	tokenKeyFile       string
	tokenKey           []byte // the login keys' own key, read by validate; nil: the master key's
	logLevel           string
	passwordIterations int
	holdFor            time.Duration
	closingCoolingOff  time.Duration
	caseRecordYears    int
	noCardLookups      int
	lookupsMarkedOver  int
	flagDecision       time.Duration
	commitTimeout      time.Duration
	returnDelayMin     time.Duration
	returnDelayMax     time.Duration
	returnRound        time.Duration
	operatorPerHour    int
	onlyReadsVerify    bool
	clerkWalkInsPerDay int
	clerkExtrasPerDay  int
	freedSlotWait      time.Duration
	detectConfig       string
	soldOutFor         time.Duration
	entryMemoFor       time.Duration
	passwordHashers    int
	// handOver (reconcile --hand-over) gives the Redis state under the
	// prefix to this database whichever database it was built from.
	handOver bool
	// holder (serve, every tool) names this process among the others:
	// open records its presence lease under it before the check for a
	// rotation (cockroach.DB.Arrive), so a rekey started meanwhile sees
	// it; deps.Close gives it back.
	holder string
	// loginGuard, when set (serve), builds the login failure limits (per
	// device and per phone and address; per phone) over the Redis client
	// open makes.
	loginGuard func(rdb redis.UniversalClient) (booking.LoginGuard, booking.LoginGuard, error)
	// claimGuards, when set (serve), builds the bounds on refused identity
	// claims per account and per address.
	claimGuards func(rdb redis.UniversalClient) (account, ip booking.LoginGuard, err error)
	// reportGuard, when set (serve), builds the bound on reports and
	// complaints per address.
	reportGuard func(rdb redis.UniversalClient) (booking.LoginGuard, error)
	// verifier, when set (serve), builds the real-name check (DeskOnly
	// when nil) over the Redis client open makes (its daily budget);
	// realNameGuards builds the bounds on its denials per ID number and
	// per account.
	verifier       func(rdb redis.UniversalClient) (booking.IdentityVerifier, error)
	realNameGuards func(rdb redis.UniversalClient) (id, account booking.LoginGuard, err error)
	reloadTimeout  time.Duration
	refusalBuffer  int
	refusalRate    int
	holdScore      float64
	drawGrace      time.Duration
	// bookingWriters and entryWriters are the group commits' batches in
	// flight at once (booking.Config.BookingWriters, EntryWriters).
	bookingWriters int
	entryWriters   int
	// bookingBatch bounds the rows of one booking batch
	// (booking.Config.BookingBatch).
	bookingBatch int
}

func (c *common) register(fs *flag.FlagSet, e env) {
	fs.StringVar(&c.databaseURL, "database-url", e.Str("DATABASE_URL", "postgres://fairslot_app@127.0.0.1:15432/fairslot?sslmode=disable"), "PostgreSQL or CockroachDB URL of the service's own login (a member of the fairslot_service role; migrate grants it)")
	fs.StringVar(&c.redisAddr, "redis-addr", e.Str("REDIS_ADDR", "127.0.0.1:16379"), "Redis address, or comma-separated Redis Cluster nodes")
	c.redisPassword = e.Get("REDIS_PASSWORD")
	fs.StringVar(&c.redisPrefix, "redis-prefix", e.Str("REDIS_PREFIX", "fs"), "prefix of every Redis key")
	// The master key comes from a file or the environment, never from the
	// command line: arguments show in process listings and in pprof's
	// cmdline. A --secret-key flag is refused with a pointer to both.
	c.secretKey = e.Get("SECRET_KEY")
	fs.StringVar(&c.secretKeyFile, "secret-key-file", e.Str("SECRET_KEY_FILE", ""), "file holding the 32-byte master key (base64 or hex) for ID hashing, encryption and tokens; or set FAIRSLOT_SECRET_KEY (one of them is required)")
	fs.Func("secret-key", "refused: the key is read from --secret-key-file or FAIRSLOT_SECRET_KEY, never the command line", func(string) error {
		return errSecretKeyFlag
	})
	fs.StringVar(&c.tokenKeyFile, "token-key-file", e.Str("TOKEN_KEY_FILE", ""), "file holding a 32-byte key (base64 or hex) of its own for login tokens and the consoles' CSRF tokens (default: derived from the master key); replacing it ends every login and nothing else — the first step after a master key leaked (docs/operations.md)")
	fs.StringVar(&c.logLevel, "log-level", e.Str("LOG_LEVEL", "info"), "debug, info, warn or error")
	fs.IntVar(&c.passwordIterations, "password-iterations", e.Int("PASSWORD_ITERATIONS", 600_000), "PBKDF2 iterations for new passwords")
	fs.DurationVar(&c.closingCoolingOff, "closing-cooling-off", e.Dur("CLOSING_COOLING_OFF", booking.DefaultClosingCoolingOff),
		"how long a patient's online closing stays pending, unless its holder cancels it, before it completes")
	fs.IntVar(&c.caseRecordYears, "case-record-years", e.Int("CASE_RECORD_YEARS", booking.DefaultCaseRecordYears),
		"the hospital's complaint-record period: a closed report's, complaint's or appeal's free texts are erased this many years after it closed")
	fs.IntVar(&c.noCardLookups, "lookups-without-card", e.Int("LOOKUPS_WITHOUT_CARD", booking.DefaultNoCardLookups),
		"persons a registration clerk may look up without their ID card in an hour; further ones are refused (429 lookups_limited) until the hour of the first has passed")
	fs.IntVar(&c.lookupsMarkedOver, "lookups-marked-over", e.Int("LOOKUPS_MARKED_OVER", booking.DefaultLookupsMarkedOver),
		"persons a registration clerk may look up in an hour before each further lookup is marked in the audit for the administrator")
	fs.DurationVar(&c.flagDecision, "flag-decision-within", e.Dur("FLAG_DECISION_WITHIN", 7*24*time.Hour),
		"an open scalper flag's decision deadline: past it the flag is overdue (fairslot_flags_overdue) and its hold on lottery entries lapses")
	fs.DurationVar(&c.holdFor, "hold-for", e.Dur("HOLD_FOR", 30*time.Second), "how long an admitted hold waits for its SQL commit before the sweeper may release it")
	fs.DurationVar(&c.commitTimeout, "commit-timeout", e.Dur("COMMIT_TIMEOUT", 5*time.Second), "deadline of one booking's SQL transaction")
	fs.DurationVar(&c.returnDelayMin, "return-delay-min", e.Dur("RETURN_DELAY_MIN", 5*time.Minute), "shortest random delay before a cancelled slot nobody waits for rejoins its pool")
	fs.DurationVar(&c.returnDelayMax, "return-delay-max", e.Dur("RETURN_DELAY_MAX", 60*time.Minute), "longest such delay")
	fs.IntVar(&c.clerkWalkInsPerDay, "clerk-walk-ins-per-day", e.Int("CLERK_WALK_INS_PER_DAY", booking.DefaultClerkWalkInsPerDay), "walk-in bookings and draw entries one registration clerk makes a day at most (review25 H3)")
	fs.IntVar(&c.clerkExtrasPerDay, "clerk-extra-slots-per-day", e.Int("CLERK_EXTRA_SLOTS_PER_DAY", booking.DefaultClerkExtraSlotsPerDay), "extra-slot (加号) requests one registration clerk makes a day at most (review25 H3)")
	fs.DurationVar(&c.freedSlotWait, "freed-slot-wait", e.Dur("FREED_SLOT_WAIT", booking.DefaultFreedSlotWait), "how long a clerk who freed a booked slot of a session books no walk-in into it (review25 H2)")
	fs.BoolVar(&c.onlyReadsVerify, "only-reads-verify", e.Bool("ONLY_READS_VERIFY"), "only a registered desk card reader's read (or a chipless document typed from it) verifies a name at a walk-in or check-in (review25 L1); turn on once every desk window has a reader")
	fs.IntVar(&c.operatorPerHour, "operator-per-hour", e.Int("OPERATOR_PER_HOUR", booking.DefaultOperatorActsPerHour), "phone bookings, draw entries and waitlist places one operator makes in any hour at most (a call takes 2–3 minutes; review23 H1)")
	fs.DurationVar(&c.returnRound, "return-round", e.Dur("RETURN_ROUND", booking.DefaultReturnRound), "how long a returned slot that finds nobody on its session's waitlist is held for those who join it, then drawn among them (0: not held; then, or if nobody joined, the random delay)")
	fs.DurationVar(&c.entryMemoFor, "entry-memo-for", e.Dur("ENTRY_MEMO_FOR", 30*time.Second), "how long a person's repeat attempts on a lottery pool are answered already_entered from memory once this instance answered them 202 or already_entered (0: always ask Redis; never longer than --hold-for, to which a longer value is cut)")
	fs.DurationVar(&c.soldOutFor, "sold-out-for", e.Dur("SOLD_OUT_FOR", 100*time.Millisecond), "how long a pool's sold_out or not_released is answered from memory, for attempts without an Idempotency-Key (0: always ask Redis; at most 1s)")
	fs.IntVar(&c.passwordHashers, "password-hashers", e.Int("PASSWORD_HASHERS", 0), "password hashes computed at once, each ~0.2 s of a core (0: half the CPUs, at least 1)")
	fs.DurationVar(&c.reloadTimeout, "reload-timeout", e.Dur("RELOAD_TIMEOUT", 30*time.Second), "deadline of one reload of a hospital's state from SQL after Redis lost it; an instance dying mid-reload holds the others back this long")
	fs.IntVar(&c.refusalBuffer, "refusal-buffer", e.Int("REFUSAL_BUFFER", 32768), "refused attempts waiting in memory to be written as rejected/rate_limited events; beyond it they are dropped and counted (0: not recorded)")
	fs.IntVar(&c.refusalRate, "refusal-rate", e.Int("REFUSAL_RATE", 2000), "refused attempts written to SQL a second at most, on average (over it, whole accounts are kept); the rest are dropped and counted")
	fs.Float64Var(&c.holdScore, "lottery-hold-score", e.Float("LOTTERY_HOLD_SCORE", 1.0), "hold the lottery entries of accounts and persons in an open scalper flag scoring at least this out of the draw, for review (0: hold none)")
	fs.DurationVar(&c.drawGrace, "draw-grace", e.Dur("DRAW_GRACE", 2*time.Second), "how long after a lottery pool's draw time its draw begins, so entries in flight settle first")
	fs.IntVar(&c.bookingWriters, "booking-writers", e.Int("BOOKING_WRITERS", 8), "booking batches written to SQL at once, each one statement on its own pooled connection; bookings that arrive meanwhile wait and go together in the next batch (docs/performance.md)")
	fs.IntVar(&c.bookingBatch, "booking-batch", e.Int("BOOKING_BATCH", 250), "the most bookings written in one batch's statement; what waits beyond it goes in the next batch, on another writer (docs/performance.md)")
	fs.IntVar(&c.entryWriters, "entry-writers", e.Int("ENTRY_WRITERS", 8), "lottery entry batches written to SQL at once, each one transaction on its own pooled connection")
	fs.StringVar(&c.detectConfig, "detect-config", e.Str("DETECT_CONFIG", ""), "JSON file of scalper-detection thresholds and weights over the defaults (docs/detection.md)")
}

// errSecretKeyFlag is the answer to a --secret-key on the command line.
var errSecretKeyFlag = errors.New("a key on the command line shows in process listings and /debug/pprof/cmdline: " +
	"put it in a file readable only by the service and pass --secret-key-file, or set FAIRSLOT_SECRET_KEY")

func (c *common) validate() error {
	var errs []error
	if err := c.readKey(); err != nil {
		errs = append(errs, err)
	}
	if c.returnDelayMin < 0 || c.returnDelayMax < c.returnDelayMin {
		errs = append(errs, fmt.Errorf("--return-delay-max (%s) must not be below --return-delay-min (%s)", c.returnDelayMax, c.returnDelayMin))
	}
	if c.operatorPerHour < 1 {
		errs = append(errs, fmt.Errorf("--operator-per-hour (%d) must be at least 1", c.operatorPerHour))
	}
	if c.returnRound < 0 {
		errs = append(errs, fmt.Errorf("--return-round (%s) must not be negative", c.returnRound))
	}
	if c.flagDecision < time.Hour {
		errs = append(errs, fmt.Errorf("--flag-decision-within (%s) must be at least 1h", c.flagDecision))
	}
	if c.caseRecordYears < 1 || c.caseRecordYears > 30 {
		errs = append(errs, fmt.Errorf("--case-record-years (%d) must be 1 to 30", c.caseRecordYears))
	}
	if c.closingCoolingOff < 24*time.Hour {
		errs = append(errs, fmt.Errorf("--closing-cooling-off (%s) must be at least 24h: a holder whose password was taken needs the time to notice and log in", c.closingCoolingOff))
	}
	if c.noCardLookups < 1 {
		errs = append(errs, fmt.Errorf("--lookups-without-card (%d) must be at least 1: a clerk whose card reader fails needs a few", c.noCardLookups))
	}
	if c.lookupsMarkedOver < 1 {
		errs = append(errs, fmt.Errorf("--lookups-marked-over (%d) must be at least 1", c.lookupsMarkedOver))
	}
	if c.holdFor < 4*c.commitTimeout {
		errs = append(errs, fmt.Errorf("--hold-for (%s) must be at least 4× --commit-timeout (%s), so the sweeper never overtakes a slow commit", c.holdFor, c.commitTimeout))
	}
	if c.holdScore < 0 {
		errs = append(errs, fmt.Errorf("--lottery-hold-score (%g) must be 0 (hold none) or more", c.holdScore))
	}
	if c.drawGrace < 0 || c.drawGrace > time.Minute {
		errs = append(errs, fmt.Errorf("--draw-grace (%s) must be from 0 to 1m", c.drawGrace))
	}
	if c.soldOutFor < 0 || c.soldOutFor > time.Second {
		errs = append(errs, fmt.Errorf("--sold-out-for (%s) must be from 0 to 1s: it is how long a returned slot may stay hidden", c.soldOutFor))
	}
	if c.entryMemoFor < 0 {
		errs = append(errs, fmt.Errorf("--entry-memo-for (%s) must be 0 (off) or more", c.entryMemoFor))
	}
	if err := checkWriters(c.bookingWriters, c.entryWriters, c.databaseURL); err != nil {
		errs = append(errs, err)
	}
	if c.bookingBatch < 1 {
		errs = append(errs, fmt.Errorf("--booking-batch (%d) must be 1 or more", c.bookingBatch))
	}
	if c.refusalBuffer < 0 || c.refusalRate < 1 {
		errs = append(errs, fmt.Errorf("--refusal-buffer (%d) must be 0 or more and --refusal-rate (%d) 1 or more", c.refusalBuffer, c.refusalRate))
	}
	if _, err := parseURL("--database-url", c.databaseURL); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// readKey reads and checks the master key: from --secret-key-file when
// given (a file others may read is refused, as ssh refuses such a key),
// else from FAIRSLOT_SECRET_KEY.
func (c *common) readKey() error {
	text := c.secretKey
	if c.secretKeyFile != "" {
		var err error
		if text, err = readKeyFile("--secret-key-file", c.secretKeyFile); err != nil {
			return err
		}
	}
	if text == "" {
		// Point at the key that exists: a key made now is another key, and
		// the database's key check refuses it (review of session 17: this
		// said how to make one).
		return errors.New("a master key is required: set FAIRSLOT_SECRET_KEY_FILE (or --secret-key-file) to the deployment's key file — " +
			".data/secret.key in a local checkout, made by `make run` — or FAIRSLOT_SECRET_KEY to its contents. " +
			"Use the key the database was set up with: the key check refuses any other")
	}
	master, err := identity.ParseKey(text)
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	c.master = master
	if c.tokenKeyFile == "" {
		return nil
	}
	text, err = readKeyFile("--token-key-file", c.tokenKeyFile)
	if err != nil {
		return err
	}
	if c.tokenKey, err = identity.ParseKey(text); err != nil {
		return fmt.Errorf("--token-key-file: %w", err)
	}
	return nil
}

// readKeyFile is a key file's text; a file others may read is refused.
func readKeyFile(flag, path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	if st.Mode().Perm()&0o007 != 0 {
		return "", fmt.Errorf("%s %s can be read by any user (mode %v): chmod o-rwx it", flag, path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// errWrongKey refuses a master key the database's data was not made with.
var errWrongKey = errors.New("the master key is not the one this database's data was hashed and sealed with: " +
	"with it no phone or ID number would be found, every returning patient would get a second account and a second person, " +
	"and no login token would hold — start with the database's own key (docs/operations.md, \"Secrets\")")

// checkKey refuses a master key that is not the database's: the
// fingerprint recorded by the first to open it (migration 0038), or, on a
// database from before that, the key that opens a value sealed there; the
// first key that passes is recorded. A new database takes the key it is
// first opened with.
//
// With a holder (serve), the instance's presence lease is recorded first,
// in the transaction that reads the rotation (cockroach.DB.Arrive): a
// rekey that began before sees no lease and this instance sees its
// rotation; one that begins after sees the lease and refuses.
func checkKey(ctx context.Context, db *cockroach.DB, keys *identity.Keyring, holder string) error {
	var st *cockroach.RekeyState
	var err error
	if holder != "" {
		st, err = db.Arrive(ctx, holder, presenceTTL)
		if errors.Is(err, booking.ErrReadOnly) {
			// A database that takes no writes takes no rotation either:
			// serve starts for the reads, and keepPresence records its
			// presence once the database takes writes.
			st, err = db.RekeyInProgress(ctx)
		}
	} else {
		st, err = db.RekeyInProgress(ctx)
	}
	if err != nil {
		return err
	}
	if st != nil {
		return errRekeyUnderWay
	}
	fp, err := db.KeyFingerprint(ctx)
	if err != nil {
		return err
	}
	if fp == nil {
		sealed, err := db.SealedSample(ctx)
		if err != nil {
			return err
		}
		if sealed != nil {
			if _, err := keys.Open("phone", sealed); err != nil {
				return errWrongKey
			}
		}
		if fp, err = db.RecordKeyFingerprint(ctx, keys.Fingerprint()); err != nil {
			return err
		}
	}
	if !hmac.Equal(fp, keys.Fingerprint()) {
		return errWrongKey
	}
	return nil
}

// errOtherDatabase is open's refusal of a Redis state built from another
// database than the one it reaches (review21b H3).
var errOtherDatabase = errors.New("the redis state under this prefix is another database's")

// ownState claims the Redis state under the prefix for this database, or
// refuses to work on one built from another: a restored copy served with
// production's Redis and prefix had rewritten production's holds and quota
// counters with the backup's. A drill gives its copy a prefix of its own;
// after a real restore, with every instance of the old database stopped,
// `reconcile --hand-over` gives the state to the restored database.
func (c *common) ownState(ctx context.Context, d *deps, log *slog.Logger) error {
	origin, err := d.db.Origin(ctx)
	if err != nil {
		return err
	}
	if c.handOver {
		was, err := d.gate.HandOver(ctx, origin)
		if err != nil {
			return err
		}
		if was != origin {
			log.Warn("the redis state under this prefix is handed over to this database; reconcile makes it this database's",
				"prefix", c.redisPrefix, "was", was, "now", origin)
		}
		return nil
	}
	holder, err := d.gate.Own(ctx, origin)
	if err != nil {
		return err
	}
	if holder != origin {
		return fmt.Errorf("%w: the state under prefix %q was built from database %s, this is %s. "+
			"A restored copy served beside production needs a --redis-prefix of its own "+
			"(docs/operations.md, \"Backups and restore\"); after a real restore, with every instance of the old database stopped, "+
			"run `fairslot reconcile --hand-over`", errOtherDatabase, c.redisPrefix, holder, origin)
	}
	return nil
}

// redactURL masks every password a database URL or a key=value connection
// string holds: a URL's user password (u.Redacted) and each parameter whose
// name ends in "password" (password, sslpassword: pgx takes a password in
// the query too, and the key's passphrase as sslpassword), in either form
// (review18a M3: the start line showed the user password in clear when the
// query held a password=, and sslpassword always). A text that does not
// parse as a URL but holds an '@' (a user and password before a host) is
// hidden whole; any other text is returned as it is.
func redactURL(s string) string {
	if !strings.Contains(s, "://") {
		if dsnPassword.MatchString(s) {
			return dsnPassword.ReplaceAllString(s, "${1}xxxxx")
		}
		if strings.Contains(s, "@") {
			return "[not a valid URL: hidden, it may hold a password]"
		}
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "[not a valid URL: hidden, it may hold a password]"
	}
	masked := false
	if queryPassword.MatchString(u.RawQuery) {
		u.RawQuery = queryPassword.ReplaceAllString(u.RawQuery, "${1}xxxxx")
		masked = true
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			return u.Redacted()
		}
	}
	if masked {
		return u.String()
	}
	return s
}

// dsnPassword finds each password of a key=value connection string
// ("host=… user=… password=… sslpassword=…"), which pgx takes as well as
// a URL: any key ending in "password".
var dsnPassword = regexp.MustCompile(`(?i)(\b\w*password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// queryPassword finds each parameter of a URL's query whose name ends in
// "password" (password=, sslpassword=), with its value.
var queryPassword = regexp.MustCompile(`(?i)((?:^|&)[^=&]*password=)([^&]*)`)

// parseURL parses a database URL given to flag. url.Parse's error repeats
// the whole text, password included (an operator saw theirs in clear when a
// character of it was not escaped): this one names the flag and the fault only.
func parseURL(flag, s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err == nil {
		return u, nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var esc url.EscapeError
	if errors.As(err, &esc) {
		err = errors.New("a % not followed by two hex digits (write a % in a password as %25)")
	}
	return nil, fmt.Errorf("%s is not a valid URL: %v (the URL is not shown: it may hold a password)", flag, err)
}

// logAttrs is the configuration as logged: secrets masked.
func (c *common) logAttrs() []any {
	db := redactURL(c.databaseURL)
	redisPassword := "[none]"
	if c.redisPassword != "" {
		redisPassword = "[set]"
	}
	tokenKey := "[the master key's]"
	if c.tokenKeyFile != "" {
		tokenKey = "[own: " + c.tokenKeyFile + "]"
	}
	return []any{"database_url", db, "redis_addr", c.redisAddr, "redis_password", redisPassword, "redis_prefix", c.redisPrefix,
		"secret_key", "[set]", "token_key", tokenKey, "hold_for", c.holdFor, "closing_cooling_off", c.closingCoolingOff, "lookups_without_card", c.noCardLookups, "lookups_marked_over", c.lookupsMarkedOver, "flag_decision_within", c.flagDecision, "commit_timeout", c.commitTimeout, "sold_out_for", c.soldOutFor, "entry_memo_for", c.entryMemoFor,
		"refusal_buffer", c.refusalBuffer, "refusal_rate", c.refusalRate,
		"lottery_hold_score", c.holdScore, "draw_grace", c.drawGrace, "booking_writers", c.bookingWriters, "booking_batch", c.bookingBatch, "entry_writers", c.entryWriters}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// deps are the wired components, in dependency order.
type deps struct {
	keys  *identity.Keyring
	db    *cockroach.DB
	rdb   redis.UniversalClient
	gate  *admission.Gate
	store *cockroach.Store
	svc   *booking.Service
	// holder is the presence lease open recorded (serve, every tool), given
	// back by Close: a command that ends, or fails to open, leaves none
	// for a rekey to wait on.
	holder string
	log    *slog.Logger
}

func (d *deps) Close() {
	if d.svc != nil {
		d.svc.Close() // its background tasks use the connections below
	}
	if d.rdb != nil {
		d.rdb.Close()
	}
	if d.db != nil {
		if d.holder != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := d.db.Depart(ctx, d.holder); err != nil {
				d.log.Warn("give back the presence lease (it runs out by itself)", "err", err)
			}
			cancel()
		}
		d.db.Close()
	}
}

// open connects to SQL and Redis and builds the Service.
func (c *common) open(ctx context.Context, log *slog.Logger, reg prometheus.Registerer, opts ...cockroach.Option) (*deps, error) {
	keys, err := identity.NewKeyring(c.master)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if c.tokenKey != nil {
		if keys, err = keys.WithTokenKey(c.tokenKey); err != nil {
			return nil, fmt.Errorf("--token-key-file: %w", err)
		}
	}
	d := &deps{keys: keys, holder: c.holder, log: log}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if d.db, err = cockroach.Open(cctx, c.databaseURL, reg, opts...); err != nil {
		return nil, err
	}
	// Every migration of this build, or none of the work: a missing column
	// was otherwise found by the first request that needed it (a 500).
	// Newer ones are a newer build's, beside which this one may serve.
	newer, err := d.db.CheckMigrations(cctx)
	if err != nil {
		d.Close()
		return nil, err
	}
	if len(newer) > 0 {
		log.Warn("the database has migrations this build does not know (a newer build migrated it); serving on, as migrations only add", "migrations", newer)
	}
	if err := checkKey(cctx, d.db, keys, c.holder); err != nil {
		d.Close() // a wrong key's presence, if it was recorded, given back
		return nil, err
	}
	// One address: a single Redis. Several: a Redis Cluster (keys of one
	// hospital share a hash tag, so every script stays on one node).
	d.rdb = redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:        strings.Split(c.redisAddr, ","),
		Password:     c.redisPassword,
		PoolSize:     256,
		MinIdleConns: 16,
		// The scripts are idempotent (a retried reserve carries the same
		// nonce), so go-redis may retry after a timeout.
		MaxRetries:   2,
		DialTimeout:  2 * time.Second,
		ReadTimeout:  time.Second,
		WriteTimeout: time.Second,
	})
	if err := d.rdb.Ping(cctx).Err(); err != nil {
		d.Close()
		return nil, fmt.Errorf("connect to redis at %s: %w", c.redisAddr, err)
	}
	d.gate = admission.New(d.rdb, c.redisPrefix, reg)
	if err := c.ownState(cctx, d, log); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.gate.Preload(cctx); err != nil {
		d.Close()
		return nil, err
	}
	d.store = cockroach.NewStore(d.db)
	detector, err := c.detector()
	if err != nil {
		d.Close()
		return nil, err
	}
	var guard, phoneGuard booking.LoginGuard
	if c.loginGuard != nil {
		if guard, phoneGuard, err = c.loginGuard(d.rdb); err != nil {
			d.Close()
			return nil, err
		}
	}
	var claims, claimsIP booking.LoginGuard
	if c.claimGuards != nil {
		if claims, claimsIP, err = c.claimGuards(d.rdb); err != nil {
			d.Close()
			return nil, err
		}
	}
	var reports booking.LoginGuard
	if c.reportGuard != nil {
		if reports, err = c.reportGuard(d.rdb); err != nil {
			d.Close()
			return nil, err
		}
	}
	var verifier booking.IdentityVerifier
	if c.verifier != nil {
		if verifier, err = c.verifier(d.rdb); err != nil {
			d.Close()
			return nil, err
		}
	}
	var realNameID, realNameAccount booking.LoginGuard
	if c.realNameGuards != nil {
		if realNameID, realNameAccount, err = c.realNameGuards(d.rdb); err != nil {
			d.Close()
			return nil, err
		}
	}
	d.svc, err = booking.NewService(booking.Config{
		Detector:              detector,
		HoldFor:               c.holdFor,
		ClosingCoolingOff:     c.closingCoolingOff,
		CaseRecordYears:       c.caseRecordYears,
		NoCardLookups:         c.noCardLookups,
		LookupsMarkedOver:     c.lookupsMarkedOver,
		DeskMetrics:           newDeskMetrics(reg),
		FlagDecisionWithin:    c.flagDecision,
		CommitTimeout:         c.commitTimeout,
		PasswordIterations:    c.passwordIterations,
		ReturnDelayMin:        c.returnDelayMin,
		ReturnDelayMax:        c.returnDelayMax,
		ReturnRound:           cmp.Or(c.returnRound, -1), // 0 on the command line: not held
		OperatorActsPerHour:   c.operatorPerHour,
		OnlyReadsVerify:       c.onlyReadsVerify,
		ClerkWalkInsPerDay:    c.clerkWalkInsPerDay,
		ClerkExtraSlotsPerDay: c.clerkExtrasPerDay,
		FreedSlotWait:         c.freedSlotWait,
		SoldOutFor:            cmp.Or(c.soldOutFor, -1), // 0 on the command line: off
		EntryMemoFor:          entryMemoFor(c.entryMemoFor, c.holdFor),
		LoginGuard:            guard,
		LoginPhoneGuard:       phoneGuard,
		ClaimGuard:            claims,
		ClaimIPGuard:          claimsIP,
		Verifier:              verifier,
		CardSigner:            cardreader.HMAC{},
		RealNameGuard:         realNameID,
		RealNameAccountGuard:  realNameAccount,
		ReportIPGuard:         reports,
		PasswordHashers:       c.passwordHashers,
		ReloadTimeout:         c.reloadTimeout,
		RefusalBuffer:         cmp.Or(c.refusalBuffer, -1),
		RefusalRate:           c.refusalRate,
		LotteryHoldScore:      cmp.Or(c.holdScore, -1), // 0 on the command line: hold none
		DrawGrace:             cmp.Or(c.drawGrace, time.Nanosecond),
		BookingWriters:        c.bookingWriters,
		BookingBatch:          c.bookingBatch,
		EntryWriters:          c.entryWriters,
		LotteryMetrics:        newLotteryMetrics(reg),
		Metrics:               newBookingMetrics(reg),
		CommitMetrics:         newCommitMetrics(reg),
	}, d.store, d.gate, keys, log.With("component", "booking"))
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// poolSpare is how many of the SQL pool's connections the group commits'
// writers must leave to everything else: reads, the sweeper, the refusal
// events' writer, jobs.
const poolSpare = 8

// checkWriters refuses writer counts below 1, or together taking more of
// the SQL pool (its pool_max_conns, or the default) than leaves poolSpare
// connections: a writer waiting for a connection holds its batch back, and
// reads and the sweeper would wait behind the writers.
func checkWriters(booking, entry int, databaseURL string) error {
	if booking < 1 || entry < 1 {
		return fmt.Errorf("--booking-writers (%d) and --entry-writers (%d) must be 1 or more", booking, entry)
	}
	if pool := cockroach.PoolSize(databaseURL); booking+entry > pool-poolSpare {
		return fmt.Errorf("--booking-writers (%d) and --entry-writers (%d) together must leave %d of the SQL pool's %d connections free (raise pool_max_conns in --database-url for more)",
			booking, entry, poolSpare, pool)
	}
	return nil
}

// parse parses a command's flags; -h prints them and is not an error.
func parse(fs *flag.FlagSet, e env, args []string) error {
	// A default read from the environment may hold a password (a database
	// URL's, FAIRSLOT_STAFF_PASSWORD): -h shows it masked, as the start-up
	// line does.
	fs.VisitAll(func(f *flag.Flag) {
		if (f.Name == "password" || strings.HasSuffix(f.Name, "-password")) && f.DefValue != "" {
			f.DefValue = "[set]"
		}
		f.DefValue = redactURL(f.DefValue)
	})
	if err := refusedSecretFlag(fs, args); err != nil {
		return err
	}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return errHelp
	}
	if err == nil && fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if err == nil {
		// A FAIRSLOT_* value that does not parse is refused as its flag's
		// would be, even when the flag is given too (review18a M2).
		err = e.Err()
	}
	return err
}

// secretFlags are the flags that would put a secret on the command line,
// with their refusals. The flag package's own refusal repeats the value
// ("invalid value %q for flag"), into the error and the usage it prints, so
// parse refuses them before it (found in session 18: --secret-key's value
// was echoed to stderr, and so the journal).
var secretFlags = map[string]error{"secret-key": errSecretKeyFlag, "realname-secret": errRealNameSecretFlag, "password": errStaffPasswordFlag}

// refusedSecretFlag is the refusal of the first secret flag among args that
// fs defines, or nil.
func refusedSecretFlag(fs *flag.FlagSet, args []string) error {
	for _, a := range args {
		if a == "--" {
			return nil
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if err, ok := secretFlags[name]; ok && fs.Lookup(name) != nil {
			return err
		}
	}
	return nil
}

// detector is the scalper detector the service runs on its events: the same
// function as `fairslot detect`, with the same configuration.
func (c *common) detector() (booking.Detector, error) {
	cfg := detect.DefaultConfig()
	if c.detectConfig != "" {
		f, err := os.Open(c.detectConfig)
		if err != nil {
			return nil, fmt.Errorf("--detect-config: %w", err)
		}
		defer f.Close()
		if cfg, err = detect.LoadConfig(f); err != nil {
			return nil, fmt.Errorf("--detect-config: %w", err)
		}
	}
	return func(events []booking.Event, reports []booking.Report) []booking.Flag {
		found := detect.DetectWithReports(events, reports, cfg)
		out := make([]booking.Flag, len(found))
		for i, f := range found {
			out[i] = domainFlag(f)
		}
		return out
	}, nil
}

// domainFlag carries a detector flag into the domain's review queue.
func domainFlag(f detect.Flag) booking.Flag {
	reasons := make([]booking.FlagReason, len(f.Reasons))
	for i, r := range f.Reasons {
		reasons[i] = booking.FlagReason{Signal: r.Signal, Kind: r.Kind, Detail: r.Detail, DetailZH: r.DetailZH, Points: r.Points}
	}
	return booking.Flag{ID: f.FlagID, Score: f.Score, Status: booking.FlagOpen, Reasons: reasons,
		AccountIDs: f.AccountIDs, PatientIDs: f.PatientIDs, CreatedAt: f.CreatedAt,
		Threshold: f.Threshold, Explanation: f.Explanation, ExplanationZH: f.ExplanationZH, CaseIDs: f.CaseIDs}
}

// entryMemoFor is --entry-memo-for as the Service takes it: 0 on the command
// line turns the memo off (-1), and an answer from memory lasts no longer
// than --hold-for, for which admission already refuses the person of an
// entry whose instance crashed before its commit (docs/design.md, the entry
// memo).
func entryMemoFor(flag, holdFor time.Duration) time.Duration {
	return cmp.Or(min(flag, holdFor), -1)
}
