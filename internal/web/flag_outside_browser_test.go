package web

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestFlagSparesOutsidePersonsInBrowser is review21 H1 on the flag page: the
// scalper's list holds y, whom Alice's own account lists too (anyone who
// knows an ID number and a name can list a person). The flag page shows y
// apart, "also on 1 other account, not in this group", with a box to bar y
// all the same, unticked; the administrator confirms without ticking it.
// The scalper's own person x is barred; y is not, and Alice books for y.
func TestFlagSparesOutsidePersonsInBrowser(t *testing.T) {
	s := newSite(t)
	r := newRing(t, s)
	alice := s.client()
	alice.signUp(newPhone(), r.password)
	if a := alice.addFamily(r.yNumber, r.yName, "", true); a.status != 303 {
		t.Fatalf("Alice adds y: %d\n%s", a.status, a.body)
	}
	aliceActor := booking.Actor{AccountID: accountOf(t, s, alice), Role: booking.RolePatient}
	ps, err := s.svc.Patients(t.Context(), aliceActor)
	testenv.Must(t, err, "Alice's list")

	password := "admin password 1"
	adminPhone := s.newAdmin(password)
	b := newBrowser(t, s.base, 3*time.Minute)
	b.open("/admin/login")
	b.fill("#login-form input[name=phone]", adminPhone)
	b.fill("#login-form input[name=password]", password)
	b.click("#login-form button[type=submit]", "/admin")
	b.click("#detect", "/admin?n=2&ok=detected")
	flag := "/admin/flags/" + r.scalperFlag.ID
	b.open(flag)
	b.contains(`[data-outside="`+r.y.IdentityID+`"]`, "also on 1 other account(s), not in this group")
	b.contains("#outside-hint", "does not bar them unless you tick them")
	b.contains("#also-bar", "Also bar these persons")
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#also-bar input[name=also_bar]')].map(i => i.value + ':' + i.checked).join()`))
	testenv.Must(t, err, "read the also-bar boxes")
	if got != r.y.IdentityID+":false" {
		t.Errorf("the also-bar boxes = %q, want y's, unticked", got)
	}
	b.axeClean(axeSource(t), "flag page with a person on another account")
	b.shot("admin-06-outside")

	b.fill("#confirm-form textarea[name=note]", "一个账号两张卡抢号 Two cards on one account")
	b.click("#confirm-form button[type=submit]", flag+"?ok=confirmed")
	b.contains("#outcome", "1 person(s) of the group's own barred")
	b.contains("#outside-outcome", "1 person(s) also on accounts outside the group")

	ctx := t.Context()
	today := s.addToday()
	scalper := booking.Actor{AccountID: r.scalperAccount, Role: booking.RolePatient}
	if _, err := s.svc.Book(ctx, scalper, booking.BookRequest{SessionID: today.ID, PatientID: r.x.ID, Channel: booking.ChannelOnline}); !errors.Is(err, booking.ErrPatientBarred) {
		t.Errorf("x, the group's own, books: %v, want patient_barred", err)
	}
	a := alice.post("/patient/bookings", url.Values{"csrf": {alice.csrf("/patient/sessions")}, "session_id": {today.ID},
		"patient_id": {ps[0].ID}, "idem": {booking.NewID()}})
	if a.status != 303 {
		t.Errorf("Alice books for y after the confirmation: %d, want 303\n%.600s", a.status, a.body)
	}
}
