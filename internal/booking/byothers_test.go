package booking_test

import (
	"errors"
	"slices"
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

// madeByOthers is the person's view of what other accounts made for them.
func (h *harness) madeByOthers(u user) booking.MadeByOthers {
	h.t.Helper()
	m, err := h.svc.MadeByOthers(h.ctx, u.actor)
	testenv.Must(h.t, err, "made by others")
	return m
}

// TestVerifiedSelfActsOnWhatOthersMadeForThem: another account adds person
// P (ID number and a name) and books P, enters P in a draw and puts P on a
// waitlist; P's own attempts are refused for things P cannot see. Until the
// desk verifies P, P's own account (an unverified self) and a plain family
// member's account see and touch none of it. Once verified, P's account
// lists the three with the maker's phone masked, cancels, withdraws and
// leaves them, and then books, enters and waits from its own account; the
// maker is told of each, and each is audited.
func TestVerifiedSelfActsOnWhatOthersMadeForThem(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	first := h.session(sessionOpts{online: 3, dept: "Neurology"})
	// Another day: a join is checked against the day's quota up front.
	full := h.session(sessionOpts{online: 1, dept: "Dermatology", day: h.day.AddDate(0, 0, 2)})
	draw := h.lotterySession(lotteryOpts{online: 2})
	// Same day, the departments of the maker's booking and entry: the
	// quotas they fill.
	nearBooking := h.session(sessionOpts{online: 3, dept: "Neurology", period: "afternoon"})
	nearEntry := h.session(sessionOpts{online: 3, dept: "Cardiology", period: "evening"})
	person := h.person("王芳")
	p := h.userOf(person)
	// The maker gives P's true name: what another account made under a
	// name the desk disproves is void once it verifies P's
	// (TestDeskVerificationVoidsASquattersBookings).
	maker := h.userOf(h.person("李娜"), person)
	family := h.userOf(h.person("赵强"), person)
	h.mustBook(h.user(1), 0, full, "") // sold out: the waitlist is open

	mb := h.mustBook(maker, 1, first, "")
	me := h.mustEnter(maker, 1, draw)
	mw, err := h.svc.JoinWaitlist(h.ctx, maker.actor, booking.JoinWaitlistRequest{SessionID: full.ID, PatientID: maker.patients[1].ID})
	testenv.Must(t, err, "the maker puts P on the waitlist")

	place := func(u user, patient int) (booking.WaitlistEntry, error) {
		return h.svc.JoinWaitlist(h.ctx, u.actor, booking.JoinWaitlistRequest{SessionID: full.ID, PatientID: u.patients[patient].ID})
	}
	join := func(u user, patient int) error { _, err := place(u, patient); return err }
	// To the person's verified self each refusal keeps its code and says
	// it was made from another account; to anyone else it is the one
	// refusal that tells nothing of what or where (ErrBookedElsewhere),
	// and a join is taken as anywhere (a place beside the maker's, left
	// here again).
	refusals := func(who string, u user, patient int, see string) {
		t.Helper()
		_, err := h.book(u, patient, first, "")
		wantElsewhere(t, who+" books where the maker booked P", err, booking.ErrAlreadyBooked, see)
		_, err = h.enter(u, patient, draw, "")
		wantElsewhere(t, who+" enters the draw the maker entered P in", err, booking.ErrAlreadyEntered, see)
		if see != "" {
			wantElsewhere(t, who+" joins the waitlist the maker put P on", join(u, patient), booking.ErrAlreadyWaitlisted, see)
			return
		}
		w, err := place(u, patient)
		testenv.Must(t, err, "%s joins the waitlist the maker put P on", who)
		testenv.Must(t, h.svc.LeaveWaitlist(h.ctx, u.actor, w.ID, booking.Origin{}), "%s leaves it", who)
	}
	refusals("P, unverified,", p, 0, "")
	refusals("a family member's account", family, 1, "")
	_, err = h.book(maker, 1, first, "")
	wantElsewhere(t, "the maker books P again", err, booking.ErrAlreadyBooked, "-")

	nothing := func(who string, u user) {
		t.Helper()
		if m := h.madeByOthers(u); len(m.Bookings)+len(m.Entries)+len(m.Waitlist) != 0 {
			t.Errorf("%s sees %d bookings, %d entries, %d waitlist places made by others; want none", who,
				len(m.Bookings), len(m.Entries), len(m.Waitlist))
		}
		if _, err := h.svc.Booking(h.ctx, u.actor, mb.ID); !errors.Is(err, booking.ErrBookingNotFound) {
			t.Errorf("%s reads the maker's booking: %v, want booking_not_found", who, err)
		}
		_, err := h.svc.Cancel(h.ctx, u.actor, mb.ID, booking.Origin{})
		wantErr(t, who+" cancels the maker's booking", err, booking.ErrBookingNotFound)
		_, err = h.svc.WithdrawEntry(h.ctx, u.actor, me.ID, booking.Origin{})
		wantErr(t, who+" withdraws the maker's entry", err, booking.ErrEntryNotFound)
		err = h.svc.LeaveWaitlist(h.ctx, u.actor, mw.ID, booking.Origin{})
		wantErr(t, who+" leaves the maker's waitlist place", err, booking.ErrWaitlistNotFound)
	}
	nothing("P's unverified self", p)
	nothing("a family member's account", family)

	clerk := h.staff(booking.RoleClerk)
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: person, AccountPhone: p.phone, NumberRung: true})
	testenv.Must(t, err, "the desk verifies P with P's account phone")
	nothing("a family member's account after P's verification", family)
	refusals("P, verified,", p, 0, booking.SeeMadeByOthers)
	// A quota the maker's booking or entry fills is explained alike.
	_, err = h.book(p, 0, nearBooking, "")
	wantElsewhere(t, "P, verified, books the maker's booking's department that day", err, booking.ErrQuotaDayDept, booking.SeeMadeByOthers)
	_, err = h.book(p, 0, nearEntry, "")
	wantElsewhere(t, "P, verified, books the maker's entry's department that day", err, booking.ErrQuotaDayDept, booking.SeeMadeByOthers)
	refusals("a family member's account after P's verification", family, 1, "")

	m := h.madeByOthers(p)
	self := p.patients[0].ID
	if len(m.Bookings) != 1 || m.Bookings[0].ID != mb.ID || m.Bookings[0].PatientID != self || m.Bookings[0].Status != booking.StatusConfirmed {
		t.Errorf("P's view of bookings = %+v, want the maker's %s, confirmed, as P's own patient %s", m.Bookings, mb.ID, self)
	}
	if len(m.Entries) != 1 || m.Entries[0].ID != me.ID || m.Entries[0].PatientID != self || m.Entries[0].Status != booking.EntryEntered {
		t.Errorf("P's view of entries = %+v, want the maker's %s, entered", m.Entries, me.ID)
	}
	// The family member's places, left, are there too.
	if i := slices.IndexFunc(m.Waitlist, func(w booking.WaitlistEntry) bool { return w.ID == mw.ID }); i < 0 ||
		m.Waitlist[i].PatientID != self || len(m.Waitlist) != 3 {
		t.Errorf("P's view of the waitlist = %+v, want the maker's %s, as P's own patient, and the family's two left", m.Waitlist, mw.ID)
	}
	if got, want := m.Makers[maker.actor.AccountID], identity.MaskPhone(maker.phone); got != want || len(m.Makers) != 2 ||
		m.Makers[family.actor.AccountID] != identity.MaskPhone(family.phone) {
		t.Errorf("makers = %v, want only the maker's masked phone %s and the family's", m.Makers, want)
	}
	if got, err := h.svc.Booking(h.ctx, p.actor, mb.ID); err != nil || got.PatientID != self {
		t.Errorf("P reads the maker's booking = %+v, %v; want it, as P's own patient", got, err)
	}

	if got, err := h.svc.Cancel(h.ctx, p.actor, mb.ID, booking.Origin{}); err != nil || got.Status != booking.StatusCancelled || got.PatientID != self {
		t.Errorf("P cancels the maker's booking = %+v, %v; want cancelled", got, err)
	}
	if got, err := h.svc.WithdrawEntry(h.ctx, p.actor, me.ID, booking.Origin{}); err != nil || got.Status != booking.EntryWithdrawn {
		t.Errorf("P withdraws the maker's entry = %+v, %v; want withdrawn", got, err)
	}
	testenv.Must(t, h.svc.LeaveWaitlist(h.ctx, p.actor, mw.ID, booking.Origin{}), "P leaves the maker's waitlist place")

	own := h.mustBook(p, 0, first, "")
	h.mustEnter(p, 0, draw)
	testenv.Must(t, join(p, 0), "P joins the waitlist from their own account")
	if _, err := h.svc.Cancel(h.ctx, maker.actor, mb.ID, booking.Origin{}); !errors.Is(err, booking.ErrBookingNotActive) {
		t.Errorf("the maker cancels its booking after P did: %v, want booking_not_active", err)
	}
	if _, err := h.svc.Booking(h.ctx, maker.actor, own.ID); !errors.Is(err, booking.ErrBookingNotFound) {
		t.Errorf("the maker reads P's own booking: %v, want booking_not_found", err)
	}
	if got := h.entry(mw.ID).Status; got != booking.WaitlistCancelled {
		t.Errorf("the maker's waitlist place = %s, want cancelled", got)
	}
	if n := h.auditCount("cancelled_by_person"); n != 3 {
		t.Errorf("audit entries cancelled_by_person = %d, want 3", n)
	}
	// The events say who ended what (by_account_id, the maker's stays the
	// account) and which refusals another account's booking was behind
	// (made_by_other_account): the detector's evidence, and its victims'.
	// The booking is tomorrow's: past 15:00 today its cancellation is late.
	if n := h.count(`SELECT count(*) FROM booking_events WHERE account_id = $1 AND by_account_id = $2 AND reason IN
		('cancelled_by_person', 'late_cancelled_by_person', 'lottery_withdrawn_by_person', 'left_waitlist_by_person')`, maker.actor.AccountID, p.actor.AccountID); n != 3 {
		t.Errorf("events of the maker's items ended by P, naming P's account = %d, want 3", n)
	}
	if n := h.count(`SELECT count(*) FROM booking_events WHERE by_account_id IS NOT NULL`); n != 3 {
		t.Errorf("events naming an account that ended them = %d, want 3 (no other event)", n)
	}
	h.svc.FlushRefusals(h.ctx)
	// Each refusal of P's verified self names the account whose booking,
	// entry or place was in the way, whatever the rule.
	for _, reason := range []string{"already_booked", "already_entered", "already_waitlisted", "quota_day_department"} {
		want := 1
		if reason == "quota_day_department" {
			want = 2
		}
		if n := h.count(`SELECT count(*) FROM booking_events WHERE type = 'rejected' AND account_id = $1 AND reason = $2
			AND made_by_other_account AND by_account_id = $3`, p.actor.AccountID, reason, maker.actor.AccountID); n != want {
			t.Errorf("P's verified refusals %s naming the maker = %d, want %d", reason, n, want)
		}
	}
	if n := h.count(`SELECT count(*) FROM booking_events WHERE type = 'rejected' AND (made_by_other_account IS NULL) <> (by_account_id IS NULL)`); n != 0 {
		t.Errorf("refusals marked made_by_other_account without the maker, or naming one unmarked: %d, want 0", n)
	}
	// Anyone but the verified self was told person_booked_elsewhere, and
	// the event says what they were told.
	for _, c := range []struct {
		who     string
		account string
		what    string
		want    int
	}{
		{"P, verified", p.actor.AccountID, "reason = 'already_booked' AND made_by_other_account", 1},
		{"P, unverified", p.actor.AccountID, "reason = 'person_booked_elsewhere'", 1},
		{"the family member's account", family.actor.AccountID, "reason = 'person_booked_elsewhere'", 2},
		{"the maker", maker.actor.AccountID, "reason = 'already_booked' AND made_by_other_account IS NULL", 1},
	} {
		if n := h.count(`SELECT count(*) FROM booking_events WHERE type = 'rejected' AND session_id = $2
			AND account_id = $1 AND `+c.what, c.account, first.ID); n != c.want {
			t.Errorf("%s's refused booking events with %s = %d, want %d", c.who, c.what, n, c.want)
		}
	}

	_, err = h.svc.NotifyEvents(h.ctx)
	testenv.Must(t, err, "notify")
	ns, _, err := h.svc.MyNotifications(h.ctx, maker.actor)
	testenv.Must(t, err, "the maker's notifications")
	var told []string
	for _, n := range ns {
		if strings.Contains(n.Body, "by the person it was made for") {
			told = append(told, n.Body)
		}
	}
	if len(told) != 3 || !slices.ContainsFunc(told, func(b string) bool { return strings.Contains(b, "Cancelled by the person") }) ||
		!slices.ContainsFunc(told, func(b string) bool { return strings.Contains(b, "Lottery entry withdrawn") }) ||
		!slices.ContainsFunc(told, func(b string) bool { return strings.Contains(b, "Waitlist place left") }) {
		t.Errorf("the maker was told %q; want the cancellation, the withdrawal and the place left", told)
	}
	ns, _, err = h.svc.MyNotifications(h.ctx, p.actor)
	testenv.Must(t, err, "P's notifications")
	for _, n := range ns {
		if strings.Contains(n.Body, "made for") {
			t.Errorf("P was told %q; the maker is the one told", n.Body)
		}
	}
	h.checkClean()
}

// wantElsewhere checks a refusal's code and whether it says it was made from
// another account: see is "-" for a plain refusal, "" for the uniform
// refusal (wantUniform, whatever code), else where the caller sees it.
func wantElsewhere(t *testing.T, what string, err error, code *booking.Error, see string) {
	t.Helper()
	if see == "" {
		wantUniform(t, what, err)
		return
	}
	wantErr(t, what, err, code)
	e, _ := booking.AsError(err)
	if e == nil {
		return
	}
	switch {
	case see == "-" && (e.MadeElsewhere || e.See != ""):
		t.Errorf("%s: %q says made elsewhere (see %q); want the plain refusal", what, e.Message, e.See)
	case see == "-":
	case !e.MadeElsewhere || e.See != see:
		t.Errorf("%s: made elsewhere %v, see %q (%q); want true, see %q", what, e.MadeElsewhere, e.See, e.Message, see)
	case !strings.Contains(e.Message, see):
		t.Errorf("%s: message %q does not say where to see it", what, e.Message)
	}
}

// wantUniform checks that err is the one refusal an account that is not
// the person's verified self gets for what it cannot be shown to have
// made: ErrBookedElsewhere itself, every field alike (so the same status
// and body over HTTP), whatever code admission or SQL gave.
func wantUniform(t *testing.T, what string, err error) {
	t.Helper()
	e, ok := booking.AsError(err)
	switch {
	case !ok || e == nil:
		t.Errorf("%s: %v, want person_booked_elsewhere", what, err)
	case *e != *booking.ErrBookedElsewhere:
		t.Errorf("%s: %+v, want exactly %+v", what, *e, *booking.ErrBookedElsewhere)
	case e.Kind.HTTPStatus() != 409 || !strings.Contains(e.Message, "once the registration desk has verified them"):
		t.Errorf("%s: status %d, message %q; want 409, pointing the person to the desk", what, e.Kind.HTTPStatus(), e.Message)
	}
}

// TestIdentityTakenProbesAreBounded: adding someone else's registered self
// as one's own answers identity_taken, three times a day per account (five
// per address here); past that, every add from the account or the address
// is 429 identity_claims_limited, whether the number is registered or not,
// and another account on another address is answered as before. Each
// refusal is a rejected event with its code.
func TestIdentityTakenProbesAreBounded(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	guard := func(name string, n int64) booking.LoginGuard {
		st, err := limredis.NewStoreWithOptions(rdb, limiter.StoreOptions{Prefix: prefix + ":" + name})
		testenv.Must(t, err, "limiter store")
		return lockout.New(st, []lockout.Tier{{Failures: n, Window: 24 * time.Hour}})
	}
	h := newHarness(t, harnessConfig{claimGuard: guard("claims", 3), claimIPGuard: guard("claims-ip", 5)})
	var taken []booking.IdentityRequest
	for i := range 4 {
		who := h.person("王" + string(rune('甲'+i)))
		h.userOf(who)
		taken = append(taken, who)
	}
	add := func(u user, who booking.IdentityRequest, ip string) error {
		_, err := h.svc.AddPatient(h.ctx, u.actor, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: who.IDType, IDNumber: who.IDNumber,
			Name: "李四", IsSelf: true}, booking.Origin{IP: ip})
		return err
	}
	prober, sameIP, elsewhere := h.user(0), h.user(0), h.user(0)
	for i := range 3 {
		wantErr(t, "a probe within the limit", add(prober, taken[i], "198.51.100.7"), booking.ErrIdentityTaken)
	}
	limited := func(what string, err error) {
		t.Helper()
		wantErr(t, what, err, booking.ErrClaimsLimited)
		var le *booking.LimitError
		if !errors.As(err, &le) || le.Wait <= 0 || le.Wait > 24*time.Hour+time.Second {
			t.Errorf("%s: %v, want a wait of up to a day", what, err)
		}
	}
	limited("a registered number past the account's limit", add(prober, taken[3], "198.51.100.7"))
	limited("an unregistered number past the account's limit", add(prober, h.person("赵五"), "203.0.113.50"))
	_, err := h.svc.AddPatient(h.ctx, prober.actor, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: "resident_id",
		IDNumber: h.person("").IDNumber, Name: "孙六"}, booking.Origin{IP: "203.0.113.50"})
	limited("a family member past the account's limit", err)

	for i := range 2 {
		wantErr(t, "another account on the address", add(sameIP, taken[i], "198.51.100.7"), booking.ErrIdentityTaken)
	}
	limited("past the address's limit", add(sameIP, taken[2], "198.51.100.7"))
	limited("an unregistered number past the address's limit", add(sameIP, h.person("钱七"), "198.51.100.7"))
	wantErr(t, "another account on another address", add(elsewhere, taken[0], "192.0.2.8"), booking.ErrIdentityTaken)
	if err := add(elsewhere, h.person("周八"), "192.0.2.8"); err != nil {
		t.Errorf("an unregistered self on another address: %v, want it added", err)
	}

	h.svc.FlushRefusals(h.ctx)
	for _, c := range []struct {
		account booking.Actor
		reason  string
		want    int
	}{
		{prober.actor, "identity_taken", 3}, {prober.actor, "identity_claims_limited", 3},
		{sameIP.actor, "identity_taken", 2}, {sameIP.actor, "identity_claims_limited", 2},
		{elsewhere.actor, "identity_taken", 1},
	} {
		got := h.count(`SELECT count(*) FROM booking_events WHERE type = 'rejected' AND account_id = $1 AND reason = $2`,
			c.account.AccountID, c.reason)
		if got != c.want {
			t.Errorf("rejected events of %s with reason %s = %d, want %d", c.account.AccountID, c.reason, got, c.want)
		}
	}
	// A refused claim names the person the number is (the detector counts
	// distinct numbers), the registered self's; a 429 looked at no number.
	if n := h.count(`SELECT count(DISTINCT e.identity_id) FROM booking_events e JOIN patients p ON p.identity_id = e.identity_id AND p.is_self
		WHERE e.type = 'rejected' AND e.account_id = $1 AND e.reason = 'identity_taken'`, prober.actor.AccountID); n != 3 {
		t.Errorf("the prober's refused claims name %d registered selves, want 3", n)
	}
	if n := h.count(`SELECT count(*) FROM booking_events WHERE reason = 'identity_claims_limited' AND identity_id IS NOT NULL`); n != 0 {
		t.Errorf("%d identity_claims_limited events name a person; want none", n)
	}
}

// TestRefusalsTellAnotherAccountNothing: an account that adds person P
// (ID number and name) and tries P's sessions learns nothing of P's
// bookings from the refusals (docs/security.md, "Refusals tell nothing of
// what others made"). P's account books P into psychiatry and cardiology
// on a Monday and dermatology on the Tuesday (a week quota of 3 is
// reached), waits for a full session and enters a draw; an operator books
// P by phone. The other account's attempts are refused for the same
// session (already_booked), the same department that day
// (quota_day_department), the same day (quota_day), the same week
// (quota_week), the waitlist (already_waitlisted), the draw
// (already_entered) and the phone booking's session alike: one refusal,
// every field the same; another week is booked, and its own booking stays
// precise. Past the explanations' budget the same holds (and its own
// booking, not shown to be its own, is the uniform refusal too); the entry
// memo answers it nothing. P's own attempts are precise; verified, P hears
// of the other account's booking precisely, with where to end it, and of
// the phone booking plainly.
func TestRefusalsTellAnotherAccountNothing(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1, policy: &booking.Policy{PerDay: 2, PerWeek: 3, PerMonth: 12}})
	mon := h.day.AddDate(0, 0, 7)
	for mon.Weekday() != time.Monday {
		mon = mon.AddDate(0, 0, 1)
	}
	psych := h.session(sessionOpts{day: mon, dept: "Psychiatry", online: 2})
	psych2 := h.session(sessionOpts{day: mon, dept: "Psychiatry", period: "afternoon", online: 2})
	cardio := h.session(sessionOpts{day: mon, dept: "Cardiology", online: 2})
	ent := h.session(sessionOpts{day: mon, dept: "ENT", online: 2})
	derm := h.session(sessionOpts{day: mon.AddDate(0, 0, 1), dept: "Dermatology", online: 2})
	neuro := h.session(sessionOpts{day: mon.AddDate(0, 0, 2), dept: "Neurology", online: 2})
	later := h.session(sessionOpts{day: mon.AddDate(0, 0, 14), dept: "Psychiatry", online: 2})
	// The week after: a join is checked against P's week up front.
	full := h.session(sessionOpts{day: mon.AddDate(0, 0, 10), dept: "Infectious Diseases", online: 1})
	draw := h.lotterySession(lotteryOpts{dept: "Reproductive Medicine", online: 2})
	byPhone := h.session(sessionOpts{day: mon.AddDate(0, 0, 21), dept: "Infectious Diseases", phone: 1, online: 1})

	person := h.person("王芳")
	p := h.userOf(person)
	other := h.userOf(h.person("李娜"), person)
	h.mustBook(h.user(1), 0, full, "") // sold out: the waitlist is open
	for _, s := range []*booking.Session{psych, cardio, derm} {
		h.mustBook(p, 0, s, "")
	}
	joinFull := func(u user, patient int) (booking.WaitlistEntry, error) {
		return h.svc.JoinWaitlist(h.ctx, u.actor, booking.JoinWaitlistRequest{SessionID: full.ID, PatientID: u.patients[patient].ID})
	}
	_, err := joinFull(p, 0)
	testenv.Must(t, err, "P waits for the full session")
	h.mustEnter(p, 0, draw)
	_, err = h.staffBook(h.staff(booking.RoleOperator), person, byPhone, booking.ChannelPhone, p.phone)
	testenv.Must(t, err, "an operator books P by phone")

	type try struct {
		what string
		code *booking.Error // what P's own attempt is refused
		try  func(u user, patient int) error
	}
	book := func(s *booking.Session) func(user, int) error {
		return func(u user, patient int) error { _, err := h.book(u, patient, s, ""); return err }
	}
	tries := []try{
		{"the session P is booked in", booking.ErrAlreadyBooked, book(psych)},
		{"P's department that day", booking.ErrQuotaDayDept, book(psych2)},
		{"P's day", booking.ErrQuotaDay, book(ent)},
		{"P's week", booking.ErrQuotaWeek, book(neuro)},
		{"the draw P entered", booking.ErrAlreadyEntered, func(u user, patient int) error { _, err := h.enter(u, patient, draw, ""); return err }},
	}
	probe := func(when string) {
		t.Helper()
		for _, tr := range tries {
			wantUniform(t, "the other account tries "+tr.what+when, tr.try(other, 1))
		}
		// A join is taken, as anywhere (TestWaitlistJoinTellsAnotherAccountNothing).
		w, err := joinFull(other, 1)
		testenv.Must(t, err, "the other account joins the waitlist P is on%s", when)
		testenv.Must(t, h.svc.LeaveWaitlist(h.ctx, other.actor, w.ID, booking.Origin{}), "the other account leaves it")
	}
	hits := h.svc.KnownEntries()
	probe("")
	if got := h.svc.KnownEntries(); got != hits {
		t.Errorf("the entry memo answered %d of the other account's attempts; want none: it asks admission, as the other refusals do", got-hits)
	}
	wantUniform(t, "the other account tries the session staff booked P in", book(byPhone)(other, 1))
	wantUniform(t, "P's unverified self tries the session staff booked P in", book(byPhone)(p, 0))
	for _, tr := range tries {
		wantElsewhere(t, "P tries "+tr.what, tr.try(p, 0), tr.code, "-")
	}
	_, err = joinFull(p, 0)
	wantElsewhere(t, "P joins the waitlist P is on", err, booking.ErrAlreadyWaitlisted, "-")
	// The entry memo knows P entered; asked before the shared limits, it
	// answers only P's account.
	req := booking.BookRequest{SessionID: draw.ID, PatientID: other.patients[1].ID, Channel: booking.ChannelOnline}
	if err := h.svc.KnownRefusalOf(other.actor, &req); err != nil {
		t.Errorf("the entry memo answers the other account %v; want it asked through", err)
	}
	req = booking.BookRequest{SessionID: draw.ID, PatientID: p.patients[0].ID, Channel: booking.ChannelOnline}
	wantErr(t, "the entry memo answers P's account", h.svc.KnownRefusalOf(p.actor, &req), booking.ErrAlreadyEntered)

	mine := h.mustBook(other, 1, later, "") // nothing in the way: booked
	wantElsewhere(t, "the other account books P again where it booked P", book(later)(other, 1), booking.ErrAlreadyBooked, "-")

	// The budget is the clock's second's: the clock stands still past it.
	overBudget := func(check func()) {
		t.Helper()
		h.clock.freeze(h.clock.Now())
		h.svc.SpendExplanations()
		check()
		h.clock.frozen.Store(0)
		h.svc.RefillExplanations()
	}
	overBudget(func() {
		probe(", past the explanations' budget")
		wantUniform(t, "the other account books P again where it booked P, past the budget", book(later)(other, 1))
		wantUniform(t, "P's unverified self books where P is booked, past the budget", book(psych)(p, 0))
	})

	clerk := h.staff(booking.RoleClerk)
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: person, AccountPhone: p.phone, NumberRung: true})
	testenv.Must(t, err, "the desk verifies P with P's account phone")
	wantElsewhere(t, "P, verified, books where the other account booked P", book(later)(p, 0), booking.ErrAlreadyBooked, booking.SeeMadeByOthers)
	wantElsewhere(t, "P, verified, books where P's account booked P", book(psych)(p, 0), booking.ErrAlreadyBooked, "-")
	probe(", P verified")
	wantUniform(t, "the other account tries the session staff booked P in, P verified", book(byPhone)(other, 1))
	wantElsewhere(t, "P, verified, tries the session staff booked P in", book(byPhone)(p, 0), booking.ErrAlreadyBooked, "-")
	overBudget(func() {
		wantElsewhere(t, "P, verified, books where the other account booked P, past the budget", book(later)(p, 0), booking.ErrAlreadyBooked, "-")
		probe(", P verified, past the budget")
	})
	if m := h.madeByOthers(p); len(m.Bookings) != 1 || m.Bookings[0].ID != mine.ID {
		t.Errorf("P's view of what others made = %+v, want the other account's booking %s", m.Bookings, mine.ID)
	}
	h.checkClean()
}

// A squatter who knows the person's ID number and real name and claims the
// self first is not the person's verified self when that name is verified
// — by a clerk who sees the card without binding an account, or by a
// real-name provider, which only proves that name and number belong
// together. It sees and ends nothing others made for the person, and the
// person, verified by a provider, takes the self from it. Only the desk,
// naming the account holder, makes a verified self (review13's High).
func TestSquatterUnderTheTrueNameIsNoVerifiedSelf(t *testing.T) {
	check := func(t *testing.T, h *harness, squatter user, bk booking.Booking) {
		t.Helper()
		ps, err := h.svc.Patients(h.ctx, squatter.actor)
		testenv.Must(t, err, "the squatter's patients")
		if len(ps) != 1 || !ps[0].IsSelf || ps[0].SelfVerified {
			t.Errorf("the squatter's self = %+v, want a self that is not the verified self", ps)
		}
		if m := h.madeByOthers(squatter); len(m.Bookings)+len(m.Entries)+len(m.Waitlist) != 0 {
			t.Errorf("the squatter sees %d bookings made by others, want none", len(m.Bookings))
		}
		if _, err := h.svc.Booking(h.ctx, squatter.actor, bk.ID); !errors.Is(err, booking.ErrBookingNotFound) {
			t.Errorf("the squatter reads the relative's booking: %v, want booking_not_found", err)
		}
		_, err = h.svc.Cancel(h.ctx, squatter.actor, bk.ID, booking.Origin{})
		wantErr(t, "the squatter cancels the relative's booking", err, booking.ErrBookingNotFound)
	}
	t.Run("the desk verifies the name", func(t *testing.T) {
		h := newHarness(t, harnessConfig{soldOutFor: -1})
		s := h.session(sessionOpts{online: 2, dept: "Psychiatry"})
		person := h.person("王芳")
		squatter := h.userOf(person)
		relative := h.userOf(h.person("赵强"), person)
		bk := h.mustBook(relative, 1, s, "")
		_, err := h.svc.VerifyIdentity(h.ctx, h.staff(booking.RoleClerk), booking.VerifyRequest{IdentityRequest: person})
		testenv.Must(t, err, "a clerk verifies the card, naming no account")
		check(t, h, squatter, bk)
	})
	t.Run("a real-name provider verifies the name", func(t *testing.T) {
		person := booking.IdentityRequest{IDType: "resident_id", IDNumber: residentID(9901), Name: "王芳"}
		h := newHarness(t, harnessConfig{soldOutFor: -1, verifier: fakeVerifier{person.IDNumber: person.Name}})
		s := h.session(sessionOpts{online: 2, dept: "Psychiatry"})
		squatter := h.userOf(person)
		relative := h.userOf(h.person("赵强"), person)
		bk := h.mustBook(relative, 1, s, "")
		check(t, h, squatter, bk)
		// The person, verified by the provider too, is not turned away
		// (identity_taken): the squatter's self was never bound.
		real := h.userOf(person)
		ps, err := h.svc.Patients(h.ctx, real.actor)
		testenv.Must(t, err, "the person's patients")
		if len(ps) != 1 || !ps[0].IsSelf {
			t.Errorf("the person's own account = %+v, want the person as its self", ps)
		}
	})
}

// TestWaitlistJoinTellsAnotherAccountNothing: joining a sold-out session's
// waitlist for person P is free to undo (leave, join again), so its answer
// must not depend on what other accounts made for P. Another account that
// holds P joins a session a third account booked P in, and a waitlist that
// account put P on, and is answered as in a session where nothing is in
// the way: a waiting place. The places are real but never a second slot
// nor a second chance: a returned slot serves P once, through the place
// ahead, and passes the others by. P's verified self is told precisely,
// and sees and leaves the places others made. A join the hand-out would
// skip for P's own bookings is refused up front, precisely, to P and to an
// account whose own booking explains it (the quotas were not checked).
func TestWaitlistJoinTellsAnotherAccountNothing(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	booked := h.session(sessionOpts{online: 2, dept: "Psychiatry"})
	evening := h.session(sessionOpts{online: 1, dept: "Psychiatry", period: "evening"})
	full := h.session(sessionOpts{online: 2, dept: "Infectious Diseases"})
	free := h.session(sessionOpts{online: 1, dept: "Dermatology", day: h.day.AddDate(0, 0, 1)})
	person := h.person("王芳")
	p := h.userOf(person)
	maker := h.userOf(h.person("李娜"), person)
	other := h.userOf(h.person("赵强"), person)
	h.mustBook(maker, 1, booked, "")
	type filled struct {
		u user
		b booking.Booking
	}
	fill := func(s *booking.Session) filled { u := h.user(1); return filled{u, h.mustBook(u, 0, s, "")} }
	fills := map[string]filled{"booked": fill(booked), "free": fill(free), "full": fill(full), "full2": fill(full)}
	fill(evening)
	mw, err := h.svc.JoinWaitlist(h.ctx, maker.actor, booking.JoinWaitlistRequest{SessionID: full.ID, PatientID: maker.patients[1].ID})
	testenv.Must(t, err, "the maker puts P on the full session's waitlist")

	join := func(u user, patient int, s *booking.Session) (booking.WaitlistEntry, error) {
		return h.svc.JoinWaitlist(h.ctx, u.actor, booking.JoinWaitlistRequest{SessionID: s.ID, PatientID: u.patients[patient].ID})
	}
	// Nothing in the way, the maker's booking, the maker's place, the
	// maker's booking that day in the department: one answer, a place.
	places := map[string]booking.WaitlistEntry{}
	for what, s := range map[string]*booking.Session{"free": free, "booked": booked, "full": full, "evening": evening} {
		e, err := join(other, 1, s)
		if err != nil || e.Status != booking.WaitlistWaiting || e.SessionID != s.ID {
			t.Fatalf("the other account joins the %s session for P = %+v, %v; want a waiting place, as anywhere", what, e, err)
		}
		places[what] = e
	}
	_, err = join(other, 1, full)
	wantElsewhere(t, "the other account joins again where it waits", err, booking.ErrAlreadyWaitlisted, "-")
	// Own bookings are checked up front, as the hand-out would skip.
	_, err = join(maker, 1, evening)
	wantElsewhere(t, "the maker joins P's department that day, where its own booking is", err, booking.ErrQuotaDayDept, "-")

	// The slots come back: P is served once, through the place ahead.
	for _, f := range []string{"full", "full2", "booked", "free"} {
		h.mustCancel(fills[f].u.actor, fills[f].b.ID)
	}
	if got := h.entry(mw.ID); got.Status != booking.WaitlistServed {
		t.Errorf("the maker's place: %s, want served", got.Status)
	}
	for what, want := range map[string]string{"full": booking.WaitlistSkipped, "booked": booking.WaitlistSkipped,
		"free": booking.WaitlistServed, "evening": booking.WaitlistWaiting} {
		if got := h.entry(places[what].ID); got.Status != want {
			t.Errorf("the other account's place in the %s session: %s, want %s", what, got.Status, want)
		}
	}
	for _, s := range []*booking.Session{full, booked} {
		n := 0
		for _, b := range h.activeInSQL(s) {
			if b.IdentityID == p.patients[0].IdentityID {
				n++
			}
		}
		if n != 1 {
			t.Errorf("P holds %d bookings in session %s, want 1", n, s.ID)
		}
	}

	clerk := h.staff(booking.RoleClerk)
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: person, AccountPhone: p.phone, NumberRung: true})
	testenv.Must(t, err, "the desk verifies P with P's account phone")
	_, err = join(p, 0, evening)
	wantElsewhere(t, "P, verified, joins where the maker's booking rules it out", err, booking.ErrQuotaDayDept, booking.SeeMadeByOthers)
	_, err = join(p, 0, full)
	wantElsewhere(t, "P, verified, joins where P was served through the maker's place", err, booking.ErrAlreadyBooked, booking.SeeMadeByOthers)
	var seen []string
	for _, w := range h.madeByOthers(p).Waitlist {
		seen = append(seen, w.ID)
	}
	if !slices.Contains(seen, places["evening"].ID) {
		t.Errorf("P sees waitlist places %v made by others, want the other account's %s among them", seen, places["evening"].ID)
	}
	testenv.Must(t, h.svc.LeaveWaitlist(h.ctx, p.actor, places["evening"].ID, booking.Origin{}), "P leaves the other account's place")
	h.checkClean()
}

// TestPlaceBesideAnothersTakesItsRoundAndKey: with waitlist rounds, a join
// for P taken beside another account's place for P in the open round (the
// join that tells nothing) takes that place's round and key, so P is drawn
// once in the round, not once per account that holds them.
func TestPlaceBesideAnothersTakesItsRoundAndKey(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1, returnRound: time.Hour})
	full := h.session(sessionOpts{online: 1})
	person := h.person("王芳")
	maker := h.userOf(h.person("李娜"), person)
	other := h.userOf(h.person("赵强"), person)
	h.mustBook(h.user(1), 0, full, "")
	join := func(u user, patient int) booking.WaitlistEntry {
		t.Helper()
		e, err := h.svc.JoinWaitlist(h.ctx, u.actor, booking.JoinWaitlistRequest{SessionID: full.ID, PatientID: u.patients[patient].ID})
		testenv.Must(t, err, "join the full session's waitlist")
		return h.entry(e.ID)
	}
	first, beside, stranger := join(maker, 1), join(other, 1), join(h.user(1), 0)
	if beside.Key != first.Key || !beside.RoundEndsAt.Equal(first.RoundEndsAt) {
		t.Errorf("the place beside: round %s key %d; want the maker's place's, round %s key %d",
			beside.RoundEndsAt, beside.Key, first.RoundEndsAt, first.Key)
	}
	if stranger.Key == first.Key || !stranger.RoundEndsAt.Equal(first.RoundEndsAt) {
		t.Errorf("another person's place: round %s key %d; want the same round, a key of its own (not %d)",
			stranger.RoundEndsAt, stranger.Key, first.Key)
	}
	h.checkClean()
}

// TestBarIsToldToEveryAccountHoldingThePerson pins a decision (session 14):
// a bar is told, patient_barred with its end, to any account that holds the
// person, not the uniform refusal: it is the person's standing, and the
// family account booking for them must learn why and until when. A join to
// a waitlist is refused for it up front, as a booking is (the hand-out
// would pass the place by), and nothing is written.
func TestBarIsToldToEveryAccountHoldingThePerson(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	missed := []*booking.Session{
		h.deskSession(deskOpts{day: 0, dept: "Ophthalmology", online: 2}),
		h.deskSession(deskOpts{day: 0, dept: "Dentistry", online: 2}),
		h.deskSession(deskOpts{day: 1, dept: "Ophthalmology", online: 2}),
	}
	full := h.deskSession(deskOpts{day: 3, dept: "Psychiatry", online: 1})
	open := h.deskSession(deskOpts{day: 3, dept: "Neurology", online: 1})
	h.mustBook(h.user(1), 0, full, "")
	person := h.person("王芳")
	p := h.userOf(person)
	other := h.userOf(h.person("赵强"), person)
	h.barByNoShows(p, missed...)
	defer h.clock.reset()

	_, err := h.book(other, 1, open, "")
	wantErr(t, "the other account books for P, barred", err, booking.ErrPatientBarred)
	_, err = h.svc.JoinWaitlist(h.ctx, other.actor, booking.JoinWaitlistRequest{SessionID: full.ID, PatientID: other.patients[1].ID})
	wantErr(t, "the other account joins a waitlist for P, barred", err, booking.ErrPatientBarred)
	if e, _ := booking.AsError(err); e == nil || !strings.Contains(e.Message, "may not book until") {
		t.Errorf("the join's refusal %v does not say until when", err)
	}
	if n := h.count(`SELECT count(*) FROM waitlist WHERE session_id = $1`, full.ID); n != 0 {
		t.Errorf("%d waitlist rows written for the refused join, want none", n)
	}
	h.checkClean()
}
