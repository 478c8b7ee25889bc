package main

import (
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestLandlineCallerOnThePhone (review23 M1): a caller ringing from a home
// landline is served on the real path — booked by phone, found again from
// the same line written another way, named masked with its tag in the
// audit, on the call-back list when the clinic stops, and the number the
// operator opens there keeps the extension — while an account's login
// stays a mobile.
func TestLandlineCallerOnThePhone(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	sess := sch.Sessions[0]
	svc := startService(t, sch, nil)
	operator := svc.staffLogin(booking.RoleOperator, 2401)
	admin := svc.staffLogin(booking.RoleAdmin, 2402)
	who := map[string]string{"id_type": "resident_id", "id_number": residentID(2403), "name": "王秀英"}

	if r := svc.do("POST", "/v1/phone/bookings", operator, with(who, "caller_phone", "010-1234567", "session_id", sess.ID,
		"privacy_consent", booking.PrivacyNoticeVersion)); r.status != 400 || r.code != "invalid_phone" {
		t.Errorf("a landline whose local number starts with 1 = %d %s, want 400 invalid_phone", r.status, r.body)
	}
	var b struct {
		ID string `json:"booking_id"`
	}
	if r := svc.do("POST", "/v1/phone/bookings", operator, with(who, "caller_phone", "0755 8888 1234 转 12", "session_id", sess.ID,
		"privacy_consent", booking.PrivacyNoticeVersion)); r.status != 201 {
		t.Fatalf("a phone booking for a landline caller = %d %s, want 201", r.status, r.body)
	} else {
		r.decode(t, &b)
	}
	// The audit names the line masked, with its keyed tag; never in clear.
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'phone_booking' AND reason LIKE '%caller 075*****1234 #%'`); n != 1 {
		t.Errorf("%d phone_booking audit rows name the landline masked with its tag, want 1", n)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE reason LIKE '%88881234%' OR target LIKE '%88881234%'`); n != 0 {
		t.Errorf("%d audit rows hold the landline in clear", n)
	}
	// The same line, written without the extension and with a hyphen, is the
	// same caller: the booking is theirs to hear of and to cancel.
	var look struct {
		Bookings []struct {
			ID string `json:"booking_id"`
		} `json:"bookings"`
	}
	if r := svc.do("POST", "/v1/desk/lookup", operator, with(who, "caller_phone", "0755-88881234")); r.status != 200 {
		t.Fatalf("the landline caller's lookup = %d %s, want 200", r.status, r.body)
	} else {
		r.decode(t, &look)
	}
	if len(look.Bookings) != 1 || look.Bookings[0].ID != b.ID {
		t.Errorf("the landline caller's lookup lists %+v, want the phone booking %s", look.Bookings, b.ID)
	}
	// The clinic stops: the call-back list rings the landline.
	if r := svc.do("POST", "/v1/admin/sessions/"+sess.ID+"/stop", admin, map[string]string{"reason": "the doctor is ill"}); r.status != 200 {
		t.Fatalf("stop = %d %s", r.status, r.body)
	}
	var rows []struct {
		ID          string `json:"callback_id"`
		PhoneMasked string `json:"phone_masked"`
		PhoneSource string `json:"phone_source"`
	}
	if r := svc.do("GET", "/v1/callbacks", operator, nil); r.status != 200 {
		t.Fatalf("the call-back list = %d %s", r.status, r.body)
	} else {
		r.decode(t, &rows)
	}
	if len(rows) != 1 || rows[0].PhoneMasked != "075*****1234" || rows[0].PhoneSource != "caller" {
		t.Fatalf("the call-back list = %+v, want one row ringing the caller's landline 075*****1234", rows)
	}
	var opened struct{ Phone string }
	svc.do("POST", "/v1/callbacks/"+rows[0].ID+"/number", operator, nil).decode(t, &opened)
	if opened.Phone != "075588881234-12" {
		t.Errorf("the operator opens %q, want the landline with its extension 075588881234-12", opened.Phone)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'callback_number_read' AND reason LIKE 'opened 075*****1234 %'`); n != 1 {
		t.Errorf("%d number reads audited with the landline masked, want 1", n)
	}
	// An account logs in with a mobile: a landline receives no SMS.
	if r := svc.do("POST", "/v1/accounts", "", map[string]string{"phone": "010-65123456", "password": "password-landline"}); r.status != 400 || r.code != "invalid_phone" {
		t.Errorf("an account with a landline = %d %s, want 400 invalid_phone", r.status, r.body)
	}
	if strings.Contains(svc.stdout.String(), "88881234") {
		t.Errorf("the service log holds the landline in clear")
	}
}

// TestPatientCancelsByPhoneWhatHerFamilyBooked (review23 M2): an elderly
// patient with no account rings the call centre, from the mobile her
// daughter's account gave as hers, to cancel what the daughter booked for
// her. The operator hears of the booking (her ID number and name, spoken)
// but could not cancel it: "not a phone booking". Now the person a booking
// is for cancels it by phone — only the person (a different person's ID, a
// wrong name, or the daughter's own login number cannot), audited with the
// caller's tag, counted toward the number's persons of the day — and the
// daughter's account is told; she books again by phone (the move).
func TestPatientCancelsByPhoneWhatHerFamilyBooked(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 2, 2)
	svc := startService(t, sch, nil)
	operator := svc.staffLogin(booking.RoleOperator, 2411)
	daughter := svc.newPatient(2412)
	motherPhone := "13711112412"
	mother := map[string]string{"id_type": "resident_id", "id_number": residentID(2413), "name": "王秀英"}
	var member struct {
		ID string `json:"patient_id"`
	}
	if r := svc.do("POST", "/v1/patients", daughter.token, map[string]any{"id_type": "resident_id", "id_number": residentID(2413),
		"name": "王秀英", "relationship": "parent", "phone": motherPhone}); r.status != 201 {
		t.Fatalf("the daughter adds her mother = %d %s", r.status, r.body)
	} else {
		r.decode(t, &member)
	}
	var b struct {
		ID string `json:"booking_id"`
	}
	if r := svc.do("POST", "/v1/bookings", daughter.token, map[string]string{"session_id": sch.Sessions[0].ID, "patient_id": member.ID}); r.status != 201 {
		t.Fatalf("the daughter books her mother = %d %s", r.status, r.body)
	} else {
		r.decode(t, &b)
	}
	cancel := func(body map[string]string) reply {
		return svc.do("POST", "/v1/phone/cancellations", operator, with(body, "booking_id", b.ID))
	}
	for _, tc := range []struct {
		what   string
		body   map[string]string
		status int
		code   string
	}{
		{"another person's ID and name, from the mother's number", map[string]string{"id_type": "resident_id", "id_number": residentID(2414),
			"name": "李桂兰", "caller_phone": motherPhone}, 404, "booking_not_found"},
		{"the mother's ID under another name", with(mother, "name", "王秀瑛", "caller_phone", motherPhone), 404, "booking_not_found"},
		{"the mother's ID and name from the daughter's login", with(mother, "caller_phone", daughter.phone), 403, "forbidden"},
		{"the mother's ID and name from a stranger's number", with(mother, "caller_phone", "13611112414"), 404, "booking_not_found"},
	} {
		if r := cancel(tc.body); r.status != tc.status || r.code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.what, r.status, r.body, tc.status, tc.code)
		}
	}
	if n := svc.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'confirmed'`, b.ID); n != 1 {
		t.Fatalf("the booking was cancelled by a caller who is not the patient")
	}
	// The mother, from the number the daughter gave as hers.
	if r := cancel(with(mother, "caller_phone", motherPhone)); r.status != 200 {
		t.Fatalf("the patient cancels by phone = %d %s, want 200", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled'`, b.ID); n != 1 {
		t.Errorf("the booking is not cancelled")
	}
	if n := svc.count(`SELECT count(*) FROM booking_events WHERE booking_id = $1 AND type = 'cancelled'
		AND reason LIKE '%cancelled_by_person_on_phone' AND staff_id IS NOT NULL AND phone <> '' AND account_id IS NOT NULL`, b.ID); n != 1 {
		t.Errorf("%d cancellation events name the patient by phone with the operator and the number's reference, want 1 (%d with the reason, %d with a phone)", n,
			svc.count(`SELECT count(*) FROM booking_events WHERE booking_id = $1 AND reason LIKE '%by_person_on_phone'`, b.ID),
			svc.count(`SELECT count(*) FROM booking_events WHERE booking_id = $1 AND type = 'cancelled' AND phone <> ''`, b.ID))
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'booking_cancelled' AND actor_role = 'operator' AND target = $1
		AND reason LIKE 'online booking made by an account for the person, cancelled for the person on the phone%caller 137****2412 #%'`, "booking:"+b.ID); n != 1 {
		t.Errorf("%d audit rows of the cancellation name the caller masked with its tag, want 1", n)
	}
	// The daughter's account is told (the notify job runs every few seconds).
	told := false
	for deadline := time.Now().Add(20 * time.Second); !told && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var inbox struct {
			Notifications []struct {
				Body string `json:"body"`
			} `json:"notifications"`
		}
		svc.do("GET", "/v1/notifications", daughter.token, nil).decode(t, &inbox)
		for _, n := range inbox.Notifications {
			told = told || strings.Contains(n.Body, "就诊人已本人致电医院电话预约中心取消该预约")
		}
	}
	if !told {
		t.Errorf("the daughter's account was not told that the patient cancelled by phone")
	}
	// The move: she books the other clinic by phone, from her number.
	if r := svc.do("POST", "/v1/phone/bookings", operator, with(mother, "caller_phone", motherPhone, "session_id", sch.Sessions[1].ID,
		"privacy_consent", booking.PrivacyNoticeVersion)); r.status != 201 {
		t.Errorf("the patient books again by phone = %d %s, want 201", r.status, r.body)
	}
}
