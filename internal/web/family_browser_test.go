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

// addChild adds a family member as a child through the family form.
func (b *tab) addChild(idNumber, name string) {
	b.t.Helper()
	b.open("/patient/family")
	b.fill("#family-form input[name=id_number]", idNumber)
	b.fill("#family-form input[name=name]", name)
	b.set("#family-form select[name=relationship]", "child")
	b.check("#family-form input[name=guardian_consent]") // a child under 14: the parent consents for them
	b.agree("#family-form")
	b.click("#family-form button[type=submit]", "/patient/family?ok=added")
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
	b.addChild(one, "陈一")
	b.addChild(two, "陈二")
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

// TestFamilyRemoveInBrowser: 陈芳 added 陈一 and 陈二 as her children. 陈一
// has a booking: removing her is refused with the words to cancel first;
// once cancelled she is removed, and her place is free. 陈二 is really her
// parent-in-law: the relationship is edited in place. Screenshots at 1280
// and 390 px (family-remove-*.png).
func TestFamilyRemoveInBrowser(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t, s.base, 2*time.Minute)
	b.register(newPhone(), "correct horse battery")
	n := int(time.Now().UnixNano() % 1000)
	me, one, two := bornIn(1984, n), bornIn(2016, n+1), bornIn(1950, n+2)
	b.addSelf(me, "陈芳")
	b.addChild(one, "陈一")
	b.addChild(two, "陈二")
	first, second := "#family li:nth-child(2)", "#family li:nth-child(3)"
	b.absent("#family li:nth-child(1) details.remove-step") // the holder is never removed

	card := "#s-" + s.open.ID
	b.open(sessionsPath(s.hospital.ID, s.cardiology.ID, s.tomorrow))
	options, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll(`+jsString(card+` select[name=patient_id] option`)+`), o => o.value)`))
	if err != nil || len(options) != 3 {
		t.Fatalf("the drop-down offers %q (%v), want three members", options, err)
	}
	b.set(card+" select[name=patient_id]", options[1])
	b.confirmBook(card)

	b.open("/patient/family")
	b.do("open the removal step", chromedp.Click(chromedp.CSS(first+" details.remove-step summary")))
	b.contains(first+" form.remove .consequence", "must cancel it first")
	b.shot("family-remove-01-confirm")
	b.click(first+" form.remove button", "remove")
	b.contains("#error", "patient_has_pending")
	b.contains("#error", "请先取消")
	b.shot("family-remove-02-pending")
	b.phoneShot("family-remove-02-pending-390")

	b.open("/patient/bookings")
	b.confirmCancel("#bookings .booking")
	b.open("/patient/family")
	b.do("open the removal step", chromedp.Click(chromedp.CSS(first+" details.remove-step summary")))
	b.click(first+" form.remove button", "/patient/family?ok=removed")
	b.contains("main", "名额已释放")
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("#family").innerText`))
	if err != nil || strings.Contains(got, "2016") || !strings.Contains(got, "1950") {
		t.Errorf("the family after the removal reads %q (%v), want 陈二 (1950) and not 陈一 (2016)", got, err)
	}

	// 陈二, now the second card, is a parent: edited in place.
	b.set(first+" form.edit-member select[name=relationship]", "parent")
	b.click(first+" form.edit-member button", "/patient/family?ok=edited")
	b.contains("#family", "父母 · 陈* · 1950")
	b.absent(second)
	b.shot("family-remove-03-removed-edited")
	b.phoneShot("family-remove-03-removed-edited-390")
	b.hidden(me, one, two, "陈芳", "陈一", "陈二")
}
