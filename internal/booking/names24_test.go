package booking_test

import (
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestNameChangeKeepsWhatWasMadeUnderTheFormerName is review24 H3's two
// sequences. 王芳, bound at the desk, changes her name by law to 王思雨:
// the desk corrects it from her new card; her husband's booking for her and
// the operator's phone booking stand, his list shows the new name and books
// her again, and the phone finds her bookings by either name (told the
// former one is former). 李娜, never bound, whose own account and booking
// are under her former name, comes with the 更名证明: the desk records the
// former name, and her self and booking stand; a squatter's invented name
// is still void.
func TestNameChangeKeepsWhatWasMadeUnderTheFormerName(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	clerk, op := h.staff(booking.RoleClerk), h.staff(booking.RoleOperator)
	named := func(p booking.IdentityRequest, name string) booking.IdentityRequest {
		p.Name = name
		return p
	}

	wang := h.person("王芳")
	own := h.userOf(wang)
	husband := h.userOf(h.person("张伟"), wang)
	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: wang, AccountPhone: own.phone, NumberRung: true})
	testenv.Must(t, err, "the desk binds 王芳's own account")
	hb := h.mustBook(husband, 1, h.session(sessionOpts{online: 1, dept: "Cardiology"}), "")
	pb, err := h.staffBook(op, wang, h.deskSession(deskOpts{phone: 1, dept: "Dermatology", day: 2}), booking.ChannelPhone, "13912340001")
	testenv.Must(t, err, "the operator books 王芳 by phone")

	renamed := named(wang, "王思雨")
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: renamed, AccountPhone: own.phone, NumberRung: true,
		CorrectionReason: "依法更名，见户口簿 legal name change, household register seen"})
	testenv.Must(t, err, "the desk corrects the name from her new card")

	if got, err := h.svc.Booking(h.ctx, husband.actor, hb.ID); err != nil || got.Status != booking.StatusConfirmed {
		t.Errorf("the husband's booking under her former name = %v, %v; want confirmed", got.Status, err)
	}
	if n := h.count(`SELECT count(*) FROM patients p JOIN identities i ON i.id = p.identity_id WHERE p.id = $1 AND p.name_hash = i.name_hash`,
		husband.patients[1].ID); n != 1 {
		t.Errorf("the husband's list does not show her new name")
	}
	if _, err := h.book(husband, 1, h.session(sessionOpts{online: 1, dept: "Neurology", day: h.day.AddDate(0, 0, 3)}), ""); err != nil {
		t.Errorf("the husband books her again from his list: %v", err)
	}
	if n := h.count(`SELECT count(*) FROM notifications WHERE account_id = $1 AND body LIKE '%已作废%'`, husband.actor.AccountID); n != 0 {
		t.Errorf("the husband was told %d times that what he made is void", n)
	}
	for _, name := range []string{"王思雨", "王芳"} {
		l, err := h.svc.LookupCaller(h.ctx, op, named(wang, name), "13912340001", booking.CheckSpoken)
		testenv.Must(t, err, "the phone looks her up as %s", name)
		if len(l.Bookings) != 1 || l.Bookings[0].ID != pb.ID {
			t.Errorf("the phone's lookup as %s lists %d bookings, want her phone booking", name, len(l.Bookings))
		}
		if l.FormerName != (name == "王芳") {
			t.Errorf("the phone's lookup as %s: former name %v", name, l.FormerName)
		}
	}

	li := h.person("李娜")
	liOwn := h.userOf(li)
	lb := h.mustBook(liOwn, 0, h.session(sessionOpts{online: 1, dept: "Pediatrics", day: h.day.AddDate(0, 0, 1)}), "")
	squatter := h.userOf(h.person("赵强"), named(li, "假名字"))
	sb := h.mustBook(squatter, 1, h.session(sessionOpts{online: 1, dept: "Urology", day: h.day.AddDate(0, 0, 1)}), "")
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: named(li, "李安娜"), FormerName: "李娜",
		CorrectionReason: "更名证明 seen"})
	testenv.Must(t, err, "the desk verifies 李安娜 with her former name")
	if n := h.count(`SELECT count(*) FROM patients WHERE id = $1 AND is_self`, liOwn.patients[0].ID); n != 1 {
		t.Errorf("李安娜's own account lost her as its self")
	}
	if got, err := h.svc.Booking(h.ctx, liOwn.actor, lb.ID); err != nil || got.Status != booking.StatusConfirmed {
		t.Errorf("李安娜's own booking = %v, %v; want confirmed", got.Status, err)
	}
	if got, err := h.svc.Booking(h.ctx, squatter.actor, sb.ID); err != nil || got.Status != booking.StatusCancelled {
		t.Errorf("the squatter's booking under a name never hers = %v, %v; want cancelled", got.Status, err)
	}
	h.checkClean()
}

// TestNamesInOtherScriptsAreOneName is review24 M1's sequences: a walk-in
// typed as the document prints it (simplified characters, a passport's
// upper case and order) is the person's own name: their own account keeps
// its self, and no booking made under the other form is void.
func TestNamesInOtherScriptsAreOneName(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	clerk := h.staff(booking.RoleClerk)
	for i, tt := range []struct{ doc, number, booked, card string }{
		{"hk_macau_permit", "H12345678", "陳大文", "陈大文"},
		{"passport", "E12345678", "John Smith", "SMITH JOHN"},
		{"passport", "K7654321", "Anna Lee", "ANNA LEE"},
	} {
		who := booking.IdentityRequest{IDType: tt.doc, IDNumber: tt.number, Name: tt.booked}
		own := h.userOf(who)
		spouse := h.userOf(h.person("配偶甲"), who)
		ob := h.mustBook(own, 0, h.session(sessionOpts{online: 1, dept: "Cardiology", day: h.day.AddDate(0, 0, 1+i)}), "")
		sb := h.mustBook(spouse, 1, h.session(sessionOpts{online: 1, dept: "Dermatology", day: h.day.AddDate(0, 0, 1+i)}), "")
		card := who
		card.Name = tt.card
		h.mustWalkIn(clerk, card, h.deskSession(deskOpts{onsite: 1, dept: "Neurology", day: 10 + i}))
		if n := h.count(`SELECT count(*) FROM patients WHERE id = $1 AND is_self`, own.patients[0].ID); n != 1 {
			t.Errorf("%s: the walk-in as %q took the self from the account of %q", tt.doc, tt.card, tt.booked)
		}
		for _, b := range []booking.Booking{ob, sb} {
			if n := h.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'confirmed'`, b.ID); n != 1 {
				t.Errorf("%s: a booking under %q is void after the walk-in as %q", tt.doc, tt.booked, tt.card)
			}
		}
		if _, err := h.book(own, 0, h.session(sessionOpts{online: 1, dept: "Urology", day: h.day.AddDate(0, 0, 20+i)}), ""); err != nil {
			t.Errorf("%s: %q books online after the walk-in as %q: %v", tt.doc, tt.booked, tt.card, err)
		}
	}
	h.checkClean()
}

// TestDeathWithdrawsEverythingAndBooksNothing is review24 M2's sequence:
// 钱德明's own booking and draw entry, his daughter's booking for him and
// an operator's phone booking; the desk records his death with the
// certificate. Everything is withdrawn (never late; the daughter told
// gently), the draw has no entry of his left to win, and from then on no
// account adds him as its own, his daughter's account books him no more,
// and neither does the phone.
func TestDeathWithdrawsEverythingAndBooksNothing(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	clerk, op := h.staff(booking.RoleClerk), h.staff(booking.RoleOperator)
	dead := h.person("钱德明")
	own := h.userOf(dead)
	daughter := h.userOf(h.person("钱丽"), dead)
	ob := h.mustBook(own, 0, h.session(sessionOpts{online: 1, dept: "Cardiology"}), "")
	oe := h.mustEnter(own, 0, h.lotterySession(lotteryOpts{online: 2, dept: "Neurology", period: "evening"}))
	db := h.mustBook(daughter, 1, h.session(sessionOpts{online: 1, dept: "Dermatology", day: h.day.AddDate(0, 0, 1)}), "")
	pb, err := h.staffBook(op, dead, h.deskSession(deskOpts{phone: 1, dept: "Urology", day: 2}), booking.ChannelPhone, "13912340002")
	testenv.Must(t, err, "the operator books him by phone")

	res, err := h.svc.RecordDeath(h.ctx, clerk, booking.DeathRequest{IdentityRequest: dead, Evidence: booking.DeathEvidenceCertificate,
		Reason: "女儿持死亡医学证明到窗口 the daughter brought the certificate"})
	testenv.Must(t, err, "the desk records his death")
	if res.Bookings != 3 || res.Entries != 1 {
		t.Errorf("withdrawn = %+v, want 3 bookings and 1 entry", res)
	}
	for _, b := range []booking.Booking{ob, db, pb} {
		if n := h.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled' AND NOT late_cancel`, b.ID); n != 1 {
			t.Errorf("booking %s is not cancelled (never late)", b.ID)
		}
	}
	if n := h.count(`SELECT count(*) FROM lottery_entries WHERE id = $1 AND status = 'withdrawn'`, oe.ID); n != 1 {
		t.Errorf("his draw entry is not withdrawn")
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_deceased' AND actor_id = $1`, clerk.AccountID); n != 1 {
		t.Errorf("identity_deceased audit entries = %d, want 1", n)
	}
	_, err = h.svc.NotifyEvents(h.ctx)
	testenv.Must(t, err, "notify")
	if n := h.count(`SELECT count(*) FROM notifications WHERE account_id = $1 AND body LIKE '%谨致哀悼%' AND body NOT LIKE '%爽约一次%'`,
		daughter.actor.AccountID); n != 1 {
		t.Errorf("the daughter's gentle notices = %d, want 1", n)
	}

	stranger := h.user(0)
	_, err = h.svc.AddPatient(h.ctx, stranger.actor, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion},
		IDType: dead.IDType, IDNumber: dead.IDNumber, Name: dead.Name, IsSelf: true}, booking.Origin{})
	wantCode(t, "a stranger adds him as its own", err, "identity_deceased")
	_, err = h.book(daughter, 1, h.session(sessionOpts{online: 1, dept: "Pediatrics", day: h.day.AddDate(0, 0, 3)}), "")
	wantCode(t, "his daughter books him again", err, "identity_deceased")
	_, err = h.staffBook(op, dead, h.deskSession(deskOpts{phone: 1, dept: "Urology", day: 4}), booking.ChannelPhone, "13912340002")
	wantCode(t, "the phone books him again", err, "identity_deceased")
	h.checkClean()
}

// TestDeceasedEntryAndPlaceAreRefusedAsDeceased (session 25): after the
// desk recorded a death, the family's lottery entry and waitlist place
// for the person are refused identity_deceased — as a
// booking is — never identity_unverified (the name is the verified one),
// and nothing is written.
func TestDeceasedEntryAndPlaceAreRefusedAsDeceased(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	clerk := h.staff(booking.RoleClerk)
	dead := h.person("孙志华")
	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: dead})
	testenv.Must(t, err, "the desk verifies his name")
	daughter := h.userOf(h.person("孙丽"), dead)
	draw := h.lotterySession(lotteryOpts{online: 2})
	full := h.session(sessionOpts{online: 1, dept: "Dermatology", day: h.day.AddDate(0, 0, 2)})
	h.mustBook(h.user(1), 0, full, "") // sold out: the waitlist is open
	_, err = h.svc.RecordDeath(h.ctx, clerk, booking.DeathRequest{IdentityRequest: dead, Evidence: booking.DeathEvidenceCard,
		Reason: "儿子持身份证到窗口 the son came with the card"})
	testenv.Must(t, err, "the desk records his death")

	_, err = h.enter(daughter, 1, draw, "")
	wantCode(t, "the daughter enters him in a draw", err, "identity_deceased")
	_, err = h.svc.JoinWaitlist(h.ctx, daughter.actor, booking.JoinWaitlistRequest{SessionID: full.ID, PatientID: daughter.patients[1].ID})
	wantCode(t, "the daughter puts him on a waitlist", err, "identity_deceased")
	if n := h.count(`SELECT count(*) FROM lottery_entries e JOIN identities i ON i.id = e.identity_id WHERE i.deceased_at IS NOT NULL`); n != 0 {
		t.Errorf("entries of the deceased = %d, want 0", n)
	}
	if n := h.count(`SELECT count(*) FROM waitlist w JOIN identities i ON i.id = w.identity_id WHERE i.deceased_at IS NOT NULL`); n != 0 {
		t.Errorf("waitlist places of the deceased = %d, want 0", n)
	}
	h.checkClean()
}
