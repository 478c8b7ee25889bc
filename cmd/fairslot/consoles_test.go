package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// TestServeMountsConsoles checks that `fairslot serve` answers the API's
// paths with the API and every other path with the web consoles, on one
// address.
func TestServeMountsConsoles(t *testing.T) {
	svc := startService(t, schedule(t, time.Now().Add(-time.Minute), 3), nil)

	for _, tc := range []struct {
		path, contentType, body string
		status                  int
	}{
		{"/", "text/html", `href="/patient"`, 200},
		{"/patient/login", "text/html", `name="csrf"`, 200},
		{"/no/such/page", "text/html", "page_not_found", 404},
		{"/healthz", "application/json", `"ok"`, 200},
		{"/v1/hospitals", "application/json", `"hospital_id"`, 200},
		{"/v1/no/such/route", "application/json", "route_not_found", 404},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := svc.client.Get(svc.base + tc.path)
			if err != nil {
				t.Fatalf("GET %s: %v", tc.path, err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
				t.Errorf("Content-Type = %q, want %s", ct, tc.contentType)
			}
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.body) {
				t.Errorf("got %d %.200s, want %d with %s", resp.StatusCode, body, tc.status, tc.body)
			}
		})
	}
}
