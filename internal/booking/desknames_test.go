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
// person and names another as its own, or one at its patient limit)
// changes nothing about the person — not their name, nor who
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
	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: real, AccountPhone: owner.phone, NumberRung: true})
	testenv.Must(t, err, "the desk verifies the person and binds their account")
	claimed := h.person("钱多")
	claimant := h.userOf(claimed) // a claim nobody verified

	// An account that names nobody as its own and is full: the desk would
	// add the person as its bound self, past the patient limit.
	full := h.user(0)
	for i := range 5 { // the default limit (Config.Limits)
		_, err := h.addClaim(full, h.person("家人"+string(rune('甲'+i))), false)
		testenv.Must(t, err, "fill the account")
	}
	as := func(who booking.IdentityRequest, name string) booking.IdentityRequest { who.Name = name; return who }
	tests := []struct {
		name string
		id   string // the person's identity
		req  booking.VerifyRequest
		want *booking.Error
	}{
		{name: "another name, an account that does not hold the person (the review's repro)", id: owner.patients[0].IdentityID,
			req: booking.VerifyRequest{IdentityRequest: as(real, "钱假"), AccountPhone: stranger.phone, NumberRung: true}, want: booking.ErrVerifiedNameDiffers},
		{name: "a correction naming an account that does not hold the person", id: owner.patients[0].IdentityID,
			req:  booking.VerifyRequest{IdentityRequest: as(real, "钱假"), AccountPhone: stranger.phone, CorrectionReason: "typed wrong", NumberRung: true},
			want: booking.ErrPatientNotFound},
		{name: "the verified name, an account that does not hold the person", id: owner.patients[0].IdentityID,
			req: booking.VerifyRequest{IdentityRequest: real, AccountPhone: stranger.phone, NumberRung: true}, want: booking.ErrPatientNotFound},
		{name: "an unverified claim, an account that does not hold the person", id: claimant.patients[0].IdentityID,
			req: booking.VerifyRequest{IdentityRequest: as(claimed, "钱假"), AccountPhone: stranger.phone, NumberRung: true}, want: booking.ErrPatientNotFound},
		{name: "an account with no self at its patient limit", id: claimant.patients[0].IdentityID,
			req: booking.VerifyRequest{IdentityRequest: claimed, AccountPhone: full.phone, NumberRung: true}, want: booking.ErrTooManyPatients},
		{name: "no patient account has the phone", id: claimant.patients[0].IdentityID,
			req: booking.VerifyRequest{IdentityRequest: claimed, AccountPhone: "13999999999", NumberRung: true}, want: booking.ErrPatientNotFound},
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
		_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: h.person("周新"), AccountPhone: stranger.phone, NumberRung: true})
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
	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: real, AccountPhone: owner.phone, NumberRung: true})
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
		// The person's own account keeps its binding (TestCorrectionKeepsTheBinding);
		// a claim of the old name no longer books.
		_, err = h.addClaim(h.user(0), real, false)
		wantErr(t, "a claim of the old name after the correction", err, booking.ErrIdentityUnverified)
		_, err = h.svc.Patients(h.ctx, owner.actor) // the person's app lists them again
		testenv.Must(t, err, "the owner's patients")
		h.mustBook(owner, 0, other, "")
	})
	h.checkClean()
}

// TestVerifierNeverReplacesTheCard: the name the desk read from the ID card
// outranks the real-name verifier. The verifier's confirmation of another
// name is a claim, refused like any claim of another name than the verified
// one, whether a patient adds the person (even as their own self) or an
// operator books them; its denial of the card's name refuses nothing. The
// desk-verified name, who verified it and the person's bound account stay.
func TestVerifierNeverReplacesTheCard(t *testing.T) {
	fv := fakeVerifier{}
	h := newHarness(t, harnessConfig{soldOutFor: -1, verifier: fv})
	db := h.sql()
	s := h.deskSession(deskOpts{online: 3, phone: 3})
	later := h.deskSession(deskOpts{online: 3, phone: 3, dept: "Neurology", day: 1})
	clerk, op := h.staff(booking.RoleClerk), h.staff(booking.RoleOperator)
	real := h.person("王芳")
	owner := h.userOf(real)
	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: real, AccountPhone: owner.phone, NumberRung: true})
	testenv.Must(t, err, "the desk verifies the card and binds the person's account")
	id := owner.patients[0].IdentityID
	card := db.nameOf(id)
	other := real
	other.Name = "王方"
	fv[real.IDNumber] = other.Name // the provider's record disagrees with the card

	for _, tt := range []struct {
		name string
		try  func() error
	}{
		{"a patient adds the person under the provider's name", func() error {
			_, err := h.addClaim(h.user(0), other, false)
			return err
		}},
		{"a patient adds the person as their own self under it", func() error {
			_, err := h.addClaim(h.user(0), other, true)
			return err
		}},
		{"an operator books a caller under it", func() error {
			_, err := h.staffBook(op, other, s, booking.ChannelPhone, "13800003333")
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, tt.name, tt.try(), booking.ErrIdentityUnverified)
			if got := db.nameOf(id); !got.same(card) {
				t.Errorf("name after %s = %+v, want the card's, %+v", tt.name, got, card)
			}
		})
	}
	t.Run("the card's name books though the provider denies it", func(t *testing.T) {
		_, err := h.staffBook(op, real, s, booking.ChannelPhone, "13800004444")
		testenv.Must(t, err, "an operator books the caller under the card's name")
		h.mustBook(owner, 0, later, "")
		if got := db.nameOf(id); !got.same(card) {
			t.Errorf("name = %+v, want the card's, %+v", got, card)
		}
	})
	ps, err := h.svc.Patients(h.ctx, owner.actor)
	testenv.Must(t, err, "the owner's patients")
	if !ps[0].IsSelf || !ps[0].SelfVerified {
		t.Errorf("the owner's self = %+v, want their verified self still", ps[0])
	}
	h.checkClean()
}

// TestCorrectionKeepsTheBinding: a clerk's correction of the verified name
// sent without an account phone keeps the account the desk bound as the
// person's own: its self takes the corrected name, stays their verified
// self, books, and the audit entry says the binding stayed.
func TestCorrectionKeepsTheBinding(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	db := h.sql()
	s := h.deskSession(deskOpts{online: 3})
	clerk := h.staff(booking.RoleClerk)
	typo := h.person("张伟")
	owner := h.userOf(typo)
	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: typo, AccountPhone: owner.phone, NumberRung: true})
	testenv.Must(t, err, "the desk verifies (with a typo) and binds the person's account")
	card := typo
	card.Name = "张玮"
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: card, CorrectionReason: "typed 伟 for 玮"})
	testenv.Must(t, err, "the clerk corrects the name, no account phone")

	ps, err := h.svc.Patients(h.ctx, owner.actor)
	testenv.Must(t, err, "the owner's patients")
	if !ps[0].IsSelf || !ps[0].SelfVerified || !ps[0].Verified {
		t.Errorf("the owner's self after the correction = %+v, want their verified self", ps[0])
	}
	h.mustBook(owner, 0, s, "")
	db.wantCount("identity_name_corrected audit entries naming the kept binding", 1,
		`SELECT count(*) FROM audit_log WHERE action = 'identity_name_corrected' AND reason LIKE $1`,
		"%account "+owner.actor.AccountID+" stays the person's bound self%")

	// Near miss: a correction that binds another account moves the
	// binding, and the audit says so — not that it stayed.
	other := h.userOf(h.person("赵强"), card) // a relative's account lists the person
	again := card
	again.Name = "张炜"
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: again, CorrectionReason: "炜, on the card",
		AccountPhone: other.phone, NumberRung: true})
	testenv.Must(t, err, "the clerk corrects the name again and binds another account")
	db.wantCount("audit entries saying the moved binding stayed", 1,
		`SELECT count(*) FROM audit_log WHERE action = 'identity_name_corrected' AND reason LIKE $1`,
		"%account "+owner.actor.AccountID+" stays the person's bound self%")
	db.wantCount("audit entries saying the binding moved", 1,
		`SELECT count(*) FROM audit_log WHERE action = 'identity_name_corrected' AND reason LIKE $1`,
		"%account "+owner.actor.AccountID+" is no longer the person's bound self%")
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
		// The card on the desk's reader: a read verifies the name (review25 L1).
		return h.svc.CheckIn(h.ctx, clerk, booking.CheckInRequest{BookingID: b.ID, IdentityRequest: h.readBy(clerk, card), OverrideReason: reason})
	}
	// carriesCard: a booking checked in by override carries the card's
	// verified name from then on, not the misheard one it was made under.
	carriesCard := func(t *testing.T, b booking.Booking) {
		t.Helper()
		got, card := h.stored(b.ID).NameHash, db.nameOf(b.IdentityID)
		if got != string(card.hash) || card.by != "desk" {
			t.Errorf("booking's name after the override = %x, want the card's verified name %x (by %q)", got, card.hash, card.by)
		}
		if got == b.NameHash {
			t.Errorf("booking keeps the name it was made under after the override")
		}
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
		_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: real, AccountPhone: owner.phone, NumberRung: true})
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
		carriesCard(t, b)
	})
	// The request that made a booking under a misheard name, replayed with
	// its Idempotency-Key after the check-in put the card's name on the
	// booking, is the same request: it gets its first answer, the booking.
	// The same key under a third name is still another request. The
	// phone's lookup goes by the card's name once it is on the booking: the
	// misheard name no longer finds it (docs/design.md).
	t.Run("the booking request replayed after the override", func(t *testing.T) {
		real := h.person("李梅")
		req := booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: misheardOf(real), SessionID: s.ID, Channel: booking.ChannelPhone,
			CallerPhone: "13800003333", IdempotencyKey: "call-0001"}
		b, err := h.svc.BookFor(h.ctx, op, req)
		testenv.Must(t, err, "the operator books under the misheard name")
		_, err = checkIn(b, real, "同音字：电话里听成了玫")
		testenv.Must(t, err, "check-in with the card and the clerk's override")
		carriesCard(t, b)

		again, err := h.svc.BookFor(h.ctx, op, req)
		if err != nil || again.ID != b.ID || !again.Replayed {
			t.Errorf("the first request replayed = %+v, %v; want its booking %s, replayed", again, err, b.ID)
		}
		other := req
		other.Name = "李美"
		_, err = h.svc.BookFor(h.ctx, op, other)
		wantErr(t, "the key under a third name", err, booking.ErrIdempotencyReuse)

		defer h.clock.at(visitDay)()
		for _, tt := range []struct {
			name   string
			who    booking.IdentityRequest
			listed bool
		}{{"the card's name", real, true}, {"the misheard name", misheardOf(real), false}} {
			l, err := h.svc.LookupCaller(h.ctx, op, tt.who, "13800003333", booking.CheckSpoken)
			testenv.Must(t, err, "lookup under %s", tt.name)
			listed := false
			for _, got := range l.Bookings {
				listed = listed || got.ID == b.ID
			}
			if listed != tt.listed {
				t.Errorf("the lookup under %s lists the checked-in booking: %v, want %v", tt.name, listed, tt.listed)
			}
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
		carriesCard(t, b)
		// The card's name is now the verified one: it books, the misheard
		// one no longer does.
		_, err = h.book(h.userOf(real), 0, later, "")
		testenv.Must(t, err, "the card's name books")
		_, err = h.addClaim(h.user(0), misheardOf(real), false)
		wantErr(t, "adding the misheard name after the check-in", err, booking.ErrIdentityUnverified)
	})
	h.checkClean()
}
