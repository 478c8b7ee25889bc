package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"fairslot/internal/booking"
	"fairslot/internal/lockout"
	"fairslot/internal/realname"
)

// realNameConfig is the hospital's real-name gateway (internal/realname;
// docs/operations.md, "Real-name gateway"). Without a URL the service
// verifies nothing remotely (booking.DeskOnly): the desk does, with the
// card, as under `make run`.
type realNameConfig struct {
	url         string
	secretFile  string
	caFile      string
	timeout     time.Duration
	maxInFlight int
	budget      int64
	budgetZone  string
	// Read by validate.
	secret []byte
	roots  *x509.CertPool
	zone   *time.Location
}

func (r *realNameConfig) register(fs *flag.FlagSet, e env) {
	fs.StringVar(&r.url, "realname-url", e.Str("REALNAME_URL", ""), "https URL of the hospital's real-name gateway (docs/operations.md); empty: none, the desk verifies names with the card")
	fs.StringVar(&r.secretFile, "realname-secret-file", e.Str("REALNAME_SECRET_FILE", ""), "file holding the secret shared with the real-name gateway, which signs each request (required with --realname-url; never on the command line)")
	fs.Func("realname-secret", "refused: the gateway's secret is read from --realname-secret-file, never the command line", func(string) error {
		return errRealNameSecretFlag
	})
	fs.StringVar(&r.caFile, "realname-ca-file", e.Str("REALNAME_CA_FILE", ""), "PEM file of the CA that signed the gateway's certificate, when not a public one (empty: the system's roots)")
	fs.DurationVar(&r.timeout, "realname-timeout", e.Dur("REALNAME_TIMEOUT", 2*time.Second), "deadline of one real-name check; past it the name stays a claim for the desk")
	fs.IntVar(&r.maxInFlight, "realname-max-in-flight", e.Int("REALNAME_MAX_IN_FLIGHT", 16), "real-name checks in flight at once; a check that finds none free within the timeout stays a claim for the desk")
	fs.Int64Var(&r.budget, "realname-daily-budget", int64(e.Int("REALNAME_DAILY_BUDGET", 0)), "paid calls to the real-name gateway a day, all instances together (counted in Redis); past it a check stays a claim for the desk until midnight (0: no budget)")
	fs.StringVar(&r.budgetZone, "realname-budget-zone", e.Str("REALNAME_BUDGET_ZONE", "Asia/Shanghai"), "time zone of the real-name budget's day (the provider's billing day)")
}

// errRealNameSecretFlag is the answer to a --realname-secret on the command
// line.
var errRealNameSecretFlag = errors.New("a secret on the command line shows in process listings and /debug/pprof/cmdline: " +
	"put it in a file readable only by the service and pass --realname-secret-file")

// The bounds on the gateway's denials (booking.Config.RealNameGuard,
// RealNameAccountGuard; docs/security.md, "The real-name check as an
// oracle"). A person, or the family adding them, mistypes their name a few
// times at most; five denials a day per number leave room for that and
// hold a guesser to five names a day. An account's bound is met by staff
// (an operator who mishears callers): a patient account's claims are
// refused past three a day already (claimTiers).
var (
	realNameIDTiers      = []lockout.Tier{{Failures: 5, Window: 24 * time.Hour}}
	realNameAccountTiers = []lockout.Tier{{Failures: 20, Window: 24 * time.Hour}}
)

// validate checks the flags and reads the secret and the CA file: a secret
// file others may read is refused, as --secret-key-file's is.
func (r *realNameConfig) validate() error {
	if r.url == "" {
		if r.secretFile != "" || r.caFile != "" {
			return errors.New("--realname-secret-file and --realname-ca-file need --realname-url")
		}
		if r.budget != 0 {
			return errors.New("--realname-daily-budget needs --realname-url: without a gateway no call is paid for")
		}
		return nil
	}
	var errs []error
	if r.timeout <= 0 || r.timeout > 30*time.Second {
		errs = append(errs, fmt.Errorf("--realname-timeout (%s) must be above 0 and at most 30s: a patient waits for it", r.timeout))
	}
	if r.maxInFlight < 1 {
		errs = append(errs, fmt.Errorf("--realname-max-in-flight (%d) must be 1 or more", r.maxInFlight))
	}
	if r.budget < 0 {
		errs = append(errs, fmt.Errorf("--realname-daily-budget (%d) must be 0 (none) or more", r.budget))
	}
	if zone, err := time.LoadLocation(r.budgetZone); err != nil || r.budgetZone == "" {
		errs = append(errs, fmt.Errorf("--realname-budget-zone %q is not a time zone (e.g. Asia/Shanghai)", r.budgetZone))
	} else {
		r.zone = zone
	}
	if r.secretFile == "" {
		errs = append(errs, errors.New("--realname-url needs --realname-secret-file (FAIRSLOT_REALNAME_SECRET_FILE): the secret that signs each request"))
	} else if st, err := os.Stat(r.secretFile); err != nil {
		errs = append(errs, fmt.Errorf("--realname-secret-file: %w", err))
	} else if st.Mode().Perm()&0o007 != 0 {
		errs = append(errs, fmt.Errorf("--realname-secret-file %s can be read by any user (mode %v): chmod o-rwx it", r.secretFile, st.Mode().Perm()))
	} else if b, err := os.ReadFile(r.secretFile); err != nil {
		errs = append(errs, fmt.Errorf("--realname-secret-file: %w", err))
	} else {
		r.secret = []byte(strings.TrimSpace(string(b)))
	}
	if r.caFile != "" {
		pem, err := os.ReadFile(r.caFile)
		r.roots = x509.NewCertPool()
		if err != nil {
			errs = append(errs, fmt.Errorf("--realname-ca-file: %w", err))
		} else if !r.roots.AppendCertsFromPEM(pem) {
			errs = append(errs, fmt.Errorf("--realname-ca-file %s holds no PEM certificate", r.caFile))
		}
	}
	if len(errs) == 0 {
		// The URL's and the secret's own checks, without metrics.
		if _, err := realname.New(r.gatewayConfig(), nil, nil); err != nil {
			errs = append(errs, fmt.Errorf("--realname-url: %w", err))
		}
	}
	return errors.Join(errs...)
}

func (r *realNameConfig) gatewayConfig() realname.Config {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: r.roots, MinVersion: tls.VersionTLS12}
	tr.MaxIdleConnsPerHost = r.maxInFlight
	return realname.Config{URL: r.url, Secret: r.secret, Timeout: r.timeout, MaxInFlight: r.maxInFlight,
		Client: &http.Client{Transport: tr, Timeout: r.timeout}}
}

// verifier is the service's IdentityVerifier: the gateway's, its daily
// budget in the Redis the instances share, or DeskOnly.
func (r *realNameConfig) verifier(rdb redis.UniversalClient, prefix string, log *slog.Logger, reg prometheus.Registerer) (booking.IdentityVerifier, error) {
	if r.url == "" {
		return booking.DeskOnly{}, nil
	}
	cfg := r.gatewayConfig()
	if r.budget > 0 {
		cfg.Budget = realname.NewRedisBudget(rdb, prefix, r.budget, r.zone, nil)
	}
	return realname.New(cfg, log, reg)
}

// guards are the bounds on the gateway's denials, in the rate store the
// instances share; none without a gateway.
func (r *realNameConfig) guards(rdb redis.UniversalClient, prefix string, memory bool) (id, account booking.LoginGuard, err error) {
	switch {
	case r.url == "":
		return nil, nil, nil
	case memory:
		return lockout.New(memoryLimitStore(), realNameIDTiers), lockout.New(memoryLimitStore(), realNameAccountTiers), nil
	}
	if id, err = redisGuard(rdb, prefix, "realname-id", realNameIDTiers); err != nil {
		return nil, nil, err
	}
	account, err = redisGuard(rdb, prefix, "realname-acct", realNameAccountTiers)
	return id, account, err
}

// logAttrs are the gateway's settings as logged: its host, never the
// secret.
func (r *realNameConfig) logAttrs() []any {
	if r.url == "" {
		return []any{"realname", "desk_only"}
	}
	host := "[invalid]"
	if u, err := url.Parse(r.url); err == nil {
		host = u.Scheme + "://" + u.Host
	}
	return []any{"realname", host, "realname_secret", "[set]", "realname_timeout", r.timeout, "realname_max_in_flight", r.maxInFlight,
		"realname_daily_budget", r.budget, "realname_budget_zone", r.budgetZone}
}
