package httpapi

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/valyala/fasthttp"
)

// slowBook is what decode (encoding/json, strict) makes of body.
func slowBook(body []byte) (bookIn, bool) {
	var in bookIn
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if dec.Decode(&in) != nil || dec.More() {
		return in, false
	}
	if _, err := dec.Token(); err == nil {
		return in, false
	}
	return in, true
}

func fastBook(body []byte) (bookIn, bool) {
	var in bookIn
	ok := decodeFlat(body, bookKeys, []*string{&in.SessionID, &in.PatientID, &in.Channel})
	return in, ok
}

var bookBodies = []string{
	`{"session_id":"s","patient_id":"p"}`,
	` { "session_id" : "s" , "patient_id":"p", "channel":"phone" } `,
	`{}`,
	`{"session_id":"a","session_id":"b"}`,
	`{"session_id":"s\u0041"}`,
	`{"session_id":"张"}`,
	`{"session_id":1}`,
	`{"session_id":null}`,
	`{"other":"x"}`,
	`{"session_id":"s",}`,
	`{"session_id":"s"} {}`,
	`{"session_id":"s"`,
	`[]`,
	``,
	`{"Session_ID":"s"}`,
}

// TestDecodeFlatAgreesWithEncodingJSON: whenever the fast decoder takes a
// body, encoding/json takes it too and reads the same values; what it
// declines goes to encoding/json, so the API's answers do not change.
func TestDecodeFlatAgreesWithEncodingJSON(t *testing.T) {
	took := 0
	for _, b := range bookBodies {
		fast, ok := fastBook([]byte(b))
		if !ok {
			continue
		}
		took++
		slow, sok := slowBook([]byte(b))
		if !sok || slow != fast {
			t.Errorf("%q: fast %+v, encoding/json %+v (ok %v)", b, fast, slow, sok)
		}
	}
	if took != 4 {
		t.Errorf("the fast decoder took %d of the sample bodies, want the 4 plain ones", took)
	}
}

func FuzzDecodeFlat(f *testing.F) {
	for _, b := range bookBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := fastBook(body)
		if !ok {
			return
		}
		if slow, sok := slowBook(body); !sok || slow != fast {
			t.Errorf("%q: fast %+v, encoding/json %+v (ok %v)", body, fast, slow, sok)
		}
	})
}

// TestWriteErrorBodyIsWriteJSON: the hand-written error answer is byte for
// byte what encoding/json writes, plain or not.
func TestWriteErrorBodyIsWriteJSON(t *testing.T) {
	for _, msg := range []string{"no slot is left in this channel", `say "hi" \ there`, "line\nbreak\t<&>", "号已约满", "\u2028", "bad \xff utf-8"} {
		var fast, slow fasthttp.RequestCtx
		writeErrorBody(&fast, 409, "sold_out", msg)
		writeJSON(&slow, 409, errorBody{Error: errorDetail{Code: "sold_out", Message: msg}})
		if !bytes.Equal(fast.Response.Body(), slow.Response.Body()) {
			t.Errorf("%q:\n fast %s\n json %s", msg, fast.Response.Body(), slow.Response.Body())
		}
	}
}
