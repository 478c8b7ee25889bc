package web

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"fairslot/internal/testenv"
)

// TestStoppedClinicOnEveryConsole: a clinic the hospital stopped (停诊)
// reads as stopped, with the reason, on the patient's sessions page and the
// desk's Today, and neither offers anything in it — the patient's page
// offered its waitlist, the desk a running session with extra slots, each
// then refused session_stopped.
func TestStoppedClinicOnEveryConsole(t *testing.T) {
	s := newSite(t)
	today := s.addToday()
	admin := s.actor(s.newAdmin("admin password 1"), "admin password 1")
	reason := "医生外出会诊 The doctor is called away"
	_, err := s.svc.StopSession(t.Context(), admin, today.ID, reason)
	testenv.Must(t, err, "stop the clinic")

	p := s.client()
	p.signUp(newPhone(), "correct horse battery")
	if a := p.addFamily(residentID(41), "周七", "", true); a.status != 303 {
		t.Fatalf("add family member: %d", a.status)
	}
	page := p.get("/patient/sessions?" + url.Values{"hospital": {s.hospital.ID}, "department": {s.cardiology.ID}, "date": {today.VisitDate}}.Encode())
	card := regexp.MustCompile(`(?s)<article class="card session" id="s-` + today.ID + `">.*?</article>`).FindString(page.body)
	if card == "" {
		t.Fatalf("the stopped session is not on the patient's page:\n%s", page.body)
	}
	for _, want := range []string{"停诊 Clinic stopped", reason} {
		if !strings.Contains(card, want) {
			t.Errorf("the patient's card of the stopped session lacks %q:\n%s", want, card)
		}
	}
	if strings.Contains(card, "<form") {
		t.Errorf("the patient's card of the stopped session offers a form:\n%s", card)
	}

	clerk := deskClerk(s)
	desk := clerk.get("/desk")
	row := regexp.MustCompile(`(?s)<tr id="s-` + today.ID + `".*?</tr>`).FindString(desk.body)
	if row == "" {
		t.Fatalf("the stopped session is not on the desk's Today:\n%s", desk.body)
	}
	for _, want := range []string{"停诊 Stopped", reason} {
		if !strings.Contains(row, want) {
			t.Errorf("the desk's row of the stopped session lacks %q:\n%s", want, row)
		}
	}
	for _, offer := range []string{"/extra-slots", "/desk/walkin"} {
		if strings.Contains(row, offer) {
			t.Errorf("the desk's row of the stopped session offers %s:\n%s", offer, row)
		}
	}
	if v, ok := s.svc.Catalog().Session(today.ID); !ok || !v.Stopped() {
		t.Fatalf("the session is not stopped in the catalog")
	}
}
