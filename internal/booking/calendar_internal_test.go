package booking

import (
	"fmt"
	"testing"
	"time"
)

// TestClinicDays: a weekly template's clinic of a weekday runs on its own
// day unless that is off or a make-up working day, and on every make-up
// working day of the week that stands in for its weekday. The week of
// 2025-10-06: 6–8 October off (National Day), Saturday 11 October worked as
// a Monday.
func TestClinicDays(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	monday := time.Date(2025, 10, 6, 0, 0, 0, 0, loc)
	cal := calendarOf([]Holiday{
		{Date: "2025-10-06", Name: "国庆节"}, {Date: "2025-10-07", Name: "国庆节"}, {Date: "2025-10-08", Name: "国庆节"},
		{Date: "2025-10-11", Name: "国庆调休", WorksAs: 1},
	})
	days := func(c Calendar, wd int) string {
		var out []string
		for _, d := range c.clinicDays(monday, wd) {
			out = append(out, d.Format("01-02"))
		}
		return fmt.Sprint(out)
	}
	for wd, want := range map[int]string{
		1: "[10-11]", // Monday off; its clinics on the Saturday worked
		3: "[]",      // Wednesday off
		4: "[10-09]", // Thursday as ever
		6: "[]",      // the Saturday runs Monday's clinics, not its own
		7: "[10-12]", // Sunday as ever
	} {
		if got := days(cal, wd); got != want {
			t.Errorf("weekday %d runs on %s, want %s", wd, got, want)
		}
	}
	if got := days(nil, 6); got != "[10-11]" {
		t.Errorf("without a calendar, weekday 6 runs on %s, want its own day", got)
	}
}
