package web

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
)

// TestCancelSaysWhatItCost: a cancellation after the deadline (a session of
// today; the deadline was 15:00 yesterday) is confirmed as a no-show, and
// the step before it says so; a free one is confirmed as free.
func TestCancelSaysWhatItCost(t *testing.T) {
	s := newSite(t)
	today := s.addToday()
	for _, tc := range []struct {
		name, session, ok, before, after string
		person                           int
	}{
		{"late", today.ID, "cancelled_late", "counts as a no-show", "counts as a no-show", 6101},
		{"free", s.open.ID, "cancelled", "not a no-show", "does not count as a no-show", 6102},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "free" && s.hospitalLate(s.tomorrow) {
				t.Skip("past 15:00 in Shanghai: tomorrow's visit is late to cancel too")
			}
			p := newDeskPatient(t, s, tc.person, "王小明", tc.session)
			if page := p.c.get("/patient/bookings"); !strings.Contains(page.body, tc.before) {
				t.Errorf("the cancellation step does not say %q", tc.before)
			}
			a := p.c.post("/patient/bookings/"+p.bookingID+"/cancel", url.Values{"csrf": {p.c.csrf("/patient/bookings")}})
			if a.status != 303 || mustQuery(t, a.location, "ok") != tc.ok {
				t.Fatalf("cancel: %d → %q, want ok=%s", a.status, a.location, tc.ok)
			}
			if page := p.c.get(a.location); !strings.Contains(page.body, tc.after) {
				t.Errorf("the page after the cancellation does not say %q", tc.after)
			}
		})
	}
}

// TestSortByVisit: bookings still to come first, soonest first; the rest
// after them, latest first — not the order they were made in.
func TestSortByVisit(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	at := func(id string, h int, st booking.Status, made int) booking.Booking {
		start := now.Add(time.Duration(h) * time.Hour)
		return booking.Booking{ID: id, SlotStart: start, SlotEnd: start.Add(30 * time.Minute), Status: st,
			CreatedAt: now.Add(time.Duration(made) * time.Minute)}
	}
	bs := []booking.Booking{
		at("next-week", 24*7, booking.StatusConfirmed, 1),
		at("last-week", -24*7, booking.StatusCheckedIn, 2),
		at("tomorrow", 24, booking.StatusConfirmed, 3),
		at("cancelled-tomorrow", 24, booking.StatusCancelled, 4),
		at("yesterday", -24, booking.StatusNoShow, 5),
		at("in-an-hour", 1, booking.StatusConfirmed, 6),
	}
	sortByVisit(bs, now)
	var got []string
	for _, b := range bs {
		got = append(got, b.ID)
	}
	want := []string{"in-an-hour", "tomorrow", "next-week", "cancelled-tomorrow", "yesterday", "last-week"}
	if !slices.Equal(got, want) {
		t.Errorf("sortByVisit = %v, want %v", got, want)
	}
}

// TestFamilyFormKeepsValuesInBrowser: a family member's form refused for a
// mistyped ID number comes back with what was typed, so the patient fixes
// one character instead of retyping 18; the values are in that answer only.
func TestFamilyFormKeepsValuesInBrowser(t *testing.T) {
	s := newSite(t)
	good, name, phone := residentID(6201), "陈静", "13812345678"
	bad := good[:17] + map[bool]string{true: "1", false: "2"}[good[17] != '1'] // a wrong check digit
	b := newBrowser(t, s.base, 2*time.Minute)
	b.register(newPhone(), "correct horse battery")
	b.fill("#family-form input[name=id_number]", bad)
	b.fill("#family-form input[name=name]", name)
	b.fill("#family-form input[name=phone]", phone)
	b.agree("#family-form")
	b.click("#family-form button[type=submit]", "/patient/family")
	b.contains("#error", "invalid_id_number")
	for field, want := range map[string]string{"id_number": bad, "name": name, "phone": phone} {
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("#family-form input[name=`+field+`]").value`))
		if err != nil || got != want {
			t.Errorf("after the error the %s field holds %q (%v), want %q as typed", field, got, err, want)
		}
	}
	b.shot("family-01-kept")
	b.phoneShot("family-01-kept-390")
	b.set("#family-form input[name=id_number]", good)
	b.agree("#family-form")
	b.click("#family-form button[type=submit]", "/patient/family?ok=added")
	b.contains("#family", "陈*")
	b.hidden(good, bad, name, phone)
}
