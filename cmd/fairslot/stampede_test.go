package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"fairslot/internal/testenv"
)

// TestStampede is the release-minute claim, proven on the real path: many
// patients race through HTTP, Redis admission and the SQL commit for a
// session with far fewer slots. Afterwards there is no oversell, no slot or
// patient twice, no lost confirmation, and Redis agrees with SQL.
func TestStampede(t *testing.T) {
	const (
		slots      = 50
		patients   = 500
		goroutines = 2000
	)
	sch := schedule(t, time.Now().Add(-time.Minute), slots)
	sess := sch.Sessions[0]
	svc := startService(t, sch, nil)

	ps := make([]patient, patients)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range work {
				ps[i] = svc.newPatient(i)
			}
		})
	}
	for i := range patients {
		work <- i
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	type attempt struct {
		patient int
		r       reply
		booking struct {
			ID     string `json:"booking_id"`
			SlotNo int    `json:"slot_no"`
		}
	}
	results := make([]attempt, goroutines)
	start := make(chan struct{})
	for g := range goroutines {
		wg.Go(func() {
			p := ps[g%patients]
			<-start
			results[g].patient = g % patients
			results[g].r = svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sess.ID, "patient_id": p.patientID})
		})
	}
	close(start)
	wg.Wait()

	outcomes := map[string]int{}
	bySlot := map[int]string{}
	byPatient := map[int]string{}
	confirmed := map[string]int{} // booking id → slot, as the clients were told
	for i := range results {
		a := &results[i]
		key := fmt.Sprintf("%d %s", a.r.status, a.r.code)
		outcomes[key]++
		if a.r.status != 201 {
			continue
		}
		a.r.decode(t, &a.booking)
		if prev, dup := bySlot[a.booking.SlotNo]; dup {
			t.Errorf("slot %d confirmed twice: %s and %s", a.booking.SlotNo, prev, a.booking.ID)
		}
		if prev, dup := byPatient[a.patient]; dup {
			t.Errorf("patient %d confirmed twice: %s and %s", a.patient, prev, a.booking.ID)
		}
		if a.booking.SlotNo < 1 || a.booking.SlotNo > slots {
			t.Errorf("slot %d outside the online pool 1..%d", a.booking.SlotNo, slots)
		}
		bySlot[a.booking.SlotNo], byPatient[a.patient] = a.booking.ID, a.booking.ID
		confirmed[a.booking.ID] = a.booking.SlotNo
	}
	t.Logf("outcomes of %d attempts: %v", goroutines, outcomes)
	if got := outcomes["201 "]; got != slots {
		t.Errorf("%d confirmed, want exactly %d (every slot, no oversell)", got, slots)
	}
	for k, n := range outcomes {
		switch k {
		// A person's duplicate attempt refused while their booking is still
		// being committed, or past the refusal explanations' budget, cannot
		// be shown to be the account's own: person_booked_elsewhere.
		case "201 ", "409 sold_out", "409 already_booked", "409 person_booked_elsewhere":
		default:
			t.Errorf("%d answers %q, want only 201, 409 sold_out, already_booked or person_booked_elsewhere", n, k)
		}
	}

	// SQL: exactly the confirmed bookings, each once.
	ctx := context.Background()
	rows, err := svc.pool.Query(ctx, `SELECT id::TEXT, slot_no FROM bookings WHERE session_id = $1 AND status = 'confirmed'`, sess.ID)
	testenv.Must(t, err, "read bookings")
	inSQL := map[string]int{}
	for rows.Next() {
		var id string
		var slot int
		testenv.Must(t, rows.Scan(&id, &slot), "scan")
		inSQL[id] = slot
	}
	testenv.Must(t, rows.Err(), "read bookings")
	if len(inSQL) != slots {
		t.Errorf("SQL has %d active bookings, want %d", len(inSQL), slots)
	}
	for id, slot := range confirmed {
		if got, ok := inSQL[id]; !ok || got != slot {
			t.Errorf("confirmed booking %s (slot %d) is in SQL as slot %d, present %v: a lost confirmation", id, slot, got, ok)
		}
	}
	for id := range inSQL {
		if _, ok := confirmed[id]; !ok {
			t.Errorf("SQL booking %s was never confirmed to a client", id)
		}
	}
	if n := svc.count(`SELECT count(*) FROM (SELECT identity_id FROM bookings WHERE status = 'confirmed' GROUP BY identity_id, visit_date, department_id HAVING count(*) > 1) d`); n != 0 {
		t.Errorf("%d identities hold more than one booking per day and department", n)
	}
	if n := svc.count(`SELECT count(*) FROM booking_events WHERE type = 'booked' AND session_id = $1`, sess.ID); n != slots {
		t.Errorf("%d booked events, want %d", n, slots)
	}

	// Redis: agrees with SQL, the online pool is empty and the phone pool untouched.
	out := svc.run("reconcile", "--check")
	t.Log(out)
	var list []struct {
		Channels []struct {
			Channel   string
			Remaining int
		}
	}
	svc.do("GET", "/v1/hospitals/"+sess.HospitalID+"/sessions", "", nil).decode(t, &list)
	if len(list) != 1 || len(list[0].Channels) != 2 {
		t.Fatalf("sessions = %+v, want one session with two channels", list)
	}
	for _, c := range list[0].Channels {
		want := map[string]int{"online": 0, "phone": 5}[c.Channel]
		if c.Remaining != want {
			t.Errorf("%s remaining = %d, want %d", c.Channel, c.Remaining, want)
		}
	}
}
