package testenv

import (
	"context"
	"net/url"
	"testing"
	"time"

	"fairslot/internal/cockroach"
)

// ServiceLogin is the database login the service runs as in the tests, as
// `make run` runs it: a member of cockroach.ServiceRole (migration
// 0005_roles), which may not rewrite the audit log. The owner (the URL
// `make test` gives) runs the migrations and grants it.
const ServiceLogin = "fairslot_app"

// ServiceURL is ownerURL with the service login as its user. Locally both
// logins share the owner's password, if it has one: GrantServiceLogin sets
// it.
func ServiceURL(t testing.TB, ownerURL string) string {
	t.Helper()
	u, err := url.Parse(ownerURL)
	if err != nil {
		t.Fatalf("parse database url: %v", err)
	}
	if pw, ok := u.User.Password(); ok {
		u.User = url.UserPassword(ServiceLogin, pw)
	} else {
		u.User = url.User(ServiceLogin)
	}
	return u.String()
}

// GrantService makes ServiceLogin a login of the service role on the server
// of ownerURL, with the owner's password (if any).
func GrantService(t testing.TB, owner *cockroach.DB, ownerURL string) {
	t.Helper()
	u, err := url.Parse(ownerURL)
	if err != nil {
		t.Fatalf("parse database url: %v", err)
	}
	pw, _ := u.User.Password()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	Must(t, owner.GrantServiceLogin(ctx, ServiceLogin, pw), "grant the service login")
}

// ServiceDBs returns a migrated database of this test's own twice: as its
// owner, for a test's own reads and writes, and as the service login, for
// the store the service uses.
func ServiceDBs(t testing.TB) (owner, service *cockroach.DB) {
	t.Helper()
	ownerURL := DatabaseURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	owner, err := cockroach.Open(ctx, ownerURL, nil)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(owner.Close)
	if _, err := owner.Migrate(ctx); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	GrantService(t, owner, ownerURL)
	service, err = cockroach.Open(ctx, ServiceURL(t, ownerURL), nil)
	if err != nil {
		t.Fatalf("open test database as %s: %v", ServiceLogin, err)
	}
	t.Cleanup(service.Close)
	return owner, service
}
