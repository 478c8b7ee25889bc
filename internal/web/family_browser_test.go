package web

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/identity"
)

// bornIn is a valid resident ID of someone born on 4 March of year.
func bornIn(year, n int) string {
	first17 := fmt.Sprintf("110105%d0304%03d", year, n%1000)
	return first17 + string(identity.CheckDigit(first17))
}

// TestFamilyLabelsInBrowser: 陈芳 adds her two children 陈一 and 陈二,
// whose masked names are both 陈*. The booking drop-down, the family page
// and my bookings tell them apart by relationship and birth year (子女 ·
// 陈* · 2016 / 2019), and never show a name or ID number in clear.
func TestFamilyLabelsInBrowser(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t, s.base, 2*time.Minute)
	b.register(newPhone(), "correct horse battery")
	n := int(time.Now().UnixNano() % 1000)
	me, one, two := bornIn(1984, n), bornIn(2016, n+1), bornIn(2019, n+2)
	b.addSelf(me, "陈芳")
	for _, c := range []struct{ id, name string }{{one, "陈一"}, {two, "陈二"}} {
		b.open("/patient/family")
		b.fill("#family-form input[name=id_number]", c.id)
		b.fill("#family-form input[name=name]", c.name)
		b.set("#family-form select[name=relationship]", "child")
		b.click("#family-form button[type=submit]", "/patient/family?ok=added")
	}
	b.contains("#family", "本人 · 陈* · 1984")
	b.contains("#family", "子女 · 陈* · 2016")
	b.contains("#family", "子女 · 陈* · 2019")
	b.shot("family-labels-01-family")

	card := "#s-" + s.open.ID
	b.open(sessionsPath(s.hospital.ID, s.cardiology.ID, s.tomorrow))
	options, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll(`+jsString(card+` select[name=patient_id] option`)+`), o => o.value + "|" + o.textContent)`))
	if err != nil {
		t.Fatalf("read the drop-down: %v", err)
	}
	want := []string{"本人 · 陈* · 1984", "子女 · 陈* · 2016", "子女 · 陈* · 2019"}
	if len(options) != len(want) {
		t.Fatalf("the drop-down offers %q, want one option per member", options)
	}
	ids := make([]string, len(options))
	for i, w := range want {
		id, text, _ := strings.Cut(options[i], "|")
		ids[i] = id
		if !strings.HasPrefix(text, w) {
			t.Errorf("option %d reads %q, want it to begin %q", i, text, w)
		}
	}
	b.hidden(me, one, two, "陈芳", "陈一", "陈二")

	// Book for the younger child: my bookings names her the same way.
	b.set(card+" select[name=patient_id]", ids[2])
	b.confirmBook(card)
	b.contains("#bookings .booking.hl .patient", "子女 · 陈* · 2019")
	b.shot("family-labels-02-booked")
	b.hidden(me, one, two, "陈芳", "陈一", "陈二")
}
