package booking

import (
	"strings"
	"testing"
	"time"
)

// TestNotificationTexts: every notification a booking event makes names the
// member it is about by their label (relationship, masked name, birth year;
// never the full name or ID number), so two members of one family booked in
// one draw read apart, and writes the period in Chinese in the Chinese
// sentence and in English in the English one. Before, both winners read
// "摇号中签，已为您预约：示范医院 … 2026-12-05 evening".
func TestNotificationTexts(t *testing.T) {
	cat := NewCatalog(Schedule{
		Hospitals:   []Hospital{{ID: "h", Name: "示范医院", TimeZone: "Asia/Shanghai"}},
		Departments: []Department{{ID: "d", HospitalID: "h", Name: "儿科"}},
		Doctors:     []Doctor{{ID: "doc", HospitalID: "h", DepartmentID: "d", Name: "李明"}},
		Sessions: []Session{{ID: "s", HospitalID: "h", DepartmentID: "d", DoctorID: "doc", VisitDate: "2026-12-05",
			Period: "evening"}},
	})
	child := Patient{ID: "p1", MaskedName: "王*", Relationship: RelChild, BirthYear: 2016}
	sibling := Patient{ID: "p2", MaskedName: "王*", Relationship: RelChild, BirthYear: 2018}
	if got, want := child.Label(), "子女 · 王* · 2016"; got != want {
		t.Fatalf("label = %q, want %q", got, want)
	}
	ev := func(typ EventType, reason, staff string) Event {
		return Event{ID: "e", TS: time.Now(), Type: typ, Reason: reason, StaffID: staff, AccountID: "a", PatientID: "p1",
			BookingID: "b", SessionID: "s", HospitalID: "h"}
	}
	tests := []struct {
		name   string
		ev     Event
		zh, en string
	}{
		{"lottery win", ev(EventBooked, "lottery", ""), "摇号中签，已为您预约：示范医院 儿科 李明 2026-12-05 晚间", "You won the draw and are booked: 示范医院 儿科 李明 2026-12-05 evening"},
		{"waitlist", ev(EventBooked, "waitlist", ""), "候补成功，已为您预约：示范医院 儿科 李明 2026-12-05 晚间", "Your waitlist place became a booking: 示范医院 儿科 李明 2026-12-05 evening"},
		{"booked", ev(EventBooked, "", ""), "预约成功：示范医院 儿科 李明 2026-12-05 晚间", "Booked: 示范医院 儿科 李明 2026-12-05 evening"},
		{"cancelled by staff", ev(EventCancelled, "", "staff"), "已为您取消预约（不计爽约）：示范医院 儿科 李明 2026-12-05 晚间", "Cancelled for you (not a no-show): 示范医院 儿科 李明 2026-12-05 evening"},
		{"cancelled late", ev(EventCancelled, "late", "staff"), "记爽约一次：示范医院 儿科 李明 2026-12-05 晚间", "one no-show recorded: 示范医院 儿科 李明 2026-12-05 evening"},
		{"cancelled after review", ev(EventCancelled, "flag_confirmed", "staff"), "经审核，您的预约已被取消：示范医院 儿科 李明 2026-12-05 晚间", "Cancelled after a review: 示范医院 儿科 李明 2026-12-05 evening"},
		{"substitute lapsed", ev(EventCancelled, "substitute_lapsed", ""), "（不计爽约）：示范医院 儿科 李明 2026-12-05 晚间", "not a no-show: 示范医院 儿科 李明 2026-12-05 evening"},
		{"substitute declined", ev(EventCancelled, "substitute_declined", ""), "您已放弃替诊", "You declined the substitute doctor"},
		// review23 M4: staff who answered for the patient are named, so an
		// answer the patient did not give is noticed.
		{"substitute declined by staff", ev(EventCancelled, "substitute_declined", "staff"), "医院工作人员（窗口或电话预约）已代为放弃替诊",
			"Hospital staff (the desk or the call centre) declined the substitute doctor for the patient"},
		{"name disproved", ev(EventCancelled, "name_disproved", "staff"), "所做的预约、摇号报名或候补已作废：示范医院 儿科 李明 2026-12-05 晚间", "you made for them under it is void: 示范医院 儿科 李明 2026-12-05 evening"},
		{"no-show", ev(EventNoShow, "", ""), "未按时就诊，已记爽约一次：示范医院 儿科 李明 2026-12-05 晚间", "one no-show recorded for 示范医院 儿科 李明 2026-12-05 evening"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := notificationOf(cat, tt.ev, child.Label())
			if !ok {
				t.Fatal("no notification")
			}
			zh, en, found := strings.Cut(n.Body, " Patient ")
			if !found {
				t.Fatalf("body %q has no English sentence naming the patient", n.Body)
			}
			if want := "就诊人 子女 · 王* · 2016："; !strings.HasPrefix(zh, want) || !strings.Contains(zh, tt.zh) {
				t.Errorf("Chinese sentence %q; want it to start %q and hold %q", zh, want, tt.zh)
			}
			if want := "子女 · 王* · 2016: "; !strings.HasPrefix(en, want) || !strings.Contains(en, tt.en) {
				t.Errorf("English sentence %q; want it to start %q and hold %q", en, want, tt.en)
			}
			for _, english := range []string{"morning", "afternoon", "evening"} {
				if strings.Contains(zh, english) {
					t.Errorf("Chinese sentence %q carries the period in English", zh)
				}
			}
			other, _ := notificationOf(cat, tt.ev, sibling.Label())
			if other.Body == n.Body {
				t.Errorf("two members' notifications read the same: %q", n.Body)
			}
		})
	}
	// Without a member (a person staff booked for, with no account's
	// list), the sentences stand alone.
	won := ev(EventBooked, "lottery", "")
	won.TS = time.Date(2026, 12, 4, 9, 0, 0, 0, chinaStandardTime)
	n, _ := notificationOf(cat, won, "")
	if want := "摇号中签，已为您预约：示范医院 儿科 李明 2026-12-05 晚间。12-04 15:00 前可免费取消，之后取消计爽约 " +
		"You won the draw and are booked: 示范医院 儿科 李明 2026-12-05 evening. Free to cancel until 12-04 15:00; later counts as a no-show"; n.Body != want {
		t.Errorf("body without a member = %q, want %q", n.Body, want)
	}
}

// TestAllottedNoticeSaysUntilWhenCancellingIsFree: the notice of a booking
// the service made (a lottery win, a waitlist promotion) says until when
// cancelling it is free — the later of the hospital's deadline (15:00 the
// day before) and AllottedGrace after it was made — so a winner drawn after
// the deadline is told of the time they have. Before, it said nothing, and
// the demo's winner drawn at 17:14 found only a late cancellation.
func TestAllottedNoticeSaysUntilWhenCancellingIsFree(t *testing.T) {
	cat := NewCatalog(Schedule{
		Hospitals:   []Hospital{{ID: "h", Name: "示范医院", TimeZone: "Asia/Shanghai", CancelDeadline: "15:00"}},
		Departments: []Department{{ID: "d", HospitalID: "h", Name: "儿科"}},
		Doctors:     []Doctor{{ID: "doc", HospitalID: "h", DepartmentID: "d", Name: "李明"}},
		Sessions: []Session{{ID: "s", HospitalID: "h", DepartmentID: "d", DoctorID: "doc", VisitDate: "2026-12-06",
			Period: "evening"}},
	})
	at := func(s string) time.Time {
		ts, err := time.ParseInLocation("2006-01-02 15:04", s, chinaStandardTime)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	tests := []struct {
		name, reason string
		ts           time.Time
		free         string
	}{
		{"drawn after the deadline", "lottery", at("2026-12-05 17:14"), "12-05 19:14"},
		{"drawn just before the deadline", "lottery", at("2026-12-05 14:59"), "12-05 16:59"},
		{"drawn days ahead", "lottery", at("2026-11-29 08:10"), "12-05 15:00"},
		{"promoted after the deadline", "waitlist", at("2026-12-05 22:30"), "12-06 00:30"},
		{"promoted two hours before the deadline", "waitlist", at("2026-12-05 13:00"), "12-05 15:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := notificationOf(cat, Event{ID: "e", TS: tt.ts, Type: EventBooked, Reason: tt.reason, AccountID: "a",
				BookingID: "b", SessionID: "s", HospitalID: "h"}, "")
			if !ok {
				t.Fatal("no notification")
			}
			zh, en := tt.free+" 前可免费取消", "Free to cancel until "+tt.free
			if !strings.Contains(n.Body, zh) || !strings.Contains(n.Body, en) {
				t.Errorf("notice %q; want it to say %q and %q", n.Body, zh, en)
			}
		})
	}
}
