package cockroach_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// review18a H1: a database made read-only (default_transaction_read_only,
// as an operator does on a full disk) gives each connection opened meanwhile
// that session setting for its whole life. While it is read-only the
// store's Ping says so (readyz is not ready); once it takes writes again,
// writes succeed without a restart: a connection that answered "read-only
// transaction" (SQLSTATE 25006) is not used again.
func TestReadOnlyDatabase(t *testing.T) {
	ctx := t.Context()
	ownerURL := testenv.DatabaseURL(t)
	owner := openDB(t, ownerURL, nil)
	testenv.GrantService(t, owner, ownerURL)
	u, err := url.Parse(ownerURL)
	testenv.Must(t, err, "parse url")
	name := strings.TrimPrefix(u.Path, "/")
	const size = 3
	serviceURL := withPoolSize(t, testenv.ServiceURL(t, ownerURL), fmt.Sprint(size))

	execSQL(t, owner, "ALTER DATABASE "+name+" SET default_transaction_read_only = on")
	t.Cleanup(func() {
		// The owner's own connections may be read-only now too.
		_, _ = owner.Pool().Exec(ctx, "SET default_transaction_read_only = off")
		_, _ = owner.Pool().Exec(ctx, "ALTER DATABASE "+name+" RESET default_transaction_read_only")
	})
	// The service's pool opens (and keeps) its connections while the
	// database refuses writes, as serve's warm pool does after its
	// backends were ended.
	service, err := cockroach.Open(ctx, serviceURL, nil, cockroach.Warm())
	testenv.Must(t, err, "open the service pool")
	defer service.Close()
	testenv.Must(t, service.Fill(ctx), "fill")
	store := cockroach.NewStore(service)
	leases := cockroach.NewLeases(service)

	cockroach.ForgetWritable(service)
	err = store.Ping(ctx)
	if !errors.Is(err, booking.ErrReadOnly) || !errors.Is(err, booking.ErrUnavailable) {
		t.Fatalf("Ping of a read-only database: %v, want unavailable: read-only", err)
	}
	_, err = leases.Claim(ctx, "readonly", "a", time.Minute)
	if !errors.Is(err, booking.ErrUnavailable) {
		t.Errorf("a lease claim on a read-only database: %v, want unavailable", err)
	}

	if _, err := (booking.JobLease{Leases: leases, Holder: "a"}).Due(ctx, "notify", time.Minute); !errors.Is(err, booking.ErrUnavailable) {
		t.Errorf("a job's lease on a read-only database: %v, want unavailable (a failed run)", err)
	}

	// The operator's own session is read-only too: it turns that off
	// first, then resets the database's setting.
	conn, err := pgx.Connect(ctx, ownerURL)
	testenv.Must(t, err, "connect as the operator")
	defer conn.Close(ctx)
	for _, s := range []string{"SET default_transaction_read_only = off", "ALTER DATABASE " + name + " RESET default_transaction_read_only"} {
		_, err := conn.Exec(ctx, s)
		testenv.Must(t, err, "%s", s)
	}

	// Each connection opened while read-only may fail once, and no more:
	// then writes succeed on every path (a pooled statement, an implicit
	// transaction, a transaction).
	writes := []struct {
		name string
		do   func(i int) error
	}{
		{"lease claim", func(i int) error {
			_, err := leases.Claim(ctx, fmt.Sprintf("readonly-%d", i), "a", time.Minute)
			return err
		}},
		{"Exec1", func(i int) error {
			return service.Exec1(ctx, "t", "DELETE FROM job_leases WHERE job = $1", fmt.Sprintf("readonly-%d", i))
		}},
		{"Tx", func(i int) error {
			return service.Tx(ctx, "t", func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, "DELETE FROM job_leases WHERE job = $1", fmt.Sprintf("readonly-%d", i))
				return err
			})
		}},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			var errs []error
			for i := range size + 1 {
				err := w.do(i)
				if err == nil {
					return
				}
				errs = append(errs, err)
			}
			t.Fatalf("after the database takes writes again, %d %s writes failed: %v", len(errs), w.name, errors.Join(errs...))
		})
	}
	cockroach.ForgetWritable(service)
	for range size + 1 {
		if err = store.Ping(ctx); err == nil {
			break
		}
		cockroach.ForgetWritable(service)
	}
	if err != nil {
		t.Errorf("Ping of a database that takes writes again: %v, want nil", err)
	}
}
