// Package stack wires a booking.Service over the Redis and PostgreSQL that
// `make test` starts, as cmd/fairslot/config.go wires it, for the tests of
// the packages above the adapters (the domain's own integration tests, the
// web consoles). It lives apart from testenv because the adapters' own tests
// use testenv, and this package imports the adapters.
package stack

import (
	"crypto/rand"
	"fairslot/internal/cardreader"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"fairslot/internal/admission"
	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// Stack is a Service over a database and a Redis key prefix of the test's
// own, with the parts a test may want to look at directly.
type Stack struct {
	Service *booking.Service
	DB      *cockroach.DB // as the owner; the Store runs as testenv.ServiceLogin
	Store   *cockroach.Store
	Gate    *admission.Gate
	Redis   *redis.Client
	Prefix  string
	Logs    *testenv.LogBuffer // shown when the test fails
	Log     *slog.Logger       // writes to Logs, at debug level
	Keys    *identity.Keyring
}

// New builds a Stack. cfg is passed to the Service as it is, except that
// PasswordIterations defaults to 1000 (tests need no slow hash); wrap, when
// not nil, wraps the store the Service sees (for fault injection).
func New(t *testing.T, cfg booking.Config, wrap func(*cockroach.Store) booking.Store) *Stack {
	t.Helper()
	ctx := t.Context()
	owner, service := testenv.ServiceDBs(t)
	s := &Stack{DB: owner, Logs: &testenv.LogBuffer{}}
	probe, prefix := testenv.Redis(t)
	s.Prefix = prefix
	s.Redis = redis.NewClient(&redis.Options{
		Addr:         probe.Options().Addr,
		Password:     probe.Options().Password,
		PoolSize:     256,
		MinIdleConns: 16,
		// A hammer of more goroutines than connections waits for one; on a
		// loaded machine running -race that wait outlasted go-redis's
		// default (ReadTimeout + 1 s) in a CI run, failing bookings the
		// tests do not judge. The wait is not what they check.
		PoolTimeout:  30 * time.Second,
		MaxRetries:   2,
		DialTimeout:  2 * time.Second,
		ReadTimeout:  time.Second,
		WriteTimeout: time.Second,
	})
	t.Cleanup(func() { s.Redis.Close() })
	s.Gate = admission.New(s.Redis, prefix, prometheus.NewRegistry())
	testenv.Must(t, s.Gate.Preload(ctx), "preload scripts")
	// The service runs as it does under `make run`: a login of the service
	// role, which may not rewrite the audit log. DB stays the owner's, for
	// the tests' own SQL.
	s.Store = cockroach.NewStore(service)

	master := make([]byte, identity.KeySize)
	_, _ = rand.Read(master)
	keys, err := identity.NewKeyring(master)
	testenv.Must(t, err, "keyring")
	s.Keys = keys

	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service log:\n%s", s.Logs)
		}
	})
	s.Log = slog.New(slog.NewTextHandler(s.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.PasswordIterations == 0 {
		cfg.PasswordIterations = 1000
	}
	if cfg.CardSigner == nil {
		cfg.CardSigner = cardreader.HMAC{}
	}
	var st booking.Store = s.Store
	if wrap != nil {
		st = wrap(s.Store)
	}
	s.Service, err = booking.NewService(cfg, st, s.Gate, keys, s.Log.With("component", "booking"))
	testenv.Must(t, err, "new service")
	t.Cleanup(s.Service.Close) // before the connections close: cleanups run last first
	return s
}

// Instance is another Service over the same database, Redis and keys: a
// second instance of the service, with a configuration of its own.
func (s *Stack) Instance(t *testing.T, cfg booking.Config) *booking.Service {
	t.Helper()
	if cfg.PasswordIterations == 0 {
		cfg.PasswordIterations = 1000
	}
	svc, err := booking.NewService(cfg, s.Store, s.Gate, s.Keys, s.Log.With("component", "booking", "instance", 2))
	testenv.Must(t, err, "new service")
	t.Cleanup(svc.Close)
	_, err = svc.Refresh(t.Context())
	testenv.Must(t, err, "refresh the second instance")
	return svc
}
