package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"
	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

func newTestServer(t *testing.T, cfg Config, store limiter.Store) *Server {
	t.Helper()
	if cfg.IPRate.Limit == 0 {
		cfg.IPRate = limiter.Rate{Limit: 1000, Period: 1e9}
	}
	if cfg.AccountRate.Limit == 0 {
		cfg.AccountRate = cfg.IPRate
	}
	if store == nil {
		store = memory.NewStore()
	}
	return New(cfg, nil, store, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// serveOne runs one request through the server's handler in memory.
func serveOne(s *Server, method, uri, remote string, body string, headers ...string) *fasthttp.Response {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(uri)
	req.SetBodyString(body)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	var rc fasthttp.RequestCtx
	addr, _ := net.ResolveTCPAddr("tcp", remote)
	rc.Init(&req, addr, nil)
	s.handle(&rc)
	var resp fasthttp.Response
	rc.Response.CopyTo(&resp)
	return &resp
}

func errorCode(t *testing.T, resp *fasthttp.Response) string {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(resp.Body(), &e); err != nil {
		t.Fatalf("error body %q: %v", resp.Body(), err)
	}
	return e.Error.Code
}

func TestRouteMatch(t *testing.T) {
	s := newTestServer(t, Config{}, nil)
	tests := []struct {
		method, path string
		template     string
		param        string
	}{
		{"GET", "/v1/hospitals", "/v1/hospitals", ""},
		{"GET", "/v1/hospitals/h1/sessions", "/v1/hospitals/{id}/sessions", "h1"},
		{"GET", "/v1/hospitals/h1/departments", "/v1/hospitals/{id}/departments", "h1"},
		{"DELETE", "/v1/bookings/b-9", "/v1/bookings/{id}", "b-9"},
		{"GET", "/v1/hospitals/h1/sessions/x", "", ""},
		{"GET", "/v1/hospitals//sessions", "", ""},
		{"GET", "/v1/bookings/", "", ""},
		{"GET", "/v1/bookingsx", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			var got, param string
			for _, rt := range s.routes {
				if p, ok := rt.match(tt.path); ok && rt.method == tt.method {
					got, param = rt.template, p
					break
				}
			}
			if got != tt.template || param != tt.param {
				t.Errorf("match = %q (param %q), want %q (param %q)", got, param, tt.template, tt.param)
			}
		})
	}
}

func TestOrigin(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	s := newTestServer(t, Config{TrustedProxies: proxies}, nil)
	tests := []struct {
		name   string
		remote string
		xff    string
		want   string
	}{
		{"direct client", "203.0.113.5:4000", "", "203.0.113.5"},
		{"untrusted peer cannot spoof", "203.0.113.5:4000", "1.2.3.4", "203.0.113.5"},
		{"trusted proxy: the hop it saw", "10.0.0.2:4000", "198.51.100.7", "198.51.100.7"},
		{"client-chosen leftmost entry is ignored", "10.0.0.2:4000", "1.2.3.4, 198.51.100.7", "198.51.100.7"},
		{"chain of trusted proxies", "10.0.0.2:4000", "198.51.100.7, 10.0.0.9", "198.51.100.7"},
		{"garbage from a trusted proxy", "10.0.0.2:4000", "not-an-ip", "10.0.0.2"},
		{"IPv4-mapped peer", "[::ffff:203.0.113.5]:4000", "", "203.0.113.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req fasthttp.Request
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			req.Header.Set("X-Device-Id", strings.Repeat("d", 100))
			var rc fasthttp.RequestCtx
			addr, err := net.ResolveTCPAddr("tcp", tt.remote)
			if err != nil {
				t.Fatal(err)
			}
			rc.Init(&req, addr, nil)
			o, _ := s.origin(&rc)
			if o.IP != tt.want {
				t.Errorf("ip = %q, want %q", o.IP, tt.want)
			}
			if len(o.DeviceID) != 64 {
				t.Errorf("device id length = %d, want it cut to 64", len(o.DeviceID))
			}
		})
	}
}

func TestDecode(t *testing.T) {
	type in struct {
		A string `json:"a"`
		N int    `json:"n"`
	}
	tests := []struct {
		body string
		code string
	}{
		{`{"a":"x","n":1}`, ""},
		{``, "invalid_json"},
		{`{"a":`, "invalid_json"},
		{`{"a":"x"} {"a":"y"}`, "invalid_json"},
		{`"just a string"`, "invalid_json"},
		{`{"a":1}`, "invalid_field"},
		{`{"b":1}`, "invalid_field"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			var req fasthttp.Request
			req.SetBodyString(tt.body)
			var rc fasthttp.RequestCtx
			rc.Init(&req, nil, nil)
			var v in
			err := decode(&rc, &v)
			got := ""
			if e, ok := booking.AsError(err); ok {
				got = e.Code
			} else if err != nil {
				t.Fatalf("decode returned a non-domain error %v", err)
			}
			if got != tt.code {
				t.Errorf("code = %q, want %q (%v)", got, tt.code, err)
			}
		})
	}
}

// TestDecodeRefusesEveryNonObjectAlike: a body that is JSON but not an
// object gets one answer, whatever the value. null was read as an object
// with no fields and refused for its first missing field ("session_id is
// required"), as if the client had sent an object.
func TestDecodeRefusesEveryNonObjectAlike(t *testing.T) {
	var req struct {
		SessionID string `json:"session_id"`
	}
	want, _ := booking.AsError(DecodeStrict([]byte(`[]`), &req))
	if want == nil || want.Code != "invalid_json" {
		t.Fatalf("[] = %v, want invalid_json", want)
	}
	for _, body := range []string{`null`, " null\n", `"x"`, `1`, `true`, `[{"session_id":"s"}]`} {
		got, ok := booking.AsError(DecodeStrict([]byte(body), &req))
		if !ok || got.Code != want.Code || got.Message != want.Message {
			t.Errorf("%q = %v, want %s %q as for []", body, got, want.Code, want.Message)
		}
	}
}

func TestPanicIsA500AndTheServerGoesOn(t *testing.T) {
	s := newTestServer(t, Config{}, nil)
	s.routes = append(s.routes, route{method: "GET", template: "/boom", prefix: "/boom", h: func(*request) error { panic("boom") }})
	resp := serveOne(s, "GET", "/boom", "127.0.0.1:1", "")
	if resp.StatusCode() != 500 || errorCode(t, resp) != "internal" {
		t.Errorf("panic answered %d %s, want 500 internal", resp.StatusCode(), resp.Body())
	}
	if strings.Contains(string(resp.Body()), "boom") {
		t.Errorf("the panic value leaked to the client: %s", resp.Body())
	}
	if resp := serveOne(s, "GET", "/healthz", "127.0.0.1:1", ""); resp.StatusCode() != 200 {
		t.Errorf("healthz after a panic = %d, want 200", resp.StatusCode())
	}
}

func TestRateLimit(t *testing.T) {
	s := newTestServer(t, Config{IPRate: limiter.Rate{Limit: 2, Period: 60e9}}, nil)
	for i := range 2 {
		if resp := serveOne(s, "GET", "/v1/nothing", "198.51.100.1:1", ""); resp.StatusCode() != 404 {
			t.Fatalf("request %d = %d, want 404 (not yet limited)", i, resp.StatusCode())
		}
	}
	resp := serveOne(s, "GET", "/v1/nothing", "198.51.100.1:1", "")
	if resp.StatusCode() != 429 || errorCode(t, resp) != "rate_limited" {
		t.Errorf("third request = %d %s, want 429 rate_limited", resp.StatusCode(), resp.Body())
	}
	if ra := string(resp.Header.Peek("Retry-After")); ra == "" || ra == "0" {
		t.Errorf("Retry-After = %q, want a positive number of seconds", ra)
	}
	if resp := serveOne(s, "GET", "/v1/nothing", "198.51.100.2:1", ""); resp.StatusCode() != 404 {
		t.Errorf("another IP = %d, want 404: limits are per IP", resp.StatusCode())
	}
}

// brokenStore is a limiter store whose backend is down.
type brokenStore struct{ limiter.Store }

func (brokenStore) Get(context.Context, string, limiter.Rate) (limiter.Context, error) {
	return limiter.Context{}, errors.New("connection refused")
}

func TestRateLimiterDownFailsOpen(t *testing.T) {
	s := newTestServer(t, Config{}, brokenStore{})
	if resp := serveOne(s, "GET", "/v1/nothing", "198.51.100.1:1", ""); resp.StatusCode() != 404 {
		t.Errorf("with the limiter down = %d, want the request let through (404)", resp.StatusCode())
	}
}

func TestBearer(t *testing.T) {
	tests := []struct {
		header string
		token  string
		ok     bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"Bearer ", "", false},
		{"Basic abc", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		tok, ok := Bearer([]byte(tt.header))
		if string(tok) != tt.token || ok != tt.ok {
			t.Errorf("Bearer(%q) = %q, %v; want %q, %v", tt.header, tok, ok, tt.token, tt.ok)
		}
	}
}

func TestStatusOfEveryKind(t *testing.T) {
	want := map[booking.Kind]int{
		booking.KindInternal: 500, booking.KindInvalid: 400, booking.KindUnauthenticated: 401,
		booking.KindForbidden: 403, booking.KindNotFound: 404, booking.KindConflict: 409,
		booking.KindRule: 422, booking.KindRateLimited: 429, booking.KindUnavailable: 503,
	}
	for k, status := range want {
		if got := k.HTTPStatus(); got != status {
			t.Errorf("kind %d status = %d, want %d", k, got, status)
		}
	}
}

// TestPublicErrorSaysWhatIsKnown: a write whose commit may or may not have
// happened is a 503 that says so, not a 500 that says nothing was booked.
func TestPublicErrorSaysWhatIsKnown(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		code    string
		message string
	}{
		{"outcome unknown", fmt.Errorf("cancel booking: %w: %w", booking.ErrOutcomeUnknown, io.ErrUnexpectedEOF),
			"outcome_unknown", "the outcome is unknown; retry with the same Idempotency-Key"},
		{"a bug", errors.New("syntax error at or near"), "internal", "the outcome is unknown"},
		{"a domain error", booking.ErrSoldOut, "sold_out", booking.ErrSoldOut.Message},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, logIt := PublicError(tt.err)
			if e.Code != tt.code || !strings.Contains(e.Message, tt.message) {
				t.Errorf("PublicError = %s %q, want %s with %q", e.Code, e.Message, tt.code, tt.message)
			}
			if want := tt.code != "sold_out"; logIt != want {
				t.Errorf("logged = %v, want %v", logIt, want)
			}
		})
	}
}

// TestDecodeCheckedNamesTheFirstMissingField: a body is read and then
// checked in one step, and a desk request refuses its identity's fields
// before its own, as the handlers did when each checked them by hand.
func TestDecodeCheckedNamesTheFirstMissingField(t *testing.T) {
	ident := `"id_type":"resident","id_number":"1","name":"n"`
	tests := []struct {
		name  string
		in    checker
		body  string
		field string // "" accepted
	}{
		{"phone booking, nothing", &phoneBookIn{}, `{}`, "id_type"},
		{"phone booking, no name", &phoneBookIn{}, `{"id_type":"resident","id_number":"1","session_id":"s"}`, "name"},
		{"phone booking, no caller", &phoneBookIn{}, `{` + ident + `,"session_id":"s"}`, "caller_phone"},
		{"phone booking, whole", &phoneBookIn{}, `{` + ident + `,"caller_phone":"1","session_id":"s"}`, ""},
		{"desk booking, no session", &deskBookIn{}, `{` + ident + `}`, "session_id"},
		{"verification, identity alone", &verifyIn{}, `{` + ident + `}`, ""},
		{"verification, no number", &verifyIn{}, `{"id_type":"resident","name":"n"}`, "id_number"},
		{"closing at the desk, promoted check", &struct{ resetCodeIn }{}, `{"id_type":"resident"}`, "id_number"},
		{"login move, no new phone", &moveLoginIn{}, `{` + ident + `}`, "new_phone"},
		{"link, document", &linkIn{}, `{"person":{` + ident + `},"document":{"id_type":"passport"}}`, "document.id_number"},
		{"lookup, id alone", &lookupIn{}, `{"id_type":"resident","id_number":"1"}`, ""},
		{"reissue, blank reason", &reissueIn{}, `{"booking_id":"b","reason":"  "}`, "reason"},
		{"login", &loginIn{}, `{"phone":"1"}`, "password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req fasthttp.Request
			req.SetBodyString(tt.body)
			var rc fasthttp.RequestCtx
			rc.Init(&req, nil, nil)
			err := decodeChecked(&rc, tt.in)
			got := ""
			if e, ok := booking.AsError(err); ok {
				if e.Code != booking.ErrInvalidField.Code {
					t.Fatalf("code = %q, want %q (%v)", e.Code, booking.ErrInvalidField.Code, err)
				}
				got = e.Field
			} else if err != nil {
				t.Fatalf("decodeChecked returned a non-domain error %v", err)
			}
			if got != tt.field {
				t.Errorf("missing field = %q, want %q (%v)", got, tt.field, err)
			}
		})
	}
}
