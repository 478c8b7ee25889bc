package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"sync"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// The API's own errors, besides the domain's (booking.Sentinel).
var (
	ErrRouteNotFound    = &booking.Error{Kind: booking.KindNotFound, Code: "route_not_found", Message: "no such route"}
	ErrMethodNotAllowed = &booking.Error{Kind: booking.KindInvalid, Code: "method_not_allowed", Message: "this route does not take that method"}
	ErrInvalidHeader    = &booking.Error{Kind: booking.KindInvalid, Code: "invalid_header", Message: "a header holds bytes the service does not accept"}
	ErrInternal         = &booking.Error{Kind: booking.KindInternal, Code: "internal", Message: "something went wrong on our side; the outcome is unknown, retry with the same Idempotency-Key"}
	// The answers to requests fasthttp could not read (ReadError).
	ErrBadRequest     = &booking.Error{Kind: booking.KindInvalid, Code: "invalid_request", Message: "the request could not be read as HTTP"}
	ErrHeaderTooLarge = &booking.Error{Kind: booking.KindInvalid, Code: "header_too_large", Message: "the request's headers are too large"}
	ErrReadTimeout    = &booking.Error{Kind: booking.KindInvalid, Code: "request_timeout", Message: "the request did not arrive in time"}
)

// PublicError splits err into what the client may see and whether the
// detail must be logged. Errors that are not *booking.Error are internal: the
// client gets a generic body, the log gets the detail, once.
func PublicError(err error) (*booking.Error, bool) {
	if e, ok := booking.Public(err); ok {
		// A 503 wraps its cause (a Redis or SQL failure): log it.
		return e, e.Kind == booking.KindUnavailable || e.Kind == booking.KindInternal
	}
	return ErrInternal, true
}

// writeError answers with the API's error shape.
func (s *Server) writeError(rc *fasthttp.RequestCtx, route string, err error) string {
	e, logIt := PublicError(err)
	if logIt {
		s.log.Error("request failed", "route", route, "method", string(rc.Method()), "code", e.Code, "err", err)
	}
	switch e.Kind {
	case booking.KindRateLimited:
		rc.Response.Header.Set("Retry-After", strconv.Itoa(retryAfter(err)))
	case booking.KindUnavailable:
		// Only where the service knows a repeat is sensible (a state
		// being rebuilt, an unknown outcome): a dependency that is down
		// gives no time to promise.
		if wait, ok := booking.RetryAfter(err); ok {
			rc.Response.Header.Set("Retry-After", strconv.Itoa(max(1, int(wait.Seconds()+0.999))))
		}
	}
	WriteErrorBody(rc, e)
	return e.Code
}

// WriteErrorBody answers with e's status and the API's error shape.
func WriteErrorBody(rc *fasthttp.RequestCtx, e *booking.Error) {
	if body, ok := sentinelBody(e); ok {
		rc.SetStatusCode(e.Kind.HTTPStatus())
		rc.SetContentType("application/json")
		_, _ = rc.Write(body)
		return
	}
	WriteJSON(rc, e.Kind.HTTPStatus(), errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, Field: e.Field, MadeByOtherAccount: e.MadeElsewhere, See: e.See}})
}

// sentinelBodies holds the encoded answer of each of the domain's
// sentinel errors (booking.Sentinel: fixed values, a few dozen), encoded
// once by WriteJSON's encoder: the refusals of the release minute
// (sold_out, not_released, rate_limited) are sentinels, and encoding
// their unchanging body again was two allocations and a reflective walk a
// refusal. An error made with its own message (booking.Errorf) is not a
// sentinel and is encoded as it comes.
var sentinelBodies sync.Map // *booking.Error → []byte

func sentinelBody(e *booking.Error) ([]byte, bool) {
	if b, ok := sentinelBodies.Load(e); ok {
		return b.([]byte), true
	}
	if s, ok := booking.Sentinel(e.Code); !ok || s != e {
		return nil, false
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(errorBody{Error: errorDetail{Code: e.Code, Message: e.Message}}); err != nil {
		return nil, false
	}
	sentinelBodies.Store(e, buf.Bytes())
	return buf.Bytes(), true
}

// ReadError is the answer to a request fasthttp could not read, and its
// status: headers too large (431), too slow (408), a body too large (400
// body_too_large, as a decoded body over the limit), anything malformed
// (400). The error fasthttp reports quotes the request's bytes, so it is
// never shown or logged.
func ReadError(err error) (*booking.Error, int) {
	var small *fasthttp.ErrSmallBuffer
	var netErr net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return booking.ErrBodyTooLarge, fasthttp.StatusBadRequest
	case errors.As(err, &small):
		return ErrHeaderTooLarge, fasthttp.StatusRequestHeaderFieldsTooLarge
	case errors.As(err, &netErr) && netErr.Timeout():
		return ErrReadTimeout, fasthttp.StatusRequestTimeout
	}
	return ErrBadRequest, fasthttp.StatusBadRequest
}

// WriteReadError answers a request fasthttp could not read (ReadError).
func WriteReadError(rc *fasthttp.RequestCtx, err error) {
	e, status := ReadError(err)
	// Not through the handler, which sets it on every other answer.
	rc.Response.Header.Set("Cache-Control", "no-store")
	WriteErrorBody(rc, e)
	rc.SetStatusCode(status)
}

// rateLimitError carries how long the client should wait.
type rateLimitError struct{ seconds int }

func (e *rateLimitError) Error() string { return booking.ErrRateLimited.Error() }
func (e *rateLimitError) Unwrap() error { return booking.ErrRateLimited }

func retryAfter(err error) int {
	var r *rateLimitError
	if errors.As(err, &r) && r.seconds > 0 {
		return r.seconds
	}
	var l *booking.LimitError
	if errors.As(err, &l) {
		return max(1, int(l.Wait.Seconds()+0.999))
	}
	return 1
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field is the member a refusal is about (booking.Error.Field), for a
	// client to mark; absent when the refusal is not about one field.
	Field string `json:"field,omitempty"`
	// MadeByOtherAccount and See: a refusal because of something another
	// account made for the person (booking.Error.MadeElsewhere).
	MadeByOtherAccount bool   `json:"made_by_other_account,omitempty"`
	See                string `json:"see,omitempty"`
}
