package web

import (
	"context"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// appealFixture is a confirmed flag over one account (A) that lists two
// persons besides its holder: Q, whom a family account (F) lists too and
// whom the confirmation named (also_bar), and R, who has no account of
// their own and whom only A lists. The confirmer is an administrator.
type appealFixture struct {
	flagID        string
	familyPhone   string
	family        booking.Actor
	familyPatient string // Q on F's list
	rID, rName    string // R's card
	confirmer     booking.Actor
	confirmPhone  string
}

// confirmedFlagWithPersons builds the fixture through the service; the
// flag itself is written as the detector would (an open flag).
func (s *site) confirmedFlagWithPersons(password string) appealFixture {
	t, ctx := s.t, s.t.Context()
	consent := booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}
	base := int(time.Now().UnixNano() % 8000)
	qID, qName := residentID(base), "钱芳"
	fx := appealFixture{flagID: "flg_appeals_" + testenv.Token(), rID: residentID(base + 1), rName: "任伟"}
	a, err := s.svc.CreateAccount(ctx, newPhone(), password, "", consent, booking.Origin{})
	testenv.Must(t, err, "create the flagged account")
	aa := booking.Actor{AccountID: a, Role: booking.RolePatient}
	self, err := s.svc.AddPatient(ctx, aa, booking.AddPatientRequest{Consent: consent, IDType: "resident_id", IDNumber: residentID(base + 2), Name: "安东", IsSelf: true}, booking.Origin{})
	testenv.Must(t, err, "add A's self")
	q, err := s.svc.AddPatient(ctx, aa, booking.AddPatientRequest{Consent: consent, IDType: "resident_id", IDNumber: qID, Name: qName}, booking.Origin{})
	testenv.Must(t, err, "add Q to A")
	r, err := s.svc.AddPatient(ctx, aa, booking.AddPatientRequest{Consent: consent, IDType: "resident_id", IDNumber: fx.rID, Name: fx.rName}, booking.Origin{})
	testenv.Must(t, err, "add R to A")
	fx.familyPhone = newPhone()
	f, err := s.svc.CreateAccount(ctx, fx.familyPhone, password, "", consent, booking.Origin{})
	testenv.Must(t, err, "create the family account")
	fx.family = booking.Actor{AccountID: f, Role: booking.RolePatient}
	fq, err := s.svc.AddPatient(ctx, fx.family, booking.AddPatientRequest{Consent: consent, IDType: "resident_id", IDNumber: qID, Name: qName, Relationship: "parent"}, booking.Origin{})
	testenv.Must(t, err, "add Q to F")
	fx.familyPatient = fq.ID
	_, err = s.db.Pool().Exec(context.Background(), `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at, opened_at)
		VALUES ($1, 3, 'open', '[]', to_jsonb(ARRAY[$2::TEXT]), to_jsonb(ARRAY[$3::TEXT, $4::TEXT, $5::TEXT]), now(), now(), now())`,
		fx.flagID, a, self.IdentityID, q.IdentityID, r.IdentityID)
	testenv.Must(t, err, "write the flag")
	fx.confirmPhone = s.newAdmin(password)
	fx.confirmer = s.actor(fx.confirmPhone, password)
	_, err = s.svc.DecideFlag(ctx, fx.confirmer, fx.flagID, booking.Decision{Action: "confirm", Note: "resold slots", AlsoBar: []string{q.IdentityID}})
	testenv.Must(t, err, "confirm the flag")
	return fx
}

// TestFlagDeadlinesAndPersonAppealsInBrowser: the admin console's flag
// list shows each open flag's decision deadline, the overdue ones first and
// marked, and a tab of overturned flags; a flag's page shows its deadline.
// The appeal queue lists the persons' appeals with who filed them (a
// family account, masked; a registration desk for a person without an
// account), and the administrator who confirmed the flag is told, before
// and after trying, in Chinese, that another administrator must uphold
// it; a second administrator does. Screenshots appeals-q-*.png at 1280 and
// 390 px; axe-core on each page.
func TestFlagDeadlinesAndPersonAppealsInBrowser(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	src := axeSource(t)
	const password = "admin password 1"
	fx := s.confirmedFlagWithPersons(password)
	tag := testenv.Token()
	late, fresh, gone := "flg_late_"+tag, "flg_fresh_"+tag, "flg_gone_"+tag
	_, err := s.db.Pool().Exec(context.Background(), `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at, opened_at)
		VALUES ($1, 2, 'open', '[]', '[]', '[]', now() - interval '10 days', now(), now() - interval '10 days'),
		       ($2, 9, 'open', '[]', '[]', '[]', now(), now(), now())`, late, fresh)
	testenv.Must(t, err, "write two open flags")
	_, err = s.db.Pool().Exec(context.Background(), `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at, decided_at, decided_by, note, overturned_by, overturned_at)
		VALUES ($1, 4, 'overturned', '[]', '[]', '[]', now(), now(), now(), $2, 'resold', $3, now())`, gone, fx.confirmer.AccountID, booking.NewID())
	testenv.Must(t, err, "write an overturned flag")

	// Q's appeal from the family account; R's at the desk, R having no
	// account.
	_, err = s.svc.AppealForPerson(ctx, fx.family, fx.familyPatient, "我母亲只是家人代约，没有倒号。 My mother's bookings were made by family.")
	testenv.Must(t, err, "Q's appeal from F")
	clerk := s.actor(s.newClerk("clerk password 1"), "clerk password 1")
	_, err = s.svc.DeskAppeal(ctx, clerk, booking.IdentityRequest{IDType: "resident_id", IDNumber: fx.rID, Name: fx.rName}, "本人持证来窗口申诉。 In person with the card.")
	testenv.Must(t, err, "R's appeal at the desk")

	a := newBrowser(t, s.base, 4*time.Minute)
	a.signIn("admin", fx.confirmPhone, password)
	a.contains("#flags tbody tr:first-child", "已超期 Overdue")
	a.contains("#flags tbody tr:first-child", late[:8])
	a.contains("#flags thead", "决定期限 Decide by")
	a.contains("#f-"+fresh, time.Now().Add(7*24*time.Hour).In(shanghai).Format("2006-01-02"))
	a.axeClean(src, "flags with deadlines")
	a.shot("appeals-q-01-flags")
	a.phoneShot("appeals-q-01-flags-390")
	a.open("/admin/flags/" + late)
	a.contains("#flag-due", "已超期 Overdue")
	a.open("/admin?status=overturned")
	a.contains("#tab-overturned", "已改判撤销 Overturned")
	a.contains("#f-"+gone, "已改判撤销 Overturned")
	a.open("/admin/flags/" + gone)
	a.contains("#outcome", "申诉成立")
	a.axeClean(src, "an overturned flag")

	a.open("/admin/cases")
	a.contains("#cases", "就诊人申诉 Person's appeal")
	a.contains("#cases", "窗口代交 At a desk")
	a.contains("#cases", fx.familyPhone[:3]+"****"+fx.familyPhone[7:])
	a.hidden(fx.familyPhone, fx.rID, fx.rName)
	a.axeClean(src, "the appeal queue")
	a.shot("appeals-q-02-queue")
	a.phoneShot("appeals-q-02-queue-390")
	a.open(s.caseURL(fx.family.AccountID))
	a.contains("#appeal-filer", "就诊人申诉")
	a.contains("#second-admin", "你确认了这条线索")
	a.fill("#answer-form textarea[name=answer]", "经复核，申诉成立。 Upheld.")
	a.check("#answer-form input[name=lift_block]")
	a.click("#answer-form button[type=submit]", "answer")
	a.contains("#error", "申诉须由另一位管理员复核")
	a.axeClean(src, "an appeal its flag's confirmer cannot uphold")
	a.shot("appeals-q-03-second-admin")
	a.phoneShot("appeals-q-03-second-admin-390")

	second := newBrowser(t, s.base, 3*time.Minute)
	second.signIn("admin", s.newAdmin(password), password)
	second.open(s.caseURL(clerk.AccountID))
	second.contains("#appeal-filer", "窗口代交 At a desk")
	second.contains("#appeal-filer", "没有账号")
	second.absent("#second-admin")
	second.fill("#answer-form textarea[name=answer]", "经复核，申诉成立。 Upheld.")
	second.check("#answer-form input[name=lift_block]")
	second.click("#answer-form button[type=submit]", "?ok=case_answered")
	second.contains("#answer", "The bar is lifted")
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'bar_lifted' AND reason LIKE '%' || $1 || '%'`, fx.flagID); n != 1 {
		t.Errorf("%d bar_lifted entries of the flag, want 1", n)
	}
}

// caseURL is the admin page of the open appeal the account filed.
func (s *site) caseURL(filer string) string {
	s.t.Helper()
	var id string
	err := s.db.Pool().QueryRow(context.Background(), `SELECT id FROM patient_cases WHERE account_id = $1 AND kind = 'appeal' AND status = 'open'`, filer).Scan(&id)
	testenv.Must(s.t, err, "find the appeal of %s", filer)
	return "/admin/cases/" + id
}

// TestDeskAppealAnswerInBrowser: a person a confirmed flag barred, with no
// account of their own, appeals at the desk with their card and later
// learns the answer there: the desk asks with the card and reads out the
// state (none, under review with its date, answered with the answer), in a
// patient's words, naming no flag or account; a wrong name is refused in
// Chinese. Screenshots desk-appeal-*.png at 1280 and 390 px; axe-core on
// each answer.
func TestDeskAppealAnswerInBrowser(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	src := axeSource(t)
	const password = "admin password 1"
	fx := s.confirmedFlagWithPersons(password)
	ask := func(d *tab, name string) {
		d.open("/desk/accounts")
		d.fill("#appeal-ask-form input[name=id_number]", fx.rID)
		d.fill("#appeal-ask-form input[name=name]", name)
		d.click("#appeal-ask-form button[type=submit]", "/desk/appeals/lookup")
	}
	d := s.deskTab()
	ask(d, fx.rName)
	d.contains("#appeal-answer", "没有您的申诉记录")
	ask(d, "别人")
	d.contains("#error", "姓名")
	d.absent("#appeal-answer")

	d.open("/desk/accounts")
	d.fill("#appeal-form input[name=id_number]", fx.rID)
	d.fill("#appeal-form input[name=name]", fx.rName)
	d.fill("#appeal-form textarea[name=text]", "我没有倒号，预约都是自己看病用的。 I booked for my own visits.")
	d.click("#appeal-form button[type=submit]", "ok=appeal_filed")
	d.contains(".flash", "申诉已提交")
	d.shot("desk-appeal-01-filed")

	ask(d, fx.rName)
	d.contains("#appeal-answer", "正在复核")
	d.contains("#appeal-answer", "Filed")
	d.hidden(fx.rID, fx.rName, fx.flagID, fx.family.AccountID)
	d.axeClean(src, "an appeal under review at the desk")
	d.shot("desk-appeal-02-open")
	d.phoneShot("desk-appeal-02-open-390")

	var caseID string
	testenv.Must(t, s.db.Pool().QueryRow(context.Background(), `SELECT id FROM patient_cases WHERE kind = 'appeal' AND flag_id = $1 AND status = 'open'`, fx.flagID).Scan(&caseID), "find R's appeal")
	second := s.actor(s.newAdmin(password), password)
	_, err := s.svc.AnswerCase(ctx, second, caseID, booking.CaseAnswer{Answer: "经复核，申诉成立。 Upheld after review.", LiftBlock: true})
	testenv.Must(t, err, "uphold R's appeal")

	ask(d, fx.rName)
	d.contains("#appeal-answer", "您的申诉已有答复")
	d.contains("#appeal-answer-text", "申诉成立")
	d.contains("#appeal-answer-text", "可以重新预约")
	d.hidden(fx.rID, fx.rName, fx.flagID, fx.family.AccountID)
	d.axeClean(src, "an answered appeal at the desk")
	d.shot("desk-appeal-03-answered")
	d.phoneShot("desk-appeal-03-answered-390")
}
