package booking_test

import (
	"bytes"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// nameOnFile is what the identities table keeps of a person's name: its
// keyed hash and who verified it when.
type nameOnFile struct {
	hash []byte
	by   string
	at   *time.Time
}

func (n nameOnFile) same(o nameOnFile) bool {
	return bytes.Equal(n.hash, o.hash) && n.by == o.by && (n.at == nil) == (o.at == nil) && (n.at == nil || n.at.Equal(*o.at))
}

func (db sqlDB) nameOf(identityID string) nameOnFile {
	db.t.Helper()
	var n nameOnFile
	testenv.Must(db.t, db.pool.QueryRow(db.t.Context(),
		`SELECT name_hash, COALESCE(name_verified_by, ''), name_verified_at FROM identities WHERE id = $1`, identityID).
		Scan(&n.hash, &n.by, &n.at), "read identity %s", identityID)
	return n
}

// TestRefusedDeskVerificationChangesNothing: a desk verification that is
// refused (the account phone names an account that does not hold the
// person) changes nothing about the person — not their name, nor who
// verified it, nor the audit log — and writes no person that was not
// there (review14's High: the name was set in a transaction of its own
// before the binding failed).
func TestRefusedDeskVerificationChangesNothing(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	db := h.sql()
	s := h.session(sessionOpts{online: 3})
	clerk := h.staff(booking.RoleClerk)
	stranger := h.userOf(h.person("赵强")) // holds none of the people below

	real := h.person("孙丽")
	owner := h.userOf(real)
	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: real, AccountPhone: owner.phone})
	testenv.Must(t, err, "the desk verifies the person and binds their account")
	claimed := h.person("钱多")
	claimant := h.userOf(claimed) // a claim nobody verified

	as := func(who booking.IdentityRequest, name string) booking.IdentityRequest { who.Name = name; return who }
	tests := []struct {
		name string
		id   string // the person's identity
		req  booking.VerifyRequest
		want *booking.Error
	}{
		{name: "another name, an account that does not hold the person (the review's repro)", id: owner.patients[0].IdentityID,
			req: booking.VerifyRequest{IdentityRequest: as(real, "钱假"), AccountPhone: stranger.phone}, want: booking.ErrVerifiedNameDiffers},
		{name: "a correction naming an account that does not hold the person", id: owner.patients[0].IdentityID,
			req:  booking.VerifyRequest{IdentityRequest: as(real, "钱假"), AccountPhone: stranger.phone, CorrectionReason: "typed wrong"},
			want: booking.ErrPatientNotFound},
		{name: "the verified name, an account that does not hold the person", id: owner.patients[0].IdentityID,
			req: booking.VerifyRequest{IdentityRequest: real, AccountPhone: stranger.phone}, want: booking.ErrPatientNotFound},
		{name: "an unverified claim, an account that does not hold the person", id: claimant.patients[0].IdentityID,
			req: booking.VerifyRequest{IdentityRequest: as(claimed, "钱假"), AccountPhone: stranger.phone}, want: booking.ErrPatientNotFound},
		{name: "no patient account has the phone", id: claimant.patients[0].IdentityID,
			req: booking.VerifyRequest{IdentityRequest: claimed, AccountPhone: "13999999999"}, want: booking.ErrPatientNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := db.nameOf(tt.id)
			audits := db.count(`SELECT count(*) FROM audit_log`)
			_, err := h.svc.VerifyIdentity(h.ctx, clerk, tt.req)
			wantErr(t, "VerifyIdentity", err, tt.want)
			if after := db.nameOf(tt.id); !after.same(before) {
				t.Errorf("the person's name after a refused verification = %+v, want it as it was, %+v", after, before)
			}
			db.wantCount("audit entries after a refused verification", audits, `SELECT count(*) FROM audit_log`)
		})
	}
	t.Run("a person nobody registered", func(t *testing.T) {
		people := db.count(`SELECT count(*) FROM identities`)
		_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: h.person("周新"), AccountPhone: stranger.phone})
		wantErr(t, "VerifyIdentity", err, booking.ErrPatientNotFound)
		db.wantCount("identities after a refused verification of a new person", people, `SELECT count(*) FROM identities`)
	})

	// The person still books, and is still their account's verified self.
	h.mustBook(owner, 0, s, "")
	ps, err := h.svc.Patients(h.ctx, owner.actor)
	testenv.Must(t, err, "the owner's patients")
	if !ps[0].IsSelf || !ps[0].SelfVerified || !ps[0].Verified {
		t.Errorf("the owner's self = %+v, want their verified self", ps[0])
	}
	_, err = h.book(claimant, 0, s, "")
	testenv.Must(t, err, "the unverified claimant books under their claim")
	h.checkClean()
}

// TestDeskNeverSilentlyReplacesAVerifiedName: a walk-in or a verification
// under a name other than the one the desk verified is refused
// (verified_name_differs) and changes nothing; the person books on. A
// clerk's correction, with its reason, replaces the name and is audited.
func TestDeskNeverSilentlyReplacesAVerifiedName(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	db := h.sql()
	s := h.deskSession(deskOpts{online: 3, onsite: 3})
	clerk := h.staff(booking.RoleClerk)
	real := h.person("李梅")
	misheard := real
	misheard.Name = "李玫" // 李* as well
	owner := h.userOf(real)
	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: real, AccountPhone: owner.phone})
	testenv.Must(t, err, "the desk verifies the person")
	id := owner.patients[0].IdentityID
	verified := db.nameOf(id)

	t.Run("a walk-in under another name", func(t *testing.T) {
		before := h.remaining(s)[booking.ChannelOnsite]
		_, err := h.staffBook(clerk, misheard, s, booking.ChannelOnsite, "")
		wantErr(t, "walk-in", err, booking.ErrVerifiedNameDiffers)
		wantMessage(t, "walk-in", err, "李*")
		h.wantRemaining(s, booking.ChannelOnsite, before)
		if got := db.nameOf(id); !got.same(verified) {
			t.Errorf("name after the refused walk-in = %+v, want %+v", got, verified)
		}
	})
	t.Run("a verification under another name without a reason", func(t *testing.T) {
		audits := db.count(`SELECT count(*) FROM audit_log`)
		_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: misheard})
		wantErr(t, "VerifyIdentity", err, booking.ErrVerifiedNameDiffers)
		if got := db.nameOf(id); !got.same(verified) {
			t.Errorf("name after the refused verification = %+v, want %+v", got, verified)
		}
		db.wantCount("audit entries", audits, `SELECT count(*) FROM audit_log`)
	})
	// The person's own booking under the verified name goes on.
	h.mustBook(owner, 0, s, "")

	t.Run("a clerk's correction, with a reason", func(t *testing.T) {
		other := h.deskSession(deskOpts{online: 3, dept: "Neurology"})
		_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: misheard, CorrectionReason: "the card reads 玫"})
		testenv.Must(t, err, "the clerk corrects the verified name")
		if got := db.nameOf(id); bytes.Equal(got.hash, verified.hash) || got.by != "desk" {
			t.Errorf("name after the correction = %+v, want another, verified by the desk", got)
		}
		db.wantCount("identity_name_corrected audit entries", 1,
			`SELECT count(*) FROM audit_log WHERE action = 'identity_name_corrected' AND target = $1 AND actor_id = $2 AND reason LIKE '%the card reads 玫%'`,
			"identity:"+id, clerk.AccountID)
		_, err = h.book(owner, 0, other, "")
		wantErr(t, "the old name books after the correction", err, booking.ErrIdentityUnverified)
	})
	h.checkClean()
}

// TestCheckInGoesByTheCard: the card read at the desk is the truth. A
// booking made under a misheard name (李玫 for 李梅, both 李*) is checked in
// on the card once its name is the verified one, audited as a check-in
// override; while no name is verified, with the clerk's override reason.
// A card name other than the verified one is refused
// (verified_name_differs, recorded) and replaces nothing, so the person's
// own booking under their name goes on.
func TestCheckInGoesByTheCard(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	db := h.sql()
	s := h.deskSession(deskOpts{online: 3, phone: 3})
	later := h.deskSession(deskOpts{online: 3, dept: "Neurology", day: 1})
	clerk, op := h.staff(booking.RoleClerk), h.staff(booking.RoleOperator)
	visitDay := s.StartsAt.Add(-30 * time.Minute)
	misheardOf := func(who booking.IdentityRequest) booking.IdentityRequest { who.Name = "李玫"; return who }
	checkIn := func(b booking.Booking, card booking.IdentityRequest, reason string) (booking.Booking, error) {
		defer h.clock.at(visitDay)()
		return h.svc.CheckIn(h.ctx, clerk, booking.CheckInRequest{BookingID: b.ID, IdentityRequest: card, OverrideReason: reason})
	}
	overrides := func(b booking.Booking, reason string) int {
		return db.count(`SELECT count(*) FROM audit_log WHERE action = 'checkin_override' AND target = $1 AND actor_id = $2 AND reason LIKE $3`,
			"booking:"+b.ID, clerk.AccountID, "%"+reason+"%")
	}

	t.Run("verified after the booking", func(t *testing.T) {
		real := h.person("李梅")
		b, err := h.staffBook(op, misheardOf(real), s, booking.ChannelPhone, "13800001111")
		testenv.Must(t, err, "the operator books under the misheard name")
		owner := h.userOf(real)
		_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: real, AccountPhone: owner.phone})
		testenv.Must(t, err, "the desk verifies the card")
		verified := db.nameOf(b.IdentityID)

		_, err = checkIn(b, misheardOf(real), "")
		wantErr(t, "check-in under the booking's misheard name", err, booking.ErrVerifiedNameDiffers)
		db.wantCount("refusals recorded", 1, `SELECT count(*) FROM booking_events WHERE booking_id = $1 AND type = 'rejected' AND reason = 'verified_name_differs'`, b.ID)
		db.wantCount("checkin_refused audit entries", 1, `SELECT count(*) FROM audit_log WHERE action = 'checkin_refused' AND target = $1`, "booking:"+b.ID)
		if got := db.nameOf(b.IdentityID); !got.same(verified) {
			t.Errorf("name after the refused check-in = %+v, want %+v", got, verified)
		}
		_, err = h.book(owner, 0, later, "")
		testenv.Must(t, err, "the person's own booking under their name")

		in, err := checkIn(b, real, "")
		testenv.Must(t, err, "check-in with the card's verified name")
		if in.Status != booking.StatusCheckedIn {
			t.Errorf("status = %s, want checked_in", in.Status)
		}
		if n := overrides(b, "verified name"); n != 1 {
			t.Errorf("checkin_override audit entries = %d, want 1", n)
		}
	})
	t.Run("no name verified: the clerk overrides", func(t *testing.T) {
		real := h.person("李梅")
		b, err := h.staffBook(op, misheardOf(real), s, booking.ChannelPhone, "13800002222")
		testenv.Must(t, err, "the operator books under the misheard name")
		_, err = checkIn(b, real, "")
		wantErr(t, "check-in with the card, no override", err, booking.ErrIdentityMismatch)
		wantMessage(t, "check-in with the card, no override", err, "override reason")
		if got := h.stored(b.ID).Status; got != booking.StatusConfirmed {
			t.Errorf("status after the refusal = %s, want confirmed", got)
		}
		_, err = checkIn(b, real, "同音字：电话里听成了玫")
		testenv.Must(t, err, "check-in with the card and the clerk's override")
		if got := h.stored(b.ID).Status; got != booking.StatusCheckedIn {
			t.Errorf("status = %s, want checked_in", got)
		}
		if n := overrides(b, "同音字：电话里听成了玫"); n != 1 {
			t.Errorf("checkin_override audit entries with the reason = %d, want 1", n)
		}
		// The card's name is now the verified one: it books, the misheard
		// one no longer does.
		_, err = h.book(h.userOf(real), 0, later, "")
		testenv.Must(t, err, "the card's name books")
		_, err = h.addClaim(h.user(0), misheardOf(real), false)
		wantErr(t, "adding the misheard name after the check-in", err, booking.ErrIdentityUnverified)
	})
	h.checkClean()
}
