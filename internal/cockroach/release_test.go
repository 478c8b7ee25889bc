package cockroach_test

import (
	"errors"
	"sync"
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestRestoreOnlyAReleasedAccount (review19c L3): two clerks restore the
// same released account at once, each having read it as released; the
// write of one only lands, and the other is account_not_released rather
// than silently overwriting the first's number. A restore of an account
// that has a number changes nothing.
func TestRestoreOnlyAReleasedAccount(t *testing.T) {
	w := newWorld(t)
	a, clerk := w.createAccount(), w.createAccount()
	audit := func(what string) booking.AuditEntry {
		return booking.AuditEntry{ID: booking.NewID(), TS: now(), ActorID: clerk.ID, ActorRole: booking.RoleClerk, Action: what, HospitalID: w.hosp.ID, Target: "account:" + a.ID}
	}
	phone := func() booking.AccountPhone {
		return booking.AccountPhone{Hash: randomBytes(32), Sealed: randomBytes(40), Masked: "139****0000"}
	}

	if _, err := w.st.RestoreAccountPhone(w.ctx, a.ID, phone(), now(), audit("account_phone_restored")); !errors.Is(err, booking.ErrAccountNotReleased) {
		t.Fatalf("restore an account that has its number = %v, want account_not_released", err)
	}
	placeholder := booking.AccountPhone{Hash: randomBytes(32), Sealed: []byte{}, Masked: booking.ReleasedPhoneMasked}
	n := booking.Notification{ID: booking.NewID(), HospitalID: w.hosp.ID, Kind: "account_phone_released", AccountID: a.ID, CreatedAt: now(), Body: "released"}
	_, err := w.st.ReleaseAccountPhone(w.ctx, a.ID, a.PhoneHash, placeholder, now(), audit("account_phone_released"), n)
	testenv.Must(t, err, "release")

	first, second := phone(), phone()
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, p := range []booking.AccountPhone{first, second} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = w.st.RestoreAccountPhone(w.ctx, a.ID, p, now(), audit("account_phone_restored"))
		}()
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won < 0:
			won = i
		case err == nil:
			t.Errorf("both restores wrote a number: the second overwrote the first")
		case !errors.Is(err, booking.ErrAccountNotReleased):
			t.Errorf("restore %d = %v, want nil or account_not_released", i, err)
		}
	}
	if won < 0 {
		t.Fatalf("no restore wrote: %v", errs)
	}
	got, err := w.st.AccountByID(w.ctx, a.ID)
	testenv.Must(t, err, "read the account")
	if want := []booking.AccountPhone{first, second}[won]; string(got.PhoneHash) != string(want.Hash) {
		t.Errorf("the account's number is not the winning restore's")
	}
	if n := w.count(`SELECT count(*) FROM audit_log WHERE action = 'account_phone_restored' AND target = $1`, "account:"+a.ID); n != 1 {
		t.Errorf("%d restore audit entries, want 1 (the refused ones write none)", n)
	}
}
