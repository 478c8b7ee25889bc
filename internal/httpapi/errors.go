package httpapi

import (
	"errors"
	"strconv"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

var (
	errRouteNotFound    = &booking.Error{Kind: booking.KindNotFound, Code: "route_not_found", Message: "no such route"}
	errMethodNotAllowed = &booking.Error{Kind: booking.KindInvalid, Code: "method_not_allowed", Message: "this route does not take that method"}
	errInternal         = &booking.Error{Kind: booking.KindInternal, Code: "internal", Message: "something went wrong on our side; nothing was booked"}
)

// publicError splits err into what the client may see and whether the
// detail must be logged. Errors that are not *booking.Error are internal: the
// client gets a generic body, the log gets the detail, once.
func publicError(err error) (*booking.Error, bool) {
	if e, ok := booking.AsError(err); ok {
		// A 503 wraps its cause (a Redis or SQL failure): log it.
		return e, e.Kind == booking.KindUnavailable || e.Kind == booking.KindInternal
	}
	return errInternal, true
}

// writeError answers with the API's error shape.
func (s *Server) writeError(rc *fasthttp.RequestCtx, route string, err error) string {
	e, logIt := publicError(err)
	if logIt {
		s.log.Error("request failed", "route", route, "method", string(rc.Method()), "code", e.Code, "err", err)
	}
	status := e.Kind.HTTPStatus()
	if errors.Is(e, booking.ErrRateLimited) {
		rc.Response.Header.Set("Retry-After", strconv.Itoa(retryAfter(err)))
	}
	writeJSON(rc, status, errorBody{Error: errorDetail{Code: e.Code, Message: e.Message}})
	return e.Code
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
