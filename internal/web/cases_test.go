package web

import (
	"net/url"
	"strings"
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestReportLinkedToFlagShowsOnItsPage: a platform administrator answers a
// report linking it to a scalper flag; the flag's page lists the report
// (the phone masked), which links back to it. A hospital's administrator
// has no flag field and is refused a link.
func TestReportLinkedToFlagShowsOnItsPage(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	fileReport(t, s, "a man outside sells slots for cash")
	password := "admin password 1"
	platform, me := platformAdmin(t, s, password)
	local := newPhone()
	_, err := s.svc.CreateStaff(ctx, booking.StaffRequest{Phone: local, Password: password, Role: booking.RoleAdmin, HospitalID: s.hospital.ID})
	testenv.Must(t, err, "create the hospital's admin")
	flag := booking.Flag{ID: booking.NameID("flag", "cases"), Score: 0.95, Threshold: 0.9, AccountIDs: []string{booking.NewID()},
		Reasons: []booking.FlagReason{{Signal: "identities_per_account", Detail: "5 identities", Points: 0.95}}}
	s.detector.Returns(flag)
	_, err = s.svc.RunDetection(ctx, me)
	testenv.Must(t, err, "run detection")
	queue, err := s.svc.CaseQueue(ctx, me, "", "")
	if err != nil || len(queue) != 1 {
		t.Fatalf("platform queue = %v, %v; want the report", queue, err)
	}
	report := queue[0]

	h := s.client()
	h.adminLogin(local, password)
	if a := h.get("/admin/cases/" + report.ID); a.status != 200 || strings.Contains(a.body, `name="flag_id"`) {
		t.Errorf("a hospital admin's case page: %d, flag field shown %v", a.status, strings.Contains(a.body, `name="flag_id"`))
	}
	if a := h.post("/admin/cases/"+report.ID+"/answer", url.Values{"csrf": {h.csrf("/admin/cases/" + report.ID)},
		"answer": {"thank you"}, "flag_id": {flag.ID}}); a.status != 403 {
		t.Errorf("a hospital admin links a flag: %d, want 403", a.status)
	}

	a := s.client()
	a.adminLogin(platform, password)
	page := "/admin/cases/" + report.ID
	if got := a.get(page); !strings.Contains(got.body, `name="flag_id"`) {
		t.Fatalf("the platform admin's case page has no flag field")
	}
	if got := a.post(page+"/answer", url.Values{"csrf": {a.csrf(page)}, "answer": {"linked to the ring we found"}, "flag_id": {flag.ID}}); got.status != 303 {
		t.Fatalf("answer with a flag link: %d\n%s", got.status, got.body)
	}
	got := a.get(flagURL(flag.ID))
	if !strings.Contains(got.body, `id="linked-reports"`) || !strings.Contains(got.body, "/admin/cases/"+report.ID) ||
		!strings.Contains(got.body, "139****5678") || strings.Contains(got.body, "13912345678") {
		t.Errorf("the flag's page does not list the linked report with its masked phone:\n%s", got.body)
	}
	if got := a.get(page); !strings.Contains(got.body, flagURL(flag.ID)) {
		t.Errorf("the case page does not link back to the flag")
	}
}

// TestReportAttachedByDetectionShowsOnTheFlag: the detection job hands a
// report filed on the patient's console to the detector (the phone only as
// its keyed hash), and the flag the detector attached it to lists it,
// marked as attached by detection, with its phone masked.
func TestReportAttachedByDetectionShowsOnTheFlag(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	fileReport(t, s, "this number sold me a slot for cash")
	password := "admin password 1"
	platform, me := platformAdmin(t, s, password)
	queue, err := s.svc.CaseQueue(ctx, me, "", "")
	if err != nil || len(queue) != 1 {
		t.Fatalf("queue = %v, %v; want the report", queue, err)
	}
	report := queue[0]
	flag := booking.Flag{ID: booking.NameID("flag", "attached"), Score: 1.2, Threshold: 1, AccountIDs: []string{booking.NewID()},
		Reasons: []booking.FlagReason{{Signal: "reported", Detail: "1 patients reported this account", Points: 0.15}},
		CaseIDs: []string{report.ID}}
	s.detector.Returns(flag)
	_, err = s.svc.RunDetection(ctx, me)
	testenv.Must(t, err, "run detection")
	given := s.detector.LastReports()
	if len(given) != 1 || given[0].CaseID != report.ID || !strings.HasPrefix(given[0].Phone, "hash:") || given[0].Reporter == "" {
		t.Fatalf("the detector was given reports %+v, want the report with the phone's keyed hash", given)
	}

	a := s.client()
	a.adminLogin(platform, password)
	got := a.get(flagURL(flag.ID))
	if !strings.Contains(got.body, `data-case="`+report.ID+`"`) || !strings.Contains(got.body, "data-attached") ||
		!strings.Contains(got.body, "139****5678") || strings.Contains(got.body, "13912345678") {
		t.Errorf("the flag's page does not list the attached report, marked, with its masked phone:\n%s", got.body)
	}
	if strings.Contains(got.body, "已关联") {
		t.Errorf("the attached report is marked as linked by an administrator")
	}
}

// fileReport has a new patient report, on the console, the phone
// 13912345678 offering slots at the site's hospital.
func fileReport(t *testing.T, s *site, text string) {
	t.Helper()
	p := s.client()
	p.signUp(newPhone(), "patient password 1")
	form := url.Values{"csrf": {p.csrf("/patient/cases")}, "hospital_id": {s.hospital.ID}, "offered_by_phone": {"13912345678"},
		"text": {text}}
	if a := p.post("/patient/reports", form); a.status != 303 || a.location != "/patient/cases?ok=report_filed" {
		t.Fatalf("file a report: %d → %q\n%s", a.status, a.location, a.body)
	}
}

// platformAdmin makes a platform-wide administrator: its phone and actor.
func platformAdmin(t *testing.T, s *site, password string) (string, booking.Actor) {
	t.Helper()
	phone := s.newAdmin(password)
	tok, err := s.svc.Login(t.Context(), phone, password, booking.Origin{})
	testenv.Must(t, err, "log the platform admin in")
	me, err := s.svc.Authenticate([]byte(tok.Token))
	testenv.Must(t, err, "authenticate")
	return phone, me
}

// TestConsoleCaseNumbersMasked: a report filed on the console with an
// account named by its phone and an ID number in its text is told the
// numbers were masked; the administrator's case page shows only the masks,
// and its close form says the note goes to the patient as written. Near
// miss: a report without numbers gets the plain flash.
func TestConsoleCaseNumbersMasked(t *testing.T) {
	s := newSite(t)
	password := "admin password 1"
	seller := newPhone()
	sp := s.client()
	sp.signUp(seller, "patient password 1")
	p := s.client()
	p.signUp(newPhone(), "patient password 1")
	const id = "110105198001010016"
	form := url.Values{"csrf": {p.csrf("/patient/cases")}, "hospital_id": {s.hospital.ID}, "offered_by_account": {seller},
		"text": {"他在微信卖号 " + id}}
	if a := p.post("/patient/reports", form); a.status != 303 || a.location != "/patient/cases?ok=report_filed_masked" {
		t.Fatalf("file a report with numbers: %d → %q", a.status, a.location)
	}
	if got := p.get("/patient/cases?ok=report_filed_masked"); !strings.Contains(got.body, "masked") || strings.Contains(got.body, id) || strings.Contains(got.body, seller) {
		t.Errorf("the patient's page after filing: no word of the masking, or a number in clear")
	}
	form = url.Values{"csrf": {p.csrf("/patient/cases")}, "hospital_id": {s.hospital.ID}, "text": {"门口有人卖号 someone sells slots"}}
	if a := p.post("/patient/reports", form); a.status != 303 || a.location != "/patient/cases?ok=report_filed" {
		t.Errorf("file a report without numbers: %d → %q, want the plain flash", a.status, a.location)
	}
	platform, me := platformAdmin(t, s, password)
	queue, err := s.svc.CaseQueue(t.Context(), me, "", "")
	if err != nil || len(queue) != 2 {
		t.Fatalf("queue = %v, %v", queue, err)
	}
	a := s.client()
	a.adminLogin(platform, password)
	for _, c := range queue {
		got := a.get("/admin/cases/" + c.ID)
		if got.status != 200 || strings.Contains(got.body, id) || strings.Contains(got.body, seller) {
			t.Errorf("the case page holds a number in clear")
		}
		if !strings.Contains(got.body, "sent this note as written") {
			t.Errorf("the close form does not say the note goes to the patient as written")
		}
		if strings.Contains(c.Text, "****") && !strings.Contains(got.body, seller[:3]+"****"+seller[7:]) {
			t.Errorf("the case page does not show the named account's mask")
		}
	}
}

// TestConsoleShowsFoldedReports: three patients report one phone on the
// console; the administrator's queue shows one case, saying two more
// reporters named the same target, and the case's page lists their
// reports with their texts.
func TestConsoleShowsFoldedReports(t *testing.T) {
	s := newSite(t)
	texts := []string{"this number sold me a slot for cash", "the same number asked me for 300 yuan", "he offered a cardiology slot"}
	for _, text := range texts {
		fileReport(t, s, text)
	}
	password := "admin password 1"
	platform, _ := platformAdmin(t, s, password)
	a := s.client()
	a.adminLogin(platform, password)
	queue := a.get("/admin/cases")
	if n := strings.Count(queue.body, `<tr id="c-`); n != 1 || !strings.Contains(queue.body, "另有 2 人举报同一对象") {
		t.Errorf("the queue shows %d cases, folded note %v; want one case, two more reporters\n%s", n,
			strings.Contains(queue.body, "另有 2 人举报同一对象"), queue.body)
	}
	i := strings.Index(queue.body, `<tr id="c-`)
	if i < 0 {
		t.Fatal("no case in the queue")
	}
	id := queue.body[i+len(`<tr id="c-`):]
	id = id[:strings.IndexByte(id, '"')]
	page := a.get("/admin/cases/" + id)
	for _, text := range texts {
		if !strings.Contains(page.body, text) {
			t.Errorf("the case's page does not show the report %q", text)
		}
	}
	if !strings.Contains(page.body, `id="folded-reports"`) {
		t.Errorf("the case's page has no list of folded reports")
	}
}
