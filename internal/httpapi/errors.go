package httpapi

import (
	"errors"
	"strconv"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// The API's own errors, besides the domain's (booking.Sentinel).
var (
	ErrRouteNotFound    = &booking.Error{Kind: booking.KindNotFound, Code: "route_not_found", Message: "no such route"}
	ErrMethodNotAllowed = &booking.Error{Kind: booking.KindInvalid, Code: "method_not_allowed", Message: "this route does not take that method"}
	ErrInternal         = &booking.Error{Kind: booking.KindInternal, Code: "internal", Message: "something went wrong on our side; the outcome is unknown, retry with the same Idempotency-Key"}
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
	if errors.Is(e, booking.ErrRateLimited) {
		rc.Response.Header.Set("Retry-After", strconv.Itoa(retryAfter(err)))
	}
	WriteErrorBody(rc, e)
	return e.Code
}

// WriteErrorBody answers with e's status and the API's error shape.
func WriteErrorBody(rc *fasthttp.RequestCtx, e *booking.Error) {
	WriteJSON(rc, e.Kind.HTTPStatus(), errorBody{Error: errorDetail{Code: e.Code, Message: e.Message}})
}

// ReadError is the answer to a request fasthttp could not read (too large,
// timed out, malformed).
func ReadError(err error) error {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		return booking.ErrBodyTooLarge
	}
	return booking.Errorf(booking.ErrInvalidJSON, "the request could not be read")
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
	return 1
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
