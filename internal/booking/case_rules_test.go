package booking_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// Unit tests of the rules of reports (举报) and complaints (投诉) over the
// fakes (world, rules_test.go): deadlines in working days of the hospital's
// zone, the queue by deadline, answers judged by the first, the patient
// told, and the limits. No Redis, no PostgreSQL.

func (w *world) file(p person, kind, category string, several bool, text string) (booking.Case, error) {
	return w.svc.FileCase(w.ctx, p.actor, booking.CaseRequest{Kind: kind, Category: category, SeveralDepartments: several,
		HospitalID: w.hospital.ID, Text: text}, booking.Origin{})
}

// A case filed on a Friday afternoon is due five working days on, at the
// same hour the next Friday (the weekend does not count), ten when several
// departments are involved; the hospital's administrators see the waiting
// cases soonest deadline first, nobody else's administrators see them.
func TestRuleCaseDeadlines(t *testing.T) {
	w := newWorld(t, booking.DefaultPolicy, booking.Config{})
	friday := time.Date(2026, 12, 11, 16, 0, 0, 0, monday.Location())
	w.clock.Set(friday)
	p := w.person()
	one, err := w.file(p, booking.CaseReport, "", false, "有人在医院门口高价倒卖专家号")
	if err != nil {
		t.Fatalf("file a report: %v", err)
	}
	w.clock.Advance(time.Minute) // filed later, due later still: the queue is by deadline, not by age
	many, err := w.file(p, booking.CaseComplaint, "service", true, "挂号窗口和诊室互相推诿")
	if err != nil {
		t.Fatalf("file a complaint: %v", err)
	}
	if want := friday.AddDate(0, 0, 7); !one.DueAt.Equal(want) {
		t.Errorf("report filed Friday 16:00 is due %s, want %s (five working days)", one.DueAt, want)
	}
	if want := friday.Add(time.Minute).AddDate(0, 0, 14); !many.DueAt.Equal(want) {
		t.Errorf("complaint of several departments is due %s, want %s (ten working days)", many.DueAt, want)
	}

	admin := w.staff(booking.RoleAdmin)
	queue, err := w.svc.CaseQueue(w.ctx, admin, "", "")
	if err != nil || len(queue) != 2 || queue[0].ID != one.ID || queue[1].ID != many.ID {
		t.Fatalf("queue = %d cases (%v), want the report (due first) then the complaint", len(queue), err)
	}
	elsewhere := booking.Actor{AccountID: booking.NewID(), Role: booking.RoleAdmin, HospitalID: booking.NewID()}
	if q, err := w.svc.CaseQueue(w.ctx, elsewhere, "", ""); err != nil || len(q) != 0 {
		t.Errorf("another hospital's queue = %d cases (%v), want none", len(q), err)
	}
	_, err = w.svc.Case(w.ctx, elsewhere, one.ID)
	wantErr(t, "another hospital's administrator reading the case", err, booking.ErrForbidden)
	_, err = w.svc.Case(w.ctx, w.person().actor, one.ID)
	wantErr(t, "another patient reading the case", err, booking.ErrCaseNotFound)
	_, err = w.svc.CaseQueue(w.ctx, w.staff(booking.RoleClerk), "", "")
	wantErr(t, "a clerk reading the queue", err, booking.ErrForbidden)
}

// An answer after the deadline is late, judged by the first answer (a
// second one replaces the text, not the time); the patient is told each
// answer and the closing; a closed case takes no answer.
func TestRuleCaseAnswers(t *testing.T) {
	w := newWorld(t, booking.DefaultPolicy, booking.Config{})
	p := w.person()
	c, err := w.file(p, booking.CaseComplaint, "booking", false, "预约后到医院被告知没有号")
	if err != nil {
		t.Fatalf("file: %v", err)
	}
	admin := w.staff(booking.RoleAdmin)
	w.clock.Set(c.DueAt.Add(time.Hour))
	if got, _ := w.svc.Case(w.ctx, p.actor, c.ID); !got.Overdue(w.clock.Now()) {
		t.Errorf("an unanswered case an hour past its deadline is not overdue")
	}
	// An answer of one character is too short, and the admin is told how
	// long it must be (it was "the answer is required").
	_, err = w.svc.AnswerCase(w.ctx, admin, c.ID, booking.CaseAnswer{Answer: " x "})
	wantErr(t, "a one-character answer", err, booking.ErrInvalidField)
	wantMessage(t, "a one-character answer", err, "the answer is too short (it has 1): write at least 2 characters")
	first := w.clock.Now()
	a, err := w.svc.AnswerCase(w.ctx, admin, c.ID, booking.CaseAnswer{Answer: "已核实，系统故障，已为您补号"})
	if err != nil || a.Status != booking.CaseAnswered || !a.AnsweredLate() || a.Overdue(first) {
		t.Fatalf("answer = %s, late %v (%v); want answered, late, no longer overdue", a.Status, a.AnsweredLate(), err)
	}
	w.clock.Advance(time.Hour)
	a, err = w.svc.AnswerCase(w.ctx, admin, c.ID, booking.CaseAnswer{Answer: "补充：已向窗口说明", Close: true})
	if err != nil || a.Status != booking.CaseClosed || !a.AnsweredAt.Equal(first) || a.Answer != "补充：已向窗口说明" {
		t.Fatalf("second answer = %s at %s, %q (%v); want closed, the first answer's time %s, the new text", a.Status, a.AnsweredAt, a.Answer, err, first)
	}
	_, err = w.svc.AnswerCase(w.ctx, admin, c.ID, booking.CaseAnswer{Answer: "再次答复"})
	wantErr(t, "answering a closed case", err, booking.ErrCaseClosed)
	_, err = w.svc.CloseCase(w.ctx, admin, c.ID, "重复")
	wantErr(t, "closing a closed case", err, booking.ErrCaseClosed)

	notes, unread, err := w.svc.MyNotifications(w.ctx, p.actor)
	if err != nil || len(notes) != 2 || unread != 2 {
		t.Fatalf("patient's notifications = %d, %d unread (%v); want the two answers, unread", len(notes), unread, err)
	}
	if !strings.Contains(notes[0].Body, "补充") || !strings.Contains(notes[1].Body, "您的投诉已有答复") {
		t.Errorf("notifications %q, %q; want the answers, newest first", notes[0].Body, notes[1].Body)
	}
	if n, err := w.svc.MarkNotificationsRead(w.ctx, p.actor); err != nil || n != 2 {
		t.Errorf("marked %d read (%v), want 2", n, err)
	}
	if _, unread, _ := w.svc.MyNotifications(w.ctx, p.actor); unread != 0 {
		t.Errorf("%d unread after marking them read, want 0", unread)
	}
}

// An account has at most ten cases waiting for a first answer; an answer
// frees a place. What is filed is checked: a complaint has a category, a
// report none; a few words at least.
func TestRuleCaseLimits(t *testing.T) {
	w := newWorld(t, booking.DefaultPolicy, booking.Config{})
	p := w.person()
	var first booking.Case
	for i := range 10 {
		c, err := w.file(p, booking.CaseReport, "", false, fmt.Sprintf("第%d次举报号贩子", i+1))
		if err != nil {
			t.Fatalf("report %d: %v", i+1, err)
		}
		if i == 0 {
			first = c
		}
	}
	_, err := w.file(p, booking.CaseReport, "", false, "第十一次举报号贩子")
	wantErr(t, "an eleventh open case", err, booking.ErrTooManyCases)
	if _, err := w.svc.AnswerCase(w.ctx, w.staff(booking.RoleAdmin), first.ID, booking.CaseAnswer{Answer: "已转公安"}); err != nil {
		t.Fatalf("answer: %v", err)
	}
	if _, err := w.file(p, booking.CaseReport, "", false, "第十一次举报号贩子"); err != nil {
		t.Errorf("after an answer: %v, want the case filed", err)
	}

	q := w.person()
	_, err = w.file(q, booking.CaseComplaint, "", false, "服务态度很差")
	wantErr(t, "a complaint without a category", err, booking.ErrInvalidField)
	_, err = w.file(q, booking.CaseReport, "fees", false, "有人倒卖号源")
	wantErr(t, "a report with a category", err, booking.ErrInvalidField)
	_, err = w.file(q, booking.CaseReport, "", false, "号贩子")
	wantErr(t, "three characters", err, booking.ErrInvalidField)
	_, err = w.svc.FileCase(w.ctx, w.staff(booking.RoleClerk), booking.CaseRequest{Kind: booking.CaseReport, HospitalID: w.hospital.ID, Text: "有人倒卖号源"}, booking.Origin{})
	wantErr(t, "a clerk filing a case", err, booking.ErrForbidden)
}
