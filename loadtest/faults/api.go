package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"fairslot/internal/booking"
)

// api is the few calls that set a run up: staff log in, patients register.
type api struct {
	base string
	http *http.Client
}

func newAPI(base string) *api {
	return &api{base: base, http: &http.Client{Timeout: 30 * time.Second}}
}

func (a *api) call(ctx context.Context, method, path, token string, body, out any) error {
	raw, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (a *api) login(ctx context.Context, phone, password string) (string, error) {
	var tok struct {
		Token string `json:"token"`
	}
	err := a.call(ctx, "POST", "/v1/auth/login", "", map[string]string{"phone": phone, "password": password}, &tok)
	return tok.Token, err
}

// patient registers account n, logs in and adds its holder, person(n).
func (a *api) patient(ctx context.Context, n int) (Person, error) {
	p := person(n)
	phone := fmt.Sprintf("137%08d", n)
	creds := map[string]string{"phone": phone, "password": "password-" + phone}
	signUp := map[string]string{"phone": phone, "password": "password-" + phone, "privacy_consent": booking.PrivacyNoticeVersion}
	if err := a.call(ctx, "POST", "/v1/accounts", "", signUp, nil); err != nil {
		return p, err
	}
	var err error
	if p.Token, err = a.login(ctx, phone, creds["password"]); err != nil {
		return p, err
	}
	var pt struct {
		PatientID string `json:"patient_id"`
	}
	err = a.call(ctx, "POST", "/v1/patients", p.Token, map[string]any{
		"id_type": "resident_id", "id_number": p.IDNumber, "name": p.Name, "self": true,
		"privacy_consent": booking.PrivacyNoticeVersion}, &pt)
	p.PatientID = pt.PatientID
	return p, err
}
