package main

import (
	"context"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestReadOneNotification: a patient marks one notification read and the
// other stays unread; marking it again keeps its first read time; another
// patient's request for it is not found.
func TestReadOneNotification(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	svc := startService(t, sch, nil)
	p, q := svc.newPatient(4401), svc.newPatient(4402)
	ids := []string{booking.NewID(), booking.NewID()}
	for i, id := range ids {
		_, err := svc.pool.Exec(context.Background(), `INSERT INTO notifications (id, hospital_id, session_id, kind, account_id, body, created_at)
			SELECT $1, $2, $3, 'session_stopped', account_id, 'stopped', now() - make_interval(secs => $5) FROM patients WHERE id = $4`,
			id, sch.Hospitals[0].ID, sch.Sessions[0].ID, p.patientID, i)
		testenv.Must(t, err, "write a notification")
	}
	read := func() (map[string]bool, int) {
		var inbox struct {
			Unread        int `json:"unread"`
			Notifications []struct {
				ID   string `json:"notification_id"`
				Read bool   `json:"read"`
			} `json:"notifications"`
		}
		svc.do("GET", "/v1/notifications", p.token, nil).decode(t, &inbox)
		m := map[string]bool{}
		for _, n := range inbox.Notifications {
			m[n.ID] = n.Read
		}
		return m, inbox.Unread
	}
	if r := svc.do("POST", "/v1/notifications/"+ids[0]+"/read", q.token, nil); r.status != 404 || r.code != "notification_not_found" {
		t.Errorf("another patient marks it = %d %s, want 404 notification_not_found", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/notifications/not-an-id/read", p.token, nil); r.status != 404 {
		t.Errorf("a malformed id = %d %s, want 404", r.status, r.body)
	}
	if m, unread := read(); unread != 2 || m[ids[0]] || m[ids[1]] {
		t.Fatalf("before = %v (%d unread), want both unread", m, unread)
	}
	if r := svc.do("POST", "/v1/notifications/"+ids[0]+"/read", p.token, nil); r.status != 204 {
		t.Fatalf("mark one read = %d %s, want 204", r.status, r.body)
	}
	if m, unread := read(); unread != 1 || !m[ids[0]] || m[ids[1]] {
		t.Errorf("after = %v (%d unread), want the first read, the second not", m, unread)
	}
	var first time.Time
	testenv.Must(t, svc.pool.QueryRow(context.Background(), `SELECT read_at FROM notifications WHERE id = $1`, ids[0]).Scan(&first), "read_at")
	if r := svc.do("POST", "/v1/notifications/"+ids[0]+"/read", p.token, nil); r.status != 204 {
		t.Errorf("mark it again = %d %s, want 204", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM notifications WHERE id = $1 AND read_at = $2`, ids[0], first); n != 1 {
		t.Errorf("marking again changed the read time")
	}
}
