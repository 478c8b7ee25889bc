package httpapi

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// slowBook is what decode (DecodeStrict: encoding/json and the API's own
// rules) makes of body.
func slowBook(body []byte) (bookIn, bool) {
	var in bookIn
	return in, DecodeStrict(body, &in) == nil
}

// fastBook is decodeFlat with a catalog that holds the session "s", given
// as the catalog's string: the values read are the same either way.
func fastBook(body []byte) (bookIn, bool) {
	var in bookIn
	ok := decodeFlat(body, bookKeys, []*string{&in.SessionID, &in.PatientID, &in.Channel}, knownSessions.SessionID)
	return in, ok
}

var knownSessions = booking.NewCatalog(booking.Schedule{Sessions: []booking.Session{{ID: "s", VisitDate: "2026-12-05"}}})

// TestDecodeBookInAllocations: a booking attempt's body costs one
// allocation (the patient id) when its session is in the catalog, whose
// own string it is given, and two when it is not; the values are the
// body's either way.
func TestDecodeBookInAllocations(t *testing.T) {
	const session, patient = "0b9b6f5e-58d7-4c3a-9a55-2f1d8f0c6e21", "7d1f2c3b-1a2b-4c5d-8e9f-0a1b2c3d4e5f"
	cat := booking.NewCatalog(booking.Schedule{Sessions: []booking.Session{{ID: strings.Clone(session), VisitDate: "2026-12-05"}}})
	held, _ := cat.Session(session)
	for _, tt := range []struct {
		session string
		known   bool
		allocs  float64
	}{{session, true, 1}, {"00000000-58d7-4c3a-9a55-2f1d8f0c6e21", false, 2}} {
		var rc fasthttp.RequestCtx
		rc.Request.SetBodyString(`{"session_id":"` + tt.session + `","patient_id":"` + patient + `"}`)
		in, err := decodeBookIn(&rc, cat)
		if err != nil || in.SessionID != tt.session || in.PatientID != patient {
			t.Fatalf("decodeBookIn = %+v, %v; want session %s, patient %s", in, err, tt.session, patient)
		}
		if shared := unsafe.StringData(in.SessionID) == unsafe.StringData(held.ID); shared != tt.known {
			t.Errorf("session %s: the catalog's own string: %v, want %v", tt.session, shared, tt.known)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = decodeBookIn(&rc, cat) }); n != tt.allocs {
			t.Errorf("session %s (in the catalog: %v): %v allocations, want %v", tt.session, tt.known, n, tt.allocs)
		}
	}
}

var bookBodies = []string{
	`{"session_id":"s","patient_id":"p"}`,
	` { "session_id" : "s" , "patient_id":"p", "channel":"phone" } `,
	`{"session_id":"online","patient_id":"p","channel":"onsite"}`, // the known values (flatValues), wherever they are
	`{"session_id":"s","patient_id":"p","channel":"Phone"}`,       // not one of them: copied as it is
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
	if took != 5 {
		t.Errorf("the fast decoder took %d of the sample bodies, want the 5 plain ones", took)
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

// The hot path's JSON against encoding/json, in the same run:
//
//	go test -run '^$' -bench DecodeBook -benchmem ./internal/httpapi/
func BenchmarkDecodeBook(b *testing.B) {
	body := []byte(`{"session_id":"0b6c4f4e-8f1e-4d51-9a53-0e2b1f5a7c11","patient_id":"5d0f2a9b-3c4e-4f6a-8b7c-9d0e1f2a3b4c"}`)
	b.Run("decodeFlat", func(b *testing.B) {
		for b.Loop() {
			if _, ok := fastBook(body); !ok {
				b.Fatal("declined")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			var in bookIn
			if err := DecodeStrict(body, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestSentinelBodiesAreTheEncodersBytes: a sentinel error's answer, kept
// encoded after its first use, is byte for byte what the encoder writes,
// the first time and after; an error made with its own message under a
// sentinel's code (booking.Errorf) gets its own message, not the
// sentinel's kept bytes; and the kept body is appended as the encoder
// appends.
func TestSentinelBodiesAreTheEncodersBytes(t *testing.T) {
	encoded := func(e *booking.Error) (int, string) {
		var rc fasthttp.RequestCtx
		WriteJSON(&rc, e.Kind.HTTPStatus(), errorBody{Error: errorDetail{Code: e.Code, Message: e.Message}})
		return rc.Response.StatusCode(), string(rc.Response.Body())
	}
	written := func(e *booking.Error) (int, string, string) {
		var rc fasthttp.RequestCtx
		WriteErrorBody(&rc, e)
		return rc.Response.StatusCode(), string(rc.Response.Body()), string(rc.Response.Header.ContentType())
	}
	own := booking.Errorf(booking.ErrSoldOut, "no slot is left for 张三 <today>")
	for _, e := range []*booking.Error{booking.ErrSoldOut, booking.ErrNotReleased, booking.ErrRateLimited, own, ErrRouteNotFound} {
		wantStatus, wantBody := encoded(e)
		for i := range 2 {
			status, body, ct := written(e)
			if status != wantStatus || body != wantBody || ct != "application/json" {
				t.Errorf("%s, answer %d: %d %q (%s); want %d %q (application/json)", e.Code, i+1, status, body, ct, wantStatus, wantBody)
			}
		}
	}
	if _, body, _ := written(own); !strings.Contains(body, "张三 <today>") {
		t.Errorf("an error with its own message answered %q", body)
	}
	var rc fasthttp.RequestCtx
	rc.Response.AppendBodyString("x")
	WriteErrorBody(&rc, booking.ErrSoldOut)
	if _, want := encoded(booking.ErrSoldOut); string(rc.Response.Body()) != "x"+want {
		t.Errorf("kept body after %q: %q, want it appended", "x", rc.Response.Body())
	}
}

// TestMadeElsewhereInTheErrorBody: to the person's verified self a refusal
// because of what another account made for them keeps its code and status
// and says so in made_by_other_account and see; to anyone else it is
// person_booked_elsewhere, with neither field (nothing but the code and
// the message); a plain refusal has neither field.
func TestMadeElsewhereInTheErrorBody(t *testing.T) {
	for _, c := range []struct {
		e    *booking.Error
		want string
	}{
		{booking.ErrAlreadyBooked, `{"error":{"code":"already_booked","message":"this patient already holds a booking in this session"}}`},
		{booking.ErrBookedElsewhere, `{"error":{"code":"person_booked_elsewhere","message":"` + booking.ErrBookedElsewhere.Message + `"}}`},
		{&booking.Error{Kind: booking.KindConflict, Code: "already_entered", Message: "m", MadeElsewhere: true, See: booking.SeeMadeByOthers},
			`{"error":{"code":"already_entered","message":"m","made_by_other_account":true,"see":"/v1/made-by-others"}}`},
	} {
		var rc fasthttp.RequestCtx
		WriteErrorBody(&rc, c.e)
		if got := strings.TrimSpace(string(rc.Response.Body())); got != c.want || rc.Response.StatusCode() != 409 {
			t.Errorf("%s: %d %s, want 409 %s", c.e.Code, rc.Response.StatusCode(), got, c.want)
		}
	}
}
