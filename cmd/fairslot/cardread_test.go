package main

import (
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/cardreader"
)

// testReader is a card reader registered for the test hospital by its
// administrator, with the key its driver signs with.
type testReader struct {
	id, key string
}

// cardReader registers a reader as the hospital's administrator (staff
// number n) does, over the API.
func (s *service) cardReader(t *testing.T, n int) testReader {
	t.Helper()
	admin := s.staffLoginAt(booking.RoleAdmin, n, s.hospital)
	r := s.do("POST", "/v1/admin/card-readers", admin, map[string]string{"name": "门诊一楼 3 号窗口"})
	if r.status != 201 {
		t.Fatalf("register a card reader: %d %s, want 201", r.status, r.body)
	}
	var out struct {
		ReaderID string `json:"reader_id"`
		Key      string `json:"key"`
	}
	r.decode(t, &out)
	if out.ReaderID == "" || len(out.Key) != 64 {
		t.Fatalf("the registration answered %s, want a reader id and its 32-byte key in hex", r.body)
	}
	if r := s.do("GET", "/v1/admin/card-readers", admin, nil); r.status != 200 || strings.Contains(string(r.body), out.Key) {
		t.Errorf("the list of readers: %d, want 200 without the key", r.status)
	}
	return testReader{id: out.ReaderID, key: out.Key}
}

// read is the card marker the reader's driver puts on a desk request of
// the identity in body (id_type, id_number, name), read now.
func (r testReader) read(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	c, err := cardreader.Read(r.id, r.key, body["id_type"].(string), body["id_number"].(string), body["name"].(string), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTypedLoginMoveWaitsForTheHolder is review25 H4's sequence: a clerk
// who knows only a patient's ID number and name (as a scalper who booked
// for him does) moves his login to the scalper's phone, typing the
// number. The move must not take effect on the clerk's word: it waits the
// cooling-off, the holder stays logged in and is told (which hospital's
// desk, which masked number), the scalper's redeem of the code fails, and
// the holder cancels it. Audited at each step.
func TestTypedLoginMoveWaitsForTheHolder(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 5)
	svc := startService(t, sch, nil)
	clerk := svc.staffLogin(booking.RoleClerk, 5340)
	bob := svc.newPatient(5341)
	scalperPhone := "13811119999"
	move := map[string]any{"id_type": "resident_id", "id_number": residentID(5341), "name": "测试" + string(rune('甲'+5341%10)),
		"account_phone": bob.phone, "new_phone": scalperPhone, "number_rung": true,
		"card": map[string]any{"source": "typed", "typed_reason": "reader_broken"}}

	r := svc.do("POST", "/v1/desk/login-moves", clerk, move)
	if r.status != 202 {
		t.Fatalf("a typed login move: %d %s, want 202 (pending)", r.status, r.body)
	}
	var pending struct {
		Status string `json:"status"`
		Code   string `json:"code"`
		DueAt  string `json:"due_at"`
	}
	r.decode(t, &pending)
	if pending.Status != "pending" || pending.DueAt == "" || pending.Code == "" {
		t.Errorf("the move answered %s, want status pending with due_at and the code", r.body)
	}
	if r := svc.do("POST", "/v1/desk/login-moves", clerk, move); r.status != 409 || r.code != "login_move_pending" {
		t.Errorf("a second move while one waits: %d %s, want 409 login_move_pending", r.status, r.body)
	}
	// The scalper redeems the code with the new number: nothing moved.
	if r := svc.do("POST", "/v1/auth/password-reset", "", map[string]string{"phone": scalperPhone, "code": pending.Code, "new_password": "the-scalpers-own"}); r.status == 200 {
		t.Errorf("the scalper redeems the code before the move takes effect: %d %s", r.status, r.body)
	}
	// The holder is still logged in, and sees it.
	r = svc.do("GET", "/v1/me", bob.token, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"pending_login_move"`) || !strings.Contains(string(r.body), "138****9999") ||
		!strings.Contains(string(r.body), "Test Hospital") {
		t.Fatalf("the holder's account while the move waits: %d %s, want 200 with the pending move to 138****9999 at the hospital", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM notifications WHERE kind = 'account_login_move_requested' AND account_id = (SELECT id FROM accounts WHERE phone_masked = '137****5341' LIMIT 1)
		AND strpos(body, '138****9999') > 0 AND strpos(body, $1) = 0 AND strpos(body, 'Test Hospital') > 0`, scalperPhone); n != 1 {
		t.Errorf("notices of the move to the holder naming the hospital and the masked number = %d, want 1", n)
	}
	r = svc.do("DELETE", "/v1/me/login-move", bob.token, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"cancelled":true`) {
		t.Fatalf("the holder cancels: %d %s, want 200 cancelled", r.status, r.body)
	}
	if r := svc.do("GET", "/v1/me", bob.token, nil); r.status != 200 || strings.Contains(string(r.body), "pending_login_move") {
		t.Errorf("after the cancel: %d %s, want 200 without a pending move", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": bob.phone, "password": "password-" + bob.phone}); r.status != 200 {
		t.Errorf("the holder logs in with his own number: %d %s", r.status, r.body)
	}
	for _, tc := range []struct{ action, actor, has string }{
		{"account_login_move_requested", "clerk", "number typed by the clerk, reason reader_broken"},
		{"account_login_move_cancelled", "patient", "cancelled"},
	} {
		if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = $1 AND actor_role = $2 AND strpos(reason, $3) > 0 AND strpos(reason, $4) = 0 AND strpos(reason, $5) = 0`,
			tc.action, tc.actor, tc.has, scalperPhone, residentID(5341)); n != 1 {
			t.Errorf("%s audit rows of the %s saying %q, masked only = %d, want 1", tc.action, tc.actor, tc.has, n)
		}
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE strpos(reason, 'ID card matched') > 0 OR strpos(reason, 'ID card checked') > 0`); n != 0 {
		t.Errorf("audit rows claiming a card matched or checked = %d, want 0", n)
	}
}
