package booking_test

import (
	"testing"
	"time"

	"fairslot/internal/booking"
)

// cstClock is China's zone and a reader of "2006-01-02 15:04" times in it.
func cstClock(t *testing.T) (*time.Location, func(string) time.Time) {
	loc := time.FixedZone("CST", 8*3600)
	return loc, func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// TestAddWorkingDays: the 2024 notice's deadlines count Monday to Friday
// in the hospital's zone, at the hour the case was filed.
func TestAddWorkingDays(t *testing.T) {
	loc, at := cstClock(t)
	for _, c := range []struct {
		from string
		n    int
		want string
	}{
		{"2026-12-04 15:00", 5, "2026-12-11 15:00"},  // Friday → next Friday
		{"2026-12-05 09:30", 5, "2026-12-11 09:30"},  // Saturday → Friday
		{"2026-12-06 23:59", 5, "2026-12-11 23:59"},  // Sunday → Friday
		{"2026-12-07 08:00", 5, "2026-12-14 08:00"},  // Monday → next Monday
		{"2026-12-02 10:00", 10, "2026-12-16 10:00"}, // Wednesday, several departments
		{"2026-12-05 07:30", 1, "2026-12-07 07:30"},  // Saturday + 1 → Monday
	} {
		if got := booking.AddWorkingDays(at(c.from), c.n, loc); !got.Equal(at(c.want)) {
			t.Errorf("%s + %d working days = %s, want %s", c.from, c.n, got.Format("2006-01-02 15:04 Mon"), c.want)
		}
	}
	// A time given in another zone counts the hospital's days.
	fri := time.Date(2026, 12, 4, 23, 30, 0, 0, time.UTC) // Saturday 07:30 in Shanghai
	if got := booking.AddWorkingDays(fri, 1, loc); !got.Equal(at("2026-12-07 07:30")) {
		t.Errorf("Friday 23:30 UTC + 1 = %s, want Monday 07:30 in Shanghai", got.In(loc))
	}
}

// TestCaseOverdue: only a case still waiting for its first answer is
// overdue; an answer after the deadline is late.
func TestCaseOverdue(t *testing.T) {
	due := time.Date(2026, 12, 11, 15, 0, 0, 0, time.UTC)
	c := booking.Case{Status: booking.CaseOpen, DueAt: due}
	if c.Overdue(due) || !c.Overdue(due.Add(time.Second)) {
		t.Errorf("open case: overdue at the deadline or not after it")
	}
	c.Status, c.AnsweredAt = booking.CaseAnswered, due.Add(time.Hour)
	if c.Overdue(due.Add(48*time.Hour)) || !c.AnsweredLate() {
		t.Errorf("answered after the deadline: overdue %v, late %v", c.Overdue(due.Add(48*time.Hour)), c.AnsweredLate())
	}
}

// TestCalendarWorkingDays: with the hospital's calendar, the deadlines skip
// its days off and count its make-up working days (调休). 2025's National
// Day: 1–8 October off, Sunday 28 September and Saturday 11 October worked.
func TestCalendarWorkingDays(t *testing.T) {
	loc, at := cstClock(t)
	cal := booking.Calendar{
		"2025-09-28": {Date: "2025-09-28", Name: "国庆调休", WorksAs: 3},
		"2025-10-11": {Date: "2025-10-11", Name: "国庆调休", WorksAs: 1},
	}
	for d := 1; d <= 8; d++ {
		day := time.Date(2025, 10, d, 0, 0, 0, 0, loc).Format(time.DateOnly)
		cal[day] = booking.Holiday{Date: day, Name: "国庆节"}
	}
	for _, c := range []struct {
		from string
		n    int
		want string
	}{
		{"2025-09-26 10:00", 5, "2025-10-10 10:00"},  // Fri: Sun 28, 29, 30, (1–8 off), 9, 10
		{"2025-09-30 09:00", 10, "2025-10-21 09:00"}, // Tue: 9, 10, Sat 11, 13–17, 20, 21
		{"2025-10-04 12:00", 1, "2025-10-09 12:00"},  // inside the holiday → its first day back
		{"2025-10-10 08:00", 1, "2025-10-11 08:00"},  // Friday + 1 → the Saturday worked
		{"2025-10-17 08:00", 1, "2025-10-20 08:00"},  // a weekend of no calendar day: as before
	} {
		if got := cal.AddWorkingDays(at(c.from), c.n, loc); !got.Equal(at(c.want)) {
			t.Errorf("%s + %d working days = %s, want %s", c.from, c.n, got.Format("2006-01-02 15:04 Mon"), c.want)
		}
	}
	for day, works := range map[string]bool{"2025-09-27": false, "2025-09-28": true, "2025-10-01": false, "2025-10-09": true, "2025-10-11": true, "2025-10-12": false} {
		if got := cal.Works(at(day + " 12:00")); got != works {
			t.Errorf("Works(%s) = %v, want %v", day, got, works)
		}
	}
}
