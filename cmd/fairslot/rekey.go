package main

// `fairslot rekey --new-key-file`: the master key rotation
// (docs/operations.md, "Master key compromised"), and `fairslot key check`,
// which names the keys.

import (
	"context"
	"crypto/hmac"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"fairslot/internal/cockroach"
	"fairslot/internal/envflag"
	"fairslot/internal/identity"
)

// errServing refuses a rotation while an instance may be serving.
var errServing = errors.New("an instance is serving")

// presenceEvery and presenceTTL: serve renews its presence lease every
// 5 s for 30 s, so a lease outlives open (its work is under 15 s) and a
// few missed renewals; a killed instance's runs out within 30 s.
const (
	presenceEvery = 5 * time.Second
	presenceTTL   = 30 * time.Second
)

// errRotationBegun stops a serve that finds a rotation begun while it
// served: its presence lease had run out (SQL unreachable for longer than
// presenceTTL), so the rekey did not see it.
var errRotationBegun = errors.New("a master key rotation (`fairslot rekey`) began on this database while this instance's presence lease had run out " +
	"(SQL unreachable?): it stops serving with the old key — start it again with the new key once the rotation has ended (docs/operations.md, \"Rotating the master key\")")

// keepPresence renews holder's presence lease until ctx ends; it returns
// errRotationBegun when a rotation is under way (the renewal then rolls
// back). A renewal that fails is logged and tried again at the next tick.
func keepPresence(ctx context.Context, db *cockroach.DB, holder string, log *slog.Logger) error {
	t := time.NewTicker(presenceEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, presenceEvery)
		st, err := db.Arrive(rctx, holder, presenceTTL)
		cancel()
		switch {
		case st != nil:
			return errRotationBegun
		case err != nil && ctx.Err() == nil:
			log.Warn("renew the presence lease", "err", err)
		}
	}
}

// stayPresent renews holder's presence lease, which open recorded (its
// check for a rotation in the same transaction), every presenceEvery
// (keepPresence) until stop; deps.Close gives it back. Every command that
// opens the service holds it — serve for its life, each tool (staff add,
// retention, reconcile, seed…) while it works (tool.run) — so a rekey
// refuses while any of them may write a keyed hash or a sealed value with
// the old key. onRotation is called, once, with errRotationBegun if a
// renewal finds a rotation begun (the lease had run out): the holder
// stops.
func stayPresent(ctx context.Context, db *cockroach.DB, holder string, log *slog.Logger, onRotation func(error)) (stop func()) {
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := keepPresence(pctx, db, holder, log); err != nil {
			onRotation(err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// errRekeyUnderWay is checkKey's refusal while a rotation is under way.
var errRekeyUnderWay = errors.New("a master key rotation (`fairslot rekey`) is under way on this database: " +
	"no instance starts, with the old key or the new, until it ends — run `fairslot rekey` again with the same keys to finish it (docs/operations.md, \"Rotating the master key\")")

func rekey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c common
	var ownerURL, newKeyFile string
	var batch, maxBatches int
	e := envflag.New(getenv)
	fs := flag.NewFlagSet("rekey", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs, e)
	service := flagNames(fs)
	fs.StringVar(&newKeyFile, "new-key-file", "", "file holding the NEW 32-byte master key (base64 or hex; readable only by its owner); --secret-key-file / FAIRSLOT_SECRET_KEY is the old one, the database's")
	fs.IntVar(&batch, "batch", 500, "rows rewritten in one transaction")
	fs.IntVar(&maxBatches, "max-batches", 0, "stop after this many batches, the progress recorded (0: to the end); run again to go on")
	fs.StringVar(&ownerURL, "migrate-database-url", e.Str("MIGRATE_DATABASE_URL", ""),
		"URL of the tables' owner, as migrate takes it: the rotation rewrites columns the service may not (a lottery pool's sealed seed)")
	fs.Usage = func() { toolUsage(fs, "rekey", service) }
	if err := parse(fs, e, args); err != nil {
		return err
	}
	if err := c.readKey(); err != nil {
		return err
	}
	if newKeyFile == "" {
		return errors.New("--new-key-file is required: the key the data moves to")
	}
	if batch < 1 || maxBatches < 0 {
		return errors.New("--batch must be 1 or more and --max-batches 0 or more")
	}
	text, err := readKeyFile("--new-key-file", newKeyFile)
	if err != nil {
		return err
	}
	newMaster, err := identity.ParseKey(text)
	if err != nil {
		return fmt.Errorf("--new-key-file: %w", err)
	}
	oldKeys, err := identity.NewKeyring(c.master)
	if err != nil {
		return err
	}
	newKeys, err := identity.NewKeyring(newMaster)
	if err != nil {
		return err
	}
	if ownerURL == "" {
		ownerURL = c.databaseURL
	}
	if _, err := parseURL("--migrate-database-url", ownerURL); err != nil {
		return err
	}
	db, err := cockroach.Open(ctx, ownerURL, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.CheckMigrations(ctx); err != nil {
		return err
	}
	fp, err := db.KeyFingerprint(ctx)
	if err != nil {
		return err
	}
	if hmac.Equal(fp, newKeys.Fingerprint()) {
		fmt.Fprintf(stdout, "the database's key is already the new key (fingerprint %s): nothing to do\n", cockroach.ShortFingerprint(fp))
		return nil
	}
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: strings.Split(c.redisAddr, ","), Password: c.redisPassword,
		DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("connect to redis at %s: %w", c.redisAddr, err)
	}
	refuse := func(live []cockroach.LiveLease) error {
		var b strings.Builder
		for _, l := range live {
			fmt.Fprintf(&b, "\n  job %q held by %s until %s", l.Job, l.Holder, l.Until)
		}
		return fmt.Errorf("%w: the job leases below are live (every serve holds a presence lease of its own, \"instance …\", from before its check for a rotation, "+
			"and renews it and its one-instance jobs' leases every few seconds, giving them back when it stops; every tool — staff add, retention, reconcile, seed… — "+
			"holds one too while it works, its holder naming the command). "+
			"Stop every instance (systemctl stop fairslot on every host), let the tools end (a cron job's too), and run rekey again; "+
			"a lease left by a process that was killed (its host is down) runs out at the time shown:%s", errServing, b.String())
	}
	res, err := db.Rekey(ctx, cockroach.RekeyOptions{Old: oldKeys, New: newKeys, Batch: batch, MaxBatches: maxBatches, Refuse: refuse,
		Cleared: func(ctx context.Context) error {
			n, err := dropHospitalStates(ctx, rdb, c.redisPrefix)
			if err == nil {
				fmt.Fprintf(stdout, "dropped %d redis keys of the hospitals' state under prefix %q: the first serve reloads it from SQL under the new key\n", n, c.redisPrefix)
			}
			return err
		}})
	for _, s := range []string{"accounts", "patients", "identities", "caller_phones", "lottery_pools", "bookings", "waitlist", "lottery_entries", "patient_cases", "flags", "audit_log", "booking_events"} {
		if res.Rows[s] > 0 {
			fmt.Fprintf(stdout, "%-16s %d rows rewritten, %d hashes of a value no longer kept hashed again as they are\n", s, res.Rows[s], res.Orphans[s])
		}
	}
	if err != nil {
		return err
	}
	if !res.Done {
		fmt.Fprintf(stdout, "stopped after %d batches (--max-batches), the progress recorded: run rekey again with the same keys to go on; no instance starts until it ends\n", maxBatches)
		return nil
	}
	fmt.Fprintf(stdout, "the database's data is now the new key's (fingerprint %s); put the new key in --secret-key-file on every host and start the instances\n",
		cockroach.ShortFingerprint(newKeys.Fingerprint()))
	return nil
}

// dropHospitalStates deletes every hospital's admission state under prefix
// (<p>:{<hospital>}:…; admission/keys.go): its identity keys are the old
// key's hashes. The owner mark stays; each hospital, found without its
// mark, is reloaded from SQL by the first instance (the heal job).
func dropHospitalStates(ctx context.Context, rdb redis.UniversalClient, prefix string) (int, error) {
	n := 0
	scan := func(ctx context.Context, c *redis.Client) error {
		it := c.Scan(ctx, 0, prefix+":{*", 500).Iterator()
		for it.Next(ctx) {
			if err := c.Del(ctx, it.Val()).Err(); err != nil {
				return err
			}
			n++
		}
		return it.Err()
	}
	var err error
	switch r := rdb.(type) {
	case *redis.ClusterClient:
		err = r.ForEachMaster(ctx, scan)
	case *redis.Client:
		err = scan(ctx, r)
	default:
		err = fmt.Errorf("unknown redis client %T", rdb)
	}
	if err != nil {
		return n, fmt.Errorf("drop the redis state under %q: %w", prefix, err)
	}
	return n, nil
}

// keyCheck is `fairslot key check`: the fingerprints of the database's
// key, of the key given, of a rotation under way, and which token key is in
// use. Exit 1 when the key given is not the database's.
func keyCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c common
	e := envflag.New(getenv)
	fs := flag.NewFlagSet("key check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs, e)
	fs.Usage = func() { toolUsage(fs, "key check", map[string]bool{}) }
	if err := parse(fs, e, args); err != nil {
		return err
	}
	if err := c.readKey(); err != nil {
		return err
	}
	keys, err := identity.NewKeyring(c.master)
	if err != nil {
		return err
	}
	db, err := cockroach.Open(ctx, c.databaseURL, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	fp, err := db.KeyFingerprint(ctx)
	if err != nil {
		return err
	}
	st, err := db.RekeyInProgress(ctx)
	if err != nil {
		return err
	}
	mine := keys.Fingerprint()
	fmt.Fprintf(stdout, "database's key     %s\n", cockroach.ShortFingerprint(fp))
	fmt.Fprintf(stdout, "this key           %s\n", cockroach.ShortFingerprint(mine))
	if st != nil {
		fmt.Fprintf(stdout, "rotation under way %s -> %s (no instance starts until `fairslot rekey` ends it)\n",
			cockroach.ShortFingerprint(st.Old), cockroach.ShortFingerprint(st.New))
	}
	if c.tokenKeyFile != "" {
		fmt.Fprintf(stdout, "token key          own: %s (rekey leaves it as it is)\n", c.tokenKeyFile)
	} else {
		fmt.Fprintf(stdout, "token key          the master key's (a rekey ends every login)\n")
	}
	if !hmac.Equal(fp, mine) {
		return &exitError{code: 1, err: errors.New("this key is not the database's")}
	}
	return nil
}
