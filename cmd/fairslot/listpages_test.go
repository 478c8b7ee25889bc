package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestListsPage: GET /v1/bookings, /v1/waitlist and /v1/admin/flags page
// with ?after=<the previous page's last id>&limit=, the API's one style,
// so an item past the cap (500, 200, 500: the 501st open flag) is reached;
// a bad cursor is 400 invalid_cursor on each (review19a L8). limit lowers
// the page so that a few items stand for many: every page's items are
// distinct, and together they are the whole list in its order.
func TestListsPage(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1, 1, 1, 1)
	svc := startService(t, sch, nil)
	other := svc.newPatient(5201)
	if r := svc.do("POST", "/v1/bookings", other.token, map[string]string{"session_id": sch.Sessions[0].ID, "patient_id": other.patientID}); r.status != 201 {
		t.Fatalf("the other account books the first session: %d %s", r.status, r.body)
	}
	p := svc.newPatient(5202)
	patients := []string{p.patientID}
	for n := 5203; n <= 5204; n++ {
		var pt struct {
			PatientID string `json:"patient_id"`
		}
		svc.do("POST", "/v1/patients", p.token, map[string]any{"id_type": "resident_id", "id_number": residentID(n), "name": "测试" + string(rune('甲'+n%10))}).decode(t, &pt)
		patients = append(patients, pt.PatientID)
	}
	for i, pid := range patients {
		if r := svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sch.Sessions[i+1].ID, "patient_id": pid}); r.status != 201 {
			t.Fatalf("book session %d: %d %s", i+1, r.status, r.body)
		}
		if r := svc.do("POST", "/v1/waitlist", p.token, map[string]string{"session_id": sch.Sessions[0].ID, "patient_id": pid}); r.status != 201 {
			t.Fatalf("join the first session's waitlist: %d %s", r.status, r.body)
		}
	}
	admin := svc.staffLogin(booking.RoleAdmin, 5205)
	for i := range 3 {
		_, err := svc.pool.Exec(context.Background(), `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at)
			VALUES ($1, $2, 'open', '[]', '[]', '[]', now(), now())`, fmt.Sprintf("flg_page_%d", i), 3-i%2)
		testenv.Must(t, err, "write a flag")
	}

	for _, l := range []struct {
		path, token, id string
		n               int
	}{
		{"/v1/bookings", p.token, "booking_id", 3},
		{"/v1/waitlist", p.token, "waitlist_id", 3},
		{"/v1/admin/flags?status=open", admin, "flag_id", 3},
	} {
		sep := "?"
		if l.path == "/v1/admin/flags?status=open" {
			sep = "&"
		}
		ids := func(q string) ([]string, reply) {
			r := svc.do("GET", l.path+q, l.token, nil)
			var items []map[string]any
			if r.status == 200 {
				r.decode(t, &items)
			}
			var out []string
			for _, it := range items {
				out = append(out, fmt.Sprint(it[l.id]))
			}
			return out, r
		}
		whole, r := ids("")
		if len(whole) != l.n {
			t.Fatalf("GET %s = %d %s: %d items, want %d", l.path, r.status, r.body, len(whole), l.n)
		}
		var paged []string
		after := ""
		for range l.n + 1 {
			q := sep + "limit=1"
			if after != "" {
				q += "&after=" + after
			}
			page, r := ids(q)
			if r.status != 200 {
				t.Fatalf("GET %s%s = %d %s, want 200", l.path, q, r.status, r.body)
			}
			if len(page) == 0 {
				break
			}
			if len(page) != 1 {
				t.Fatalf("GET %s%s: %d items, want 1", l.path, q, len(page))
			}
			paged = append(paged, page...)
			after = page[0]
		}
		if !slices.Equal(paged, whole) {
			t.Errorf("%s a page at a time = %v, want the whole list %v in its order", l.path, paged, whole)
		}
		for _, bad := range []string{"nope", booking.NewID(), "flg_nope"} {
			if r := svc.do("GET", l.path+sep+"after="+bad, l.token, nil); r.status != 400 || r.code != "invalid_cursor" {
				t.Errorf("GET %s after=%s = %d %s, want 400 invalid_cursor", l.path, bad, r.status, r.body)
			}
		}
		if r := svc.do("GET", l.path+sep+"limit=0", l.token, nil); r.status != 400 || r.code != "invalid_field" {
			t.Errorf("GET %s limit=0 = %d %s, want 400 invalid_field", l.path, r.status, r.body)
		}
	}
	// Another account's booking is no cursor of this one's list.
	var theirs []struct {
		ID string `json:"booking_id"`
	}
	svc.do("GET", "/v1/bookings", other.token, nil).decode(t, &theirs)
	if r := svc.do("GET", "/v1/bookings?after="+theirs[0].ID, p.token, nil); r.status != 400 || r.code != "invalid_cursor" {
		t.Errorf("GET /v1/bookings after another account's booking = %d %s, want 400 invalid_cursor", r.status, r.body)
	}
}
