package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestExportTellsEventsReviewsAndConsents (review21 M6): the copy of
// one's data (GET /v1/me/export) lists the account's own acts with the
// address and device its requests came from, the scalper reviews that name
// the account or a person on its list (status, dates, the kinds of
// evidence; no other account or person of the group), the cause of a
// block beside its date, and the consents to the privacy notice.
func TestExportTellsEventsReviewsAndConsents(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 5, 5)
	svc := startService(t, sch, nil)
	ctx := context.Background()
	alice, dan := svc.newPatient(6101), svc.newPatient(6102)
	const device = "alice-phone-61"
	creds := map[string]string{"phone": alice.phone, "password": "password-" + alice.phone}
	if r := svc.do("POST", "/v1/auth/login", "", creds, "X-Device-Id", device); r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/bookings", alice.token, map[string]string{"session_id": sch.Sessions[0].ID, "patient_id": alice.patientID},
		"X-Device-Id", device); r.status != 201 {
		t.Fatalf("book: %d %s", r.status, r.body)
	}
	var aliceAccount, aliceIdentity, danAccount, danIdentity string
	testenv.Must(t, svc.pool.QueryRow(ctx, `SELECT account_id::TEXT, identity_id::TEXT FROM patients WHERE id = $1`, alice.patientID).Scan(&aliceAccount, &aliceIdentity), "alice")
	testenv.Must(t, svc.pool.QueryRow(ctx, `SELECT account_id::TEXT, identity_id::TEXT FROM patients WHERE id = $1`, dan.patientID).Scan(&danAccount, &danIdentity), "dan")
	// Dan's group names Alice's self (he listed her); a confirmed one
	// barred her; another flag is Dan's alone.
	_, err := svc.pool.Exec(ctx, `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at, decided_at)
		VALUES ('flg_m6_names_alice', 2.5, 'confirmed', '[{"signal":"burst","kind":"pace","detail":"4 bookings in 2 s","points":1.5},{"signal":"device_churn","kind":"devices","detail":"8 devices","points":1}]',
		        to_jsonb(ARRAY[$1::TEXT]), to_jsonb(ARRAY[$2::TEXT, $3::TEXT]), now() - interval '1 day', now(), now()),
		       ('flg_m6_dan_only', 2, 'open', '[{"signal":"burst","kind":"pace","detail":"x","points":2}]',
		        to_jsonb(ARRAY[$1::TEXT]), to_jsonb(ARRAY[$3::TEXT]), now(), now(), NULL)`, danAccount, aliceIdentity, danIdentity)
	testenv.Must(t, err, "write the flags")
	_, err = svc.pool.Exec(ctx, `INSERT INTO identity_blocks (flag_id, identity_id, until) VALUES ('flg_m6_names_alice', $1, now() + interval '365 days')`, aliceIdentity)
	testenv.Must(t, err, "bar alice")

	r := svc.do("GET", "/v1/me/export", alice.token, nil)
	if r.status != 200 {
		t.Fatalf("export: %d %s", r.status, r.body)
	}
	var x struct {
		Records []struct {
			PatientID    string `json:"patient_id"`
			BlockedUntil string `json:"blocked_until"`
			BlockedCause string `json:"blocked_cause"`
		} `json:"no_show_records"`
		Consents []struct {
			Version   string `json:"notice_version"`
			By        string `json:"given_by"`
			PatientID string `json:"patient_id"`
		} `json:"consents"`
		Events []struct {
			Type, IP string
			Device   string `json:"device_id"`
		} `json:"events"`
		Reviews []struct {
			Status       string   `json:"status"`
			NamesAccount bool     `json:"names_account"`
			PatientIDs   []string `json:"patient_ids"`
			Kinds        []string `json:"kinds"`
			DecidedAt    string   `json:"decided_at"`
			Appeal       string   `json:"appeal"`
		} `json:"reviews"`
	}
	r.decode(t, &x)

	if len(x.Records) != 1 || x.Records[0].BlockedUntil == "" || !strings.HasPrefix(x.Records[0].BlockedCause, "review") {
		t.Errorf("no-show records = %+v, want alice's block with its cause, a review", x.Records)
	}
	if len(x.Consents) != 2 || x.Consents[0].Version != booking.PrivacyNoticeVersion || x.Consents[0].PatientID != "" ||
		x.Consents[1].PatientID != alice.patientID || x.Consents[1].By != "holder" {
		t.Errorf("consents = %+v, want the sign-up's and her self's", x.Consents)
	}
	var sawLogin, sawBooking bool
	for _, e := range x.Events {
		switch {
		case e.Type == "login" && e.IP == "127.0.0.1" && e.Device == device:
			sawLogin = true
		case e.Type == "booked" && e.Device == device:
			sawBooking = true
		}
	}
	if !sawLogin || !sawBooking {
		t.Errorf("events = %+v; want her login and booking from %s at 127.0.0.1", x.Events, device)
	}
	if len(x.Reviews) != 1 {
		t.Fatalf("reviews = %+v, want the one that names her self", x.Reviews)
	}
	rv := x.Reviews[0]
	if rv.Status != "confirmed" || rv.NamesAccount || len(rv.PatientIDs) != 1 || rv.PatientIDs[0] != alice.patientID ||
		strings.Join(rv.Kinds, ",") != "pace,devices" || rv.DecidedAt == "" || rv.Appeal == "" {
		t.Errorf("review = %+v, want confirmed, her self only, kinds pace and devices, decided, how to contest", rv)
	}
	for _, other := range []string{danAccount, danIdentity, dan.patientID, "flg_m6", "4 bookings in 2 s"} {
		if strings.Contains(string(r.body), other) {
			t.Errorf("the export names %q, of the flag's other members or its details", other)
		}
	}
}
