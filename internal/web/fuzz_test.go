package web

import (
	"io"
	"log/slog"
	"testing"

	"github.com/valyala/fasthttp"
)

// FuzzLookupCookie: the desk's current-patient cookie, whatever its bytes,
// is read without a panic and names a patient only when this console sealed
// it for this session.
func FuzzLookupCookie(f *testing.F) {
	c := New(nil, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{})
	var rc fasthttp.RequestCtx
	sealed := &request{rc: &rc, session: "session-1"}
	c.rememberLookup(sealed, lookupRef{IDType: "resident_id", IDNumber: "11010519491231002X"})
	good := string(rc.Response.Header.PeekCookie(lookupCookie))
	f.Add(good, "session-1")
	f.Add(good, "session-2")
	f.Add("", "session-1")
	f.Add("AAAA", "s")
	f.Fuzz(func(t *testing.T, cookie, session string) {
		var ck fasthttp.Cookie
		if err := ck.Parse(cookie); err != nil {
			return
		}
		var rc fasthttp.RequestCtx
		rc.Request.Header.SetCookie(lookupCookie, string(ck.Value()))
		ref, ok := c.currentLookup(&request{rc: &rc, session: session})
		if ok && (session != "session-1" || ref.IDNumber != "11010519491231002X") {
			t.Fatalf("cookie %q for session %q read as %+v", cookie, session, ref)
		}
	})
}
