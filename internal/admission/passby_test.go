package admission

import (
	"slices"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestReturnReadsOnPastPassedByUpToItsBound: a returned slot goes to the
// first eligible identity behind any number of entries it may not go to (a
// barred person put in line many times), up to maxPassSteps steps of
// candidateCount; past the bound it is placed as if nobody eligible
// waited, and the line keeps the one behind. Every entry passed by leaves
// the line and is named in Skipped, in line order.
func TestReturnReadsOnPastPassedByUpToItsBound(t *testing.T) {
	bound := maxPassSteps * candidateCount
	tests := []struct {
		name    string
		ahead   int
		served  bool
		outcome string
	}{
		{name: "fewer than a step", ahead: candidateCount - 1, served: true, outcome: booking.PlacedWaitlist},
		{name: "a step exactly", ahead: candidateCount, served: true, outcome: booking.PlacedWaitlist},
		{name: "several steps", ahead: 3*candidateCount + 5, served: true, outcome: booking.PlacedWaitlist},
		{name: "up to the bound", ahead: bound - 1, served: true, outcome: booking.PlacedWaitlist},
		{name: "past the bound", ahead: bound, outcome: booking.PlacedDelayed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			s := f.session(day(1), booking.NewID(), online(1, past))
			r := f.reservation(s, newIdentityKey())
			slot := f.mustReserve(r)
			barred := newIdentityKey()
			f.bar(barred, future)
			key := f.g.keys(f.hosp).wait(s.ID)
			var ahead []any
			var ids []string
			for range tt.ahead {
				id := booking.NewID()
				ids = append(ids, id)
				ahead = append(ahead, id+"|"+barred)
			}
			testenv.Must(t, f.rdb.RPush(f.ctx, key, ahead...).Err(), "line up the barred")
			g := booking.WaitlistRef{ID: booking.NewID(), IdentityKey: newIdentityKey()}
			testenv.Must(t, f.rdb.RPush(f.ctx, key, g.ID+"|"+g.IdentityKey).Err(), "line up the eligible one")

			week, month := booking.PeriodKeys(s.VisitDate)
			pl, err := f.g.Return(f.ctx, f.holdOf(r, slot), booking.Return{Placing: booking.Placing{
				VisitDate: s.VisitDate, DepartmentID: s.DepartmentID, Week: week, Month: month, Today: day(0),
				Policy: booking.DefaultPolicy, HoldFor: time.Minute, KeepUntil: s.EndsAt.Add(48 * time.Hour),
				Now: time.Now(), Delay: time.Hour}})
			testenv.Must(t, err, "return the slot")

			wantServed, wantSkipped, wantLine := "", ids[:min(len(ids), bound)], []string{g.ID + "|" + g.IdentityKey}
			if tt.served {
				wantServed, wantLine = g.ID, nil
			}
			if pl.Outcome != tt.outcome || pl.Served != wantServed || !slices.Equal(pl.Skipped, wantSkipped) {
				t.Errorf("placement: outcome %s, served %q, %d skipped; want %s, %q, the %d in front",
					pl.Outcome, pl.Served, len(pl.Skipped), tt.outcome, wantServed, len(wantSkipped))
			}
			line, err := f.rdb.LRange(f.ctx, key, 0, -1).Result()
			testenv.Must(t, err, "read the line")
			if !slices.Equal(line, wantLine) {
				t.Errorf("the line after: %d entries (first %q); want %q", len(line), line[:min(1, len(line))], wantLine)
			}
		})
	}
}
