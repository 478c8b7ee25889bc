package detect

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// The traces here are made by hand, small enough to read: each test names
// the events that should (or should just not) make a signal fire.

var (
	cst = time.FixedZone("CST", 8*3600)
	t0  = time.Date(2026, 11, 2, 8, 0, 0, 0, cst) // a release instant
)

func at(d time.Duration) time.Time { return t0.Add(d) }

const day = 24 * time.Hour

// book is a self-service booking of session s by account a for person p,
// made d after the release at t0+off.
func book(a, p, s string, off, d time.Duration) booking.Event {
	return booking.Event{TS: at(off + d), Type: booking.EventBooked, AccountID: a, PatientID: p, SessionID: s,
		Channel: booking.ChannelOnline, ReleaseAt: at(off), DeviceID: "dev-" + a, IP: "ip-" + a, BookingID: "b-" + a + p + s}
}

func cancel(a, p, s string, ts time.Time) booking.Event {
	return booking.Event{TS: ts, Type: booking.EventCancelled, AccountID: a, PatientID: p, SessionID: s,
		DeviceID: "dev-" + a, IP: "ip-" + a, BookingID: "b-" + a + p + s}
}

func checkIn(a, p, s string, ts time.Time) booking.Event {
	return booking.Event{TS: ts, Type: booking.EventCheckedIn, AccountID: a, PatientID: p, SessionID: s,
		StaffID: "desk", BookingID: "b-" + a + p + s}
}

func noShow(a, p, s string, ts time.Time) booking.Event {
	return booking.Event{TS: ts, Type: booking.EventNoShow, AccountID: a, PatientID: p, SessionID: s, BookingID: "b-" + a + p + s}
}

func refused(a, p, s string, ts time.Time, reason string) booking.Event {
	return booking.Event{TS: ts, Type: booking.EventRejected, AccountID: a, PatientID: p, SessionID: s,
		Channel: booking.ChannelOnline, Reason: reason, DeviceID: "dev-" + a, IP: "ip-" + a}
}

// background is ordinary traffic: accounts of one person booking plentiful
// sessions hours after release, so that sell-out times have something to
// compare with.
func background(n int) []booking.Event {
	var out []booking.Event
	for i := range n {
		a, s := fmt.Sprintf("bg%03d", i), fmt.Sprintf("plenty%02d", i%20)
		out = append(out, book(a, "p-"+a, s, 0, time.Duration(1+i%5)*time.Hour+time.Duration(i)*time.Second))
	}
	return out
}

// hot makes session s (released at t0+off) sell out within seconds: five
// strangers book it 1–5 s after release.
func hot(s string, off time.Duration) []booking.Event {
	var out []booking.Event
	for j := range 5 {
		out = append(out, book(fmt.Sprintf("h-%s-%d", s, j), "q", s, off, time.Duration(1+j)*time.Second))
	}
	return out
}

// fired runs the detector so that every signal makes a flag (a tiny
// threshold, one kind of evidence enough) and returns the signals that
// fired for the given account.
func fired(t *testing.T, events []booking.Event, acct string) []string {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Threshold, cfg.MinKinds = 0.001, 1
	var out []string
	for _, f := range Detect(events, cfg) {
		if acct != "" && !slices.Contains(f.AccountIDs, acct) {
			continue
		}
		for _, r := range f.Reasons {
			if !slices.Contains(out, r.Signal) && (r.Points > 0 || !strings.HasPrefix(r.Detail, "and ")) {
				out = append(out, r.Signal)
			}
		}
	}
	slices.Sort(out)
	return out
}

// flaggedAccounts runs the detector with the default configuration.
func flaggedAccounts(events []booking.Event) []string {
	var out []string
	for _, f := range Detect(events, DefaultConfig()) {
		out = append(out, f.AccountIDs...)
	}
	slices.Sort(out)
	return out
}

// signalCase is a trace that should (or should just not) fire a signal
// for an account.
type signalCase struct {
	name   string
	events func() []booking.Event
	acct   string
	signal string
	want   bool
}

// checkSignals runs each case as a subtest.
func checkSignals(t *testing.T, tests []signalCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fired(t, tt.events(), tt.acct)
			if has := slices.Contains(got, tt.signal); has != tt.want {
				t.Errorf("signal %s fired = %v, want %v (fired: %v)", tt.signal, has, tt.want, got)
			}
		})
	}
}

func TestSignals(t *testing.T) {
	checkSignals(t, []signalCase{
		// automation
		{"fast_reaction: two bookings 120 ms after release", func() []booking.Event {
			return []booking.Event{book("a1", "p1", "s1", 0, 120*time.Millisecond), book("a1", "p1", "s2", day, 90*time.Millisecond)}
		}, "a1", "fast_reaction", true},
		{"fast_reaction: bookings a lottery draw made are not the account's reactions", func() []booking.Event {
			// The draw books winners at once after the draw time, which may be
			// the pool's release time too; nobody raced.
			var evs []booking.Event
			for i := range 3 {
				b := book("a1", "p1", fmt.Sprintf("s%d", i), time.Duration(i)*day, 50*time.Millisecond)
				b.Reason, b.IP, b.DeviceID = "lottery", "", ""
				evs = append(evs, b)
			}
			return evs
		}, "a1", "fast_reaction", false},
		{"fast_reaction: 0.5 s is a quick person, not a bot", func() []booking.Event {
			return []booking.Event{book("a1", "p1", "s1", 0, 500*time.Millisecond), book("a1", "p1", "s2", day, 600*time.Millisecond)}
		}, "a1", "fast_reaction", false},
		{"cadence: ten attempts every 1.05 s, give or take 1%", func() []booking.Event {
			return cadence(func(i int) time.Duration { return 1050*time.Millisecond + time.Duration(i%3-1)*10*time.Millisecond })
		}, "a1", "cadence", true},
		{"cadence: ten attempts a person clicks, 0.8 to 2.5 s apart", func() []booking.Event {
			gaps := []time.Duration{800, 2100, 1300, 2500, 900, 1700, 1100, 2300, 1500}
			return cadence(func(i int) time.Duration { return gaps[i%len(gaps)] * time.Millisecond })
		}, "a1", "cadence", false},
		{"retry_storm: 16 tries at one sold-out session in a minute", func() []booking.Event { return storm(16, 1) }, "a1", "retry_storm", true},
		{"retry_storm: 14 do not", func() []booking.Event { return storm(14, 1) }, "a1", "retry_storm", false},
		{"retry_storm: a family trying for two members, 8 each, does not", func() []booking.Event { return storm(16, 2) }, "a1", "retry_storm", false},
		{"polling: 30 refusals within an hour", func() []booking.Event { return polling(30) }, "a1", "polling", true},
		{"polling: 29 do not", func() []booking.Event { return polling(29) }, "a1", "polling", false},
		{"burst: four bookings within 2 s", func() []booking.Event { return burst(4) }, "a1", "burst", true},
		{"burst: three (three tabs ready) do not", func() []booking.Event { return burst(3) }, "a1", "burst", false},
		{"rate_limited: 10 refusals", func() []booking.Event { return rateLimited(10) }, "a1", "rate_limited", true},
		{"rate_limited: 9 do not", func() []booking.Event { return rateLimited(9) }, "a1", "rate_limited", false},

		// scale
		{"persons_per_account: 6 patients in a month", func() []booking.Event { return persons(6) }, "a1", "persons_per_account", true},
		{"persons_per_account: a family of 5 does not", func() []booking.Event { return persons(5) }, "a1", "persons_per_account", false},
		{"persons_per_device: 16 patients on one handset of two accounts", func() []booking.Event { return onDevice(16) }, "a0", "persons_per_device", true},
		{"persons_per_device: 15 (three accounts of a family at most) do not", func() []booking.Event { return onDevice(15) }, "a0", "persons_per_device", false},
		{"persons_per_phone: one caller books 16 people by phone", func() []booking.Event { return byPhone(16) }, "a1", "persons_per_phone", true},
		{"persons_per_phone: 15 do not", func() []booking.Event { return byPhone(15) }, "a1", "persons_per_phone", false},
		{"accounts_per_device: four accounts on one handset", func() []booking.Event { return logins(4) }, "a0", "accounts_per_device", true},
		{"accounts_per_device: three do not", func() []booking.Event { return logins(3) }, "a0", "accounts_per_device", false},
		{"scarce_persons: 6 people booked into sessions that sell out at once", func() []booking.Event { return scarcePersons(6) }, "x", "scarce_persons", true},
		{"scarce_persons: 5 do not", func() []booking.Event { return scarcePersons(5) }, "x", "scarce_persons", false},
		{"scarce_persons: tries refused count too", func() []booking.Event { return scarceTries(6) }, "x", "scarce_persons", true},
		{"scarce_persons: a family of three accounts trying for 8 does not (9 for three)", func() []booking.Event { return familyTries(8) }, "f0", "scarce_persons", false},
		{"scarce_persons: … for 9 does", func() []booking.Event { return familyTries(9) }, "f0", "scarce_persons", true},
		{"scarce_won: 10 of the scarcest slots in a month", func() []booking.Event { return scarceWon(10) }, "x", "scarce_won", true},
		{"scarce_won: 9 do not", func() []booking.Event { return scarceWon(9) }, "x", "scarce_won", false},
		{"fresh_persons: 4 people added the night before their only booking", func() []booking.Event { return fresh(4, 20*time.Hour) }, "a1", "fresh_persons", true},
		{"fresh_persons: 3 do not", func() []booking.Event { return fresh(3, 20*time.Hour) }, "a1", "fresh_persons", false},
		{"fresh_persons: members added days before do not", func() []booking.Event { return fresh(4, 72*time.Hour) }, "a1", "fresh_persons", false},
		{"shared_persons: the same 3 IDs on two accounts", func() []booking.Event { return sharedIDs(3) }, "a1", "shared_persons", true},
		{"shared_persons: two parents sharing 2 children do not", func() []booking.Event { return sharedIDs(2) }, "a1", "shared_persons", false},
		{"persons_per_group: two linked accounts with 16 people", func() []booking.Event { return group(16) }, "a1", "persons_per_group", true},
		{"persons_per_group: 15 do not", func() []booking.Event { return group(15) }, "a1", "persons_per_group", false},
		{"booking_volume: 25 bookings in a month", func() []booking.Event { return volume(25) }, "a1", "booking_volume", true},
		{"booking_volume: 24 do not", func() []booking.Event { return volume(24) }, "a1", "booking_volume", false},
		{"held_at_once: 12 bookings held together", func() []booking.Event { return held(12) }, "a1", "held_at_once", true},
		{"held_at_once: 11 do not", func() []booking.Event { return held(11) }, "a1", "held_at_once", false},
		{"unused_slots: 12 slots taken and not used in a month", func() []booking.Event { return outcomes(12, 0, 0) }, "a1", "unused_slots", true},
		{"unused_slots: 11 (a family of five gives back ten at most) do not", func() []booking.Event { return outcomes(11, 0, 0) }, "a1", "unused_slots", false},
		{"unused_slots: slots used do not count", func() []booking.Event { return outcomes(6, 5, 20) }, "a1", "unused_slots", false},
		{"unused_slots: 12 given back over two months, 6 a month, do not", func() []booking.Event { return givenBack("a1", 12, 0, 5*day) }, "a1", "unused_slots", false},

		// targeting
		{"before_opening: 16 clicks within 8 s before release, for two people", func() []booking.Event { return clicksBeforeOpening(8, 8, 500*time.Millisecond, -10*time.Second) }, "x", "before_opening", true},
		{"before_opening: a family clicking 4 times for each of two people before release", func() []booking.Event { return clicksBeforeOpening(4, 4, 2*time.Second, -10*time.Second) }, "x", "before_opening", false},
		{"before_opening: 16 tries after the session sold out are retry_storm's, not this", func() []booking.Event { return clicksBeforeOpening(8, 8, 500*time.Millisecond, 30*time.Second) }, "x", "before_opening", false},
		{"before_opening: a stream naming no release time says nothing", func() []booking.Event {
			return noRelease(clicksBeforeOpening(8, 8, 500*time.Millisecond, -10*time.Second))
		}, "x", "before_opening", false},
		{"scarce_for_many: an account of 8 people trying 5 sessions that sell out at once, of 7 it tried", func() []booking.Event { return manyAtScarce("x", 8, 5, 2) }, "x", "scarce_for_many", true},
		{"scarce_for_many: a carer's 12 residents at 3 such sessions of the 12 it tried (ordinary doctors for most)", func() []booking.Event { return manyAtScarce("x", 12, 3, 9) }, "x", "scarce_for_many", false},
		{"scarce_for_many: 5 such sessions of 12 tried is under half", func() []booking.Event { return manyAtScarce("x", 12, 5, 7) }, "x", "scarce_for_many", false},
		{"scarce_for_many: a family of 5 at 7 such sessions is not many people", func() []booking.Event { return manyAtScarce("x", 5, 7, 0) }, "x", "scarce_for_many", false},
		{"scarce_for_many: two accounts on one handset, 18 people, 6 such sessions of 8", func() []booking.Event { return manyAtScarceGroup(18, 6, 2) }, "g0", "scarce_for_many", true},
		{"scarce_for_many: … 14 people on the two is a family's three accounts", func() []booking.Event { return manyAtScarceGroup(14, 6, 2) }, "g0", "scarce_for_many", false},
		{"scarce_concentration: raced for 4 sessions that sell out at once", func() []booking.Event { return raced(4, 0) }, "x", "scarce_concentration", true},
		{"scarce_concentration: 3 do not", func() []booking.Event { return raced(3, 0) }, "x", "scarce_concentration", false},
		{"scarce_concentration: 4 of 10 races is under half", func() []booking.Event { return raced(4, 6) }, "x", "scarce_concentration", false},
		{"scarce_concentration: a stream naming no release time still shows the race", func() []booking.Event { return noRelease(raced(6, 0)) }, "x", "scarce_concentration", true},
		{"fast_reaction: … but never a reaction time", func() []booking.Event { return noRelease(raced(6, 0)) }, "", "fast_reaction", false},
		{"release_racing: raced at the release minute for 5 sessions", func() []booking.Event { return raced(0, 5) }, "x", "release_racing", true},
		{"release_racing: 4 do not", func() []booking.Event { return raced(0, 4) }, "x", "release_racing", false},
		{"same_expert: 6 sessions of one sought-after doctor", func() []booking.Event { return sameExpert(6) }, "x", "same_expert", true},
		{"same_expert: 5 (a weekly patient) do not", func() []booking.Event { return sameExpert(5) }, "x", "same_expert", false},
		{"phantom_patients: 3 people raced for at release over 16 days, never came", func() []booking.Event { return phantomRaces(3, 8*day, false) }, "x", "phantom_patients", true},
		{"phantom_patients: … within 10 days is a trip's fortnight", func() []booking.Event { return phantomRaces(3, 5*day, false) }, "x", "phantom_patients", false},
		{"phantom_patients: one of four came once, elsewhere: the other three still count", func() []booking.Event { return phantomRaces(4, 8*day, true) }, "x", "phantom_patients", true},
		{"phantom_patients: 2 people (a family's two who needed the experts) do not", func() []booking.Event { return phantomRaces(2, 16*day, false) }, "x", "phantom_patients", false},
		{"phantom_patients: 3 people, one of whom came, do not", func() []booking.Event { return phantomRaces(3, 16*day, true) }, "x", "phantom_patients", false},
		{"phantom_patients: a stream with no check-in at all says nothing", func() []booking.Event { return withoutCheckIns(phantomRaces(3, 8*day, false)) }, "x", "phantom_patients", false},
		{"phantom_races: 3 of the scarcest sessions raced for 2 names over 16 days, never seen", func() []booking.Event { return thinRaces(2, 3, 8*day) }, "x", "phantom_races", true},
		{"phantom_races: … for 1 name is one patient's bad month", func() []booking.Event { return thinRaces(1, 3, 8*day) }, "x", "phantom_races", false},
		{"phantom_races: … within 10 days is a trip's fortnight", func() []booking.Event { return thinRaces(2, 3, 5*day) }, "x", "phantom_races", false},
		{"phantom_races: 2 races over 16 days (a family's two who needed the experts) do not", func() []booking.Event { return thinRaces(2, 2, 16*day) }, "x", "phantom_races", false},
		{"phantom_races: a stream with no check-in at all says nothing", func() []booking.Event { return withoutCheckIns(thinRaces(2, 3, 8*day)) }, "x", "phantom_races", false},

		// non-use
		{"never_seen: 3 settled bookings for 2 people, none used, nobody ever came", func() []booking.Event { return notSeen(2, 3, false) }, "x", "never_seen", true},
		{"never_seen: … one of them came once, on another account", func() []booking.Event { return notSeen(2, 3, true) }, "x", "never_seen", false},
		{"never_seen: … all for 1 person is one patient's bad month", func() []booking.Event { return notSeen(1, 3, false) }, "x", "never_seen", false},
		{"never_seen: 2 bookings do not", func() []booking.Event { return notSeen(2, 2, false) }, "x", "never_seen", false},
		{"never_seen: a stream with no check-in at all says nothing", func() []booking.Event { return withoutCheckIns(notSeen(2, 3, false)) }, "x", "never_seen", false},
		{"unused_scarce: 5 of 5 scarcest slots not used", func() []booking.Event { return unusedScarce(5, 5) }, "x", "unused_scarce", true},
		{"unused_scarce: 4 of 4 can be bad luck among thousands of families", func() []booking.Event { return unusedScarce(4, 4) }, "x", "unused_scarce", false},
		{"wasted: 5 of 5 cancelled or missed", func() []booking.Event { return outcomes(5, 0, 0) }, "a1", "wasted", true},
		{"wasted: 5 of 10 is not surprising", func() []booking.Event { return outcomes(5, 0, 5) }, "a1", "wasted", false},
		{"no_shows: 6 of 10", func() []booking.Event { return outcomes(0, 6, 4) }, "a1", "no_shows", true},
		{"no_shows: 5 of 40 is an ordinary rate", func() []booking.Event { return outcomes(0, 5, 35) }, "a1", "no_shows", false},
		{"no_shows: a booking whose session is over and never used lapsed", func() []booking.Event { return lapsed(6) }, "a1", "no_shows", true},
		{"wasted: cancellations of sessions still to come settle nothing yet", func() []booking.Event { return upcoming(6) }, "a1", "wasted", false},
		{"never_came: 3 people booked twice, never come", func() []booking.Event { return neverCame(3) }, "a1", "never_came", true},
		{"never_came: 2 do not", func() []booking.Event { return neverCame(2) }, "a1", "never_came", false},
		{"bulk_cancel: 4 within an hour", func() []booking.Event { return cancels(4, 10*time.Minute) }, "a1", "bulk_cancel", true},
		{"bulk_cancel: 3 do not", func() []booking.Event { return cancels(3, 10*time.Minute) }, "a1", "bulk_cancel", false},
		{"bulk_cancel: 4 spread over a day do not", func() []booking.Event { return cancels(4, 5*time.Hour) }, "a1", "bulk_cancel", false},

		// transfer
		{"handoff_given: two scarce slots cancelled and rebooked by others within seconds", func() []booking.Event {
			return given(5*time.Second, 2*day, false)
		}, "a1", "handoff_given", true},
		{"handoff_given: rebooked 61 s later is not one", func() []booking.Event { return given(61*time.Second, 2*day, false) }, "a1", "handoff_given", false},
		{"handoff_given: a correction right after booking is not one", func() []booking.Event {
			return given(5*time.Second, 2*time.Minute, false)
		}, "a1", "handoff_given", false},
		{"handoff_given: the waitlist handing the slot over is not one", func() []booking.Event {
			return given(5*time.Second, 2*day, true)
		}, "a1", "handoff_given", false},
		{"returns_taken: a watcher takes the returns of 3 accounts", func() []booking.Event { return watcher(3) }, "w", "returns_taken", true},
		{"returns_taken: 2 do not", func() []booking.Event { return watcher(2) }, "w", "returns_taken", false},
		{"handoff_pair: the same two accounts twice, for buyers put on the receiver", func() []booking.Event { return pair(true) }, "a2", "handoff_pair", true},
		{"handoff_pair: a family that bought twice from one seller is not the seller's accomplice", func() []booking.Event { return pair(false) }, "a2", "handoff_pair", false},
		{"handoff_pair: … the seller's side still fires", func() []booking.Event { return pair(false) }, "a1", "handoff_pair", true},
		{"handoff_linked: a slot taken from an account on the same handset for a person put on the taker for it", func() []booking.Event {
			return linked(true, true)
		}, "a2", "handoff_linked", true},
		{"handoff_linked: a family on one tablet passing a slot to a member it already had is not one", func() []booking.Event {
			return linked(true, false)
		}, "a2", "handoff_linked", false},
		{"handoff_linked: a buyer booking a seller's slot from a handset of their own is not one", func() []booking.Event {
			return linked(false, true)
		}, "a2", "handoff_linked", false},

		{"strangers_came: two people not on the account came for two of its bookings", func() []booking.Event {
			return deskVisits([]string{"buyer1", "buyer2"}, false)
		}, "x", "strangers_came", true},
		{"strangers_came: one stranger (a friend given a slot) does not", func() []booking.Event {
			return deskVisits([]string{"friend"}, false)
		}, "x", "strangers_came", false},
		{"strangers_came: one confused stranger turned away at three bookings is one", func() []booking.Event {
			return deskVisits([]string{"friend", "friend", "friend"}, false)
		}, "x", "strangers_came", false},
		{"strangers_came: family members picked by mistake are on the account", func() []booking.Event {
			return deskVisits([]string{"xp1", "xp2", "xp0"}, true)
		}, "x", "strangers_came", false},
		{"strangers_came: one stranger and one scarce slot handed off at the second are two slots passed on", func() []booking.Event {
			return append(deskVisits([]string{"buyer1"}, false), handedOff("x", true, 5*time.Second)...)
		}, "x", "strangers_came", true},
		{"strangers_came: … an ordinary slot somebody took within a minute counts half", func() []booking.Event {
			return append(deskVisits([]string{"buyer1"}, false), handedOff("x", false, 5*time.Second)...)
		}, "x", "strangers_came", false},
		{"strangers_came: … a slot a return watcher took says nothing against the canceller", func() []booking.Event {
			evs := append(deskVisits([]string{"friend"}, false), watcher(3)...)
			return append(evs, handedOff("x", true, 0)...) // w, watching, takes x's slot too
		}, "x", "strangers_came", false},
		{"strangers_came: a refused check-in that does not say who came says nothing", func() []booking.Event {
			evs := deskVisits([]string{"buyer1", "buyer2", "buyer3"}, false)
			for i := range evs {
				evs[i].PresentedIdentityID, evs[i].PresentedOnAccount = "", nil
			}
			return evs
		}, "x", "strangers_came", false},
		{"unseen_passed_on: one scarce slot of an account nobody on which ever came, taken by another at the second", func() []booking.Event {
			return passedOn(true, false, false)
		}, "x", "unseen_passed_on", true},
		{"unseen_passed_on: … its patient came once, on another account", func() []booking.Event { return passedOn(true, true, false) }, "x", "unseen_passed_on", false},
		{"unseen_passed_on: … an ordinary slot somebody took within a minute counts half", func() []booking.Event {
			return passedOn(false, false, false)
		}, "x", "unseen_passed_on", false},
		{"unseen_passed_on: … one of two cancelled in one sitting (a trip) was taken by chance", func() []booking.Event {
			return passedOn(true, false, true)
		}, "x", "unseen_passed_on", false},
		{"unseen_passed_on: … a slot a return watcher took says nothing against the canceller", func() []booking.Event {
			evs := append(append(background(100), visited("plain-seen", 0)...), watcher(3)...)
			return append(evs, handedOff("x", true, 0)...) // w, watching, takes x's slot too
		}, "x", "unseen_passed_on", false},
		{"unseen_passed_on: one stranger came to the desk with a booking of an account nobody on which ever came", func() []booking.Event {
			return deskVisits([]string{"buyer1"}, false)
		}, "x", "unseen_passed_on", true},
		{"unseen_passed_on: … its patient came once, on another account (a friend given a slot)", func() []booking.Event {
			return append(deskVisits([]string{"friend"}, false), book("kin", "xp0", "elsewhere", 0, 5*time.Hour),
				checkIn("kin", "xp0", "elsewhere", at(7*day)))
		}, "x", "unseen_passed_on", false},
		{"unseen_passed_on: a stream with no check-in at all says nothing", func() []booking.Event {
			return withoutCheckIns(passedOn(true, false, false))
		}, "x", "unseen_passed_on", false},
		{"unseen_passed_on: one scarce slot of an account nobody ever came through, whose two people came only with bookings of accounts of their own (somebody else's patients)", func() []booking.Event {
			return othersCame(false)
		}, "x", "unseen_passed_on", true},
		{"unseen_passed_on: … not when those accounts are on its own handset (a household's people, coming through its other account)", func() []booking.Event {
			return othersCame(true)
		}, "x", "unseen_passed_on", false},

		// evasion
		{"device_churn: five handsets in a month", func() []booking.Event { return devices(5) }, "a1", "device_churn", true},
		{"device_churn: four do not", func() []booking.Event { return devices(4) }, "a1", "device_churn", false},

		// insider
		{"insider: a clerk reissues to the same two people", func() []booking.Event { return insider(true) }, "clerk", "insider", true},
		{"insider: a clerk with walk-ins for many people does not", func() []booking.Event { return insider(false) }, "clerk", "insider", false},
		{"insider: a referrer booking the same residents weekly does not", func() []booking.Event { return referrer() }, "ref", "insider", false},
		{"insider: a clerk gives one person 6 returned or extra slots within 30 days", func() []booking.Event { return insiderOne(6) }, "clerk", "insider", true},
		{"insider: … 5 (a regular waiting at the desk for returns, weekly at most) do not", func() []booking.Event { return insiderOne(5) }, "clerk", "insider", false},
	})
}

// cadence: account a1 tries a sold-out session ten times, gap(i) apart.
func cadence(gap func(int) time.Duration) []booking.Event {
	var evs []booking.Event
	ts := at(time.Hour)
	for i := range 10 {
		evs = append(evs, refused("a1", "p1", fmt.Sprintf("s%d", i%2), ts, "sold_out"))
		ts = ts.Add(gap(i))
	}
	return evs
}

// storm: n tries at one session within a minute, spread over persons.
func storm(n, persons int) []booking.Event {
	var evs []booking.Event
	for i := range n {
		evs = append(evs, refused("a1", fmt.Sprintf("p%d", i%persons), "s1", at(time.Duration(i)*3*time.Second), "sold_out"))
	}
	return evs
}

// polling: n refusals spread over 50 minutes, at human-looking gaps.
func polling(n int) []booking.Event {
	var evs []booking.Event
	for i := range n {
		evs = append(evs, refused("a1", "p1", fmt.Sprintf("s%d", i%3), at(time.Duration(i)*50*time.Minute/time.Duration(n)+time.Duration(i%4)*7*time.Second), "sold_out"))
	}
	return evs
}

func burst(n int) []booking.Event {
	var evs []booking.Event
	for i := range n {
		evs = append(evs, book("a1", fmt.Sprintf("p%d", i), fmt.Sprintf("s%d", i), 0, time.Hour+time.Duration(i)*400*time.Millisecond))
	}
	return evs
}

func rateLimited(n int) []booking.Event {
	var evs []booking.Event
	for i := range n {
		evs = append(evs, booking.Event{TS: at(time.Duration(i) * 100 * time.Millisecond), Type: booking.EventRateLimited, AccountID: "a1"})
	}
	return evs
}

// persons: n people booked by one account within a month.
func persons(n int) []booking.Event {
	var evs []booking.Event
	for i := range 10 {
		evs = append(evs, book("a1", fmt.Sprintf("p%d", i%n), fmt.Sprintf("s%d", i), time.Duration(i)*day/2, time.Hour))
	}
	return evs
}

// onDevice: n people booked from one handset by two accounts.
func onDevice(n int) []booking.Event {
	var evs []booking.Event
	for i := range n {
		e := book(fmt.Sprintf("a%d", i%2), fmt.Sprintf("p%d", i), fmt.Sprintf("s%d", i), time.Duration(i)*day/4, time.Hour)
		e.DeviceID = "shared"
		evs = append(evs, e)
	}
	return evs
}

func byPhone(n int) []booking.Event {
	evs := []booking.Event{{TS: at(-day), Type: booking.EventAccountCreated, AccountID: "a1", Phone: "hash:1"}}
	for i := range n {
		evs = append(evs, booking.Event{TS: at(time.Duration(i) * time.Hour), Type: booking.EventBooked, StaffID: "op1",
			Channel: booking.ChannelPhone, Phone: "hash:1", IdentityID: fmt.Sprintf("id%d", i), SessionID: fmt.Sprintf("s%d", i)})
	}
	return evs
}

func logins(n int) []booking.Event {
	var evs []booking.Event
	for i := range n {
		evs = append(evs, booking.Event{TS: at(time.Duration(i) * time.Minute), Type: booking.EventLogin,
			AccountID: fmt.Sprintf("a%d", i), DeviceID: "handset"})
	}
	return evs
}

// scarcePersons: x books n different people into hot sessions, late
// enough not to count as races.
func scarcePersons(n int) []booking.Event {
	evs := background(100)
	for i := range n {
		s := fmt.Sprintf("hot%d", i)
		evs = append(evs, hot(s, time.Duration(i)*day)...)
		evs = append(evs, book("x", fmt.Sprintf("px%d", i), s, time.Duration(i)*day, 20*time.Second))
	}
	return evs
}

// scarceTries: x tries hot sessions for n different people, refused.
func scarceTries(n int) []booking.Event {
	evs := background(100)
	for i := range n {
		s := fmt.Sprintf("hot%d", i)
		evs = append(evs, hot(s, time.Duration(i)*day)...)
		evs = append(evs, refused("x", fmt.Sprintf("px%d", i), s, at(time.Duration(i)*day+30*time.Second), "sold_out"))
	}
	return evs
}

// familyTries: three accounts on one tablet try hot sessions for n of
// their people.
func familyTries(n int) []booking.Event {
	evs := background(100)
	for i := range n {
		s, a := fmt.Sprintf("hot%d", i), fmt.Sprintf("f%d", i%3)
		evs = append(evs, hot(s, time.Duration(i)*day)...)
		r := refused(a, fmt.Sprintf("p%d", i), s, at(time.Duration(i)*day+30*time.Second), "sold_out")
		r.DeviceID = "family-tablet"
		evs = append(evs, r)
	}
	return evs
}

// scarceWon: x wins n hot sessions for one person.
func scarceWon(n int) []booking.Event {
	evs := background(100)
	for i := range n {
		s := fmt.Sprintf("hot%d", i)
		evs = append(evs, hot(s, time.Duration(i)*2*day)...)
		evs = append(evs, book("x", "px", s, time.Duration(i)*2*day, 3*time.Second))
	}
	return evs
}

// fresh: n people added lead before their one booking each; a family's
// two members added a month ago are booked too.
func fresh(n int, lead time.Duration) []booking.Event {
	var evs []booking.Event
	for _, m := range []string{"mum", "dad"} {
		evs = append(evs, booking.Event{TS: at(-30 * day), Type: booking.EventPatientAdded, AccountID: "a1", PatientID: m})
		evs = append(evs, book("a1", m, "s-"+m, 0, 2*time.Hour))
	}
	for i := range n {
		p, off := fmt.Sprintf("buyer%d", i), time.Duration(i+1)*3*day
		evs = append(evs, booking.Event{TS: at(off - lead), Type: booking.EventPatientAdded, AccountID: "a1", PatientID: p})
		evs = append(evs, book("a1", p, fmt.Sprintf("s%d", i), off, 2*time.Second))
	}
	return evs
}

func sharedIDs(n int) []booking.Event {
	var evs []booking.Event
	for i := range n {
		for _, a := range []string{"a1", "a2"} {
			evs = append(evs, booking.Event{TS: at(time.Duration(i) * time.Hour), Type: booking.EventPatientAdded,
				AccountID: a, PatientID: a + fmt.Sprint(i), IdentityID: fmt.Sprintf("id%d", i)})
		}
	}
	return evs
}

// group: two accounts sharing two IDs (a link), with n people between them.
func group(n int) []booking.Event {
	evs := sharedIDs(2)
	for i := 2; i < n; i++ {
		a := []string{"a1", "a2"}[i%2]
		evs = append(evs, booking.Event{TS: at(time.Duration(i) * time.Hour), Type: booking.EventPatientAdded,
			AccountID: a, PatientID: a + fmt.Sprint(i), IdentityID: fmt.Sprintf("id%d", i)})
	}
	return evs
}

func volume(n int) []booking.Event {
	var evs []booking.Event
	for i := range n {
		s := fmt.Sprintf("s%d", i)
		evs = append(evs, book("a1", fmt.Sprintf("p%d", i%3), s, time.Duration(i)*26*time.Hour, 3*time.Hour),
			checkIn("a1", fmt.Sprintf("p%d", i%3), s, at(time.Duration(i)*26*time.Hour+5*time.Hour)))
	}
	return evs
}

// held: n bookings made one after another, all used a week later.
func held(n int) []booking.Event {
	var evs []booking.Event
	for i := range n {
		s := fmt.Sprintf("s%d", i)
		evs = append(evs, book("a1", fmt.Sprintf("p%d", i%3), s, time.Duration(i)*time.Hour, time.Minute),
			checkIn("a1", fmt.Sprintf("p%d", i%3), s, at(7*day+time.Duration(i)*time.Hour)))
	}
	return evs
}

// raced: x races at release for nHot sessions that sell out at once and
// nPlain sessions nobody else wants.
func raced(nHot, nPlain int) []booking.Event {
	evs := background(100)
	for i := range nHot {
		s, off := fmt.Sprintf("hot%d", i), time.Duration(i)*day
		evs = append(evs, hot(s, off)...)
		evs = append(evs, refused("x", "px", s, at(off+6*time.Second), "sold_out"))
	}
	for i := range nPlain {
		evs = append(evs, book("x", "px", fmt.Sprintf("plain%d", i), time.Duration(i)*day+12*time.Hour, 3*time.Second))
	}
	return evs
}

// clicksBeforeOpening: x tries hot session s0 for px1 n1 times and for px2
// n2 times, every gap, starting from at(from) (before the release at t0 if
// from is negative), all refused.
func clicksBeforeOpening(n1, n2 int, gap, from time.Duration) []booking.Event {
	evs := append(background(100), hot("s0", 0)...)
	t := from
	for i := range n1 + n2 {
		p, reason := "px1", "not_released"
		if i%2 == 1 && n2 > i/2 || i/2 >= n1 {
			p = "px2"
		}
		if t >= 0 {
			reason = "sold_out"
		}
		e := refused("x", p, "s0", at(t), reason)
		e.ReleaseAt = t0
		evs = append(evs, e)
		t += gap
	}
	return evs
}

// manyAtScarce: account a names n people; it tries nHot sessions that
// sell out at once (refused, hours later) and books nPlain plentiful ones,
// each for another of its people, who come.
func manyAtScarce(a string, n, nHot, nPlain int) []booking.Event {
	evs := background(100)
	for i := range n {
		evs = append(evs, booking.Event{TS: at(-day + time.Duration(i)*time.Minute), Type: booking.EventPatientAdded,
			AccountID: a, PatientID: fmt.Sprintf("px%d", i), DeviceID: "dev-" + a, IP: "ip-" + a})
	}
	for i := range nHot {
		s, off := fmt.Sprintf("hot%d", i), time.Duration(i)*day
		evs = append(evs, hot(s, off)...)
		evs = append(evs, refused(a, fmt.Sprintf("px%d", i%n), s, at(off+4*time.Hour), "sold_out"))
	}
	for i := range nPlain {
		s, p := fmt.Sprintf("plenty%02d", i%20), fmt.Sprintf("px%d", (nHot+i)%n)
		evs = append(evs, book(a, p, s, time.Duration(i)*day, 3*time.Hour), checkIn(a, p, s, at(time.Duration(i)*day+7*day)))
	}
	return evs
}

// manyAtScarceGroup: two accounts on one handset share n people between
// them (each on one of the two) and try nHot sold-out sessions and nPlain
// plentiful ones.
func manyAtScarceGroup(n, nHot, nPlain int) []booking.Event {
	evs := manyAtScarce("g0", n/2, nHot/2, nPlain/2)
	for _, e := range manyAtScarce("g1", n-n/2, nHot-nHot/2, nPlain-nPlain/2) {
		if e.AccountID != "g1" {
			continue // the background and hot sessions once
		}
		if e.PatientID != "" {
			e.PatientID = "g1-" + e.PatientID
		}
		if e.Type == booking.EventRejected {
			e.SessionID = "g1-" + e.SessionID
		}
		evs = append(evs, e)
	}
	for i := range nHot - nHot/2 {
		evs = append(evs, hot(fmt.Sprintf("g1-hot%d", i), time.Duration(i)*day+12*time.Hour)...)
	}
	for i := range evs {
		if evs[i].AccountID == "g0" || evs[i].AccountID == "g1" {
			evs[i].DeviceID = "farm-phone"
		}
	}
	return evs
}

// noRelease strips the release times off events, as a stream that never
// names them.
func noRelease(evs []booking.Event) []booking.Event {
	for i := range evs {
		evs[i].ReleaseAt = time.Time{}
	}
	return evs
}

// sameExpert: x wins n hot sessions of doctor "famous".
func sameExpert(n int) []booking.Event {
	evs := background(100)
	for i := range n {
		s, off := fmt.Sprintf("hot%d", i), time.Duration(i)*4*day
		evs = append(evs, hot(s, off)...)
		e := book("x", "px", s, off, 3*time.Second)
		e.DoctorID = "famous"
		evs = append(evs, e)
	}
	return evs
}

// phantomRaces: x races at the release of n hot sessions, `every` apart,
// for a different person each time, wins, and cancels the next day; others
// come to those sessions. With came, the first person checks in once, at
// another session booked by another account.
func phantomRaces(n int, every time.Duration, came bool) []booking.Event {
	evs := background(100)
	for i := range n {
		s, off, p := fmt.Sprintf("hot%d", i), time.Duration(i)*every, fmt.Sprintf("name%d", i)
		evs = append(evs, hot(s, off)...)
		evs = append(evs, checkIn(fmt.Sprintf("h-%s-0", s), "q", s, at(off+7*day)),
			book("x", p, s, off, 3*time.Second), cancel("x", p, s, at(off+day)))
	}
	if came {
		evs = append(evs, book("kin", "name0", "plenty00", 0, 5*time.Hour), checkIn("kin", "name0", "plenty00", at(7*day)))
	}
	return append(evs, booking.Event{TS: at(time.Duration(n)*every + 10*day), Type: booking.EventLogin, AccountID: "other"})
}

// thinRaces: x races at the release of n hot sessions, `every` apart, for
// names people in turn (name0, name1, …), wins, and cancels the next day;
// others come to those sessions. A thin fake-ID account: few names, few
// races, nothing used.
func thinRaces(names, n int, every time.Duration) []booking.Event {
	evs := background(100)
	for i := range n {
		s, off, p := fmt.Sprintf("hot%d", i), time.Duration(i)*every, fmt.Sprintf("name%d", i%names)
		evs = append(evs, hot(s, off)...)
		evs = append(evs, checkIn(fmt.Sprintf("h-%s-0", s), "q", s, at(off+7*day)),
			book("x", p, s, off, 3*time.Second), cancel("x", p, s, at(off+day)))
	}
	return append(evs, booking.Event{TS: at(time.Duration(n)*every + 10*day), Type: booking.EventLogin, AccountID: "x"})
}

// notSeen: x books n ordinary sessions two days apart for names people in
// turn and uses none (cancels them); others come to those sessions. With
// came, name0 checks in once at a session another account booked.
func notSeen(names, n int, came bool) []booking.Event {
	var evs []booking.Event
	for i := range n {
		s, off, p := fmt.Sprintf("plain%d", i), time.Duration(i)*2*day, fmt.Sprintf("name%d", i%names)
		evs = append(evs, visited(s, off)...)
		evs = append(evs, book("x", p, s, off, 5*time.Hour), cancel("x", p, s, at(off+day)))
	}
	if came {
		evs = append(evs, book("kin", "name0", "elsewhere", 0, 5*time.Hour), checkIn("kin", "name0", "elsewhere", at(7*day)))
	}
	return append(evs, booking.Event{TS: at(time.Duration(n)*2*day + 10*day), Type: booking.EventLogin, AccountID: "other"})
}

func withoutCheckIns(evs []booking.Event) []booking.Event {
	return slices.DeleteFunc(evs, func(e booking.Event) bool { return e.Type == booking.EventCheckedIn })
}

// unusedScarce: x wins n hot sessions and lets wasted of them go (cancel).
func unusedScarce(wasted, n int) []booking.Event {
	evs := background(100)
	for i := range n {
		s, off := fmt.Sprintf("hot%d", i), time.Duration(i)*2*day
		evs = append(evs, hot(s, off)...)
		evs = append(evs, book("x", "px", s, off+12*time.Hour, time.Minute))
		if i < wasted {
			evs = append(evs, cancel("x", "px", s, at(off+day)))
		} else {
			evs = append(evs, checkIn("x", "px", s, at(off+7*day)))
		}
	}
	return evs
}

// outcomes: a1's bookings, cancelled, not come, and used.
func outcomes(cancelled, missed, used int) []booking.Event {
	var evs []booking.Event
	i := 0
	for range cancelled + missed + used {
		s, p := fmt.Sprintf("s%d", i), fmt.Sprintf("p%d", i%4)
		evs = append(evs, book("a1", p, s, time.Duration(i)*day, 5*time.Hour))
		switch {
		case i < cancelled:
			evs = append(evs, cancel("a1", p, s, at(time.Duration(i)*day+30*time.Hour)))
		case i < cancelled+missed:
			evs = append(evs, noShow("a1", p, s, at(time.Duration(i)*day+7*day)))
		default:
			evs = append(evs, checkIn("a1", p, s, at(time.Duration(i)*day+7*day)))
		}
		i++
	}
	return evs
}

// deskVisits: account x books a plain session for one of its three people
// every four days, one for each name in who; on the visit day the person
// named shows their own card, the desk refuses the check-in
// (identity_mismatch, onAccount saying whether they are on x's list), and
// the booking goes unused (a no-show).
func deskVisits(who []string, onAccount bool) []booking.Event {
	evs := background(100)
	for i, w := range who {
		s, p, off := fmt.Sprintf("desk%d", i), fmt.Sprintf("xp%d", i%3), time.Duration(i)*4*day
		evs = append(evs, visited(s, off)...)
		evs = append(evs, book("x", p, s, off, 5*time.Hour))
		on := onAccount
		evs = append(evs, booking.Event{TS: at(off + 7*day - time.Hour), Type: booking.EventRejected, AccountID: "x", PatientID: p,
			SessionID: s, BookingID: "b-x" + p + s, StaffID: "desk", Reason: "identity_mismatch", PresentedIdentityID: w, PresentedOnAccount: &on},
			noShow("x", p, s, at(off+7*day+4*time.Hour)))
	}
	// Life goes on: the last visit day is over.
	return append(evs, book("later", "q", "plenty-late", 20*day, time.Hour))
}

// handedOff: account a wins a session at release (the scarcest, or a plain
// one booked hours later) and, two days on, cancels it; account w books it
// gap later (0: the watcher of watcher(n), which takes it 3 s later).
func handedOff(a string, scarce bool, gap time.Duration) []booking.Event {
	s, off, d := "handed-"+a, 30*day, 2*time.Second
	var evs []booking.Event
	if scarce {
		evs = append(evs, hot(s, off)...)
	} else {
		d = 5 * time.Hour
		evs = append(evs, visited(s, off)...)
	}
	taker := "taker-" + a
	if gap == 0 {
		taker, gap = "w", 3*time.Second
	}
	return append(evs, book(a, "xp0", s, off, d), cancel(a, "xp0", s, at(off+d+2*day)),
		book(taker, "buyer-"+a, s, off, d+2*day+gap))
}

// passedOn: account x, none of whose people ever came, wins a session (the
// scarcest, or a plain one booked hours after release) and two days on
// cancels it; another account books it 5 s later (handedOff). With came,
// x's patient checks in once at a session another account booked; with
// bulk, x cancels another booking ten minutes later, in the same sitting.
// Others come to their sessions, so the stream has check-ins.
func passedOn(scarce, came, bulk bool) []booking.Event {
	evs := append(background(100), visited("plain-seen", 0)...)
	evs = append(evs, handedOff("x", scarce, 5*time.Second)...)
	if came {
		evs = append(evs, book("kin", "xp0", "elsewhere", 0, 5*time.Hour), checkIn("kin", "xp0", "elsewhere", at(7*day)))
	}
	if bulk {
		gave := 30*day + 2*time.Second + 2*day // when handedOff's scarce slot was cancelled
		evs = append(evs, book("x", "xp1", "trip-s", 29*day, 5*time.Hour), cancel("x", "xp1", "trip-s", at(gave+10*time.Minute)))
	}
	return evs
}

// othersCame is passedOn(true, false, false) with a second person on x,
// and each of its two people booking a session from an account of their
// own ("own-xp0", "own-xp1") and coming; with household, those accounts
// are on x's handset (a household's other accounts).
func othersCame(household bool) []booking.Event {
	evs := append(passedOn(true, false, false), booking.Event{TS: at(29 * day), Type: booking.EventPatientAdded, AccountID: "x",
		PatientID: "xp1", DeviceID: "dev-x", IP: "ip-x"})
	for _, p := range []string{"xp0", "xp1"} {
		own, s := "own-"+p, "theirs-"+p
		b := book(own, p, s, 0, 5*time.Hour)
		if household {
			b.DeviceID = "dev-x"
		}
		evs = append(evs, b, checkIn(own, p, s, at(7*day)))
	}
	return evs
}

// givenBack: account a books wasted+used slots for four people, one every
// `every`, of sessions others come to; it cancels the first wasted one by
// one and comes to the others.
func givenBack(a string, wasted, used int, every time.Duration) []booking.Event {
	var evs []booking.Event
	for i := range wasted + used {
		p, s, off := fmt.Sprintf("%s-p%d", a, i%4), fmt.Sprintf("%s-s%02d", a, i), time.Duration(i)*every
		evs = append(evs, visited(s, off)...)
		evs = append(evs, book(a, p, s, off, 5*time.Hour))
		if i < wasted {
			evs = append(evs, cancel(a, p, s, at(off+30*time.Hour)))
		} else {
			evs = append(evs, checkIn(a, p, s, at(off+7*day)))
		}
	}
	return evs
}

// visited: somebody else books session s (released at t0+off) and comes,
// so the session is over when the stream goes on.
func visited(s string, off time.Duration) []booking.Event {
	return []booking.Event{book("v-"+s, "q", s, off, 6*time.Hour), checkIn("v-"+s, "q", s, at(off+7*day))}
}

// tripFamily: a family of five, two bookings each for the coming weeks,
// cancels all ten in one sitting before a trip; five visits it kept.
func tripFamily() []booking.Event {
	evs := background(200)
	for i := range 15 {
		p, s := fmt.Sprintf("fp%d", i%5), fmt.Sprintf("t%02d", i)
		evs = append(evs, visited(s, time.Duration(i)*day)...)
		evs = append(evs, book("trip", p, s, time.Duration(i)*day, 5*time.Hour))
		if i < 10 {
			evs = append(evs, cancel("trip", p, s, at(9*day+time.Duration(i)*time.Minute)))
		} else {
			evs = append(evs, checkIn("trip", p, s, at(time.Duration(i)*day+7*day)))
		}
	}
	return evs
}

// lapsed: n bookings of sessions that others came to; a1's patients never
// did, and nobody wrote a no-show.
func lapsed(n int) []booking.Event {
	var evs []booking.Event
	for i := range n {
		s := fmt.Sprintf("s%d", i)
		evs = append(evs, book("a1", "p1", s, time.Duration(i)*day, 5*time.Hour),
			book("other", "q", s, time.Duration(i)*day, 6*time.Hour),
			checkIn("other", "q", s, at(time.Duration(i)*day+7*day)))
	}
	return append(evs, booking.Event{TS: at(40 * day), Type: booking.EventLogin, AccountID: "other"})
}

// upcoming: a1 cancels n bookings of sessions still to come, in a stream
// where other sessions have had their patients.
func upcoming(n int) []booking.Event {
	evs := lapsed(0)
	evs = append(evs, book("other", "q", "past", 0, time.Hour), checkIn("other", "q", "past", at(day)))
	for i := range n {
		s := fmt.Sprintf("s%d", i)
		evs = append(evs, book("a1", "p1", s, time.Duration(i)*time.Hour, 5*time.Minute), cancel("a1", "p1", s, at(time.Duration(i)*time.Hour+time.Hour)))
	}
	return append(evs, booking.Event{TS: at(3 * day), Type: booking.EventLogin, AccountID: "other"})
}

// neverCame: n of a1's people booked twice each and never come; one more
// person comes each time, but under half of all.
func neverCame(n int) []booking.Event {
	var evs []booking.Event
	i := 0
	for p := range n {
		for range 2 {
			s := fmt.Sprintf("s%d", i)
			evs = append(evs, book("a1", fmt.Sprintf("fake%d", p), s, time.Duration(i)*day, 5*time.Hour),
				cancel("a1", fmt.Sprintf("fake%d", p), s, at(time.Duration(i)*day+30*time.Hour)),
				book("other", "q", s, time.Duration(i)*day, 6*time.Hour), checkIn("other", "q", s, at(time.Duration(i)*day+7*day)))
			i++
		}
	}
	for range n - 1 {
		s := fmt.Sprintf("s%d", i)
		evs = append(evs, book("a1", "real", s, time.Duration(i)*day, 5*time.Hour), checkIn("a1", "real", s, at(time.Duration(i)*day+7*day)))
		i++
	}
	return append(evs, booking.Event{TS: at(60 * day), Type: booking.EventLogin, AccountID: "other"})
}

func cancels(n int, every time.Duration) []booking.Event {
	var evs []booking.Event
	for i := range n {
		s := fmt.Sprintf("s%d", i)
		evs = append(evs, book("a1", "p1", s, 0, time.Hour), cancel("a1", "p1", s, at(2*time.Hour+time.Duration(i)*every)))
	}
	return evs
}

// given: a1 races for two hot sessions, holds each for held and cancels;
// another account books the slot gap later (from the waitlist when
// waitlisted).
func given(gap, held time.Duration, waitlisted bool) []booking.Event {
	evs := background(100)
	for i := range 2 {
		s, off := fmt.Sprintf("hot%d", i), time.Duration(i)*3*day
		evs = append(evs, hot(s, off)...)
		evs = append(evs, book("a1", "placeholder", s, off, 2*time.Second))
		c := at(off + 2*time.Second + held)
		evs = append(evs, cancel("a1", "placeholder", s, c))
		rcv := fmt.Sprintf("buyer-account%d", i)
		b := book(rcv, "buyer", s, off, 2*time.Second+held+gap)
		if waitlisted {
			evs = append(evs, booking.Event{TS: at(off + time.Hour), Type: booking.EventWaitlisted, AccountID: rcv, PatientID: "buyer", SessionID: s})
			b.Reason, b.IP, b.DeviceID, b.ReleaseAt = "waitlist", "", "", time.Time{}
		}
		evs = append(evs, b)
	}
	return evs
}

// watcher: n accounts each cancel a slot; w takes each within 3 s.
func watcher(n int) []booking.Event {
	var evs []booking.Event
	for i := range n {
		s, g := fmt.Sprintf("s%d", i), fmt.Sprintf("g%d", i)
		evs = append(evs, book(g, "pg", s, time.Duration(i)*day, time.Hour), cancel(g, "pg", s, at(time.Duration(i)*day+2*day)),
			book("w", fmt.Sprintf("buyer%d", i), s, time.Duration(i)*day, 2*day+3*time.Second))
	}
	return evs
}

// pair: a1 cancels twice and a2 books the slot within seconds; for
// buyers put on a2 after a1 booked (an accomplice), or for a2's own
// long-standing members (a repeat customer).
func pair(buyers bool) []booking.Event {
	var evs []booking.Event
	for i := range 2 {
		s, off := fmt.Sprintf("s%d", i), time.Duration(i)*3*day
		p := fmt.Sprintf("member%d", i)
		added := at(-60 * day)
		if buyers {
			p, added = fmt.Sprintf("buyer%d", i), at(off+5*time.Hour)
		}
		evs = append(evs, booking.Event{TS: added, Type: booking.EventPatientAdded, AccountID: "a2", PatientID: p},
			book("a1", "placeholder", s, off, 3*time.Second), cancel("a1", "placeholder", s, at(off+day)),
			book("a2", p, s, off, day-3*time.Second+4*time.Second))
	}
	return evs
}

// linked: a1 books a hot session at release, holds it a day and cancels;
// a2 books the slot 4 s later, for a person put on a2 five hours after a1
// booked it (a buyer's ID) or for a member a2 has had for two months; from
// a1's handset when shared, else from its own.
func linked(shared, buyer bool) []booking.Event {
	evs := append(background(100), hot("hot0", 0)...)
	p, added := "member", at(-60*day)
	if buyer {
		p, added = "buyer", at(5*time.Hour)
	}
	b := book("a2", p, "hot0", 0, day+6*time.Second)
	if shared {
		b.DeviceID = "dev-a1"
	}
	return append(evs, booking.Event{TS: added, Type: booking.EventPatientAdded, AccountID: "a2", PatientID: p},
		book("a1", "placeholder", "hot0", 0, 2*time.Second), cancel("a1", "placeholder", "hot0", at(day+2*time.Second)), b)
}

// swaps: a1 books an ordinary session for itself, holds it a day, cancels
// and books the same slot 5 s later for another person, once for each of
// people, three days apart; each put on a1 after it booked the slot (fresh)
// or two months before.
func swaps(fresh bool, people ...string) []booking.Event {
	evs := background(100)
	for i, p := range people {
		s, off := fmt.Sprintf("plain%d", i), time.Duration(i)*3*day
		added := at(-60 * day)
		if fresh {
			added = at(off + 5*time.Hour)
		}
		evs = append(evs, booking.Event{TS: added, Type: booking.EventPatientAdded, AccountID: "a1", PatientID: p},
			book("a1", "self", s, off, 2*time.Hour), cancel("a1", "self", s, at(off+day)), book("a1", p, s, off, day+5*time.Second))
	}
	return evs
}

func devices(n int) []booking.Event {
	var evs []booking.Event
	for i := range n {
		evs = append(evs, booking.Event{TS: at(time.Duration(i) * day), Type: booking.EventLogin, AccountID: "a1", DeviceID: fmt.Sprintf("handset%d", i)})
	}
	return evs
}

// insider: the clerk serves 300 different walk-ins; when favouring, two
// people also get reissued or extra slots three times each.
func insider(favouring bool) []booking.Event {
	var evs []booking.Event
	for i := range 300 {
		evs = append(evs, booking.Event{TS: at(time.Duration(i) * 10 * time.Minute), Type: booking.EventBooked, StaffID: "clerk",
			Channel: booking.ChannelOnsite, IdentityID: fmt.Sprintf("walkin%d", i), SessionID: fmt.Sprintf("w%d", i%40)})
	}
	// A chronic patient comes three times: ordinary.
	for i := range 3 {
		evs = append(evs, booking.Event{TS: at(time.Duration(i) * 7 * day), Type: booking.EventBooked, StaffID: "clerk",
			Channel: booking.ChannelOnsite, IdentityID: "chronic", SessionID: "weekly"})
	}
	if favouring {
		for i, p := range []string{"fav1", "fav2", "fav1", "fav2", "fav1", "fav2"} {
			s, ts := fmt.Sprintf("expert%d", i), at(time.Duration(i)*day+time.Hour)
			evs = append(evs,
				booking.Event{TS: ts, Type: booking.EventReissued, StaffID: "clerk", SessionID: s, Reason: "extra_slots:1"},
				booking.Event{TS: ts.Add(3 * time.Minute), Type: booking.EventBooked, StaffID: "clerk", Channel: booking.ChannelOnsite,
					IdentityID: p, SessionID: s})
		}
	}
	return evs
}

// insiderOne: the clerk serves 300 different walk-ins and gives one person
// n returned or extra slots, five days apart.
func insiderOne(n int) []booking.Event {
	evs := insider(false)
	for i := range n {
		s, ts := fmt.Sprintf("expert%d", i), at(time.Duration(i)*5*day+time.Hour)
		evs = append(evs,
			booking.Event{TS: ts, Type: booking.EventReissued, StaffID: "clerk", SessionID: s, Reason: "no-show; patient waiting"},
			booking.Event{TS: ts.Add(4 * time.Minute), Type: booking.EventBooked, StaffID: "clerk", Channel: booking.ChannelOnsite,
				IdentityID: "fav", SessionID: s})
	}
	return evs
}

// referrer: a community doctor books referral slots for the same 12
// residents every week.
func referrer() []booking.Event {
	var evs []booking.Event
	for w := range 4 {
		for r := range 12 {
			for k := range 2 {
				evs = append(evs, booking.Event{TS: at(time.Duration(w)*7*day + time.Duration(r*2+k)*time.Minute), Type: booking.EventBooked,
					StaffID: "ref", Channel: booking.ChannelReferral, IdentityID: fmt.Sprintf("resident%d", r), SessionID: fmt.Sprintf("s%d-%d-%d", w, r, k)})
			}
		}
	}
	return evs
}

// TestRule: no single kind of evidence flags; two do; the clerk favouring
// the same people and the repeated hand-off pair flag on their own.
func TestRule(t *testing.T) {
	t.Run("speed alone never flags", func(t *testing.T) {
		var evs []booking.Event
		for i := range 10 {
			evs = append(evs, book("quick", "p1", fmt.Sprintf("plenty%02d", i), time.Duration(i)*day, 80*time.Millisecond),
				checkIn("quick", "p1", fmt.Sprintf("plenty%02d", i), at(time.Duration(i)*day+7*day)))
		}
		if got := flaggedAccounts(append(background(200), evs...)); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
	})
	t.Run("a count of persons alone never flags: a carer booking for 20 residents who come", func(t *testing.T) {
		evs := background(200)
		for i := range 20 {
			p, s := fmt.Sprintf("resident%d", i), fmt.Sprintf("plenty%02d", i)
			evs = append(evs, book("carer", p, s, time.Duration(i)*time.Hour, 5*time.Hour), checkIn("carer", p, s, at(7*day)))
		}
		if got := flaggedAccounts(evs); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
	})
	t.Run("two kinds flag: sub-human speed on the scarcest sessions", func(t *testing.T) {
		evs := background(100)
		for i := range 4 {
			s := fmt.Sprintf("hot%d", i)
			evs = append(evs, hot(s, time.Duration(i)*day)...)
			evs = append(evs, book("bot", "p1", s, time.Duration(i)*day, 60*time.Millisecond))
		}
		if got := flaggedAccounts(evs); !slices.Equal(got, []string{"bot"}) {
			t.Errorf("flagged %v, want the bot", got)
		}
	})
	t.Run("clicks before opening alone never flag: 30 within 15 s at the closed session", func(t *testing.T) {
		if got := flaggedAccounts(clicksBeforeOpening(15, 15, 500*time.Millisecond, -20*time.Second)); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
	})
	t.Run("two kinds flag: 16 people on an account, most of what it tries the scarcest sessions", func(t *testing.T) {
		// persons_per_account (scale) and scarce_for_many (targeting).
		if got := flaggedAccounts(manyAtScarce("farm", 16, 6, 3)); !slices.Equal(got, []string{"farm"}) {
			t.Errorf("flagged %v, want the farm account", got)
		}
	})
	t.Run("a carer's 16 residents, ordinary doctors for most, three sold-out experts tried: not flagged", func(t *testing.T) {
		if got := flaggedAccounts(manyAtScarce("carer", 16, 3, 13)); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
	})
	t.Run("waste alone never flags: a family of five cancels ten bookings for a trip", func(t *testing.T) {
		if got := flaggedAccounts(tripFamily()); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
	})
	t.Run("two kinds flag: a hoarder gives back 14 of its 16 slots, one at a time", func(t *testing.T) {
		// The share wasted (non_use) and the count of slots taken from
		// others (scale, unused_slots): neither alone would flag.
		evs := append(background(200), givenBack("hoarder", 14, 2, day)...)
		if got := flaggedAccounts(evs); !slices.Equal(got, []string{"hoarder"}) {
			t.Errorf("flagged %v, want the hoarder", got)
		}
	})
	// Three names raced for at release and never seen, and three plain
	// bookings given back too: six of six wasted (non_use). Over 16 days
	// it is a list of names (phantom_patients, targeting); within 8 days
	// it is a family that won experts for three of its people and then
	// cancelled everything for a trip, and waste alone never flags.
	racedAndGivenBack := func(every time.Duration) []booking.Event {
		evs := phantomRaces(3, every, false)
		for i := range 3 {
			s, p := fmt.Sprintf("plain%d", i), fmt.Sprintf("name%d", i)
			evs = append(evs, visited(s, time.Duration(i)*every)...)
			evs = append(evs, book("x", p, s, time.Duration(i)*every, 5*time.Hour), cancel("x", p, s, at(time.Duration(i)*every+day)))
		}
		return evs
	}
	t.Run("two kinds flag: names raced for at release over 16 days that never come, their slots wasted", func(t *testing.T) {
		if got := flaggedAccounts(racedAndGivenBack(8 * day)); !slices.Equal(got, []string{"x"}) {
			t.Errorf("flagged %v, want x", got)
		}
	})
	// A thin fake-ID account: two names raced for at three releases over
	// 16 days (phantom_races, targeting) and every slot given back, none
	// of its people ever seen (never_seen, non_use). The near miss is
	// one patient who kept racing for an expert and never came: neither
	// signal counts one name, and its waste alone never flags.
	t.Run("two kinds flag: a thin fake-ID account, two names raced for over 16 days, never seen, nothing used", func(t *testing.T) {
		if got := flaggedAccounts(thinRaces(2, 3, 8*day)); !slices.Equal(got, []string{"x"}) {
			t.Errorf("flagged %v, want x", got)
		}
	})
	t.Run("one patient who raced three times over 16 days and never came is not flagged", func(t *testing.T) {
		if got := flaggedAccounts(thinRaces(1, 3, 8*day)); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
	})
	t.Run("a release family that won experts for three people and cancelled it all for a trip is not flagged", func(t *testing.T) {
		if got := flaggedAccounts(racedAndGivenBack(4 * day)); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
	})
	// A thin fake-ID account: three bookings for two names given back,
	// nobody it names ever seen (never_seen, non_use), and one slot of the
	// scarcest sessions taken by another account at the second of its
	// cancellation (unseen_passed_on, transfer). The near misses: the
	// same slot taken out of two given back in one sitting (a family
	// cancelling for a trip), or an ordinary slot somebody rebooked within
	// the minute — never_seen alone.
	unseenGave := func(scarce, bulk bool) []booking.Event {
		evs := append(append(background(100), notSeen(2, 3, false)...), handedOff("x", scarce, 5*time.Second)...)
		if bulk {
			gave := 30*day + 2*time.Second + 2*day
			evs = append(evs, book("x", "name1", "trip-s", 29*day, 5*time.Hour), cancel("x", "name1", "trip-s", at(gave+10*time.Minute)))
		}
		return evs
	}
	t.Run("two kinds flag: an account nobody on which ever came passes a scarce slot on at the second", func(t *testing.T) {
		evs := unseenGave(true, false)
		if got := fired(t, evs, "x"); !slices.Contains(got, "never_seen") || !slices.Contains(got, "unseen_passed_on") {
			t.Errorf("fired %v, want never_seen and unseen_passed_on", got)
		}
		if got := flaggedAccounts(evs); !slices.Equal(got, []string{"x"}) {
			t.Errorf("flagged %v, want x", got)
		}
		for _, f := range Detect(evs, DefaultConfig()) {
			for _, r := range f.Reasons {
				if r.Signal != "unseen_passed_on" {
					continue
				}
				if !strings.Contains(r.Detail, "none of the 3 patients on it ever came") || !strings.Contains(r.Detail, "1 of its slots were taken by another account within 1 min of its cancellation (1 counted") ||
					!strings.Contains(r.DetailZH, "3 位就诊人在任何账号下都从未到院就诊") || !strings.Contains(r.DetailZH, "有 1 个号在它取消后 1 分钟内被另一账号约走（计 1 个") {
					t.Errorf("reason %q / %q does not say what was passed on", r.Detail, r.DetailZH)
				}
				if r.Points != 0.5 || r.Kind != kTransfer {
					t.Errorf("reason adds %.2f as %s, want 0.50 as transfer", r.Points, r.Kind)
				}
			}
		}
	})
	t.Run("a never-seen family whose slot somebody took out of a sitting of cancellations is not flagged", func(t *testing.T) {
		if got := fired(t, unseenGave(true, true), "x"); !slices.Contains(got, "never_seen") || slices.Contains(got, "unseen_passed_on") {
			t.Errorf("fired %v, want never_seen alone", got)
		}
		if got := flaggedAccounts(unseenGave(true, true)); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
	})
	t.Run("a never-seen family whose ordinary slot somebody rebooked within the minute is not flagged", func(t *testing.T) {
		if got := fired(t, unseenGave(false, false), "x"); slices.Contains(got, "unseen_passed_on") {
			t.Errorf("fired %v: an ordinary slot rebooked within the minute counts half", got)
		}
		if got := flaggedAccounts(unseenGave(false, false)); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
	})
	// The holder who picks the wrong family member three times is turned
	// away three times, as a seller's buyers are, and each booking is a
	// missed one (no_shows, non_use): the people who came are on the
	// account, so nothing says the slots were passed on. Strangers are.
	t.Run("a holder who picks the wrong family member three times is not flagged", func(t *testing.T) {
		evs := deskVisits([]string{"xp1", "xp2", "xp0"}, true)
		if got := fired(t, evs, "x"); !slices.Contains(got, "no_shows") {
			t.Errorf("fired %v, want no_shows: the near miss has one kind of evidence", got)
		}
		if got := flaggedAccounts(evs); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
	})
	t.Run("two kinds flag: three strangers came for an account's bookings, all unused", func(t *testing.T) {
		if got := flaggedAccounts(deskVisits([]string{"buyer1", "buyer2", "buyer3"}, false)); !slices.Equal(got, []string{"x"}) {
			t.Errorf("flagged %v, want x", got)
		}
	})
	t.Run("a clerk favouring two people flags alone", func(t *testing.T) {
		flags := Detect(insider(true), DefaultConfig())
		if len(flags) != 1 || !slices.Equal(flags[0].AccountIDs, []string{"clerk"}) {
			t.Fatalf("got %+v, want the clerk", flags)
		}
		if got, want := flags[0].PatientIDs, []string{"fav1", "fav2"}; !slices.Equal(got, want) {
			t.Errorf("patients = %v, want %v", got, want)
		}
	})
	// One person given six returned or extra slots by one clerk within a
	// month: more than a patient in a course of treatment needs. The near
	// miss is a regular who waits at the desk for returns: five.
	t.Run("a clerk giving one person six returned or extra slots in a month flags alone", func(t *testing.T) {
		flags := Detect(insiderOne(6), DefaultConfig())
		if len(flags) != 1 || !slices.Equal(flags[0].AccountIDs, []string{"clerk"}) || !slices.Equal(flags[0].PatientIDs, []string{"fav"}) {
			t.Fatalf("got %+v, want the clerk and fav", flags)
		}
		r := flags[0].Reasons[0]
		if !strings.Contains(r.Detail, "1 of them got 6 or more returned or extra slots") || !strings.Contains(r.DetailZH, "其中 1 人从这一位工作人员处得到 6 个以上") {
			t.Errorf("reason %q / %q does not say why one person counts twice", r.Detail, r.DetailZH)
		}
	})
	t.Run("a clerk giving one regular five returned slots in a month is not flagged", func(t *testing.T) {
		if got := flaggedAccounts(insiderOne(5)); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
	})
	t.Run("hand-offs repeated between two accounts flag both alone", func(t *testing.T) {
		if got := flaggedAccounts(pair(true)); !slices.Equal(got, []string{"a1", "a2"}) {
			t.Errorf("flagged %v, want a1 and a2 in one flag", got)
		}
	})
	// One account cancelling a slot and booking it again within the
	// minute for a person it put on only after it had booked the slot: the
	// name did not exist there when the slot was won (a buyer's ID). Twice,
	// for two such people, is a combination in itself, like a pair; a
	// family correcting a booking for a member it already had, or moving
	// two slots to one newly added relative, is not.
	t.Run("an account swapping two slots to two people put on it after it booked them flags alone", func(t *testing.T) {
		evs := swaps(true, "buyer1", "buyer2")
		if got := flaggedAccounts(evs); !slices.Equal(got, []string{"a1"}) {
			t.Fatalf("flagged %v, want a1", got)
		}
		r := Detect(evs, DefaultConfig())[0].Reasons[0]
		if r.Signal != "handoff_pair" || !strings.Contains(r.Detail, "2 of them for different patients put on the account only for the slot") ||
			!strings.Contains(r.DetailZH, "其中 2 次约给了在抢到该号之后才添加") {
			t.Errorf("reason %+v does not say the swaps were for buyers' IDs", r)
		}
	})
	t.Run("a family swapping two slots to members it already had is not flagged", func(t *testing.T) {
		if got := flaggedAccounts(swaps(false, "m1", "m2")); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
	})
	t.Run("a family moving two slots to one relative it just added is not flagged", func(t *testing.T) {
		if got := flaggedAccounts(swaps(true, "grandma", "grandma")); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
	})
	t.Run("a clerk with walk-ins for many people and a referrer are not flagged", func(t *testing.T) {
		if got := flaggedAccounts(append(insider(false), referrer()...)); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
	})
}

// TestDirection: a watcher that takes the cancelled slots of several
// accounts within seconds, polling the sessions, is flagged; the people who
// cancelled are not made members of its group.
func TestDirection(t *testing.T) {
	evs := watcher(4)
	for i := range 40 {
		evs = append(evs, refused("w", "pw", "s0", at(time.Duration(i)*40*time.Second), "sold_out"))
	}
	flags := Detect(evs, DefaultConfig())
	if len(flags) != 1 || !slices.Equal(flags[0].AccountIDs, []string{"w"}) {
		t.Fatalf("got %+v, want one flag naming the watcher alone", flags)
	}
}

func TestGrouping(t *testing.T) {
	t.Run("a ring of 5 accounts sharing handsets is one flag", func(t *testing.T) {
		var evs []booking.Event
		for i := range 5 {
			a := fmt.Sprintf("ring%d", i)
			for j := range 3 {
				e := book(a, a+"p", fmt.Sprintf("s%d%d", i, j), time.Duration(j)*day, 80*time.Millisecond)
				e.DeviceID = fmt.Sprintf("phone%d", i%2) // two handsets passed around
				if i == 2 {
					e.DeviceID = fmt.Sprintf("phone%d", j%2)
				}
				evs = append(evs, e, noShow(a, a+"p", fmt.Sprintf("s%d%d", i, j), at(time.Duration(j)*day+7*day)))
			}
		}
		flags := Detect(evs, DefaultConfig())
		if len(flags) != 1 {
			t.Fatalf("got %d flags, want 1: %+v", len(flags), flags)
		}
		if got, want := flags[0].AccountIDs, []string{"ring0", "ring1", "ring2", "ring3", "ring4"}; !slices.Equal(got, want) {
			t.Errorf("accounts = %v, want %v", got, want)
		}
	})
	// A bot that hands a slot it won to a second account on its handset,
	// for a person put there for the slot: the second account is the
	// bot's delivery account and is in its flag. A buyer who books the
	// bot's slot from a handset of their own is not.
	linkedBot := func(shared bool) []booking.Event {
		evs := linked(shared, true)
		for i := 1; i <= 4; i++ {
			s := fmt.Sprintf("hot%d", i)
			evs = append(evs, hot(s, time.Duration(i)*day)...)
			evs = append(evs, book("a1", "p1", s, time.Duration(i)*day, 60*time.Millisecond))
		}
		return evs
	}
	t.Run("the account a bot hands a slot to on its own handset, for a buyer, is in its flag", func(t *testing.T) {
		flags := Detect(linkedBot(true), DefaultConfig())
		if len(flags) != 1 || !slices.Equal(flags[0].AccountIDs, []string{"a1", "a2"}) {
			t.Fatalf("got %+v, want one flag naming a1 and a2", flags)
		}
		var r Reason
		for _, x := range flags[0].Reasons {
			if x.Signal == "handoff_linked" {
				r = x
			}
		}
		if !strings.Contains(r.Detail, "account a2 took 1 slot within 1 min of its cancellation by an account it shares a handset or number with (account a1, device dev-a1)") ||
			!strings.Contains(r.DetailZH, "账号 a2 有 1 个号是与其共用手机或号码的账号（账号 a1，设备 dev-a1）取消后 1 分钟内约走的") || r.Kind != kTransfer {
			t.Errorf("handoff_linked reason %+v: want the taker, the giver, the handset and the numbers in both languages", r)
		}
	})
	t.Run("a buyer taking a bot's slot from a handset of their own is not in its flag", func(t *testing.T) {
		flags := Detect(linkedBot(false), DefaultConfig())
		if len(flags) != 1 || !slices.Equal(flags[0].AccountIDs, []string{"a1"}) {
			t.Fatalf("got %+v, want one flag naming a1 alone", flags)
		}
	})
	bots := func(ip string) []booking.Event {
		var evs []booking.Event
		for _, a := range []string{"bot1", "bot2", "bot3"} {
			for j := range 3 {
				e := book(a, a+"p", fmt.Sprintf("s%d", j), time.Duration(j)*day, 50*time.Millisecond)
				e.IP = ip
				evs = append(evs, e, noShow(a, a+"p", fmt.Sprintf("s%d", j), at(time.Duration(j)*day+7*day)))
			}
		}
		return evs
	}
	t.Run("a hub IP shared by 200 genuine accounts links nobody", func(t *testing.T) {
		var evs []booking.Event
		for i := range 200 {
			a := fmt.Sprintf("g%03d", i)
			e := book(a, a+"p", fmt.Sprintf("s%d", i%30), 0, time.Duration(i+1)*time.Minute)
			e.IP = "hospital-wifi"
			evs = append(evs, e)
		}
		flags := Detect(append(evs, bots("hospital-wifi")...), DefaultConfig())
		if len(flags) != 3 {
			t.Fatalf("got %d flags, want one per bot: %+v", len(flags), flags)
		}
		for _, f := range flags {
			if len(f.AccountIDs) != 1 || !strings.HasPrefix(f.AccountIDs[0], "bot") {
				t.Errorf("flag names %v, want one bot", f.AccountIDs)
			}
		}
	})
	t.Run("bots behind their own proxy are merged into one flag", func(t *testing.T) {
		flags := Detect(bots("proxy"), DefaultConfig())
		if len(flags) != 1 || len(flags[0].AccountIDs) != 3 {
			t.Fatalf("got %+v, want one flag of 3 bots", flags)
		}
	})
	// quiet books three plentiful sessions 50 ms after release and comes:
	// machine speed and nothing else.
	quiet := func(a, ip string, react time.Duration) []booking.Event {
		var evs []booking.Event
		for j := range 3 {
			s := fmt.Sprintf("q%d", j)
			e := book(a, a+"p", s, time.Duration(j)*day+time.Hour, react)
			e.IP = ip
			evs = append(evs, e, checkIn(a, a+"p", s, at(time.Duration(j)*day+2*day)))
		}
		// Somebody comes a fortnight later: every session above is over.
		return append(evs, book("later", "laterp", "q9", 14*day, time.Hour), checkIn("later", "laterp", "q9", at(20*day)))
	}
	t.Run("an account of machine speed alone behind flagged bots' own line is in their flag", func(t *testing.T) {
		flags := Detect(append(bots("proxy"), quiet("quiet", "proxy", 50*time.Millisecond)...), DefaultConfig())
		if len(flags) != 1 || !slices.Contains(flags[0].AccountIDs, "quiet") || len(flags[0].AccountIDs) != 4 {
			t.Fatalf("got %+v, want one flag of the 3 bots and quiet", flags)
		}
		i := slices.IndexFunc(flags[0].Reasons, func(r Reason) bool { return r.Signal == "shared_ip" })
		if i < 0 || !strings.Contains(flags[0].Reasons[i].Detail, "1 of them with machine speed of its own") ||
			!strings.Contains(flags[0].Reasons[i].DetailZH, "同一线路，同一台机器") {
			t.Errorf("reasons %+v, want the line's reason to say why quiet is there", flags[0].Reasons)
		}
	})
	t.Run("… a household member at human speed on that line is not, nor machine speed on a line of its own", func(t *testing.T) {
		evs := append(bots("proxy"), quiet("home", "proxy", 2*time.Second)...)
		evs = append(evs, quiet("quiet", "own-line", 50*time.Millisecond)...)
		got := flaggedAccounts(evs)
		if !slices.Equal(got, []string{"bot1", "bot2", "bot3"}) {
			t.Fatalf("flagged %v, want the three bots only", got)
		}
	})
	t.Run("a community kiosk links nobody, counts nobody and flags nobody", func(t *testing.T) {
		evs := background(100)
		for i := range 8 {
			a := fmt.Sprintf("elder%d", i)
			for j := range 3 {
				s := fmt.Sprintf("plenty%02d", (i+j)%20)
				e := book(a, a+"p", s, time.Duration(j)*day, 3*time.Hour)
				e.DeviceID, e.IP = "kiosk", "community-centre"
				evs = append(evs, e, checkIn(a, a+"p", s, at(time.Duration(j)*day+7*day)))
			}
		}
		if got := flaggedAccounts(evs); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
		if got := fired(t, evs, "elder0"); slices.Contains(got, "accounts_per_device") || slices.Contains(got, "persons_per_device") {
			t.Errorf("fired %v for a kiosk, want nothing of the handset", got)
		}
	})
	t.Run("a handset shared by eight accounts that race at release is no kiosk", func(t *testing.T) {
		evs := background(100)
		for i := range 8 {
			a := fmt.Sprintf("racer%d", i)
			for j := range 3 {
				s := fmt.Sprintf("plenty%02d", (i+j)%20)
				e := book(a, a+"p", s, time.Duration(j)*day, 3*time.Second)
				e.DeviceID = "kiosk"
				evs = append(evs, e, checkIn(a, a+"p", s, at(time.Duration(j)*day+7*day)))
			}
		}
		if got := fired(t, evs, "racer0"); !slices.Contains(got, "accounts_per_device") {
			t.Errorf("fired %v, want the handset's accounts counted", got)
		}
	})
	t.Run("no group grows past max_group: a chain of 40 accounts sharing people", func(t *testing.T) {
		var evs []booking.Event
		for i := range 40 {
			a := fmt.Sprintf("c%02d", i)
			for _, p := range []string{fmt.Sprintf("x%d", i), fmt.Sprintf("y%d", i), fmt.Sprintf("x%d", i+1), fmt.Sprintf("y%d", i+1)} {
				evs = append(evs, booking.Event{TS: at(time.Duration(i) * time.Minute), Type: booking.EventPatientAdded, AccountID: a, PatientID: a + p, IdentityID: p})
			}
			for j := range 3 {
				evs = append(evs, book(a, a+"x"+fmt.Sprint(i), fmt.Sprintf("s%d-%d", i, j), time.Duration(j)*day, 40*time.Millisecond),
					noShow(a, a+"x"+fmt.Sprint(i), fmt.Sprintf("s%d-%d", i, j), at(time.Duration(j)*day+7*day)))
			}
		}
		flags := Detect(evs, DefaultConfig())
		if len(flags) < 2 {
			t.Fatalf("got %d flags, want the chain cut into groups of at most %d", len(flags), DefaultConfig().MaxGroup)
		}
		for _, f := range flags {
			if len(f.AccountIDs) > DefaultConfig().MaxGroup {
				t.Errorf("a flag of %d accounts, want at most %d", len(f.AccountIDs), DefaultConfig().MaxGroup)
			}
		}
	})
}

// A genuine family: one account, 5 people, ordinary timing; one quick
// booking at release, two cancellations and a no-show in a month.
func TestGenuineFamilyNotFlagged(t *testing.T) {
	evs := background(200)
	evs = append(evs, booking.Event{TS: at(-30 * day), Type: booking.EventAccountCreated, AccountID: "fam", Phone: "hash:f", DeviceID: "dev-fam"})
	for i := range 5 {
		evs = append(evs, booking.Event{TS: at(-30*day + time.Duration(i)*time.Minute), Type: booking.EventPatientAdded,
			AccountID: "fam", PatientID: fmt.Sprintf("fp%d", i), IdentityID: fmt.Sprintf("fid%d", i), DeviceID: "dev-fam"})
	}
	for i := range 9 {
		s := fmt.Sprintf("plenty%02d", i)
		d := time.Duration(3+i) * time.Hour
		if i == 0 {
			d = 2 * time.Second // quick at the keyboard at release, once
		}
		evs = append(evs, book("fam", fmt.Sprintf("fp%d", i%5), s, time.Duration(i)*3*day, d))
	}
	evs = append(evs, cancel("fam", "fp1", "plenty01", at(4*day)), cancel("fam", "fp2", "plenty02", at(10*day)),
		booking.Event{TS: at(20 * day), Type: booking.EventNoShow, AccountID: "fam", PatientID: "fp3", SessionID: "plenty03"})
	if flags := Detect(evs, DefaultConfig()); len(flags) != 0 {
		t.Errorf("got %+v, want no flags", flags)
	}
}

func TestPersonsFollowIdentity(t *testing.T) {
	// The identity appears on some events only; the patient id on others
	// must resolve to it, or one person would count twice.
	var evs []booking.Event
	for i := range 5 {
		p, id := fmt.Sprintf("p%d", i), fmt.Sprintf("id%d", i)
		evs = append(evs, booking.Event{TS: at(time.Duration(i) * time.Minute), Type: booking.EventPatientAdded, AccountID: "a1", PatientID: p, IdentityID: id})
		evs = append(evs, book("a1", p, fmt.Sprintf("s%d", i), 0, time.Hour))
	}
	if got := fired(t, evs, "a1"); slices.Contains(got, "persons_per_account") {
		t.Errorf("5 persons counted as more: fired %v", got)
	}
}

// TestFlagShape: a flag says its threshold, how its score was made (in
// English and Chinese), and every reason in both, with the points it adds.
func TestFlagShape(t *testing.T) {
	evs := background(100)
	for i := range 4 {
		s := fmt.Sprintf("hot%d", i)
		evs = append(evs, hot(s, time.Duration(i)*day)...)
		evs = append(evs, book("bot", fmt.Sprintf("p%d", i), s, time.Duration(i)*day, 50*time.Millisecond))
	}
	flags := Detect(evs, DefaultConfig())
	if len(flags) != 1 {
		t.Fatalf("got %d flags, want 1: %+v", len(flags), flags)
	}
	f := flags[0]
	if f.Status != StatusOpen || !strings.HasPrefix(f.FlagID, "flg_") || f.Score < 1 || f.Threshold != 1 {
		t.Errorf("flag = %+v", f)
	}
	if want := flagID([]string{"bot"}, nil); f.FlagID != want {
		t.Errorf("flag id = %s, want %s (from the members)", f.FlagID, want)
	}
	if want := at(3*day + 50*time.Millisecond).UTC(); !f.CreatedAt.Equal(want) {
		t.Errorf("created_at = %s, want the last event %s", f.CreatedAt, want)
	}
	if got, want := f.PatientIDs, []string{"p0", "p1", "p2", "p3"}; !slices.Equal(got, want) {
		t.Errorf("patients = %v, want %v", got, want)
	}
	var sum float64
	kinds := map[string]bool{}
	for _, r := range f.Reasons {
		sum += r.Points
		if r.Points > 0 {
			kinds[r.Kind] = true
		}
		if r.Detail == "" || r.DetailZH == "" || r.Kind == "" {
			t.Errorf("reason %+v lacks a sentence, its Chinese or its kind", r)
		}
	}
	if math.Abs(sum-f.Score) > 0.011 || len(kinds) < 2 {
		t.Errorf("points add to %.2f over kinds %v, want the score %.2f from two kinds at least", sum, kinds, f.Score)
	}
	first := f.Reasons[0]
	if first.Signal != "fast_reaction" || !strings.Contains(first.Detail, "4 bookings within 300 ms") || !strings.Contains(first.DetailZH, "4 次预约在放号后 300 毫秒内") {
		t.Errorf("first reason = %+v, want fast_reaction with its numbers", first)
	}
	for _, want := range []string{"Score 1.25", "1.00 or more", "automation", "targeting"} {
		if !strings.Contains(f.Explanation, want) {
			t.Errorf("explanation %q lacks %q", f.Explanation, want)
		}
	}
	for _, want := range []string{"评分 1.25", "1.00", "自动化", "至少需要 2 类"} {
		if !strings.Contains(f.ExplanationZH, want) {
			t.Errorf("Chinese explanation %q lacks %q", f.ExplanationZH, want)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		check   func(Config) bool
		wantErr bool
	}{
		{"empty keeps the defaults", `{}`, func(c Config) bool { return c.Threshold == DefaultConfig().Threshold }, false},
		{"one rule changed, its cap kept", `{"rules":{"fast_reaction":{"min":5,"weight":1}}}`, func(c Config) bool {
			return c.Rules.FastReaction == Rule{Min: 5, Weight: 1, Cap: DefaultConfig().Rules.FastReaction.Cap} && c.Rules.Burst == DefaultConfig().Rules.Burst
		}, false},
		{"durations as text and days", `{"fast_reaction":"250ms","window":"14d"}`, func(c Config) bool {
			return c.FastReaction.D() == 250*time.Millisecond && c.Window.D() == 14*day
		}, false},
		{"a typo is an error", `{"treshold":2}`, nil, true},
		{"a zero threshold is refused", `{"threshold":0}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(strings.NewReader(tt.json))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && !tt.check(c) {
				t.Errorf("config = %+v", c)
			}
		})
	}
}

// TestOdds: the odds read in the sentences; the Chinese ones in digits,
// never an English word ("不到 a million 分之一" before).
func TestOdds(t *testing.T) {
	for _, tt := range []struct {
		s      float64
		en, zh string
	}{
		{2.4, "100", "100"},
		{3, "1,000", "1,000"},
		{5.9, "100,000", "100,000"},
		{6, "a million", "1,000,000"},
		{40, "a million", "1,000,000"},
	} {
		if en, zh := odds(tt.s), oddsZH(tt.s); en != tt.en || zh != tt.zh {
			t.Errorf("odds(%v) = %q, %q; want %q, %q", tt.s, en, zh, tt.en, tt.zh)
		}
	}
}

func TestSurprise(t *testing.T) {
	tests := []struct {
		k, n int
		p    float64
		want float64
	}{
		{0, 10, 0.2, 0},
		{2, 10, 0.2, 0},               // no more than expected
		{4, 4, 0.25, 2.408},           // 0.25^4 = 0.0039
		{3, 3, 0.5, 0.903},            // 1/8
		{10, 10, 0.1, 10},             // 1e-10
		{1, 1000, 0.0001, 1.0214},     // 1 − 0.9999^1000 = 0.0952
		{600, 1000, 0.3, 300 - 300.0}, // far past what a float can hold: the cap
	}
	for _, tt := range tests {
		got := surprise(tt.k, tt.n, tt.p)
		want := tt.want
		if tt.k == 600 {
			if got < 50 {
				t.Errorf("surprise(%d, %d, %v) = %v, want a huge number", tt.k, tt.n, tt.p, got)
			}
			continue
		}
		if math.Abs(got-want) > 0.01 {
			t.Errorf("surprise(%d, %d, %v) = %.3f, want %.3f", tt.k, tt.n, tt.p, got, want)
		}
	}
}

// TestGenuineGroups: the genuine people the issue names, each as a whole
// trace with the default configuration, are not flagged. (The carer is in
// TestRule, the kiosk in TestGrouping, the canceller whose slot a watcher
// took in TestDirection, a trip family in TestRule.)
func TestGenuineGroups(t *testing.T) {
	t.Run("three accounts of one family on one phone and tablet, sharing two children", func(t *testing.T) {
		evs := background(200)
		i := 0
		visit := func(a, p string, react time.Duration, hotSession bool) {
			s, off := fmt.Sprintf("fam%02d", i), time.Duration(i)*day
			if hotSession {
				evs = append(evs, hot(s, off)...)
			}
			e := book(a, p, s, off, react)
			e.DeviceID, e.Phone = "family-tablet", "hash:family"
			evs = append(evs, e, checkIn(a, p, s, at(off+7*day)))
			i++
		}
		for k := range 3 {
			a := fmt.Sprintf("f%d", k)
			for _, c := range []string{"child1", "child2"} {
				visit(a, c, 4*time.Hour, false)
			}
			for m := range 4 {
				visit(a, fmt.Sprintf("%s-adult%d", a, m), 800*time.Millisecond, m == 0)
			}
		}
		if got := flaggedAccounts(evs); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
	})
	t.Run("a chronic patient booking the same expert at every weekly release, and coming", func(t *testing.T) {
		evs := background(200)
		for w := range 5 {
			s, off := fmt.Sprintf("hot%d", w), time.Duration(w)*7*day
			evs = append(evs, hot(s, off)...)
			e := book("chronic", "pc", s, off, 900*time.Millisecond)
			e.DoctorID = "famous"
			evs = append(evs, e, checkIn("chronic", "pc", s, at(off+7*day)))
		}
		if got := flaggedAccounts(evs); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
	})
	// The trap of phantom_patients: a family whose two members each won
	// an expert at release, 20 days apart, and cancelled, neither seen
	// since, strangers taking the slots at once (handoff_given, transfer
	// 0.5). Two people who needed the experts is a family; three names
	// raced for over 24 days, none ever seen and every slot passed on at
	// once, is the seller.
	cancelledAndTaken := func(n int, every time.Duration) []booking.Event {
		evs := phantomRaces(n, every, false)
		for i := range n {
			evs = append(evs, book(fmt.Sprintf("stranger%d", i), "q2", fmt.Sprintf("hot%d", i), time.Duration(i)*every, day+2*time.Second))
		}
		return evs
	}
	t.Run("a family whose two members won an expert 20 days apart and cancelled, strangers taking the slots at once", func(t *testing.T) {
		evs := cancelledAndTaken(2, 20*day)
		if got := fired(t, evs, "x"); !slices.Contains(got, "handoff_given") || slices.Contains(got, "phantom_patients") {
			t.Errorf("fired %v: want handoff_given and not phantom_patients (two people)", got)
		}
		if got := flaggedAccounts(evs); slices.Contains(got, "x") {
			t.Errorf("flagged %v, want the family left alone", got)
		}
	})
	t.Run("… three names over 24 days is the seller", func(t *testing.T) {
		if got := flaggedAccounts(cancelledAndTaken(3, 12*day)); !slices.Equal(got, []string{"x"}) {
			t.Errorf("flagged %v, want x", got)
		}
	})
	t.Run("a quick user on a fast network, 0.5–1 s at the scarcest sessions, who comes", func(t *testing.T) {
		trace := func(base time.Duration) []booking.Event {
			evs := background(200)
			for k := range 6 {
				s, off := fmt.Sprintf("hot%d", k), time.Duration(k)*4*day
				evs = append(evs, hot(s, off)...)
				evs = append(evs, book("quick", fmt.Sprintf("q%d", k%2), s, off, base+time.Duration(k)*80*time.Millisecond),
					checkIn("quick", fmt.Sprintf("q%d", k%2), s, at(off+7*day)))
			}
			return evs
		}
		if got := flaggedAccounts(trace(500 * time.Millisecond)); len(got) != 0 {
			t.Errorf("flagged %v, want nobody", got)
		}
		// The near miss: the same account under 300 ms is faster than any
		// person, and the targeting then completes the evidence.
		if got := flaggedAccounts(trace(0)); !slices.Equal(got, []string{"quick"}) {
			t.Errorf("at 0–0.4 s flagged %v, want the account", got)
		}
	})
}
