package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// bornOn is a valid resident ID number of a person born on day (n tells
// people apart).
func bornOn(day time.Time, n int) string {
	body := fmt.Sprintf("110105%s%03d", day.Format("20060102"), n%900+100)
	return body + string(identity.CheckDigit(body))
}

// TestPrivacyConsentIsRecorded (review21 H3): a sign-up and an added
// person carry the holder's consent to the privacy notice, by its version,
// and the service records it (version, time, who, how); without one, or to
// an outdated notice, they are refused with a stable code and nothing is
// made; a child under 14 (by the ID number's birth date, on the day) is
// added only with the holder's consent as parent or guardian, recorded so.
// An account with no consent on record (made before consents were
// recorded) is told at login, and agrees with POST /v1/me/privacy-consent.
func TestPrivacyConsentIsRecorded(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 5, 5)
	svc := startService(t, sch, nil)
	const phone, password = "13655550101", "a password 1"
	v := booking.PrivacyNoticeVersion

	for _, c := range []struct {
		name, consent, code string
	}{
		{"no consent", "", "privacy_consent_required"},
		{"an outdated notice", "2020-01-01", "privacy_notice_outdated"},
	} {
		r := svc.do("POST", "/v1/accounts", "", map[string]string{"phone": phone, "password": password, "privacy_consent": c.consent})
		if r.status != 422 || r.code != c.code || r.field != "privacy_consent" {
			t.Errorf("sign-up with %s: %d %s (field %q), want 422 %s on privacy_consent", c.name, r.status, r.code, r.field, c.code)
		}
	}
	if n := svc.count(`SELECT count(*) FROM accounts WHERE phone_masked = '136****0101'`); n != 0 {
		t.Fatalf("%d accounts made by refused sign-ups, want 0", n)
	}
	var acct struct {
		ID string `json:"account_id"`
	}
	before := time.Now().Add(-time.Second)
	r := svc.do("POST", "/v1/accounts", "", map[string]string{"phone": phone, "password": password, "privacy_consent": v})
	if r.status != 201 {
		t.Fatalf("sign-up with the consent: %d %s", r.status, r.body)
	}
	r.decode(t, &acct)
	var version, by, channel string
	var at time.Time
	testenv.Must(t, svc.pool.QueryRow(context.Background(), `SELECT notice_version, given_by, channel, given_at FROM privacy_consents
		 WHERE account_id = $1 AND patient_id IS NULL`, acct.ID).Scan(&version, &by, &channel, &at), "the sign-up's consent")
	if version != v || by != "holder" || channel != "online" || at.Before(before) || at.After(time.Now().Add(time.Second)) {
		t.Errorf("the sign-up's consent: %s by %s %s at %v; want %s by holder online, now", version, by, channel, at, v)
	}

	login := func() map[string]any {
		t.Helper()
		var out map[string]any
		r := svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": phone, "password": password})
		if r.status != 200 {
			t.Fatalf("login: %d %s", r.status, r.body)
		}
		r.decode(t, &out)
		return out
	}
	tok := login()
	if _, asked := tok["privacy_consent_needed"]; asked {
		t.Errorf("a new account's login asks for its consent again: %v", tok)
	}
	token := tok["token"].(string)

	today := time.Now().UTC().Add(8 * time.Hour) // the day in China
	adult := map[string]any{"id_type": "resident_id", "id_number": bornOn(today.AddDate(-40, 0, 0), 1), "name": "陈静", "self": true}
	child := map[string]any{"id_type": "resident_id", "id_number": bornOn(today.AddDate(-14, 0, 1), 2), "name": "陈一", "relationship": "child"}
	fourteen := map[string]any{"id_type": "resident_id", "id_number": bornOn(today.AddDate(-14, 0, 0), 3), "name": "陈二", "relationship": "child"}
	with := func(m map[string]any, kv ...any) map[string]any {
		c := map[string]any{}
		for k, x := range m {
			c[k] = x
		}
		for i := 0; i+1 < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return c
	}
	for _, c := range []struct {
		name  string
		body  map[string]any
		code  string
		field string
	}{
		{"an adult without consent", with(adult, "privacy_consent", ""), "privacy_consent_required", "privacy_consent"},
		{"an adult, an outdated notice", with(adult, "privacy_consent", "2020-01-01"), "privacy_notice_outdated", "privacy_consent"},
		{"a child of 13 without the guardian's consent", with(child, "privacy_consent", v), "guardian_consent_required", "guardian_consent"},
		{"a child of 13, the guardian's box without the notice", with(child, "privacy_consent", "", "guardian_consent", true), "privacy_consent_required", "privacy_consent"},
	} {
		r := svc.do("POST", "/v1/patients", token, c.body)
		if r.status != 422 || r.code != c.code || r.field != c.field {
			t.Errorf("add %s: %d %s (field %q), want 422 %s on %s", c.name, r.status, r.code, r.field, c.code, c.field)
		}
	}
	if n := svc.count(`SELECT count(*) FROM patients WHERE account_id = $1`, acct.ID); n != 0 {
		t.Fatalf("%d persons added by refused requests, want 0", n)
	}
	added := map[string]string{}
	for _, c := range []struct {
		name string
		body map[string]any
		by   string
	}{
		{"the holder", with(adult, "privacy_consent", v), "holder"},
		{"a child of 13, by a guardian", with(child, "privacy_consent", v, "guardian_consent", true), "guardian"},
		{"a child 14 today", with(fourteen, "privacy_consent", v), "holder"},
	} {
		r := svc.do("POST", "/v1/patients", token, c.body)
		if r.status != 201 {
			t.Fatalf("add %s: %d %s", c.name, r.status, r.body)
		}
		var pt struct {
			PatientID string `json:"patient_id"`
		}
		r.decode(t, &pt)
		added[c.name] = pt.PatientID
		var version, by, channel string
		testenv.Must(t, svc.pool.QueryRow(context.Background(), `SELECT c.notice_version, c.given_by, c.channel FROM privacy_consents c
			 JOIN patients p ON p.id = c.patient_id AND p.identity_id = c.identity_id WHERE c.account_id = $1 AND c.patient_id = $2`,
			acct.ID, pt.PatientID).Scan(&version, &by, &channel), "the consent for %s", c.name)
		if version != v || by != c.by || channel != "online" {
			t.Errorf("the consent for %s: %s by %s %s, want %s by %s online", c.name, version, by, channel, v, c.by)
		}
	}

	// An account made before consents were recorded: asked at its login.
	if _, err := svc.pool.Exec(context.Background(), `UPDATE accounts SET privacy_consent_version = NULL WHERE id = $1`, acct.ID); err != nil {
		t.Fatal(err)
	}
	tok = login()
	if tok["privacy_consent_needed"] != true || tok["privacy_notice_version"] != v {
		t.Fatalf("an account with no consent on record logged in with %v, want privacy_consent_needed and the version %s", tok, v)
	}
	token = tok["token"].(string)
	if r := svc.do("POST", "/v1/me/privacy-consent", token, map[string]string{"privacy_consent": "2020-01-01"}); r.status != 422 || r.code != "privacy_notice_outdated" {
		t.Errorf("agree to an outdated notice: %d %s, want 422 privacy_notice_outdated", r.status, r.code)
	}
	r = svc.do("POST", "/v1/me/privacy-consent", token, map[string]string{"privacy_consent": v})
	var got struct {
		Version string `json:"notice_version"`
		By      string `json:"given_by"`
		Channel string `json:"channel"`
		At      string `json:"given_at"`
	}
	if r.status != 201 {
		t.Fatalf("agree: %d %s", r.status, r.body)
	}
	r.decode(t, &got)
	if got.Version != v || got.By != "holder" || got.Channel != "online" || got.At == "" {
		t.Errorf("agree answered %+v", got)
	}
	if tok := login(); tok["privacy_consent_needed"] != nil {
		t.Errorf("asked again after agreeing: %v", tok)
	}
	if n := svc.count(`SELECT count(*) FROM privacy_consents WHERE account_id = $1 AND patient_id IS NULL`, acct.ID); n != 2 {
		t.Errorf("%d account consents, want 2 (the sign-up's and the later one: a consent row is never overwritten)", n)
	}
	// Staff are not asked: the notice is the patients'.
	admin := svc.staffLoginAt(booking.RoleAdmin, 5101, "")
	if r := svc.do("POST", "/v1/me/privacy-consent", admin, map[string]string{"privacy_consent": v}); r.status != 403 {
		t.Errorf("a staff account's consent: %d, want 403", r.status)
	}
}
