package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// start runs the real run on port 0 and returns its base URL; the server is
// stopped, and must stop cleanly, when the test ends.
func start(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"--http-addr", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("read start line: %v (run: %v)", err, <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "noop: ")
	if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("start line = %q, want %q", line, "noop: http://127.0.0.1:PORT")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run after SIGINT: %v, want nil", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("run did not stop")
		}
	})
	return base
}

func TestNoopAnswersSoldOut(t *testing.T) {
	base := start(t)
	tests := []struct {
		name, method, path, body string
	}{
		{"booking attempt", "POST", "/v1/bookings", `{"session_id":"x","patient_id":"y","channel":"online"}`},
		{"no body", "POST", "/v1/bookings", ""},
		{"any route", "GET", "/healthz", ""},
		{"not JSON", "PUT", "/anything?q=1", "<xml/>"},
	}
	client := &http.Client{Timeout: 5 * time.Second}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer whatever")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", tc.method, tc.path, err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusConflict {
				t.Errorf("status = %d, want 409", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if s := resp.Header.Get("Server"); s != "fairslot" {
				t.Errorf("Server = %q, want fairslot", s)
			}
			if want := `{"error":{"code":"sold_out","message":"no slot is left in this channel"}}` + "\n"; string(got) != want {
				t.Errorf("body = %q, want %q", got, want)
			}
		})
	}
}

// TestBodyIsFairslotsSoldOut keeps the fixed body equal to what fairslot's
// writeJSON makes of booking.ErrSoldOut, should its message ever change.
func TestBodyIsFairslotsSoldOut(t *testing.T) {
	type detail struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Error detail `json:"error"`
	}{detail{booking.ErrSoldOut.Code, booking.ErrSoldOut.Message}}); err != nil {
		t.Fatal(err)
	}
	if got, want := soldOutBody, buf.String(); got != want {
		t.Errorf("soldOutBody = %q, want fairslot's %q", got, want)
	}
}
