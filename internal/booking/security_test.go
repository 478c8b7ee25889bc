package booking_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"
	limredis "github.com/ulule/limiter/v3/drivers/store/redis"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
	"fairslot/internal/lockout"
	"fairslot/internal/testenv"
)

// The findings of the security audit (issue 11, docs/security.md), each
// against the real Redis and PostgreSQL.

// count runs a counting query on the harness's database.
func (h *harness) count(query string, args ...any) int {
	h.t.Helper()
	var n int
	testenv.Must(h.t, h.stack.DB.Pool().QueryRow(h.ctx, query, args...).Scan(&n), "count: %s", query)
	return n
}

// idHash is the keyed hash the store keeps of a person's ID number.
func (h *harness) idHash(who booking.IdentityRequest) []byte {
	h.t.Helper()
	id, err := identity.Parse(who.IDType, who.IDNumber)
	testenv.Must(h.t, err, "parse %s", who.IDNumber)
	return h.stack.Keys.IDHash(id)
}

func (h *harness) addClaim(u user, who booking.IdentityRequest, self bool) (booking.Patient, error) {
	return h.svc.AddPatient(h.ctx, u.actor, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: who.IDType, IDNumber: who.IDNumber,
		Name: who.Name, IsSelf: self}, booking.Origin{})
}

func ids(bs []booking.Booking) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.ID
	}
	return out
}

// TestAnotherAccountHoldingThePersonActsOnNothing (H1): account B that knows
// A's ID number and name adds A as a family member. B neither lists nor
// reads nor cancels A's bookings (it could cancel them late, until A was
// barred); A does not see B's. Quotas still follow the person.
func TestAnotherAccountHoldingThePersonActsOnNothing(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	s1 := h.session(sessionOpts{online: 3})
	s2 := h.session(sessionOpts{online: 3, dept: "Dermatology"})
	alice := h.person("张伟")
	a := h.userOf(alice)
	b := h.userOf(h.person("李娜"), alice) // alice is b's patient 1
	if a.patients[0].IdentityID != b.patients[1].IdentityID {
		t.Fatalf("alice on both lists should be one person")
	}
	ab := h.mustBook(a, 0, s1, "")

	list, err := h.svc.Bookings(h.ctx, b.actor)
	testenv.Must(t, err, "bookings of b")
	if slices.Contains(ids(list), ab.ID) {
		t.Errorf("B lists A's booking %s", ab.ID)
	}
	if _, err := h.svc.Booking(h.ctx, b.actor, ab.ID); !errors.Is(err, booking.ErrBookingNotFound) {
		t.Errorf("B reads A's booking: %v, want booking_not_found", err)
	}
	if _, err := h.svc.Cancel(h.ctx, b.actor, ab.ID, booking.Origin{}); !errors.Is(err, booking.ErrBookingNotFound) {
		t.Errorf("B cancels A's booking: %v, want booking_not_found", err)
	}
	if got := h.stored(ab.ID).Status; got != booking.StatusConfirmed {
		t.Errorf("A's booking after B's attempt = %s, want confirmed", got)
	}

	// Quotas and bars follow the person, whoever books.
	_, err = h.book(b, 1, s1, "")
	// To B, not alice's verified self, the uniform refusal (byothers.go).
	wantUniform(t, "B booking alice in the session A booked her into", err)
	bb := h.mustBook(b, 1, s2, "")
	mine, err := h.svc.Bookings(h.ctx, a.actor)
	testenv.Must(t, err, "bookings of a")
	if got := ids(mine); !slices.Equal(got, []string{ab.ID}) {
		t.Errorf("A lists %v, want only its own booking %s (not B's %s)", got, ab.ID, bb.ID)
	}
	if _, err := h.svc.Cancel(h.ctx, a.actor, bb.ID, booking.Origin{}); !errors.Is(err, booking.ErrBookingNotFound) {
		t.Errorf("A cancels B's booking: %v, want booking_not_found", err)
	}
	h.mustCancel(b.actor, bb.ID) // its own: fine
	h.checkClean()
}

// TestSquatterLocksNobodyOut (H2): B registers a real person's ID number
// with a false name first. The real owner still adds and books themselves
// online and by phone (both answered identity_mismatch before); at the
// desk, the card makes the real name the verified one and the owner's
// account the person's own; from then on the false name books nothing.
func TestSquatterLocksNobodyOut(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	s := h.session(sessionOpts{online: 3})
	byPhone := h.session(sessionOpts{online: 3, phone: 2, dept: "Dermatology"})
	later := h.deskSession(deskOpts{online: 3, dept: "Neurology", day: 1}) // the day after: the person has 2 bookings tomorrow
	real := h.person("王芳")
	fake := booking.IdentityRequest{IDType: real.IDType, IDNumber: real.IDNumber, Name: "王方"}
	squatter := h.userOf(fake)
	owner := h.user(0)

	p, err := h.addClaim(owner, real, false)
	testenv.Must(t, err, "the real owner adds themselves after the squatter")
	if p.IdentityID != squatter.patients[0].IdentityID || p.MaskedName != "王*" {
		t.Errorf("owner's patient = %+v, want the same person under the owner's own name", p)
	}
	owner.patients = append(owner.patients, p)
	h.mustBook(owner, 0, s, "")
	op, clerk := h.staff(booking.RoleOperator), h.staff(booking.RoleClerk)
	pb, err := h.staffBook(op, real, byPhone, booking.ChannelPhone, "13800001111")
	testenv.Must(t, err, "the real owner books by phone")

	// The desk reads the card and binds the owner's account as theirs.
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: real, AccountPhone: owner.phone, NumberRung: true})
	testenv.Must(t, err, "verify at the desk")
	before := h.remaining(later)
	_, err = h.book(squatter, 0, later, "")
	wantErr(t, "the false name booking after verification", err, booking.ErrIdentityUnverified)
	if after := h.remaining(later); after[booking.ChannelOnline] != before[booking.ChannelOnline] {
		t.Errorf("the refused booking kept a slot: remaining %v, want %v", after, before)
	}
	h.mustBook(owner, 0, later, "")
	ps, err := h.svc.Patients(h.ctx, squatter.actor)
	testenv.Must(t, err, "squatter's patients")
	if ps[0].IsSelf || ps[0].Verified {
		t.Errorf("the squatter's claim = %+v, want no longer the self, unverified", ps[0])
	}
	mine, err := h.svc.Bookings(h.ctx, owner.actor)
	testenv.Must(t, err, "owner's bookings")
	if !slices.Contains(ids(mine), pb.ID) {
		t.Errorf("the verified owner's bookings %v lack the phone booking %s", ids(mine), pb.ID)
	}
	_, err = h.addClaim(h.user(0), fake, false)
	wantErr(t, "adding the false name again", err, booking.ErrIdentityUnverified)
	h.checkClean()
}

// fakeVerifier is the identity verifier's test double: a real-name
// provider that knows some people's names.
type fakeVerifier map[string]string // ID number → name

func (f fakeVerifier) Verify(_ context.Context, id identity.ID, name string) (booking.Verdict, error) {
	want, ok := f[id.Number]
	switch {
	case !ok:
		return booking.Unverifiable, nil
	case want == name:
		return booking.NameMatches, nil
	}
	return booking.NameDiffers, nil
}

// TestAnswersDoNotRevealKnownIDs: whether fairslot has seen an ID number
// changes no answer about it. With the local default, any name is a claim
// (201) for a known number as for an unknown one; with a provider, a wrong
// name gets one answer for both; and a name the desk verified answers as a
// provider would.
func TestAnswersDoNotRevealKnownIDs(t *testing.T) {
	t.Run("local default", func(t *testing.T) {
		h := newHarness(t, harnessConfig{})
		known, unknown := h.person("刘洋"), h.person("刘阳")
		h.userOf(known)
		u := h.user(0)
		for _, who := range []booking.IdentityRequest{known, unknown} {
			if _, err := h.addClaim(u, booking.IdentityRequest{IDType: who.IDType, IDNumber: who.IDNumber, Name: "陈静"}, false); err != nil {
				t.Errorf("adding %s under another name = %v, want a claim accepted", who.IDNumber, err)
			}
		}
	})
	t.Run("provider", func(t *testing.T) {
		fv := fakeVerifier{}
		h := newHarness(t, harnessConfig{verifier: fv})
		known, unknown := h.person("刘洋"), h.person("刘阳")
		fv[known.IDNumber], fv[unknown.IDNumber] = known.Name, unknown.Name
		h.userOf(known)
		u := h.user(0)
		var answers []string
		for _, who := range []booking.IdentityRequest{known, unknown} {
			_, err := h.addClaim(u, booking.IdentityRequest{IDType: who.IDType, IDNumber: who.IDNumber, Name: "陈静"}, false)
			wantErr(t, "a wrong name", err, booking.ErrIdentityUnverified)
			answers = append(answers, err.Error())
		}
		if answers[0] != answers[1] {
			t.Errorf("a wrong name for a known and an unknown ID number: %q and %q, want one answer", answers[0], answers[1])
		}
		// A confirmed name is the identity's verified name at once.
		p, err := h.addClaim(u, unknown, true)
		testenv.Must(t, err, "a right name")
		if !p.Verified {
			t.Errorf("a provider-confirmed claim = %+v, want verified", p)
		}
	})
	t.Run("desk-verified like a provider", func(t *testing.T) {
		h := newHarness(t, harnessConfig{verifier: fakeVerifier{}})
		clerk := h.staff(booking.RoleClerk)
		who := h.person("刘洋")
		_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: who})
		testenv.Must(t, err, "verify at the desk")
		_, err = h.addClaim(h.user(0), booking.IdentityRequest{IDType: who.IDType, IDNumber: who.IDNumber, Name: "陈静"}, false)
		wantErr(t, "another name for a desk-verified ID", err, booking.ErrIdentityUnverified)
		if err.Error() != booking.ErrIdentityUnverified.Error() {
			t.Errorf("answer %q, want the provider's own %q", err, booking.ErrIdentityUnverified)
		}
	})
}

// TestRefusedStaffBookingWritesNoIdentity (H2): a phone booking refused by
// admission (sold out) leaves no identity row behind; it did before, as the
// identity was written first.
func TestRefusedStaffBookingWritesNoIdentity(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	s := h.session(sessionOpts{online: 1, phone: 1})
	op := h.staff(booking.RoleOperator)
	_, err := h.staffBook(op, h.person("甲一"), s, booking.ChannelPhone, "13800000001")
	testenv.Must(t, err, "take the only phone slot")
	newcomer := h.person("乙二")
	_, err = h.staffBook(op, newcomer, s, booking.ChannelPhone, "13800000002")
	wantErr(t, "the second caller", err, booking.ErrSoldOut)
	if n := h.count(`SELECT count(*) FROM identities WHERE id_hash = $1`, h.idHash(newcomer)); n != 0 {
		t.Errorf("identities of the refused caller = %d, want 0", n)
	}
	h.checkClean()
}

// TestLogoutAndPasswordChangeRevokeTokens (M6): a logged-out token stops at
// once on its instance and within the poll on another; a password change
// ends every older token and the old password; a new instance knows the
// revocations from its start.
func TestLogoutAndPasswordChangeRevokeTokens(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	second := h.stack.Instance(t, booking.Config{})
	ctx, stop := context.WithCancel(h.ctx)
	done := make(chan struct{})
	go func() { defer close(done); second.WatchRevocations(ctx, 20*time.Millisecond) }()
	t.Cleanup(func() { stop(); <-done })

	u := h.user(0)
	login := func(pw string) (string, error) {
		tok, err := h.svc.Login(h.ctx, u.phone, pw, booking.Origin{})
		return tok.Token, err
	}
	tok, err := login(password)
	testenv.Must(t, err, "login")
	if _, err := second.Authenticate([]byte(tok)); err != nil {
		t.Fatalf("the second instance refuses a fresh token: %v", err)
	}
	testenv.Must(t, h.svc.Logout(h.ctx, u.actor), "logout")
	if _, err := h.svc.Authenticate([]byte(tok)); !errors.Is(err, booking.ErrTokenRevoked) {
		t.Errorf("the logged-out token on its instance: %v, want token_revoked", err)
	}
	eventually(t, 5*time.Second, "the second instance refuses the logged-out token", func() bool {
		_, err := second.Authenticate([]byte(tok))
		return errors.Is(err, booking.ErrTokenRevoked)
	})
	if _, err := h.stack.Instance(t, booking.Config{}).Authenticate([]byte(tok)); !errors.Is(err, booking.ErrTokenRevoked) {
		t.Errorf("a new instance accepts the logged-out token: %v", err)
	}

	tok2, err := login(password)
	testenv.Must(t, err, "log in again")
	actor, err := second.Authenticate([]byte(tok2))
	testenv.Must(t, err, "the new login on the second instance")
	_, err = h.svc.ChangePassword(h.ctx, actor, booking.ChangePasswordRequest{Current: "not my password", New: "a new password"}, booking.Origin{})
	wantErr(t, "a wrong current password", err, booking.ErrBadCredentials)
	_, err = h.svc.ChangePassword(h.ctx, actor, booking.ChangePasswordRequest{Current: password, New: "short"}, booking.Origin{})
	wantErr(t, "a weak new password", err, booking.ErrWeakPassword)
	fresh, err := h.svc.ChangePassword(h.ctx, actor, booking.ChangePasswordRequest{Current: password, New: "a new password"}, booking.Origin{})
	testenv.Must(t, err, "change the password")
	if _, err := h.svc.Authenticate([]byte(tok2)); !errors.Is(err, booking.ErrTokenRevoked) {
		t.Errorf("a token from before the password change: %v, want token_revoked", err)
	}
	if _, err := h.svc.Authenticate([]byte(fresh.Token)); err != nil {
		t.Errorf("the token the change returned: %v, want it valid", err)
	}
	_, err = login(password)
	wantErr(t, "the old password", err, booking.ErrBadCredentials)
	if _, err := login("a new password"); err != nil {
		t.Errorf("the new password: %v", err)
	}
}

// TestLoginFailuresAreLimitedPerPhone (M3): failed logins count per phone in
// Redis, across instances; past the limit even the right password waits
// (the audit made 40 guesses, then logged in); an unknown phone is treated
// alike, so the answers tell no registered phone apart.
func TestLoginFailuresAreLimitedPerPhone(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	st, err := limredis.NewStoreWithOptions(rdb, limiter.StoreOptions{Prefix: prefix + ":login"})
	testenv.Must(t, err, "limiter store")
	tiers := []lockout.Tier{{Failures: 3, Window: time.Hour}}
	h := newHarness(t, harnessConfig{loginGuard: lockout.New(st, tiers)})
	second := h.stack.Instance(t, booking.Config{LoginGuard: lockout.New(st, tiers)})
	instances := []*booking.Service{h.svc, second}
	u := h.user(0)
	for _, phone := range []string{u.phone, "13999999999"} {
		for i := range 3 {
			_, err := instances[i%2].Login(h.ctx, phone, "wrong password", booking.Origin{})
			wantErr(t, "a wrong password", err, booking.ErrBadCredentials)
		}
		for _, svc := range instances {
			_, err := svc.Login(h.ctx, phone, password, booking.Origin{})
			wantErr(t, "any password past the limit", err, booking.ErrRateLimited)
			var le *booking.LimitError
			if !errors.As(err, &le) || le.Wait <= 0 || le.Wait > time.Hour+time.Second {
				t.Errorf("past the limit: %v, want a wait of up to the hour", err)
			}
		}
	}
	other := h.user(0)
	if _, err := second.Login(h.ctx, other.phone, password, booking.Origin{}); err != nil {
		t.Errorf("another phone: %v, want it unaffected", err)
	}
}

// otherHospital stores a second hospital with a session tomorrow (online,
// phone and on-site pools), and returns both.
func (h *harness) otherHospital() (booking.Hospital, *booking.Session) {
	h.t.Helper()
	o := booking.Hospital{ID: booking.NewID(), Name: "Other Hospital " + testenv.Token(), TimeZone: "Asia/Shanghai", Policy: booking.DefaultPolicy}
	dept := booking.Department{ID: booking.NewID(), HospitalID: o.ID, Name: "Cardiology"}
	doc := booking.Doctor{ID: booking.NewID(), HospitalID: o.ID, DepartmentID: dept.ID, Name: "Dr Other"}
	release := time.Now().Add(-time.Hour)
	s, err := booking.BuildSession(booking.SessionSpec{HospitalID: o.ID, DepartmentID: dept.ID, DoctorID: doc.ID,
		VisitDate: h.date, Period: "morning", StartsAt: h.day.Add(8 * time.Hour), EndsAt: h.day.Add(12 * time.Hour),
		Quotas: []booking.ChannelQuota{{Channel: booking.ChannelOnline, Quota: 2, ReleaseAt: release},
			{Channel: booking.ChannelPhone, Quota: 2, ReleaseAt: release}, {Channel: booking.ChannelOnsite, Quota: 2, ReleaseAt: release}}})
	testenv.Must(h.t, err, "build session")
	testenv.Must(h.t, h.svc.SaveSchedule(h.ctx, booking.Schedule{Hospitals: []booking.Hospital{o}, Departments: []booking.Department{dept},
		Doctors: []booking.Doctor{doc}, Sessions: []booking.Session{s}}), "save the other hospital")
	got, _ := h.svc.Catalog().Session(s.ID)
	return o, got
}

// staffOf creates a staff account of a hospital ("" for none) and logs in.
func (h *harness) staffOf(role booking.Role, hospitalID string) booking.Actor {
	h.t.Helper()
	phone := h.phone()
	_, err := h.svc.CreateStaff(h.ctx, booking.StaffRequest{Phone: phone, Password: password, Role: role, HospitalID: hospitalID})
	testenv.Must(h.t, err, "create staff")
	return h.login(phone)
}

// TestStaffActOnlyInTheirHospital (L): a clerk or an operator acts only in
// their hospital, and sees no booking of another; a hospital's
// administrator manages only their hospital and reads only its audit
// entries; flag review is for platform-wide administrators.
func TestStaffActOnlyInTheirHospital(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	mine := h.deskSession(deskOpts{online: 2, phone: 2, onsite: 2})
	other, theirs := h.otherHospital()
	clerk, op := h.staff(booking.RoleClerk), h.staff(booking.RoleOperator)
	theirClerk, theirOp := h.staffOf(booking.RoleClerk, other.ID), h.staffOf(booking.RoleOperator, other.ID)
	theirAdmin, platform := h.staffOf(booking.RoleAdmin, other.ID), h.staff(booking.RoleAdmin)
	if clerk.HospitalID != h.hosp.ID || theirAdmin.HospitalID != other.ID || platform.HospitalID != "" {
		t.Fatalf("staff actors = %+v, %+v, %+v; want their hospitals in their tokens", clerk, theirAdmin, platform)
	}
	if _, err := h.svc.CreateStaff(h.ctx, booking.StaffRequest{Phone: h.phone(), Password: password, Role: booking.RoleClerk, HospitalID: ""}); !errors.Is(err, booking.ErrInvalidField) {
		t.Errorf("a clerk of no hospital: %v, want invalid_field", err)
	}

	u := h.userOf(h.person("赵敏"))
	b := h.mustBook(u, 0, mine, "")
	walk := h.person("钱六")
	for name, err := range map[string]error{
		"a clerk of another hospital books a walk-in here": func() error {
			_, err := h.staffBook(theirClerk, walk, mine, booking.ChannelOnsite, "")
			return err
		}(),
		"an operator of another hospital books by phone here": func() error {
			_, err := h.staffBook(theirOp, walk, mine, booking.ChannelPhone, "13800000003")
			return err
		}(),
		"a clerk of another hospital adds extra slots here": func() error {
			_, err := h.svc.AddExtraSlots(h.ctx, theirClerk, booking.ExtraSlotsRequest{SessionID: mine.ID, Count: 1, Reason: "加号", AuthorisedBy: "张医生"})
			return err
		}(),
		"an administrator of another hospital moves pools here": func() error {
			_, err := h.svc.MovePool(h.ctx, theirAdmin, booking.MovePoolRequest{SessionID: mine.ID, From: booking.ChannelPhone, To: booking.ChannelOnsite, Count: 1, Reason: "few calls"})
			return err
		}(),
		"a hospital's administrator reviews flags": func() error {
			_, err := h.svc.Flags(h.ctx, theirAdmin, "")
			return err
		}(),
	} {
		if !errors.Is(err, booking.ErrForbidden) {
			t.Errorf("%s: %v, want forbidden", name, err)
		}
	}
	for name, err := range map[string]error{
		"reads": func() error { _, err := h.svc.Booking(h.ctx, theirClerk, b.ID); return err }(),
		"cancels": func() error {
			_, err := h.svc.Cancel(h.ctx, theirAdmin, b.ID, booking.Origin{})
			return err
		}(),
		"checks in": func() error {
			defer h.clock.at(mine.StartsAt.Add(-time.Minute))()
			_, err := h.svc.CheckIn(h.ctx, theirClerk, booking.CheckInRequest{BookingID: b.ID, IdentityRequest: h.person("赵敏")})
			return err
		}(),
		"reissues": func() error {
			_, err := h.svc.Reissue(h.ctx, theirClerk, booking.ReissueRequest{BookingID: b.ID, Reason: "did not come"})
			return err
		}(),
	} {
		if !errors.Is(err, booking.ErrBookingNotFound) {
			t.Errorf("staff of another hospital %s this hospital's booking: %v, want booking_not_found", name, err)
		}
	}
	if got := h.stored(b.ID).Status; got != booking.StatusConfirmed {
		t.Errorf("the booking after other staff's attempts = %s, want confirmed", got)
	}
	// Their own hospital works; the lookup shows only their hospital's.
	theirs1, err := h.staffBook(theirOp, walk, theirs, booking.ChannelPhone, "13800000004")
	testenv.Must(t, err, "their operator in their hospital")
	_, err = h.staffBook(op, walk, mine, booking.ChannelPhone, "13800000005")
	testenv.Must(t, err, "our operator here")
	l, err := h.svc.LookupIdentity(h.ctx, theirClerk, booking.DeskLookupRequest{IDType: walk.IDType, IDNumber: walk.IDNumber, Check: booking.CheckCardShown})
	testenv.Must(t, err, "lookup")
	if got := ids(l.Bookings); !slices.Equal(got, []string{theirs1.ID}) {
		t.Errorf("their clerk's lookup lists %v, want only their hospital's %s", got, theirs1.ID)
	}
	// Audit: a hospital's administrator reads their hospital's entries only.
	entries, err := h.svc.Audit(h.ctx, theirAdmin, time.Now().Add(-time.Hour))
	testenv.Must(t, err, "audit of their hospital")
	for _, e := range entries {
		if e.HospitalID != other.ID {
			t.Errorf("their administrator reads entry %+v of another hospital", e)
		}
	}
	all, err := h.svc.Audit(h.ctx, platform, time.Now().Add(-time.Hour))
	testenv.Must(t, err, "audit of all")
	if len(all) <= len(entries) {
		t.Errorf("the platform administrator reads %d entries, their administrator %d: want more", len(all), len(entries))
	}
	_ = clerk
}

// TestEveryStaffActionIsAudited (M5): each staff action leaves an audit
// entry naming who, what, the target and the hospital; it used to be only
// reissues, extra slots, pool moves and flag decisions.
func TestEveryStaffActionIsAudited(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1, detector: func([]booking.Event, []booking.Report) []booking.Flag { return nil }})
	s := h.deskSession(deskOpts{online: 2, phone: 2, onsite: 3})
	clerk, op, admin := h.staff(booking.RoleClerk), h.staff(booking.RoleOperator), h.staff(booking.RoleAdmin)
	caller, walk, online := h.person("孙一"), h.person("孙二"), h.person("孙三")
	pb, err := h.staffBook(op, caller, s, booking.ChannelPhone, "13800000006")
	testenv.Must(t, err, "phone booking")
	wb, err := h.staffBook(clerk, walk, s, booking.ChannelOnsite, "")
	testenv.Must(t, err, "walk-in")
	u := h.userOf(online)
	ob := h.mustBook(u, 0, s, "")
	_, err = h.svc.LookupIdentity(h.ctx, clerk, booking.DeskLookupRequest{IDType: caller.IDType, IDNumber: caller.IDNumber, Check: booking.CheckCardShown})
	testenv.Must(t, err, "lookup")
	// An operator looks up a caller (the number alone is the desk's).
	_, err = h.svc.LookupIdentity(h.ctx, op, booking.DeskLookupRequest{IDType: caller.IDType, IDNumber: caller.IDNumber, Check: booking.CheckCardShown})
	wantErr(t, "an operator's lookup by the number alone", err, booking.ErrForbidden)
	_, err = h.svc.LookupCaller(h.ctx, op, booking.IdentityRequest{IDType: "resident_id", IDNumber: residentID(999_999), Name: "孙五"}, "13800000007", booking.CheckSpoken)
	wantErr(t, "lookup of an unknown ID", err, booking.ErrPatientNotFound)
	wantMessage(t, "lookup of an unknown ID", err, booking.ErrNothingHere.Message)
	h.callerCancel(op, caller, "13800000006", pb.ID)
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: online})
	testenv.Must(t, err, "verify")
	restoreDay := h.onVisitDay(s)
	_, err = h.svc.AddExtraSlots(h.ctx, clerk, booking.ExtraSlotsRequest{SessionID: s.ID, Count: 1, Reason: "加号", AuthorisedBy: "张医生"})
	restoreDay()
	testenv.Must(t, err, "extra slots")
	_, err = h.svc.MovePool(h.ctx, admin, booking.MovePoolRequest{SessionID: s.ID, From: booking.ChannelPhone, To: booking.ChannelOnsite, Count: 1, Reason: "few calls"})
	testenv.Must(t, err, "move pool")
	_, err = h.svc.RunDetection(h.ctx, admin)
	testenv.Must(t, err, "detection run")
	func() {
		defer h.clock.at(s.StartsAt.Add(-time.Minute))()
		_, err := h.svc.CheckIn(h.ctx, clerk, booking.CheckInRequest{BookingID: ob.ID, IdentityRequest: online})
		testenv.Must(t, err, "check in")
		_, err = h.svc.CheckIn(h.ctx, clerk, booking.CheckInRequest{BookingID: wb.ID, IdentityRequest: h.person("孙四")})
		wantErr(t, "a wrong card", err, booking.ErrIdentityMismatch)
	}()

	want := map[string]booking.Role{"phone_booking": booking.RoleOperator, "desk_booking": booking.RoleClerk,
		"identity_lookup": booking.RoleClerk, "booking_cancelled": booking.RoleOperator, "identity_verified": booking.RoleClerk,
		"extra_slots": booking.RoleClerk, "move_pool": booking.RoleAdmin, "detection_run": booking.RoleAdmin,
		"checkin": booking.RoleClerk, "checkin_refused": booking.RoleClerk}
	entries, err := h.svc.Audit(h.ctx, admin, time.Now().Add(-time.Hour))
	testenv.Must(t, err, "audit")
	got := map[string]bool{}
	for _, e := range entries {
		if role, ok := want[e.Action]; ok && e.ActorRole == role && e.ActorID != "" && e.Target != "" {
			got[e.Action] = true
			if e.Action != "detection_run" && e.HospitalID != h.hosp.ID {
				t.Errorf("entry %+v names no hospital, want %s", e, h.hosp.ID)
			}
		}
	}
	for action := range want {
		if !got[action] {
			t.Errorf("no %s entry by a %s in the audit log", action, want[action])
		}
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_lookup' AND reason LIKE 'not found%' AND actor_role = 'operator'`); n != 1 {
		t.Errorf("audited lookups of unknown IDs = %d, want 1", n)
	}
}

// TestControlCharactersRefusedBeforeAnythingChanges (M5, L): free text with
// a control character or bad UTF-8 is refused with 400 invalid_text before
// anything changes; a NUL in a reissue reason used to move the slot and
// lose the audit entry (500).
func TestControlCharactersRefusedBeforeAnythingChanges(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1, detector: func([]booking.Event, []booking.Report) []booking.Flag { return nil }})
	s := h.deskSession(deskOpts{online: 2, phone: 2, onsite: 2})
	clerk, admin := h.staff(booking.RoleClerk), h.staff(booking.RoleAdmin)
	u := h.userOf(h.person("周一"))
	b := h.mustBook(u, 0, s, "")
	audits := h.count(`SELECT count(*) FROM audit_log`)
	before := h.remaining(s)
	for _, bad := range []string{"no-show\x00", "did not\ncome", "late \x1b[31m", "bad \xff bytes", "\u0085next line"} {
		func() {
			defer h.clock.at(b.SlotEnd.Add(time.Minute))()
			_, err := h.svc.Reissue(h.ctx, clerk, booking.ReissueRequest{BookingID: b.ID, Reason: bad})
			wantErr(t, "reissue reason "+strings.ToValidUTF8(bad, "?"), err, booking.ErrInvalidText)
		}()
		_, err := h.svc.AddExtraSlots(h.ctx, clerk, booking.ExtraSlotsRequest{SessionID: s.ID, Count: 1, Reason: "加号", AuthorisedBy: bad})
		wantErr(t, "extra slots authorised_by", err, booking.ErrInvalidText)
		_, err = h.svc.MovePool(h.ctx, admin, booking.MovePoolRequest{SessionID: s.ID, From: booking.ChannelPhone, To: booking.ChannelOnsite, Count: 1, Reason: bad})
		wantErr(t, "move pool reason", err, booking.ErrInvalidText)
		_, err = h.svc.DecideFlag(h.ctx, admin, "flg_x", booking.Decision{Action: "dismiss", Note: bad, ReasonCode: "family"})
		wantErr(t, "flag note", err, booking.ErrInvalidText)
	}
	if got := h.stored(b.ID).Status; got != booking.StatusConfirmed {
		t.Errorf("the booking after refused reissues = %s, want confirmed", got)
	}
	if after := h.remaining(s); !mapsEqual(after, before) {
		t.Errorf("pools after refused changes = %v, want %v", after, before)
	}
	if n := h.count(`SELECT count(*) FROM audit_log`); n != audits {
		t.Errorf("audit entries = %d after refused changes, want %d", n, audits)
	}
	h.checkClean()
}

func mapsEqual(a, b map[booking.Channel]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestPoolMoveCountBounded (L): a pool move asks for at most the session's
// slots; a huge count is refused before Redis is touched.
func TestPoolMoveCountBounded(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.session(sessionOpts{online: 2, phone: 2})
	admin := h.staff(booking.RoleAdmin)
	before := h.remaining(s)
	for _, n := range []int{5, 1 << 30} {
		_, err := h.svc.MovePool(h.ctx, admin, booking.MovePoolRequest{SessionID: s.ID, From: booking.ChannelPhone, To: booking.ChannelOnline, Count: n, Reason: "more online"})
		wantErr(t, "a move of more than the session's slots", err, booking.ErrInvalidField)
	}
	if after := h.remaining(s); !mapsEqual(after, before) {
		t.Errorf("pools after refused moves = %v, want %v", after, before)
	}
}

// TestAuditNamesStaff: the audit log names the staff member who acted by
// the work name their account was made with (issue 13: the audit log
// showed account ids); a name too long or with control characters is
// refused.
func TestAuditNamesStaff(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	phone := h.phone()
	_, err := h.svc.CreateStaff(h.ctx, booking.StaffRequest{Phone: phone, Password: password, Role: booking.RoleClerk,
		HospitalID: h.hosp.ID, Name: "挂号员 李清"})
	testenv.Must(t, err, "create a named clerk")
	clerk := h.login(phone)
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: h.person("王芳")})
	testenv.Must(t, err, "the clerk verifies a card")
	entries, err := h.svc.Audit(h.ctx, h.staff(booking.RoleAdmin), time.Now().Add(-time.Hour))
	testenv.Must(t, err, "read the audit log")
	named := 0
	for _, a := range entries {
		if a.ActorID == clerk.AccountID {
			if a.ActorName != "挂号员 李清" {
				t.Errorf("audit entry %s by the clerk names %q, want 挂号员 李清", a.Action, a.ActorName)
			}
			named++
		}
	}
	if named == 0 {
		t.Errorf("no audit entry by the clerk in %d entries", len(entries))
	}
	for _, bad := range []string{strings.Repeat("名", 41), "李\n清"} {
		_, err := h.svc.CreateStaff(h.ctx, booking.StaffRequest{Phone: h.phone(), Password: password, Role: booking.RoleClerk,
			HospitalID: h.hosp.ID, Name: bad})
		wantErr(t, "staff name "+strconv.Quote(bad), err, booking.ErrInvalidField)
	}
}

// TestAnotherHospitalsClerkActsInTheOpen: identities are platform-wide, so a
// clerk of another hospital may verify a person and bind an account as
// their self, or correct their name — but the hospitals where the person
// has a booking, an entry or a waitlist place read it in their audit log
// (it showed only in the clerk's), and a staff-made booking the bound
// account then cancels names that account in its event (by_account_id) and
// in this hospital's audit (the event named nobody). A person with nothing
// here is not this hospital's to read.
func TestAnotherHospitalsClerkActsInTheOpen(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	mine := h.deskSession(deskOpts{online: 2, phone: 2, onsite: 2})
	other, _ := h.otherHospital()
	theirClerk, op := h.staffOf(booking.RoleClerk, other.ID), h.staff(booking.RoleOperator)
	ourAdmin, theirAdmin := h.staffOf(booking.RoleAdmin, h.hosp.ID), h.staffOf(booking.RoleAdmin, other.ID)
	since := time.Now().Add(-time.Hour)
	audited := func(admin booking.Actor, action, target string) int {
		t.Helper()
		as, err := h.svc.Audit(h.ctx, admin, since)
		testenv.Must(t, err, "read the audit log")
		n := 0
		for _, a := range as {
			if a.Action == action && a.Target == target {
				n++
			}
		}
		return n
	}

	// 李九 is booked here by phone; an attacker's account added him, and
	// the other hospital's clerk binds it as his verified self.
	li := h.person("李九")
	pb, err := h.staffBook(op, li, mine, booking.ChannelPhone, "13800000009")
	testenv.Must(t, err, "book 李九 by phone")
	attacker := h.userOf(li)
	who, err := h.svc.VerifyIdentity(h.ctx, theirClerk, booking.VerifyRequest{IdentityRequest: li, AccountPhone: attacker.phone, NumberRung: true})
	testenv.Must(t, err, "the other hospital's clerk verifies 李九 with the attacker's phone")
	for _, admin := range []booking.Actor{ourAdmin, theirAdmin} {
		if n := audited(admin, "identity_verified", "identity:"+who.ID); n != 1 {
			t.Errorf("the audit log of hospital %s has %d identity_verified entries for 李九, want 1", admin.HospitalID, n)
		}
	}

	// The bound account cancels the phone booking: this hospital reads who.
	if _, err := h.svc.Cancel(h.ctx, attacker.actor, pb.ID, booking.Origin{}); err != nil {
		t.Fatalf("the bound account cancels the phone booking: %v", err)
	}
	if n := h.count(`SELECT count(*) FROM booking_events WHERE booking_id = $1 AND type = 'cancelled' AND by_account_id = $2`,
		pb.ID, attacker.actor.AccountID); n != 1 {
		t.Errorf("%d cancelled events of the phone booking name the account that cancelled it (by_account_id), want 1", n)
	}
	if n := audited(ourAdmin, "cancelled_by_person", "booking:"+pb.ID); n != 1 {
		t.Errorf("this hospital's audit log has %d cancelled_by_person entries for the phone booking, want 1", n)
	}

	// 周十 has a booking here; the other hospital's clerk corrects his name.
	zhou := h.person("周十")
	h.mustWalkIn(h.staff(booking.RoleClerk), zhou, mine)
	zhouID, err := h.svc.VerifyIdentity(h.ctx, theirClerk, booking.VerifyRequest{IdentityRequest: booking.IdentityRequest{
		IDType: zhou.IDType, IDNumber: zhou.IDNumber, Name: "周拾"}, CorrectionReason: "名字录错了"})
	testenv.Must(t, err, "the other hospital's clerk corrects 周十's name")
	if n := audited(ourAdmin, "identity_name_corrected", "identity:"+zhouID.ID); n != 1 {
		t.Errorf("this hospital's audit log has %d identity_name_corrected entries for 周十, want 1", n)
	}

	// 吴一 has nothing here: their verification is the other hospital's.
	wu := h.person("吴一")
	wuID, err := h.svc.VerifyIdentity(h.ctx, theirClerk, booking.VerifyRequest{IdentityRequest: wu})
	testenv.Must(t, err, "the other hospital's clerk verifies 吴一")
	if n := audited(ourAdmin, "identity_verified", "identity:"+wuID.ID); n != 0 {
		t.Errorf("this hospital's audit log has %d entries of a person with nothing here, want 0", n)
	}
	if n := audited(theirAdmin, "identity_verified", "identity:"+wuID.ID); n != 1 {
		t.Errorf("the clerk's hospital's audit log has %d entries of 吴一's verification, want 1", n)
	}
}

// TestCallerLookupAuditsWhetherTheNameMatched: an operator's lookup of a
// caller by ID number and name says in its audit entry whether the name
// given was the person's — never the name — so an administrator sees an
// operator probing names (the wrong name was logged as the right one was).
func TestCallerLookupAuditsWhetherTheNameMatched(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	op, admin := h.staff(booking.RoleOperator), h.staffOf(booking.RoleAdmin, h.hosp.ID)
	person := h.person("郑十一")
	h.userOf(person)
	for _, name := range []string{"郑十一", "郑十二"} {
		// Nothing of the person's is at the operator's hospital: the
		// answer says no more (review21 L1); the audit keeps the read.
		_, err := h.svc.LookupCaller(h.ctx, op, booking.IdentityRequest{IDType: person.IDType, IDNumber: person.IDNumber, Name: name}, "13800000008", booking.CheckSpoken)
		wantErr(t, "look the caller up as "+name, err, booking.ErrPatientNotFound)
	}
	as, err := h.svc.Audit(h.ctx, admin, time.Now().Add(-time.Hour))
	testenv.Must(t, err, "read the audit log")
	var reasons []string
	for _, a := range as {
		if a.Action == "identity_lookup" {
			reasons = append(reasons, a.Reason)
			if strings.Contains(a.Reason, "郑") {
				t.Errorf("the lookup's audit entry names the person: %q", a.Reason)
			}
		}
	}
	slices.Sort(reasons)
	if want := []string{"found; the name given does not match; spoken: the caller read the number aloud; nothing at this hospital", "found; the name given matches; spoken: the caller read the number aloud; nothing at this hospital"}; !slices.Equal(reasons, want) {
		t.Errorf("the lookups' audit reasons = %q, want %q", reasons, want)
	}
}

// TestWalkInVerifiesInTheOpen: a walk-in that verifies a person's name (the
// clerk has the card) is audited as a desk verification is — in its
// transaction, once, in the walk-in's hospital and in every other where
// the person is booked. A number mistyped at another hospital's desk
// verifies a stranger's name under the walk-in's, and the stranger's
// hospital, whose check-in now refuses them, must see it (review16b: the
// entry was written apart, after the name, in the clerk's hospital only).
func TestWalkInVerifiesInTheOpen(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	mine := h.deskSession(deskOpts{online: 2, phone: 2, onsite: 2})
	other, theirs := h.otherHospital()
	op, theirClerk := h.staff(booking.RoleOperator), h.staffOf(booking.RoleClerk, other.ID)
	ourAdmin, theirAdmin := h.staffOf(booking.RoleAdmin, h.hosp.ID), h.staffOf(booking.RoleAdmin, other.ID)
	li := h.person("李九")
	_, err := h.staffBook(op, li, mine, booking.ChannelPhone, "13800000009")
	testenv.Must(t, err, "book 李九 by phone here")

	defer h.clock.at(theirs.StartsAt.Add(30 * time.Minute))()
	mistyped := li
	mistyped.Name = "李雷"
	b := h.mustWalkIn(theirClerk, h.readBy(theirClerk, mistyped), theirs) // a read verifies (review25 L1)
	for _, admin := range []booking.Actor{ourAdmin, theirAdmin} {
		as, err := h.svc.Audit(h.ctx, admin, time.Now().Add(-24*time.Hour))
		testenv.Must(t, err, "read the audit log")
		n := 0
		for _, a := range as {
			if a.Action == "identity_verified" && a.Target == "identity:"+b.IdentityID {
				n++
			}
		}
		if n != 1 {
			t.Errorf("the audit log of hospital %s has %d identity_verified entries of the walk-in's name, want 1", admin.HospitalID, n)
		}
	}
}

// TestLookupOfAnotherHospitalsPatientIsAudited: another hospital's clerk
// looks up, by ID card, a person booked here. The lookup reads the person's
// data, and this hospital's administrator sees it in the audit log, as a
// verification by another hospital's clerk is (lows17: it was audited in
// the clerk's hospital only). A lookup that finds nobody names nobody's
// hospital: it stays in the clerk's. This hospital's copy names the
// clerk's hospital and role, never the clerk's work name (review17b L5: a
// hospital's administrators read the names of another's staff).
func TestLookupOfAnotherHospitalsPatientIsAudited(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	mine := h.deskSession(deskOpts{online: 2, phone: 2, onsite: 2})
	other, _ := h.otherHospital()
	op := h.staff(booking.RoleOperator)
	phone := h.phone()
	_, err := h.svc.CreateStaff(h.ctx, booking.StaffRequest{Phone: phone, Password: password, Role: booking.RoleClerk,
		HospitalID: other.ID, Name: "窗口七号 Wang"})
	testenv.Must(t, err, "create the other hospital's clerk with a work name")
	theirClerk := h.login(phone)
	ourAdmin, theirAdmin := h.staffOf(booking.RoleAdmin, h.hosp.ID), h.staffOf(booking.RoleAdmin, other.ID)
	li := h.person("李十")
	b, err := h.staffBook(op, li, mine, booking.ChannelPhone, "13800000010")
	testenv.Must(t, err, "book 李十 by phone here")

	// The clerk learns nothing of 李十 (nothing at their hospital:
	// review21 L1), but read the record: both hospitals see it.
	if _, err = h.svc.LookupIdentity(h.ctx, theirClerk, booking.DeskLookupRequest{IDType: li.IDType, IDNumber: li.IDNumber, Check: booking.CheckCardShown}); !errors.Is(err, booking.ErrPatientNotFound) {
		t.Fatalf("the other hospital's clerk looks 李十 up = %v, want patient_not_found (nothing at their hospital)", err)
	}
	stranger := h.person("王十")
	if _, err := h.svc.LookupIdentity(h.ctx, theirClerk, booking.DeskLookupRequest{IDType: stranger.IDType, IDNumber: stranger.IDNumber, Check: booking.CheckCardShown}); !errors.Is(err, booking.ErrPatientNotFound) {
		t.Fatalf("a lookup of nobody = %v, want patient_not_found", err)
	}
	for _, c := range []struct {
		admin          booking.Actor
		found, unknown int
	}{{ourAdmin, 1, 0}, {theirAdmin, 1, 1}} {
		as, err := h.svc.Audit(h.ctx, c.admin, time.Now().Add(-24*time.Hour))
		testenv.Must(t, err, "read the audit log")
		found, unknown := 0, 0
		for _, a := range as {
			switch {
			case a.Action != "identity_lookup" || a.ActorID != theirClerk.AccountID:
			case a.Target == "identity:"+b.IdentityID:
				found++
				here := c.admin.HospitalID == h.hosp.ID
				if here != strings.HasSuffix(a.Reason, booking.AuditOfPersonHere) {
					t.Errorf("hospital %s reads the lookup's reason %q; the copy's ends with %q", c.admin.HospitalID, a.Reason, booking.AuditOfPersonHere)
				}
				wantName, wantElsewhere := "窗口七号 Wang", ""
				if here {
					wantName, wantElsewhere = "", other.ID
				}
				if a.ActorName != wantName || a.ActorHospitalElsewhere != wantElsewhere || a.ActorRole != booking.RoleClerk {
					t.Errorf("hospital %s reads the lookup's actor as name %q, hospital elsewhere %q, role %s; want %q, %q, clerk",
						c.admin.HospitalID, a.ActorName, a.ActorHospitalElsewhere, a.ActorRole, wantName, wantElsewhere)
				}
			case strings.HasPrefix(a.Reason, "not found"):
				unknown++
			}
		}
		if found != c.found || unknown != c.unknown {
			t.Errorf("the audit log of hospital %s has %d lookups of 李十 and %d of nobody, want %d and %d",
				c.admin.HospitalID, found, unknown, c.found, c.unknown)
		}
	}
}
