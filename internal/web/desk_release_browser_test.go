package web

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// TestDeskReleasesRecycledNumberInBrowser (ui19; phone18 left it to SQL by
// hand): a carrier gave a number to a new holder, and an account of its
// previous holder still logs in with it, so the new holder cannot
// register (phone_taken). At the desk's 账号服务 Accounts page a clerk
// checks the new holder's card and sees the carrier's document (recorded
// only as seen), and releases the number: the old holder's card is
// refused (their own account: they change the number themselves), an
// unknown number is tied to its field; the release ends the old
// account's logins, keeps its members and records, clears the old number
// from its members, is audited with masked values only and leaves the old
// account a notification. The new holder then registers with the number.
// The old holder comes to a desk with their card and a new number, which
// becomes the old account's login: they log in with it and the old
// password and read the notification. Nothing is shown or logged in clear.
func TestDeskReleasesRecycledNumberInBrowser(t *testing.T) {
	s := newSite(t)
	axe := axeSource(t)
	recycled, later := newPhone(), newPhone()
	oldID, oldName := bornIn(1950, 61), "赵老"
	newID, newName := bornIn(1995, 62), "钱新"
	password := "old holder password 1"

	// The previous holder's account: its self and a member listed with the
	// number, signed in on a browser of theirs.
	o := newBrowser(t, s.base, 3*time.Minute)
	o.register(recycled, password)
	o.addSelf(oldID, oldName)
	o.fill("#family-form input[name=id_number]", bornIn(1952, 63))
	o.fill("#family-form input[name=name]", "孙老")
	o.fill("#family-form input[name=phone]", recycled)
	o.agree("#family-form")
	o.click("#family-form button[type=submit]", "/patient/family?ok=added")
	var oldAccount string
	testenv.Must(t, s.db.Pool().QueryRow(t.Context(), `SELECT account_id::text FROM patients WHERE is_self`).Scan(&oldAccount), "the old account")

	n := s.client()
	reg := func() answer {
		return n.post("/patient/register", url.Values{"csrf": {n.csrf("/patient/register")}, "phone": {recycled}, "privacy_consent": {PrivacyNoticeVersion},
			"password": {"new holder password 1"}, "password2": {"new holder password 1"}, "idem": {newFormKey()}})
	}
	if a := reg(); a.status != 409 || !strings.Contains(a.body, "phone_taken") {
		t.Fatalf("the new holder registers before the release: %d, want 409 phone_taken", a.status)
	}

	d := o.fresh()
	d.signIn("desk", s.newClerk("clerk password 1"), "clerk password 1")
	d.open("/desk/accounts")
	d.contains("#release-section", "运营商")
	release := func(idNumber, name, phone, want string) {
		t.Helper()
		d.fill("#release-form input[name=id_number]", idNumber)
		d.fill("#release-form input[name=name]", name)
		d.fill("#release-form input[name=phone]", phone)
		d.do("tick the carrier's document", chromedp.Click(chromedp.CSS("#release-form input[name=carrier_proof_seen]")))
		d.click("#release-form button[type=submit]", want)
	}
	// Used today: its holder still has the number (review19c M1).
	release(newID, newName, recycled, "/desk/accounts/release")
	d.contains("#error", "number_in_use")
	// As if nothing had used the old account for 100 days.
	for _, q := range []string{
		`UPDATE booking_events SET ts = ts - INTERVAL '100 days' WHERE account_id = $1`,
		`UPDATE accounts SET created_at = created_at - INTERVAL '100 days', tokens_revoked_at = tokens_revoked_at - INTERVAL '100 days' WHERE id = $1`,
	} {
		_, err := s.db.Pool().Exec(t.Context(), q, oldAccount)
		testenv.Must(t, err, "age the old account")
	}
	release(oldID, oldName, recycled, "/desk/accounts/release")
	d.contains("#error", "release_own_number")
	release(newID, newName, later, "/desk/accounts/release")
	d.contains("#error", "patient_not_found")
	if got := fieldState(d, "#release-form input[name=phone]", "true error true "); got != "true error true " {
		t.Errorf("an unknown number: the number field is %q, want it invalid, described, focused and empty", got)
	}
	d.axeClean(axe, "desk release refused")
	release(newID, newName, recycled, "/desk/accounts?ok=released")
	d.contains("#flash", "已释放")
	d.axeClean(axe, "desk release done")
	d.hidden(recycled, oldID, newID, oldName, newName)

	// The old account's logins ended; its data stays; the number is free.
	o.open("/patient")
	o.waitFor("/patient/login?")
	if n := s.count(`SELECT count(*) FROM patients WHERE account_id = $1 AND removed_at IS NULL`, oldAccount); n != 2 {
		t.Errorf("the old account lists %d members after the release, want its 2", n)
	}
	if n := s.count(`SELECT count(*) FROM patients WHERE account_id = $1 AND phone_hash IS NOT NULL`, oldAccount); n != 0 {
		t.Errorf("%d of the old account's members still have the recycled number, want none", n)
	}
	if n := s.count(`SELECT count(*) FROM accounts WHERE id = $1 AND phone_masked = $2`, oldAccount, "released"); n != 1 {
		t.Errorf("the old account is not marked released")
	}
	masked := identity.MaskPhone(recycled)
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'account_phone_released' AND target = $1
		AND reason LIKE '%' || $2 || '%' AND reason LIKE '%carrier%' AND reason NOT LIKE '%' || $3 || '%'`, "account:"+oldAccount, masked, recycled); n != 1 {
		t.Errorf("got %d audit entries of the release with the masked number, the carrier's document and no clear number, want 1", n)
	}
	if a := reg(); a.status != 303 {
		t.Fatalf("the new holder registers after the release: %d, want 303\n%s", a.status, a.body)
	}
	if a := n.addFamily(newID, newName, "", true); a.status != 303 {
		t.Fatalf("the new holder adds themself: %d\n%s", a.status, a.body)
	}

	// The old holder at a desk: their card, a new number. (The new
	// holder's card finds their own account, which has its number.)
	restore := func(idNumber, name, phone, want string) {
		t.Helper()
		d.fill("#restore-form input[name=id_number]", idNumber)
		d.fill("#restore-form input[name=name]", name)
		d.fill("#restore-form input[name=phone]", phone)
		d.click("#restore-form button[type=submit]", want)
	}
	restore(newID, newName, later, "/desk/accounts/restore")
	d.contains("#error", "account_not_released")
	restore(oldID, oldName, later, "/desk/accounts?ok=restored")
	d.contains("#flash", "已登记新手机号")
	d.hidden(later, oldID, oldName)

	o.open("/patient/login")
	o.fill("#login-form input[name=phone]", later)
	o.fill("#login-form input[name=password]", password)
	o.click("#login-form button[type=submit]", "/patient")
	o.contains("#notifications", "已释放")
	o.contains("#notifications", masked)
	for _, v := range []string{recycled, later, oldID, newID} {
		if strings.Contains(s.logs.String(), v) {
			t.Errorf("the log shows %q in clear", v)
		}
	}
}
