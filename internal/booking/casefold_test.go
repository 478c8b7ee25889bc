package booking_test

import (
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestReportsOfOneTargetAreOneCase: thirty patients reporting one scalper
// were thirty cases in the administrators' queue. A report of a target
// (an account, a phone, a booking) that has a report waiting for its
// first answer at the hospital is folded into that case: the queue shows
// one case listing its reporters, the administrator answers once, and each
// reporter is told on their own case, as before, and sees it answered.
// Each report stays its reporter's row, so the detector still reads one
// report per reporter (its voices are counted there). A report of another
// target, and a complaint, stay cases of their own; closing the case
// closes every report folded into it, each reporter told.
func TestReportsOfOneTargetAreOneCase(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	file := func(u user, account, phone string) booking.Case {
		t.Helper()
		c, err := h.svc.FileCase(h.ctx, u.actor, booking.CaseRequest{Kind: booking.CaseReport, HospitalID: h.hosp.ID,
			Text: "他在群里加价倒卖号源", OfferedAccount: account, OfferedPhone: phone}, booking.Origin{})
		testenv.Must(t, err, "file a report")
		return c
	}
	reporters := []user{h.user(0), h.user(0), h.user(0)}
	first := file(reporters[0], "黄牛小王", "")
	second := file(reporters[1], "黄牛小王", "")
	third := file(reporters[2], "", "13500000009") // another target: the phone
	byPhone := file(h.user(0), "黄牛小王", "13500000009")
	if second.FoldedInto != first.ID {
		t.Errorf("a second reporter's report of the account: folded into %q, want the waiting case %s", second.FoldedInto, first.ID)
	}
	if third.FoldedInto != "" || first.FoldedInto != "" {
		t.Errorf("the first report of each target: folded into %q and %q, want cases of their own", first.FoldedInto, third.FoldedInto)
	}
	if byPhone.FoldedInto != first.ID && byPhone.FoldedInto != third.ID {
		t.Errorf("a report naming both targets: folded into %q, want one of the waiting cases", byPhone.FoldedInto)
	}
	complaint, err := h.svc.FileCase(h.ctx, reporters[1].actor, booking.CaseRequest{Kind: booking.CaseComplaint, Category: "service",
		HospitalID: h.hosp.ID, Text: "窗口排队太久了"}, booking.Origin{})
	testenv.Must(t, err, "file a complaint")

	queue, err := h.svc.CaseQueue(h.ctx, admin, "", "")
	testenv.Must(t, err, "the queue")
	var ids []string
	reportersOf := map[string]int{}
	for _, c := range queue {
		ids = append(ids, c.ID)
		reportersOf[c.ID] = len(c.Folded)
	}
	if len(queue) != 3 {
		t.Errorf("the queue holds %d cases %v, want 3 (the account's, the phone's, the complaint)", len(queue), ids)
	}
	if got := reportersOf[first.ID] + reportersOf[third.ID]; got != 2 {
		t.Errorf("reports folded into the queue's cases = %d, want 2 (the second report, the one naming both)", got)
	}
	if reportersOf[complaint.ID] != 0 {
		t.Errorf("a complaint has %d reports folded in, want 0", reportersOf[complaint.ID])
	}
	view, err := h.svc.ReviewCase(h.ctx, admin, first.ID)
	testenv.Must(t, err, "review the case")
	if len(view.Folded) != reportersOf[first.ID] {
		t.Errorf("the case's page lists %d folded reports, the queue %d", len(view.Folded), reportersOf[first.ID])
	}

	// The detector's input: one report per reporter, as before.
	reports, err := h.store.ReportsSince(h.ctx, first.CreatedAt.Add(-1))
	testenv.Must(t, err, "reports since")
	seen := map[string]bool{}
	for _, r := range reports {
		seen[r.AccountID] = true
	}
	if len(reports) != 4 || len(seen) != 4 {
		t.Errorf("the detector reads %d reports of %d reporters, want 4 of 4", len(reports), len(seen))
	}

	_, err = h.svc.AnswerCase(h.ctx, admin, first.ID, booking.CaseAnswer{Answer: "已核实并处理该账号"})
	testenv.Must(t, err, "answer the case")
	for _, c := range []booking.Case{first, second} {
		got, err := h.store.Case(h.ctx, c.ID)
		testenv.Must(t, err, "read a report")
		if got.Status != booking.CaseAnswered || got.Answer != "已核实并处理该账号" {
			t.Errorf("report %s after the answer: %s %q, want answered with the answer", c.ID, got.Status, got.Answer)
		}
		if n := h.count(`SELECT count(*) FROM notifications WHERE account_id = $1 AND case_id = $2 AND kind = $3`,
			c.AccountID, c.ID, booking.NotifyCaseAnswered); n != 1 {
			t.Errorf("the reporter of %s was told %d times, want once, on their own case", c.ID, n)
		}
	}
	_, err = h.svc.CloseCase(h.ctx, admin, first.ID, "账号已停用")
	testenv.Must(t, err, "close the case")
	for _, c := range []booking.Case{first, second} {
		got, err := h.store.Case(h.ctx, c.ID)
		testenv.Must(t, err, "read a report")
		if got.Status != booking.CaseClosed {
			t.Errorf("report %s after the close: %s, want closed", c.ID, got.Status)
		}
		if n := h.count(`SELECT count(*) FROM notifications WHERE account_id = $1 AND case_id = $2 AND kind = $3`,
			c.AccountID, c.ID, booking.NotifyCaseClosed); n != 1 {
			t.Errorf("the reporter of %s was told of the close %d times, want once", c.ID, n)
		}
	}
	// The case closed, a new report of the account is a case again.
	again := file(reporters[2], "黄牛小王", "")
	if again.FoldedInto != "" {
		t.Errorf("a report after the case closed: folded into %q, want a case of its own", again.FoldedInto)
	}
}
