package booking_test

import (
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestStoredTemplate (L): a hospital's administrator keeps a doctor's
// weekly template, refused with the codes a published week would get,
// edits it, and applies it to weeks — from this instance and from another
// one, at once — publishing bookable sessions; a week applied twice
// overlaps, a repeat with its key does not; deleting the template leaves
// the sessions.
func TestStoredTemplate(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	doc := h.doctor("Ophthalmology")
	monday := h.day.AddDate(0, 0, 7)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDate(0, 0, 1)
	}
	rota := func() booking.WeekTemplate {
		return booking.WeekTemplate{DoctorID: doc.ID, SlotCount: 4,
			Days: []booking.TemplateDay{{Weekday: 1, Period: "morning", Start: "08:00", End: "12:00"},
				{Weekday: 3, Period: "afternoon", Start: "14:00", End: "17:00"}},
			// Released 60 days ahead: the weeks applied below are open at once.
			Pools: []booking.TemplatePool{{Channel: booking.ChannelOnline, Quota: 3, DaysBefore: 60, At: "08:00"},
				{Channel: booking.ChannelPhone, Quota: 1, DaysBefore: 60, At: "08:00"}}}
	}
	saved, err := h.svc.SaveTemplate(h.ctx, admin, "", booking.TemplateRequest{Name: "春季 Spring", WeekTemplate: rota()})
	testenv.Must(t, err, "save template")
	if saved.HospitalID != h.hosp.ID || saved.DoctorID != doc.ID || len(saved.Days) != 2 || len(saved.Pools) != 2 || saved.Pools[0].DaysBefore != 60 {
		t.Fatalf("saved template = %+v", saved)
	}

	otherHosp, _ := h.otherHospital()
	cases := []struct {
		name  string
		actor booking.Actor
		edit  func(t *booking.WeekTemplate)
		want  *booking.Error
	}{
		{"quotas do not add up", admin, func(t *booking.WeekTemplate) { t.SlotCount = 9 }, booking.ErrQuotaMismatch},
		{"released after the start", admin, func(t *booking.WeekTemplate) {
			t.Pools[1].DaysBefore, t.Pools[1].At = 0, "09:00"
		}, booking.ErrReleaseAfterStart},
		{"two clinics of the template overlap", admin, func(t *booking.WeekTemplate) {
			t.Days = append(t.Days, booking.TemplateDay{Weekday: 1, Period: "morning", Start: "11:00", End: "13:00"})
		}, booking.ErrSessionOverlap},
		{"a bad time of day", admin, func(t *booking.WeekTemplate) { t.Days[0].Start = "8 o'clock" }, booking.ErrInvalidField},
		{"a clerk", h.staffOf(booking.RoleClerk, h.hosp.ID), func(*booking.WeekTemplate) {}, booking.ErrForbidden},
		{"another hospital's administrator", h.staffOf(booking.RoleAdmin, otherHosp.ID), func(*booking.WeekTemplate) {}, booking.ErrForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := rota()
			c.edit(&tm)
			_, err := h.svc.SaveTemplate(h.ctx, c.actor, "", booking.TemplateRequest{Name: "refused", WeekTemplate: tm})
			wantErr(t, c.name, err, c.want)
		})
	}
	if n := h.count(`SELECT count(*) FROM doctor_templates WHERE doctor_id = $1`, doc.ID); n != 1 {
		t.Errorf("%d stored templates after the refusals, want 1", n)
	}

	// An edit: five slots a clinic from now on.
	edited := rota()
	edited.SlotCount, edited.Pools[0].Quota = 5, 4
	_, err = h.svc.SaveTemplate(h.ctx, admin, saved.ID, booking.TemplateRequest{Name: "春季 Spring", WeekTemplate: edited})
	testenv.Must(t, err, "edit template")
	list, err := h.svc.DoctorTemplates(h.ctx, admin, doc.ID)
	testenv.Must(t, err, "list templates")
	if len(list) != 1 || list[0].SlotCount != 5 || list[0].Pools[0].Quota != 4 {
		t.Fatalf("templates after the edit = %+v", list)
	}

	week := monday.Format(time.DateOnly)
	_, err = h.svc.ApplyTemplate(h.ctx, admin, saved.ID, week, "", false)
	wantErr(t, "a week whose releases have passed, not said to open", err, booking.ErrReleasePassed)
	got, err := h.svc.ApplyTemplate(h.ctx, admin, saved.ID, week, "", true)
	testenv.Must(t, err, "apply the template")
	if len(got) != 2 || len(got[0].Slots) != 5 || got[0].VisitDate != week || got[1].VisitDate != monday.AddDate(0, 0, 2).Format(time.DateOnly) {
		t.Fatalf("applied week = %d sessions, first %+v", len(got), got[0])
	}
	h.mustBook(h.user(1), 0, got[0], "") // released, bookable at once
	_, err = h.svc.ApplyTemplate(h.ctx, admin, saved.ID, week, "", false)
	wantErr(t, "the same week again", err, booking.ErrSessionOverlap)

	// Another instance applies it to the next week straight away: the
	// template is read from SQL, not from a catalog.
	other := h.stack.Instance(t, booking.Config{Now: h.clock.Now})
	next := monday.AddDate(0, 0, 7).Format(time.DateOnly)
	first, err := other.ApplyTemplate(h.ctx, admin, saved.ID, next, "next-week", true)
	testenv.Must(t, err, "apply on another instance")
	again, err := other.ApplyTemplate(h.ctx, admin, saved.ID, next, "next-week", true)
	testenv.Must(t, err, "repeat with the key")
	if len(again) != 2 || again[0].ID != first[0].ID {
		t.Errorf("a repeat with the same key published another week")
	}

	testenv.Must(t, h.svc.DeleteTemplate(h.ctx, admin, saved.ID, "rota ended"), "delete template")
	_, err = h.svc.ApplyTemplate(h.ctx, admin, saved.ID, monday.AddDate(0, 0, 14).Format(time.DateOnly), "", false)
	wantErr(t, "applying a deleted template", err, booking.ErrTemplateNotFound)
	if n := h.count(`SELECT count(*) FROM clinic_sessions WHERE doctor_id = $1`, doc.ID); n != 4 {
		t.Errorf("the doctor has %d sessions after the template went, want 4", n)
	}
	for action, want := range map[string]int{"template_create": 1, "template_update": 1, "template_delete": 1} {
		if n := h.count(`SELECT count(*) FROM audit_log WHERE action = $1 AND hospital_id = $2`, action, h.hosp.ID); n != want {
			t.Errorf("audit rows %s = %d, want %d", action, n, want)
		}
	}
	h.checkClean()
}

// TestTemplateCheckedInTheHospitalsWeek: a template is checked against a
// week that starts on the hospital's Monday. At 17:00 UTC it is already
// the next day in Beijing: a Monday found in UTC was a Tuesday there, and
// every template was refused from 00:00 to 08:00 Beijing time.
func TestTemplateCheckedInTheHospitalsWeek(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	doc := h.doctor("Ophthalmology")
	h.clock.freeze(time.Now().UTC().Truncate(24 * time.Hour).Add(17 * time.Hour))
	_, err := h.svc.SaveTemplate(h.ctx, admin, "", booking.TemplateRequest{Name: "夜里保存 Saved at night", WeekTemplate: booking.WeekTemplate{
		DoctorID: doc.ID, SlotCount: 4,
		Days:  []booking.TemplateDay{{Weekday: 1, Period: "morning", Start: "08:00", End: "12:00"}},
		Pools: []booking.TemplatePool{{Channel: booking.ChannelOnline, Quota: 4, DaysBefore: 7, At: "08:00"}}}})
	testenv.Must(t, err, "save a template at 01:00 Beijing time")
}
