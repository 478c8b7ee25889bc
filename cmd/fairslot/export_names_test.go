package main

import (
	"encoding/json"
	"testing"
	"time"
)

// TestExportNamesClinics (review21 M6, in part): the copy of one's data
// names the hospitals, departments and doctors its bookings, places and
// requests give by id, so a patient can read which clinic a line is.
func TestExportNamesClinics(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 3)
	svc := startService(t, sch, nil)
	alice := svc.newPatient(21)
	sess := sch.Sessions[0]
	if r := svc.do("POST", "/v1/bookings", alice.token, map[string]string{"session_id": sess.ID, "patient_id": alice.patientID}); r.status != 201 {
		t.Fatalf("book: %d %s", r.status, r.body)
	}
	r := svc.do("GET", "/v1/me/export", alice.token, nil)
	var x struct {
		Names struct {
			Hospitals   map[string]string `json:"hospitals"`
			Departments map[string]string `json:"departments"`
			Doctors     map[string]string `json:"doctors"`
		} `json:"names"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &x) != nil {
		t.Fatalf("export = %d %s", r.status, r.body)
	}
	var dept, doc string
	for _, d := range sch.Departments {
		if d.ID == sess.DepartmentID {
			dept = d.Name
		}
	}
	for _, d := range sch.Doctors {
		if d.ID == sess.DoctorID {
			doc = d.Name
		}
	}
	if x.Names.Hospitals[sess.HospitalID] != sch.Hospitals[0].Name || dept == "" || x.Names.Departments[sess.DepartmentID] != dept ||
		doc == "" || x.Names.Doctors[sess.DoctorID] != doc {
		t.Errorf("export names = %+v, want %s's hospital %q, department %q, doctor %q", x.Names, sess.ID, sch.Hospitals[0].Name, dept, doc)
	}
}
