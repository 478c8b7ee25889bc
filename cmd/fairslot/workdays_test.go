package main

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestMakeUpWorkingDay (调休): a Saturday the holiday notice makes a working
// day, put on the calendar as run as a Monday, takes the Monday clinics of
// a weekly template and not its own Saturday ones, withdraws nothing; a
// weekday or a weekday number beyond Friday is refused. A day off within
// the next working days puts a complaint's deadline one working day later.
func TestMakeUpWorkingDay(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 2, 2)
	svc := startService(t, sch, nil)
	admin := svc.staffLogin(booking.RoleAdmin, 1)
	hospital, doc := sch.Hospitals[0].ID, sch.Doctors[1].ID
	holidays := "/v1/admin/hospitals/" + hospital + "/holidays"
	now := time.Now().In(testenv.Shanghai)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, testenv.Shanghai)
	saturday := today.AddDate(0, 0, 10)
	for saturday.Weekday() != time.Saturday {
		saturday = saturday.AddDate(0, 0, 1)
	}
	monday := saturday.AddDate(0, 0, -5)
	for _, bad := range []map[string]any{
		{"date": monday.Format(time.DateOnly), "name": "调休", "works_as": 2}, // a Monday is a working day already
		{"date": saturday.Format(time.DateOnly), "name": "调休", "works_as": 6},
	} {
		if r := svc.do("POST", holidays, admin, bad); r.status != 400 || r.code != "invalid_field" {
			t.Errorf("make-up day %v = %d %s, want 400 invalid_field", bad, r.status, r.body)
		}
	}
	r := svc.do("POST", holidays, admin, map[string]any{"date": saturday.Format(time.DateOnly), "name": "国庆调休", "works_as": 1, "reason": "按周一排班"})
	if r.status != 200 {
		t.Fatalf("add the make-up day = %d %s", r.status, r.body)
	}
	var added struct {
		WorksAs  int       `json:"works_as"`
		Sessions bulkReply `json:"sessions"`
	}
	r.decode(t, &added)
	if added.WorksAs != 1 || len(added.Sessions.Sessions) != 0 {
		t.Errorf("the make-up day answered %s, want works_as 1 and nothing withdrawn", r.body)
	}
	week := map[string]any{"week_of": monday.Format(time.DateOnly),
		"days": []map[string]any{{"weekday": 1, "period": "morning", "start": "08:00", "end": "12:00"},
			{"weekday": 6, "period": "afternoon", "start": "14:00", "end": "17:00"}},
		"channels": []map[string]any{{"channel": "online", "quota": 4, "days_before": 7, "at": "08:00"}}}
	r = svc.do("POST", "/v1/admin/doctors/"+doc+"/weeks", admin, week)
	if r.status != 201 {
		t.Fatalf("publish the week = %d %s", r.status, r.body)
	}
	var published []struct {
		Date   string `json:"date"`
		Period string `json:"period"`
	}
	r.decode(t, &published)
	var got []string
	for _, p := range published {
		got = append(got, p.Date+" "+p.Period)
	}
	sort.Strings(got)
	want := []string{monday.Format(time.DateOnly) + " morning", saturday.Format(time.DateOnly) + " morning"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the week published %v, want %v (Monday's clinic on the Saturday worked, not the Saturday's own)", got, want)
	}

	// A day off on the first weekday from tomorrow: a complaint filed now
	// is due six working days on, not five.
	off := today.AddDate(0, 0, 1)
	for off.Weekday() == time.Saturday || off.Weekday() == time.Sunday {
		off = off.AddDate(0, 0, 1)
	}
	if r := svc.do("POST", holidays, admin, map[string]any{"date": off.Format(time.DateOnly), "name": "院庆"}); r.status != 200 {
		t.Fatalf("add the day off = %d %s", r.status, r.body)
	}
	p := svc.newPatient(2)
	var c caseReply
	r = svc.do("POST", "/v1/complaints", p.token, map[string]any{"text": "the queue at the pharmacy", "category": "service", "hospital_id": hospital})
	r.decode(t, &c)
	if r.status != 201 {
		t.Fatalf("complaint = %d %s", r.status, r.body)
	}
	created, err := time.Parse(time.RFC3339, c.CreatedAt)
	testenv.Must(t, err, "created_at")
	due, err := time.Parse(time.RFC3339, c.DueAt)
	testenv.Must(t, err, "due_at")
	if w := booking.AddWorkingDays(created, 6, testenv.Shanghai); !due.Equal(w) {
		t.Errorf("due %s, want %s: five working days past the hospital's day off %s", due, w, off.Format(time.DateOnly))
	}
	var list struct {
		Holidays []struct {
			Date    string `json:"date"`
			WorksAs int    `json:"works_as"`
		} `json:"holidays"`
	}
	svc.do("GET", holidays, admin, nil).decode(t, &list)
	if len(list.Holidays) != 2 || list.Holidays[1].Date != saturday.Format(time.DateOnly) || list.Holidays[1].WorksAs != 1 {
		t.Errorf("the calendar = %+v, want the day off then the Saturday worked as a Monday", list.Holidays)
	}
}
