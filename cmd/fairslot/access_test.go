package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// The access-control table: every operation of docs/api/openapi.yaml × every
// role, against the real service. A route the document lists without a row
// here fails the test, and so does a row the document does not list: a new
// route cannot ship without deciding who may call it.

// roles, in the order the table's columns list them. patientB holds
// patientA's person as a family member (the scalper's buyer of issue 11);
// clerkOther works for another hospital; admin is platform-wide.
var roles = []string{"anonymous", "patientA", "patientB", "operator", "clerk", "clerkOther", "admin"}

// apiRoute is one operation of the OpenAPI document.
type apiRoute struct{ method, path string }

func (r apiRoute) String() string { return r.method + " " + r.path }

// openapiRoutes reads the operations of docs/api/openapi.yaml: the paths
// under "paths:" and the methods under each.
func openapiRoutes(t *testing.T) []apiRoute {
	t.Helper()
	f, err := os.Open("../../docs/api/openapi.yaml")
	testenv.Must(t, err, "open the OpenAPI document")
	defer f.Close()
	pathRE := regexp.MustCompile(`^  (/\S*):\s*$`)
	methodRE := regexp.MustCompile(`^    (get|put|post|delete|patch|head|options|trace):\s*$`)
	var out []apiRoute
	in, path := false, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "paths:":
			in = true
		case in && len(line) > 0 && line[0] != ' ' && line[0] != '#':
			in = false
		case !in:
		case pathRE.MatchString(line):
			path = pathRE.FindStringSubmatch(line)[1]
		case methodRE.MatchString(line) && path != "":
			out = append(out, apiRoute{strings.ToUpper(methodRE.FindStringSubmatch(line)[1]), path})
		}
	}
	testenv.Must(t, sc.Err(), "read the OpenAPI document")
	if len(out) < 20 {
		t.Fatalf("read only %d operations from the OpenAPI document: the parser is wrong", len(out))
	}
	return out
}

// access is the world the table runs in.
type access struct {
	t   *testing.T
	svc *service
	// creds and tokens of each role but anonymous
	creds  map[string][2]string
	tokens map[string]string
	// patientA's patients (self first); patientB's own self and its patient
	// that is patientA's person.
	aPatients     []string
	aPeople       []int // residentID numbers of patientA's patients
	bSelf, bHoldA string
	hospital      string
	sessions      []booking.Session // tomorrow: three open ones, then one sold out
	today         booking.Session
	otherSession  booking.Session // the other hospital's
	shared        string          // a waitlist entry of patientA's no request removes
	sharedBooking string          // a booking of patientA's no request changes
	sharedMember  string          // a family member of patientB's no request removes
	notification  string          // a notification of patientA's
	sharedWalkIn  string
	sharedCard    map[string]string
	seq           int
	// lottery: a lottery session the day after tomorrow, its window open
	// for the next hour; sharedLottery is patientA's entry no request
	// withdraws.
	lottery       booking.Session
	sharedLottery string
	entrySeq      int
	sharedCaseID  string // a report of patientA's no request closes
	// sharedTemplate is a stored template no request deletes.
	sharedTemplate string
	// sharedCallBack is a call-back row of a caller's stopped booking that
	// no request takes off the list (no_answer keeps it).
	sharedCallBack string
}

// lotteryEntry enters patientA's patient i in the lottery session and
// returns the request id.
func (a *access) lotteryEntry(i int) string {
	a.t.Helper()
	r := a.svc.do("POST", "/v1/bookings", a.tokens["patientA"], map[string]string{"session_id": a.lottery.ID, "patient_id": a.aPatients[i]})
	var e struct {
		ID string `json:"request_id"`
	}
	r.decode(a.t, &e)
	if r.status != 202 || e.ID == "" {
		a.t.Fatalf("lottery entry = %d %s, want 202", r.status, r.body)
	}
	return e.ID
}

// entry is a fresh entry of patientA's for the roles whose request
// withdraws it (they must succeed), else the shared one.
func (a *access) entry(role string, changers ...string) string {
	if slices.Contains(changers, role) {
		a.entrySeq++
		return a.lotteryEntry(1 + a.entrySeq%(len(a.aPatients)-1))
	}
	if a.sharedLottery == "" {
		a.sharedLottery = a.lotteryEntry(0)
	}
	return a.sharedLottery
}

// accessLottery adds to sch a session of its first hospital, the day after
// tomorrow in a department of its own (so entries take no quota the other
// rows need), whose online pool is a lottery open since a minute ago and
// drawn in an hour.
func accessLottery(t *testing.T, sch *booking.Schedule) booking.Session {
	t.Helper()
	h := sch.Hospitals[0]
	dept := booking.Department{ID: booking.NameID(h.ID, "lottery dept"), HospitalID: h.ID, Name: "Lottery Dept"}
	doc := booking.Doctor{ID: booking.NameID(h.ID, "lottery doc"), HospitalID: h.ID, DepartmentID: dept.ID, Name: "Lottery Doctor"}
	loc, err := time.LoadLocation("Asia/Shanghai")
	testenv.Must(t, err, "load zone")
	now := time.Now().In(loc)
	day := time.Date(now.Year(), now.Month(), now.Day()+2, 8, 0, 0, 0, loc)
	s, err := booking.BuildSession(booking.SessionSpec{HospitalID: h.ID, DepartmentID: dept.ID, DoctorID: doc.ID,
		VisitDate: day.Format(time.DateOnly), Period: "morning", StartsAt: day, EndsAt: day.Add(4 * time.Hour),
		Quotas: []booking.ChannelQuota{{Channel: booking.ChannelOnline, Quota: 5, ReleaseAt: now.Add(-time.Minute),
			Mode: booking.Lottery, DrawAt: now.Add(time.Hour)}}})
	testenv.Must(t, err, "build the lottery session")
	sch.Departments = append(sch.Departments, dept)
	sch.Doctors = append(sch.Doctors, doc)
	sch.Sessions = append(sch.Sessions, s)
	return s
}

// booking is a fresh booking of patientA's for the roles whose request
// changes it (they must succeed), else one shared by the others.
func (a *access) booking(role string, changers ...string) string {
	if slices.Contains(changers, role) {
		return a.aBooking()
	}
	if a.sharedBooking == "" {
		a.sharedBooking = a.aBooking()
	}
	return a.sharedBooking
}

func (a *access) next() int { a.seq++; return a.seq }

// login logs in with a role's credentials and returns a fresh token.
func (a *access) login(role string) string {
	a.t.Helper()
	c := a.creds[role]
	var tok struct{ Token string }
	a.svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": c[0], "password": c[1]}).decode(a.t, &tok)
	if tok.Token == "" {
		a.t.Fatalf("%s cannot log in", role)
	}
	return tok.Token
}

func (a *access) relogin() {
	for role := range a.creds {
		a.tokens[role] = a.login(role)
	}
}

// aBooking makes a fresh online booking of patientA and returns its id.
func (a *access) aBooking() string {
	a.t.Helper()
	for try := 0; try < len(a.aPatients)*3; try++ {
		n := a.next()
		p, s := a.aPatients[n%len(a.aPatients)], a.sessions[(n/len(a.aPatients))%3]
		r := a.svc.do("POST", "/v1/bookings", a.tokens["patientA"], map[string]string{"session_id": s.ID, "patient_id": p})
		if r.status == 201 {
			var b struct {
				ID string `json:"booking_id"`
			}
			r.decode(a.t, &b)
			return b.ID
		}
	}
	a.t.Fatalf("patientA could not book")
	return ""
}

// walkIn books a fresh walk-in at today's session and returns its id and
// the walk-in's identity.
func (a *access) walkIn() (string, map[string]string) {
	a.t.Helper()
	who := map[string]string{"id_type": "resident_id", "id_number": residentID(5000 + a.next()), "name": "周七"}
	body := map[string]string{"session_id": a.today.ID, "privacy_consent": booking.PrivacyNoticeVersion}
	for k, v := range who {
		body[k] = v
	}
	r := a.svc.do("POST", "/v1/desk/bookings", a.tokens["clerk"], body)
	if r.status != 201 {
		a.t.Fatalf("walk-in = %d %s", r.status, r.body)
	}
	var b struct {
		ID string `json:"booking_id"`
	}
	r.decode(a.t, &b)
	return b.ID, who
}

// aWaitlistEntry puts one of patientA's family on the sold-out session's
// waitlist.
func (a *access) aWaitlistEntry(i int) string {
	a.t.Helper()
	r := a.svc.do("POST", "/v1/waitlist", a.tokens["patientA"], map[string]string{"session_id": a.sessions[3].ID, "patient_id": a.aPatients[i]})
	if r.status != 201 {
		a.t.Fatalf("waitlist = %d %s", r.status, r.body)
	}
	var e struct {
		ID string `json:"waitlist_id"`
	}
	r.decode(a.t, &e)
	return e.ID
}

// aNotification is a notification of patientA's (a clinic stop's, written
// as the stop writes it).
func (a *access) aNotification() string {
	a.t.Helper()
	if a.notification == "" {
		id := booking.NewID()
		_, err := a.svc.pool.Exec(context.Background(), `INSERT INTO notifications (id, hospital_id, session_id, kind, account_id, body, created_at)
			SELECT $1, $2, $3, 'session_stopped', account_id, 'stopped', now() FROM patients WHERE id = $4`,
			id, a.hospital, a.sessions[0].ID, a.aPatients[0])
		testenv.Must(a.t, err, "write patientA's notification")
		a.notification = id
	}
	return a.notification
}

// bMember is a fresh family member of patientB's (fresh: for the request
// that removes it), else one shared by the others.
func (a *access) bMember(fresh bool) string {
	a.t.Helper()
	if !fresh && a.sharedMember != "" {
		return a.sharedMember
	}
	r := a.svc.do("POST", "/v1/patients", a.tokens["patientB"], a.person())
	var p struct {
		ID string `json:"patient_id"`
	}
	r.decode(a.t, &p)
	if r.status != 201 || p.ID == "" {
		a.t.Fatalf("add patientB's member = %d %s", r.status, r.body)
	}
	if !fresh {
		a.sharedMember = p.ID
	}
	return p.ID
}

func (a *access) person() map[string]string {
	return map[string]string{"id_type": "resident_id", "id_number": residentID(6000 + a.next()), "name": "吴八"}
}

func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// call is one request of the table: path (with ids), body, and a token to
// use instead of the role's own (a throwaway login, for operations that end
// logins).
type call struct {
	path  string
	body  any
	token string
}

// row says, for one operation, what each role's request is and which status
// it gets, in the order of roles.
type row struct {
	req  func(a *access, role string) call
	want [7]int
	// revokes: the operation ends the caller's logins; log every role in
	// again after it.
	revokes bool
}

func accessTable() map[string]row {
	ok := func(p string) func(*access, string) call { return func(*access, string) call { return call{path: p} } }
	return map[string]row{
		"GET /healthz": {ok("/healthz"), [7]int{200, 200, 200, 200, 200, 200, 200}, false},
		"GET /readyz":  {ok("/readyz"), [7]int{200, 200, 200, 200, 200, 200, 200}, false},
		"POST /v1/accounts": {func(a *access, _ string) call {
			return call{path: "/v1/accounts", body: map[string]string{"phone": fmt.Sprintf("136%08d", a.next()), "password": "a password 1"}}
		}, [7]int{201, 201, 201, 201, 201, 201, 201}, false},
		"POST /v1/auth/login": {func(a *access, _ string) call {
			c := a.creds["patientA"]
			return call{path: "/v1/auth/login", body: map[string]string{"phone": c[0], "password": c[1]}}
		}, [7]int{200, 200, 200, 200, 200, 200, 200}, false},
		"POST /v1/auth/logout": {func(a *access, role string) call {
			c := call{path: "/v1/auth/logout"}
			if role != "anonymous" {
				c.token = a.login(role)
			}
			return c
		}, [7]int{401, 200, 200, 200, 200, 200, 200}, true},
		"POST /v1/auth/password": {func(a *access, role string) call {
			c := call{path: "/v1/auth/password", body: map[string]string{"current_password": a.creds[role][1], "new_password": a.creds[role][1]}}
			if role != "anonymous" {
				c.token = a.login(role)
			} else {
				c.body = map[string]string{"current_password": "x-password", "new_password": "y-password"}
			}
			return c
		}, [7]int{401, 200, 200, 200, 200, 200, 200}, true},
		// Public: the desk's code is the credential, whoever sends it (a
		// weak new password is refused before any code is looked at;
		// TestDeskResetsAForgottenPassword runs the codes).
		"POST /v1/auth/password-reset": {func(a *access, _ string) call {
			return call{path: "/v1/auth/password-reset", body: map[string]string{"phone": a.creds["patientA"][0],
				"code": "ABCD-EFGH-JKMN", "new_password": "short"}}
		}, [7]int{400, 400, 400, 400, 400, 400, 400}, false},
		"POST /v1/patients": {func(a *access, _ string) call {
			return call{path: "/v1/patients", body: a.person()}
		}, [7]int{401, 201, 201, 403, 403, 403, 403}, false},
		"GET /v1/patients": {ok("/v1/patients"), [7]int{401, 200, 200, 200, 200, 200, 200}, false},
		// patientB's family members (patientA's list is full): patientB
		// edits and removes its own, patientA finds no such member, staff
		// keep no list.
		// A patient moves to a new login number (and the table's logins
		// follow it); a staff account's number is an administrator's.
		"POST /v1/auth/phone": {func(a *access, role string) call {
			if role == "anonymous" {
				return call{path: "/v1/auth/phone", body: map[string]string{"password": "x-password", "phone": "13900000001"}}
			}
			c := call{path: "/v1/auth/phone", token: a.login(role)}
			number := fmt.Sprintf("1390%07d", 1000+a.next())
			c.body = map[string]string{"password": a.creds[role][1], "phone": number}
			if role == "patientA" || role == "patientB" {
				a.creds[role] = [2]string{number, a.creds[role][1]}
			}
			return c
		}, [7]int{401, 200, 200, 403, 403, 403, 403}, true},
		"PATCH /v1/patients/{patient_id}": {func(a *access, _ string) call {
			return call{path: "/v1/patients/" + a.bMember(false), body: map[string]string{"relationship": "parent"}}
		}, [7]int{401, 404, 200, 403, 403, 403, 403}, false},
		"DELETE /v1/patients/{patient_id}": {func(a *access, role string) call {
			return call{path: "/v1/patients/" + a.bMember(role == "patientB")}
		}, [7]int{401, 404, 204, 403, 403, 403, 403}, false},
		"GET /v1/hospitals": {ok("/v1/hospitals"), [7]int{200, 200, 200, 200, 200, 200, 200}, false},
		"GET /v1/hospitals/{hospital_id}/departments": {func(a *access, _ string) call {
			return call{path: "/v1/hospitals/" + a.hospital + "/departments"}
		}, [7]int{200, 200, 200, 200, 200, 200, 200}, false},
		"GET /v1/hospitals/{hospital_id}/sessions": {func(a *access, _ string) call {
			return call{path: "/v1/hospitals/" + a.hospital + "/sessions"}
		}, [7]int{200, 200, 200, 200, 200, 200, 200}, false},
		// patientB books with patientA's patient: not its own.
		"POST /v1/bookings": {func(a *access, role string) call {
			p := a.aPatients[0]
			if role == "patientA" {
				return call{path: "/v1/bookings", body: map[string]string{"session_id": a.sessions[2].ID, "patient_id": a.aPatients[3]}}
			}
			return call{path: "/v1/bookings", body: map[string]string{"session_id": a.sessions[0].ID, "patient_id": p}}
		}, [7]int{401, 201, 404, 403, 403, 403, 403}, false},
		"GET /v1/bookings": {ok("/v1/bookings"), [7]int{401, 200, 200, 200, 200, 200, 200}, false},
		// Lottery entries are patientA's; staff see their hospital's (as
		// bookings), withdraw only those they made (an admin any of its
		// hospital's); the draw record is public, its admin view an
		// administrator's of the session's hospital.
		"GET /v1/lottery/requests": {ok("/v1/lottery/requests"), [7]int{401, 200, 200, 200, 200, 200, 200}, false},
		"GET /v1/lottery/requests/{request_id}": {func(a *access, role string) call {
			return call{path: "/v1/lottery/requests/" + a.entry(role)}
		}, [7]int{401, 200, 404, 200, 200, 404, 200}, false},
		"DELETE /v1/lottery/requests/{request_id}": {func(a *access, role string) call {
			return call{path: "/v1/lottery/requests/" + a.entry(role, "patientA", "admin")}
		}, [7]int{401, 200, 404, 403, 403, 404, 200}, false},
		"GET /v1/lottery/sessions/{session_id}": {func(a *access, _ string) call {
			return call{path: "/v1/lottery/sessions/" + a.lottery.ID}
		}, [7]int{200, 200, 200, 200, 200, 200, 200}, false},
		"GET /v1/admin/sessions/{session_id}/lottery": {func(a *access, _ string) call {
			return call{path: "/v1/admin/sessions/" + a.lottery.ID + "/lottery"}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		"GET /v1/bookings/{booking_id}": {func(a *access, role string) call {
			return call{path: "/v1/bookings/" + a.booking(role)}
		}, [7]int{401, 200, 404, 200, 200, 404, 200}, false},
		// An operator cancels phone bookings only; this one is online.
		"DELETE /v1/bookings/{booking_id}": {func(a *access, role string) call {
			return call{path: "/v1/bookings/" + a.booking(role, "patientA", "clerk", "admin")}
		}, [7]int{401, 200, 404, 403, 200, 404, 200}, false},
		"POST /v1/waitlist": {func(a *access, role string) call {
			p := a.aPatients[1]
			if role == "patientB" {
				p = a.aPatients[2] // patientA's: not patientB's own
			}
			return call{path: "/v1/waitlist", body: map[string]string{"session_id": a.sessions[3].ID, "patient_id": p}}
		}, [7]int{401, 201, 404, 403, 403, 403, 403}, false},
		"GET /v1/waitlist": {ok("/v1/waitlist"), [7]int{401, 200, 200, 200, 200, 200, 200}, false},
		"DELETE /v1/waitlist/{waitlist_id}": {func(a *access, role string) call {
			if role == "patientA" {
				return call{path: "/v1/waitlist/" + a.aWaitlistEntry(2)}
			}
			return call{path: "/v1/waitlist/" + a.sharedEntry()}
		}, [7]int{401, 200, 404, 404, 404, 404, 404}, false},
		// What other accounts made for the caller's verified self: neither
		// patient's self is verified here, so both see empty lists; staff
		// have no person of their own.
		"GET /v1/made-by-others": {ok("/v1/made-by-others"), [7]int{401, 200, 200, 403, 403, 403, 403}, false},
		// Who lists the caller's verified self (none here: no account of
		// the table has one, so leaving a listing is forbidden to both).
		"GET /v1/listed-by": {ok("/v1/listed-by"), [7]int{401, 200, 200, 403, 403, 403, 403}, false},
		"DELETE /v1/listed-by/{listing_id}": {func(*access, string) call {
			return call{path: "/v1/listed-by/" + "00000000-0000-4000-8000-000000000001"}
		}, [7]int{401, 403, 403, 403, 403, 403, 403}, false},
		// patientB's member's own consent: not due (an adult), answered as
		// it stands; another account's member is 404.
		"POST /v1/patients/{patient_id}/privacy-consent": {func(a *access, _ string) call {
			return call{path: "/v1/patients/" + a.bMember(false) + "/privacy-consent", body: map[string]string{"privacy_consent": booking.PrivacyNoticeVersion}}
		}, [7]int{401, 404, 200, 403, 403, 403, 403}, false},
		// The desk, with a card nobody registered: any clerk reads (404
		// here); nobody else.
		"POST /v1/desk/listings": {func(a *access, _ string) call {
			return call{path: "/v1/desk/listings", body: a.person()}
		}, [7]int{401, 403, 403, 403, 404, 404, 403}, false},
		"POST /v1/desk/listings/{listing_id}/remove": {func(a *access, _ string) call {
			return call{path: "/v1/desk/listings/00000000-0000-4000-8000-000000000001/remove", body: a.person()}
		}, [7]int{401, 403, 403, 403, 404, 404, 403}, false},
		// A copy of the caller's own data: a patient's only.
		"GET /v1/me/export": {ok("/v1/me/export"), [7]int{401, 200, 200, 403, 403, 403, 403}, false},
		// A patient's consent to the current privacy notice: staff have
		// none to give (the notice is the patients').
		"POST /v1/me/privacy-consent": {func(*access, string) call {
			return call{path: "/v1/me/privacy-consent", body: map[string]string{"privacy_consent": booking.PrivacyNoticeVersion}}
		}, [7]int{401, 201, 201, 403, 403, 403, 403}, false},
		// A patient closes their own account with the password: a wrong
		// one here, so the table's accounts stay (TestPatientClosesTheAccount
		// closes one); staff accounts are disabled, not closed.
		// The caller's own account: any role reads its own.
		"GET /v1/me": {ok("/v1/me"), [7]int{401, 200, 200, 200, 200, 200, 200}, false},
		// The holder's 撤销注销: nothing pending here, the same 200; staff
		// accounts have no closing.
		"DELETE /v1/me/close": {ok("/v1/me/close"), [7]int{401, 200, 200, 403, 403, 403, 403}, false},
		// The holder cancels a desk login move waiting its cooling-off
		// (review25 H4): nothing waits here, the same 200.
		"DELETE /v1/me/login-move": {ok("/v1/me/login-move"), [7]int{401, 200, 200, 403, 403, 403, 403}, false},
		"POST /v1/me/close": {func(a *access, role string) call {
			c := call{path: "/v1/me/close", body: map[string]string{"password": "not the password"}}
			if role != "anonymous" {
				c.token = a.login(role)
			}
			return c
		}, [7]int{401, 401, 401, 403, 403, 403, 403}, false},
		"POST /v1/phone/bookings": {func(a *access, _ string) call {
			return call{path: "/v1/phone/bookings", body: with(a.person(), "caller_phone", "13700000099", "session_id", a.sessions[0].ID, "privacy_consent", booking.PrivacyNoticeVersion)}
		}, [7]int{401, 403, 403, 201, 403, 403, 403}, false},
		// An operator cancels for a caller on the line: the booking made on
		// a call from the number they ring from, with their ID and name.
		"POST /v1/phone/cancellations": {func(a *access, role string) call {
			who, id := a.person(), booking.NewID()
			if role == "operator" {
				body := a.sessionBody(40 + a.next())
				body["doctor_id"] = a.freshDoctor()
				body["channels"] = []map[string]any{{"channel": "phone", "quota": 2, "release_at": time.Now().Add(-time.Minute).Format(time.RFC3339)}}
				sess := a.create("/v1/admin/sessions", body, "session_id")
				r := a.svc.do("POST", "/v1/phone/bookings", a.tokens["operator"], with(who, "caller_phone", "13700000097", "session_id", sess, "privacy_consent", booking.PrivacyNoticeVersion))
				var out struct {
					ID string `json:"booking_id"`
				}
				if r.decode(a.t, &out); r.status != 201 || out.ID == "" {
					a.t.Fatalf("book a caller by phone: %d %s", r.status, r.body)
				}
				id = out.ID
			}
			return call{path: "/v1/phone/cancellations", body: with(who, "caller_phone", "13700000097", "booking_id", id)}
		}, [7]int{401, 403, 403, 200, 403, 403, 403}, false},
		"POST /v1/desk/bookings": {func(a *access, _ string) call {
			return call{path: "/v1/desk/bookings", body: with(a.person(), "session_id", a.today.ID, "privacy_consent", booking.PrivacyNoticeVersion)}
		}, [7]int{401, 403, 403, 403, 201, 403, 403}, false},
		"POST /v1/desk/checkins": {func(a *access, role string) call {
			if role == "clerk" {
				id, who := a.walkIn()
				return call{path: "/v1/desk/checkins", body: with(who, "booking_id", id)}
			}
			if a.sharedWalkIn == "" {
				a.sharedWalkIn, a.sharedCard = a.walkIn()
			}
			return call{path: "/v1/desk/checkins", body: with(a.sharedCard, "booking_id", a.sharedWalkIn)}
		}, [7]int{401, 403, 403, 403, 200, 404, 403}, false},
		// The booking's time has not come: the clerk of its hospital gets as
		// far as not_reissuable.
		"POST /v1/desk/reissue": {func(a *access, role string) call {
			return call{path: "/v1/desk/reissue", body: map[string]string{"booking_id": a.booking(role), "reason": "did not come"}}
		}, [7]int{401, 403, 403, 403, 409, 404, 403}, false},
		// The clerk of the booking's hospital cancels it (a fresh one).
		"POST /v1/desk/cancellations": {func(a *access, role string) call {
			return call{path: "/v1/desk/cancellations", body: map[string]string{"booking_id": a.booking(role, "clerk"), "reason": "ID number mistyped"}}
		}, [7]int{401, 403, 403, 403, 200, 404, 403}, false},
		"POST /v1/desk/lookup": {func(a *access, role string) call {
			// As a caller: the name and the number they ring from are what an
			// operator's lookup needs beside the ID number, and the caller
			// read the number aloud (a clerk's: how the card was checked).
			// Another hospital's clerk learns nothing of a person with
			// nothing there (review21 L1).
			check := "card_shown"
			if role == "operator" {
				check = "spoken"
			}
			return call{path: "/v1/desk/lookup", body: map[string]string{"id_type": "resident_id", "id_number": residentID(a.aPeople[1]),
				"name": "甲乙", "caller_phone": a.creds["patientA"][0], "identity_check": check}}
		}, [7]int{401, 403, 403, 200, 200, 404, 403}, false},
		"POST /v1/desk/identities/verify": {func(a *access, _ string) call {
			return call{path: "/v1/desk/identities/verify", body: a.person()}
		}, [7]int{401, 403, 403, 403, 200, 200, 403}, false},
		// A person nobody registered: a clerk gets as far as
		// patient_not_found (nothing recorded), anyone else is refused.
		"POST /v1/desk/deaths": {func(a *access, _ string) call {
			return call{path: "/v1/desk/deaths", body: map[string]string{"id_type": "resident_id", "id_number": residentID(a.next()),
				"name": "测试甲", "evidence": "death_certificate", "reason": "家属持死亡医学证明"}}
		}, [7]int{401, 403, 403, 403, 404, 404, 403}, false},
		// patientA's holder with the card: any clerk (identities are
		// platform-wide); the code changes nothing until it is used.
		"POST /v1/desk/password-resets": {func(a *access, _ string) call {
			return call{path: "/v1/desk/password-resets", body: map[string]string{"id_type": "resident_id", "id_number": residentID(a.aPeople[0]),
				"name": "测试" + string(rune('甲'+a.aPeople[0]%10)), "account_phone": a.creds["patientA"][0]}}
		}, [7]int{401, 403, 403, 403, 201, 201, 403}, false},
		// A number no account logs in with: a clerk's release gets as far
		// as patient_not_found (nothing released), anyone else's is refused.
		"POST /v1/desk/phone-releases": {func(a *access, _ string) call {
			body := map[string]any{"phone": fmt.Sprintf("136%08d", a.next()), "carrier_proof_seen": true}
			for k, v := range a.person() {
				body[k] = v
			}
			return call{path: "/v1/desk/phone-releases", body: body}
		}, [7]int{401, 403, 403, 403, 404, 404, 403}, false},
		// A card no account holds as its self: not_account_holder for a
		// clerk (as a card not the holder's: review19c L2).
		"POST /v1/desk/phone-restores": {func(a *access, _ string) call {
			return call{path: "/v1/desk/phone-restores", body: with(a.person(), "phone", fmt.Sprintf("136%08d", a.next()))}
		}, [7]int{401, 403, 403, 403, 403, 403, 403}, false},
		// A card whose person no account names as its own: any clerk gets
		// as far as finding no account, not_account_holder
		// (TestDeskClosesAnAccountFoundByTheCard closes one).
		"POST /v1/desk/account-closures": {func(a *access, _ string) call {
			return call{path: "/v1/desk/account-closures", body: map[string]string{"id_type": "resident_id",
				"id_number": residentID(97000 + a.next()), "name": "测试某"}}
		}, [7]int{401, 403, 403, 403, 403, 403, 403}, false},
		// The number not rung: a clerk's gets as far as invalid_field
		// (TestDeskMovesATakenLoginBack moves one).
		"POST /v1/desk/login-moves": {func(a *access, _ string) call {
			return call{path: "/v1/desk/login-moves", body: with(a.person(), "new_phone", fmt.Sprintf("136%08d", a.next()))}
		}, [7]int{401, 403, 403, 403, 400, 400, 403}, false},
		// Two documents nobody registered: a clerk (of any hospital, as a
		// verification) gets as far as patient_not_found.
		"POST /v1/desk/identities/link": {func(a *access, _ string) call {
			p := a.person()
			return call{path: "/v1/desk/identities/link", body: map[string]any{"person": p,
				"document": map[string]string{"id_type": "passport", "id_number": fmt.Sprintf("E%08d", a.next()), "name": p["name"]}}}
		}, [7]int{401, 403, 403, 403, 404, 404, 403}, false},
		"POST /v1/desk/sessions/{session_id}/extra-slots": {func(a *access, _ string) call {
			return call{path: "/v1/desk/sessions/" + a.today.ID + "/extra-slots", body: map[string]any{"count": 1, "reason": "urgent", "authorised_by": "Dr Wang"}}
		}, [7]int{401, 403, 403, 403, 201, 403, 201}, false},
		// A platform administrator publishes; the access world's sessions are
		// released, so a change gets as far as session_released, and a
		// delete of the one booked (sessions[3]; one nothing is booked in
		// is withdrawn since review19b M3) too.
		"POST /v1/admin/sessions": {func(a *access, _ string) call {
			return call{path: "/v1/admin/sessions", body: a.sessionBody(3)}
		}, [7]int{401, 403, 403, 403, 403, 403, 201}, false},
		"GET /v1/admin/sessions/{session_id}": {func(a *access, _ string) call {
			return call{path: "/v1/admin/sessions/" + a.sessions[0].ID}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		"PATCH /v1/admin/sessions/{session_id}": {func(a *access, _ string) call {
			body := a.sessionBody(1)
			delete(body, "doctor_id") // sessions[0]'s: a session keeps its own
			body["version"] = 1
			return call{path: "/v1/admin/sessions/" + a.sessions[1].ID, body: body}
		}, [7]int{401, 403, 403, 403, 403, 403, 409}, false},
		"DELETE /v1/admin/sessions/{session_id}": {func(a *access, _ string) call {
			return call{path: "/v1/admin/sessions/" + a.sessions[3].ID + "?reason=mistake"}
		}, [7]int{401, 403, 403, 403, 403, 403, 409}, false},
		// The stop is an administrator's of the session's hospital; the
		// platform administrator stops a session of the other hospital (the
		// last one), so the world's own sessions stay open for the others.
		"POST /v1/admin/sessions/{session_id}/stop": {func(a *access, _ string) call {
			return call{path: "/v1/admin/sessions/" + a.otherSession.ID + "/stop", body: map[string]string{"reason": "the doctor is ill"}}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		// A restore is an administrator's; it runs before the stop (the
		// table's order), so the session is not stopped: restore_closed.
		"POST /v1/admin/sessions/{session_id}/restore": {func(a *access, _ string) call {
			return call{path: "/v1/admin/sessions/" + a.otherSession.ID + "/restore", body: map[string]string{"reason": "误操作"}}
		}, [7]int{401, 403, 403, 403, 403, 403, 409}, false},
		// An announced change (review19b M5) made from a version long gone:
		// who may gets as far as edited_meanwhile. The room is the
		// administrator's; the delay a clerk's of the hospital too, on the
		// visit day (today's session).
		"POST /v1/admin/sessions/{session_id}/announcements": {func(a *access, _ string) call {
			return call{path: "/v1/admin/sessions/" + a.sessions[0].ID + "/announcements", body: map[string]any{"room": "门诊楼3层12诊室", "reason": "诊室调整", "version": 999}}
		}, [7]int{401, 403, 403, 403, 403, 403, 409}, false},
		// A move (改期) is an administrator's; from a version long gone it
		// gets as far as edited_meanwhile.
		"POST /v1/admin/sessions/{session_id}/move": {func(a *access, _ string) call {
			to := a.sessions[0].StartsAt.AddDate(0, 0, 1)
			return call{path: "/v1/admin/sessions/" + a.sessions[0].ID + "/move", body: map[string]any{"date": to.In(testenv.Shanghai).Format(time.DateOnly),
				"period": a.sessions[0].Period, "starts_at": to.Format(time.RFC3339), "reason": "医生外出", "version": 999}}
		}, [7]int{401, 403, 403, 403, 403, 403, 409}, false},
		"POST /v1/desk/sessions/{session_id}/delay": {func(a *access, _ string) call {
			return call{path: "/v1/desk/sessions/" + a.today.ID + "/delay", body: map[string]any{"delay_minutes": 40, "reason": "医生晚到", "version": 999}}
		}, [7]int{401, 403, 403, 403, 409, 403, 409}, false},
		"GET /v1/admin/sessions/{session_id}/notifications": {func(a *access, _ string) call {
			return call{path: "/v1/admin/sessions/" + a.sessions[0].ID + "/notifications"}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		// The holiday calendar and bulk work (review19b M7): an
		// administrator's; the dry run acts on nothing, the holiday is a
		// year out (no session), and the deleted day was never set.
		"POST /v1/admin/hospitals/{hospital_id}/sessions/bulk": {func(a *access, _ string) call {
			day := time.Now().In(testenv.Shanghai).Format(time.DateOnly)
			return call{path: "/v1/admin/hospitals/" + a.hospital + "/sessions/bulk", body: map[string]any{"action": "stop", "from": day, "to": day,
				"reason": "停诊演练", "dry_run": true}}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		"GET /v1/admin/hospitals/{hospital_id}/holidays": {func(a *access, _ string) call {
			return call{path: "/v1/admin/hospitals/" + a.hospital + "/holidays"}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		"POST /v1/admin/hospitals/{hospital_id}/holidays": {func(a *access, _ string) call {
			day := time.Now().In(testenv.Shanghai).AddDate(0, 0, 300).Format(time.DateOnly)
			return call{path: "/v1/admin/hospitals/" + a.hospital + "/holidays", body: map[string]string{"date": day, "name": "院庆"}}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		"DELETE /v1/admin/hospitals/{hospital_id}/holidays": {func(a *access, _ string) call {
			day := time.Now().In(testenv.Shanghai).AddDate(0, 0, 301).Format(time.DateOnly)
			return call{path: "/v1/admin/hospitals/" + a.hospital + "/holidays?date=" + day + "&reason=x%E6%B5%8B"}
		}, [7]int{401, 403, 403, 403, 403, 403, 404}, false},
		"POST /v1/admin/doctors/{doctor_id}/weeks": {func(a *access, _ string) call {
			day := time.Now().In(testenv.Shanghai).AddDate(0, 0, 14)
			for day.Weekday() != time.Monday {
				day = day.AddDate(0, 0, 1)
			}
			return call{path: "/v1/admin/doctors/" + a.sessions[0].DoctorID + "/weeks", body: map[string]any{
				"week_of":  day.Format(time.DateOnly),
				"days":     []map[string]any{{"weekday": 2, "period": "morning", "start": "08:00", "end": "12:00"}},
				"channels": []map[string]any{{"channel": "online", "quota": 4, "days_before": 7, "at": "08:00"}}}}
		}, [7]int{401, 403, 403, 403, 403, 403, 201}, false},
		// Departments and doctors: an administrator of the hospital (here
		// the platform's) keeps them; a retirement takes a fresh one, so the
		// world's own stay on the schedule.
		"GET /v1/admin/hospitals/{hospital_id}/doctors": {func(a *access, _ string) call {
			return call{path: "/v1/admin/hospitals/" + a.hospital + "/doctors"}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		"POST /v1/admin/departments": {func(a *access, _ string) call {
			return call{path: "/v1/admin/departments", body: map[string]string{"hospital_id": a.hospital, "name": fmt.Sprintf("Dept %d", a.next())}}
		}, [7]int{401, 403, 403, 403, 403, 403, 201}, false},
		"PATCH /v1/admin/departments/{department_id}": {func(a *access, _ string) call {
			return call{path: "/v1/admin/departments/" + a.sessions[0].DepartmentID, body: map[string]string{"name": fmt.Sprintf("Cardiology %d", a.next())}}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		"POST /v1/admin/departments/{department_id}/retire": {func(a *access, role string) call {
			id := a.sessions[0].DepartmentID
			if role == "admin" {
				id = a.freshDepartment()
			}
			return call{path: "/v1/admin/departments/" + id + "/retire", body: map[string]string{"reason": "merged"}}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		"POST /v1/admin/doctors": {func(a *access, _ string) call {
			return call{path: "/v1/admin/doctors", body: map[string]string{"department_id": a.sessions[0].DepartmentID,
				"name": fmt.Sprintf("Dr %d", a.next()), "title": "主治医师", "fee_level": "general"}}
		}, [7]int{401, 403, 403, 403, 403, 403, 201}, false},
		"PATCH /v1/admin/doctors/{doctor_id}": {func(a *access, _ string) call {
			return call{path: "/v1/admin/doctors/" + a.sessions[0].DoctorID, body: map[string]string{"title": "主任医师"}}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		"POST /v1/admin/doctors/{doctor_id}/retire": {func(a *access, role string) call {
			id := a.sessions[0].DoctorID
			if role == "admin" {
				id = a.freshDoctor()
			}
			return call{path: "/v1/admin/doctors/" + id + "/retire", body: map[string]string{"reason": "left the hospital"}}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		// Stored weekly templates: an administrator of the doctor's hospital.
		"POST /v1/admin/doctors/{doctor_id}/templates": {func(a *access, _ string) call {
			return call{path: "/v1/admin/doctors/" + a.sessions[0].DoctorID + "/templates", body: a.templateBody()}
		}, [7]int{401, 403, 403, 403, 403, 403, 201}, false},
		"GET /v1/admin/doctors/{doctor_id}/templates": {func(a *access, _ string) call {
			return call{path: "/v1/admin/doctors/" + a.sessions[0].DoctorID + "/templates"}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		"PATCH /v1/admin/templates/{template_id}": {func(a *access, _ string) call {
			return call{path: "/v1/admin/templates/" + a.template(), body: a.templateBody()}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		"DELETE /v1/admin/templates/{template_id}": {func(a *access, role string) call {
			id := a.template()
			if role == "admin" {
				id = a.freshTemplate()
			}
			return call{path: "/v1/admin/templates/" + id + "?reason=ended"}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		"POST /v1/admin/templates/{template_id}/weeks": {func(a *access, _ string) call {
			day := time.Now().In(testenv.Shanghai).AddDate(0, 0, 35)
			for day.Weekday() != time.Monday {
				day = day.AddDate(0, 0, 1)
			}
			return call{path: "/v1/admin/templates/" + a.template() + "/weeks", body: map[string]string{"week_of": day.Format(time.DateOnly)}}
		}, [7]int{401, 403, 403, 403, 403, 403, 201}, false},
		"POST /v1/admin/hospitals/{hospital_id}/policy": {func(a *access, _ string) call {
			return call{path: "/v1/admin/hospitals/" + a.hospital + "/policy", body: map[string]any{"per_day": 2, "per_week": 8,
				"per_month": 12, "cancel_deadline": "15:00", "effective_from": time.Now().Add(time.Hour).Format(time.RFC3339), "reason": "the same, restated"}}
		}, [7]int{401, 403, 403, 403, 403, 403, 201}, false},
		"GET /v1/admin/hospitals/{hospital_id}/policy": {func(a *access, _ string) call {
			return call{path: "/v1/admin/hospitals/" + a.hospital + "/policy"}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		// Substitute offers (替诊): the patient whose slot is held, or the
		// desk or call centre of its hospital for them.
		"GET /v1/substitute-offers": {ok("/v1/substitute-offers"), [7]int{401, 200, 200, 403, 403, 403, 403}, false},
		// An operator answers for the caller on the line (the console) or
		// on the call-back list, never by the booking's id alone.
		"POST /v1/substitute-offers/{booking_id}/accept": {func(a *access, _ string) call {
			return call{path: "/v1/substitute-offers/" + a.offer() + "/accept"}
		}, [7]int{401, 200, 404, 403, 200, 404, 200}, false},
		"POST /v1/substitute-offers/{booking_id}/decline": {func(a *access, _ string) call {
			return call{path: "/v1/substitute-offers/" + a.offer() + "/decline"}
		}, [7]int{401, 200, 404, 403, 200, 404, 200}, false},
		// The call-back list (停诊 told by phone): the operators and clerks
		// of the hospital; only an operator opens a number; no_answer keeps
		// the row for the next role.
		"GET /v1/callbacks": {ok("/v1/callbacks"), [7]int{401, 403, 403, 200, 200, 200, 403}, false},
		"POST /v1/callbacks/{callback_id}/number": {func(a *access, _ string) call {
			return call{path: "/v1/callbacks/" + a.callBack() + "/number"}
		}, [7]int{401, 403, 403, 200, 403, 403, 403}, false},
		"POST /v1/callbacks/{callback_id}/outcome": {func(a *access, _ string) call {
			return call{path: "/v1/callbacks/" + a.callBack() + "/outcome", body: map[string]string{"outcome": "no_answer"}}
		}, [7]int{401, 403, 403, 200, 200, 404, 403}, false},
		// The platform's account limits: a platform administrator sets them.
		"POST /v1/admin/account-policy": {func(a *access, _ string) call {
			return call{path: "/v1/admin/account-policy", body: map[string]any{"max_patients": 5, "max_accounts_on_phone": 3,
				"effective_from": time.Now().Add(time.Hour).Format(time.RFC3339), "reason": "the same, restated"}}
		}, [7]int{401, 403, 403, 403, 403, 403, 201}, false},
		"GET /v1/admin/account-policy": {func(a *access, _ string) call {
			return call{path: "/v1/admin/account-policy"}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		"POST /v1/admin/sessions/{session_id}/pools": {func(a *access, _ string) call {
			return call{path: "/v1/admin/sessions/" + a.sessions[1].ID + "/pools", body: map[string]any{"from": "phone", "to": "online", "count": 1, "reason": "few calls"}}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		// Reports and complaints are a patient's own; the administrators of
		// the hospital concerned (here the platform's) review them.
		// patientB's complaint names patientA's booking: not its own.
		"POST /v1/reports": {func(a *access, _ string) call {
			return call{path: "/v1/reports", body: map[string]string{"text": "offered me a slot for 500 yuan", "hospital_id": a.hospital,
				"offered_by_phone": "13912345678"}}
		}, [7]int{401, 201, 201, 403, 403, 403, 403}, false},
		"GET /v1/reports": {ok("/v1/reports"), [7]int{401, 200, 200, 403, 403, 403, 403}, false},
		"POST /v1/complaints": {func(a *access, role string) call {
			return call{path: "/v1/complaints", body: map[string]string{"text": "the clinic started an hour late", "category": "service",
				"booking_id": a.booking(role)}}
		}, [7]int{401, 201, 404, 403, 403, 403, 403}, false},
		"GET /v1/complaints": {ok("/v1/complaints"), [7]int{401, 200, 200, 403, 403, 403, 403}, false},
		"GET /v1/cases/{case_id}": {func(a *access, _ string) call {
			return call{path: "/v1/cases/" + a.sharedCase()}
		}, [7]int{401, 200, 404, 404, 404, 404, 200}, false},
		"GET /v1/notifications": {ok("/v1/notifications"), [7]int{401, 200, 200, 403, 403, 403, 403}, false},
		// No login: the appeal token is the credential (TestBlockedAccountAppeal);
		// every role's request without one is the same 400.
		"POST /v1/appeals": {func(*access, string) call {
			return call{path: "/v1/appeals", body: map[string]string{"text": "not a scalper"}}
		}, [7]int{400, 400, 400, 400, 400, 400, 400}, false},
		// A person's appeal: patientA's own patient, whom no review bars,
		// is not_barred_by_review; another account's patient is not found.
		"POST /v1/person-appeals": {func(a *access, _ string) call {
			return call{path: "/v1/person-appeals", body: map[string]string{"patient_id": a.aPatients[0], "text": "not a scalper"}}
		}, [7]int{401, 422, 404, 403, 403, 403, 403}, false},
		// Any hospital's clerk takes a person's appeal with the card (it is
		// the platform's to answer); a card no review bars is
		// not_barred_by_review.
		"POST /v1/desk/appeals": {func(a *access, _ string) call {
			return call{path: "/v1/desk/appeals", body: with(a.person(), "text", "not a scalper")}
		}, [7]int{401, 403, 403, 403, 422, 422, 403}, false},
		// A person's appeal asked for at the desk, with the card: a number
		// nobody registered reads as no appeal ("none"), as any clerk's.
		"POST /v1/desk/appeals/lookup": {func(a *access, _ string) call {
			return call{path: "/v1/desk/appeals/lookup", body: a.person()}
		}, [7]int{401, 403, 403, 403, 200, 200, 403}, false},
		"POST /v1/notifications/read": {ok("/v1/notifications/read"), [7]int{401, 200, 200, 403, 403, 403, 403}, false},
		// A notification of patientA's: marking it read again is no error.
		"POST /v1/notifications/{notification_id}/read": {func(a *access, _ string) call {
			return call{path: "/v1/notifications/" + a.aNotification() + "/read"}
		}, [7]int{401, 204, 404, 403, 403, 403, 403}, false},
		"GET /v1/admin/cases": {ok("/v1/admin/cases"), [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		"GET /v1/admin/cases/{case_id}": {func(a *access, _ string) call {
			return call{path: "/v1/admin/cases/" + a.sharedCase()}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		"POST /v1/admin/cases/{case_id}/answer": {func(a *access, _ string) call {
			return call{path: "/v1/admin/cases/" + a.sharedCase() + "/answer", body: map[string]string{"answer": "we are looking into it"}}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		"POST /v1/admin/cases/{case_id}/close": {func(a *access, role string) call {
			id := a.sharedCase()
			if role == "admin" {
				id = a.aCase()
			}
			return call{path: "/v1/admin/cases/" + id + "/close", body: map[string]string{"note": "a duplicate of an earlier report"}}
		}, [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		// The shared case is a report: the administrator passes the role
		// check and meets a report's having no departments.
		"POST /v1/admin/cases/{case_id}/departments": {func(a *access, _ string) call {
			return call{path: "/v1/admin/cases/" + a.sharedCase() + "/departments", body: map[string]bool{"several_departments": true}}
		}, [7]int{401, 403, 403, 403, 403, 403, 400}, false},
		// The shared case names no booking another account made: the
		// administrator passes the role check and meets no_maker.
		"POST /v1/admin/cases/{case_id}/flag": {func(a *access, _ string) call {
			return call{path: "/v1/admin/cases/" + a.sharedCase() + "/flag", body: map[string]string{"reason": "looks like a scalper"}}
		}, [7]int{401, 403, 403, 403, 403, 403, 422}, false},
		"GET /v1/admin/flags": {ok("/v1/admin/flags"), [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		// Bindings made before the binding rule (session 25): accounts are
		// platform-wide, so a platform administrator lists them.
		"GET /v1/admin/bindings-to-review": {ok("/v1/admin/bindings-to-review"), [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		// Desk card readers (review25 H1): a hospital's administrator
		// registers, lists and retires its own; the table's platform-wide
		// administrator has no hospital to register one for.
		"POST /v1/admin/card-readers": {func(*access, string) call {
			return call{path: "/v1/admin/card-readers", body: map[string]string{"name": "窗口 1"}}
		}, [7]int{401, 403, 403, 403, 403, 403, 403}, false},
		// A clerk lists the readers of their hospital (names, never keys).
		"GET /v1/admin/card-readers": {ok("/v1/admin/card-readers"), [7]int{401, 403, 403, 403, 200, 200, 403}, false},
		"POST /v1/admin/card-readers/{id}/retire": {func(*access, string) call {
			return call{path: "/v1/admin/card-readers/00000000-0000-4000-8000-000000000001/retire", body: map[string]string{"reason": "replaced"}}
		}, [7]int{401, 403, 403, 403, 403, 403, 403}, false},
		// A death recorded in error is lifted by an administrator (deaths25):
		// nobody is recorded here.
		"POST /v1/admin/deaths/{identity_id}/lift": {func(*access, string) call {
			return call{path: "/v1/admin/deaths/00000000-0000-4000-8000-000000000001/lift", body: map[string]string{"reason": "the wrong person was recorded"}}
		}, [7]int{401, 403, 403, 403, 403, 403, 404}, false},
		"GET /v1/admin/flags/{flag_id}": {ok("/v1/admin/flags/flg_0000"),
			[7]int{401, 403, 403, 403, 403, 403, 404}, false},
		"POST /v1/admin/flags/{flag_id}/decision": {func(*access, string) call {
			return call{path: "/v1/admin/flags/flg_0000/decision", body: map[string]string{"action": "dismiss", "note": "no evidence", "reason_code": "detector_error"}}
		}, [7]int{401, 403, 403, 403, 403, 403, 404}, false},
		"POST /v1/admin/detect": {ok("/v1/admin/detect"), [7]int{401, 403, 403, 403, 403, 403, 200}, false},
		"GET /v1/admin/audit":   {ok("/v1/admin/audit"), [7]int{401, 403, 403, 403, 403, 403, 200}, false},
	}
}

// templateBody is a stored weekly template of one Thursday morning clinic.
func (a *access) templateBody() map[string]any {
	return map[string]any{"name": fmt.Sprintf("Rota %d", a.next()),
		"days":     []map[string]any{{"weekday": 4, "period": "morning", "start": "08:00", "end": "12:00"}},
		"channels": []map[string]any{{"channel": "online", "quota": 4, "days_before": 7, "at": "08:00"}}}
}

// template is a stored template of the first session's doctor, made once.
func (a *access) template() string {
	if a.sharedTemplate == "" {
		a.sharedTemplate = a.freshTemplate()
	}
	return a.sharedTemplate
}

func (a *access) freshTemplate() string {
	return a.create("/v1/admin/doctors/"+a.sessions[0].DoctorID+"/templates", a.templateBody(), "template_id")
}

// create POSTs body to path as the administrator and returns the id field
// of the 201 answer.
func (a *access) create(path string, body any, field string) string {
	a.t.Helper()
	r := a.svc.do("POST", path, a.tokens["admin"], body)
	var out map[string]any
	r.decode(a.t, &out)
	id, _ := out[field].(string)
	if r.status != 201 || id == "" {
		a.t.Fatalf("POST %s = %d %s, want 201 with %s", path, r.status, r.body, field)
	}
	return id
}

// offer is a fresh substitute offer held for patientA: a session of a new
// doctor some weeks ahead, booked by patientA, stopped with another new
// doctor of the same level as the substitute. It returns the held booking.
func (a *access) offer() string {
	a.t.Helper()
	doctor := func() string {
		return a.create("/v1/admin/doctors", map[string]string{"department_id": a.sessions[0].DepartmentID,
			"name": fmt.Sprintf("Dr Offer %d", a.next()), "title": "主治医师", "fee_level": "general"}, "doctor_id")
	}
	body := a.sessionBody(20 + a.next())
	body["doctor_id"] = doctor()
	sess := a.create("/v1/admin/sessions", body, "session_id")
	r := a.svc.do("POST", "/v1/bookings", a.tokens["patientA"], map[string]string{"session_id": sess, "patient_id": a.aPatients[0]})
	var b struct {
		ID string `json:"booking_id"`
	}
	r.decode(a.t, &b)
	if r.status != 201 {
		a.t.Fatalf("patientA books the session to stop: %d %s", r.status, r.body)
	}
	r = a.svc.do("POST", "/v1/admin/sessions/"+sess+"/stop", a.tokens["admin"], map[string]string{"reason": "the doctor is ill",
		"substitute_doctor_id": doctor()})
	if r.status != 200 {
		a.t.Fatalf("stop with a substitute: %d %s", r.status, r.body)
	}
	return booking.NameID(b.ID, "substitute")
}

// callBack is the call-back row of a caller the operator booked by phone
// in a session the administrator then stopped (made once).
func (a *access) callBack() string {
	a.t.Helper()
	if a.sharedCallBack != "" {
		return a.sharedCallBack
	}
	body := a.sessionBody(40 + a.next())
	body["doctor_id"] = a.freshDoctor()
	body["channels"] = []map[string]any{{"channel": "phone", "quota": 2, "release_at": time.Now().Add(-time.Minute).Format(time.RFC3339)}}
	sess := a.create("/v1/admin/sessions", body, "session_id")
	if r := a.svc.do("POST", "/v1/phone/bookings", a.tokens["operator"], with(a.person(), "caller_phone", "13700000098", "session_id", sess, "privacy_consent", booking.PrivacyNoticeVersion)); r.status != 201 {
		a.t.Fatalf("book a caller by phone: %d %s", r.status, r.body)
	}
	if r := a.svc.do("POST", "/v1/admin/sessions/"+sess+"/stop", a.tokens["admin"], map[string]string{"reason": "the doctor is ill"}); r.status != 200 {
		a.t.Fatalf("stop: %d %s", r.status, r.body)
	}
	r := a.svc.do("GET", "/v1/callbacks", a.tokens["operator"], nil)
	var rows []struct {
		ID        string `json:"callback_id"`
		SessionID string `json:"session_id"`
	}
	r.decode(a.t, &rows)
	for _, c := range rows {
		if c.SessionID == sess {
			a.sharedCallBack = c.ID
		}
	}
	if a.sharedCallBack == "" {
		a.t.Fatalf("the stopped caller is not on the call-back list: %s", r.body)
	}
	return a.sharedCallBack
}

// freshDepartment is a new, empty department of the world's hospital.
func (a *access) freshDepartment() string {
	return a.create("/v1/admin/departments", map[string]string{"hospital_id": a.hospital, "name": fmt.Sprintf("Fresh %d", a.next())}, "department_id")
}

// freshDoctor is a new doctor with no session in the world's hospital.
func (a *access) freshDoctor() string {
	return a.create("/v1/admin/doctors", map[string]string{"department_id": a.sessions[0].DepartmentID,
		"name": fmt.Sprintf("Dr Fresh %d", a.next())}, "doctor_id")
}

// sessionBody is a morning session of the first session's doctor days
// ahead, released a minute ago.
func (a *access) sessionBody(days int) map[string]any {
	shanghai := testenv.Shanghai
	day := time.Now().In(shanghai).AddDate(0, 0, days)
	start := time.Date(day.Year(), day.Month(), day.Day(), 8, 0, 0, 0, shanghai)
	return map[string]any{"doctor_id": a.sessions[0].DoctorID, "date": start.Format(time.DateOnly), "period": "morning",
		"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(4 * time.Hour).Format(time.RFC3339), "slot_count": 2,
		"channels": []map[string]any{{"channel": "online", "quota": 2, "release_at": time.Now().Add(-time.Minute).Format(time.RFC3339)}}}
}

// aCase files a fresh report of patientA's and returns its id.
func (a *access) aCase() string {
	a.t.Helper()
	r := a.svc.do("POST", "/v1/reports", a.tokens["patientA"], map[string]string{"text": "someone sells slots at the gate",
		"hospital_id": a.hospital})
	var c struct {
		ID string `json:"case_id"`
	}
	r.decode(a.t, &c)
	if r.status != 201 || c.ID == "" {
		a.t.Fatalf("file a report = %d %s", r.status, r.body)
	}
	return c.ID
}

// sharedCase is a report of patientA's that no request closes.
func (a *access) sharedCase() string {
	if a.sharedCaseID == "" {
		a.sharedCaseID = a.aCase()
	}
	return a.sharedCaseID
}

// sharedEntry is a waitlist entry of patientA that no role's request may
// remove.
func (a *access) sharedEntry() string {
	if a.shared == "" {
		a.shared = a.aWaitlistEntry(3)
	}
	return a.shared
}

// newAccess starts the service with its world: two hospitals, patientA
// with three family members, patientB holding patientA's person, the staff,
// and a sold-out session whose waitlist is open.
func newAccess(t *testing.T, extraEnv map[string]string) *access {
	t.Helper()
	release := time.Now().Add(-time.Minute)
	sch := schedule(t, release, 10, 10, 10, 1)
	today := todaySession(t, &sch)
	lottery := accessLottery(t, &sch)
	other := schedule(t, release, 2)
	sch.Hospitals = append(sch.Hospitals, other.Hospitals...)
	sch.Departments = append(sch.Departments, other.Departments...)
	sch.Doctors = append(sch.Doctors, other.Doctors...)
	sch.Sessions = append(sch.Sessions, other.Sessions...)
	otherSession := other.Sessions[0]
	svc := startService(t, sch, extraEnv)
	a := &access{t: t, svc: svc, creds: map[string][2]string{}, tokens: map[string]string{}, hospital: sch.Hospitals[0].ID,
		sessions: sch.Sessions[:4], today: today, lottery: lottery, otherSession: otherSession}

	pa, pb := svc.newPatient(901), svc.newPatient(902)
	a.creds["patientA"] = [2]string{pa.phone, "password-" + pa.phone}
	a.creds["patientB"] = [2]string{pb.phone, "password-" + pb.phone}
	a.aPatients, a.aPeople, a.bSelf = []string{pa.patientID}, []int{901}, pb.patientID
	add := func(token string, n int, name string) string {
		r := svc.do("POST", "/v1/patients", token, map[string]any{"id_type": "resident_id", "id_number": residentID(n), "name": name})
		if r.status != 201 {
			t.Fatalf("add patient: %d %s", r.status, r.body)
		}
		var p struct {
			ID string `json:"patient_id"`
		}
		r.decode(t, &p)
		return p.ID
	}
	for i := range 3 {
		a.aPatients = append(a.aPatients, add(pa.token, 910+i, "甲乙"))
		a.aPeople = append(a.aPeople, 910+i)
	}
	a.bHoldA = add(pb.token, 901, "测试"+string(rune('甲'+901%10))) // patientA's self, as patientB's family
	for i, role := range []booking.Role{booking.RoleOperator, booking.RoleClerk} {
		a.creds[string(role)] = [2]string{fmt.Sprintf("135%08d", 100+i), "staff-password-1"}
		svc.staffLoginAt(role, 100+i, sch.Hospitals[0].ID)
	}
	a.creds["clerkOther"] = [2]string{fmt.Sprintf("135%08d", 110), "staff-password-1"}
	svc.staffLoginAt(booking.RoleClerk, 110, other.Hospitals[0].ID)
	a.creds["admin"] = [2]string{fmt.Sprintf("135%08d", 120), "staff-password-1"}
	svc.staffLoginAt(booking.RoleAdmin, 120, "")
	a.relogin()
	// The lottery job commits the pool's seed within a few seconds; entries
	// are taken from then on.
	poll(t, "the access lottery's seed is committed", func() bool {
		var ss []struct {
			ID       string        `json:"session_id"`
			Channels []channelView `json:"channels"`
		}
		svc.do("GET", "/v1/hospitals/"+a.hospital+"/sessions", "", nil).decode(t, &ss)
		for _, x := range ss {
			if x.ID == lottery.ID {
				return len(x.Channels) > 0 && x.Channels[0].SeedCommitment != ""
			}
		}
		return false
	})
	// Someone else takes the sold-out session's only online slot, so its
	// waitlist is open.
	c := svc.newPatient(903)
	if r := svc.do("POST", "/v1/bookings", c.token, map[string]string{"session_id": a.sessions[3].ID, "patient_id": c.patientID}); r.status != 201 {
		t.Fatalf("take the last slot: %d %s", r.status, r.body)
	}
	return a
}

// TestAccessControlTable runs every operation of the OpenAPI document as
// every role.
func TestAccessControlTable(t *testing.T) {
	a := newAccess(t, nil)
	svc := a.svc
	table := accessTable()
	documented := openapiRoutes(t)
	for _, rt := range documented {
		if _, ok := table[rt.String()]; !ok {
			t.Errorf("%s is in the OpenAPI document but has no row in the access-control table", rt)
		}
	}
	for key := range table {
		method, path, _ := strings.Cut(key, " ")
		if !slices.Contains(documented, apiRoute{method, path}) {
			t.Errorf("the access-control table has a row for %s, which the OpenAPI document does not list", key)
		}
	}
	keys := make([]string, 0, len(table))
	for k := range table {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		r := table[key]
		method, _, _ := strings.Cut(key, " ")
		t.Run(key, func(t *testing.T) {
			a.t = t
			for i, role := range roles {
				c := r.req(a, role)
				token := c.token
				if token == "" && role != "anonymous" {
					token = a.tokens[role]
				}
				got := svc.do(method, c.path, token, c.body)
				if got.status != r.want[i] {
					t.Errorf("%s as %s = %d %s, want %d", key, role, got.status, got.body, r.want[i])
				}
				if got.code == "route_not_found" || got.code == "method_not_allowed" {
					t.Errorf("%s as %s: the service does not serve this documented operation (%s)", key, role, got.code)
				}
				if role == "anonymous" && r.want[i] == 401 && got.code != "unauthenticated" {
					t.Errorf("%s without a token = %s, want unauthenticated", key, got.code)
				}
			}
			if r.revokes {
				a.relogin()
			}
		})
	}
	a.t = t
}
