package cockroach_test

import (
	"errors"
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// TestBulkLoad: a population loaded by COPY reads back as the service
// writes it (accounts with a staff member's hospital and name; patients
// with their claim, relationship, birth year and contact phone), and a
// second load naming a phone that is taken is refused whole.
func TestBulkLoad(t *testing.T) {
	w := newWorld(t)
	holder, clerk := newAccount(), newAccount()
	clerk.Role, clerk.HospitalID, clerk.Name = booking.RoleClerk, w.hosp.ID, "王窗口"
	self := newPatient(holder.ID, newIdentity(randomBytes(32)), true, randomBytes(32))
	self.Relationship, self.BirthYear = booking.RelSelf, 1980
	child := newPatient(holder.ID, newIdentity(randomBytes(32)), false, nil)
	child.BirthYear = 2016 // no relationship given: the store's default (other)
	testenv.Must(t, w.st.BulkLoad(w.ctx, []booking.Account{holder, clerk}, []booking.NewPatient{self, child}), "bulk load")

	got, err := w.st.AccountByPhone(w.ctx, clerk.PhoneHash)
	if err != nil || got.ID != clerk.ID || got.Role != booking.RoleClerk || got.HospitalID != w.hosp.ID {
		t.Errorf("clerk = %+v (%v), want the clerk of the hospital", got, err)
	}
	for _, c := range []struct {
		np   booking.NewPatient
		rel  booking.Relationship
		year int
	}{{self, booking.RelSelf, 1980}, {child, booking.RelOther, 2016}} {
		p, err := w.st.Patient(w.ctx, c.np.ID)
		if err != nil || p.AccountID != holder.ID || p.IdentityID != c.np.Identity.ID || p.IsSelf != c.np.IsSelf ||
			p.Relationship != c.rel || p.BirthYear != c.year || p.MaskedName != c.np.Identity.NameMasked ||
			p.NameHash != string(c.np.Identity.NameHash) || p.PhoneMasked != c.np.PhoneMasked {
			t.Errorf("patient = %+v (%v), want %+v as AddPatient writes it (relationship %s, born %d)", p, err, c.np, c.rel, c.year)
		}
		who, err := w.st.IdentityByHash(w.ctx, c.np.Identity.IDHash)
		if err != nil || who.ID != c.np.Identity.ID || who.NameVerified {
			t.Errorf("identity = %+v (%v), want the unverified identity loaded", who, err)
		}
	}

	again := newAccount()
	again.PhoneHash = holder.PhoneHash
	other := newPatient(again.ID, newIdentity(randomBytes(32)), true, nil)
	err = w.st.BulkLoad(w.ctx, []booking.Account{newAccount(), again}, []booking.NewPatient{other})
	if !errors.Is(err, cockroach.ErrAlreadyLoaded) {
		t.Fatalf("a load with a taken phone = %v, want ErrAlreadyLoaded", err)
	}
	if n := w.count(`SELECT count(*) FROM accounts`); n != 2 {
		t.Errorf("%d accounts after the refused load, want the 2 of the first", n)
	}
	testenv.Must(t, w.db.Analyze(w.ctx), "analyze")
}
