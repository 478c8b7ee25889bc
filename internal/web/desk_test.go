package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// deskPatient is a patient account with one family member (its holder),
// booked online into a session through the patient console.
type deskPatient struct {
	c         *client
	idNumber  string
	name      string
	bookingID string
}

func newDeskPatient(t *testing.T, s *site, n int, name, sessionID string) deskPatient {
	t.Helper()
	p := deskPatient{c: s.client(), idNumber: residentID(n), name: name}
	p.c.signUpHolder(newPhone(), "correct horse battery", p.idNumber, name)
	ps, err := s.svc.Patients(t.Context(), booking.Actor{AccountID: accountOf(t, s, p.c), Role: booking.RolePatient})
	if err != nil || len(ps) != 1 {
		t.Fatalf("patients: %v, %v; want one", ps, err)
	}
	a := p.c.post("/patient/bookings", url.Values{"csrf": {p.c.csrf("/patient/sessions")}, "session_id": {sessionID},
		"patient_id": {ps[0].ID}, "idem": {booking.NewID()}})
	if a.status != 303 {
		t.Fatalf("book: %d\n%s", a.status, a.body)
	}
	p.bookingID = mustQuery(t, a.location, "id")
	return p
}

// deskClerk is a clerk signed in on the desk console.
func deskClerk(s *site) *client {
	password := "clerk password 1"
	c := s.client()
	c.deskLogin(s.newClerk(password), password)
	return c
}

// find looks a patient up at the desk and returns the lookup page.
func (c *client) find(idType, idNumber string) answer {
	c.t.Helper()
	a := c.post("/desk/lookup", url.Values{"csrf": {c.csrf("/desk/lookup")}, "identity_check": {"card_shown"}, "id_type": {idType}, "id_number": {idNumber}})
	if a.status != 303 || a.location != "/desk/lookup" {
		c.t.Fatalf("lookup: %d → %q, want 303 → /desk/lookup\n%s", a.status, a.location, a.body)
	}
	return c.get("/desk/lookup")
}

func (s *site) status(bookingID string) string {
	s.t.Helper()
	var st string
	testenv.Must(s.t, s.db.Pool().QueryRow(s.t.Context(), `SELECT status FROM bookings WHERE id = $1`, bookingID).Scan(&st), "read status")
	return st
}

// TestDeskIsForClerksOnly: a patient's or an operator's session gets the
// wrong-console page on every desk page and form, and neither can sign in
// there; without a session the desk asks to log in.
func TestDeskIsForClerksOnly(t *testing.T) {
	s := newSite(t)
	today := s.addToday()
	p := newDeskPatient(t, s, 11, "周八", today.ID)

	operatorPhone, password := newPhone(), "operator password"
	if _, err := s.svc.CreateStaff(t.Context(), booking.StaffRequest{Phone: operatorPhone, Password: password, Role: booking.RoleOperator, HospitalID: s.hospital.ID}); err != nil {
		t.Fatalf("create operator: %v", err)
	}
	// An operator has no console of its own yet: give its browser the
	// token the API would, as the cookie.
	tok, err := s.svc.Login(t.Context(), operatorPhone, password, booking.Origin{})
	testenv.Must(t, err, "operator login")
	operator := s.client()
	u, _ := url.Parse(s.base)
	operator.http.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: tok.Token, Path: "/"}})

	for _, tc := range []struct {
		name string
		c    *client
		role string
		home string // the console wrong_console links to
	}{{"patient", p.c, "patient", "/patient"}, {"operator", operator, "operator", "/phone"}} {
		t.Run(tc.name, func(t *testing.T) {
			csrf := tc.c.csrf("/desk/login") // the login page is public
			for _, path := range []string{"/desk", "/desk/lookup", "/desk/walkin"} {
				a := tc.c.get(path)
				if a.status != 403 || !strings.Contains(a.body, "wrong_console") ||
					!strings.Contains(a.body, "signed in with a "+tc.role+" account, whose console is "+tc.home) ||
					!strings.Contains(a.body, `href="`+tc.home+`" id="own-console"`) {
					t.Errorf("GET %s: %d, want 403 wrong_console sending the %s to %s\n%.400s", path, a.status, tc.role, tc.home, a.body)
				}
			}
			for path, form := range map[string]url.Values{
				"/desk/lookup": {"id_type": {"resident_id"}, "id_number": {p.idNumber}},
				"/desk/bookings/" + p.bookingID + "/checkin": {"id_type": {"resident_id"}, "id_number": {p.idNumber}, "name": {p.name}},
				"/desk/bookings": {"id_type": {"resident_id"}, "id_number": {residentID(99)}, "name": {"吴九"}, "session_id": {today.ID}, "privacy_consent": {booking.PrivacyNoticeVersion}, "idem": {"k"}},
				"/desk/sessions/" + today.ID + "/extra-slots": {"count": {"3"}, "reason": {"busy"}, "authorised_by": {"Dr Zhang"}},
			} {
				form.Set("csrf", csrf)
				if a := tc.c.post(path, form); a.status != 403 || !strings.Contains(a.body, "wrong_console") {
					t.Errorf("POST %s: %d, want 403 wrong_console\n%.400s", path, a.status, a.body)
				}
			}
			if st := s.status(p.bookingID); st != "confirmed" {
				t.Errorf("the booking is %s, want still confirmed", st)
			}
			if n := s.count(`SELECT count(*) FROM bookings`); n != 1 {
				t.Errorf("got %d bookings, want the patient's one only", n)
			}
			if n := s.count(`SELECT count(*) FROM slots WHERE session_id = $1`, today.ID); n != 10 {
				t.Errorf("today's session has %d slots, want its 10", n)
			}
		})
	}

	t.Run("log in as a patient", func(t *testing.T) {
		c := s.client()
		phone := newPhone()
		if _, err := s.svc.CreateAccount(t.Context(), phone, password, "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{}); err != nil {
			t.Fatalf("create account: %v", err)
		}
		a := c.post("/desk/login", url.Values{"csrf": {c.csrf("/desk/login")}, "phone": {phone}, "password": {password}})
		if a.status != 403 || !strings.Contains(a.body, "wrong_console") || !strings.Contains(a.body, "patient accounts sign in at /patient/login") ||
			strings.Contains(a.body, "log out") {
			t.Errorf("got %d, want 403 wrong_console sending a signed-out patient to /patient/login, not telling them to log out\n%s", a.status, a.body)
		}
		if ck := cookie(a.cookies, sessionCookie); ck != nil && ck.Value != "" {
			t.Errorf("got a session cookie for a patient on the desk console, want none")
		}
	})

	t.Run("no session", func(t *testing.T) {
		c := s.client()
		for _, path := range []string{"/desk", "/desk/lookup", "/desk/walkin"} {
			if a := c.get(path); a.status != 303 || a.location != "/desk/login" {
				t.Errorf("GET %s: %d → %q, want 303 → /desk/login", path, a.status, a.location)
			}
		}
	})

	t.Run("clerk on the patient console", func(t *testing.T) {
		c := deskClerk(s)
		if a := c.get("/patient/bookings"); a.status != 403 || !strings.Contains(a.body, "wrong_console") {
			t.Errorf("GET /patient/bookings as a clerk: %d, want 403 wrong_console", a.status)
		}
	})
}

// TestDeskPostWithoutCSRFIsRefused: every desk form without its token (or
// with another session's) is refused with 403 before anything changes.
func TestDeskPostWithoutCSRFIsRefused(t *testing.T) {
	s := newSite(t)
	today := s.addToday()
	p := newDeskPatient(t, s, 12, "郑十", today.ID)
	clerk := deskClerk(s)
	other := deskClerk(s)
	otherToken := other.csrf("/desk")

	forms := map[string]url.Values{
		"/desk/lookup": {"id_type": {"resident_id"}, "id_number": {p.idNumber}},
		"/desk/bookings/" + p.bookingID + "/checkin": {"id_type": {"resident_id"}, "id_number": {p.idNumber}, "name": {p.name}},
		"/desk/bookings/" + p.bookingID + "/reissue": {"reason": {"did not come"}},
		"/desk/bookings": {"id_type": {"resident_id"}, "id_number": {residentID(98)}, "name": {"吴九"}, "session_id": {today.ID}, "privacy_consent": {booking.PrivacyNoticeVersion}, "idem": {"k"}},
		"/desk/sessions/" + today.ID + "/extra-slots": {"count": {"3"}, "reason": {"busy"}, "authorised_by": {"Dr Zhang"}},
		"/desk/lookup/clear":                          {},
		"/desk/logout":                                {},
	}
	for _, token := range []string{"", "bm90LWEtdG9rZW4", otherToken} {
		for path, form := range forms {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if token != "" {
				f.Set("csrf", token)
			}
			a := clerk.post(path, f)
			if a.status != 403 || !strings.Contains(a.body, "csrf_failed") {
				t.Errorf("POST %s with token %q: %d, want 403 csrf_failed\n%.300s", path, token, a.status, a.body)
			}
			if ck := cookie(a.cookies, lookupCookie); ck != nil && ck.Value != "" {
				t.Errorf("POST %s with token %q set the current patient", path, token)
			}
		}
	}
	if st := s.status(p.bookingID); st != "confirmed" {
		t.Errorf("the booking is %s, want still confirmed", st)
	}
	if n := s.count(`SELECT count(*) FROM bookings`); n != 1 {
		t.Errorf("got %d bookings, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM slots WHERE session_id = $1`, today.ID); n != 10 {
		t.Errorf("today's session has %d slots, want 10", n)
	}
	if n := s.count(`SELECT count(*) FROM booking_events WHERE staff_id IS NOT NULL`) + s.count(`SELECT count(*) FROM audit_log WHERE action <> 'staff_added'`); n != 0 {
		t.Errorf("got %d staff events and audit rows, want none", n)
	}
	// The clerk is still signed in: logout was refused too.
	if a := clerk.get("/desk"); a.status != 200 {
		t.Errorf("GET /desk after the refused logout: %d, want 200", a.status)
	}
	// A foreign origin is refused even with the right token.
	f := url.Values{"csrf": {clerk.csrf("/desk/walkin")}, "id_type": {"resident_id"}, "id_number": {residentID(98)}, "name": {"吴九"}, "session_id": {today.ID}, "privacy_consent": {booking.PrivacyNoticeVersion}, "idem": {"k2"}}
	if a := clerk.post("/desk/bookings", f, "Origin", "http://evil.example"); a.status != 403 || !strings.Contains(a.body, "foreign_origin") {
		t.Errorf("walk-in from a foreign origin: %d, want 403 foreign_origin", a.status)
	}
	if n := s.count(`SELECT count(*) FROM bookings`); n != 1 {
		t.Errorf("got %d bookings, want 1", n)
	}
}

// TestDeskNeverShowsClearIdentity searches by ID, fails a check-in, books a
// walk-in and fails one: no page, address, cookie or log line carries the
// ID number or the name in clear.
func TestDeskNeverShowsClearIdentity(t *testing.T) {
	s := newSite(t)
	today := s.addToday()
	p := newDeskPatient(t, s, 13, "欧阳娜娜", today.ID)
	walkID, walkName := residentID(14), "司马相如"
	clear := []string{p.idNumber, p.name, p.idNumber[6:14], "阳娜", walkID, walkName, walkID[6:14]}
	clerk := deskClerk(s)

	var pages []answer
	lookup := clerk.post("/desk/lookup", url.Values{"csrf": {clerk.csrf("/desk/lookup")}, "identity_check": {"card_shown"}, "id_type": {"resident_id"}, "id_number": {p.idNumber}})
	pages = append(pages, lookup)
	if lookup.status != 303 || lookup.location != "/desk/lookup" {
		t.Fatalf("lookup: %d → %q, want 303 → /desk/lookup", lookup.status, lookup.location)
	}
	page := clerk.get("/desk/lookup")
	pages = append(pages, page)
	for _, want := range []string{"欧**娜", "110***********" + p.idNumber[14:], `id="b-` + p.bookingID + `"`, "张伟 Zhang Wei", "Check in"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the lookup page lacks %q", want)
		}
	}
	// A check-in with the wrong name, and one with a wrong number.
	pages = append(pages, clerk.post("/desk/bookings/"+p.bookingID+"/checkin", url.Values{"csrf": {clerk.csrf("/desk/lookup")},
		"id_type": {"resident_id"}, "id_number": {p.idNumber}, "name": {"欧阳娜"}}))
	pages = append(pages, clerk.post("/desk/bookings/"+p.bookingID+"/checkin", url.Values{"csrf": {clerk.csrf("/desk/lookup")},
		"id_type": {"resident_id"}, "id_number": {walkID}, "name": {p.name}}))
	// An unknown ID, and a malformed one.
	pages = append(pages, clerk.post("/desk/lookup", url.Values{"csrf": {clerk.csrf("/desk/lookup")}, "identity_check": {"card_shown"}, "id_type": {"resident_id"}, "id_number": {walkID}}))
	pages = append(pages, clerk.post("/desk/lookup", url.Values{"csrf": {clerk.csrf("/desk/lookup")}, "identity_check": {"card_shown"}, "id_type": {"resident_id"}, "id_number": {p.idNumber[:17] + "0"}}))
	// A walk-in, the page it leads to, and a walk-in the session refuses
	// (the same person twice).
	walk := url.Values{"csrf": {clerk.csrf("/desk/walkin")}, "id_type": {"resident_id"}, "id_number": {walkID}, "name": {walkName},
		"session_id": {today.ID}, "privacy_consent": {booking.PrivacyNoticeVersion}, "idem": {booking.NewID()}}
	a := clerk.post("/desk/bookings", walk)
	if a.status != 303 || !strings.HasPrefix(a.location, "/desk/lookup?") {
		t.Fatalf("walk-in: %d → %q\n%s", a.status, a.location, a.body)
	}
	pages = append(pages, a, clerk.get(a.location))
	walk.Set("idem", booking.NewID())
	again := clerk.post("/desk/bookings", walk)
	if again.status != 409 || !strings.Contains(again.body, "already_booked") {
		t.Errorf("the same walk-in twice: %d, want 409 already_booked", again.status)
	}
	pages = append(pages, again, clerk.get("/desk"), clerk.get("/desk/walkin"))

	for i, pg := range pages {
		for _, v := range clear {
			if strings.Contains(pg.body, v) || strings.Contains(pg.location, v) {
				t.Errorf("page %d (status %d) shows %q in clear", i, pg.status, v)
			}
			for _, ck := range pg.cookies {
				if strings.Contains(ck.Value, v) {
					t.Errorf("page %d sets cookie %s with %q in clear", i, ck.Name, v)
				}
			}
		}
	}
	for _, v := range clear[:2] {
		if strings.Contains(s.logs.String(), v) {
			t.Errorf("the log shows %q in clear", v)
		}
	}
	// The current patient's cookie is bound to the clerk's session: another
	// clerk's browser with it finds nobody.
	other := deskClerk(s)
	u, _ := url.Parse(s.base + "/desk")
	var sealed *http.Cookie
	for _, ck := range clerk.http.Jar.Cookies(u) {
		if ck.Name == lookupCookie {
			sealed = ck
		}
	}
	if sealed == nil {
		t.Fatalf("the clerk's browser has no %s cookie", lookupCookie)
	}
	other.http.Jar.SetCookies(u, []*http.Cookie{{Name: lookupCookie, Value: sealed.Value, Path: "/desk"}})
	if pg := other.get("/desk/lookup"); pg.status != 200 || strings.Contains(pg.body, `id="patient"`) {
		t.Errorf("another session with the sealed cookie: %d, want the empty search page", pg.status)
	}
}

// TestDeskCheckIn: the wrong name shows identity_mismatch and the booking
// stays confirmed, with a rejected event and a checkin_refused audit row;
// the right card checks the patient in.
func TestDeskCheckIn(t *testing.T) {
	s := newSite(t)
	today := s.addToday()
	p := newDeskPatient(t, s, 15, "钱多多", today.ID)
	later := newDeskPatient(t, s, 16, "孙悟空", s.open.ID) // tomorrow: not yet
	clerk := deskClerk(s)

	page := clerk.find("resident_id", later.idNumber)
	if !strings.Contains(page.body, "Check-in opens on the visit day") || strings.Contains(page.body, `action="/desk/bookings/`+later.bookingID+`/checkin"`) {
		t.Errorf("tomorrow's booking offers check-in, or does not say when it opens")
	}

	clerk.find("resident_id", p.idNumber)
	checkin := func(name string) answer {
		return clerk.post("/desk/bookings/"+p.bookingID+"/checkin", url.Values{"csrf": {clerk.csrf("/desk/lookup")},
			"id_type": {"resident_id"}, "id_number": {p.idNumber}, "name": {name}})
	}
	a := checkin("钱少少")
	for _, want := range []string{"identity_mismatch", "姓名与证件登记信息不符", "钱*多", `id="b-` + p.bookingID + `"`, "已预约 Confirmed"} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the wrong name's page lacks %q", want)
		}
	}
	if a.status != 422 {
		t.Errorf("the wrong name: status %d, want 422", a.status)
	}
	if st := s.status(p.bookingID); st != "confirmed" {
		t.Errorf("after the wrong name the booking is %s, want confirmed", st)
	}
	if n := s.count(`SELECT count(*) FROM booking_events WHERE booking_id = $1 AND type = 'rejected' AND reason = 'identity_mismatch' AND staff_id IS NOT NULL`, p.bookingID); n != 1 {
		t.Errorf("got %d rejected events, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'checkin_refused' AND target = $1 AND actor_role = 'clerk'`, "booking:"+p.bookingID); n != 1 {
		t.Errorf("got %d checkin_refused audit rows, want 1", n)
	}
	// An empty name is refused before the Service: no second audit row.
	if a := checkin(" "); a.status != 400 || !strings.Contains(a.body, "invalid_field") {
		t.Errorf("an empty name: %d, want 400 invalid_field", a.status)
	}

	a = checkin(p.name)
	if a.status != 303 || !strings.HasPrefix(a.location, "/desk/lookup?") || mustQuery(t, a.location, "ok") != "checkedin" {
		t.Fatalf("the right name: %d → %q, want 303 → /desk/lookup?ok=checkedin…\n%s", a.status, a.location, a.body)
	}
	page = clerk.get(a.location)
	card := regexp.MustCompile(`(?s)<li class="card item booking hl" id="b-` + p.bookingID + `">.*?</li>`).FindString(page.body)
	if !strings.Contains(page.body, "Checked in.") || !strings.Contains(card, "已签到 Checked in") || strings.Contains(card, "/checkin") {
		t.Errorf("after check-in the page does not show the booking checked in without a form:\n%s", card)
	}
	if st := s.status(p.bookingID); st != "checked_in" {
		t.Errorf("the booking is %s, want checked_in", st)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'checkin_refused'`); n != 1 {
		t.Errorf("got %d checkin_refused audit rows, want still 1", n)
	}
	// Checking in again says it is no longer confirmed.
	if a := checkin(p.name); a.status != 409 || !strings.Contains(a.body, "booking_not_active") {
		t.Errorf("a second check-in: %d, want 409 booking_not_active", a.status)
	}
}

// TestDeskCheckInOverride: a booking made under a misheard name (钱朵朵 for
// the card's 钱多多), no name verified, is checked in with the clerk's
// override reason from the lookup page's form, audited as a check-in
// override with it.
func TestDeskCheckInOverride(t *testing.T) {
	s := newSite(t)
	today := s.addToday()
	p := newDeskPatient(t, s, 17, "钱朵朵", today.ID)
	clerk := deskClerk(s)
	if page := clerk.find("resident_id", p.idNumber); !strings.Contains(page.body, `name="override_reason"`) {
		t.Fatalf("the lookup's check-in form has no override reason")
	}
	a := clerk.post("/desk/bookings/"+p.bookingID+"/checkin", url.Values{"csrf": {clerk.csrf("/desk/lookup")},
		"id_type": {"resident_id"}, "id_number": {p.idNumber}, "name": {"钱多多"}, "override_reason": {"同音字，电话里听错"}})
	if a.status != 303 || mustQuery(t, a.location, "ok") != "checkedin" {
		t.Fatalf("check-in with the override: %d → %q, want 303 → ok=checkedin\n%s", a.status, a.location, a.body)
	}
	if st := s.status(p.bookingID); st != "checked_in" {
		t.Errorf("the booking is %s, want checked_in", st)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'checkin_override' AND target = $1 AND reason LIKE '%同音字，电话里听错%'`,
		"booking:"+p.bookingID); n != 1 {
		t.Errorf("got %d checkin_override audit rows with the reason, want 1", n)
	}
}

// TestDeskWalkinAndExtraSlots books a walk-in for a family member of a
// patient account, who then sees it on "my bookings", and adds extra slots.
func TestDeskWalkinAndExtraSlots(t *testing.T) {
	s := newSite(t)
	today := s.addToday()
	clerk := deskClerk(s)

	// A patient whose mother is on their list; she walks in.
	child := s.client()
	child.signUp(newPhone(), "correct horse battery")
	mumID, mumName := residentID(21), "李秀英"
	if a := child.addFamily(mumID, mumName, "", false); a.status != 303 {
		t.Fatalf("add family member: %d", a.status)
	}

	page := clerk.get("/desk/walkin")
	if !strings.Contains(page.body, `<option value="`+today.ID+`"`) || strings.Contains(page.body, `<option value="`+s.open.ID+`"`) {
		t.Errorf("the walk-in form should offer today's session only\n%s", page.body)
	}
	key := booking.NewID()
	walk := url.Values{"csrf": {clerk.csrf("/desk/walkin")}, "id_type": {"resident_id"}, "id_number": {mumID}, "name": {mumName},
		"session_id": {today.ID}, "privacy_consent": {booking.PrivacyNoticeVersion}, "idem": {key}}
	a := clerk.post("/desk/bookings", walk)
	if a.status != 303 || mustQuery(t, a.location, "ok") != "walkin_in" {
		t.Fatalf("walk-in: %d → %q\n%s", a.status, a.location, a.body)
	}
	id := mustQuery(t, a.location, "id")
	// The same form sent again books nothing more.
	if again := clerk.post("/desk/bookings", walk); again.status != 303 || mustQuery(t, again.location, "id") != id || mustQuery(t, again.location, "ok") != "walkin_in" {
		t.Errorf("the same walk-in form again: %d → %q, want the same booking", again.status, again.location)
	}
	if n := s.count(`SELECT count(*) FROM bookings WHERE channel = 'onsite' AND booked_by IS NOT NULL AND account_id IS NULL AND status = 'checked_in'`); n != 1 {
		t.Errorf("got %d on-site bookings by staff, checked in, want 1", n)
	}
	page = clerk.get(a.location)
	if !strings.Contains(page.body, "Walk-in booked") || !strings.Contains(page.body, "李*英") || !strings.Contains(page.body, "现场 On site") {
		t.Errorf("the page after the walk-in lacks the flash, the masked name or the channel")
	}

	// The child's "my bookings" does not show it: a booking belongs to the
	// account that made it, and the desk's belongs to the person (the
	// account holding them as its verified self sees it). A family member
	// on a list gives no power over bookings made elsewhere.
	mine := child.get("/patient/bookings")
	if strings.Contains(mine.body, `id="b-`+id+`"`) {
		t.Errorf("the child's bookings show the desk booking of their mother:\n%s", mine.body)
	}

	// Extra slots: a bad count is refused; two more on-site slots.
	extraKey := booking.NewID()
	extra := func(count string) answer {
		return clerk.post("/desk/sessions/"+today.ID+"/extra-slots", url.Values{"csrf": {clerk.csrf("/desk")},
			"count": {count}, "reason": {"急诊加号 urgent"}, "authorised_by": {"张伟"}, "idem": {extraKey}})
	}
	if a := extra("0"); a.status != 400 || !strings.Contains(a.body, "invalid_field") || !strings.Contains(a.body, "<details class=\"pop extra\" open>") {
		t.Errorf("0 extra slots: %d, want 400 invalid_field with the form open", a.status)
	}
	a = extra("2")
	if a.status != 303 || a.location != "/desk?ok=extra&s="+today.ID {
		t.Fatalf("extra slots: %d → %q\n%s", a.status, a.location, a.body)
	}
	// The same form sent again (a double click) adds nothing more.
	if a := extra("2"); a.status != 303 {
		t.Errorf("the same extra-slots form again: %d, want 303", a.status)
	}
	page = clerk.get(a.location)
	row := regexp.MustCompile(`(?s)<tr id="s-` + today.ID + `" class="[^"]*hl">.*?</tr>`).FindString(page.body)
	if !strings.Contains(row, "<b>5</b> / 6") || !strings.Contains(row, "<b>4</b> / 4") || !strings.Contains(page.body, "Extra slots added") {
		t.Errorf("after two extra slots the row should show on-site 5 / 6 and online 4 / 4:\n%s", row)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'extra_slots' AND target LIKE $1`, "session:"+today.ID+"%"); n != 1 {
		t.Errorf("got %d extra_slots audit rows, want 1", n)
	}
}

// TestPatientWaitlist joins a sold-out session's waitlist and leaves it.
func TestPatientWaitlist(t *testing.T) {
	s := newSiteRounds(t, 10*time.Minute)
	tiny := s.addTiny()
	newDeskPatient(t, s, 31, "冯一", tiny.ID) // takes the only online slot

	c := s.client()
	c.signUpHolder(newPhone(), "correct horse battery", residentID(32), "陈二")
	sessions := c.get("/patient/sessions?" + url.Values{"hospital": {s.hospital.ID}, "department": {s.dermatology.ID}, "date": {tiny.VisitDate}}.Encode())
	card := regexp.MustCompile(`(?s)<article class="card session" id="s-` + tiny.ID + `">.*?</article>`).FindString(sessions.body)
	if !strings.Contains(card, `action="/patient/waitlist"`) || strings.Contains(card, `action="/patient/bookings"`) || !strings.Contains(card, "候补 Join the waitlist") {
		t.Fatalf("the sold-out session should offer the waitlist instead of booking:\n%s", card)
	}
	pid := regexp.MustCompile(`<option value="([0-9a-f-]{36})">`).FindStringSubmatch(card)[1]
	join := url.Values{"csrf": {c.csrf("/patient/sessions")}, "session_id": {tiny.ID}, "patient_id": {pid}, "idem": {booking.NewID()}}
	a := c.post("/patient/waitlist", join)
	// The waitlist's round is open: no place is told (a later join in the
	// round may be drawn ahead), only when the round closes.
	if a.status != 303 || mustQuery(t, a.location, "ok") != "waitlisted" || strings.Contains(a.location, "pos=") {
		t.Fatalf("join: %d → %q", a.status, a.location)
	}
	id := mustQuery(t, a.location, "id")
	// The same form again (a double click) answers the same entry.
	if again := c.post("/patient/waitlist", join); again.status != 303 || mustQuery(t, again.location, "id") != id {
		t.Errorf("the same join form again: %d → %q, want the same entry", again.status, again.location)
	}
	page := c.get(a.location)
	for _, want := range []string{"You joined the waitlist", "This round closes at", "the order within a round is drawn then",
		"0 waiting from earlier rounds go first", `id="w-` + id + `"`, "候补中 Waiting", "陈*", "王芳 Wang Fang"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the bookings page after joining lacks %q", want)
		}
	}
	// Joining twice is refused on the sessions page.
	if a := c.post("/patient/waitlist", url.Values{"csrf": {c.csrf("/patient/sessions")}, "session_id": {tiny.ID}, "patient_id": {pid},
		"hospital": {s.hospital.ID}, "department": {s.dermatology.ID}, "date": {tiny.VisitDate}}); a.status != 409 || !strings.Contains(a.body, "already_waitlisted") {
		t.Errorf("join twice: %d, want 409 already_waitlisted", a.status)
	}
	// A session with free slots has no waitlist.
	if a := c.post("/patient/waitlist", url.Values{"csrf": {c.csrf("/patient/sessions")}, "session_id": {s.open.ID}, "patient_id": {pid}}); a.status != 409 || !strings.Contains(a.body, "slots_available") {
		t.Errorf("join a session with free slots: %d, want 409 slots_available", a.status)
	}
	if a := c.post("/patient/waitlist/"+id+"/leave", url.Values{}); a.status != 403 {
		t.Errorf("leave without a token: %d, want 403", a.status)
	}
	a = c.post("/patient/waitlist/"+id+"/leave", url.Values{"csrf": {c.csrf("/patient/bookings")}})
	if a.status != 303 || mustQuery(t, a.location, "ok") != "left" {
		t.Fatalf("leave: %d → %q\n%s", a.status, a.location, a.body)
	}
	page = c.get(a.location)
	w := regexp.MustCompile(`(?s)<li class="card item wait hl" id="w-` + id + `">.*?</li>`).FindString(page.body)
	if !strings.Contains(page.body, "You left the waitlist") || !strings.Contains(w, "已退出 Left") || strings.Contains(w, "/leave") {
		t.Errorf("after leaving the entry should read Left without a leave button:\n%s", w)
	}
	if n := s.count(`SELECT count(*) FROM waitlist WHERE id = $1 AND status = 'cancelled'`, id); n != 1 {
		t.Errorf("the entry is not cancelled in SQL")
	}
	// Another account cannot leave someone else's entry.
	other := s.client()
	other.signUp(newPhone(), "correct horse battery")
	if a := other.post("/patient/waitlist/"+id+"/leave", url.Values{"csrf": {other.csrf("/patient/bookings")}}); a.status != 404 || !strings.Contains(a.body, "waitlist_not_found") {
		t.Errorf("leave another account's entry: %d, want 404 waitlist_not_found", a.status)
	}
}

// TestDeskReissue: a booking of today its patient cancelled still waits out
// its random delay; the desk places its slot at once, with a reason.
func TestDeskReissue(t *testing.T) {
	s := newSite(t)
	today := s.addToday()
	p := newDeskPatient(t, s, 41, "褚十一", today.ID)
	if a := p.c.post("/patient/bookings/"+p.bookingID+"/cancel", url.Values{"csrf": {p.c.csrf("/patient/bookings")}}); a.status != 303 {
		t.Fatalf("cancel: %d\n%s", a.status, a.body)
	}
	clerk := deskClerk(s)
	page := clerk.find("resident_id", p.idNumber)
	action := `action="/desk/bookings/` + p.bookingID + `/reissue"`
	if !strings.Contains(page.body, action) || strings.Contains(page.body, `/checkin"`) {
		t.Fatalf("the cancelled booking of today should offer reissue and no check-in")
	}
	// The form says where the slot goes as the Service places it: the
	// waitlist's line, not the joins of a round still to be drawn.
	if !strings.Contains(page.body, "for 15 minutes another window books this session's walk-ins") {
		t.Errorf("the reissue form does not say that another window books the session's walk-ins for 15 minutes (review25 H2)")
	}
	reissue := func(reason string) answer {
		return clerk.post("/desk/bookings/"+p.bookingID+"/reissue", url.Values{"csrf": {clerk.csrf("/desk/lookup")}, "reason": {reason}})
	}
	if a := reissue(""); a.status != 400 || !strings.Contains(a.body, "invalid_field") || !strings.Contains(a.body, "item booking hl failed") {
		t.Errorf("reissue without a reason: %d, want 400 invalid_field on the lookup page", a.status)
	}
	// A reason too short is shown again, marked, in the form left open.
	if a := reissue("停"); a.status != 400 || !strings.Contains(a.body, `<details class="reissue" open>`) ||
		!strings.Contains(a.body, `name="reason" required maxlength="200" autocomplete="off" value="停" aria-invalid="true" aria-describedby="error" autofocus>`) {
		t.Errorf("reissue with a one-character reason: %d, want 400 with the form open, the reason kept and marked\n%s", a.status, a.body)
	}
	a := reissue("患者改约 rebooked")
	if a.status != 303 || !strings.HasPrefix(mustQuery(t, a.location, "ok"), "reissued") {
		t.Fatalf("reissue: %d → %q\n%s", a.status, a.location, a.body)
	}
	if page := clerk.get(a.location); !strings.Contains(page.body, `id="flash"`) || !strings.Contains(page.body, deskFlashes[mustQuery(t, a.location, "ok")]) {
		t.Errorf("the page after reissue has no confirmation")
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'reissue' AND target = $1`, "booking:"+p.bookingID); n != 1 {
		t.Errorf("got %d reissue audit rows, want 1", n)
	}
	// The slot is placed: a second reissue finds nothing to place.
	if a := reissue("again"); a.status != 409 || !strings.Contains(a.body, "not_reissuable") {
		t.Errorf("a second reissue: %d, want 409 not_reissuable", a.status)
	}
	problems, err := s.svc.Check(t.Context())
	testenv.Must(t, err, "check")
	if len(problems) > 0 {
		t.Errorf("Redis and SQL disagree:\n%v", problems)
	}
}

// TestDeskShowsOnlyItsHospital: a clerk's Today page lists the sessions of
// the clerk's hospital only; another hospital's day is not theirs to act on
// (and its Redis state being rebuilt must not take this desk down).
func TestDeskShowsOnlyItsHospital(t *testing.T) {
	s := newSite(t)
	s.addToday()
	other := booking.Hospital{ID: booking.NewID(), Name: "别的医院 Other Hospital " + testenv.Token(), TimeZone: "Asia/Shanghai", Policy: booking.DefaultPolicy}
	dept := booking.Department{ID: booking.NewID(), HospitalID: other.ID, Name: "眼科 Ophthalmology"}
	doc := booking.Doctor{ID: booking.NewID(), HospitalID: other.ID, DepartmentID: dept.ID, Name: "赵敏 Zhao Min"}
	now := time.Now()
	ss, err := booking.BuildSession(booking.SessionSpec{HospitalID: other.ID, DepartmentID: dept.ID, DoctorID: doc.ID,
		VisitDate: now.In(shanghai).Format(time.DateOnly), Period: "evening", StartsAt: now.Add(30 * time.Minute).Truncate(time.Second),
		EndsAt: now.Add(4 * time.Hour).Truncate(time.Second),
		Quotas: []booking.ChannelQuota{{Channel: booking.ChannelOnsite, Quota: 4, ReleaseAt: now.Add(-time.Hour)}}})
	testenv.Must(t, err, "build the other hospital's session")
	testenv.Must(t, s.svc.SaveSchedule(t.Context(), booking.Schedule{Hospitals: []booking.Hospital{other},
		Departments: []booking.Department{dept}, Doctors: []booking.Doctor{doc}, Sessions: []booking.Session{ss}}), "save the other hospital")

	c := s.client()
	c.deskLogin(s.newClerk("clerk password 1"), "clerk password 1")
	a := c.get("/desk")
	if a.status != 200 || !strings.Contains(a.body, s.hospital.Name) {
		t.Fatalf("desk Today = %d, want 200 with the clerk's hospital", a.status)
	}
	if strings.Contains(a.body, other.Name) || strings.Contains(a.body, "Zhao Min") {
		t.Errorf("desk Today of a clerk shows another hospital's day")
	}
}

// TestDeskVerifiesAndBindsTheOwnAccount: a person whose ID number someone
// else used regains it at the desk, and the desk console is where a clerk
// does it: from the patient found by their card, the name on the card and
// the phone the person logs in with make that account their verified self
// (it then sees what others made for them). It was API only. A phone whose
// account has not added the person is refused at that field; a name other
// than the one verified is refused without a correction reason, and
// replaces it with one. The number is never typed again nor shown.
func TestDeskVerifiesAndBindsTheOwnAccount(t *testing.T) {
	s := newSite(t)
	s.addToday()
	idNumber, name := residentID(4401), "郑十一"
	person := s.client()
	phone := newPhone()
	person.signUpHolder(phone, "correct horse battery", idNumber, name)
	bound := func() int {
		return s.count(`SELECT count(*) FROM patients WHERE account_id = $1 AND self_verified_at IS NOT NULL`, accountOf(t, s, person))
	}
	clerk := deskClerk(s)
	page := clerk.find("resident_id", idNumber)
	if !strings.Contains(page.body, `id="verify-form"`) {
		t.Fatalf("the lookup page of a found patient has no verify form")
	}
	verifyRung := func(name, accountPhone, reason, rung string) answer {
		return clerk.post("/desk/lookup/verify", url.Values{"csrf": {clerk.csrf("/desk/lookup")}, "name": {name},
			"account_phone": {accountPhone}, "correction_reason": {reason}, "number_rung": {rung}})
	}
	verify := func(name, accountPhone, reason string) answer { return verifyRung(name, accountPhone, reason, "1") }
	if a := verify(name, newPhone(), ""); a.status != 404 || !strings.Contains(a.body, `<details class="card verify" open>`) ||
		!strings.Contains(a.body, `name="account_phone" type="tel" inputmode="numeric" maxlength="20" autocomplete="off" aria-invalid="true"`) {
		t.Errorf("verify with a phone of no account: %d, want 404 with the form open and the phone marked\n%s", a.status, a.body)
	}
	if n := bound(); n != 0 {
		t.Errorf("after the refusal %d bound selves, want 0", n)
	}
	// Being listed is not holding (review24): the account's number rung in
	// the card's person's hand, or no binding.
	if a := verifyRung(name, phone, "", ""); a.status != 400 ||
		!strings.Contains(a.body, `name="number_rung" value="1" aria-invalid="true"`) {
		t.Errorf("bind without the number rung: %d, want 400 with the box marked\n%s", a.status, a.body)
	}
	if n := bound(); n != 0 {
		t.Errorf("after the unproved binding %d bound selves, want 0", n)
	}
	a := verify(name, phone, "")
	if a.status != 303 || a.location != "/desk/lookup?ok=verified_bound" {
		t.Fatalf("verify and bind: %d → %q\n%s", a.status, a.location, a.body)
	}
	if page := clerk.get(a.location); !strings.Contains(page.body, "已核验，并绑定为患者本人账户") || strings.Contains(page.body, idNumber) || strings.Contains(page.body, name) {
		t.Errorf("the page after verifying lacks its confirmation, or shows the number or the name in clear")
	}
	if n := bound(); n != 1 {
		t.Errorf("%d bound selves of the person's account, want 1", n)
	}
	if a := verify("郑十二", "", ""); a.status != 409 || !strings.Contains(a.body, "verified_name_differs") {
		t.Errorf("another name without a correction reason: %d, want 409 verified_name_differs", a.status)
	}
	if a := verify("郑十二", "", "窗口录入错误 typed wrong"); a.status != 303 || a.location != "/desk/lookup?ok=verified" {
		t.Errorf("another name with a correction reason: %d → %q, want the correction", a.status, a.location)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_name_corrected'`); n != 1 {
		t.Errorf("%d identity_name_corrected audit rows, want 1", n)
	}
}
