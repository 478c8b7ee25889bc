// Command fairslot runs the fairslot appointment service and its tools.
//
//	fairslot serve       serve the API (and metrics on the admin address)
//	fairslot migrate     apply the database migrations
//	fairslot seed --demo load the demo hospitals, their schedule and demo staff
//	fairslot hospital add, list  create a production hospital, list them
//	fairslot reconcile   rebuild Redis admission state from SQL
//	fairslot staff add   create a staff account (clerk, operator or admin)
//	fairslot staff password  set a staff account's password, ending its logins
//	fairslot staff list  list the staff accounts (phones masked)
//	fairslot staff disable, enable  lock a staff account out, let it back in
//	fairslot staff check  after a restore: staff changes the journal has and the database lacks
//	fairslot detect      flag scalpers in a file of booking events
//	fairslot events      write the booking events in SQL to a file
//	fairslot lottery     export a session's lottery draws, or verify them
//
// Every flag has a FAIRSLOT_* environment twin: --http-addr is
// FAIRSLOT_HTTP_ADDR. Flags win over the environment. The load tests' seeding
// tool is not here but in loadtest/loadseed.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	_ "time/tzdata" // hospitals name their zone; do not depend on the host's tz database

	"github.com/redis/go-redis/v9"

	"fairslot/internal/cockroach"
	"fairslot/internal/envflag"
)

func main() {
	// go-redis's own lines (its pool's: ~50 "failed to dial" when Redis is
	// down at start, before fairslot's one-line error) go to the structured
	// log at debug level. Its logger is the library's, one per process: set
	// here, not in run, which tests run many of at once.
	redis.SetLogger(goRedisLog{newLogger(os.Stderr, os.Getenv("FAIRSLOT_LOG_LEVEL")).With("component", "go-redis")})
	warnUnknownEnv(os.Environ(), os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, errHelp) && !errors.Is(err, errUsage) {
		fmt.Fprintln(os.Stderr, "fairslot:", err)
	}
	if code := exitCode(err); code != 0 {
		os.Exit(code)
	}
}

// goRedisLog is go-redis's logger on slog, at debug level.
type goRedisLog struct{ log *slog.Logger }

func (l goRedisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...))
}

// exitError is an error that exits with a status other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitCode is the status the process exits with after err: 0 for none (or
// help asked for), an exitError's, else 1.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil || errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ee):
		return ee.code
	}
	return 1
}

// errUsage means the usage was printed for a wrong command line; errHelp
// means it was asked for.
var (
	errUsage = errors.New("usage")
	errHelp  = errors.New("help")
)

const usage = `usage: fairslot <command> [flags]

commands:
  serve       serve the API, metrics and background jobs
  migrate     apply the database migrations (as FAIRSLOT_MIGRATE_DATABASE_URL's owner) and grant the service's login
  hospital add  create a hospital (production's first step): --name [--time-zone Asia/Shanghai] [--cancel-deadline 15:00]; prints its id
  hospital list list the hospitals: id, time zone, name
  seed --demo load the demo hospitals, a week of sessions and demo staff with public passwords: never in production
  reconcile   rebuild Redis admission state from SQL
  retention   serve's hourly retention job, once: delete call-back rows, kept numbers and booking events past their need; erase removed members' numbers and names, events' phones, IPs and devices, reports' numbers
  staff add   create a staff account: --role clerk|operator|referrer|admin --phone [--hospital ID] (the password from FAIRSLOT_STAFF_PASSWORD)
  staff password  set a staff account's password and end its logins: --phone (the password from FAIRSLOT_STAFF_PASSWORD)
  staff list  list staff accounts (phones masked): [--hospital ID] [--phone]
  staff disable   end a staff account's logins and refuse new ones: --phone (staff enable --phone: undo)
  staff check after a restore: the staff journal's changes the database lacks: --journal FILE [--since BACKUP-TIME]
  detect      flag scalpers in a file of booking events: --events FILE --out FILE [--config FILE]
  events      write the booking events in SQL to a file, for detect: [--since 720h] --out FILE
  rekey       move the database to a new master key, every instance stopped: --new-key-file FILE [--batch 500] [--max-batches N]; run again to finish one that stopped
  key check   the fingerprints of the database's master key, of the key given and of a rotation under way
  lottery     a session's lottery draws: entries --session ID [--out FILE], verify --session ID [--entries FILE]

Run "fairslot <command> -h" for the flags of a command.
`

// run is the whole program, so tests can run it in-process. An error of a
// database without this build's tables says what to do about it: the bare
// "relation … does not exist" left an operator to guess.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, getenv, stdout, stderr)
	if cockroach.SchemaBehind(err) {
		return fmt.Errorf("%w\n(the database lacks a table or column this fairslot needs: it was never migrated, or is older than this build; "+
			"run `fairslot migrate` with FAIRSLOT_MIGRATE_DATABASE_URL naming the tables' owner)", err)
	}
	return err
}

// dispatch runs the command args name.
func dispatch(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, getenv, stdout, stderr)
	case "seed":
		return seed(ctx, rest, getenv, stdout, stderr)
	case "reconcile":
		return reconcile(ctx, rest, getenv, stdout, stderr)
	case "retention":
		return retention(ctx, rest, getenv, stdout, stderr)
	case "hospital":
		switch {
		case len(rest) > 0 && rest[0] == "add":
			return hospitalAdd(ctx, rest[1:], getenv, stdout, stderr)
		case len(rest) > 0 && rest[0] == "list":
			return hospitalList(ctx, rest[1:], getenv, stdout, stderr)
		}
		fmt.Fprint(stderr, usage)
		return errUsage
	case "staff":
		switch {
		case len(rest) > 0 && rest[0] == "add":
			return staffAdd(ctx, rest[1:], getenv, stdout, stderr)
		case len(rest) > 0 && rest[0] == "password":
			return staffPassword(ctx, rest[1:], getenv, stdout, stderr)
		case len(rest) > 0 && rest[0] == "list":
			return staffList(ctx, rest[1:], getenv, stdout, stderr)
		case len(rest) > 0 && rest[0] == "disable":
			return staffDisable(ctx, rest[1:], getenv, stdout, stderr)
		case len(rest) > 0 && rest[0] == "enable":
			return staffEnable(ctx, rest[1:], getenv, stdout, stderr)
		case len(rest) > 0 && rest[0] == "check":
			return staffCheck(ctx, rest[1:], getenv, stdout, stderr)
		}
		fmt.Fprint(stderr, usage)
		return errUsage
	case "detect":
		return detectCmd(ctx, rest, getenv, stdout, stderr)
	case "events":
		return exportEvents(ctx, rest, getenv, stdout, stderr)
	case "lottery":
		return lotteryCmd(ctx, rest, getenv, stdout, stderr)
	case "rekey":
		return rekey(ctx, rest, getenv, stdout, stderr)
	case "key":
		if len(rest) > 0 && rest[0] == "check" {
			return keyCheck(ctx, rest[1:], getenv, stdout, stderr)
		}
		fmt.Fprint(stderr, usage)
		return errUsage
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
	return errUsage
}

// commandLines are the commands and subcommands, as dispatch takes them.
var commandLines = [][]string{
	{"serve"}, {"migrate"}, {"seed"}, {"reconcile"}, {"retention"}, {"hospital", "add"}, {"hospital", "list"},
	{"staff", "add"}, {"staff", "password"}, {"staff", "list"}, {"staff", "disable"}, {"staff", "enable"}, {"staff", "check"},
	{"detect"}, {"events"}, {"lottery", "entries"}, {"lottery", "verify"}, {"rekey"}, {"key", "check"},
}

// knownEnv is every FAIRSLOT_* variable a command reads: each command's
// flags are registered (its -h, output discarded) over an environment that
// records the names asked for. The set is the code's own, never a list
// kept beside it.
func knownEnv() []string {
	asked := map[string]bool{}
	record := func(k string) string {
		if strings.HasPrefix(k, envflag.Prefix) {
			asked[k] = true
		}
		return ""
	}
	for _, cl := range commandLines {
		_ = dispatch(context.Background(), append(slices.Clone(cl), "-h"), record, io.Discard, io.Discard)
	}
	asked[envflag.Prefix+"LOG_LEVEL"] = true // main reads it itself, for go-redis's logger
	return slices.Sorted(maps.Keys(asked))
}

// scriptEnv is every FAIRSLOT_* variable the project's scripts read and
// fairslot does not (the ports and folders of deploy/local and
// deploy/cluster: the replicated stack's, the load balancer's): they are set in the shell that
// runs `make run`, so fairslot inherits them, and a newcomer who set
// FAIRSLOT_PG_PORT as the README says must not read that it was ignored
// (review24 L3). TestScriptEnvIsTheScripts keeps it equal to what the
// scripts read.
var scriptEnv = []string{
	"FAIRSLOT_CLUSTER", "FAIRSLOT_DATA_DIR", "FAIRSLOT_ETCD_PEER_PORT", "FAIRSLOT_ETCD_PORT",
	"FAIRSLOT_HAPROXY_STATS_PORT", "FAIRSLOT_HA_PG_DIR", "FAIRSLOT_INSTANCE_ADMIN_PORT",
	"FAIRSLOT_INSTANCE_PORT", "FAIRSLOT_LB_PORT", "FAIRSLOT_LB_STATS_PORT", "FAIRSLOT_PATRONI_PORT",
	"FAIRSLOT_PG_DIR", "FAIRSLOT_PG_HA_PORT", "FAIRSLOT_PG_HUGE_PAGES", "FAIRSLOT_PG_NODE_PORT",
	"FAIRSLOT_PG_PORT", "FAIRSLOT_PROMETHEUS", "FAIRSLOT_PROMETHEUS_PORT",
	"FAIRSLOT_REDIS_CLUSTER_PORT", "FAIRSLOT_REDIS_HA_BUS_PORT", "FAIRSLOT_REDIS_HA_PORT",
	"FAIRSLOT_REDIS_PORT",
}

// warnUnknownEnv names each set FAIRSLOT_* variable of environ that no
// command reads (a misspelt name is otherwise ignored in silence, and its
// setting with it: review18a M2), with the nearest name that is read. It
// warns rather than refuses: one environment file may serve several
// tools. FAIRSLOT_TEST_* are the test suite's own.
func warnUnknownEnv(environ []string, stderr io.Writer) {
	var known []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envflag.Prefix) || strings.HasPrefix(name, envflag.Prefix+"TEST_") {
			continue
		}
		if known == nil {
			known = knownEnv()
		}
		if slices.Contains(known, name) || slices.Contains(scriptEnv, name) {
			continue
		}
		hint := ""
		if near := envflag.Nearest(name, known); near != "" {
			hint = fmt.Sprintf(" (did you mean %s?)", near)
		}
		fmt.Fprintf(stderr, "fairslot: warning: %s is set but no fairslot command reads it%s; it is ignored\n", name, hint)
	}
}
