package main

import (
	"crypto/rand"
	"encoding/base64"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fairslot/internal/testenv"
)

// TestTokenKeyOfItsOwn (review21b H4): with --token-key-file the login
// tokens are signed with a key of their own, so a token made with the
// master key's token key — what whoever holds a leaked master key can
// forge, and every token issued before — is refused, while the phone
// lookups and sealed values (the master key's) still work: the patient
// logs in with the same phone and password and sees their patient.
func TestTokenKeyOfItsOwn(t *testing.T) {
	s := startService(t, schedule(t, time.Now().Add(-time.Minute), 4), nil)
	p := s.newPatient(1)
	if r := s.do("GET", "/v1/patients", p.token, nil); r.status != 200 {
		t.Fatalf("before: GET /v1/patients %d %s", r.status, r.body)
	}

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	file := filepath.Join(t.TempDir(), "token.key")
	testenv.Must(t, os.WriteFile(file, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600), "write the token key")
	o := &service{t: t, logs: &testenv.LogBuffer{}, stdout: &testenv.LogBuffer{}, env: maps.Clone(s.env), pool: s.pool, hospital: s.hospital}
	o.env["FAIRSLOT_TOKEN_KEY_FILE"] = file
	o.serve()

	if r := o.do("GET", "/v1/patients", p.token, nil); r.status != 401 {
		t.Errorf("a token signed with the master key's token key: %d %s, want 401", r.status, r.body)
	}
	r := o.do("POST", "/v1/auth/login", "", map[string]string{"phone": p.phone, "password": "password-" + p.phone})
	var tok struct{ Token string }
	r.decode(t, &tok)
	if tok.Token == "" {
		t.Fatalf("login under the token key: %d %s", r.status, r.body)
	}
	if r := o.do("GET", "/v1/patients", tok.Token, nil); r.status != 200 || !strings.Contains(string(r.body), p.patientID) {
		t.Errorf("the new token: %d %s, want 200 with patient %s", r.status, r.body, p.patientID)
	}
	if r := s.do("GET", "/v1/patients", tok.Token, nil); r.status != 401 {
		t.Errorf("the new token on an instance without the token key: %d, want 401", r.status)
	}

	testenv.Must(t, os.Chmod(file, 0o644), "chmod")
	var out strings.Builder
	err := run(t.Context(), []string{"reconcile", "--check"}, o.getenv, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "--token-key-file") || !strings.Contains(err.Error(), "chmod o-rwx") {
		t.Errorf("a world-readable token key file: %v, want it refused", err)
	}
}
