package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBadBytesNeverGive5xx: every documented operation, sent by a role that
// may use it, with bad bytes in a header, a path id, the query or the body
// (a NUL, a lone surrogate, a cut multibyte character, a control character,
// a duplicate key), answers 4xx, never 5xx (the audit got 500 and 503 from
// a cut character in X-Device-Id and Idempotency-Key, a NUL in a reason or
// a note, and /v1/admin/flags/%ff). Then Redis and SQL still agree.
func TestBadBytesNeverGive5xx(t *testing.T) {
	a := newAccess(t, map[string]string{"FAIRSLOT_LOGIN_FAILURES": "100000/1m"})
	table := accessTable()
	var keys []string
	for _, rt := range openapiRoutes(t) {
		keys = append(keys, rt.String())
	}
	slices.Sort(keys)
	sent := 0
	for _, key := range keys {
		r, ok := table[key]
		if !ok {
			continue // TestAccessControlTable reports it
		}
		method, template, _ := strings.Cut(key, " ")
		role := "admin"
		for i, w := range r.want {
			if w/100 == 2 {
				role = roles[i]
				break
			}
		}
		t.Run(key, func(t *testing.T) {
			a.t = t
			// One request, spoiled in every way; a variant that leaves it
			// valid (bad bytes in a query the operation ignores) may change
			// what the later ones find, which must still be a 4xx.
			c := r.req(a, role)
			for _, v := range badVariants(method, template) {
				token := c.token
				if token == "" && role != "anonymous" {
					token = a.tokens[role]
				}
				raw := v(c.path, c.body)
				status, line := a.rawRequest(method, raw, token)
				sent++
				if status == 0 || status >= 500 {
					t.Errorf("%s as %s with %s: %s", key, role, raw.what, line)
				}
			}
			if r.revokes {
				a.relogin()
			}
		})
	}
	a.t = t
	if sent < 200 {
		t.Errorf("sent %d requests, want every operation's variants", sent)
	}
	a.svc.run("reconcile", "--check")
}

// rawReq is a request to send byte for byte: Go's HTTP client refuses the
// bytes this test is about.
type rawReq struct {
	what    string
	target  string // path and query
	headers []string
	body    []byte
}

type variant func(path string, body any) rawReq

// badVariants are the ways of spoiling one request of an operation.
func badVariants(method, template string) []variant {
	plain := func(path string, body any) []byte {
		if body == nil {
			return nil
		}
		b, _ := json.Marshal(body)
		return b
	}
	out := []variant{
		func(p string, b any) rawReq {
			return rawReq{what: "a cut multibyte character in X-Device-Id", target: p, headers: []string{"X-Device-Id: dv-\xe5\xbc"}, body: plain(p, b)}
		},
		func(p string, b any) rawReq {
			return rawReq{what: "a cut multibyte character in Idempotency-Key", target: p, headers: []string{"Idempotency-Key: k-\xe5\xbc"}, body: plain(p, b)}
		},
		func(p string, b any) rawReq {
			return rawReq{what: "a control character in Idempotency-Key", target: p, headers: []string{"Idempotency-Key: k\x01k"}, body: plain(p, b)}
		},
		func(p string, b any) rawReq {
			return rawReq{what: "bad bytes in the query", target: p + "?date=%ff&status=%00&since=%e5%bc&department_id=%ff", body: plain(p, b)}
		},
	}
	if strings.Contains(template, "{") {
		for _, bad := range []string{"%ff", "%00", "%e5%bc", "a%0Ab"} {
			out = append(out, func(p string, b any) rawReq {
				return rawReq{what: "path id " + bad, target: spoilIDs(template, p, bad), body: plain(p, b)}
			})
		}
	}
	if method == "POST" || method == "PUT" || method == "PATCH" {
		for _, bad := range []struct{ what, json string }{
			{"a NUL in every string", `x\u0000y`},
			{"a lone surrogate in every string", `x\ud800y`},
			{"an escape character in every string", `x\u001b[31my`},
			{"a C1 control in every string", `x\u0085y`},
			{"raw invalid UTF-8 in every string", "x\xff\xfey"},
			{"a cut multibyte character in every string", "x\xe5\xbc"},
		} {
			out = append(out, func(p string, b any) rawReq {
				return rawReq{what: bad.what, target: p, body: spoilStrings(b, bad.json)}
			})
		}
		out = append(out, func(p string, b any) rawReq {
			return rawReq{what: "a key given twice", target: p, body: duplicateKey(b)}
		})
	}
	return out
}

// spoilIDs puts bad in place of the path's ids: the segments the template
// names in braces.
func spoilIDs(template, path, bad string) string {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	for i := range ps {
		if i < len(ts) && strings.HasPrefix(ts[i], "{") {
			ps[i] = bad
		}
	}
	return strings.Join(ps, "/")
}

// spoilStrings writes body as JSON with every string value replaced by raw
// (JSON text inside the quotes, written as is).
func spoilStrings(body any, raw string) []byte {
	m := map[string]any{}
	if b, err := json.Marshal(body); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	var out bytes.Buffer
	out.WriteByte('{')
	first := true
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !first {
			out.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&out, "%q:", k)
		if _, ok := m[k].(string); ok {
			out.WriteString(`"` + raw + `"`)
		} else {
			v, _ := json.Marshal(m[k])
			out.Write(v)
		}
	}
	out.WriteByte('}')
	return out.Bytes()
}

// duplicateKey writes body with its first key given twice.
func duplicateKey(body any) []byte {
	b, _ := json.Marshal(body)
	m := map[string]any{}
	_ = json.Unmarshal(b, &m)
	for k, v := range m {
		again, _ := json.Marshal(v)
		return append(b[:len(b)-1], []byte(fmt.Sprintf(",%q:%s}", k, again))...)
	}
	return []byte(`{"a":1,"a":2}`)
}

// rawRequest sends r over a fresh connection and returns the status and the
// status line.
func (a *access) rawRequest(method string, r rawReq, token string) (int, string) {
	a.t.Helper()
	u, err := url.Parse(a.svc.base)
	if err != nil {
		a.t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		a.t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	var req bytes.Buffer
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, r.target, u.Host)
	if token != "" {
		fmt.Fprintf(&req, "Authorization: Bearer %s\r\n", token)
	}
	for _, h := range r.headers {
		req.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&req, "Content-Length: %d\r\n\r\n", len(r.body))
	req.Write(r.body)
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write(req.Bytes()); err != nil {
		return 0, "write: " + err.Error()
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return 0, "read: " + err.Error()
	}
	var status int
	_, _ = fmt.Sscanf(line, "HTTP/1.1 %d", &status)
	return status, strings.TrimSpace(line)
}
