package web

import (
	"context"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestAdminBindingsToReviewInBrowser (session 25): the admin console's
// 绑定复核 page, reached from the flags page, lists a self bound before the
// binding rule (no ring recorded) and a child as an account's self, both
// masked, nothing in clear; a hospital's administrator is sent to the
// schedule; axe-core clean; 390 px.
func TestAdminBindingsToReviewInBrowser(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	axe := axeSource(t)
	holderID, childID := bornIn(1970, 76), bornIn(2019, 77)
	phone := newPhone()
	_, err := s.svc.CreateAccount(ctx, phone, "holder password 1", "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{})
	testenv.Must(t, err, "an account")
	a := s.actor(phone, "holder password 1")
	self, err := s.svc.AddPatient(ctx, a, booking.AddPatientRequest{IDType: "resident_id", IDNumber: holderID, Name: "韩建国", IsSelf: true,
		Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}}, booking.Origin{})
	testenv.Must(t, err, "the holder")
	// Bound by the desk before the rule: no audit entry says it was rung.
	_, err = s.db.Pool().Exec(context.Background(), `UPDATE patients SET self_verified_at = now() WHERE id = $1`, self.ID)
	testenv.Must(t, err, "the old binding")
	kidPhone := newPhone()
	_, err = s.svc.CreateAccount(ctx, kidPhone, "holder password 1", "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{})
	testenv.Must(t, err, "another account")
	k := s.actor(kidPhone, "holder password 1")
	child, err := s.svc.AddPatient(ctx, k, booking.AddPatientRequest{IDType: "resident_id", IDNumber: childID, Name: "韩小宝", Relationship: "child",
		Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}}, booking.Origin{})
	testenv.Must(t, err, "the child")
	_, err = s.db.Pool().Exec(context.Background(), `UPDATE patients SET is_self = true, relationship = 'self' WHERE id = $1`, child.ID)
	testenv.Must(t, err, "the child as the account's self, as before the rule")

	b := newBrowser(t, s.base, 3*time.Minute)
	b.open("/admin/login")
	b.signIn("admin", s.newAdmin("admin password 1"), "admin password 1")
	b.click("#bindings-link a", "/admin/bindings")
	b.contains("#bindings", "未记录拨通登录号")
	b.contains("#bindings", "可能未满 14 周岁")
	b.contains("#bindings", "2019")
	b.hidden(holderID, childID, "韩建国", "韩小宝", phone, kidPhone)
	b.axeClean(axe, "admin bindings to review")
	b.shot("admin-bindings")
	b.phoneShot("admin-bindings-390")

	h := s.hospitalAdminTab()
	h.open("/admin/bindings")
	h.waitFor("/admin/schedule")
}
