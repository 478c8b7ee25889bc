package main

import (
	"testing"
	"time"
)

// TestWaitlistPositionOnceTheRoundIsOver: a join during an open round is
// answered without position (round_ends_at, ahead, in_round instead); once
// the round is drawn, GET /v1/waitlist carries the place of an entry still
// waiting (review19a M3: no API gave it afterwards, said the document).
func TestWaitlistPositionOnceTheRoundIsOver(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	sess := sch.Sessions[0].ID
	svc := startService(t, sch, map[string]string{"FAIRSLOT_RETURN_ROUND": "2s"})
	a, b, c := svc.newPatient(5301), svc.newPatient(5302), svc.newPatient(5303)
	var booked struct {
		ID string `json:"booking_id"`
	}
	svc.do("POST", "/v1/bookings", a.token, map[string]string{"session_id": sess, "patient_id": a.patientID}).decode(t, &booked)
	if r := svc.do("DELETE", "/v1/bookings/"+booked.ID, a.token, nil); r.status != 200 {
		t.Fatalf("cancel = %d %s", r.status, r.body)
	}
	type entry struct {
		ID          string `json:"waitlist_id"`
		Status      string `json:"status"`
		Position    int    `json:"position"`
		RoundEndsAt string `json:"round_ends_at"`
	}
	for _, p := range []patient{b, c} {
		var e entry
		r := svc.do("POST", "/v1/waitlist", p.token, map[string]string{"session_id": sess, "patient_id": p.patientID})
		r.decode(t, &e)
		if r.status != 201 || e.Position != 0 || e.RoundEndsAt == "" {
			t.Fatalf("join during the round = %d %s, want 201 with round_ends_at and no position", r.status, r.body)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var waiting []entry
		for _, p := range []patient{b, c} {
			var es []entry
			svc.do("GET", "/v1/waitlist", p.token, nil).decode(t, &es)
			for _, e := range es {
				if e.Status == "waiting" {
					waiting = append(waiting, e)
				}
			}
		}
		if len(waiting) == 1 && waiting[0].RoundEndsAt == "" {
			if waiting[0].Position != 1 {
				t.Errorf("the entry left waiting after the draw = %+v, want position 1", waiting[0])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("20 s after a 2 s round: waiting entries %+v, want one, with its position", waiting)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
