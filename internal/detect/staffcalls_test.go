package detect

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// An operator's calls (staffcalls.go; review23 H1, H2, H3): each signal
// with its near miss, then the rule — none flags alone, two kinds do, and
// a genuine busy operator or a family's call flags nothing.

// call is a phone booking (or, with typ, a draw entry or waitlist place)
// staff member op made for person p in session s on a call from number ph.
func call(op, p, s, ph string, ts time.Time, typ booking.EventType) booking.Event {
	return booking.Event{TS: ts, Type: typ, StaffID: op, Channel: booking.ChannelPhone, Phone: "hash:" + ph,
		IdentityID: p, SessionID: s, BookingID: "b-" + op + "-" + p + "-" + s}
}

// busyOperator: a genuine operator's morning, 25 calls from 25 numbers,
// one every 8–10 minutes, plus a family ringing from one number for its
// 3 persons in one call, a minute apart.
func busyOperator(op string) []booking.Event {
	var evs []booking.Event
	off := 8 * time.Hour
	for i := range 25 {
		off += 8*time.Minute + time.Duration(i%3)*time.Minute
		evs = append(evs, call(op, fmt.Sprintf("caller%d", i), fmt.Sprintf("s%d", i%6), fmt.Sprintf("1390000%04d", i), at(off), booking.EventBooked))
	}
	for i := range 3 {
		evs = append(evs, call(op, fmt.Sprintf("family%d", i), "s1", "13911112222", at(9*time.Hour+time.Duration(i)*time.Minute), booking.EventBooked))
	}
	return evs
}

// oneNumber: op books n different persons from one number, every gap.
func oneNumber(op string, n int, gap time.Duration, typ booking.EventType) []booking.Event {
	var evs []booking.Event
	for i := range n {
		evs = append(evs, call(op, fmt.Sprintf("inv%d", i), fmt.Sprintf("s%d", i%12), "13600000001", at(8*time.Hour+time.Duration(i)*gap), typ))
	}
	return evs
}

// manyNumbers: op books n different persons from n numbers, every gap.
func manyNumbers(op string, n int, gap time.Duration) []booking.Event {
	var evs []booking.Event
	for i := range n {
		evs = append(evs, call(op, fmt.Sprintf("inv%d", i), fmt.Sprintf("s%d", i%12), fmt.Sprintf("1360000%04d", i), at(8*time.Hour+time.Duration(i)*gap), booking.EventBooked))
	}
	return evs
}

// unused: op books n persons by phone for sessions that are over, of whom
// came come; a walk-in checks in at each session, so the sessions are over
// and the stream has check-ins.
func unused(op string, n, came int) []booking.Event {
	var evs []booking.Event
	for i := range n {
		p, s := fmt.Sprintf("inv%d", i), fmt.Sprintf("past%d", i)
		evs = append(evs, call(op, p, s, fmt.Sprintf("1360000%04d", i), at(time.Duration(i)*day), booking.EventBooked),
			booking.Event{TS: at(time.Duration(i)*day + 26*time.Hour), Type: booking.EventCheckedIn, StaffID: "clerk", IdentityID: "walkin" + p, SessionID: s})
		if i < came {
			evs = append(evs, booking.Event{TS: at(time.Duration(i)*day + 26*time.Hour), Type: booking.EventCheckedIn, StaffID: "clerk",
				IdentityID: p, SessionID: s, BookingID: "b-" + op + "-" + p + "-" + s})
		}
	}
	return append(evs, booking.Event{TS: at(time.Duration(n)*day + 3*day), Type: booking.EventLogin, AccountID: "someone"})
}

// phoneHandOff: op books a placeholder by phone, puts a buyer on the
// waitlist by phone, cancels the placeholder after cancelAfter, and the
// waitlist hands the slot to the buyer (the promoted booking names the
// operator who made the place, taker) at the round's end, 10 minutes later.
func phoneHandOff(op, taker string, cancelAfter time.Duration) []booking.Event {
	ts := at(8 * time.Hour)
	c := call(op, "placeholder", "hot", "13600000001", ts.Add(cancelAfter), booking.EventCancelled)
	promoted := call(taker, "buyer", "hot", "13600000002", ts.Add(cancelAfter+10*time.Minute), booking.EventBooked)
	promoted.Reason, promoted.Phone = "waitlist", ""
	c.BookingID = "b-" + op + "-placeholder-hot"
	return []booking.Event{
		call(op, "placeholder", "hot", "13600000001", ts, booking.EventBooked),
		call(op, "buyer", "hot", "13600000002", ts.Add(time.Minute), booking.EventWaitlisted),
		c, promoted,
	}
}

func TestStaffCallSignals(t *testing.T) {
	checkSignals(t, []signalCase{
		{"caller_persons: 6 different persons from one number, 20 minutes apart", func() []booking.Event { return oneNumber("op", 6, 20*time.Minute, booking.EventBooked) }, "op", "caller_persons", true},
		{"caller_persons: 5 (a household: an account's limit) do not", func() []booking.Event { return oneNumber("op", 5, 20*time.Minute, booking.EventBooked) }, "op", "caller_persons", false},
		{"caller_persons: draw entries count as bookings do", func() []booking.Event { return oneNumber("op", 6, 20*time.Minute, booking.EventLotteryEntered) }, "op", "caller_persons", true},
		{"caller_persons: a busy operator's 25 numbers and a family of 3 do not", func() []booking.Event { return busyOperator("op") }, "op", "caller_persons", false},
		{"staff_pace: 12 different persons from 12 numbers within 5 minutes", func() []booking.Event { return manyNumbers("op", 12, 20*time.Second) }, "op", "staff_pace", true},
		{"staff_pace: 11 (two full households' calls and one more) do not", func() []booking.Event { return manyNumbers("op", 11, 20*time.Second) }, "op", "staff_pace", false},
		{"staff_pace: a busy operator's morning does not", func() []booking.Event { return busyOperator("op") }, "op", "staff_pace", false},
		{"staff_never_came: 6 persons booked by phone for sessions now over, none came", func() []booking.Event { return unused("op", 6, 0) }, "op", "staff_never_came", true},
		{"staff_never_came: 12 booked, 6 never came: half is enough", func() []booking.Event { return unused("op", 12, 6) }, "op", "staff_never_came", true},
		{"staff_never_came: 14 booked, 6 never came: most came", func() []booking.Event { return unused("op", 14, 8) }, "op", "staff_never_came", false},
		{"staff_never_came: 5 do not", func() []booking.Event { return unused("op", 5, 0) }, "op", "staff_never_came", false},
		{"staff_never_came: a stream with no check-in at all says nothing", func() []booking.Event { return withoutCheckIns(unused("op", 6, 0)) }, "op", "staff_never_came", false},
		{"staff_handoff: the operator's cancellation goes to its own waitlisted caller", func() []booking.Event { return phoneHandOff("op", "op", 2*time.Minute) }, "op", "staff_handoff", true},
		{"staff_handoff: another operator's place taking it is no hand-off of this one", func() []booking.Event { return phoneHandOff("op", "op2", 2*time.Minute) }, "op", "staff_handoff", false},
	})
}

// The rule over an operator: no kind alone flags; the review's insider,
// with two kinds, does, naming the persons.
func TestStaffCallsFlagByTheRule(t *testing.T) {
	t.Run("a busy operator and a family's call flag nobody", func(t *testing.T) {
		if got := flaggedAccounts(busyOperator("op")); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
	})
	t.Run("one number's 30 persons over a day, at a caller's pace, is one kind: not flagged", func(t *testing.T) {
		if got := flaggedAccounts(oneNumber("op", 30, 15*time.Minute, booking.EventBooked)); len(got) != 0 {
			t.Errorf("flagged %v, want nobody (scale alone)", got)
		}
	})
	t.Run("30 numbers' persons at script pace is one kind: not flagged", func(t *testing.T) {
		if got := flaggedAccounts(manyNumbers("op", 30, 3*time.Second)); len(got) != 0 {
			t.Errorf("flagged %v, want nobody (automation alone)", got)
		}
	})
	t.Run("one hand-off alone is not flagged", func(t *testing.T) {
		if got := flaggedAccounts(phoneHandOff("op", "op", 2*time.Minute)); len(got) != 0 {
			t.Errorf("flagged %v, want nobody (one weak transfer)", got)
		}
	})
	t.Run("H1: 48 invented persons from one number in 2½ minutes flag the operator", func(t *testing.T) {
		flags := Detect(append(oneNumber("op", 48, 3*time.Second, booking.EventBooked), busyOperator("op2")...), DefaultConfig())
		if len(flags) != 1 || !slices.Equal(flags[0].AccountIDs, []string{"op"}) {
			t.Fatalf("got %+v, want the operator alone", flags)
		}
		if n := len(flags[0].PatientIDs); n != 48 {
			t.Errorf("persons in the flag = %d, want the 48", n)
		}
		var signals []string
		for _, r := range flags[0].Reasons {
			signals = append(signals, r.Signal)
			if r.Signal == "caller_persons" && (!strings.Contains(r.Detail, "48 different persons on calls from one caller number") ||
				!strings.Contains(r.DetailZH, "同一来电号码的 48 个不同的人")) {
				t.Errorf("caller_persons reason %q / %q does not give the count", r.Detail, r.DetailZH)
			}
		}
		if !slices.Contains(signals, "caller_persons") || !slices.Contains(signals, "staff_pace") {
			t.Errorf("signals %v, want caller_persons and staff_pace", signals)
		}
	})
	t.Run("H3: 30 draw entries from one number in 69 s flag the operator", func(t *testing.T) {
		if got := flaggedAccounts(oneNumber("op", 30, 2300*time.Millisecond, booking.EventLotteryEntered)); !slices.Equal(got, []string{"op"}) {
			t.Errorf("flagged %v, want op", got)
		}
	})
	t.Run("H2 with H1: the hand-off is in the insider's flag", func(t *testing.T) {
		flags := Detect(append(oneNumber("op", 48, 3*time.Second, booking.EventBooked), phoneHandOff("op", "op", 2*time.Hour)...), DefaultConfig())
		if len(flags) != 1 || !slices.Contains(flags[0].PatientIDs, "buyer") {
			t.Fatalf("got %+v, want one flag naming the buyer", flags)
		}
		if !slices.ContainsFunc(flags[0].Reasons, func(r Reason) bool { return r.Signal == "staff_handoff" }) {
			t.Errorf("reasons %+v, want staff_handoff among them", flags[0].Reasons)
		}
	})
}

// Staff draw entries count toward insider's favours (review23 H3), once
// per draw: the winner's booking takes the entry's id and is not a second
// favour.
func TestInsiderCountsStaffEntries(t *testing.T) {
	entries := func(n int, won bool) []booking.Event {
		var evs []booking.Event
		for i := range 2 * n {
			ts := at(time.Duration(i)*2*day + time.Hour)
			e := booking.Event{TS: ts, Type: booking.EventLotteryEntered, StaffID: "op", Channel: booking.ChannelPhone,
				Phone: "hash:13911112222", IdentityID: fmt.Sprintf("fav%d", i%2), SessionID: fmt.Sprintf("draw%d", i), BookingID: fmt.Sprintf("e%d", i)}
			evs = append(evs, e)
			if won {
				w := e
				w.Type, w.TS, w.Reason = booking.EventBooked, ts.Add(10*time.Minute), "lottery"
				evs = append(evs, w)
			}
		}
		return evs
	}
	checkSignals(t, []signalCase{
		{"insider: one operator enters the same two persons in 6 draws each within 30 days", func() []booking.Event { return entries(6, false) }, "op", "insider", true},
		{"insider: 3 entries each, all won (3 entries and 3 bookings of the draw), are 3 favours each, not 6", func() []booking.Event { return entries(3, true) }, "op", "insider", false},
	})
}
