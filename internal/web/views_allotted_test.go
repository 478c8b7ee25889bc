package web

import (
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestAllottedBookingSaysUntilWhenCancellingIsFree: a booking the service
// made after the hospital's deadline (a lottery win, a waitlist promotion)
// shows the patient until when cancelling it is free — two hours after it
// was made (booking.AllottedGrace) — and not "cancelling now counts as a
// no-show"; a booking the patient made at the same moment still does. The
// lottery card says the same before the draw.
func TestAllottedBookingSaysUntilWhenCancellingIsFree(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	at := func(s string) time.Time {
		ts, err := time.ParseInLocation("2006-01-02 15:04", s, cst)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	starts := at("2026-12-06 18:00")
	cat := booking.NewCatalog(booking.Schedule{
		Hospitals:   []booking.Hospital{{ID: "h", Name: "示范医院", TimeZone: "Asia/Shanghai", CancelDeadline: "15:00"}},
		Departments: []booking.Department{{ID: "d", HospitalID: "h", Name: "儿科"}},
		Doctors:     []booking.Doctor{{ID: "doc", HospitalID: "h", DepartmentID: "d", Name: "李明"}},
		Sessions: []booking.Session{{ID: "s", HospitalID: "h", DepartmentID: "d", DoctorID: "doc", VisitDate: "2026-12-06",
			Period: "evening", StartsAt: starts, EndsAt: starts.Add(3 * time.Hour)}},
	})
	made := at("2026-12-05 17:14")
	tests := []struct {
		name      string
		allotted  bool
		now       string
		lateAfter string
		late      bool
	}{
		{"won, just after the draw", true, "2026-12-05 17:20", "12-05 19:14", false},
		{"won, a minute before the grace ends", true, "2026-12-05 19:13", "12-05 19:14", false},
		{"won, a minute after the grace ends", true, "2026-12-05 19:15", "12-05 19:14", true},
		{"booked by the patient", false, "2026-12-05 17:20", "12-05 15:00", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := booking.Booking{ID: "b", SessionID: "s", HospitalID: "h", DepartmentID: "d", DoctorID: "doc",
				VisitDate: "2026-12-06", Status: booking.StatusConfirmed, CreatedAt: made, Allotted: tt.allotted,
				SlotStart: starts, SlotEnd: starts.Add(10 * time.Minute)}
			row := bookingRowOf(cat, b, nil, at(tt.now), "")
			if !row.Cancellable || row.LateAfter != tt.lateAfter || row.Late != tt.late {
				t.Errorf("row: cancellable %v, free until %q, late %v; want true, %q, %v",
					row.Cancellable, row.LateAfter, row.Late, tt.lateAfter, tt.late)
			}
		})
	}
	t.Run("lottery card", func(t *testing.T) {
		v := booking.SessionView{Session: &booking.Session{ID: "s", HospitalID: "h", DepartmentID: "d", DoctorID: "doc",
			VisitDate: "2026-12-06", StartsAt: starts, EndsAt: starts.Add(3 * time.Hour),
			Channels: []booking.ChannelQuota{{Channel: booking.ChannelOnline, Quota: 2, Mode: booking.Lottery,
				ReleaseAt: at("2026-12-05 17:04"), OpensAt: at("2026-12-05 17:04"), DrawAt: made}}}}
		row := sessionRowOf(cat, v, cst, at("2026-12-05 17:05"))
		if row.Draw == nil || row.Draw.FreeUntil != "12-05 19:14" {
			t.Errorf("lottery card %+v; want a winner free to cancel until 12-05 19:14", row.Draw)
		}
	})
}
