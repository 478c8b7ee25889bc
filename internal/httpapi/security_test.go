package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// seriesCount counts the time series a registry exports.
func seriesCount(t *testing.T, reg *prometheus.Registry) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	n := 0
	for _, mf := range mfs {
		n += len(mf.GetMetric())
	}
	return n
}

// TestUnknownMethodsMakeNoSeries: the method label takes a fixed set of
// values, so a client inventing method names cannot grow the metrics
// without bound (the audit made 4,800 series with 300 requests).
func TestUnknownMethodsMakeNoSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	rate := limiter.Rate{Limit: 1_000_000, Period: 1e9}
	s := New(Config{IPRate: rate, AccountRate: rate}, nil, memory.NewStore(), reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, path := range []string{"/v1/hospitals", "/v1/nothing"} {
		serveOne(s, "FOO", path, "127.0.0.1:1", "")
	}
	before := seriesCount(t, reg)
	for i := range 300 {
		for _, path := range []string{"/v1/hospitals", "/v1/nothing"} {
			resp := serveOne(s, fmt.Sprintf("M%03d", i), path, "127.0.0.1:1", "")
			if resp.StatusCode() >= 500 {
				t.Fatalf("method M%03d %s = %d, want a 4xx", i, path, resp.StatusCode())
			}
		}
	}
	if after := seriesCount(t, reg); after != before {
		t.Errorf("300 invented methods grew the metrics from %d to %d series, want no growth", before, after)
	}
}

// captureStderr sends what the process writes to file descriptor 2 into a
// file until the returned function is called, which gives it back. fasthttp's
// default logger writes there, so this is where a leak would show.
func captureStderr(t *testing.T) func() string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Dup3(int(f.Fd()), 2, 0); err != nil {
		t.Fatal(err)
	}
	return func() string {
		_ = syscall.Dup3(saved, 2, 0)
		syscall.Close(saved)
		b, _ := os.ReadFile(f.Name())
		f.Close()
		return string(b)
	}
}

// TestMalformedRequestsLeakNothingToLogs sends requests fasthttp cannot
// parse, with a password, an ID number and a name in them, and checks that
// neither its log lines (through slog) nor standard error carry them, that
// something was logged, and that each is answered with a fitting 4xx.
func TestMalformedRequestsLeakNothingToLogs(t *testing.T) {
	const password, idNumber, name, token = "hunter2-password", "11010519491231002X", "张三", "tok.secretsignature"
	logs := &testenv.LogBuffer{}
	rate := limiter.Rate{Limit: 1_000_000, Period: 1e9}
	s := New(Config{IPRate: rate, AccountRate: rate}, nil, memory.NewStore(), nil, slog.New(slog.NewTextHandler(logs, nil)).With("component", "http"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Shutdown(context.Background())

	body := `{"phone":"13812345678","password":"` + password + `","id_number":"` + idNumber + `","name":"` + name + `"}`
	tests := []struct {
		name   string
		raw    string
		status int
		code   string
	}{
		{"control byte in a header name", "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nX-Pw\x01: " + password + "\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n" + body, 400, "invalid_request"},
		{"bad content length", "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\nContent-Length: x" + idNumber + "\r\n\r\n" + body, 400, "invalid_request"},
		{"garbage request line", "P\x00ST /v1/patients?n=" + idNumber + " HTTP/1.1\r\nHost: x\r\n\r\n", 400, "invalid_request"},
		{"header without a colon", "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\n" + name + " " + password + "\r\n\r\n", 400, "invalid_request"},
		{"headers too large", "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nX-Pw: " + password + strings.Repeat("a", 8000) + "\r\n\r\n", 431, "header_too_large"},
	}
	restore := captureStderr(t)
	answers := make([]string, len(tests))
	for i, tt := range tests {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			restore()
			t.Fatal(err)
		}
		_, _ = c.Write([]byte(tt.raw))
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(c)
		c.Close()
		answers[i] = string(b)
	}
	// fasthttp logs the malformed ones (not those too large) once the
	// connection is done: wait for its lines.
	const logged = 4
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(logs.String(), "error when serving connection") < logged && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	stderr := restore()

	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := answers[i]
			if want := fmt.Sprintf("HTTP/1.1 %d ", tt.status); !strings.HasPrefix(resp, want) || !strings.Contains(resp, `"code":"`+tt.code+`"`) {
				t.Errorf("answer = %q, want %d %s", resp, tt.status, tt.code)
			}
			// As every answer (review19a L5): the read-error path set none.
			if !strings.Contains(resp, "\r\nCache-Control: no-store\r\n") {
				t.Errorf("answer = %q, want Cache-Control: no-store", resp)
			}
		})
	}
	if n := strings.Count(logs.String(), "error when serving connection"); n < logged {
		t.Errorf("slog got %d fasthttp lines, want %d: fasthttp's log must go through slog\n%s", n, logged, logs)
	}
	// review18a L4: one component key a line (the logger already carries
	// the server's); a second one broke queries by component.
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if n := strings.Count(line, " component="); n > 1 {
			t.Errorf("a log line carries %d component keys, want 1: %s", n, line)
		}
	}
	for _, secret := range []string{password, idNumber, name, token, "secretsignature"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the service log holds %q:\n%s", secret, logs)
		}
		if strings.Contains(stderr, secret) {
			t.Errorf("standard error holds %q:\n%s", secret, stderr)
		}
	}
}

// TestDecodeRefusesAmbiguousBodies: what encoding/json would accept by
// guessing is refused, so what a client meant is never in doubt.
func TestDecodeRefusesAmbiguousBodies(t *testing.T) {
	tests := []struct {
		name, body, code string
	}{
		{"plain", `{"phone":"13812345678","password":"correct horse"}`, ""},
		{"duplicate key", `{"phone":"13812345678","password":"a-password","password":"b-password"}`, "invalid_field"},
		{"case-variant duplicate", `{"phone":"13812345678","password":"a-password","Password":"b-password"}`, "invalid_field"},
		{"case-variant key", `{"Phone":"13812345678","password":"correct horse"}`, "invalid_field"},
		{"invalid UTF-8 in a password", "{\"phone\":\"13812345678\",\"password\":\"correct \xff\xfe horse\"}", "invalid_json"},
		{"cut multibyte character", "{\"phone\":\"13812345678\",\"password\":\"correct horse\xe5\xbc\"}", "invalid_json"},
		{"lone surrogate escape", `{"phone":"13812345678","password":"correct \ud800 horse"}`, "invalid_field"},
		{"duplicate key in a nested object", `{"phone":{"a":1,"a":2},"password":"x"}`, "invalid_field"},
		{"unknown key", `{"phone":"1","pass":"x"}`, "invalid_field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in loginIn
			err := DecodeStrict([]byte(tt.body), &in)
			got := ""
			if e, ok := booking.AsError(err); ok {
				got = e.Code
			} else if err != nil {
				t.Fatalf("DecodeStrict returned a non-domain error %v", err)
			}
			if got != tt.code {
				t.Errorf("code = %q, want %q (%v)", got, tt.code, err)
			}
		})
	}
}

// FuzzDecodeStrict: any body is either refused with a domain error (a 4xx)
// or read into strings that are valid UTF-8, and the body had no key twice.
func FuzzDecodeStrict(f *testing.F) {
	for _, b := range []string{`{"phone":"13812345678","password":"correct horse"}`, `{"phone":"1","phone":"2"}`,
		"{\"password\":\"\xff\"}", `{"password":"\ud800"}`, `{"Phone":"x"}`, `[]`, ``, `{"phone":{"a":[1,{"b":2}]}}`} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in loginIn
		err := DecodeStrict(body, &in)
		if err != nil {
			e, ok := booking.AsError(err)
			if !ok || e.Kind != booking.KindInvalid {
				t.Fatalf("DecodeStrict(%q) = %v, want a 400 domain error", body, err)
			}
			return
		}
		for _, s := range []string{in.Phone, in.Password} {
			if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
				t.Fatalf("DecodeStrict(%q) accepted %q, not valid text", body, s)
			}
		}
	})
}

// TestBadBytesAreRefusedAtTheEdge: header values the service stores, and
// path parameters, that are not printable ASCII are answered 400 or 404
// before any handler runs (they gave 500 and 503 when they reached SQL).
func TestBadBytesAreRefusedAtTheEdge(t *testing.T) {
	s := newTestServer(t, Config{}, nil)
	tests := []struct {
		name, method, uri string
		headers           []string
		status            int
		code              string
	}{
		{"cut multibyte device id", "POST", "/v1/bookings", []string{"X-Device-Id", "dv-\xe5\xbc"}, 400, "invalid_header"},
		{"NUL in a device id", "GET", "/v1/bookings", []string{"X-Device-Id", "dv\x00"}, 400, "invalid_header"},
		{"cut multibyte idempotency key", "POST", "/v1/bookings", []string{"Idempotency-Key", "k-\xe5\xbc"}, 400, "invalid_header"},
		{"control character in an idempotency key", "POST", "/v1/patients", []string{"Idempotency-Key", "k\x7f"}, 400, "invalid_header"},
		{"idempotency key of 256 characters", "POST", "/v1/bookings", []string{"Idempotency-Key", strings.Repeat("k", 256)}, 400, "invalid_header"},
		{"idempotency key of 3,000 characters", "POST", "/v1/accounts", []string{"Idempotency-Key", strings.Repeat("k", 3000)}, 400, "invalid_header"},
		{"idempotency key of 3,000 characters on a read", "GET", "/v1/bookings", []string{"Idempotency-Key", strings.Repeat("k", 3000)}, 400, "invalid_header"},
		{"idempotency key of 255 characters", "POST", "/v1/bookings", []string{"Idempotency-Key", strings.Repeat("k", 255)}, 401, "unauthenticated"},
		{"invalid UTF-8 in a path id", "GET", "/v1/admin/flags/%ff", nil, 404, "route_not_found"},
		{"NUL in a path id", "DELETE", "/v1/bookings/a%00b", nil, 404, "route_not_found"},
		{"multibyte path id", "GET", "/v1/hospitals/%E5%8C%BB/sessions", nil, 404, "route_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := serveOne(s, tt.method, tt.uri, "127.0.0.1:1", "{}", tt.headers...)
			if resp.StatusCode() != tt.status || errorCode(t, resp) != tt.code {
				t.Errorf("%s %s = %d %s, want %d %s", tt.method, tt.uri, resp.StatusCode(), resp.Body(), tt.status, tt.code)
			}
		})
	}
}

// TestAnswersAreNotCachedAndHSTSBehindTLS: every API answer says no-store;
// one that reached us over TLS, through a trusted proxy that says so, also
// carries Strict-Transport-Security, and one over plain HTTP does not (a
// header a man in the middle could strip anyway, and that would pin a
// plain-HTTP development setup).
func TestAnswersAreNotCachedAndHSTSBehindTLS(t *testing.T) {
	s := newTestServer(t, Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, nil)
	tests := []struct {
		name, remote string
		headers      []string
		hsts         bool
	}{
		{"plain HTTP", "203.0.113.5:1", nil, false},
		{"a client claiming TLS", "203.0.113.5:1", []string{"X-Forwarded-Proto", "https"}, false},
		{"a trusted TLS proxy", "10.0.0.2:1", []string{"X-Forwarded-Proto", "https", "X-Forwarded-For", "203.0.113.5"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := serveOne(s, "GET", "/v1/nothing", tt.remote, "", tt.headers...)
			if got := string(resp.Header.Peek("Cache-Control")); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if got := string(resp.Header.Peek("Strict-Transport-Security")); (got != "") != tt.hsts {
				t.Errorf("Strict-Transport-Security = %q, want it set: %v", got, tt.hsts)
			}
		})
	}
}
