package httpapi

import (
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestEntryViewNamesNoFlag: an entrant whose entry was held out of a draw for
// review is told "review", never the flag's id (review21 L5): the notices
// promise words that name no flag, and the entry is the same person's view.
// Other reasons (a rule's code) pass as they are.
func TestEntryViewNamesNoFlag(t *testing.T) {
	held := entryView(booking.Entry{ID: "e1", Status: booking.EntryHeldOut, Reason: "flag:flg_28e36ddd"}, time.UTC)
	if held.Reason != "review" || strings.Contains(held.Reason, "flg_") {
		t.Errorf("a held-out entry's reason = %q, want review", held.Reason)
	}
	lost := entryView(booking.Entry{ID: "e2", Status: booking.EntryLost, Reason: "person_booked_elsewhere"}, time.UTC)
	if lost.Reason != "person_booked_elsewhere" {
		t.Errorf("a passed-over entry's reason = %q, want its rule's code", lost.Reason)
	}
}
