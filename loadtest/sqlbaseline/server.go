package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
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
	defaultRequestTimeout = 5 * time.Second
	maxBodyBytes          = 64 << 10
)

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
	timeout  time.Duration // each request's, as fairslot's --request-timeout
	log      *slog.Logger
	srv      *fasthttp.Server
	zones    sync.Map // time zone name → *time.Location
	base     context.Context
	stop     context.CancelFunc
}

func newServer(db *cockroach.DB, signer *auth.Signer, iso isolation, precheck bool, timeout time.Duration, log *slog.Logger) (*server, error) {
	q, err := loadQueries()
	if err != nil {
		return nil, err
	}
	base, stop := context.WithCancel(context.Background())
	s := &server{db: db, signer: signer, q: q, iso: iso, precheck: precheck, timeout: timeout, log: log, base: base, stop: stop}
	// internal/httpapi's own server: the same HTTP layer.
	s.srv = httpapi.NewFastHTTPServer(s.handle, s.connError, maxBodyBytes, log)
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
			s.writeError(rc, httpapi.ErrInternal)
		}
	}()
	if string(rc.Path()) != "/v1/bookings" {
		s.writeError(rc, httpapi.ErrRouteNotFound)
		return
	}
	if !rc.IsPost() {
		s.writeError(rc, httpapi.ErrMethodNotAllowed)
		rc.SetStatusCode(fasthttp.StatusMethodNotAllowed)
		return
	}
	ctx, cancel := context.WithTimeout(s.base, s.timeout)
	defer cancel()
	c, err := s.serveBook(ctx, rc)
	if err != nil {
		s.writeError(rc, err)
		return
	}
	httpapi.WriteJSON(rc, fasthttp.StatusCreated, httpapi.BookingView(c.Booking, c.loc))
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
	tok, ok := httpapi.Bearer(rc.Request.Header.Peek("Authorization"))
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
	if err := httpapi.DecodeStrict(rc.PostBody(), &in); err != nil {
		return committed{}, err
	}
	if err := httpapi.Required("session_id", in.SessionID, "patient_id", in.PatientID); err != nil {
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

// connError answers requests fasthttp could not read (too large, timeout).
func (s *server) connError(rc *fasthttp.RequestCtx, err error) {
	httpapi.WriteReadError(rc, err)
}

// writeError answers with fairslot's error shape and status table; what
// fairslot logs (500s, 503s), it logs.
func (s *server) writeError(rc *fasthttp.RequestCtx, err error) {
	e, logIt := httpapi.PublicError(err)
	if logIt {
		s.log.Error("request failed", "code", e.Code, "err", err)
	}
	httpapi.WriteErrorBody(rc, e)
}
