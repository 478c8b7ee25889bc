package cockroach_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"fairslot/internal/cockroach"
)

// CockroachURLEnv names a CockroachDB to run this package's tests against
// as well (a root URL whose user may create databases, e.g.
// postgresql://root@host:26257/defaultdb?sslmode=disable). CockroachDB
// cannot be installed on the project's machines: `make test` runs the suite
// on PostgreSQL only, and this test says so.
const CockroachURLEnv = "FAIRSLOT_TEST_COCKROACH_URL"

// flavorEnv tells TestMigrate which server the suite runs on.
const flavorEnv = "FAIRSLOT_TEST_FLAVOR"

// postgresOnly are the tests of PostgreSQL's own behaviour, which the
// CockroachDB run leaves out, each for its reason:
var postgresOnly = []string{
	// a write-skew that PostgreSQL reports only at COMMIT (CockroachDB
	// reports it earlier, inside crdb's savepoint loop)
	"TestTxRetriesSerializationFailureAtCommit",
	// DEFERRABLE unique constraints: CockroachDB has none
	"TestTxReportsDeferredConstraintViolationAtCommit",
	// a wire proxy that drops PostgreSQL's COMMIT answer; on CockroachDB the
	// commit is RELEASE SAVEPOINT and crdb maps a lost answer itself
	"TestTxOutcomeUnknown", "TestExec1OutcomeUnknown",
	// READ COMMITTED needs a cluster setting on CockroachDB
	"TestTxAtIsolationAndRetry",
	// this test itself
	"TestCockroachDBSuite",
}

func expectedFlavor() cockroach.Flavor {
	if os.Getenv(flavorEnv) == string(cockroach.Cockroach) {
		return cockroach.Cockroach
	}
	return cockroach.Postgres
}

// TestCockroachDBSuite runs this package's tests again, against the
// CockroachDB at FAIRSLOT_TEST_COCKROACH_URL, in a child process of this
// test binary. It is the one test that skips: without a CockroachDB there
// is nothing to run it on.
func TestCockroachDBSuite(t *testing.T) {
	url := os.Getenv(CockroachURLEnv)
	if url == "" {
		t.Skipf("%s is not set: the SQL suite ran on PostgreSQL only (CockroachDB cannot be installed here; docs/scaling.md, CockroachDB)", CockroachURLEnv)
	}
	if os.Getenv(flavorEnv) != "" {
		t.Skip("already the CockroachDB run")
	}
	cmd := exec.Command(os.Args[0], "-test.count=1", "-test.v",
		"-test.skip", "^("+strings.Join(postgresOnly, "|")+")$")
	cmd.Env = append(os.Environ(), "FAIRSLOT_TEST_DATABASE_URL="+url, flavorEnv+"="+string(cockroach.Cockroach))
	out, err := cmd.CombinedOutput()
	t.Logf("the suite on CockroachDB (%s):\n%s", cockroach.Cockroach, out)
	if err != nil {
		t.Fatalf("the SQL suite failed on CockroachDB: %v", err)
	}
}
