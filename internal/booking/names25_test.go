package booking_test

import (
	"slices"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// Session 25's part of review24 H3 (docs/security.md, "Names and deaths"):
// a person's former names (曾用名) are erased with the person, listed in
// the copy of their data, and the draw takes an entry made under one.
// Real PostgreSQL and Redis.

// renamedTo is p under another name.
func renamedTo(p booking.IdentityRequest, name string) booking.IdentityRequest {
	p.Name = name
	return p
}

// formerNamesOf counts the former names kept of identity id, and those of
// them still sealed.
func (h *harness) formerNamesOf(id string) (rows, sealed int) {
	h.t.Helper()
	testenv.Must(h.t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT count(*), count(*) FILTER (WHERE length(name_sealed) > 0)
	  FROM identity_former_names WHERE identity_id = $1`, id).Scan(&rows, &sealed), "former names")
	return rows, sealed
}

// TestRetentionErasesFormerNames: the retention job's erasure of a person
// (sealed number and name, a year after their need ended) takes their
// former names too — the sealed copy, and the keyed hash and date that say
// the person had one. A person still in use (a booking to come) keeps
// theirs, and a second run finds nothing more.
func TestRetentionErasesFormerNames(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	op, clerk := h.staffOf(booking.RoleOperator, h.hosp.ID), h.staff(booking.RoleClerk)
	start := time.Now()
	run := start.AddDate(0, 0, 368)
	s0 := h.deskSession(deskOpts{phone: 5})
	book := func(who booking.IdentityRequest) (identityID, bookingID string) {
		t.Helper()
		b, err := h.staffBook(op, who, s0, booking.ChannelPhone, "13700000002")
		testenv.Must(t, err, "book %s", who.Name)
		testenv.Must(t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT identity_id::TEXT FROM bookings WHERE id = $1`, b.ID).Scan(&identityID), "its person")
		return identityID, b.ID
	}
	goneWho, keptWho := h.person("周小一"), h.person("郑小二")
	gone, _ := book(goneWho)
	kept, keptBooking := book(keptWho)
	_, err := h.stack.DB.Pool().Exec(h.ctx, `UPDATE bookings SET visit_date = $2::DATE WHERE id = $1`, keptBooking,
		run.AddDate(0, 0, 2).Format(time.DateOnly))
	testenv.Must(t, err, "move the kept person's booking to after the run")
	for _, who := range []booking.IdentityRequest{goneWho, keptWho} {
		_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: renamedTo(who, who.Name+"新"), FormerName: who.Name,
			CorrectionReason: "更名证明 seen"})
		testenv.Must(t, err, "the desk verifies %s's new name with the former one", who.Name)
	}
	for _, id := range []string{gone, kept} {
		if rows, sealed := h.formerNamesOf(id); rows != 1 || sealed != 1 {
			t.Fatalf("before the run a person holds %d former names (%d sealed), want 1", rows, sealed)
		}
	}

	func() {
		defer h.clock.at(run)()
		p, err := h.svc.Retain(h.ctx)
		testenv.Must(t, err, "retain")
		if p.Identities != 1 {
			t.Errorf("erased %d persons, want 1", p.Identities)
		}
		if got := h.sealedOf(gone); got.Number || got.Name {
			t.Fatalf("the person past their need = %+v, want their sealed number and name erased", got)
		}
		if rows, _ := h.formerNamesOf(gone); rows != 0 {
			t.Errorf("the erased person keeps %d former names, want none (sealed copy, hash and date)", rows)
		}
		if rows, sealed := h.formerNamesOf(kept); rows != 1 || sealed != 1 {
			t.Errorf("the person with a booking to come keeps %d former names (%d sealed), want 1", rows, sealed)
		}
		again, err := h.svc.Retain(h.ctx)
		testenv.Must(t, err, "retain again")
		if again.Identities != 0 {
			t.Errorf("a second run erased %d persons, want none", again.Identities)
		}
	}()
	h.checkClean()
}

// TestExportListsFormerNames: the copy of a verified self's data lists the
// person's former names, masked as the copy shows the person's own name;
// an account that only lists the person (her husband's) is shown none of
// them.
func TestExportListsFormerNames(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	clerk := h.staff(booking.RoleClerk)
	li := h.person("李娜")
	own := h.userOf(li)
	husband := h.userOf(h.person("张伟"), li)
	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: renamedTo(li, "李安娜"), FormerName: "李娜",
		CorrectionReason: "更名证明 seen", AccountPhone: own.phone, NumberRung: true})
	testenv.Must(t, err, "the desk binds 李安娜 with her former name")

	x, err := h.svc.Export(h.ctx, own.actor)
	testenv.Must(t, err, "her copy")
	want := []booking.PastName{{PatientID: own.patients[0].ID, MaskedName: identity.MaskName("李娜")}}
	got := slices.Clone(x.FormerNames)
	for i := range got {
		if got[i].RecordedAt.IsZero() {
			t.Errorf("former name %d has no date", i)
		}
		got[i].RecordedAt = time.Time{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("her copy's former names = %+v, want %+v", got, want)
	}
	for _, p := range x.Patients {
		if p.ID == own.patients[0].ID && p.MaskedName != identity.MaskName("李安娜") {
			t.Errorf("her copy shows her as %q, want %q", p.MaskedName, identity.MaskName("李安娜"))
		}
	}
	hx, err := h.svc.Export(h.ctx, husband.actor)
	testenv.Must(t, err, "his copy")
	if len(hx.FormerNames) != 0 {
		t.Errorf("her husband's copy lists %d former names of hers, want none", len(hx.FormerNames))
	}
}

// TestDrawTakesAFormerName: an entry 李娜's own account made under her
// name, which the desk then records as her former name (a legal change of
// name to 李安娜), is drawn and booked — under her verified name, as her
// card now reads — instead of being passed over as identity_unverified (a
// squatter's entry under a name never hers still is:
// TestLotteryWinnerBookedUnderTheEntrysName).
func TestDrawTakesAFormerName(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	clerk := h.staff(booking.RoleClerk)
	s := h.lotterySession(lotteryOpts{online: 2})
	li := h.person("李娜")
	own := h.userOf(li)
	e := h.mustEnter(own, 0, s)
	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: renamedTo(li, "李安娜"), FormerName: "李娜",
		CorrectionReason: "户口簿 seen", AccountPhone: own.phone, NumberRung: true})
	testenv.Must(t, err, "the desk binds 李安娜 with her former name")
	if n := h.count(`SELECT count(*) FROM lottery_entries WHERE id = $1 AND status = 'entered'`, e.ID); n != 1 {
		t.Fatalf("her entry is no longer entered after the desk's verification")
	}

	h.drawAll(h.svc, s)
	d := h.drawn(s)[0]
	testenv.Must(t, booking.VerifyDraw(d, h.booked(d)), "verify the draw")
	for _, de := range d.Entries {
		if de.ID == e.ID && de.Status != booking.EntryWon {
			t.Errorf("her entry under her former name = %s (%s), want won", de.Status, de.Reason)
		}
	}
	if n := h.count(`SELECT count(*) FROM bookings b JOIN identities i ON i.id = b.identity_id
	                  WHERE b.id = $1 AND b.status = 'confirmed' AND b.name_hash = i.name_hash`, e.ID); n != 1 {
		t.Errorf("her winning entry booked nothing under her verified name")
	}
	if got, err := h.svc.Booking(h.ctx, own.actor, e.ID); err != nil || got.Status != booking.StatusConfirmed {
		t.Errorf("her own account's view of the draw's booking = %v, %v; want confirmed", got.Status, err)
	}
	h.checkClean()
}
