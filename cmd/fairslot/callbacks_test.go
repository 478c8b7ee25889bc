package main

import (
	"bytes"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestCallBackAPI: over HTTP, a walk-in booked with contact_phone is on a
// stopped clinic's call-back list with the number masked and opened by the
// operator's read; a contact number that is not one is 400 invalid_phone,
// nothing booked; GET /v1/callbacks pages with limit and after (the
// previous page's last callback_id), none skipped or repeated, and a bad
// limit or cursor is 400 invalid_field.
func TestCallBackAPI(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	today := todaySession(t, &sch)
	svc := startService(t, sch, nil)
	operator := svc.staffLogin(booking.RoleOperator, 1)
	clerk := svc.staffLogin(booking.RoleClerk, 2)
	admin := svc.staffLogin(booking.RoleAdmin, 3)
	walkIn := func(n int, name, contact string) reply {
		body := map[string]string{"privacy_consent": booking.PrivacyNoticeVersion, "id_type": "resident_id", "id_number": residentID(n), "name": name, "session_id": today.ID}
		if contact != "" {
			body["contact_phone"] = contact
		}
		return svc.do("POST", "/v1/desk/bookings", clerk, body)
	}
	if r := walkIn(60, "钱阿婆", "12345"); r.status != 400 || r.code != "invalid_phone" || r.field != "contact_phone" {
		t.Errorf("a walk-in with a contact number that is not one = %d %s, want 400 invalid_phone about field contact_phone", r.status, r.body)
	}
	for i, contact := range []string{"13566667777", "", "13566668888"} {
		if r := walkIn(61+i, "郑老师", contact); r.status != 201 {
			t.Fatalf("walk-in %d = %d %s, want 201", i, r.status, r.body)
		}
	}
	if r := svc.do("POST", "/v1/admin/sessions/"+today.ID+"/stop", admin, map[string]string{"reason": "the doctor is ill"}); r.status != 200 {
		t.Fatalf("stop = %d %s", r.status, r.body)
	}

	type row struct {
		ID          string `json:"callback_id"`
		PhoneMasked string `json:"phone_masked"`
		PhoneSource string `json:"phone_source"`
	}
	page := func(query string) []row {
		t.Helper()
		r := svc.do("GET", "/v1/callbacks"+query, operator, nil)
		if r.status != 200 {
			t.Fatalf("GET /v1/callbacks%s = %d %s", query, r.status, r.body)
		}
		var rows []row
		r.decode(t, &rows)
		return rows
	}
	all := page("")
	if len(all) != 3 {
		t.Fatalf("the list = %+v, want the 3 walk-ins", all)
	}
	first := page("?limit=2")
	rest := page("?limit=2&after=" + first[len(first)-1].ID)
	if got := append(first, rest...); len(first) != 2 || len(got) != 3 || got[0] != all[0] || got[1] != all[1] || got[2] != all[2] {
		t.Errorf("pages of 2 = %+v then %+v, want the list %+v in its order", first, rest, all)
	}
	byNumber := map[string]string{} // masked number → row
	for _, c := range all {
		byNumber[c.PhoneMasked] = c.ID
	}
	for _, want := range []string{"135****7777", "", "135****8888"} {
		if _, ok := byNumber[want]; !ok {
			t.Errorf("no row with number %q in %+v; want the contact numbers masked and none for the walk-in who left none", want, all)
		}
	}
	for _, c := range all {
		if want := map[bool]string{true: "contact"}[c.PhoneMasked != ""]; c.PhoneSource != want {
			t.Errorf("row %+v: phone_source %q, want %q (a walk-in's contact number; none without a number)", c, c.PhoneSource, want)
		}
	}
	var opened struct{ Phone string }
	svc.do("POST", "/v1/callbacks/"+byNumber["135****7777"]+"/number", operator, nil).decode(t, &opened)
	if opened.Phone != "13566667777" {
		t.Errorf("the operator opens %q, want the walk-in's contact number", opened.Phone)
	}
	// A bad cursor is invalid_cursor, as on every list (review19a L8).
	for q, want := range map[string][2]string{"?limit=0": {"invalid_field", "limit"}, "?limit=x": {"invalid_field", "limit"},
		"?limit=201": {"invalid_field", "limit"}, "?after=nope": {"invalid_cursor", "after"}, "?after=" + booking.NewID(): {"invalid_cursor", "after"}} {
		if r := svc.do("GET", "/v1/callbacks"+q, operator, nil); r.status != 400 || r.code != want[0] || r.field != want[1] {
			t.Errorf("GET /v1/callbacks%s = %d %s, want 400 %s about field %s", q, r.status, r.body, want[0], want[1])
		}
	}
	// A refusal about no one field has no field member at all.
	if r := svc.do("POST", "/v1/callbacks/"+booking.NewID()+"/number", operator, nil); r.status != 404 || bytes.Contains(r.body, []byte(`"field"`)) {
		t.Errorf("an unknown call-back row's number = %d %s, want a 404 without a field", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/callbacks/"+all[0].ID+"/outcome", operator, map[string]string{"note": "rang"}); r.status != 400 || r.field != "outcome" {
		t.Errorf("an outcome without one = %d %s, want 400 about field outcome", r.status, r.body)
	}
}
