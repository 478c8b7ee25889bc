package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// decode reads one JSON object from the body into v. Unknown fields, wrong
// types, trailing data, an empty body, bytes that are not UTF-8, a key given
// twice or in another case than the field's name are all 400s with a stable
// code.
func decode(rc *fasthttp.RequestCtx, v any) error { return DecodeStrict(rc.PostBody(), v) }

// checker is a request body that knows its required fields.
type checker interface{ check() error }

// decodeChecked is decode, then in's check of its required fields: the
// one step with which a handler reads its body, so a missing field is
// refused alike everywhere (400 invalid_field naming it), after the JSON.
func decodeChecked(rc *fasthttp.RequestCtx, in checker) error {
	if err := decode(rc, in); err != nil {
		return err
	}
	return in.check()
}

// DecodeStrict is decode over a body: the API's JSON rules, for the
// load-test peers that answer as the API does.
func DecodeStrict(body []byte, v any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return booking.Errorf(booking.ErrInvalidJSON, "the request body is empty; send a JSON object")
	}
	// encoding/json reads null into a struct as "nothing to set": the
	// request would then be refused for its first missing field, as if an
	// object had been sent. null is not an object, as [] and "x" are not.
	if string(trimmed) == "null" {
		return booking.Errorf(booking.ErrInvalidJSON, notAnObject)
	}
	// encoding/json would replace bad bytes with U+FFFD silently: two
	// different passwords would become one.
	if !utf8.Valid(body) {
		return booking.Errorf(booking.ErrInvalidJSON, "the body is not valid UTF-8")
	}
	if err := checkKeys(body, fieldNames(reflect.TypeOf(v))); err != nil {
		return err
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

// checkKeys walks a JSON document and refuses what encoding/json would
// quietly accept: an object key given twice (it keeps the last), a top-level
// key that names a field in another case (it matches case-insensitively),
// and a string holding U+FFFD (what a lone surrogate escape such as
// "\ud800" decodes to). Malformed JSON is left to the decoder, which says
// precisely what is wrong.
func checkKeys(body []byte, names map[string]bool) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		object bool
		keys   map[string]bool // lower-cased keys seen
		key    bool            // the next string token is a key
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF, or malformed: the decoder reports it
		}
		top := len(stack) - 1
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				if top >= 0 && stack[top].object {
					stack[top].key = true
				}
				stack = append(stack, frame{object: true, keys: map[string]bool{}, key: true})
			case '[':
				if top >= 0 && stack[top].object {
					stack[top].key = true
				}
				stack = append(stack, frame{})
			default:
				stack = stack[:top]
			}
			continue
		case string:
			if strings.ContainsRune(t, utf8.RuneError) {
				return booking.Errorf(booking.ErrInvalidField, "a string holds an invalid character (U+FFFD or a lone surrogate escape)")
			}
			if top >= 0 && stack[top].object && stack[top].key {
				fold := strings.ToLower(t)
				if stack[top].keys[fold] {
					return booking.Errorf(booking.ErrInvalidField, "field %q is given twice", t)
				}
				stack[top].keys[fold] = true
				if top == 0 && names != nil && !names[t] {
					for n := range names {
						if strings.EqualFold(n, t) {
							return booking.Errorf(booking.ErrInvalidField, "unknown field %q (names are case-sensitive: %q)", t, n)
						}
					}
				}
				stack[top].key = false
				continue
			}
		}
		if top >= 0 && stack[top].object {
			stack[top].key = true // a value was read: a key comes next
		}
	}
}

// fieldNames are the JSON names of a struct type's fields, embedded
// structs' included; nil for anything else.
func fieldNames(t reflect.Type) map[string]bool {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	if m, ok := namesCache.Load(t); ok {
		return m.(map[string]bool)
	}
	m := map[string]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			name, _, _ := strings.Cut(tag, ",")
			switch {
			case name == "-":
			case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
				walk(f.Type)
			case !f.IsExported():
			case name != "":
				m[name] = true
			default:
				m[f.Name] = true
			}
		}
	}
	walk(t)
	namesCache.Store(t, m)
	return m
}

// namesCache keeps fieldNames per type: request types are few and fixed.
var namesCache sync.Map

// notAnObject is the answer to a body that is JSON but not an object.
const notAnObject = "the body must be a JSON object"

func decodeError(err error) error {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &typ):
		if typ.Field == "" {
			return booking.Errorf(booking.ErrInvalidJSON, notAnObject)
		}
		return booking.FieldErrorf(booking.ErrInvalidField, typ.Field, "field %q must be of type %s", typ.Field, typ.Type)
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
			return booking.FieldErrorf(booking.ErrInvalidField, fields[i], "field %q is required", fields[i])
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
