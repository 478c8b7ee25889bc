package booking_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"
	limredis "github.com/ulule/limiter/v3/drivers/store/redis"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
	"fairslot/internal/lockout"
	"fairslot/internal/testenv"
)

// countingVerifier is fakeVerifier counting the checks that reach it (the
// hospital's paid calls).
type countingVerifier struct {
	fakeVerifier
	calls atomic.Int64
}

func (c *countingVerifier) Verify(ctx context.Context, id identity.ID, name string) (booking.Verdict, error) {
	c.calls.Add(1)
	return c.fakeVerifier.Verify(ctx, id, name)
}

// TestRealNameChecksAreBoundedAcrossInstances: a provider's answers are an
// oracle, so its denials are counted per ID number and per asking account
// in Redis, which two instances share. Three wrong names for one number,
// from three accounts on two instances, and the number is checked no more
// that day — not even the right name, which would tell the guesser they
// had it — answered 429 realname_checks_limited without asking the
// provider; another number is checked as before. Four denials of one
// account (four fake numbers), and that account checks no more, on either
// instance; another account does. A denied name is told only that the name
// and number do not match the register, for a fake number as for a wrong
// name.
func TestRealNameChecksAreBoundedAcrossInstances(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	guard := func(name string, n int64) booking.LoginGuard {
		st, err := limredis.NewStoreWithOptions(rdb, limiter.StoreOptions{Prefix: prefix + ":" + name})
		testenv.Must(t, err, "limiter store")
		return lockout.New(st, []lockout.Tier{{Failures: n, Window: 24 * time.Hour}})
	}
	fv := &countingVerifier{fakeVerifier: fakeVerifier{}}
	h := newHarness(t, harnessConfig{verifier: fv, realNameGuard: guard("realname-id", 3), realNameAccountGuard: guard("realname-acct", 4)})
	// A second instance of the deployment: guards of its own over the same
	// Redis, as another process builds them.
	second := h.stack.Instance(t, booking.Config{Verifier: fv,
		RealNameGuard: guard("realname-id", 3), RealNameAccountGuard: guard("realname-acct", 4)})
	instances := []*booking.Service{h.svc, second}
	add := func(i int, u user, who booking.IdentityRequest) error {
		_, err := instances[i%2].AddPatient(h.ctx, u.actor, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: who.IDType, IDNumber: who.IDNumber,
			Name: who.Name, Relationship: "parent"}, booking.Origin{IP: "198.51.100.7"})
		return err
	}
	limited := func(what string, err error) {
		t.Helper()
		wantErr(t, what, err, booking.ErrRealNameLimited)
		var le *booking.LimitError
		if !errors.As(err, &le) || le.Wait <= 0 || le.Wait > 24*time.Hour+time.Second {
			t.Errorf("%s: %v, want a wait of up to a day", what, err)
		} else if le.Err.Kind.HTTPStatus() != 429 {
			t.Errorf("%s: status %d, want 429", what, le.Err.Kind.HTTPStatus())
		}
	}

	t.Run("per ID number", func(t *testing.T) {
		victim := h.person("李梅")
		fv.fakeVerifier[victim.IDNumber] = victim.Name
		var answers []string
		for i, guess := range []string{"李玫", "李美", "黎梅"} {
			err := add(i, h.user(0), booking.IdentityRequest{IDType: victim.IDType, IDNumber: victim.IDNumber, Name: guess})
			wantErr(t, "a wrong name within the number's limit", err, booking.ErrIdentityUnverified)
			if err != nil {
				answers = append(answers, err.Error())
			}
		}
		before := fv.calls.Load()
		limited("the right name past the number's limit", add(3, h.user(0), victim))
		limited("a wrong name past the number's limit, on the other instance", add(4, h.user(0),
			booking.IdentityRequest{IDType: victim.IDType, IDNumber: victim.IDNumber, Name: "王芳"}))
		if got := fv.calls.Load() - before; got != 0 {
			t.Errorf("checks that reached the provider past the limit = %d, want 0", got)
		}
		other := h.person("王芳")
		fv.fakeVerifier[other.IDNumber] = other.Name
		if err := add(5, h.user(0), other); err != nil {
			t.Errorf("another number: %v, want it checked and added", err)
		}
		// A number nobody holds (the provider's not_found) is answered as a
		// wrong name is.
		fake := h.person("赵六")
		fv.fakeVerifier[fake.IDNumber] = "\x00nobody" // no name matches it
		err := add(6, h.user(0), fake)
		wantErr(t, "a check-digit-valid number nobody holds", err, booking.ErrIdentityUnverified)
		if err != nil && len(answers) > 0 && err.Error() != answers[0] {
			t.Errorf("a fake number is told %q, a wrong name %q; want one answer", err, answers[0])
		}
		wantMessage(t, "a denied name", err, "do not match the register")
	})

	t.Run("per account", func(t *testing.T) {
		prober := h.user(0)
		for i := range 4 {
			fake := h.person("孙七")
			fv.fakeVerifier[fake.IDNumber] = "\x00nobody"
			wantErr(t, "a fake number within the account's limit", add(i, prober, fake), booking.ErrIdentityUnverified)
		}
		holder := h.person("周八")
		fv.fakeVerifier[holder.IDNumber] = holder.Name
		limited("a real person past the account's limit", add(4, prober, holder))
		limited("past the account's limit, on the other instance", add(5, prober, holder))
		if err := add(6, h.user(0), holder); err != nil {
			t.Errorf("another account: %v, want the person checked and added", err)
		}
	})

	t.Run("an operator's checks count for the number", func(t *testing.T) {
		s := h.session(sessionOpts{online: 1, phone: 2})
		_, err := second.Refresh(h.ctx)
		testenv.Must(t, err, "refresh the second instance")
		op := h.staff(booking.RoleOperator)
		victim := h.person("吴九")
		fv.fakeVerifier[victim.IDNumber] = victim.Name
		for i, guess := range []string{"吴久", "武九"} {
			_, err := instances[i%2].BookFor(h.ctx, op, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: booking.IdentityRequest{
				IDType: victim.IDType, IDNumber: victim.IDNumber, Name: guess}, SessionID: s.ID, Channel: booking.ChannelPhone,
				CallerPhone: "13800000001"})
			wantErr(t, "an operator's wrong name", err, booking.ErrIdentityUnverified)
		}
		wantErr(t, "a patient's wrong name", add(0, h.user(0), booking.IdentityRequest{IDType: victim.IDType,
			IDNumber: victim.IDNumber, Name: "吴酒"}), booking.ErrIdentityUnverified)
		limited("the number past its limit, two by phone and one online", add(1, h.user(0), victim))
	})
	h.checkClean()
}

// TestDeskOnlyIsNotCounted: with the local default, nothing is asked and
// nothing counted: a name refused for the desk's verified one is a claim
// refused (claims.go), never realname_checks_limited.
func TestDeskOnlyIsNotCounted(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	st, err := limredis.NewStoreWithOptions(rdb, limiter.StoreOptions{Prefix: prefix + ":realname-id"})
	testenv.Must(t, err, "limiter store")
	h := newHarness(t, harnessConfig{realNameGuard: lockout.New(st, []lockout.Tier{{Failures: 1, Window: 24 * time.Hour}})})
	clerk := h.staff(booking.RoleClerk)
	who := h.person("刘洋")
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: who})
	testenv.Must(t, err, "verify at the desk")
	for range 3 {
		_, err := h.addClaim(h.user(0), booking.IdentityRequest{IDType: who.IDType, IDNumber: who.IDNumber, Name: "陈静"}, false)
		wantErr(t, "another name for a desk-verified ID", err, booking.ErrIdentityUnverified)
	}
	if _, err := h.addClaim(h.user(0), who, false); err != nil {
		t.Errorf("the verified name: %v, want it added", err)
	}
}

// TestRealNameTyposDoNotLockTheAddressOut: many patients share one address
// (a hospital's Wi-Fi, a carrier's NAT). A name the provider denies is a
// typo as often as a guess, and says nothing of whether fairslot knows the
// number, so it counts for the number and the account (the real-name
// bounds, and the account's refused claims) but not for the address's
// refused claims: five patients behind one address mistype a parent's name
// (an address bound of three here), and a sixth still adds theirs. A
// refusal that speaks of the register (identity_taken) still counts for
// the address, and an account's own typos still meet its claim bound.
func TestRealNameTyposDoNotLockTheAddressOut(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	guard := func(name string, n int64) booking.LoginGuard {
		st, err := limredis.NewStoreWithOptions(rdb, limiter.StoreOptions{Prefix: prefix + ":" + name})
		testenv.Must(t, err, "limiter store")
		return lockout.New(st, []lockout.Tier{{Failures: n, Window: 24 * time.Hour}})
	}
	fv := fakeVerifier{}
	h := newHarness(t, harnessConfig{verifier: fv, claimGuard: guard("claims", 2), claimIPGuard: guard("claims-ip", 3),
		realNameGuard: guard("realname-id", 5), realNameAccountGuard: guard("realname-acct", 20)})
	const ward = "198.51.100.7"
	add := func(u user, who booking.IdentityRequest, self bool) error {
		_, err := h.svc.AddPatient(h.ctx, u.actor, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: who.IDType, IDNumber: who.IDNumber,
			Name: who.Name, IsSelf: self, Relationship: map[bool]string{true: "self", false: "parent"}[self]}, booking.Origin{IP: ward})
		return err
	}
	for i := range 5 {
		parent := h.person("张" + string(rune('甲'+i)))
		fv[parent.IDNumber] = parent.Name
		typo := parent
		typo.Name = "章" + string(rune('甲'+i))
		wantErr(t, "a mistyped name", add(h.user(0), typo, false), booking.ErrIdentityUnverified)
	}
	parent := h.person("林峰")
	fv[parent.IDNumber] = parent.Name
	if err := add(h.user(0), parent, false); err != nil {
		t.Errorf("a sixth patient on the address after five typos: %v, want the parent added", err)
	}

	t.Run("an account's own typos meet its claim bound", func(t *testing.T) {
		u := h.user(0)
		for i := range 2 {
			p := h.person("何" + string(rune('甲'+i)))
			fv[p.IDNumber] = p.Name
			p.Name = "贺" + string(rune('甲'+i))
			wantErr(t, "a typo within the account's bound", add(u, p, false), booking.ErrIdentityUnverified)
		}
		p := h.person("何丙")
		fv[p.IDNumber] = p.Name
		wantErr(t, "past the account's bound", add(u, p, false), booking.ErrClaimsLimited)
	})

	t.Run("refusals of the register still count for the address", func(t *testing.T) {
		var selves []booking.IdentityRequest
		for i := range 3 {
			who := h.person("钱" + string(rune('甲'+i)))
			h.userOf(who)
			selves = append(selves, who)
		}
		for _, who := range selves {
			claim := who
			claim.Name = who.Name // the right name: refused as another account's self
			wantErr(t, "another account's self", add(h.user(0), claim, true), booking.ErrIdentityTaken)
		}
		p := h.person("孙立")
		fv[p.IDNumber] = p.Name
		wantErr(t, "past the address's bound", add(h.user(0), p, false), booking.ErrClaimsLimited)
	})
}
