package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/auth"
	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/httpapi"
)

// The limits of fairslot's API server (httpapi.Config defaults).
const (
	requestTimeout = 5 * time.Second
	maxBodyBytes   = 64 << 10
)

var errInternal = &booking.Error{Kind: booking.KindInternal, Code: "internal", Message: "something went wrong on our side; nothing was booked"}

// server is the baseline's HTTP API: POST /v1/bookings only.
//
// It leaves out what fairslot's API does around a booking besides the
// booking itself: no rate limits (fairslot asks Redis for two counters per
// request), no Prometheus metrics, no blocked-account check, no
// Idempotency-Key, no bars and no per-day, week or month quotas (fairslot's
// admission script checks them). Each omission makes the baseline faster,
// not slower, so the comparison errs in the baseline's favour.
type server struct {
	db       *cockroach.DB
	signer   *auth.Signer
	q        queries
	iso      isolation
	precheck bool
	log      *slog.Logger
	srv      *fasthttp.Server
	zones    sync.Map // time zone name → *time.Location
	base     context.Context
	stop     context.CancelFunc
}

func newServer(db *cockroach.DB, signer *auth.Signer, iso isolation, precheck bool, log *slog.Logger) (*server, error) {
	q, err := loadQueries()
	if err != nil {
		return nil, err
	}
	base, stop := context.WithCancel(context.Background())
	s := &server{db: db, signer: signer, q: q, iso: iso, precheck: precheck, log: log, base: base, stop: stop}
	// internal/httpapi's own server: the same HTTP layer.
	s.srv = httpapi.NewFastHTTPServer(s.handle, s.connError, maxBodyBytes)
	return s, nil
}

// Serve accepts connections on ln until Shutdown.
func (s *server) Serve(ln net.Listener) error { return s.srv.Serve(ln) }

// Shutdown stops accepting, lets in-flight requests finish until ctx ends,
// then cancels whatever is still running.
func (s *server) Shutdown(ctx context.Context) error {
	err := s.srv.ShutdownWithContext(ctx)
	s.stop()
	return err
}

func (s *server) handle(rc *fasthttp.RequestCtx) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic in handler", "panic", v, "stack", string(debug.Stack()))
			rc.ResetBody()
			s.writeError(rc, errInternal)
		}
	}()
	if string(rc.Path()) != "/v1/bookings" {
		s.writeError(rc, &booking.Error{Kind: booking.KindNotFound, Code: "route_not_found", Message: "no such route"})
		return
	}
	if !rc.IsPost() {
		s.writeError(rc, &booking.Error{Kind: booking.KindInvalid, Code: "method_not_allowed", Message: "this route does not take that method"})
		rc.SetStatusCode(fasthttp.StatusMethodNotAllowed)
		return
	}
	ctx, cancel := context.WithTimeout(s.base, requestTimeout)
	defer cancel()
	c, err := s.serveBook(ctx, rc)
	if err != nil {
		s.writeError(rc, err)
		return
	}
	writeJSON(rc, fasthttp.StatusCreated, view(c))
}

type bookIn struct {
	SessionID string `json:"session_id"`
	PatientID string `json:"patient_id"`
	Channel   string `json:"channel"`
}

// serveBook checks what fairslot's handler and Service.Book check before
// any I/O, in the same order, then books. Everything it keeps is copied out
// of rc, which fasthttp reuses.
func (s *server) serveBook(ctx context.Context, rc *fasthttp.RequestCtx) (committed, error) {
	tok, ok := bearer(rc.Request.Header.Peek("Authorization"))
	if !ok {
		return committed{}, booking.ErrUnauthenticated
	}
	claims, err := s.signer.Verify(tok, time.Now())
	switch {
	case errors.Is(err, auth.ErrExpiredToken):
		return committed{}, booking.ErrTokenExpired
	case err != nil:
		return committed{}, booking.ErrInvalidToken
	}
	var in bookIn
	if err := decode(rc.PostBody(), &in); err != nil {
		return committed{}, err
	}
	if err := required("session_id", in.SessionID, "patient_id", in.PatientID); err != nil {
		return committed{}, err
	}
	ch := booking.ChannelOnline
	if in.Channel != "" {
		if ch, err = booking.ParseChannel(in.Channel); err != nil {
			return committed{}, err
		}
	}
	if booking.Role(claims.Role) != booking.RolePatient || ch != booking.ChannelOnline {
		return committed{}, booking.ErrChannelForbidden
	}
	// Ids reach SQL as UUIDs: a malformed one is a 404, not a driver error.
	if !booking.IsUUID(in.SessionID) {
		return committed{}, booking.ErrSessionNotFound
	}
	if !booking.IsUUID(in.PatientID) {
		return committed{}, booking.ErrPatientNotFound
	}
	return s.book(ctx, attempt{
		accountID: claims.AccountID, sessionID: in.SessionID, patientID: in.PatientID,
		channel: ch, origin: origin(rc),
	})
}

func bearer(h []byte) ([]byte, bool) {
	const p = "Bearer "
	if len(h) <= len(p) || !strings.EqualFold(string(h[:len(p)]), p) {
		return nil, false
	}
	return h[len(p):], true
}

// origin is the peer address (the baseline trusts no proxy, as fairslot
// without --trusted-proxies) and the client's X-Device-Id.
func origin(rc *fasthttp.RequestCtx) booking.Origin {
	peer, _ := netip.AddrFromSlice(rc.RemoteIP())
	o := booking.Origin{IP: peer.Unmap().String()}
	if d := rc.Request.Header.Peek("X-Device-Id"); len(d) > 0 {
		o.DeviceID = string(d[:min(len(d), 64)])
	}
	return o
}

// zone returns the named location, loaded once.
func (s *server) zone(name string) *time.Location {
	if l, ok := s.zones.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = time.UTC
	}
	s.zones.Store(name, l)
	return l
}

// bookingOut is fairslot's Booking answer (internal/httpapi/views.go).
type bookingOut struct {
	ID           string `json:"booking_id"`
	SessionID    string `json:"session_id"`
	PatientID    string `json:"patient_id,omitempty"`
	HospitalID   string `json:"hospital_id"`
	DepartmentID string `json:"department_id"`
	DoctorID     string `json:"doctor_id"`
	VisitDate    string `json:"visit_date"`
	SlotNo       int    `json:"slot_no"`
	SlotStart    string `json:"slot_start"`
	SlotEnd      string `json:"slot_end"`
	Channel      string `json:"channel"`
	Status       string `json:"status"`
	CreatedAt    string `json:"created_at"`
}

func view(c committed) bookingOut {
	return bookingOut{
		ID: c.id, SessionID: c.sessionID, PatientID: c.patientID, HospitalID: c.hospitalID,
		DepartmentID: c.departmentID, DoctorID: c.doctorID, VisitDate: c.visitDate, SlotNo: c.slotNo,
		SlotStart: c.slotStart.In(c.loc).Format(time.RFC3339), SlotEnd: c.slotEnd.In(c.loc).Format(time.RFC3339),
		Channel: string(c.channel), Status: string(booking.StatusConfirmed),
		CreatedAt: c.createdAt.In(c.loc).Format(time.RFC3339Nano),
	}
}

// decode reads one JSON object into v by the API's own rules.
func decode(body []byte, v any) error { return httpapi.DecodeStrict(body, v) }

// required checks that string fields are present; names are JSON names.
func required(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if strings.TrimSpace(fields[i+1]) == "" {
			return booking.Errorf(booking.ErrInvalidField, "field %q is required", fields[i])
		}
	}
	return nil
}

// connError answers requests fasthttp could not read (too large, timeout).
func (s *server) connError(rc *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		s.writeError(rc, booking.ErrBodyTooLarge)
		return
	}
	s.writeError(rc, booking.Errorf(booking.ErrInvalidJSON, "the request could not be read"))
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError answers with fairslot's error shape and status table. What is
// not a *booking.Error is a 500 with a generic body; it and 503s are logged.
func (s *server) writeError(rc *fasthttp.RequestCtx, err error) {
	e, ok := booking.AsError(err)
	if !ok {
		e = errInternal
	}
	if !ok || e.Kind == booking.KindUnavailable || e.Kind == booking.KindInternal {
		s.log.Error("request failed", "code", e.Code, "err", err)
	}
	writeJSON(rc, e.Kind.HTTPStatus(), errorBody{Error: errorDetail{Code: e.Code, Message: e.Message}})
}

// writeJSON answers with v as JSON, as httpapi's writeJSON.
func writeJSON(rc *fasthttp.RequestCtx, status int, v any) {
	rc.SetStatusCode(status)
	rc.SetContentType("application/json")
	enc := json.NewEncoder(rc)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // writing to the in-memory body cannot fail
}
