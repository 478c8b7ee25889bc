package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestStaffTimesInTheHospitalsZone: the times staff read carry the
// hospital's offset (+08:00 here), as every session and booking time does,
// not UTC's "Z" (review15 L7): a login's expires_at (a hospital's staff in
// their hospital's zone, a patient or a platform administrator in the
// stand-in zone), the admin flags' created_at, the platform's account
// policy, and `fairslot lottery entries`. The service runs with the machine's zone, UTC here.
func TestStaffTimesInTheHospitalsZone(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 2)
	lot := accessLottery(t, &sch)
	svc := startService(t, sch, nil)
	offset := func(what, ts string) {
		t.Helper()
		if _, err := time.Parse(time.RFC3339, ts); err != nil || !strings.HasSuffix(ts, "+08:00") {
			t.Errorf("%s = %q; want RFC 3339 with the hospital's +08:00", what, ts)
		}
	}

	login := func(phone, password string) string {
		t.Helper()
		var tok struct {
			ExpiresAt string `json:"expires_at"`
		}
		svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": phone, "password": password}).decode(t, &tok)
		return tok.ExpiresAt
	}
	p := svc.newPatient(4701)
	offset("a patient's login expires_at", login(p.phone, "password-"+p.phone))
	svc.staffLoginAt(booking.RoleClerk, 4702, sch.Hospitals[0].ID)
	offset("a clerk's login expires_at", login("13500004702", "staff-password-1"))
	admin := svc.staffLoginAt(booking.RoleAdmin, 4703, "")
	offset("a platform administrator's login expires_at", login("13500004703", "staff-password-1"))

	_, err := svc.pool.Exec(context.Background(), `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at)
		VALUES ('flg_zone', 3, 'open', '[]', '[]', '[]', now(), now())`)
	testenv.Must(t, err, "write a flag")
	var flags []struct {
		ID        string `json:"flag_id"`
		CreatedAt string `json:"created_at"`
	}
	svc.do("GET", "/v1/admin/flags", admin, nil).decode(t, &flags)
	if len(flags) != 1 || flags[0].ID != "flg_zone" {
		t.Fatalf("flags = %+v, want flg_zone", flags)
	}
	offset("GET /v1/admin/flags created_at", flags[0].CreatedAt)
	var one struct {
		CreatedAt string `json:"created_at"`
	}
	svc.do("GET", "/v1/admin/flags/flg_zone", admin, nil).decode(t, &one)
	offset("GET /v1/admin/flags/{id} created_at", one.CreatedAt)

	var policy struct {
		EffectiveFrom string `json:"effective_from"`
		SetAt         string `json:"set_at"`
	}
	svc.do("POST", "/v1/admin/account-policy", admin, map[string]any{"max_patients": 5, "max_accounts_on_phone": 3,
		"effective_from": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "reason": "the same, restated"}).decode(t, &policy)
	offset("the account policy's effective_from", policy.EffectiveFrom)
	offset("the account policy's set_at", policy.SetAt)

	var draws []struct {
		OpensAt string `json:"opens_at"`
		DrawAt  string `json:"draw_at"`
	}
	testenv.Must(t, json.Unmarshal([]byte(svc.run("lottery", "entries", "--session", lot.ID)), &draws), "decode lottery entries")
	if len(draws) != 1 {
		t.Fatalf("lottery entries wrote %d draws, want 1", len(draws))
	}
	offset("lottery entries opens_at", draws[0].OpensAt)
	offset("lottery entries draw_at", draws[0].DrawAt)
}
