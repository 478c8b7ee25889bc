package cockroach_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

func removalAudit(a booking.Account, p booking.Patient) booking.AuditEntry {
	return booking.AuditEntry{ID: booking.NewID(), TS: now(), ActorID: a.ID, ActorRole: booking.RolePatient,
		Action: "patient_removed", Target: "patient:" + p.ID}
}

// TestRemovePatient: a removed member frees its place, stays readable for
// what names it, is listed no more, books nothing, and comes back as the
// same row when the account adds it again; a member with a confirmed
// booking, the holder's self and another account's member are refused.
func TestRemovePatient(t *testing.T) {
	w := newWorld(t)
	lim := booking.AccountLimits{MaxPatients: 2, MaxAccountsOnPhone: 3}
	a := w.createAccount()
	self, err := w.addPatient(newPatient(a.ID, newIdentity(randomBytes(32)), true, nil), lim)
	testenv.Must(t, err, "add self")
	childID := newIdentity(randomBytes(32))
	npChild := newPatient(a.ID, childID, false, nil)
	npChild.Relationship = booking.RelChild
	child, err := w.addPatient(npChild, lim)
	testenv.Must(t, err, "add child")
	if _, err := w.addPatient(newPatient(a.ID, newIdentity(randomBytes(32)), false, nil), lim); !errors.Is(err, booking.ErrTooManyPatients) {
		t.Fatalf("third patient with 2 places = %v, want ErrTooManyPatients", err)
	}

	if err := w.st.RemovePatient(w.ctx, a.ID, self.ID, now(), removalAudit(a, self)); !errors.Is(err, booking.ErrPatientIsSelf) {
		t.Errorf("remove self = %v, want ErrPatientIsSelf", err)
	}
	other := w.createAccount()
	if err := w.st.RemovePatient(w.ctx, other.ID, child.ID, now(), removalAudit(other, child)); !errors.Is(err, booking.ErrPatientNotFound) {
		t.Errorf("remove another account's member = %v, want ErrPatientNotFound", err)
	}

	b := w.newBooking(w.s1, 1, child)
	testenv.Must(t, w.insert(b), "book for the child")
	if err := w.st.RemovePatient(w.ctx, a.ID, child.ID, now(), removalAudit(a, child)); !errors.Is(err, booking.ErrPatientPending) {
		t.Fatalf("remove with a confirmed booking = %v, want ErrPatientPending", err)
	}
	if got, _ := w.st.Patient(w.ctx, child.ID); got.Removed {
		t.Fatalf("a refused removal removed the member")
	}
	_, _, err = w.st.CancelBooking(w.ctx, b.ID, false, booking.NoShowRules{}, booking.Event{ID: booking.NewID(), TS: now(),
		Type: booking.EventCancelled, AccountID: a.ID, PatientID: child.ID, BookingID: b.ID}, nil)
	testenv.Must(t, err, "cancel")
	audit := removalAudit(a, child)
	testenv.Must(t, w.st.RemovePatient(w.ctx, a.ID, child.ID, now(), audit), "remove the child")
	if err := w.st.RemovePatient(w.ctx, a.ID, child.ID, now(), removalAudit(a, child)); !errors.Is(err, booking.ErrPatientNotFound) {
		t.Errorf("remove twice = %v, want ErrPatientNotFound", err)
	}
	if n := w.count(`SELECT count(*) FROM audit_log WHERE id = $1 AND action = 'patient_removed'`, audit.ID); n != 1 {
		t.Errorf("removal audit entries = %d, want 1", n)
	}
	got, err := w.st.Patient(w.ctx, child.ID)
	testenv.Must(t, err, "read the removed member")
	if !got.Removed {
		t.Errorf("removed member reads Removed = false")
	}
	list, err := w.st.Patients(w.ctx, a.ID)
	testenv.Must(t, err, "list")
	if len(list) != 1 || list[0].ID != self.ID {
		t.Errorf("list after removal = %v, want the self only", ids2(list))
	}
	if err := w.insert(w.newBooking(w.s1, 2, child)); !errors.Is(err, booking.ErrPatientRemoved) {
		t.Errorf("booking for a removed member = %v, want ErrPatientRemoved", err)
	}
	if n := w.count(`SELECT count(*) FROM bookings WHERE patient_id = $1 AND status = 'confirmed'`, child.ID); n != 0 {
		t.Errorf("confirmed bookings of the removed member = %d, want 0", n)
	}

	// The place is free: another member fits, and then the account is full again.
	third, err := w.addPatient(newPatient(a.ID, newIdentity(randomBytes(32)), false, nil), lim)
	testenv.Must(t, err, "add into the freed place")
	testenv.Must(t, w.st.RemovePatient(w.ctx, a.ID, third.ID, now(), removalAudit(a, third)), "remove the third")
	// Added again, the child is the same row, with the new relationship.
	again := newPatient(a.ID, childID, false, nil)
	again.Relationship = booking.RelOther
	back, err := w.addPatient(again, lim)
	testenv.Must(t, err, "add the child again")
	if back.ID != child.ID || back.Removed || back.Relationship != booking.RelOther {
		t.Errorf("added again = id %s removed %v rel %s, want id %s, on the list, other", back.ID, back.Removed, back.Relationship, child.ID)
	}
	testenv.Must(t, w.insert(w.newBooking(w.s1, 2, back)), "book for the member added again")

	edit := booking.AuditEntry{ID: booking.NewID(), TS: now(), ActorID: a.ID, ActorRole: booking.RolePatient,
		Action: "patient_edited", Target: "patient:" + back.ID}
	p, err := w.st.UpdatePatient(w.ctx, a.ID, back.ID, booking.PatientEdit{Relationship: booking.RelParent}, lim, []booking.AuditEntry{edit})
	testenv.Must(t, err, "set relationship")
	if p.Relationship != booking.RelParent {
		t.Errorf("relationship = %s, want parent", p.Relationship)
	}
	if _, err := w.st.UpdatePatient(w.ctx, a.ID, self.ID, booking.PatientEdit{Relationship: booking.RelChild}, lim, []booking.AuditEntry{edit}); !errors.Is(err, booking.ErrPatientNotFound) {
		t.Errorf("set the self's relationship = %v, want ErrPatientNotFound", err)
	}
}

func ids2(ps []booking.Patient) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

// TestRemovalRacesBooking: a booking whose insert meets a removal that has
// locked the member's row waits for it and is then refused
// (ErrPatientRemoved), not confirmed for a removed member. The removal is
// held open by hand; the booking is let go once PostgreSQL shows it waiting
// on the lock (no sleep decides the order).
func TestRemovalRacesBooking(t *testing.T) {
	w := newWorld(t)
	a := w.createAccount()
	w.mustAddPatient(newPatient(a.ID, newIdentity(randomBytes(32)), true, nil))
	m := w.mustAddPatient(newPatient(a.ID, newIdentity(randomBytes(32)), false, nil))

	tx, err := w.db.Pool().Begin(w.ctx)
	testenv.Must(t, err, "begin")
	defer func() { _ = tx.Rollback(w.ctx) }()
	_, err = tx.Exec(w.ctx, `UPDATE patients SET removed_at = now() WHERE id = $1`, m.ID)
	testenv.Must(t, err, "lock the row as a removal does")

	done := make(chan error, 1)
	go func() { done <- w.insert(w.newBooking(w.s1, 3, m)) }()
	deadline := time.Now().Add(20 * time.Second)
	for waiting := false; !waiting; {
		select {
		case err := <-done:
			t.Fatalf("the booking did not wait for the removal's row lock: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the booking never waited on the removal's lock")
		}
		var n int
		testenv.Must(t, w.db.Pool().QueryRow(w.ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE 'WITH b AS (%INSERT INTO bookings%'`).Scan(&n), "waiters")
		waiting = n > 0
		if !waiting {
			time.Sleep(5 * time.Millisecond) // polling for a state, not timing an outcome
		}
	}
	testenv.Must(t, tx.Commit(w.ctx), "commit the removal")
	if err := <-done; !errors.Is(err, booking.ErrPatientRemoved) {
		t.Errorf("booking racing the removal = %v, want ErrPatientRemoved", err)
	}
	if n := w.count(`SELECT count(*) FROM bookings WHERE patient_id = $1`, m.ID); n != 0 {
		t.Errorf("bookings of the removed member = %d, want 0", n)
	}
}

// TestRemovalHammer: removals racing bookings of the same member, round
// after round: whichever wins, a removed member never holds a confirmed
// booking, and a refused removal is always for a booking that went in.
func TestRemovalHammer(t *testing.T) {
	w := newWorld(t)
	a := w.createAccount()
	w.mustAddPatient(newPatient(a.ID, newIdentity(randomBytes(32)), true, nil))
	removed, pending := 0, 0
	for round := range 12 {
		m := w.mustAddPatient(newPatient(a.ID, newIdentity(randomBytes(32)), false, nil))
		bs := []booking.Booking{w.newBooking(w.s1, 1, m), w.newBooking(w.s3, 1, m)}
		var wg sync.WaitGroup
		var rerr error
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			rerr = w.st.RemovePatient(w.ctx, a.ID, m.ID, now(), removalAudit(a, m))
		})
		for _, b := range bs {
			wg.Go(func() {
				<-start
				if err := w.insert(b); err != nil && !errors.Is(err, booking.ErrPatientRemoved) {
					t.Errorf("round %d: booking = %v", round, err)
				}
			})
		}
		close(start)
		wg.Wait()
		active := w.count(`SELECT count(*) FROM bookings WHERE patient_id = $1 AND status = 'confirmed'`, m.ID)
		switch {
		case rerr == nil:
			removed++
			if active != 0 {
				t.Errorf("round %d: removed member holds %d confirmed bookings", round, active)
			}
		case errors.Is(rerr, booking.ErrPatientPending):
			pending++
			if active == 0 {
				t.Errorf("round %d: removal refused as pending with no booking", round)
			}
			_, err := w.db.Pool().Exec(w.ctx, `UPDATE bookings SET status = 'cancelled', cancelled_at = now() WHERE patient_id = $1`, m.ID)
			testenv.Must(t, err, "free the slots")
			testenv.Must(t, w.st.RemovePatient(w.ctx, a.ID, m.ID, now(), removalAudit(a, m)), "remove after cancelling")
		default:
			t.Fatalf("round %d: removal = %v", round, rerr)
		}
	}
	t.Logf("removal won %d rounds, bookings %d", removed, pending)
}
