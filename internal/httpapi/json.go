package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// decode reads one JSON object from the body into v. Unknown fields, wrong
// types, trailing data and an empty body are all 400s with a stable code.
func decode(rc *fasthttp.RequestCtx, v any) error { return DecodeStrict(rc.PostBody(), v) }

// DecodeStrict is decode over a body: the API's JSON rules, for the
// load-test peers that answer as the API does.
func DecodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return booking.Errorf(booking.ErrInvalidJSON, "the request body is empty; send a JSON object")
	}
	// Any Content-Type is read as JSON: the API authenticates with bearer
	// tokens, not cookies, so a browser's cross-site form post carries no
	// credentials, and plain `curl -d` works.
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return booking.Errorf(booking.ErrInvalidJSON, "the body holds more than one JSON value")
	}
	return nil
}

func decodeError(err error) error {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &typ):
		if typ.Field == "" {
			return booking.Errorf(booking.ErrInvalidJSON, "the body must be a JSON object")
		}
		return booking.Errorf(booking.ErrInvalidField, "field %q must be of type %s", typ.Field, typ.Type)
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return booking.Errorf(booking.ErrInvalidJSON, "the body is not valid JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return booking.Errorf(booking.ErrInvalidField, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return booking.Errorf(booking.ErrInvalidJSON, "the body is not valid JSON")
}

// Required checks that string fields are present; names are JSON names.
func Required(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if strings.TrimSpace(fields[i+1]) == "" {
			return booking.Errorf(booking.ErrInvalidField, "field %q is required", fields[i])
		}
	}
	return nil
}

// writeList answers 200 with a JSON array: view of each item.
func writeList[T, V any](rc *fasthttp.RequestCtx, items []T, view func(T) V) {
	out := make([]V, len(items))
	for i, it := range items {
		out[i] = view(it)
	}
	WriteJSON(rc, fasthttp.StatusOK, out)
}

// WriteJSON answers with v as JSON.
func WriteJSON(rc *fasthttp.RequestCtx, status int, v any) {
	rc.SetStatusCode(status)
	rc.SetContentType("application/json")
	enc := json.NewEncoder(rc)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // writing to the in-memory body cannot fail
}
