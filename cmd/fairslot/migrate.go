package main

// `fairslot migrate`: the schema, applied by the tables' owner, who then
// grants the service's login its role.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"fairslot/internal/cockroach"
	"fairslot/internal/envflag"
	"fairslot/internal/identity"
)

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c common
	var ownerURL string
	e := envflag.New(getenv)
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs, e)
	commonFlags := flagNames(fs)
	fs.StringVar(&ownerURL, "migrate-database-url", e.Str("MIGRATE_DATABASE_URL", "postgres://fairslot@127.0.0.1:15432/fairslot?sslmode=disable"),
		"URL of the tables' owner, who runs the migrations and grants --database-url's login the service role (--migrate-database-url= on the command line: --database-url runs them itself; an empty FAIRSLOT_MIGRATE_DATABASE_URL counts as unset)")
	// Its own flag and the database's URL first: the thirty of serve's it
	// accepts (the common ones) drowned them (review21b).
	fs.Usage = func() { toolUsage(fs, "migrate", commonFlags) }
	if err := parse(fs, e, args); err != nil {
		return err
	}
	serviceURL := c.databaseURL
	if ownerURL == "" {
		ownerURL = serviceURL
	}
	owner, err := parseURL("--migrate-database-url", ownerURL)
	if err != nil {
		return err
	}
	service, err := parseURL("--database-url", serviceURL)
	if err != nil {
		return err
	}
	db, err := cockroach.Open(ctx, ownerURL, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "migrated %s database: %d applied %v\n", db.Flavor(), len(applied), applied)
	warnOldNameHashes(ctx, db, newLogger(stderr, "info"))
	if user := service.User.Username(); user != "" && user != owner.User.Username() {
		pw, _ := service.User.Password()
		if err := db.GrantServiceLogin(ctx, user, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "the service logs in as %s, a member of %s (it may only add to the audit log)\n", user, cockroach.ServiceRole)
	} else {
		fmt.Fprintf(stderr, "note: --database-url names the owner; serve refuses to run as a login that can rewrite the audit log: set FAIRSLOT_MIGRATE_DATABASE_URL to the owner's URL and --database-url to the service's login\n")
	}
	return nil
}

// oldNameHashes is the warning of a database whose names may be hashed in
// their old form (identity.NameKeyVersion, migration 0086_a).
const oldNameHashes = "names verified before names were compared by their key (session 24: case, word order, traditional characters) " +
	"may still be hashed as typed: until they are moved, a claim of such a name (a Latin name in lower case or several words, " +
	"a traditional character of the table) is refused identity_unverified. Stop every instance and run " +
	"`fairslot rekey --new-key-file FILE` once; it moves every name to its key's hash " +
	"(docs/operations.md, \"Names hashed before their key\")"

// warnOldNameHashes logs oldNameHashes while the database records an older
// form than this build's: one row read, never a scan of the names.
func warnOldNameHashes(ctx context.Context, db *cockroach.DB, log *slog.Logger) {
	v, err := db.NameKeyVersion(ctx)
	switch {
	case err != nil:
		log.Warn("could not read the form names are hashed in", "err", err)
	case v < identity.NameKeyVersion:
		log.Warn(oldNameHashes, "name_key", v, "want", identity.NameKeyVersion)
	}
}
