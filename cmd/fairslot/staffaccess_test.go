package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// staffCmd runs `fairslot staff …` against svc, with extra environment.
func (s *service) staffCmd(env map[string]string, args ...string) (string, error) {
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"staff"}, args...), func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return s.env[k]
	}, &out, s.logs)
	return out.String(), err
}

// waitStatus polls path with token until it answers want (the serving
// instance learns a revocation within its poll, 1 s).
func (s *service) waitStatus(path, token string, want int) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := s.do("GET", path, token, nil)
		if r.status == want {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("GET %s 10 s on: %d %s, want %d", path, r.status, r.body, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestStaffListDisableEnable: an operator lists a hospital's staff from the
// command line (phones masked; --phone selects one), disables the account of
// one who left — every token ends, a login with the right password answers
// 403 account_disabled, audited staff_disabled — and enables it again
// (staff_enabled). Doing either twice, or to a patient, is refused with no
// audit row. review10b found no way but a random password.
func TestStaffListDisableEnable(t *testing.T) {
	svc := startService(t, schedule(t, time.Now().Add(-time.Minute), 1), nil)
	clerk := svc.staffLogin(booking.RoleClerk, 51)
	svc.staffLogin(booking.RoleOperator, 52)
	phone := "13500000051"
	alice := svc.newPatient(51)

	out, err := svc.staffCmd(nil, "list", "--hospital", svc.hospital)
	if err != nil {
		t.Fatalf("fairslot staff list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "LAST LOGIN") {
		t.Fatalf("fairslot staff list --hospital printed %q, want a header and two accounts", out)
	}
	if strings.Contains(out, phone) || !strings.Contains(out, "135****0051") || !strings.Contains(out, "135****0052") {
		t.Errorf("fairslot staff list printed %q, want both phones masked and neither in clear", out)
	}
	out, err = svc.staffCmd(nil, "list", "--phone", phone)
	if err != nil || strings.Count(strings.TrimSpace(out), "\n") != 1 || !strings.Contains(out, "clerk") || !strings.HasSuffix(strings.TrimSpace(out), "no") {
		t.Fatalf("fairslot staff list --phone = %q, %v; want the clerk alone, enabled", out, err)
	}
	if fields := strings.Fields(strings.Split(out, "\n")[1]); len(fields) < 8 || fields[6] == "-" {
		t.Errorf("fairslot staff list --phone row %q: want a last login (the clerk logged in)", fields)
	} else {
		// Created and last login in the hospital's zone (Asia/Shanghai) with
		// its offset, as the audit API shows times, not in UTC.
		for _, f := range fields[5:7] {
			at, err := time.Parse("2006-01-02T15:04-07:00", f)
			if _, off := at.Zone(); err != nil || off != 8*3600 || time.Since(at) > 10*time.Minute {
				t.Errorf("fairslot staff list --phone time %q: want a recent time at +08:00 (%v)", f, err)
			}
		}
	}

	if _, err := svc.staffCmd(nil, "disable", "--phone", alice.phone); err == nil || !strings.Contains(err.Error(), "patient") {
		t.Errorf("fairslot staff disable of a patient = %v, want refused", err)
	}
	if _, err := svc.staffCmd(nil, "enable", "--phone", phone); err == nil || !strings.Contains(err.Error(), "already enabled") {
		t.Errorf("fairslot staff enable of an enabled account = %v, want refused", err)
	}
	out, err = svc.staffCmd(nil, "disable", "--phone", phone)
	if err != nil || !strings.Contains(out, "disabled clerk account") {
		t.Fatalf("fairslot staff disable = %q, %v", out, err)
	}
	svc.waitStatus("/v1/bookings", clerk, 401)
	if r := svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": phone, "password": "staff-password-1"}); r.status != 403 || r.code != "account_disabled" {
		t.Errorf("login of the disabled clerk: %d %s, want 403 account_disabled", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": phone, "password": "wrong-password"}); r.status != 401 {
		t.Errorf("login of the disabled clerk with a wrong password: %d %s, want the plain 401", r.status, r.body)
	}
	if _, err := svc.staffCmd(nil, "disable", "--phone", phone); err == nil || !strings.Contains(err.Error(), "already disabled") {
		t.Errorf("fairslot staff disable twice = %v, want refused", err)
	}
	if out, _ := svc.staffCmd(nil, "list", "--phone", phone); strings.HasSuffix(strings.TrimSpace(out), " no") {
		t.Errorf("fairslot staff list of the disabled clerk = %q, want when it was disabled", out)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'staff_disabled' AND actor_role = 'cli' AND hospital_id = $1`, svc.hospital); n != 1 {
		t.Errorf("staff_disabled audit rows = %d, want 1", n)
	}

	if out, err := svc.staffCmd(nil, "enable", "--phone", phone); err != nil || !strings.Contains(out, "enabled clerk account") {
		t.Fatalf("fairslot staff enable = %q, %v", out, err)
	}
	var tok struct{ Token string }
	svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": phone, "password": "staff-password-1"}).decode(t, &tok)
	if r := svc.do("GET", "/v1/bookings", tok.Token, nil); tok.Token == "" || r.status != 200 {
		t.Errorf("the enabled clerk's new token: %d %s", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action IN ('staff_disabled', 'staff_enabled')`); n != 2 {
		t.Errorf("staff_disabled and staff_enabled audit rows = %d, want 2 (none for the refused)", n)
	}
}

// TestStaffChangesShareTheAuditTransaction: a staff password reset, a
// disable and an enable that cannot write their audit row change nothing
// (the reset's row followed its change before ops11: the password stood,
// unaudited). And a reset forgets the phone's failed logins: a clerk locked
// out by wrong passwords logs in with the new one at once.
func TestStaffChangesShareTheAuditTransaction(t *testing.T) {
	svc := startService(t, schedule(t, time.Now().Add(-time.Minute), 1), nil)
	clerk := svc.staffLogin(booking.RoleClerk, 53)
	phone := "13500000053"
	ctx := context.Background()
	for _, sql := range []string{
		`CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'the audit log refuses'; END $$ LANGUAGE plpgsql`,
		`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit()`,
	} {
		if _, err := svc.pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	pw := map[string]string{"FAIRSLOT_STAFF_PASSWORD": "unaudited-pass-1"}
	if _, err := svc.staffCmd(pw, "password", "--phone", phone); err == nil {
		t.Errorf("fairslot staff password with the audit log refusing = nil, want an error")
	}
	if _, err := svc.staffCmd(nil, "disable", "--phone", phone); err == nil {
		t.Errorf("fairslot staff disable with the audit log refusing = nil, want an error")
	}
	if n := svc.count(`SELECT count(*) FROM accounts WHERE disabled_at IS NOT NULL OR token_generation <> 0`); n != 0 {
		t.Errorf("%d accounts disabled or revoked by the unaudited changes, want 0", n)
	}
	time.Sleep(1500 * time.Millisecond) // a revocation poll and a half: none may come
	if r := svc.do("GET", "/v1/bookings", clerk, nil); r.status != 200 {
		t.Errorf("the clerk's token after the unaudited changes: %d %s, want 200", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": phone, "password": "staff-password-1"}); r.status != 200 {
		t.Errorf("login with the old password after the unaudited reset: %d %s, want 200", r.status, r.body)
	}
	if _, err := svc.pool.Exec(ctx, `DROP TRIGGER refuse_audit ON audit_log`); err != nil {
		t.Fatal(err)
	}

	// Locked out: five wrong passwords (serve's first tier, 5 in 15 min).
	for range 5 {
		svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": phone, "password": "wrong-password"})
	}
	if r := svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": phone, "password": "staff-password-1"}); r.status != 429 {
		t.Fatalf("login after five wrong passwords: %d %s, want 429", r.status, r.body)
	}
	if _, err := svc.staffCmd(pw, "password", "--phone", phone); err != nil {
		t.Fatalf("fairslot staff password: %v", err)
	}
	if r := svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": phone, "password": "unaudited-pass-1"}); r.status != 200 {
		t.Errorf("login with the new password right after the reset: %d %s, want 200 (the failures forgotten)", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'staff_password_reset'`); n != 1 {
		t.Errorf("staff_password_reset audit rows = %d, want 1", n)
	}
}
