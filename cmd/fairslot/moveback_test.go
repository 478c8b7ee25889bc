package main

import (
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestDeskMovesATakenLoginBack (review19c M4): an attacker with a phished
// password moved the login to their own number and changed the password.
// The holder, with the card and a new number of theirs, has the desk move
// the login back: the attacker's sessions end, neither the attacker's
// number nor the password opens the account any more, the holder sets a
// new password with the code the desk hands over, and the account keeps
// its booking; the clerk is audited and the account told, with masked
// numbers only.
func TestDeskMovesATakenLoginBack(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 5)
	svc := startService(t, sch, nil)
	clerk := svc.staffLogin(booking.RoleClerk, 5330)
	alice, bob := svc.newPatient(5331), svc.newPatient(5332)
	card := func(n int) map[string]any {
		return map[string]any{"id_type": "resident_id", "id_number": residentID(n), "name": "测试" + string(rune('甲'+n%10))}
	}
	set := func(m map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	r := svc.do("POST", "/v1/bookings", alice.token, map[string]string{"session_id": sch.Sessions[0].ID, "patient_id": alice.patientID})
	if r.status != 201 {
		t.Fatalf("alice books: %d %s", r.status, r.body)
	}
	var bk struct {
		BookingID string `json:"booking_id"`
	}
	r.decode(t, &bk)

	attackerPhone := "13900005331"
	r = svc.do("POST", "/v1/auth/phone", alice.token, map[string]string{"password": "password-" + alice.phone, "phone": attackerPhone})
	if r.status != 200 {
		t.Fatalf("the attacker moves the login: %d %s", r.status, r.body)
	}
	var moved struct{ Token string }
	r.decode(t, &moved)
	r = svc.do("POST", "/v1/auth/password", moved.Token, map[string]string{"current_password": "password-" + alice.phone, "new_password": "the-attackers-own"})
	if r.status != 200 {
		t.Fatalf("the attacker changes the password: %d %s", r.status, r.body)
	}
	var attacker struct{ Token string }
	r.decode(t, &attacker)

	newPhone := "13600005331"
	// The holder's card on the desk's reader (review25 H4): a read of the
	// holder's own card moves the login at once; typed, it would wait.
	reader := svc.cardReader(t, 5339)
	move := set(card(5331), "new_phone", newPhone, "number_rung", true)
	move["card"] = reader.read(t, move)
	for _, tc := range []struct {
		name, token string
		body        map[string]any
		status      int
		code, field string
	}{
		{"a patient's token", attacker.Token, move, 403, "forbidden", ""},
		{"the number not rung", clerk, set(move, "number_rung", false), 400, "invalid_field", "number_rung"},
		{"no new number", clerk, set(move, "new_phone", ""), 400, "invalid_field", "new_phone"},
		{"the card under another name", clerk, set(move, "name", "测试别名", "card", nil), 403, "not_account_holder", ""},
		{"a read whose signature is not of this name", clerk, set(move, "name", "测试别名"), 422, "card_read_invalid", ""},
		{"a person no account names as its own", clerk, set(card(5333), "new_phone", newPhone, "number_rung", true), 403, "not_account_holder", ""},
		{"a read signed by no registered reader", clerk, set(move, "card", map[string]any{"source": "reader", "reader_id": reader.id,
			"read_at": time.Now().UTC().Format(time.RFC3339), "mac": strings.Repeat("00", 32)}), 422, "card_read_invalid", ""},
		{"the attacker's number as the new one", clerk, set(move, "new_phone", attackerPhone), 400, "invalid_field", "new_phone"},
		{"another account's login", clerk, set(move, "new_phone", bob.phone), 409, "phone_taken", ""},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			r := svc.do("POST", "/v1/desk/login-moves", tc.token, tc.body)
			if r.status != tc.status || r.code != tc.code || r.field != tc.field {
				t.Errorf("move: %d %s, want %d %s (field %q)", r.status, r.body, tc.status, tc.code, tc.field)
			}
		})
	}
	if r := svc.do("GET", "/v1/bookings", attacker.Token, nil); r.status != 200 {
		t.Fatalf("after the refusals the attacker's session still works: %d %s", r.status, r.body)
	}

	r = svc.do("POST", "/v1/desk/login-moves", clerk, move)
	if r.status != 200 {
		t.Fatalf("move the login back: %d %s, want 200", r.status, r.body)
	}
	var out struct {
		Code      string `json:"code"`
		Phone     string `json:"phone"`
		FromPhone string `json:"from_phone"`
		AccountID string `json:"account_id"`
	}
	r.decode(t, &out)
	if out.Code == "" || out.Phone != "136****5331" || out.FromPhone != "139****5331" {
		t.Errorf("the move answered %s, want a reset code, 136****5331 from 139****5331", r.body)
	}

	for name, tok := range map[string]string{"the attacker's token": attacker.Token, "the holder's old token": alice.token} {
		if r := svc.do("GET", "/v1/bookings", tok, nil); r.status != 401 {
			t.Errorf("%s after the move: %d %s, want 401", name, r.status, r.body)
		}
	}
	for _, tc := range []struct{ name, phone, password string }{
		{"the attacker's number and password", attackerPhone, "the-attackers-own"},
		{"the new number and the attacker's password", newPhone, "the-attackers-own"},
		{"the new number and the holder's old password", newPhone, "password-" + alice.phone},
	} {
		if r := svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": tc.phone, "password": tc.password}); r.status != 401 || r.code != "invalid_credentials" {
			t.Errorf("login with %s: %d %s, want 401 invalid_credentials", tc.name, r.status, r.body)
		}
	}

	r = svc.do("POST", "/v1/auth/password-reset", "", map[string]string{"phone": newPhone, "code": out.Code, "new_password": "the-holders-new-one"})
	if r.status != 200 {
		t.Fatalf("the holder redeems the code with the new number: %d %s, want 200", r.status, r.body)
	}
	r = svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": newPhone, "password": "the-holders-new-one"})
	if r.status != 200 {
		t.Fatalf("the holder logs in with the new number: %d %s, want 200", r.status, r.body)
	}
	var tok struct{ Token string }
	r.decode(t, &tok)
	if r := svc.do("GET", "/v1/bookings", tok.Token, nil); r.status != 200 || !strings.Contains(string(r.body), bk.BookingID) {
		t.Errorf("the holder's bookings: %d %s, want the booking %s kept", r.status, r.body, bk.BookingID)
	}
	if n := svc.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'confirmed'`, bk.BookingID); n != 1 {
		t.Errorf("the booking confirmed: %d rows, want 1", n)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'account_login_moved' AND actor_role = 'clerk' AND hospital_id = $1
		AND target = 'account:' || $2 AND strpos(reason, $3) = 0 AND strpos(reason, $4) = 0 AND strpos(reason, $5) = 0`,
		svc.hospital, out.AccountID, newPhone, attackerPhone, residentID(5331)); n != 1 {
		t.Errorf("account_login_moved audit rows of the clerk with masked values only = %d, want 1", n)
	}
	if n := svc.count(`SELECT count(*) FROM notifications WHERE kind = 'account_login_moved' AND account_id = $1 AND strpos(body, $2) = 0`,
		out.AccountID, newPhone); n != 1 {
		t.Errorf("account_login_moved notifications with the number masked = %d, want 1", n)
	}
	if strings.Contains(svc.logs.String(), newPhone) || strings.Contains(svc.logs.String(), out.Code) {
		t.Errorf("the logs carry the new number or the reset code in clear")
	}
	// The attacker's number is free again.
	if r := svc.do("POST", "/v1/accounts", "", map[string]string{"phone": attackerPhone, "password": "password-" + attackerPhone}); r.status != 201 {
		t.Errorf("the attacker's number registers: %d %s, want 201", r.status, r.body)
	}
}
