package httpapi

import "fairslot/internal/booking"

// The hot path's JSON decoding, without reflection. A booking attempt's body
// is a flat object of short ASCII strings; encoding/json took a tenth of the
// CPU of a sold-out answer to read it (BenchmarkDecodeBook: ~9× slower, 10
// allocations against 4). The decoder is exact or steps aside: anything it
// would not read exactly as encoding/json does goes to encoding/json.
// (Answers stay with encoding/json: an append encoder measured no faster,
// BenchmarkErrorBody.)

// decodeFlat reads a JSON object whose values are all strings into the
// fields named by keys (dst[i] receives keys[i]). It reports false, having
// written nothing, for anything else: an unknown key, a value that is not a
// plain string (escapes, control characters or non-ASCII bytes included), or
// malformed JSON; the caller then decodes with encoding/json, which gives the
// same result or the precise error.
//
// known, when not nil, may give the first key's value as a string the
// caller already holds (the catalog's session ids) instead of a copy of the
// body's bytes; the other keys' values are not looked up (a lookup that
// misses costs about what the copy does).
func decodeFlat(body []byte, keys []string, dst []*string, known func([]byte) (string, bool)) bool {
	var vals [4]string
	var seen [4]bool
	if len(keys) > len(vals) {
		return false
	}
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return false
	}
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		i++
	} else {
		for {
			k, next, ok := plainString(body, i)
			if !ok {
				return false
			}
			field := -1
			for f, name := range keys {
				if string(k) == name { // compared in place: no allocation
					field = f
				}
			}
			if field < 0 {
				return false
			}
			i = skipSpace(body, next)
			if i >= len(body) || body[i] != ':' {
				return false
			}
			v, next, ok := plainString(body, skipSpace(body, i+1))
			if !ok {
				return false
			}
			if seen[field] {
				return false // a repeated key: DecodeStrict refuses it
			}
			lookup := known
			if field != 0 {
				lookup = nil
			}
			vals[field], seen[field] = flatValue(v, lookup), true
			i = skipSpace(body, next)
			if i < len(body) && body[i] == ',' {
				i = skipSpace(body, i+1)
				continue
			}
			if i < len(body) && body[i] == '}' {
				i++
				break
			}
			return false
		}
	}
	if skipSpace(body, i) != len(body) {
		return false
	}
	for f := range keys {
		if seen[f] {
			*dst[f] = vals[f]
		}
	}
	return true
}

// flatValues are the values a flat body often holds that are the same
// every time (a booking attempt's channel): decodeFlat gives them as these
// strings rather than copies, one allocation less an attempt.
var flatValues = func() []string {
	var v []string
	for _, c := range booking.Channels {
		v = append(v, string(c))
	}
	return v
}()

// flatValue is v as a string: one of flatValues, one known gives, or a
// copy.
func flatValue(v []byte, known func([]byte) (string, bool)) string {
	for _, k := range flatValues {
		if string(v) == k { // compared in place: no allocation
			return k
		}
	}
	if known != nil {
		if k, ok := known(v); ok && k == string(v) {
			return k
		}
	}
	return string(v)
}

// plainString finds a string of printable ASCII without escapes at body[i]:
// its bytes, inside body.
func plainString(body []byte, i int) ([]byte, int, bool) {
	if i >= len(body) || body[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(body); j++ {
		switch c := body[j]; {
		case c == '"':
			return body[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, i, false
		}
	}
	return nil, i, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
